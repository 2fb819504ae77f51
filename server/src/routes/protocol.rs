//! Machine-to-machine endpoints: no cookies, no session, no CSRF origin
//! check (their callers are not browsers acting for a signed-in person).

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;
use app::ssr::Services;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/oauth2/jwks", get(jwks))
        .merge(super::oidc::router())
}

async fn readyz(State(services): State<Services>) -> impl IntoResponse {
    match domain::db::ping(&services.ctx.db).await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database not answering")
        }
    }
}

/// The published ID token signing keys (RFC 7517), cacheable for as long as
/// rotation waits before a new key signs, and readable from any origin
/// (relying parties running in a browser fetch it too).
async fn jwks(State(services): State<Services>) -> Response {
    let ctx = &services.ctx;
    match domain::oidc::keys::jwks(&ctx.db, &ctx.keys, ctx.now()).await {
        Ok(set) => (
            [
                (header::CACHE_CONTROL, format!("public, max-age={}", domain::oidc::keys::JWKS_MAX_AGE.as_secs())),
                (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*".to_owned()),
            ],
            axum::Json(set),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the signing keys");
            (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "5")], "signing keys unavailable").into_response()
        }
    }
}
