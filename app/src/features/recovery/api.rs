use leptos::prelude::*;

use super::types::*;
use crate::error::AppError;

#[cfg(feature = "ssr")]
fn question(id: &str) -> Question {
    Question { id: id.to_owned(), text: proto::recovery::question_text(id).unwrap_or("A question no longer offered").to_owned() }
}

/// The Recovery page: recovery email and security questions.
/// **Requires:** a session.
#[server(prefix = "/api/recovery", endpoint = "overview")]
pub async fn get_recovery() -> Result<Recovery, AppError> {
    use crate::ssr::*;
    let (auth, s) = require_account_user().await?;
    let st = domain::recovery::status(&s.ctx.db, auth.user_id).await?;
    Ok(Recovery {
        recovery_email: st.recovery_email,
        recovery_email_verified: st.recovery_email_verified,
        questions: st.questions.iter().map(|q| question(q)).collect(),
        reauth: crate::features::reauth::api::options_for(&s, &auth).await?,
    })
}

/// Sets the recovery email and sends it a confirmation link.
/// **Requires:** a recent sign-in proof; rate-limited per account.
#[server(prefix = "/api/recovery", endpoint = "set_email")]
pub async fn set_recovery_email(email: String) -> Result<(), AppError> {
    use crate::ssr::*;
    let (auth, s) = require_account_user().await?;
    let email = crate::validation::validate_email(&email, "recovery_email").map_err(|e| AppError::Invalid(vec![e]))?;
    domain::reauth::require_recent(&s.ctx, &auth, crate::ssr::now())?;
    domain::recovery::set_recovery_email(&s.ctx, auth.user_id, Some(&email), &client_meta(), crate::ssr::now()).await?;
    redirect_plain_form(&format!("{}?done=email_set", crate::routes::RECOVERY));
    Ok(())
}

/// Removes the recovery email. **Requires:** a recent sign-in proof.
#[server(prefix = "/api/recovery", endpoint = "remove_email")]
pub async fn remove_recovery_email() -> Result<(), AppError> {
    use crate::ssr::*;
    let (auth, s) = require_recent_account_user().await?;
    domain::recovery::set_recovery_email(&s.ctx, auth.user_id, None, &client_meta(), crate::ssr::now()).await?;
    redirect_plain_form(&format!("{}?done=email_removed", crate::routes::RECOVERY));
    Ok(())
}

/// Replaces the security questions. **Requires:** a recent sign-in proof.
#[server(prefix = "/api/recovery", endpoint = "set_questions")]
pub async fn set_security_questions(form: QuestionsForm) -> Result<(), AppError> {
    use crate::ssr::*;
    let (auth, s) = require_account_user().await?;
    let errors = validate_questions(&form);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    domain::reauth::require_recent(&s.ctx, &auth, crate::ssr::now())?;
    domain::recovery::set_questions(&s.ctx, auth.user_id, &form.choices(), &client_meta(), crate::ssr::now()).await?;
    redirect_plain_form(&format!("{}?done=questions_set", crate::routes::RECOVERY));
    Ok(())
}

/// Removes the security questions. **Requires:** a recent sign-in proof.
#[server(prefix = "/api/recovery", endpoint = "remove_questions")]
pub async fn remove_security_questions() -> Result<(), AppError> {
    use crate::ssr::*;
    let (auth, s) = require_recent_account_user().await?;
    domain::recovery::remove_questions(&s.ctx, auth.user_id, &client_meta(), crate::ssr::now()).await?;
    redirect_plain_form(&format!("{}?done=questions_removed", crate::routes::RECOVERY));
    Ok(())
}

/// The answer to every "Forgot password?" request, whatever the account.
pub const FORGOT_SENT: &str =
    "If an account matches, we've sent a link to its email addresses. It works once, for 30 minutes. Check your spam folder too.";

/// "Forgot password?": sends a reset link if the account exists. The answer
/// never says whether it does. **Requires:** nothing; rate-limited per IP
/// (and, silently, per account).
#[server(prefix = "/api/recover", endpoint = "forgot")]
pub async fn forgot_password(identifier: String) -> Result<String, AppError> {
    use crate::ssr::*;
    let s = services()?;
    let id = identifier.trim();
    if id.is_empty() {
        return Err(AppError::field("identifier", "Enter your username or email address."));
    }
    if id.chars().count() > crate::validation::EMAIL_MAX {
        return Err(AppError::field("identifier", "That is longer than any username or email address."));
    }
    domain::recovery::request_reset(&s.ctx, id, &client_meta(), crate::ssr::now())?;
    redirect_plain_form(&format!("{}?sent=1", crate::routes::FORGOT_PASSWORD));
    Ok(FORGOT_SENT.to_owned())
}

/// What a reset link asks (its questions). Does not use the link up.
/// **Requires:** a live reset link.
#[server(prefix = "/api/recover", endpoint = "reset_info")]
pub async fn get_reset_info(token: String) -> Result<ResetInfo, AppError> {
    use crate::ssr::*;
    let s = services()?;
    let info = domain::recovery::reset_info(&s.ctx, &token, crate::ssr::now()).await?;
    Ok(ResetInfo {
        username: info.username,
        questions: info.questions.iter().map(|q| question(q)).collect(),
        password_min_length: s.ctx.policy.password_min_length,
        keeps_second_factor: info.keeps_second_factor,
    })
}

/// Sets a new password with a reset link; every session and link of the
/// person then ends. Returns the sign-in page to go to.
/// **Requires:** a live reset link and the right answers; rate-limited per link.
#[server(prefix = "/api/recover", endpoint = "reset")]
pub async fn reset_password(
    token: String,
    #[server(default)] question1: String,
    #[server(default)] answer1: String,
    #[server(default)] question2: String,
    #[server(default)] answer2: String,
    password: String,
    confirm: String,
) -> Result<String, AppError> {
    use crate::ssr::*;
    let s = services()?;
    let errors = crate::validation::validate_new_password(&password, &confirm, s.ctx.policy.password_min_length);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let answers = vec![(question1, answer1), (question2, answer2)];
    domain::recovery::reset(&s.ctx, &token, &answers, &password, &client_meta(), crate::ssr::now()).await?;
    let target = format!("{}?reset=1", crate::routes::LOGIN);
    redirect_plain_form(&target);
    Ok(target)
}

/// Confirms an email address with the link sent to it; returns what was confirmed.
/// **Requires:** a live verification link for the address still on the account.
#[server(prefix = "/api/recover", endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<String, AppError> {
    use crate::ssr::*;
    let s = services()?;
    let message = match domain::recovery::confirm_email(&s.ctx, &token, &client_meta(), crate::ssr::now()).await? {
        domain::recovery::Verified::Email(a) => format!("Thank you: {a} is confirmed as your email address."),
        domain::recovery::Verified::RecoveryEmail(a) => format!("Thank you: {a} is confirmed as your recovery email address."),
    };
    redirect_plain_form(&format!("{}?done=1", crate::routes::VERIFY_EMAIL));
    Ok(message)
}
