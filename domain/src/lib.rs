//! Latchkey's server-side services. No leptos and no axum here: functions take a
//! database connection (or [`Ctx`]) and the current time, so every rule can be
//! tested with time passed in.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))] // tests may fail loudly

pub mod apps;
pub mod auth;
pub mod backup_codes;
pub mod budget;
pub mod ceremonies;
pub mod clock;
pub mod crypto;
pub mod db;
pub mod devices;
pub mod error;
pub mod events;
pub mod factors;
pub mod flows;
pub mod keys;
pub mod mail;
pub mod methods;
pub mod metrics;
pub mod notices;
pub mod oidc;
pub mod passkeys;
pub mod passwords;
pub mod profile;
pub mod ratelimit;
pub mod reauth;
pub mod recovery;
pub mod sessions;
pub mod setup;
pub mod signin;
pub mod tokens;
pub mod totp;
pub mod users;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

use std::sync::Arc;
use std::time::Duration;

pub use error::{Error, Result};
pub use sea_orm::DatabaseConnection;

/// Tunable rules of the instance. Built from the server's configuration.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Shortest password accepted (NIST 800-63B: at least 8).
    pub password_min_length: usize,
    /// A session ends after this long without a request.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, whatever happens.
    pub session_max: Duration,
    /// How long a first-administrator setup link stays valid.
    pub setup_token_ttl: Duration,
    /// Sensitive changes need a sign-in proof at most this old.
    pub reauth_window: Duration,
    /// How long a half-finished sign-in (first step done) may wait.
    pub partial_login_ttl: Duration,
    /// How long a password-reset link works.
    pub reset_link_ttl: Duration,
    /// How long an email verification link works.
    pub verify_link_ttl: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            password_min_length: 8,
            session_idle: Duration::from_secs(30 * 60),
            session_max: Duration::from_secs(10 * 60 * 60),
            setup_token_ttl: Duration::from_secs(30 * 60),
            reauth_window: Duration::from_secs(5 * 60),
            partial_login_ttl: Duration::from_secs(5 * 60),
            reset_link_ttl: Duration::from_secs(30 * 60),
            verify_link_ttl: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// Where a request came from, as recorded on sessions and used for rate limits.
#[derive(Clone, Debug, Default)]
pub struct ClientMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Everything a service call needs besides its arguments. Cheap to clone.
#[derive(Clone)]
pub struct Ctx {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn clock::Clock>,
    pub hasher: crypto::PasswordHasher,
    pub policy: Arc<Policy>,
    pub limits: Arc<ratelimit::RateLimits>,
    /// The server key: secrets at rest, keyed hashes, signed values.
    pub keys: Arc<keys::Keys>,
    /// The WebAuthn relying party (from the public URL).
    pub webauthn: Arc<webauthn_rs::Webauthn>,
    /// The public origin (`https://id.example.com`), for links in mail.
    pub origin: Arc<str>,
    /// Wakes the mail sender after a commit that queued mail.
    pub mail_wake: Arc<tokio::sync::Notify>,
    /// Work a request started but does not wait for (the "forgot password"
    /// lookup), so tests and shutdown can wait until it is done.
    pub background: Arc<Background>,
}

/// Counts work running after its request answered; [`Background::idle`]
/// resolves once none is left.
#[derive(Debug, Default)]
pub struct Background {
    in_flight: std::sync::atomic::AtomicUsize,
    idle: tokio::sync::Notify,
}

impl Background {
    /// Runs `work` on the runtime, counted until it ends. The count goes up
    /// before this returns, so an answered request's work is always seen.
    pub fn spawn(self: &Arc<Self>, work: impl std::future::Future<Output = ()> + Send + 'static) {
        use std::sync::atomic::Ordering;
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let me = self.clone();
        tokio::spawn(async move {
            work.await;
            if me.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
                me.idle.notify_waiters();
            }
        });
    }

    /// Waits until no counted work is running.
    pub async fn idle(&self) {
        use std::sync::atomic::Ordering;
        loop {
            let notified = self.idle.notified();
            if self.in_flight.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Ctx {
    pub fn new(
        db: DatabaseConnection,
        clock: Arc<dyn clock::Clock>,
        hasher: crypto::PasswordHasher,
        policy: Policy,
        keys: keys::Keys,
        webauthn: webauthn_rs::Webauthn,
    ) -> Self {
        Self {
            db,
            clock,
            hasher,
            policy: Arc::new(policy),
            limits: Arc::new(ratelimit::RateLimits::default()),
            keys: Arc::new(keys),
            webauthn: Arc::new(webauthn),
            origin: Arc::from("http://localhost:3000"),
            mail_wake: Arc::new(tokio::sync::Notify::new()),
            background: Arc::new(Background::default()),
        }
    }

    /// Sets the public origin used in links sent by mail.
    pub fn with_origin(mut self, origin: &str) -> Self {
        self.origin = Arc::from(origin.trim_end_matches('/'));
        self
    }

    /// An absolute link to `path` on this instance.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
