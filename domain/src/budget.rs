//! The online-guessing budget of an account (ASVS 4.0 V2.2.1). Every proof a
//! person gives — the password at sign-in, every second-factor step,
//! re-authentication, the current password when changing it — draws on one
//! budget per **account**: the username and the email of an account are the
//! same budget, and a name with no account has a budget of its own, with the
//! same rules, so the limits tell nothing about who exists.
//!
//! - At most [`HOURLY_FAILURES`] failed attempts an hour (a shared GCRA
//!   bucket; a success gives its attempt back).
//! - After [`SLOW_AFTER`] failures in a row, one attempt a minute
//!   ([`SLOW_INTERVAL`]), until an attempt succeeds; the person is mailed
//!   once when that starts.
//!
//! Attempts are reserved atomically **before** the proof is checked, so
//! parallel requests cannot spend more than the budget: each reservation
//! counts as a failure until [`Attempt::succeeded`] says otherwise. All of it
//! lives in the database, so every instance shares it.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement};
use std::time::Duration;
use uuid::Uuid;

use crate::ratelimit::{Shared, placeholders};
use crate::{Ctx, Error, Result, mail, users};

/// Failed attempts allowed per account in an hour.
pub const HOURLY_FAILURES: u32 = 100;
/// Failures in a row after which attempts are slowed down.
pub const SLOW_AFTER: i32 = 10;
/// The pace of attempts once slowed down.
pub const SLOW_INTERVAL: Duration = Duration::from_secs(60);

const HOURLY: Shared = Shared::new("account", HOURLY_FAILURES, Duration::from_secs(3600 / HOURLY_FAILURES as u64));

/// Whose budget an attempt draws on.
#[derive(Clone, Copy, Debug)]
pub enum Who<'a> {
    /// An existing account.
    Account(Uuid),
    /// A username or email that resolves to no account (normalised).
    UnknownName(&'a str),
}

impl Who<'_> {
    fn key(&self) -> String {
        match self {
            Who::Account(id) => format!("account:{id}"),
            Who::UnknownName(name) => format!("name:{name}"),
        }
    }
}

/// A reserved attempt: report how it went with [`Attempt::succeeded`] or
/// [`Attempt::failed`]. Dropped without either, it stays a failure.
#[must_use = "report the outcome, or the attempt counts as a failure"]
#[derive(Debug)]
pub struct Attempt {
    /// The hourly bucket's key.
    who: String,
    /// The guess counter's key (hashed).
    key: String,
    account: Option<Uuid>,
    consecutive: i32,
}

/// Takes one attempt from the budget of `who` at `now`, or says how long to
/// wait ([`Error::RateLimited`]).
pub async fn reserve(ctx: &Ctx, who: Who<'_>, now: DateTime<Utc>) -> Result<Attempt> {
    let key = who.key();
    HOURLY.check(&ctx.db, &key, now).await?;
    let db = &ctx.db;
    let backend = db.get_database_backend();
    let hashed = crate::crypto::hash_token(&format!("guesses:{key}"));
    let now_ms = now.timestamp_millis();
    let interval_ms = SLOW_INTERVAL.as_millis() as i64;
    // Counts the attempt as a failure up front, but only while the account
    // is not slowed down, or its last attempt is a minute old.
    let sql = "INSERT INTO guess_counters (key, consecutive, last_attempt, alerted) VALUES ($1, 1, $2, false) \
               ON CONFLICT (key) DO UPDATE SET consecutive = guess_counters.consecutive + 1, last_attempt = $2 \
               WHERE guess_counters.consecutive < $3 OR guess_counters.last_attempt <= $2 - $4 \
               RETURNING consecutive";
    let values = vec![hashed.clone().into(), now_ms.into(), SLOW_AFTER.into(), interval_ms.into()];
    let row = db.query_one_raw(Statement::from_sql_and_values(backend, placeholders(backend, sql), values)).await?;
    if let Some(row) = row {
        let consecutive = row.try_get::<i32>("", "consecutive")?;
        return Ok(Attempt {
            who: key,
            key: hashed,
            account: match who {
                Who::Account(id) => Some(id),
                Who::UnknownName(_) => None,
            },
            consecutive,
        });
    }
    // Slowed down: this was no attempt, so the hourly bucket gets it back.
    HOURLY.refund(db, &key).await?;
    let last: i64 = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            placeholders(backend, "SELECT last_attempt FROM guess_counters WHERE key = $1"),
            [hashed.into()],
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "last_attempt"))
        .transpose()?
        .unwrap_or(now_ms);
    let wait = u64::try_from(last + interval_ms - now_ms).unwrap_or(0);
    crate::metrics::rate_limited("account_slow_down");
    Err(Error::RateLimited { retry_after: Duration::from_millis(wait).max(Duration::from_secs(1)) })
}

impl Attempt {
    /// The proof was right: failures in a row start again from zero, and
    /// the hourly bucket gets this attempt back.
    pub async fn succeeded(self, ctx: &Ctx) -> Result<()> {
        let backend = ctx.db.get_database_backend();
        let sql = placeholders(backend, "UPDATE guess_counters SET consecutive = 0, alerted = false WHERE key = $1");
        ctx.db.execute_raw(Statement::from_sql_and_values(backend, sql, [self.key.clone().into()])).await?;
        HOURLY.refund(&ctx.db, &self.who).await
    }

    /// The proof was wrong (it already counts). The first time an account
    /// reaches [`SLOW_AFTER`] failures in a row, its owner is mailed.
    pub async fn failed(self, ctx: &Ctx, now: DateTime<Utc>) -> Result<()> {
        let Some(account) = self.account else { return Ok(()) };
        if self.consecutive < SLOW_AFTER {
            return Ok(());
        }
        let backend = ctx.db.get_database_backend();
        let sql = placeholders(backend, "UPDATE guess_counters SET alerted = true WHERE key = $1 AND alerted = false");
        let first = ctx.db.execute_raw(Statement::from_sql_and_values(backend, sql, [self.key.clone().into()])).await?.rows_affected() == 1;
        if first {
            let user = users::get(&ctx.db, account).await?;
            tracing::warn!(user = %account, failures = self.consecutive, "sign-in slowed down after failures in a row");
            mail::enqueue(&ctx.db, ctx, &alert(ctx, &user, now), now).await?;
            mail::wake(ctx);
        }
        Ok(())
    }

    /// The attempt turned out not to happen (another check refused it
    /// first): it is taken back from both counts.
    pub async fn cancel(self, ctx: &Ctx) -> Result<()> {
        let backend = ctx.db.get_database_backend();
        let sql = placeholders(backend, "UPDATE guess_counters SET consecutive = consecutive - 1 WHERE key = $1 AND consecutive > 0");
        ctx.db.execute_raw(Statement::from_sql_and_values(backend, sql, [self.key.clone().into()])).await?;
        HOURLY.refund(&ctx.db, &self.who).await
    }

    /// Reports `ok` (success or failure) and passes it on.
    pub async fn settle(self, ctx: &Ctx, ok: bool, now: DateTime<Utc>) -> Result<bool> {
        if ok {
            self.succeeded(ctx).await?
        } else {
            self.failed(ctx, now).await?
        }
        Ok(ok)
    }
}

/// Work that costs a password hash but guesses nothing (saving security
/// answers): only the hourly bucket, so no account can queue unbounded
/// argon2 work.
pub async fn spend_work(ctx: &Ctx, account: Uuid, now: DateTime<Utc>) -> Result<()> {
    HOURLY.check(&ctx.db, &Who::Account(account).key(), now).await
}

fn alert(ctx: &Ctx, user: &entity::users::Model, now: DateTime<Utc>) -> mail::Message {
    mail::compose(
        &user.email,
        &users::greeting(user),
        "several failed sign-in attempts",
        &[
            format!(
                "There have been {SLOW_AFTER} failed attempts in a row to sign in to your account {}, the last on {}.",
                user.username,
                now.format("%-d %b %Y at %H:%M UTC")
            ),
            "To protect it, sign-in to your account is now slowed down to one attempt a minute until someone signs in successfully.".into(),
        ],
        Some(("Review your account's security", &ctx.link("/myaccount/security"))),
        "If this was you, there is nothing to do. If not, someone may be guessing your password: choose a strong one and add a passkey or an authenticator app.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, TestDb};

    async fn fail_once(ctx: &Ctx, who: Who<'_>, now: DateTime<Utc>) -> Result<()> {
        reserve(ctx, who, now).await?.failed(ctx, now).await
    }

    /// Threat: online guessing of one account. Ten failures in a row slow it
    /// to one attempt a minute, the owner is mailed once, and a success
    /// starts the count again.
    async fn ten_failures_in_a_row_slow_the_account_and_mail_once(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let alice = testing::user(&ctx, "alice", false).await;
        let who = Who::Account(alice.id);
        for _ in 0..SLOW_AFTER {
            fail_once(&ctx, who, now).await.unwrap();
        }
        let Err(Error::RateLimited { retry_after }) = reserve(&ctx, who, now).await else { panic!("not slowed") };
        assert_eq!(retry_after, SLOW_INTERVAL);
        let mails = mail::pending(&ctx.db).await.unwrap();
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].subject, "Latchkey: several failed sign-in attempts");
        // One attempt a minute; a further failure mails nothing more.
        let later = now + chrono::Duration::seconds(60);
        fail_once(&ctx, who, later).await.unwrap();
        assert!(reserve(&ctx, who, later + chrono::Duration::seconds(59)).await.is_err());
        assert_eq!(mail::pending(&ctx.db).await.unwrap().len(), 1, "mailed once");
        // A success resets the count: ten more tries at once.
        let later = later + chrono::Duration::seconds(60);
        reserve(&ctx, who, later).await.unwrap().succeeded(&ctx).await.unwrap();
        for _ in 0..SLOW_AFTER {
            fail_once(&ctx, who, later).await.unwrap();
        }
        assert!(reserve(&ctx, who, later).await.is_err());
    }
    crate::db_test!(ten_failures_in_a_row_slow_the_account_and_mail_once);

    /// Threat: account enumeration through the limits. A name with no
    /// account is slowed down after the same number of failures (and no one
    /// is mailed).
    async fn unknown_names_are_slowed_the_same_way(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        for _ in 0..SLOW_AFTER {
            fail_once(&ctx, Who::UnknownName("nobody"), now).await.unwrap();
        }
        assert!(matches!(reserve(&ctx, Who::UnknownName("nobody"), now).await, Err(Error::RateLimited { .. })));
        assert!(reserve(&ctx, Who::UnknownName("somebody"), now).await.is_ok());
        assert!(mail::pending(&ctx.db).await.unwrap().is_empty());
    }
    crate::db_test!(unknown_names_are_slowed_the_same_way);

    /// Threat: guessing paced around the slow-down (an attacker who lets
    /// the owner's own sign-ins reset the count). At most 100 failures an
    /// hour, whatever else happens.
    async fn at_most_a_hundred_failures_an_hour(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let who = Who::Account(testing::user(&ctx, "alice", false).await.id);
        let mut failures = 0;
        loop {
            match reserve(&ctx, who, now).await {
                Ok(a) if failures % 9 == 8 => {
                    failures += 1;
                    a.failed(&ctx, now).await.unwrap();
                    // The owner signs in: the count in a row starts again.
                    reserve(&ctx, who, now).await.unwrap().succeeded(&ctx).await.unwrap();
                }
                Ok(a) => {
                    failures += 1;
                    a.failed(&ctx, now).await.unwrap();
                }
                Err(Error::RateLimited { retry_after }) => {
                    assert!(retry_after <= Duration::from_secs(36), "{retry_after:?}");
                    break;
                }
                Err(e) => panic!("{e:?}"),
            }
            assert!(failures <= HOURLY_FAILURES, "more than {HOURLY_FAILURES} failures");
        }
        assert_eq!(failures, HOURLY_FAILURES);
    }
    crate::db_test!(at_most_a_hundred_failures_an_hour);

    /// Threat: parallel guesses racing past the count. Thirty attempts at
    /// once: exactly ten are let through before the slow-down.
    async fn parallel_attempts_cannot_pass_the_slow_down(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let id = testing::user(&ctx, "alice", false).await.id;
        let mut tasks = Vec::new();
        for _ in 0..30 {
            let ctx = ctx.clone();
            tasks.push(tokio::spawn(async move { reserve(&ctx, Who::Account(id), now).await.is_ok() }));
        }
        let mut passed = 0;
        for t in tasks {
            passed += i32::from(t.await.unwrap());
        }
        assert_eq!(passed, SLOW_AFTER);
    }
    crate::db_test!(parallel_attempts_cannot_pass_the_slow_down);
}
