//! The one error type every server function returns. It crosses the wire as
//! JSON, so the browser can place a message next to the field it concerns.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// A message about one form field (`field` is the input's short name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_owned(), message: message.into() }
    }
}

/// The message for `field` in a list of field errors, if any.
pub fn message_for(errors: &[FieldError], field: &str) -> Option<String> {
    errors.iter().find(|e| e.field == field).map(|e| e.message.clone())
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    #[error("Please sign in again.")]
    Unauthenticated,
    #[error("Please confirm it's you.")]
    ReauthRequired,
    /// The session signed in through an application whose login flow asks
    /// for less than My Account's: My Account needs the missing step first.
    #[error("My Account asks for another sign-in step first.")]
    StepUpRequired,
    /// The half-finished sign-in is gone (expired, finished or dropped).
    #[error("Your sign-in expired. Please start again.")]
    SignInExpired,
    #[error("You are not allowed to do that.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    /// An administrator switched My Account off.
    #[error("My Account has been disabled by the administrator.")]
    PortalDisabled,
    #[error("The username, email or password is not right.")]
    InvalidCredentials,
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    RateLimited { retry_after_secs: u64 },
    /// One or more fields were refused; the message of each goes beside its field.
    #[error("{}", summary(.0))]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Refused(String),
    /// Saving the login flow would stop this many people (who are not
    /// administrators) from signing in: ask, then send the count back.
    #[error("This flow would stop {people} {} from signing in: a step asks for something they have not set up. They could not sign in until they do, or until the flow changes again.", if *people == 1 { "person" } else { "people" })]
    WouldBlock { people: u64 },
    #[error("Something went wrong on our side (reference {0}). Please try again.")]
    Internal(String),
    #[error("The request could not be completed: {0}")]
    Request(String),
}

fn summary(errors: &[FieldError]) -> String {
    match errors {
        [] => "Please check the form.".into(),
        [one] => one.message.clone(),
        _ => "Please correct the highlighted fields.".into(),
    }
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    /// Field errors carried by this error (empty for other kinds).
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Self::Invalid(errors) => errors,
            _ => &[],
        }
    }

    /// The HTTP status an API caller gets for this error.
    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthenticated | Self::SignInExpired => 401,
            Self::ReauthRequired | Self::StepUpRequired | Self::Forbidden | Self::PortalDisabled => 403,
            Self::NotFound => 404,
            Self::InvalidCredentials => 401,
            Self::RateLimited { .. } => 429,
            Self::Invalid(_) | Self::Request(_) => 400,
            Self::Refused(_) | Self::WouldBlock { .. } => 409,
            Self::Internal(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(e: ServerFnErrorErr) -> Self {
        match e {
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::Deserialization(m) => Self::Request(clean_serde_message(&m)),
            ServerFnErrorErr::Request(m) | ServerFnErrorErr::Response(m) => Self::Request(format!("network problem ({m})")),
            other => Self::Request(other.to_string()),
        }
    }
}

/// serde_qs messages name the field in a readable way; keep them short.
fn clean_serde_message(m: &str) -> String {
    let m = m.trim();
    let m: String = m.chars().take(200).collect();
    if m.is_empty() { "the form data could not be read".into() } else { m }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_round_trip_as_json_and_keep_field_messages() {
        let e = AppError::Invalid(vec![FieldError::new("email", "Enter a valid email address."), FieldError::new("phone", "x")]);
        let back = AppError::de(e.ser());
        assert_eq!(back, e);
        assert_eq!(message_for(back.field_errors(), "email").as_deref(), Some("Enter a valid email address."));
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn a_single_field_error_reads_as_its_message() {
        assert_eq!(AppError::field("email", "Enter a valid email address.").to_string(), "Enter a valid email address.");
    }
}
