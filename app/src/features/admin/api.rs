use leptos::prelude::*;

use super::types::*;
use crate::error::AppError;

#[cfg(feature = "ssr")]
mod server {
    use super::*;
    use crate::ssr::*;
    use domain::apps::App;
    use domain::flows::StoredFlow;
    use domain::sessions::Authenticated;

    /// An administrator with a recent sign-in proof: what every change needs.
    /// Console changes need two factors: a password alone must not be
    /// enough to change how everyone signs in.
    pub async fn admin_with_recent_proof() -> Result<(Services, Authenticated), AppError> {
        let auth = require_admin()?;
        let s = services()?;
        if !auth.is_multi_factor() {
            tracing::warn!(event = "access_denied", user = %auth.user_id, reason = "admin_without_second_factor", "console change refused");
            return Err(AppError::Refused(NEEDS_TWO_FACTORS.into()));
        }
        domain::reauth::require_recent(&s.ctx, &auth, crate::ssr::now())?;
        Ok((s, auth))
    }

    /// Records an instance-wide change: a security log line, and an entry
    /// in the administrator's own activity.
    pub async fn audit(s: &Services, auth: &Authenticated, what: String) -> Result<(), AppError> {
        tracing::info!(event = "admin_change", user = %auth.user_id, change = %what, "console setting changed");
        let kind = domain::events::Kind::AdminChange;
        domain::events::record(&s.ctx.db, auth.user_id, kind, None, Some(what), &client_meta(), crate::ssr::now()).await?;
        Ok(())
    }

    /// The application `app` (My Account when not given).
    pub async fn app(s: &Services, app: Option<&str>) -> Result<App, AppError> {
        Ok(domain::apps::get(&s.ctx.db, app.unwrap_or(domain::apps::MY_ACCOUNT)).await?)
    }

    pub fn summary(s: &Services, app: &App) -> AppSummary {
        AppSummary::from(app).with_origin(&s.public_origin)
    }

    pub async fn detail(s: &Services, auth: &Authenticated, app: &App) -> Result<AppDetail, AppError> {
        let tz = &auth.user.time_zone;
        let ids: Vec<_> = [app.created_by, app.updated_by, app.switched_by].into_iter().flatten().collect();
        let names = domain::users::usernames(&s.ctx.db, &ids).await?;
        let change = |by: Option<uuid::Uuid>, at: Option<chrono::DateTime<chrono::Utc>>| {
            at.map(|at| Change {
                by: by
                    .map_or_else(|| "the command line".into(), |id| names.get(&id).cloned().unwrap_or_else(|| "a deleted account".into())),
                at: format_time(at, tz.as_deref()),
            })
        };
        Ok(AppDetail {
            app: summary(s, app),
            logo_url: app.logo_url.clone().unwrap_or_default(),
            uploaded_logo: app.logo_version.is_some(),
            created: if app.built_in { None } else { change(app.created_by, Some(app.created_at)) },
            updated: if app.built_in { None } else { change(app.updated_by, Some(app.updated_at)) },
            switched: change(app.switched_by, app.switched_at),
        })
    }

    /// Saves a new version of an application's login flow (see `update_login_flow`).
    pub async fn save_flow(
        (s, auth): (Services, Authenticated),
        app: Option<&str>,
        base_version: i32,
        flow: &proto::flow::Flow,
        confirm_blocked: Option<u64>,
    ) -> Result<LoginFlowInfo, AppError> {
        let app = server::app(&s, app).await?;
        domain::flows::update(&s.ctx.db, &app.handle, base_version, flow, auth.user_id, confirm_blocked, crate::ssr::now()).await?;
        audit(&s, &auth, format!("{} login flow saved", app.name)).await?;
        flow_info(&s, &auth, &app).await
    }

    pub async fn flow_info(s: &Services, auth: &Authenticated, app: &App) -> Result<LoginFlowInfo, AppError> {
        let tz = auth.user.time_zone.as_deref();
        let db = &s.ctx.db;
        let current = domain::flows::current(db, &app.handle).await?;
        let mut saved = domain::flows::history(db, &app.handle).await?;
        saved.push(StoredFlow { version: 0, flow: proto::flow::Flow::default_my_account(), created_at: None, created_by: None });
        let ids: Vec<_> = saved.iter().filter_map(|v| v.created_by).collect();
        let names = domain::users::usernames(db, &ids).await?;
        let history = saved
            .iter()
            .enumerate()
            .map(|(i, v)| FlowVersion {
                version: v.version,
                saved: v.created_at.map(|at| Change {
                    by: v.created_by.and_then(|id| names.get(&id).cloned()).unwrap_or_else(|| "a deleted account".into()),
                    at: format_time(at, tz),
                }),
                steps: v.flow.describe(),
                changes: saved.get(i + 1).map(|older| v.flow.changes_from(&older.flow)).unwrap_or_default(),
                current: v.version == current.version,
            })
            .collect();
        Ok(LoginFlowInfo { version: current.version, flow: current.flow, history })
    }

    /// The page of application `handle`, with `query`.
    pub fn page(handle: &str, query: &str) -> String {
        format!("{}/{handle}?{query}", crate::routes::ADMIN_APPLICATIONS)
    }
}

/// The applications people sign in to whose name contains `search`,
/// My Account first. **Requires:** an administrator.
#[server(prefix = "/api/admin", endpoint = "applications")]
pub async fn list_applications(search: Option<String>) -> Result<Vec<AppSummary>, AppError> {
    use crate::ssr::*;
    require_admin()?;
    let s = services()?;
    let apps = domain::apps::list(&s.ctx.db, search.as_deref()).await?;
    Ok(apps.iter().map(|a| server::summary(&s, a)).collect())
}

/// An application's page (My Account when `app` is not given).
/// **Requires:** an administrator.
#[server(prefix = "/api/admin", endpoint = "application")]
pub async fn get_application(app: Option<String>) -> Result<AppDetail, AppError> {
    use crate::ssr::*;
    let auth = require_admin()?;
    let s = services()?;
    let app = server::app(&s, app.as_deref()).await?;
    server::detail(&s, &auth, &app).await
}

/// Registers an application, enabled, with the default login flow.
/// **Requires:** an administrator with a recent sign-in proof. Stores
/// nothing unless every field is acceptable (a message per field).
#[server(prefix = "/api/admin", endpoint = "application_create")]
pub async fn create_application(form: AppForm) -> Result<AppDetail, AppError> {
    let (s, auth) = server::admin_with_recent_proof().await?;
    let app = domain::apps::create(&s.ctx.db, &form.try_into()?, auth.user_id, crate::ssr::now()).await?;
    server::audit(&s, &auth, format!("Application {} registered", app.name)).await?;
    crate::ssr::redirect_plain_form(&server::page(&app.handle, "created=1"));
    server::detail(&s, &auth, &app).await
}

/// Edits an application's General details (not My Account's).
/// **Requires:** an administrator with a recent sign-in proof.
#[server(prefix = "/api/admin", endpoint = "application_update")]
pub async fn update_application(app: String, form: AppForm) -> Result<AppDetail, AppError> {
    let (s, auth) = server::admin_with_recent_proof().await?;
    let app = domain::apps::update(&s.ctx.db, &app, &form.try_into()?, auth.user_id, crate::ssr::now()).await?;
    server::audit(&s, &auth, format!("Application {} edited", app.name)).await?;
    crate::ssr::redirect_plain_form(&server::page(&app.handle, "edited=1"));
    server::detail(&s, &auth, &app).await
}

/// Switches an application on or off, at once, for everyone.
/// **Requires:** an administrator with a recent sign-in proof.
#[server(prefix = "/api/admin", endpoint = "application_enabled")]
pub async fn set_application_enabled(app: Option<String>, enabled: bool) -> Result<AppDetail, AppError> {
    let (s, auth) = server::admin_with_recent_proof().await?;
    let handle = server::app(&s, app.as_deref()).await?.handle;
    let app = domain::apps::set_enabled(&s.ctx.db, &handle, enabled, auth.user_id, crate::ssr::now()).await?;
    server::audit(&s, &auth, format!("{} {}", app.name, if enabled { "enabled" } else { "disabled" })).await?;
    crate::ssr::redirect_plain_form(&server::page(
        &app.handle,
        &format!("tab=danger-zone&switched={}", if enabled { "on" } else { "off" }),
    ));
    server::detail(&s, &auth, &app).await
}

/// Deletes an application with its login flow, logo, and everyone's
/// favourites of it; `confirm_name` must be its name. My Account can't be
/// deleted. **Requires:** an administrator with a recent sign-in proof.
#[server(prefix = "/api/admin", endpoint = "application_delete")]
pub async fn delete_application(app: String, confirm_name: String) -> Result<(), AppError> {
    let (s, auth) = server::admin_with_recent_proof().await?;
    let name = domain::apps::get(&s.ctx.db, &app).await?.name;
    domain::apps::delete(&s.ctx.db, &app, &confirm_name, Some(auth.user_id)).await?;
    server::audit(&s, &auth, format!("Application {name} deleted")).await?;
    crate::ssr::redirect_plain_form(&format!("{}?deleted=1", crate::routes::ADMIN_APPLICATIONS));
    Ok(())
}

/// An application's login flow and its saved versions (My Account's when
/// `app` is not given). **Requires:** an administrator.
#[server(prefix = "/api/admin", endpoint = "login_flow")]
pub async fn get_login_flow(app: Option<String>) -> Result<LoginFlowInfo, AppError> {
    use crate::ssr::*;
    let auth = require_admin()?;
    let s = services()?;
    let app = server::app(&s, app.as_deref()).await?;
    server::flow_info(&s, &auth, &app).await
}

/// Saves a new version of an application's login flow (JSON of
/// `proto::flow::Flow`), for the next sign-in. `base_version` is the version
/// the editor started from. **Requires:** an administrator with a recent
/// sign-in proof. Stores nothing unless the flow is valid, current and
/// completable by at least one administrator; a flow that would stop people
/// from signing in is refused with their number (`WouldBlock`) unless
/// `confirm_blocked` is that number.
#[server(prefix = "/api/admin", endpoint = "login_flow_update")]
pub async fn update_login_flow(
    app: Option<String>,
    base_version: i32,
    definition: String,
    confirm_blocked: Option<u64>,
) -> Result<LoginFlowInfo, AppError> {
    let admin = server::admin_with_recent_proof().await?;
    let flow = domain::flows::parse_definition(&definition)?;
    server::save_flow(admin, app.as_deref(), base_version, &flow, confirm_blocked).await
}

/// Saves a login flow from the form without JavaScript: `steps` are its
/// rows (`PlainStep`), otherwise as `login_flow_update`; answers with a
/// redirect to the Login Flow tab.
#[server(prefix = "/api/admin", endpoint = "login_flow_form")]
pub async fn save_login_flow_form(
    app: Option<String>,
    base_version: i32,
    steps: Vec<PlainStep>,
    confirm_blocked: Option<u64>,
) -> Result<(), AppError> {
    let admin = server::admin_with_recent_proof().await?;
    let flow = PlainStep::flow(&steps).map_err(|e| AppError::Invalid(vec![e]))?;
    let handle = app.unwrap_or_else(|| domain::apps::MY_ACCOUNT.into());
    let saved = server::save_flow(admin, Some(&handle), base_version, &flow, confirm_blocked).await?;
    crate::ssr::redirect_plain_form(&server::page(&handle, &format!("tab=login-flow&saved={}", saved.version)));
    Ok(())
}

/// Makes an earlier version (0: the built-in default) the flow in force, as
/// a new version. **Requires:** an administrator with a recent sign-in proof.
#[server(prefix = "/api/admin", endpoint = "login_flow_restore")]
pub async fn restore_login_flow(
    app: Option<String>,
    base_version: i32,
    version: i32,
    confirm_blocked: Option<u64>,
) -> Result<LoginFlowInfo, AppError> {
    let (s, auth) = server::admin_with_recent_proof().await?;
    let app = server::app(&s, app.as_deref()).await?;
    domain::flows::restore(&s.ctx.db, &app.handle, version, base_version, auth.user_id, confirm_blocked, crate::ssr::now()).await?;
    server::audit(&s, &auth, format!("{} login flow version {version} restored", app.name)).await?;
    let info = server::flow_info(&s, &auth, &app).await?;
    crate::ssr::redirect_plain_form(&server::page(&app.handle, &format!("tab=login-flow&restored={}", info.version)));
    Ok(info)
}

/// Who is using the console (for its header). **Requires:** an administrator.
#[server(prefix = "/api/admin", endpoint = "me")]
pub async fn get_admin_me() -> Result<AdminMe, AppError> {
    use crate::ssr::*;
    let auth = require_admin()?;
    let multi_factor = auth.is_multi_factor();
    let u = auth.user;
    Ok(AdminMe { name: u.display_name.unwrap_or(u.username), multi_factor })
}

// ---- Protocol tab: the application's OpenID Connect client -----------------

#[cfg(feature = "ssr")]
async fn client_view(
    s: &crate::ssr::Services,
    auth: &domain::sessions::Authenticated,
    app: &domain::apps::App,
) -> Result<ClientView, AppError> {
    let db = &s.ctx.db;
    let tz = auth.user.time_zone.as_deref();
    let client = domain::oidc::clients::of_app(db, app.id).await?;
    let pending = match &client {
        Some(_) if auth.is_multi_factor() && domain::reauth::require_recent(&s.ctx, auth, crate::ssr::now()).is_ok() => {
            domain::oidc::clients::kept_to_show(db, &s.ctx.keys, app.id, crate::ssr::now()).await?.map(|s| s.to_string())
        }
        _ => None,
    };
    let updated = match &client {
        Some(c) => {
            let names = domain::users::usernames(db, &c.updated_by.into_iter().collect::<Vec<_>>()).await?;
            Some(Change {
                by: c
                    .updated_by
                    .map_or_else(|| "the command line".into(), |id| names.get(&id).cloned().unwrap_or_else(|| "a deleted account".into())),
                at: crate::ssr::format_time(c.updated_at, tz),
            })
        }
        None => None,
    };
    Ok(ClientView {
        registered: client.is_some(),
        client_id: client.as_ref().map(|c| c.client_id.clone()).unwrap_or_default(),
        form: client.as_ref().map(ClientForm::of).unwrap_or_else(ClientForm::defaults),
        secret_set: client.as_ref().and_then(|c| c.secret_set_at).map(|t| crate::ssr::format_time(t, tz)),
        pending_secret: pending,
        issuer: s.public_origin.clone(),
        discovery_url: format!("{}/.well-known/openid-configuration", s.public_origin),
        updated,
    })
}

/// An application's OpenID Connect client. **Requires:** an administrator.
#[server(prefix = "/api/admin", endpoint = "client")]
pub async fn get_client(app: String) -> Result<ClientView, AppError> {
    use crate::ssr::*;
    let auth = require_admin()?;
    let s = services()?;
    let app = server::app(&s, Some(&app)).await?;
    client_view(&s, &auth, &app).await
}

/// Turns OpenID Connect on for `app`, or saves its settings. A new secret
/// (a new confidential client, or one that became confidential) is in the
/// answer, once; after a form sent without JavaScript it is kept to show on
/// the page for five minutes instead. **Requires:** an administrator with a
/// recent sign-in proof; nothing is stored unless every field is acceptable.
#[server(prefix = "/api/admin", endpoint = "client_save")]
pub async fn save_client(app: String, form: ClientForm) -> Result<ClientView, AppError> {
    let (s, auth) = server::admin_with_recent_proof().await?;
    let app = server::app(&s, Some(&app)).await?;
    let input = domain::oidc::input::ClientSettings::from(&form).check().map_err(domain::Error::InvalidFields)?;
    let now = crate::ssr::now();
    let issued = domain::oidc::clients::save(&s.ctx.db, &s.ctx.keys, &app, &input, Some(auth.user_id), now).await?;
    server::audit(&s, &auth, format!("{} OpenID Connect settings saved", app.name)).await?;
    shown_secret(&s, &auth, &app, issued.secret, "saved=client").await
}

/// Replaces the client's secret: the old one stops working at once.
/// **Requires:** an administrator with a recent sign-in proof.
#[server(prefix = "/api/admin", endpoint = "client_secret")]
pub async fn regenerate_client_secret(app: String) -> Result<ClientView, AppError> {
    let (s, auth) = server::admin_with_recent_proof().await?;
    let app = server::app(&s, Some(&app)).await?;
    let secret = domain::oidc::clients::regenerate_secret(&s.ctx.db, &s.ctx.keys, &app, Some(auth.user_id), crate::ssr::now()).await?;
    server::audit(&s, &auth, format!("{} client secret regenerated", app.name)).await?;
    shown_secret(&s, &auth, &app, Some(secret), "saved=secret").await
}

/// A new secret in the answer (with JavaScript), or kept to show on the
/// tab a plain form goes back to.
#[cfg(feature = "ssr")]
async fn shown_secret(
    s: &crate::ssr::Services,
    auth: &domain::sessions::Authenticated,
    app: &domain::apps::App,
    secret: Option<domain::oidc::clients::Secret>,
    done: &str,
) -> Result<ClientView, AppError> {
    let mut view = client_view(s, auth, app).await?;
    if let Some(secret) = secret {
        if crate::ssr::is_plain_form_post() {
            domain::oidc::clients::keep_to_show(&s.ctx.db, &s.ctx.keys, app, &secret, crate::ssr::now()).await?;
        } else {
            view.pending_secret = Some(secret.to_string());
        }
    }
    crate::ssr::redirect_plain_form(&server::page(&app.handle, &format!("tab=protocol&{done}")));
    Ok(view)
}

/// The administrator copied the secret shown after a plain form: it is no
/// longer kept. **Requires:** an administrator.
#[server(prefix = "/api/admin", endpoint = "client_secret_saved")]
pub async fn client_secret_saved(app: String) -> Result<(), AppError> {
    use crate::ssr::*;
    require_admin()?;
    let s = services()?;
    let app = server::app(&s, Some(&app)).await?;
    domain::oidc::clients::forget_shown(&s.ctx.db, app.id).await?;
    redirect_plain_form(&server::page(&app.handle, "tab=protocol"));
    Ok(())
}

/// Turns OpenID Connect off for `app`: its client id and secret stop
/// working. **Requires:** an administrator with a recent sign-in proof.
#[server(prefix = "/api/admin", endpoint = "client_remove")]
pub async fn remove_client(app: String) -> Result<(), AppError> {
    let (s, auth) = server::admin_with_recent_proof().await?;
    let app = server::app(&s, Some(&app)).await?;
    domain::oidc::clients::remove(&s.ctx.db, &app).await?;
    server::audit(&s, &auth, format!("{} OpenID Connect turned off", app.name)).await?;
    crate::ssr::redirect_plain_form(&server::page(&app.handle, "tab=protocol&saved=removed"));
    Ok(())
}
