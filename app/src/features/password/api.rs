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
    let user = domain::users::get(&s.ctx.db, auth.user_id).await?;
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
    use crate::error::FieldError;
    use crate::ssr::*;
    let (auth, s) = require_account_user().await?;
    let mut errors = Vec::new();
    if current.is_empty() {
        errors.push(FieldError::new("current", "Enter your current password."));
    }
    errors.extend(crate::validation::validate_new_password(&password, &confirm, s.ctx.policy.password_min_length));
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let change = domain::passwords::Change { current: &current, new: &password, sign_out_others: sign_out_others.unwrap_or(false) };
    let ended = domain::passwords::change(&s.ctx, &auth, change, &client_meta(), s.ctx.now()).await?;
    tracing::info!(user = %auth.user_id, other_sessions_ended = ended, "password changed");
    redirect_plain_form(&format!("{}?password_changed={ended}", crate::routes::SECURITY));
    Ok(ended)
}
