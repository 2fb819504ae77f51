use serde::{Deserialize, Serialize};

pub use crate::features::reauth::ReauthOptions;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    pub id: String,
    pub name: String,
    pub created: String,
    /// "Never" when unused.
    pub last_used: String,
    /// Passkeys only: synced across devices (backup state).
    pub synced: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupCodesInfo {
    pub total: u64,
    pub remaining: u64,
    pub created: Option<String>,
    /// True at three or fewer unused codes.
    pub low: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub when: String,
    pub what: String,
    pub ip: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Security {
    pub passkeys: Vec<Credential>,
    pub totp: Vec<Credential>,
    pub backup_codes: BackupCodesInfo,
    pub activity: Vec<Activity>,
    pub reauth: ReauthOptions,
    /// The shortest password the policy accepts.
    pub password_min_length: usize,
    /// An authenticator app being added without JavaScript (`?totp=`).
    pub totp_enrolment: Option<Result<TotpEnrolment, crate::error::AppError>>,
    /// New backup codes shown once without JavaScript (`?codes=`).
    pub new_codes: Option<Result<Vec<String>, crate::error::AppError>>,
}

/// A TOTP enrolment in progress: shown once, saved only after a valid code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnrolment {
    pub ceremony: String,
    pub secret_base32: String,
    pub otpauth_uri: String,
    /// `data:image/png;base64,…` of the QR code.
    pub qr_data_uri: String,
}

#[cfg(feature = "ssr")]
mod from_domain {
    use super::*;
    use crate::error::AppError;
    use crate::ssr::format_time;

    type Tz<'a> = Option<&'a str>;

    fn last_used(t: Option<chrono::DateTime<chrono::Utc>>, tz: Tz) -> String {
        t.map(|t| format_time(t, tz)).unwrap_or_else(|| "Never".into())
    }

    impl Credential {
        /// A passkey, with times in the viewer's time zone.
        pub fn passkey(p: entity::passkeys::Model, tz: Tz) -> Self {
            let (created, last_used) = (format_time(p.created_at, tz), last_used(p.last_used_at, tz));
            Self { id: p.id.to_string(), name: p.name, created, last_used, synced: p.backup_state }
        }

        /// An authenticator app, with times in the viewer's time zone.
        pub fn totp(t: entity::totp_credentials::Model, tz: Tz) -> Self {
            let (created, last_used) = (format_time(t.created_at, tz), last_used(t.last_used_at, tz));
            Self { id: t.id.to_string(), name: t.name, created, last_used, synced: false }
        }
    }

    impl Activity {
        pub fn seen(e: entity::auth_events::Model, tz: Tz) -> Self {
            let label = activity_label(&e.kind);
            let what = match &e.detail {
                Some(d) => format!("{label} ({d})"),
                None => label.to_owned(),
            };
            Self { when: format_time(e.created_at, tz), what, ip: e.ip }
        }
    }

    impl BackupCodesInfo {
        pub fn seen(c: domain::backup_codes::Status, tz: Tz) -> Self {
            let low = c.total > 0 && c.remaining <= domain::backup_codes::LOW;
            Self { total: c.total, remaining: c.remaining, created: c.created_at.map(|t| format_time(t, tz)), low }
        }
    }

    impl Security {
        /// The person's methods and recent activity (what a plain form
        /// post left to show, and the re-authentication options, are the
        /// caller's to add).
        pub async fn read(db: &domain::DatabaseConnection, user: &domain::users::User) -> Result<Self, AppError> {
            let tz = user.time_zone.as_deref();
            Ok(Self {
                passkeys: domain::passkeys::list(db, user.id).await?.into_iter().map(|p| Credential::passkey(p, tz)).collect(),
                totp: domain::totp::list(db, user.id).await?.into_iter().map(|t| Credential::totp(t, tz)).collect(),
                backup_codes: BackupCodesInfo::seen(domain::backup_codes::status(db, user.id).await?, tz),
                activity: domain::events::recent(db, user.id, 20).await?.into_iter().map(|e| Activity::seen(e, tz)).collect(),
                reauth: ReauthOptions::default(),
                password_min_length: 0,
                totp_enrolment: None,
                new_codes: None,
            })
        }
    }

    fn activity_label(kind: &str) -> &'static str {
        match kind {
            "signed_in" => "Signed in",
            "sign_in_failed" => "Failed sign-in",
            "second_factor_failed" => "Wrong second-factor code or passkey",
            "sign_in_abandoned" => "Sign-in stopped",
            "reauthenticated" => "Confirmed it's you",
            "reauth_failed" => "Failed to confirm it's you",
            "totp_added" => "Authenticator app added",
            "totp_removed" => "Authenticator app removed",
            "backup_codes_generated" => "New backup codes generated",
            "backup_code_used" => "Backup code used",
            "passkey_added" => "Passkey added",
            "passkey_removed" => "Passkey removed",
            "password_changed" => "Password changed",
            "password_reset_requested" => "Password reset link sent",
            "password_reset" => "Password reset with a recovery link",
            "recovery_answer_failed" => "Wrong answer to a security question",
            "email_changed" => "Email address changed",
            "email_verified" => "Email address confirmed",
            "recovery_email_set" => "Recovery email set",
            "recovery_email_removed" => "Recovery email removed",
            "recovery_email_verified" => "Recovery email confirmed",
            "security_questions_set" => "Security questions set",
            "security_questions_removed" => "Security questions removed",
            "signed_out" => "Signed out",
            "session_revoked" => "Signed out another session",
            "admin_change" => "Changed a console setting",
            _ => "Security event",
        }
    }
}
