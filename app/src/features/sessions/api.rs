use leptos::prelude::*;

use super::types::*;
use crate::error::AppError;

#[cfg(feature = "ssr")]
fn parse_id(id: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)
}

/// Browser and system from a User-Agent header.
#[cfg(feature = "ssr")]
fn describe_agent(agent: Option<&str>) -> (String, String) {
    let parser = woothee::parser::Parser::new();
    match agent.and_then(|a| parser.parse(a)) {
        Some(r) => {
            let known = |s: &str| !s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN;
            let browser = if known(r.name) {
                if known(r.version) { format!("{} {}", r.name, r.version.split('.').next().unwrap_or_default()) } else { r.name.to_owned() }
            } else {
                "Unknown browser".to_owned()
            };
            let os_version = r.os_version.to_string();
            let os = if known(r.os) {
                if known(&os_version) && os_version.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                    format!("{} {os_version}", r.os)
                } else {
                    r.os.to_owned()
                }
            } else {
                "Unknown system".to_owned()
            };
            (browser, os)
        }
        None => ("Unknown browser".into(), "Unknown system".into()),
    }
}

/// The person's live sessions, this one first.
/// **Requires:** a session.
#[server(prefix = "/api/sessions", endpoint = "list")]
pub async fn get_sessions() -> Result<Vec<SessionInfo>, AppError> {
    use crate::ssr::*;
    let (auth, s) = require_account_user().await?;
    let now = s.ctx.now();
    let user = domain::users::get(&s.ctx.db, auth.user_id).await?;
    let tz = user.time_zone.as_deref();
    let mut list: Vec<SessionInfo> = domain::sessions::active(&s.ctx.db, auth.user_id, now)
        .await?
        .into_iter()
        .map(|row| {
            let (browser, os) = describe_agent(row.user_agent.as_deref());
            let amr: Vec<String> = serde_json::from_str(&row.amr).unwrap_or_default();
            SessionInfo {
                id: row.id.to_string(),
                browser,
                os,
                ip: row.ip,
                started: format_time(row.created_at, tz),
                last_active: ago(now, row.last_seen_at),
                methods: methods_label(&amr),
                current: row.id == auth.session_id,
            }
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
    domain::sessions::revoke_own(&s.ctx.db, auth.user_id, id, s.ctx.now()).await?;
    tracing::info!(user = %auth.user_id, session = %id, "session ended by its owner");
    if id == auth.session_id {
        set_cookie(&s.cookie.clear());
        return Ok(Some(crate::routes::LOGIN.to_owned()));
    }
    Ok(None)
}

/// Ends every session of the person except this one; returns how many ended.
/// **Requires:** a session.
#[server(prefix = "/api/sessions", endpoint = "revoke_others")]
pub async fn revoke_other_sessions() -> Result<u64, AppError> {
    use crate::ssr::*;
    let (auth, s) = require_account_user().await?;
    let n = domain::sessions::revoke_others(&s.ctx.db, auth.user_id, auth.session_id, s.ctx.now()).await?;
    tracing::info!(user = %auth.user_id, ended = n, "other sessions ended by their owner");
    Ok(n)
}
