use std::time::Duration;

/// Everything a service can fail with. The `app` crate maps these to what a
/// person may see; the sources of internal errors are logged, never shown.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    /// Wrong identifier or password; deliberately does not say which.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("not signed in")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    #[error("too many attempts; retry in {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// A value a person gave is unacceptable (e.g. already taken).
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// Several values of one form are unacceptable: a message per field.
    #[error("invalid: {}", .0.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", "))]
    InvalidFields(Vec<(&'static str, String)>),
    #[error("setup link invalid, used or expired")]
    SetupTokenInvalid,
    /// A ceremony (passkey, TOTP enrolment) is unknown, used or expired.
    #[error("ceremony expired or unknown")]
    CeremonyExpired,
    /// A half-finished sign-in is unknown, expired or was dropped.
    #[error("sign-in expired")]
    SignInExpired,
    /// Too many wrong codes: the half-finished sign-in was dropped.
    #[error("too many failed attempts")]
    TooManyFailures,
    /// A passkey response failed verification (signature, origin, counter,
    /// unknown credential, someone else's credential).
    #[error("passkey rejected")]
    PasskeyRejected,
    /// The action needs a recent proof of identity.
    #[error("re-authentication required")]
    ReauthRequired,
    /// Refused with an explanation for the person (e.g. would lock them out).
    #[error("{0}")]
    Refused(String),
    /// A link sent by mail is unknown, expired, used, or no longer matches
    /// the address it was sent to.
    #[error("link invalid, used or expired")]
    LinkInvalid,
    /// Saving this login flow would stop `people` (who are not
    /// administrators) from signing in; saved only once confirmed.
    #[error("the flow would block {people} people")]
    WouldBlock { people: u64 },
    #[error("an administrator already exists")]
    AlreadySetUp,
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    #[error("internal: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { field, message: message.into() }
    }
}
