//! Rate limits on everything that guesses, in two kinds:
//!
//! - [`Limit`]: keyed GCRA buckets from `governor`, in memory per process.
//!   For per-IP flood limits, which must cost nothing (no database write per
//!   request of a flood); `retain_recent` is called periodically by the server
//!   so idle keys do not accumulate.
//! - [`Shared`]: the same GCRA rule kept in the `rate_limits` table, one
//!   atomic upsert per attempt, so every instance on the database shares the
//!   budget. For per-account limits on guesses (passwords, codes, answers)
//!   and on mail: with N instances an attacker must not get N times the
//!   guesses. Keys are stored as SHA-256 hashes.

use chrono::{DateTime, Utc};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::num::NonZeroU32;
use std::time::Duration;

use crate::{Error, Result};

/// A bucket of `burst` attempts that refills one attempt every `per`.
pub struct Limit {
    /// Names the limit in the metrics.
    name: &'static str,
    limiter: DefaultKeyedRateLimiter<String>,
}

impl Limit {
    pub fn new(name: &'static str, burst: u32, per: Duration) -> Self {
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(per).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)).allow_burst(burst);
        Self { name, limiter: RateLimiter::keyed(quota) }
    }

    /// Takes one attempt for `key`, or says how long to wait.
    pub fn check(&self, key: &str) -> Result<()> {
        self.limiter.check_key(&key.to_owned()).map_err(|not_until| {
            crate::metrics::rate_limited(self.name);
            Error::RateLimited { retry_after: not_until.wait_time_from(DefaultClock::default().now()).max(Duration::from_secs(1)) }
        })
    }

    fn retain_recent(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// A bucket of `burst` attempts refilling one every `per`, shared by every
/// instance through the database. GCRA keeps one number per key, the
/// "theoretical arrival time" (TAT): an attempt at `now` is allowed when
/// `max(tat, now) + per <= now + burst * per`, and then stores that sum.
pub struct Shared {
    /// Namespaces the keys of different limits in the one table.
    name: &'static str,
    burst: u32,
    per: Duration,
}

impl Shared {
    pub const fn new(name: &'static str, burst: u32, per: Duration) -> Self {
        Self { name, burst, per }
    }

    /// Takes one attempt for `key` at `now`, or says how long to wait.
    /// One statement, outside any transaction of the caller's: the attempt
    /// counts even when what it guards then fails and rolls back.
    pub async fn check(&self, db: &impl ConnectionTrait, key: &str, now: DateTime<Utc>) -> Result<()> {
        let key = self.stored_key(key);
        let now_ms = now.timestamp_millis();
        let per_ms = self.per_ms();
        let window_ms = per_ms.saturating_mul(i64::from(self.burst.max(1)));
        // The conflict branch only updates (and RETURNING only yields a row)
        // when the attempt is allowed; a new key always is (burst >= 1).
        let sql = "INSERT INTO rate_limits (key, tat) VALUES ($1, $2 + $3) \
                   ON CONFLICT (key) DO UPDATE \
                   SET tat = (CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END) + $3 \
                   WHERE (CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END) + $3 - $2 <= $4 \
                   RETURNING tat";
        let backend = db.get_database_backend();
        let values = vec![key.clone().into(), now_ms.into(), per_ms.into(), window_ms.into()];
        if db.query_one_raw(Statement::from_sql_and_values(backend, placeholders(backend, sql), values)).await?.is_some() {
            return Ok(());
        }
        let tat: i64 = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                placeholders(backend, "SELECT tat FROM rate_limits WHERE key = $1"),
                [key.into()],
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "tat"))
            .transpose()?
            .unwrap_or(now_ms);
        crate::metrics::rate_limited(self.name);
        Err(Error::RateLimited { retry_after: wait(tat, now_ms, per_ms, self.burst) })
    }
}

impl Shared {
    /// The row key of `key`: namespaced by the limit, stored only as a hash.
    fn stored_key(&self, key: &str) -> String {
        crate::crypto::hash_token(&format!("{}:{key}", self.name))
    }

    fn per_ms(&self) -> i64 {
        i64::try_from(self.per.as_millis()).unwrap_or(i64::MAX / 4).max(1)
    }

    /// Gives back one attempt taken for `key` (it turned out not to count:
    /// a success, or an attempt refused by another rule).
    pub async fn refund(&self, db: &impl ConnectionTrait, key: &str) -> Result<()> {
        let (key, per_ms) = (self.stored_key(key), self.per_ms());
        let backend = db.get_database_backend();
        let sql = placeholders(backend, "UPDATE rate_limits SET tat = tat - $2 WHERE key = $1");
        db.execute_raw(Statement::from_sql_and_values(backend, sql, [key.into(), per_ms.into()])).await?;
        Ok(())
    }
}

/// How long until an attempt is allowed again: until `tat - (burst-1)*per`.
pub(crate) fn wait(tat_ms: i64, now_ms: i64, per_ms: i64, burst: u32) -> Duration {
    let allowed_at = tat_ms.saturating_sub(per_ms.saturating_mul(i64::from(burst.max(1)) - 1));
    Duration::from_millis(u64::try_from(allowed_at.saturating_sub(now_ms)).unwrap_or(0)).max(Duration::from_secs(1))
}

/// SQLite wants `?N` for numbered parameters; PostgreSQL `$N`.
pub(crate) fn placeholders(backend: DbBackend, sql: &str) -> String {
    match backend {
        DbBackend::Sqlite => sql.replace('$', "?"),
        _ => sql.to_owned(),
    }
}

/// Deletes shared buckets that are full again (their TAT has passed): they
/// mean the same as no row. Call every minute or so.
pub async fn purge_shared(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64> {
    let backend = db.get_database_backend();
    let sql = placeholders(backend, "DELETE FROM rate_limits WHERE tat <= $1");
    Ok(db.execute_raw(Statement::from_sql_and_values(backend, sql, [now.timestamp_millis().into()])).await?.rows_affected())
}

/// The instance's limits: per-IP flood limits in memory, per-account limits
/// shared through the database. Guesses at an account's proofs draw on its
/// one budget instead ([`crate::budget`]).
pub struct RateLimits {
    /// Password sign-in attempts per client IP.
    pub login_ip: Limit,
    /// First-administrator setup attempts per client IP.
    pub setup_ip: Limit,
    /// Username-less passkey sign-ins started per client IP (each stores a
    /// ceremony; the sign-in page starts one per load for autofill).
    pub passkey_start_ip: Limit,
    /// "Forgot password" requests per client IP (answered with a wait).
    pub recovery_ip: Limit,
    /// "Forgot password" mails per account and client IP (over the limit,
    /// silently none: the answer must not tell whether the account exists).
    pub recovery_account_ip: Shared,
    /// "Forgot password" mails per account, whoever asks (silent, as above).
    pub recovery_account: Shared,
    /// Answers tried with one password-reset link, and new passwords set.
    pub reset_token: Shared,
    /// Verification mails re-sent per account.
    pub verification_mail: Shared,
    /// Email address changes per account (each mails the new address).
    pub email_change: Shared,
    /// Strength checks of candidate passwords, per account (CPU, not
    /// guessing: kept in memory).
    pub strength: Limit,
    /// Failed OpenID Connect client authentications per client IP.
    pub client_auth_ip: Limit,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login_ip: Limit::new("login_ip", 30, Duration::from_secs(2)),
            setup_ip: Limit::new("setup_ip", 10, Duration::from_secs(10)),
            passkey_start_ip: Limit::new("passkey_start_ip", 60, Duration::from_secs(1)),
            recovery_ip: Limit::new("recovery_ip", 10, Duration::from_secs(60)),
            recovery_account_ip: Shared::new("recovery_account_ip", 3, Duration::from_secs(10 * 60)),
            recovery_account: Shared::new("recovery_account", 10, Duration::from_secs(2 * 60)),
            reset_token: Shared::new("reset_token", 10, Duration::from_secs(30)),
            verification_mail: Shared::new("verification_mail", 3, Duration::from_secs(5 * 60)),
            email_change: Shared::new("email_change", 3, Duration::from_secs(10 * 60)),
            strength: Limit::new("strength", 20, Duration::from_millis(500)),
            client_auth_ip: Limit::new("client_auth_ip", 20, Duration::from_secs(3)),
        }
    }
}

impl RateLimits {
    /// Drops in-memory buckets that are full again; call every minute or so
    /// (the shared ones: [`purge_shared`]).
    pub fn retain_recent(&self) {
        for l in [&self.login_ip, &self.setup_ip, &self.passkey_start_ip, &self.recovery_ip, &self.strength, &self.client_auth_ip] {
            l.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, TestDb};

    #[test]
    fn a_burst_is_allowed_then_refused_with_a_wait() {
        let l = Limit::new("test", 3, Duration::from_secs(60));
        for _ in 0..3 {
            l.check("alice").unwrap();
        }
        match l.check("alice") {
            Err(Error::RateLimited { retry_after }) => assert!(retry_after >= Duration::from_secs(1)),
            other => panic!("expected a rate limit, got {other:?}"),
        }
        // Other keys have their own bucket.
        l.check("bob").unwrap();
    }

    #[test]
    fn the_wait_is_until_the_next_attempt_fits() {
        // burst 3, one per 10 s: three taken at t=0 leave TAT = 30 s; the
        // fourth fits once TAT - 2 * 10 s = 10 s has come.
        assert_eq!(wait(30_000, 0, 10_000, 3), Duration::from_secs(10));
        assert_eq!(wait(30_000, 9_500, 10_000, 3), Duration::from_secs(1), "at least a second");
    }

    /// Threat: guessing across instances. Two servers on one database each
    /// have their own memory; a shared limit must count both, so N
    /// instances do not give an attacker N times the guesses.
    async fn a_shared_limit_counts_every_instance_and_refills(t: TestDb) {
        let (a, b) = (t.ctx(), t.ctx());
        let now = testing::t0();
        let limit = Shared::new("test", 3, Duration::from_secs(10));
        limit.check(&a.db, "alice", now).await.unwrap();
        limit.check(&b.db, "alice", now).await.unwrap();
        limit.check(&a.db, "alice", now).await.unwrap();
        let Err(Error::RateLimited { retry_after }) = limit.check(&b.db, "alice", now).await else { panic!("a fourth attempt passed") };
        assert_eq!(retry_after, Duration::from_secs(10));
        // Other keys, and the same key of another limit, have their own bucket.
        limit.check(&b.db, "bob", now).await.unwrap();
        Shared::new("other", 1, Duration::from_secs(10)).check(&b.db, "alice", now).await.unwrap();
        // One attempt back per 10 s, and no more than that.
        let later = now + chrono::Duration::seconds(10);
        limit.check(&a.db, "alice", later).await.unwrap();
        assert!(limit.check(&a.db, "alice", later).await.is_err());
        // A refused attempt does not push the wait further out.
        let Err(Error::RateLimited { retry_after }) = limit.check(&a.db, "alice", later).await else { panic!() };
        assert_eq!(retry_after, Duration::from_secs(10));
        // Full again after burst * per: purged, and the whole burst is back.
        let much_later = now + chrono::Duration::seconds(60);
        assert_eq!(purge_shared(&a.db, much_later).await.unwrap(), 3, "alice, bob and the other limit's alice");
        for _ in 0..3 {
            limit.check(&a.db, "alice", much_later).await.unwrap();
        }
        // The account name tried is not stored, only its hash.
        let stored =
            a.db.query_one_raw(Statement::from_string(a.db.get_database_backend(), "SELECT key FROM rate_limits")).await.unwrap().unwrap();
        assert!(!stored.try_get::<String>("", "key").unwrap().contains("alice"));
    }
    crate::db_test!(a_shared_limit_counts_every_instance_and_refills);

    /// Threat: a burst of parallel guesses slipping past a read-then-write
    /// check. Twenty at once against a burst of 5: exactly 5 pass.
    async fn parallel_attempts_take_exactly_the_burst(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let db = ctx.db.clone();
            tasks.push(tokio::spawn(async move { Shared::new("test", 5, Duration::from_secs(60)).check(&db, "alice", now).await.is_ok() }));
        }
        let mut passed = 0;
        for t in tasks {
            passed += usize::from(t.await.unwrap());
        }
        assert_eq!(passed, 5);
    }
    crate::db_test!(parallel_attempts_take_exactly_the_burst);
}
