use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use super::types::*;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::features::admin::types::AppSummary;

/// The applications the signed-in person may launch whose name contains
/// `search`, favourites first, and the ones they used last.
#[server(prefix = "/api/account", endpoint = "applications")]
pub async fn list_my_applications(search: Option<String>) -> Result<MyApps, AppError> {
    let (auth, s) = crate::ssr::require_account_user().await?;
    let found = domain::apps::discover::list(&s.ctx.db, auth.user_id, search.as_deref()).await?;
    let any = !found.apps.is_empty() || domain::apps::discover::any(&s.ctx.db).await?;
    let recent = found.recent.iter().map(AppSummary::from).collect();
    let allowed: std::collections::BTreeSet<uuid::Uuid> =
        domain::oidc::grants::consents(&s.ctx.db, auth.user_id).await?.into_iter().map(|(_, app)| app.id).collect();
    let apps = found.apps.into_iter().map(|l| AppCard { signed_in: allowed.contains(&l.app.id), ..AppCard::from(l) }).collect();
    Ok(MyApps { apps, recent, any })
}

/// Stars (`on`) or un-stars an application for the signed-in person.
#[server(prefix = "/api/account", endpoint = "application_favourite")]
pub async fn set_favourite(app: String, on: bool) -> Result<(), AppError> {
    let (auth, s) = crate::ssr::require_account_user().await?;
    domain::apps::discover::set_favourite(&s.ctx.db, auth.user_id, &app, on, crate::ssr::now()).await?;
    crate::ssr::redirect_plain_form(&crate::ssr::back_to_form_page("", crate::routes::MY_APPLICATIONS));
    Ok(())
}

/// Launch: records the use and sends the browser to the application's
/// access URL (only ever a registered, enabled, discoverable one: never an
/// address from the request). A GET, because Launch is a link opened in a
/// new tab; the use is recorded only when the link was followed from this
/// site (`Sec-Fetch-Site`), so another site can't fill someone's list.
#[server(prefix = "/api/account", endpoint = "launch", input = GetUrl)]
pub async fn launch_application(app: String) -> Result<(), AppError> {
    let (auth, s) = crate::ssr::require_account_user().await?;
    let target = domain::apps::discover::launchable_app(&s.ctx.db, &app).await?;
    if crate::ssr::same_origin_navigation() {
        domain::apps::discover::record_use(&s.ctx.db, auth.user_id, target.id, crate::ssr::now()).await?;
    }
    leptos_axum::redirect(&target.access_url);
    crate::ssr::set_status(302);
    Ok(())
}
