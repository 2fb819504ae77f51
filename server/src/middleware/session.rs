//! Finds the request's session (one indexed lookup; expired and revoked
//! sessions are refused on the very next request) and guards the pages:
//! My Account needs a session, and the sign-in page sends signed-in people on.

use app::routes;
use app::ssr::RequestSession;
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
    let auth = match &token {
        Some(t) => match domain::sessions::resolve(&ctx.db, t, &ctx.policy, ctx.now()).await {
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

    let path = req.uri().path().to_owned();
    let is_page_load = req.method() == Method::GET;
    if is_page_load && auth.is_none() && (path == routes::ACCOUNT || path.starts_with("/myaccount/")) {
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
    let forwarded = state
        .web
        .trust_proxy
        .then(|| req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()))
        .flatten()
        .and_then(|v| v.rsplit(',').next())
        .map(|ip| ip.trim().to_owned())
        .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok());
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    ClientMeta { ip: forwarded.or(peer), user_agent: req.headers().get(USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned) }
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
    use super::percent_decode;

    #[test]
    fn decodes_query_values() {
        assert_eq!(percent_decode("/myaccount%2Fpersonal-info"), "/myaccount/personal-info");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("a+b"), "a b");
    }
}
