//! Machine-to-machine endpoints: no cookies, no session, no CSRF origin
//! check (their callers are not browsers acting for a signed-in person).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::state::AppState;
use app::ssr::Services;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(|| async { "ok" })).route("/readyz", get(readyz))
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
