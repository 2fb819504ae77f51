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
