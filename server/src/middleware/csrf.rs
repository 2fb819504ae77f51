//! Refuses state-changing requests from other sites: the `Origin` header (or,
//! without it, the `Referer`) must be this server's public origin. Together
//! with `SameSite=Lax` cookies this stops cross-site request forgery.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{ORIGIN, REFERER};
use http::{Method, StatusCode};
use std::sync::Arc;

use crate::state::Web;

pub async fn refuse_cross_site(State(web): State<Arc<Web>>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    if same_origin(&web.public_origin, req.headers()) {
        next.run(req).await
    } else {
        tracing::warn!(path = %req.uri().path(), "cross-site request refused");
        refusal()
    }
}

fn same_origin(origin: &str, headers: &http::HeaderMap) -> bool {
    if let Some(o) = headers.get(ORIGIN) {
        return o.as_bytes() == origin.as_bytes();
    }
    headers
        .get(REFERER)
        .and_then(|r| r.to_str().ok())
        .is_some_and(|r| r.strip_prefix(origin).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

fn refusal() -> Response {
    let body = app::error::AppError::Refused("This request came from another site and was refused.".into());
    (StatusCode::FORBIDDEN, [(http::header::CONTENT_TYPE, "application/json")], serde_json::to_string(&body).unwrap_or_default())
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};

    fn headers(pairs: &[(http::HeaderName, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (k.clone(), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn only_the_public_origin_passes() {
        let o = "http://localhost:3000";
        assert!(same_origin(o, &headers(&[(ORIGIN, "http://localhost:3000")])));
        assert!(!same_origin(o, &headers(&[(ORIGIN, "http://localhost:3000.evil.example")])));
        assert!(!same_origin(o, &headers(&[(ORIGIN, "null")])));
        assert!(!same_origin(o, &headers(&[(ORIGIN, "https://evil.example"), (REFERER, "http://localhost:3000/")])));
        assert!(same_origin(o, &headers(&[(REFERER, "http://localhost:3000/login")])));
        assert!(!same_origin(o, &headers(&[(REFERER, "http://localhost:30001/login")])));
        assert!(!same_origin(o, &headers(&[])));
    }
}
