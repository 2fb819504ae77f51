use leptos::prelude::*;

use super::types::*;
use crate::error::AppError;

#[cfg(feature = "ssr")]
fn to_profile(u: &domain::users::User) -> Profile {
    Profile {
        username: u.username.clone(),
        email_verified: u.email_verified,
        form: ProfileForm {
            given_name: u.given_name.clone().unwrap_or_default(),
            family_name: u.family_name.clone().unwrap_or_default(),
            display_name: u.display_name.clone().unwrap_or_default(),
            email: u.email.clone(),
            phone: u.phone.clone().unwrap_or_default(),
            locale: u.locale.clone().unwrap_or_default(),
            time_zone: u.time_zone.clone().unwrap_or_default(),
            picture_url: u.picture_url.clone().unwrap_or_default(),
            address: u.address.clone().unwrap_or_default(),
        },
        verification_sent: false,
    }
}

/// The signed-in person, for the shell's header.
/// **Requires:** a session.
#[server(prefix = "/api/account", endpoint = "me")]
pub async fn get_me() -> Result<Me, AppError> {
    use crate::ssr::*;
    let (auth, _) = require_account_user().await?;
    let u = auth.user.clone();
    Ok(Me {
        display_name: display_name(u.display_name.as_deref(), u.given_name.as_deref(), u.family_name.as_deref(), &u.username),
        username: u.username,
        is_admin: u.is_admin,
        admin_needs_second_factor: u.is_admin && !auth.is_multi_factor(),
    })
}

/// The Overview page: who is signed in, this sign-in and the one before.
/// **Requires:** a session.
#[server(prefix = "/api/account", endpoint = "overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    use crate::ssr::*;
    let (auth, s) = require_account_user().await?;
    let (this, previous) = domain::sessions::this_and_previous_sign_in(&s.ctx.db, auth.user_id, auth.session_id).await?;
    Ok(Overview::seen(auth.user, this, previous))
}

/// The Personal info form's current values.
/// **Requires:** a session.
#[server(prefix = "/api/account", endpoint = "profile")]
pub async fn get_profile() -> Result<Profile, AppError> {
    use crate::ssr::*;
    let (auth, _) = require_account_user().await?;
    let u = auth.user.clone();
    Ok(to_profile(&u))
}

/// Saves Personal info. A new email address becomes unverified.
/// **Requires:** a session; a recent sign-in proof to change the email address. Writes nothing unless every field is valid.
#[server(prefix = "/api/account", endpoint = "update_profile")]
pub async fn update_profile(profile: ProfileForm) -> Result<Profile, AppError> {
    use crate::ssr::*;
    let (auth, s) = require_account_user().await?;
    let v = validate_profile(&profile).map_err(AppError::Invalid)?;
    let update = domain::profile::ProfileUpdate::from(v);
    let recent = domain::reauth::require_recent(&s.ctx, &auth, crate::ssr::now()).is_ok();
    let (saved, email_changed) = domain::profile::update(&s.ctx, auth.user_id, update, recent, &client_meta(), crate::ssr::now()).await?;
    tracing::info!(user = %saved.id, email_changed, "profile updated");
    redirect_plain_form(&format!("{}?saved=1", crate::routes::PERSONAL_INFO));
    Ok(Profile { verification_sent: email_changed, ..to_profile(&saved) })
}

/// Sends the confirmation link for the primary email address again.
/// **Requires:** a session and an unverified address; rate-limited per account.
#[server(prefix = "/api/account", endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<String, AppError> {
    use crate::ssr::*;
    let (auth, s) = require_account_user().await?;
    domain::recovery::resend_email_verification(&s.ctx, auth.user_id, crate::ssr::now()).await?;
    let u = auth.user.clone();
    Ok(format!("We sent a new confirmation link to {}.", u.email))
}
