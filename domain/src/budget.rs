//! The online-guessing budget of an account (ASVS 4.0 V2.2.1). Every proof a
//! person gives — the password at sign-in, every second-factor step,
//! re-authentication, the current password when changing it — draws on one
//! budget per **account**: the username and the email of an account are the
//! same budget, and a name with no account has a budget of its own, with the
//! same rules, so the limits tell nothing about who exists.
//!
//! - At most [`HOURLY_FAILURES`] failed attempts an hour (a GCRA bucket in
//!   the account's guess-counter row; a success gives its attempt back).
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

use crate::ratelimit::placeholders;
use crate::{Ctx, Error, Result, mail, users};

/// Failed attempts allowed per account in an hour.
pub const HOURLY_FAILURES: u32 = 100;
/// Failures in a row after which attempts are slowed down.
pub const SLOW_AFTER: i32 = 10;
/// The pace of attempts once slowed down.
pub const SLOW_INTERVAL: Duration = Duration::from_secs(60);

/// Whose budget an attempt draws on.
#[derive(Clone, Copy, Debug)]
pub enum Who<'a> {
    /// An existing account.
    Account(Uuid),
    /// A username or email that resolves to no account (normalised).
    UnknownName(&'a str),
}

impl Who<'_> {
    /// The row key: stored only as a hash.
    fn key(&self) -> String {
        let who = match self {
            Who::Account(id) => format!("account:{id}"),
            Who::UnknownName(name) => format!("name:{name}"),
        };
        crate::crypto::hash_token(&format!("guesses:{who}"))
    }
}

/// A reserved attempt: report how it went with [`Attempt::succeeded`] or
/// [`Attempt::failed`]. Dropped without either, it stays a failure.
#[must_use = "report the outcome, or the attempt counts as a failure"]
#[derive(Debug)]
pub struct Attempt {
    /// The guess counter's key (hashed).
    key: String,
    account: Option<Uuid>,
    consecutive: i32,
}

/// Takes one attempt from the budget of `who` at `now`, or says how long to
/// wait ([`Error::RateLimited`]). One statement: the attempt counts against
/// both rules at once, and only when both allow it.
pub async fn reserve(ctx: &Ctx, who: Who<'_>, now: DateTime<Utc>) -> Result<Attempt> {
    let key = who.key();
    let db = &ctx.db;
    let now_ms = now.timestamp_millis();
    // Counts the attempt as a failure up front, but only while the account
    // is not slowed down (or its last attempt is a minute old) and its
    // hourly bucket has room.
    let sql = "INSERT INTO guess_counters (key, consecutive, last_attempt, alerted, tat) VALUES ($1, 1, $2, false, $2 + $5) \
               ON CONFLICT (key) DO UPDATE SET consecutive = guess_counters.consecutive + 1, last_attempt = $2, \
               tat = (CASE WHEN guess_counters.tat > $2 THEN guess_counters.tat ELSE $2 END) + $5 \
               WHERE (guess_counters.consecutive < $3 OR guess_counters.last_attempt <= $2 - $4) \
               AND (CASE WHEN guess_counters.tat > $2 THEN guess_counters.tat ELSE $2 END) + $5 - $2 <= $6 \
               RETURNING consecutive";
    let values = vec![key.clone().into(), now_ms.into(), SLOW_AFTER.into(), interval_ms().into(), per_ms().into(), window_ms().into()];
    if let Some(row) = run(db, sql, values).await? {
        let account = match who {
            Who::Account(id) => Some(id),
            Who::UnknownName(_) => None,
        };
        return Ok(Attempt { key, account, consecutive: row.try_get::<i32>("", "consecutive")? });
    }
    Err(refusal(db, &key, now_ms).await?)
}

/// Why an attempt on `key` was refused, and how long to wait.
async fn refusal(db: &sea_orm::DatabaseConnection, key: &str, now_ms: i64) -> Result<Error> {
    let row = run(db, "SELECT consecutive, last_attempt, tat FROM guess_counters WHERE key = $1", vec![key.into()]).await?;
    let (consecutive, last, tat) = match row {
        Some(r) => (r.try_get::<i32>("", "consecutive")?, r.try_get::<i64>("", "last_attempt")?, r.try_get::<i64>("", "tat")?),
        None => (0, now_ms, now_ms),
    };
    let slowed = consecutive >= SLOW_AFTER && last > now_ms - interval_ms();
    let (reason, wait) = if slowed {
        ("account_slow_down", Duration::from_millis(u64::try_from(last + interval_ms() - now_ms).unwrap_or(0)))
    } else {
        ("account", crate::ratelimit::wait(tat, now_ms, per_ms(), HOURLY_FAILURES))
    };
    crate::metrics::rate_limited(reason);
    Ok(Error::RateLimited { retry_after: wait.max(Duration::from_secs(1)) })
}

async fn run(db: &impl ConnectionTrait, sql: &str, values: Vec<sea_orm::Value>) -> Result<Option<sea_orm::QueryResult>> {
    let backend = db.get_database_backend();
    Ok(db.query_one_raw(Statement::from_sql_and_values(backend, placeholders(backend, sql), values)).await?)
}

async fn exec(db: &impl ConnectionTrait, sql: &str, values: Vec<sea_orm::Value>) -> Result<u64> {
    let backend = db.get_database_backend();
    Ok(db.execute_raw(Statement::from_sql_and_values(backend, placeholders(backend, sql), values)).await?.rows_affected())
}

impl Attempt {
    /// The proof was right: failures in a row start again from zero, and
    /// the hourly bucket gets this attempt back (one statement).
    pub async fn succeeded(self, ctx: &Ctx) -> Result<()> {
        let sql = "UPDATE guess_counters SET consecutive = 0, alerted = false, tat = tat - $2 WHERE key = $1";
        exec(&ctx.db, sql, vec![self.key.into(), per_ms().into()]).await?;
        Ok(())
    }

    /// The proof was wrong (it already counts). The first time an account
    /// reaches [`SLOW_AFTER`] failures in a row, its owner is mailed.
    pub async fn failed(self, ctx: &Ctx, now: DateTime<Utc>) -> Result<()> {
        let Some(account) = self.account else { return Ok(()) };
        if self.consecutive < SLOW_AFTER {
            return Ok(());
        }
        let sql = "UPDATE guess_counters SET alerted = true WHERE key = $1 AND alerted = false";
        if exec(&ctx.db, sql, vec![self.key.into()]).await? == 1 {
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
        let sql = "UPDATE guess_counters SET consecutive = CASE WHEN consecutive > 0 THEN consecutive - 1 ELSE 0 END, \
                   tat = tat - $2 WHERE key = $1";
        exec(&ctx.db, sql, vec![self.key.into(), per_ms().into()]).await?;
        Ok(())
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
    let key = Who::Account(account).key();
    let now_ms = now.timestamp_millis();
    let sql = "INSERT INTO guess_counters (key, consecutive, last_attempt, alerted, tat) VALUES ($1, 0, $2, false, $2 + $3) \
               ON CONFLICT (key) DO UPDATE SET tat = (CASE WHEN guess_counters.tat > $2 THEN guess_counters.tat ELSE $2 END) + $3 \
               WHERE (CASE WHEN guess_counters.tat > $2 THEN guess_counters.tat ELSE $2 END) + $3 - $2 <= $4 \
               RETURNING tat";
    if run(&ctx.db, sql, vec![key.clone().into(), now_ms.into(), per_ms().into(), window_ms().into()]).await?.is_some() {
        return Ok(());
    }
    Err(refusal(&ctx.db, &key, now_ms).await?)
}

/// The hourly bucket: one failure every `per` ms refills, `HOURLY_FAILURES` at most.
fn per_ms() -> i64 {
    3_600_000 / i64::from(HOURLY_FAILURES)
}

fn window_ms() -> i64 {
    per_ms() * i64::from(HOURLY_FAILURES)
}

fn interval_ms() -> i64 {
    SLOW_INTERVAL.as_millis() as i64
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
