//! The first step: who is signing in, by password or passkey.

use super::*;

/// First step with a password.
pub async fn with_password(
    ctx: &Ctx,
    identifier: &str,
    password: &str,
    browser: Browser,
    meta: &ClientMeta,
    previous_token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    if let Some(ip) = &meta.ip {
        ctx.limits.login_ip.check(ip)?;
    }
    let (account, attempt) = match auth::check_password(ctx, identifier, password, now).await {
        Ok(found) => found,
        Err(Error::InvalidCredentials) => {
            crate::metrics::sign_in("pwd", false);
            match users::find_by_login(&ctx.db, &identifier.trim().to_lowercase()).await.ok().flatten() {
                Some(u) => {
                    tracing::info!(event = "sign_in_failed", user = %u.id, method = "pwd", ip = meta.ip.as_deref(), "wrong password");
                    events::record(&ctx.db, u.id, Kind::SignInFailed, Some("pwd"), Some("wrong password".into()), meta, now).await?;
                }
                // The name is not logged: it may be an email address, or a
                // password typed into the wrong field.
                None => tracing::info!(
                    event = "sign_in_failed",
                    reason = "unknown_account",
                    ip = meta.ip.as_deref(),
                    "sign-in for an unknown name"
                ),
            }
            return Err(Error::InvalidCredentials);
        }
        Err(e) => return Err(e),
    };
    crate::metrics::sign_in("pwd", true);
    let enrolled = Some(account.enrolled);
    let outcome = advance(ctx, &account.user, Method::Password, enrolled, browser, meta, previous_token, now).await?;
    // Only a finished sign-in resets the count of failures in a row.
    if matches!(outcome, Outcome::Complete(_)) {
        attempt.succeeded(ctx).await?;
    }
    Ok(outcome)
}

/// Starts a username-less passkey sign-in (see [`passkeys::start_discoverable`]).
pub async fn start_passkey(
    ctx: &Ctx,
    conditional: bool,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<(Uuid, RequestChallengeResponse)> {
    if let Some(ip) = &meta.ip {
        ctx.limits.passkey_start_ip.check(ip)?;
    }
    passkeys::start_discoverable(ctx, conditional, now).await
}

/// First step with a passkey (user verification required, so it also
/// satisfies second-factor steps).
pub async fn with_passkey(
    ctx: &Ctx,
    ceremony: Uuid,
    credential: &PublicKeyCredential,
    browser: Browser,
    meta: &ClientMeta,
    previous_token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let user = match passkeys::finish_discoverable(ctx, ceremony, credential, now).await {
        Ok(u) => u,
        Err(e) => {
            if matches!(e, Error::PasskeyRejected | Error::CeremonyExpired) {
                crate::metrics::sign_in("hwk", false);
                tracing::info!(event = "sign_in_failed", method = "hwk", reason = %e, ip = meta.ip.as_deref(), "passkey sign-in refused");
            }
            return Err(e);
        }
    };
    crate::metrics::sign_in("hwk", true);
    advance(ctx, &user, Method::Passkey, None, browser, meta, previous_token, now).await
}
