use leptos::prelude::*;

use super::types::*;
use crate::error::AppError;

/// The applications the signed-in person allowed, most recently used first.
#[server(prefix = "/api/account", endpoint = "consents")]
pub async fn list_consents() -> Result<Vec<ConnectedApp>, AppError> {
    let (auth, s) = crate::ssr::require_account_user().await?;
    let tz = auth.user.time_zone.as_deref();
    let found = domain::oidc::grants::consents(&s.ctx.db, auth.user_id).await?;
    Ok(found.iter().map(|(c, app)| ConnectedApp::new(c, app, tz)).collect())
}

/// Revokes the person's consent to `app` (a handle): the application's
/// tokens stop working at once and its next sign-in asks again.
#[server(prefix = "/api/account", endpoint = "consent_revoke")]
pub async fn revoke_consent(app: String) -> Result<(), AppError> {
    let (auth, s) = crate::ssr::require_account_user().await?;
    let app = domain::apps::get(&s.ctx.db, &app).await?;
    domain::oidc::grants::revoke_consent(&s.ctx.db, auth.user_id, &app).await?;
    crate::ssr::redirect_plain_form(&crate::ssr::back_to_form_page("revoked=1", crate::routes::CONSENTS));
    Ok(())
}

/// Keeps only the ticked permissions (`scopes`) of the person's consent to `app`.
#[server(prefix = "/api/account", endpoint = "consent_update")]
pub async fn update_consent(app: String, scopes: Option<proto::scopes::Ticked>) -> Result<(), AppError> {
    let (auth, s) = crate::ssr::require_account_user().await?;
    let app = domain::apps::get(&s.ctx.db, &app).await?;
    let ticked = scopes.unwrap_or_default().scopes();
    let current = domain::oidc::grants::consent(&s.ctx.db, auth.user_id, app.id).await?.ok_or(AppError::NotFound)?;
    let keep = std::iter::once("openid".to_owned()).chain(ticked).filter(|s| current.scopes.contains(s)).collect();
    domain::oidc::grants::narrow_consent(&s.ctx.db, auth.user_id, app.id, &keep, crate::ssr::now()).await?;
    crate::ssr::redirect_plain_form(&crate::ssr::back_to_form_page("saved=1", crate::routes::CONSENTS));
    Ok(())
}
