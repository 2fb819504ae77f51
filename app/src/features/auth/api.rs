use leptos::prelude::*;

use super::types::*;
use crate::error::AppError;

/// Signs in with a username or email and a password; returns where to go next.
/// **Requires:** nothing. Rate-limited per IP and per account name.
#[server(prefix = "/api/auth", endpoint = "login")]
pub async fn login(identifier: String, password: String, next: Option<String>) -> Result<String, AppError> {
    use crate::error::FieldError;
    use crate::ssr::*;
    let s = services()?;
    let mut errors = Vec::new();
    if identifier.trim().is_empty() {
        errors.push(FieldError::new("identifier", "Enter your username or email."));
    }
    if password.is_empty() {
        errors.push(FieldError::new("password", "Enter your password."));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let previous = session().token;
    let signed_in =
        domain::auth::password_sign_in(&s.ctx, &identifier, &password, &client_meta(), previous.as_deref(), s.ctx.now()).await?;
    set_cookie(&s.cookie.set(&signed_in.session.token));
    tracing::info!(user = %signed_in.user.id, session = %signed_in.session.id, "signed in");
    let target = crate::routes::safe_next(next.as_deref());
    redirect_plain_form(&target);
    Ok(target)
}

/// Ends this browser's session on the server and clears the cookie.
/// **Requires:** nothing (signing out twice is harmless).
#[server(prefix = "/api/auth", endpoint = "logout")]
pub async fn logout() -> Result<String, AppError> {
    use crate::ssr::*;
    let s = services()?;
    if let Some(token) = session().token {
        domain::sessions::revoke_by_token(&s.ctx.db, &token, s.ctx.now()).await?;
    }
    set_cookie(&s.cookie.clear());
    let target = crate::routes::LOGIN;
    redirect_plain_form(target);
    Ok(target.to_owned())
}

/// Whether a setup link can still create the first administrator.
/// **Requires:** nothing.
#[server(prefix = "/api/auth", endpoint = "setup_info")]
pub async fn get_setup_info(token: String) -> Result<SetupInfo, AppError> {
    use crate::ssr::*;
    let s = services()?;
    let state = match domain::setup::state(&s.ctx.db, &token, s.ctx.now()).await? {
        domain::setup::SetupState::Ready => SetupState::Ready,
        domain::setup::SetupState::AlreadySetUp => SetupState::AlreadySetUp,
        domain::setup::SetupState::InvalidToken => SetupState::InvalidToken,
    };
    Ok(SetupInfo { state, password_min_length: s.ctx.policy.password_min_length })
}

/// Creates the first administrator with a one-time setup token and signs them in.
/// **Requires:** a valid setup token; rate-limited per IP.
#[server(prefix = "/api/auth", endpoint = "create_first_admin")]
pub async fn create_first_admin(
    token: String,
    username: String,
    email: String,
    password: String,
    confirm: String,
) -> Result<String, AppError> {
    use crate::ssr::*;
    use crate::validation::*;
    let s = services()?;
    let mut errors = Vec::new();
    let username = validate_username(&username).map_err(|e| errors.push(e)).ok();
    let email = validate_email(&email, "email").map_err(|e| errors.push(e)).ok();
    errors.extend(validate_new_password(&password, &confirm, s.ctx.policy.password_min_length));
    let (Some(username), Some(email), true) = (username, email, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let signed_in = domain::setup::create_first_admin(&s.ctx, &token, username, email, &password, &client_meta(), s.ctx.now()).await?;
    set_cookie(&s.cookie.set(&signed_in.session.token));
    tracing::info!(user = %signed_in.user.id, "first administrator created");
    let target = crate::routes::ACCOUNT;
    redirect_plain_form(target);
    Ok(target.to_owned())
}
