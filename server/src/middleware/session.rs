//! Finds the request's session (one indexed lookup; expired and revoked
//! sessions are refused on the very next request) and guards the pages:
//! My Account needs a session, and the sign-in page sends signed-in people on.

use app::routes;
use app::ssr::{RequestSession, RequestTime};
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use domain::ClientMeta;
use http::header::{SET_COOKIE, USER_AGENT};
use http::{HeaderValue, Method};
use std::net::SocketAddr;

use crate::state::AppState;

pub async fn resolve_session(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let meta = client_meta(&state, &req);
    let cookie = state.services.cookie;
    let token = cookie.read(req.headers());
    let ctx = &state.services.ctx;
    let now = ctx.now();
    let auth = match &token {
        Some(t) => match domain::sessions::resolve(&ctx.db, t, &ctx.policy, now).await {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                return (http::StatusCode::SERVICE_UNAVAILABLE, "The database is not answering; try again shortly.").into_response();
            }
        },
        None => None,
    };
    let stale_cookie = token.is_some() && auth.is_none();
    req.extensions_mut().insert(RequestSession { auth: auth.clone(), token });
    req.extensions_mut().insert(meta);
    req.extensions_mut().insert(RequestTime(now));

    let path = req.uri().path().to_owned();
    let is_page_load = req.method() == Method::GET;
    let needs_session = path == routes::ACCOUNT || path.starts_with("/myaccount/") || path == routes::OIDC_CONTINUE;
    if is_page_load && auth.is_none() && needs_session {
        let here = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or(path);
        return Redirect::to(&routes::login_with_next(&here)).into_response();
    }
    if is_page_load && auth.is_some() && path == routes::LOGIN {
        let next = req.uri().query().and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("next=")).map(percent_decode));
        return Redirect::to(&routes::safe_next(next.as_deref())).into_response();
    }

    let mut res = next.run(req).await;
    if stale_cookie
        && !res.headers().contains_key(SET_COOKIE)
        && let Ok(v) = HeaderValue::from_str(&cookie.clear())
    {
        res.headers_mut().append(SET_COOKIE, v);
    }
    res
}

fn client_meta(state: &AppState, req: &Request) -> ClientMeta {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    ClientMeta {
        ip: client_ip(&state.web, req.headers(), peer),
        user_agent: req.headers().get(USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
    }
}

/// The caller's address: the trusted proxy's word when there is one
/// (`LATCHKEY_TRUST_PROXY`), otherwise the connection's peer.
pub fn client_ip(web: &crate::state::Web, headers: &http::HeaderMap, peer: Option<std::net::IpAddr>) -> Option<String> {
    let forwarded = web.trust_proxy.then(|| forwarded_for(headers)).flatten();
    forwarded.or(peer.map(|p| p.to_string()))
}

/// The address the trusted proxy saw: the right-most entry of the *last*
/// `X-Forwarded-For` line. Everything left of it, and every earlier line,
/// came from the client and may be forged.
fn forwarded_for(headers: &http::HeaderMap) -> Option<String> {
    let last = headers.get_all("x-forwarded-for").iter().next_back()?.to_str().ok()?;
    let ip = last.rsplit(',').next()?.trim();
    ip.parse::<std::net::IpAddr>().is_ok().then(|| ip.to_owned())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::{forwarded_for, percent_decode};
    use http::{HeaderMap, HeaderValue};

    /// Threat: IP spoofing past per-IP limits. A client may send its own
    /// `X-Forwarded-For` line; the proxy appends (or adds a line) after it,
    /// so only the right-most entry of the last line is the proxy's word.
    #[test]
    fn the_proxy_address_is_the_last_entry_of_the_last_line() {
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", HeaderValue::from_static("203.0.113.66"));
        h.append("x-forwarded-for", HeaderValue::from_static("198.51.100.1, 192.0.2.7"));
        assert_eq!(forwarded_for(&h).as_deref(), Some("192.0.2.7"));
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", HeaderValue::from_static("192.0.2.7, not-an-ip"));
        assert_eq!(forwarded_for(&h), None);
        assert_eq!(forwarded_for(&HeaderMap::new()), None);
    }

    #[test]
    fn decodes_query_values() {
        assert_eq!(percent_decode("/myaccount%2Fpersonal-info"), "/myaccount/personal-info");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("a+b"), "a b");
    }
}
