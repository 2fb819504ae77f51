use leptos::prelude::*;

use super::StrengthView;
use crate::error::AppError;

/// Rates a candidate password for the strength meter (zxcvbn, counting the
/// person's own names as guessable). Nothing is stored or logged.
/// **Requires:** a session; rate-limited per account.
#[server(prefix = "/api/security", endpoint = "password_strength")]
pub async fn password_strength(password: String) -> Result<StrengthView, AppError> {
    use crate::ssr::*;
    let (auth, s) = require_account_user().await?;
    s.ctx.limits.strength.check(&auth.user_id.to_string())?;
    let user = auth.user.clone();
    let st = domain::passwords::rate(&password, &user).await?;
    Ok(StrengthView { score: st.score, warning: st.warning, suggestion: st.suggestions.into_iter().next() })
}

/// Changes the password; returns how many other sessions were signed out.
/// `sign_out_others` is a checkbox: absent (unchecked, in a plain form post)
/// means keep them. A plain form post is answered with a redirect to the
/// Security page, which then says what happened.
/// **Requires:** a session and the current password; rate-limited per account.
#[server(prefix = "/api/security", endpoint = "change_password")]
pub async fn change_password(current: String, password: String, confirm: String, sign_out_others: Option<bool>) -> Result<u64, AppError> {
    use crate::ssr::*;
    let (auth, s) = require_account_user().await?;
    check_password_form(&current, &password, &confirm, s.ctx.policy.password_min_length)?;
    let change = domain::passwords::Change { current: &current, new: &password, sign_out_others: sign_out_others.unwrap_or(false) };
    let ended = domain::passwords::change(&s.ctx, &auth, change, &client_meta(), crate::ssr::now()).await?;
    tracing::info!(user = %auth.user_id, other_sessions_ended = ended, "password changed");
    redirect_plain_form(&format!("{}?password_changed={ended}", crate::routes::SECURITY));
    Ok(ended)
}

/// The change-password form's own checks: every problem at once.
#[cfg(feature = "ssr")]
fn check_password_form(current: &str, password: &str, confirm: &str, min_length: usize) -> Result<(), AppError> {
    let mut errors = Vec::new();
    if current.is_empty() {
        errors.push(crate::error::FieldError::new("current", "Enter your current password."));
    }
    errors.extend(crate::validation::validate_new_password(password, confirm, min_length));
    if errors.is_empty() { Ok(()) } else { Err(AppError::Invalid(errors)) }
}
