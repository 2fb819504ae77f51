//! "Confirm it's you": a fresh sign-in proof (password, authenticator code or
//! passkey) before sensitive changes, in My Account and in the admin console.
//!
//! Functions under `/api/reauth/`. They need only a session, so they keep
//! working while My Account is disabled (administrators use them in the console).

pub mod api;
pub mod view;

use serde::{Deserialize, Serialize};

/// How the person can confirm it's them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReauthOptions {
    pub password: bool,
    pub totp: bool,
    pub passkey: bool,
    /// Seconds the current proof stays recent (0 when a new one is needed).
    pub recent_for_secs: i64,
}

impl ReauthOptions {
    /// The ways to prove a sign-in step that offers `methods` (a backup
    /// code is typed where an authenticator code is).
    pub fn offering(methods: &[proto::flow::Method]) -> Self {
        use proto::flow::Method;
        Self {
            password: methods.contains(&Method::Password),
            totp: methods.contains(&Method::Totp) || methods.contains(&Method::BackupCode),
            passkey: methods.contains(&Method::Passkey),
            recent_for_secs: 0,
        }
    }
}
