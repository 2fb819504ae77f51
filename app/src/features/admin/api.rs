use leptos::prelude::*;

use super::types::*;
use crate::error::AppError;

/// My Account's description in the console.
pub const MY_ACCOUNT_DESCRIPTION: &str =
    "The self-service portal where people manage their profile, sign-in methods and security. Built in.";

#[cfg(feature = "ssr")]
mod server {
    use super::*;
    use crate::ssr::*;
    use domain::flows::{MY_ACCOUNT, StoredFlow};

    /// An administrator with a recent sign-in proof: what every change needs.
    /// Console changes need two factors: a password alone must not be
    /// enough to change how everyone signs in.
    pub async fn admin_with_recent_proof() -> Result<(Services, domain::sessions::Authenticated), AppError> {
        let auth = require_admin()?;
        let s = services()?;
        if !auth.is_multi_factor() {
            tracing::warn!(event = "access_denied", user = %auth.user_id, reason = "admin_without_second_factor", "console change refused");
            return Err(AppError::Refused(NEEDS_TWO_FACTORS.into()));
        }
        domain::reauth::require_recent(&s.ctx, &auth, s.ctx.now())?;
        Ok((s, auth))
    }

    /// Records an instance-wide change: a security log line, and an entry
    /// in the administrator's own activity.
    pub async fn audit(s: &Services, auth: &domain::sessions::Authenticated, what: String) -> Result<(), AppError> {
        tracing::info!(event = "admin_change", user = %auth.user_id, change = %what, "console setting changed");
        let kind = domain::events::Kind::AdminChange;
        domain::events::record(&s.ctx.db, auth.user_id, kind, None, Some(what), &client_meta(), s.ctx.now()).await?;
        Ok(())
    }

    /// The admin's own time zone, for the times the console shows.
    async fn admin_time_zone(s: &Services, auth: &domain::sessions::Authenticated) -> Result<Option<String>, AppError> {
        Ok(domain::users::get(&s.ctx.db, auth.user_id).await?.time_zone)
    }

    pub async fn my_account_summary(s: &Services) -> Result<(AppSummary, domain::apps::PortalState), AppError> {
        let state = domain::apps::my_account(&s.ctx.db).await?;
        let summary = AppSummary {
            id: MY_ACCOUNT.into(),
            name: "My Account".into(),
            description: MY_ACCOUNT_DESCRIPTION.into(),
            access_url: format!("{}{}", s.public_origin, crate::routes::ACCOUNT),
            enabled: state.enabled,
            built_in: true,
        };
        Ok((summary, state))
    }

    pub async fn my_account_app(s: &Services, auth: &domain::sessions::Authenticated) -> Result<MyAccountApp, AppError> {
        let tz = admin_time_zone(s, auth).await?;
        let tz = tz.as_deref();
        let (app, state) = my_account_summary(s).await?;
        let names = domain::users::usernames(&s.ctx.db, &state.changed_by.into_iter().collect::<Vec<_>>()).await?;
        let switched = state.changed_at.map(|at| Change {
            by: state.changed_by.and_then(|id| names.get(&id).cloned()).unwrap_or_else(|| "a deleted account".into()),
            at: format_time(at, tz),
        });
        Ok(MyAccountApp { app, switched })
    }

    /// Saves a new version of My Account's login flow (see `update_login_flow`).
    pub async fn save_flow(
        (s, auth): (Services, domain::sessions::Authenticated),
        base_version: i32,
        flow: &proto::flow::Flow,
        confirm_blocked: Option<u64>,
    ) -> Result<LoginFlowInfo, AppError> {
        domain::flows::update(&s.ctx.db, MY_ACCOUNT, base_version, flow, auth.user_id, confirm_blocked, s.ctx.now()).await?;
        audit(&s, &auth, "My Account login flow saved".into()).await?;
        flow_info(&s, &auth).await
    }

    pub async fn flow_info(s: &Services, auth: &domain::sessions::Authenticated) -> Result<LoginFlowInfo, AppError> {
        let tz = admin_time_zone(s, auth).await?;
        let tz = tz.as_deref();
        let db = &s.ctx.db;
        let current = domain::flows::current(db, MY_ACCOUNT).await?;
        let mut saved = domain::flows::history(db, MY_ACCOUNT).await?;
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
}

/// The applications people sign in to, My Account first.
/// **Requires:** an administrator.
#[server(prefix = "/api/admin", endpoint = "applications")]
pub async fn list_applications() -> Result<Vec<AppSummary>, AppError> {
    use crate::ssr::*;
    require_admin()?;
    let (my_account, _) = server::my_account_summary(&services()?).await?;
    Ok(vec![my_account])
}

/// My Account's configuration page. **Requires:** an administrator.
#[server(prefix = "/api/admin", endpoint = "myaccount")]
pub async fn get_my_account_app() -> Result<MyAccountApp, AppError> {
    use crate::ssr::*;
    let auth = require_admin()?;
    let s = services()?;
    server::my_account_app(&s, &auth).await
}

/// Switches My Account on or off, at once, for everyone.
/// **Requires:** an administrator with a recent sign-in proof.
#[server(prefix = "/api/admin", endpoint = "myaccount_enabled")]
pub async fn set_my_account_enabled(enabled: bool) -> Result<MyAccountApp, AppError> {
    let (s, auth) = server::admin_with_recent_proof().await?;
    domain::apps::set_my_account_enabled(&s.ctx.db, enabled, auth.user_id, s.ctx.now()).await?;
    server::audit(&s, &auth, format!("My Account {}", if enabled { "enabled" } else { "disabled" })).await?;
    let back = format!("{}/myaccount?tab=danger-zone&switched={}", crate::routes::ADMIN_APPLICATIONS, if enabled { "on" } else { "off" });
    crate::ssr::redirect_plain_form(&back);
    server::my_account_app(&s, &auth).await
}

/// My Account's login flow and its saved versions.
/// **Requires:** an administrator.
#[server(prefix = "/api/admin", endpoint = "login_flow")]
pub async fn get_login_flow() -> Result<LoginFlowInfo, AppError> {
    use crate::ssr::*;
    let auth = require_admin()?;
    let s = services()?;
    server::flow_info(&s, &auth).await
}

/// Saves a new version of My Account's login flow (JSON of
/// `proto::flow::Flow`), for the next sign-in. `base_version` is the version
/// the editor started from. **Requires:** an administrator with a recent
/// sign-in proof. Stores nothing unless the flow is valid, current and
/// completable by at least one administrator; a flow that would stop people
/// from signing in is refused with their number (`WouldBlock`) unless
/// `confirm_blocked` is that number.
#[server(prefix = "/api/admin", endpoint = "login_flow_update")]
pub async fn update_login_flow(base_version: i32, definition: String, confirm_blocked: Option<u64>) -> Result<LoginFlowInfo, AppError> {
    let admin = server::admin_with_recent_proof().await?;
    let flow = domain::flows::parse_definition(&definition)?;
    server::save_flow(admin, base_version, &flow, confirm_blocked).await
}

/// Saves My Account's login flow from the form without JavaScript: `steps`
/// are its rows (`PlainStep`), otherwise as `login_flow_update`; answers
/// with a redirect to the Login Flow tab.
#[server(prefix = "/api/admin", endpoint = "login_flow_form")]
pub async fn save_login_flow_form(base_version: i32, steps: Vec<PlainStep>, confirm_blocked: Option<u64>) -> Result<(), AppError> {
    let admin = server::admin_with_recent_proof().await?;
    let flow = PlainStep::flow(&steps).map_err(|e| AppError::Invalid(vec![e]))?;
    let saved = server::save_flow(admin, base_version, &flow, confirm_blocked).await?;
    crate::ssr::redirect_plain_form(&format!("{}?tab=login-flow&saved={}", crate::routes::ADMIN_MY_ACCOUNT, saved.version));
    Ok(())
}

/// Makes an earlier version (0: the built-in default) the flow in force, as
/// a new version. **Requires:** an administrator with a recent sign-in proof.
#[server(prefix = "/api/admin", endpoint = "login_flow_restore")]
pub async fn restore_login_flow(base_version: i32, version: i32, confirm_blocked: Option<u64>) -> Result<LoginFlowInfo, AppError> {
    let (s, auth) = server::admin_with_recent_proof().await?;
    let db = &s.ctx.db;
    domain::flows::restore(db, domain::flows::MY_ACCOUNT, version, base_version, auth.user_id, confirm_blocked, s.ctx.now()).await?;
    server::audit(&s, &auth, format!("My Account login flow version {version} restored")).await?;
    let info = server::flow_info(&s, &auth).await?;
    crate::ssr::redirect_plain_form(&format!("{}?tab=login-flow&restored={}", crate::routes::ADMIN_MY_ACCOUNT, info.version));
    Ok(info)
}

/// Who is using the console (for its header). **Requires:** an administrator.
#[server(prefix = "/api/admin", endpoint = "me")]
pub async fn get_admin_me() -> Result<AdminMe, AppError> {
    use crate::ssr::*;
    let auth = require_admin()?;
    let u = domain::users::get(&services()?.ctx.db, auth.user_id).await?;
    Ok(AdminMe { name: u.display_name.unwrap_or(u.username), multi_factor: auth.is_multi_factor() })
}
