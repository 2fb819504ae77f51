use leptos::prelude::*;

use super::types::*;
use crate::error::AppError;

/// Signs in with a username or email and a password; returns where to go
/// next: the page the person came from, or the next sign-in step.
/// **Requires:** nothing. Rate-limited per IP and per account name.
#[server(prefix = "/api/auth", endpoint = "login")]
pub async fn login(identifier: String, password: String, next: Option<String>) -> Result<String, AppError> {
    use crate::ssr::*;
    let s = services()?;
    check_sign_in_form(&identifier, &password)?;
    let (browser, previous) = (signing_in_browser(&s, next.as_deref()).await?, session().token);
    let outcome =
        domain::signin::with_password(&s.ctx, &identifier, &password, browser, &client_meta(), previous.as_deref(), now()).await?;
    finish_step(&s, outcome, next.as_deref()).await
}

/// Both fields of the sign-in form are filled in (a message for each that is not).
#[cfg(feature = "ssr")]
fn check_sign_in_form(identifier: &str, password: &str) -> Result<(), AppError> {
    use crate::error::FieldError;
    let mut errors = Vec::new();
    if identifier.trim().is_empty() {
        errors.push(FieldError::new("identifier", "Enter your username or email."));
    }
    if password.is_empty() {
        errors.push(FieldError::new("password", "Enter your password."));
    }
    if errors.is_empty() { Ok(()) } else { Err(AppError::Invalid(errors)) }
}

/// A code typed at a sign-in step, as the proof `method` names.
#[cfg(feature = "ssr")]
fn code_proof<'a>(method: &str, code: &'a str) -> Result<domain::signin::Proof<'a>, AppError> {
    use domain::signin::Proof;
    if code.len() > 64 {
        return Err(AppError::field("code", "That code is too long."));
    }
    let proof = match method {
        "totp" => Proof::Totp(code),
        "backup_code" => Proof::BackupCode(code),
        _ => return Err(AppError::field("method", "Choose how to confirm: authenticator app or backup code.")),
    };
    if code.trim().is_empty() {
        return Err(AppError::field("code", "Enter the code."));
    }
    Ok(proof)
}

/// The browser signing in: its known-device cookie (the "new device" flag
/// is computed per person once they are known), and the application whose
/// login flow applies — the one an authorization in `next` is for, or My
/// Account.
#[cfg(feature = "ssr")]
async fn signing_in_browser(s: &crate::ssr::Services, next: Option<&str>) -> Result<domain::signin::Browser, AppError> {
    use crate::ssr::*;
    let app = match next.and_then(crate::routes::oidc_request_in) {
        Some(handle) => domain::oidc::requests::load(&s.ctx.db, &handle, now()).await?.map(|(_, _, app)| app.handle),
        None => None,
    };
    Ok(domain::signin::Browser { known_cookie: read_cookie(s.cookie.device()), app })
}

/// After a later sign-in step: a sign-in that ended (too many wrong answers,
/// expired) also loses its cookie; otherwise as [`finish_step`].
#[cfg(feature = "ssr")]
async fn conclude_step(
    s: &crate::ssr::Services,
    outcome: Result<domain::signin::Outcome, domain::Error>,
    next: Option<&str>,
) -> Result<String, AppError> {
    if matches!(outcome, Err(domain::Error::TooManyFailures | domain::Error::SignInExpired)) {
        crate::ssr::set_cookie(&s.cookie.partial().clear());
    }
    finish_step(s, outcome?, next).await
}

/// After any sign-in step: set the session (or half-finished sign-in)
/// cookie and answer where the browser goes next.
#[cfg(feature = "ssr")]
async fn finish_step(s: &crate::ssr::Services, outcome: domain::signin::Outcome, next: Option<&str>) -> Result<String, AppError> {
    use crate::ssr::*;
    let target = match outcome {
        domain::signin::Outcome::Complete(signed_in) => {
            set_cookie(&s.cookie.set(&signed_in.session.token));
            set_cookie(&s.cookie.partial().clear());
            remember_this_browser(s, signed_in.user.id).await?;
            tracing::info!(user = %signed_in.user.id, session = %signed_in.session.id, "signed in");
            crate::routes::safe_next(next)
        }
        domain::signin::Outcome::Continue { token, next: step } => {
            set_cookie(&s.cookie.partial().set_for(&token, s.ctx.policy.partial_login_ttl.as_secs()));
            tracing::debug!(step = step.index + 1, "sign-in continues");
            crate::routes::verify_with_next(next)
        }
    };
    redirect_plain_form(&target);
    Ok(target)
}

/// Remembers this browser for `user_id` (the flow's "new device" rule):
/// a fresh known-device token, kept in the browser's cookie with the others.
#[cfg(feature = "ssr")]
pub(crate) async fn remember_this_browser(s: &crate::ssr::Services, user_id: uuid::Uuid) -> Result<(), AppError> {
    use crate::ssr::*;
    let known = read_cookie(s.cookie.device());
    let remembered = domain::devices::remember(&s.ctx.db, known.as_deref(), user_id, crate::ssr::now()).await?;
    set_cookie(&s.cookie.device().set_for(&remembered, u64::from(domain::devices::REMEMBER_DAYS) * 86_400));
    Ok(())
}

#[cfg(feature = "ssr")]
fn partial_token() -> Result<String, AppError> {
    use crate::ssr::*;
    let s = services()?;
    read_cookie(s.cookie.partial()).ok_or(AppError::SignInExpired)
}

/// The step a half-finished sign-in waits for.
/// **Requires:** this browser's half-finished sign-in.
#[server(prefix = "/api/auth", endpoint = "pending_sign_in")]
pub async fn get_pending_sign_in() -> Result<PendingSignIn, AppError> {
    use crate::ssr::*;
    let s = services()?;
    let now = crate::ssr::now();
    let step = domain::signin::pending(&s.ctx, &partial_token()?, now).await?;
    Ok(PendingSignIn {
        step: step.index + 1,
        steps: step.steps,
        options: step.options,
        display_name: step.display_name,
        failures_left: step.failures_left,
        expires_in_secs: (step.expires_at - now).num_seconds().max(0),
    })
}

/// Completes a sign-in step with a code: `method` is `totp` or `backup_code`.
/// **Requires:** this browser's half-finished sign-in; rate-limited per account;
/// five wrong answers end the sign-in.
#[server(prefix = "/api/auth", endpoint = "verify_sign_in")]
pub async fn verify_sign_in(method: String, code: String, next: Option<String>) -> Result<String, AppError> {
    use crate::ssr::*;
    let s = services()?;
    let token = partial_token()?;
    let proof = code_proof(&method, &code)?;
    let outcome = domain::signin::verify(&s.ctx, &token, proof, &client_meta(), session().token.as_deref(), now()).await;
    conclude_step(&s, outcome, next.as_deref()).await
}

/// Abandons this browser's half-finished sign-in.
/// **Requires:** nothing.
#[server(prefix = "/api/auth", endpoint = "cancel_sign_in")]
pub async fn cancel_sign_in() -> Result<String, AppError> {
    use crate::ssr::*;
    let s = services()?;
    if let Some(token) = read_cookie(s.cookie.partial()) {
        domain::signin::cancel(&s.ctx.db, &token).await?;
    }
    set_cookie(&s.cookie.partial().clear());
    redirect_plain_form(crate::routes::LOGIN);
    Ok(crate::routes::LOGIN.to_owned())
}

/// Starts a passkey sign-in without a username. With `conditional`, the
/// browser offers passkeys in the username field's autofill.
/// **Requires:** nothing; rate-limited per IP.
#[server(prefix = "/api/auth", endpoint = "passkey_start")]
pub async fn start_passkey_sign_in(conditional: bool) -> Result<crate::features::passkeys::Challenge, AppError> {
    use crate::ssr::*;
    let s = services()?;
    let (id, rcr) = domain::signin::start_passkey(&s.ctx, conditional, &client_meta(), crate::ssr::now()).await?;
    crate::features::passkeys::challenge(id, &rcr)
}

/// Finishes a passkey sign-in; returns where to go next.
/// **Requires:** a ceremony from `passkey_start` (one use, 5 minutes).
#[server(prefix = "/api/auth", endpoint = "passkey_finish")]
pub async fn finish_passkey_sign_in(ceremony: String, credential: String, next: Option<String>) -> Result<String, AppError> {
    use crate::features::passkeys::{parse_ceremony, parse_credential};
    use crate::ssr::*;
    let s = services()?;
    let ceremony = parse_ceremony(&ceremony)?;
    let credential = parse_credential(&credential)?;
    let (browser, previous) = (signing_in_browser(&s, next.as_deref()).await?, session().token);
    let outcome = domain::signin::with_passkey(&s.ctx, ceremony, &credential, browser, &client_meta(), previous.as_deref(), now()).await?;
    finish_step(&s, outcome, next.as_deref()).await
}

/// Starts a passkey check for the step a half-finished sign-in waits for.
/// **Requires:** this browser's half-finished sign-in.
#[server(prefix = "/api/auth", endpoint = "passkey_step_start")]
pub async fn start_passkey_step() -> Result<crate::features::passkeys::Challenge, AppError> {
    use crate::ssr::*;
    let s = services()?;
    let (id, rcr) = domain::signin::start_passkey_step(&s.ctx, &partial_token()?, crate::ssr::now()).await?;
    crate::features::passkeys::challenge(id, &rcr)
}

/// Completes a sign-in step with a passkey.
/// **Requires:** this browser's half-finished sign-in and a ceremony from `passkey_step_start`.
#[server(prefix = "/api/auth", endpoint = "passkey_step_finish")]
pub async fn finish_passkey_step(ceremony: String, credential: String, next: Option<String>) -> Result<String, AppError> {
    use crate::features::passkeys::{parse_ceremony, parse_credential};
    use crate::ssr::*;
    use domain::signin::Proof;
    let s = services()?;
    let token = partial_token()?;
    let proof = Proof::Passkey { ceremony: parse_ceremony(&ceremony)?, credential: &parse_credential(&credential)? };
    let outcome = domain::signin::verify(&s.ctx, &token, proof, &client_meta(), session().token.as_deref(), now()).await;
    conclude_step(&s, outcome, next.as_deref()).await
}

/// What My Account's login flow still asks of this session: after a
/// sign-in through an application whose flow asks for less, the missing
/// step (then My Account and the console open). **Requires:** a session.
#[server(prefix = "/api/auth", endpoint = "step_up")]
pub async fn get_step_up() -> Result<StepUp, AppError> {
    use crate::ssr::*;
    use proto::flow::Next;
    let auth = require_user()?;
    let s = services()?;
    Ok(match domain::reauth::my_account_step(&s.ctx, &auth).await? {
        Next::Complete => StepUp::Done,
        Next::Step { options, .. } => StepUp::Prove(crate::features::reauth::ReauthOptions::offering(&options)),
        Next::Blocked { index } => StepUp::Blocked { step: index + 1 },
    })
}

/// Ends this browser's session on the server and clears the cookie.
/// **Requires:** nothing (signing out twice is harmless).
#[server(prefix = "/api/auth", endpoint = "logout")]
pub async fn logout() -> Result<String, AppError> {
    use crate::ssr::*;
    let s = services()?;
    let now = crate::ssr::now();
    if let Some(token) = session().token {
        domain::sessions::revoke_by_token(&s.ctx.db, &token, now).await?;
    }
    if let Some(auth) = session().auth {
        tracing::info!(event = "signed_out", user = %auth.user_id, session = %auth.session_id, "signed out");
        domain::events::record(&s.ctx.db, auth.user_id, domain::events::Kind::SignedOut, None, None, &client_meta(), now).await?;
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
    let state = match domain::setup::state(&s.ctx.db, &token, crate::ssr::now()).await? {
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
    let signed_in =
        domain::setup::create_first_admin(&s.ctx, &token, username, email, &password, &client_meta(), crate::ssr::now()).await?;
    set_cookie(&s.cookie.set(&signed_in.session.token));
    tracing::info!(user = %signed_in.user.id, "first administrator created");
    redirect_plain_form(crate::routes::ACCOUNT);
    Ok(crate::routes::ACCOUNT.to_owned())
}
