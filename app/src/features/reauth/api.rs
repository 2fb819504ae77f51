use leptos::prelude::*;

use super::ReauthOptions;
use crate::error::AppError;
use crate::features::passkeys::Challenge;

/// How the signed-in person can confirm it's them, and for how long their
/// current proof stays recent.
#[cfg(feature = "ssr")]
pub async fn options_for(s: &crate::ssr::Services, auth: &domain::sessions::Authenticated) -> Result<ReauthOptions, AppError> {
    use proto::flow::Method;
    let enrolled = domain::factors::enrolled(&s.ctx.db, auth.user_id).await?;
    let recent_for = (domain::reauth::recent_until(&s.ctx, auth) - crate::ssr::now()).num_seconds().max(0);
    Ok(ReauthOptions {
        password: enrolled.contains(&Method::Password),
        totp: enrolled.contains(&Method::Totp),
        passkey: enrolled.contains(&Method::Passkey),
        recent_for_secs: recent_for,
    })
}

/// How the person can confirm it's them (for pages outside Security, such as
/// the admin console). **Requires:** a session.
#[server(prefix = "/api/reauth", endpoint = "options")]
pub async fn get_reauth_options() -> Result<ReauthOptions, AppError> {
    use crate::ssr::*;
    let auth = require_user()?;
    options_for(&services()?, &auth).await
}

/// Confirms it's the person with their password or an authenticator code
/// (`method` is `password` or `totp`); sensitive changes then work for a
/// few minutes. A plain form post (no JavaScript) goes back to the page it
/// came from, with `reauth=ok`. **Requires:** a session; rate-limited per account.
#[server(prefix = "/api/reauth", endpoint = "confirm")]
pub async fn reauthenticate(method: String, secret: String) -> Result<(), AppError> {
    use crate::ssr::*;
    let auth = require_user()?;
    let s = services()?;
    let proof = secret_proof(&method, &secret)?;
    domain::reauth::prove(&s.ctx, &auth, proof, &client_meta(), crate::ssr::now()).await?;
    redirect_plain_form(&back_to_form_page("reauth=ok", crate::routes::ACCOUNT));
    Ok(())
}

/// What the person typed to confirm it's them, as the proof `method` names.
#[cfg(feature = "ssr")]
fn secret_proof<'a>(method: &str, secret: &'a str) -> Result<domain::reauth::Proof<'a>, AppError> {
    use domain::reauth::Proof;
    if secret.is_empty() {
        return Err(AppError::field(if method == "totp" { "code" } else { "password" }, "Enter it to continue."));
    }
    if secret.len() > 1024 {
        return Err(AppError::field("password", "That is too long."));
    }
    match method {
        "password" => Ok(Proof::Password(secret)),
        "totp" => Ok(Proof::Totp(secret)),
        _ => Err(AppError::field("method", "Choose password or authenticator app.")),
    }
}

/// Starts confirming it's the person with one of their passkeys.
/// **Requires:** a session.
#[server(prefix = "/api/reauth", endpoint = "passkey_start")]
pub async fn start_reauth_passkey() -> Result<Challenge, AppError> {
    use crate::ssr::*;
    let auth = require_user()?;
    let s = services()?;
    let (id, rcr) = domain::reauth::start_passkey(&s.ctx, &auth, crate::ssr::now()).await?;
    crate::features::passkeys::challenge(id, &rcr)
}

/// Finishes confirming it's the person with a passkey.
/// **Requires:** a session and a ceremony from `passkey_start`.
#[server(prefix = "/api/reauth", endpoint = "passkey_finish")]
pub async fn finish_reauth_passkey(ceremony: String, credential: String) -> Result<(), AppError> {
    use crate::features::passkeys::{parse_ceremony, parse_credential};
    use crate::ssr::*;
    let auth = require_user()?;
    let s = services()?;
    let ceremony = parse_ceremony(&ceremony)?;
    let credential = parse_credential(&credential)?;
    domain::reauth::prove(
        &s.ctx,
        &auth,
        domain::reauth::Proof::Passkey { ceremony, credential: &credential },
        &client_meta(),
        crate::ssr::now(),
    )
    .await?;
    Ok(())
}
