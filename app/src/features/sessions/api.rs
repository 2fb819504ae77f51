use leptos::prelude::*;

use super::types::*;
use crate::error::AppError;

#[cfg(feature = "ssr")]
fn parse_id(id: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)
}

/// The person's live sessions, this one first.
/// **Requires:** a session.
#[server(prefix = "/api/sessions", endpoint = "list")]
pub async fn get_sessions() -> Result<Vec<SessionInfo>, AppError> {
    use crate::ssr::*;
    let (auth, s) = require_account_user().await?;
    let now = crate::ssr::now();
    let tz = auth.user.time_zone.as_deref();
    let rows = domain::sessions::active(&s.ctx.db, auth.user_id, now).await?;
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
    let mut apps = domain::oidc::grants::apps_of_sessions(&s.ctx.db, &ids).await?;
    let mut list: Vec<SessionInfo> = rows
        .into_iter()
        .map(|row| {
            let apps = apps.remove(&row.id).unwrap_or_default();
            SessionInfo { apps, ..SessionInfo::seen(row, auth.session_id, tz, now) }
        })
        .collect();
    list.sort_by_key(|s| !s.current);
    Ok(list)
}

/// Ends one of the person's sessions; ending this one signs this browser out
/// (the answer is then the sign-in page's address).
/// **Requires:** a session.
#[server(prefix = "/api/sessions", endpoint = "revoke")]
pub async fn revoke_session(id: String) -> Result<Option<String>, AppError> {
    use crate::ssr::*;
    let (auth, s) = require_account_user().await?;
    let id = parse_id(&id)?;
    let now = crate::ssr::now();
    domain::sessions::revoke_own(&s.ctx.db, auth.user_id, id, now).await?;
    tracing::info!(event = "session_revoked", user = %auth.user_id, session = %id, "session ended by its owner");
    let kind = if id == auth.session_id { domain::events::Kind::SignedOut } else { domain::events::Kind::SessionRevoked };
    domain::events::record(&s.ctx.db, auth.user_id, kind, None, None, &client_meta(), now).await?;
    if id == auth.session_id {
        set_cookie(&s.cookie.clear());
        redirect_plain_form(crate::routes::LOGIN);
        return Ok(Some(crate::routes::LOGIN.to_owned()));
    }
    redirect_plain_form(&format!("{}?ended=one", crate::routes::SESSIONS));
    Ok(None)
}

/// Ends every session of the person except this one; returns how many ended.
/// **Requires:** a session.
#[server(prefix = "/api/sessions", endpoint = "revoke_others")]
pub async fn revoke_other_sessions() -> Result<u64, AppError> {
    use crate::ssr::*;
    let (auth, s) = require_account_user().await?;
    let now = crate::ssr::now();
    let n = domain::sessions::revoke_others(&s.ctx.db, auth.user_id, auth.session_id, now).await?;
    // Every other browser becomes a new device again; this one stays known.
    domain::devices::forget_all(&s.ctx.db, auth.user_id).await?;
    if read_cookie(s.cookie.device()).is_some() {
        crate::features::auth::api::remember_this_browser(&s, auth.user_id).await?;
    }
    tracing::info!(event = "session_revoked", user = %auth.user_id, ended = n, "other sessions ended by their owner");
    redirect_plain_form(&format!("{}?ended={n}", crate::routes::SESSIONS));
    let detail = Some(format!("{n} other sessions"));
    domain::events::record(&s.ctx.db, auth.user_id, domain::events::Kind::SessionRevoked, None, detail, &client_meta(), now).await?;
    Ok(n)
}
