//! Security headers on every response; a Content-Security-Policy with a fresh
//! nonce on every HTML page (Leptos puts the nonce on its inline hydration
//! script, so no other inline script can run).

use app::ssr::CspNonce;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue};
use rand::RngCore as _;
use std::sync::Arc;

use crate::state::Web;

pub async fn security_headers(State(web): State<Arc<Web>>, mut req: Request, next: Next) -> Response {
    let mut bytes = [0u8; 18];
    rand::thread_rng().fill_bytes(&mut bytes);
    let nonce = base64::engine::general_purpose::STANDARD.encode(bytes);
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let is_static = req.uri().path().starts_with("/pkg/");

    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let is_html = h.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    if is_html {
        let csp = format!(
            "default-src 'none'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
             img-src 'self' https: data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        );
        if let Ok(v) = HeaderValue::from_str(&csp) {
            h.insert(HeaderName::from_static("content-security-policy"), v);
        }
    }
    h.insert(HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff"));
    h.insert(HeaderName::from_static("referrer-policy"), HeaderValue::from_static("same-origin"));
    h.insert(HeaderName::from_static("x-frame-options"), HeaderValue::from_static("DENY"));
    h.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    if web.https {
        h.insert(HeaderName::from_static("strict-transport-security"), HeaderValue::from_static("max-age=63072000; includeSubDomains"));
    }
    if !is_static && !h.contains_key(CACHE_CONTROL) {
        // Account pages and API answers carry personal data.
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
