//! Change password, in the Security section: current password, new password
//! and confirmation, the length policy checked as the person types (the same
//! `validation::validate_new_password` the server runs), a strength meter
//! (zxcvbn, computed on the server), and "Sign out of all other sessions".
//!
//! Functions under `/api/security/` (covered by the My Account switch).
//! Security: the current password is checked again on the server (rate-limited
//! per account); the same password is refused; weak ones (zxcvbn < 2) are
//! refused; a security mail tells the person.

pub mod api;
pub mod view;

use serde::{Deserialize, Serialize};

/// How guessable a candidate password is, for the meter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrengthView {
    /// 0 to 4.
    pub score: u8,
    pub warning: Option<String>,
    pub suggestion: Option<String>,
}

/// The meter's word for a score.
pub fn strength_label(score: u8) -> &'static str {
    match score {
        0 | 1 => "Weak",
        2 => "Fair",
        3 => "Good",
        _ => "Strong",
    }
}
