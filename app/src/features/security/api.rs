use leptos::prelude::*;

use super::types::*;
use crate::error::AppError;
use crate::features::passkeys::Challenge;

#[cfg(feature = "ssr")]
fn parse_id(id: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)
}

/// Session, person and a recent sign-in proof: what every change here needs.
#[cfg(feature = "ssr")]
async fn recent_proof() -> Result<(crate::ssr::Services, domain::sessions::Authenticated, domain::users::User), AppError> {
    let (auth, s) = crate::ssr::require_recent_account_user().await?;
    let user = auth.user.clone();
    Ok((s, auth, user))
}

/// What a plain form post (no JavaScript) left for the Security page to
/// show: an authenticator app being added (`totp`: its enrolment) or new
/// backup codes (`codes`, until the person says they saved them).
#[cfg(feature = "ssr")]
async fn left_to_show(
    s: &crate::ssr::Services,
    user: &domain::users::User,
    totp: Option<String>,
    codes: Option<String>,
) -> (Option<Result<TotpEnrolment, AppError>>, Option<Result<Vec<String>, AppError>>) {
    let now = crate::ssr::now();
    // An id that is not one is answered like an unknown one.
    let id = |s: &str| uuid::Uuid::parse_str(s.trim()).map_err(|_| domain::Error::CeremonyExpired);
    let enrolment = match totp {
        Some(t) => Some(async { domain::totp::resume_enrolment(&s.ctx, user, id(&t)?, now).await }.await),
        None => None,
    };
    let codes = match codes {
        Some(c) => Some(async { domain::backup_codes::kept_to_show(&s.ctx, user.id, id(&c)?, now).await }.await),
        None => None,
    };
    let enrolment = enrolment.map(|r| r.map(TotpEnrolment::from).map_err(AppError::from));
    let codes = codes.map(|r| {
        r.map_err(|e| match e {
            domain::Error::CeremonyExpired => AppError::Refused(CODES_GONE.into()),
            e => e.into(),
        })
    });
    (enrolment, codes)
}

#[cfg(feature = "ssr")]
const CODES_GONE: &str =
    "New backup codes are shown only until you say you saved them, five minutes at most. If you did not save them, generate new ones.";

#[cfg(feature = "ssr")]
impl From<domain::totp::Enrolment> for TotpEnrolment {
    fn from(e: domain::totp::Enrolment) -> Self {
        Self {
            ceremony: e.ceremony.to_string(),
            secret_base32: e.secret_base32,
            otpauth_uri: e.otpauth_uri,
            qr_data_uri: format!("data:image/png;base64,{}", e.qr_png_base64),
        }
    }
}

/// Everything the Security page shows; `pending_…` are what a plain
/// form post left to show once (see `left_to_show`).
/// **Requires:** a session.
#[server(prefix = "/api/security", endpoint = "overview")]
pub async fn get_security(pending_totp: Option<String>, pending_codes: Option<String>) -> Result<Security, AppError> {
    use crate::ssr::*;
    let (auth, s) = require_account_user().await?;
    let (totp_enrolment, new_codes) = left_to_show(&s, &auth.user, pending_totp, pending_codes).await;
    let reauth = crate::features::reauth::api::options_for(&s, &auth).await?;
    let page = Security::read(&s.ctx.db, &auth.user).await?;
    Ok(Security { totp_enrolment, new_codes, reauth, password_min_length: s.ctx.policy.password_min_length, ..page })
}

/// Starts adding an authenticator app: a new secret, shown once. A plain
/// form post goes to the Security page showing the enrolment.
/// **Requires:** a recent sign-in proof.
#[server(prefix = "/api/security", endpoint = "totp_start")]
pub async fn start_totp_enrolment() -> Result<TotpEnrolment, AppError> {
    let (s, _, user) = recent_proof().await?;
    let e = domain::totp::start_enrolment(&s.ctx, &user, crate::ssr::now()).await?;
    crate::ssr::redirect_plain_form(&format!("{}?totp={}#totp-title", crate::routes::SECURITY, e.ceremony));
    Ok(e.into())
}

/// Saves the authenticator app once the person typed a valid current code.
/// **Requires:** a recent sign-in proof; rate-limited per account.
#[server(prefix = "/api/security", endpoint = "totp_finish")]
pub async fn finish_totp_enrolment(ceremony: String, code: String, name: String) -> Result<(), AppError> {
    use crate::error::FieldError;
    let (s, auth, _) = recent_proof().await?;
    let mut errors: Vec<FieldError> = Vec::new();
    let name = crate::validation::validate_credential_name(&name).map_err(|e| errors.push(e)).ok();
    if domain::totp::normalize_code(&code).is_none() {
        errors.push(FieldError::new("code", "Enter the 6-digit code your app shows now."));
    }
    let (Some(name), true) = (name, errors.is_empty()) else { return Err(AppError::Invalid(errors)) };
    let ceremony =
        uuid::Uuid::parse_str(ceremony.trim()).map_err(|_| AppError::Refused("This enrolment is not valid. Start again.".into()))?;
    domain::totp::finish_enrolment(&s.ctx, auth.user_id, ceremony, &code, &name, &crate::ssr::client_meta(), crate::ssr::now()).await?;
    crate::ssr::redirect_plain_form(&format!("{}?done=totp_added", crate::routes::SECURITY));
    Ok(())
}

/// Renames an authenticator app. **Requires:** a session.
#[server(prefix = "/api/security", endpoint = "totp_rename")]
pub async fn rename_totp(id: String, name: String) -> Result<(), AppError> {
    use crate::ssr::*;
    let (auth, s) = require_account_user().await?;
    let name = crate::validation::validate_credential_name(&name).map_err(|e| AppError::Invalid(vec![e]))?;
    domain::totp::rename(&s.ctx.db, auth.user_id, parse_id(&id)?, &name).await?;
    crate::ssr::redirect_plain_form(&format!("{}?done=renamed", crate::routes::SECURITY));
    Ok(())
}

/// Removes an authenticator app, unless that would lock the person out.
/// **Requires:** a recent sign-in proof.
#[server(prefix = "/api/security", endpoint = "totp_remove")]
pub async fn remove_totp(id: String) -> Result<(), AppError> {
    let (s, _, user) = recent_proof().await?;
    domain::methods::remove_totp(&s.ctx, &user, parse_id(&id)?, &crate::ssr::client_meta()).await?;
    crate::ssr::redirect_plain_form(&format!("{}?done=removed", crate::routes::SECURITY));
    Ok(())
}

/// Replaces all backup codes with ten new ones, returned this once. A plain
/// form post goes to the Security page, which shows them once.
/// **Requires:** a recent sign-in proof.
#[server(prefix = "/api/security", endpoint = "backup_codes_generate")]
pub async fn generate_backup_codes() -> Result<Vec<String>, AppError> {
    use crate::ssr::*;
    let (s, auth, _) = recent_proof().await?;
    if is_plain_form_post() {
        let id = domain::backup_codes::regenerate_to_show(&s.ctx, auth.user_id, &client_meta(), crate::ssr::now()).await?;
        redirect_plain_form(&format!("{}?codes={id}#backup-title", crate::routes::SECURITY));
        return Ok(Vec::new());
    }
    Ok(domain::backup_codes::regenerate(&s.ctx, auth.user_id, &client_meta(), crate::ssr::now()).await?)
}

/// The person saved the backup codes shown without JavaScript: they are not
/// kept any longer. **Requires:** a session.
#[server(prefix = "/api/security", endpoint = "backup_codes_saved")]
pub async fn backup_codes_saved() -> Result<(), AppError> {
    let (auth, s) = crate::ssr::require_account_user().await?;
    domain::backup_codes::forget_shown(&s.ctx, auth.user_id).await?;
    crate::ssr::redirect_plain_form(crate::routes::SECURITY);
    Ok(())
}

/// Starts registering a passkey. **Requires:** a recent sign-in proof.
#[server(prefix = "/api/security", endpoint = "passkey_start")]
pub async fn start_passkey_registration() -> Result<Challenge, AppError> {
    let (s, _, user) = recent_proof().await?;
    let display = user.display_name.clone().unwrap_or_else(|| user.username.clone());
    let (id, ccr) = domain::passkeys::start_registration(&s.ctx, &user, &display, crate::ssr::now()).await?;
    crate::features::passkeys::challenge(id, &ccr)
}

/// Saves the new passkey under the name the person chose.
/// **Requires:** a recent sign-in proof and a ceremony from `passkey_start`.
#[server(prefix = "/api/security", endpoint = "passkey_finish")]
pub async fn finish_passkey_registration(ceremony: String, name: String, credential: String) -> Result<(), AppError> {
    use crate::features::passkeys::{parse_ceremony, parse_credential};
    let (s, auth, _) = recent_proof().await?;
    let name = crate::validation::validate_credential_name(&name).map_err(|e| AppError::Invalid(vec![e]))?;
    let ceremony = parse_ceremony(&ceremony)?;
    let credential = parse_credential(&credential)?;
    domain::passkeys::finish_registration(
        &s.ctx,
        auth.user_id,
        ceremony,
        &name,
        &credential,
        &crate::ssr::client_meta(),
        crate::ssr::now(),
    )
    .await?;
    Ok(())
}

/// Renames a passkey. **Requires:** a session.
#[server(prefix = "/api/security", endpoint = "passkey_rename")]
pub async fn rename_passkey(id: String, name: String) -> Result<(), AppError> {
    use crate::ssr::*;
    let (auth, s) = require_account_user().await?;
    let name = crate::validation::validate_credential_name(&name).map_err(|e| AppError::Invalid(vec![e]))?;
    domain::passkeys::rename(&s.ctx.db, auth.user_id, parse_id(&id)?, &name).await?;
    crate::ssr::redirect_plain_form(&format!("{}?done=renamed", crate::routes::SECURITY));
    Ok(())
}

/// Removes a passkey, unless that would lock the person out.
/// **Requires:** a recent sign-in proof.
#[server(prefix = "/api/security", endpoint = "passkey_remove")]
pub async fn remove_passkey(id: String) -> Result<(), AppError> {
    let (s, _, user) = recent_proof().await?;
    domain::methods::remove_passkey(&s.ctx, &user, parse_id(&id)?, &crate::ssr::client_meta()).await?;
    crate::ssr::redirect_plain_form(&format!("{}?done=removed", crate::routes::SECURITY));
    Ok(())
}
