//! Rate limits on everything that guesses. Keyed GCRA buckets from `governor`,
//! held in memory per process; `retain_recent` is called periodically by the
//! server so idle keys do not accumulate.

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

use crate::{Error, Result};

/// A bucket of `burst` attempts that refills one attempt every `per`.
pub struct Limit {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl Limit {
    pub fn new(burst: u32, per: Duration) -> Self {
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(per).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)).allow_burst(burst);
        Self { limiter: RateLimiter::keyed(quota) }
    }

    /// Takes one attempt for `key`, or says how long to wait.
    pub fn check(&self, key: &str) -> Result<()> {
        self.limiter.check_key(&key.to_owned()).map_err(|not_until| Error::RateLimited {
            retry_after: not_until.wait_time_from(DefaultClock::default().now()).max(Duration::from_secs(1)),
        })
    }

    fn retain_recent(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// The instance's limits.
pub struct RateLimits {
    /// Password sign-in attempts per client IP.
    pub login_ip: Limit,
    /// Password sign-in attempts per account name, whether or not it exists
    /// (so the limit itself reveals nothing).
    pub login_account: Limit,
    /// First-administrator setup attempts per client IP.
    pub setup_ip: Limit,
    /// Second-factor and re-authentication attempts per account.
    pub second_factor: Limit,
    /// Username-less passkey sign-ins started per client IP (each stores a
    /// ceremony; the sign-in page starts one per load for autofill).
    pub passkey_start_ip: Limit,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login_ip: Limit::new(30, Duration::from_secs(2)),
            login_account: Limit::new(10, Duration::from_secs(30)),
            setup_ip: Limit::new(10, Duration::from_secs(10)),
            second_factor: Limit::new(10, Duration::from_secs(30)),
            passkey_start_ip: Limit::new(60, Duration::from_secs(1)),
        }
    }
}

impl RateLimits {
    /// Drops buckets that are full again; call every minute or so.
    pub fn retain_recent(&self) {
        self.login_ip.retain_recent();
        self.login_account.retain_recent();
        self.setup_ip.retain_recent();
        self.second_factor.retain_recent();
        self.passkey_start_ip.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_refused_with_a_wait() {
        let l = Limit::new(3, Duration::from_secs(60));
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
}
