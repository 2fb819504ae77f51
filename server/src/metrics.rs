//! Prometheus metrics, served on a listen address of their own
//! (`LATCHKEY_METRICS_LISTEN`) so they are never public by accident. The
//! services record through the `metrics` facade ([`domain::metrics`]); this
//! module installs the exporter, times requests by route group, and computes
//! a few gauges when Prometheus scrapes.

use app::ssr::Services;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::{Unit, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sea_orm::{DatabaseConnection, DbBackend};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const REQUEST_SECONDS: &str = "latchkey_http_request_duration_seconds";
const DB_POOL_CONNECTIONS: &str = "latchkey_db_pool_connections";
const DB_POOL_MAX: &str = "latchkey_db_pool_max_connections";
const MAIL_PENDING: &str = "latchkey_mail_queue_pending";
const ACTIVE_SESSIONS: &str = "latchkey_active_sessions";

/// Histogram buckets in seconds, for every histogram: from a cached file
/// (1 ms) to a request stuck behind a queue of password hashes (10 s).
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The process-wide recorder, installed on first use; `None` when another
/// recorder was installed first. Until it is installed, recording is a no-op.
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| match PrometheusBuilder::new().set_buckets(BUCKETS).and_then(PrometheusBuilder::install_recorder) {
            Ok(handle) => {
                describe();
                Some(handle)
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot install the metrics recorder");
                None
            }
        })
        .as_ref()
}

fn describe() {
    domain::metrics::describe();
    describe_histogram!(
        REQUEST_SECONDS,
        Unit::Seconds,
        "Time to answer an HTTP request (up to the response head), by route group (pages, api, pkg, health, other)."
    );
    describe_gauge!(DB_POOL_CONNECTIONS, "Open database pool connections, by state (in_use, idle).");
    describe_gauge!(DB_POOL_MAX, "Most connections the database pool opens.");
    describe_gauge!(MAIL_PENDING, "Messages waiting in the mail outbox (not given up on).");
    describe_gauge!(ACTIVE_SESSIONS, "Sessions alive now (not signed out, revoked or expired).");
}

/// The metrics listener's router: only `GET /metrics`. Installs the recorder.
pub fn router(services: Services) -> Router {
    handle();
    Router::new().route("/metrics", get(scrape)).with_state(services)
}

async fn scrape(State(services): State<Services>) -> Response {
    let Some(handle) = handle() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "metrics recorder not installed").into_response();
    };
    record_gauges(&services.ctx).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
}

/// Gauges read at scrape time: the pool (before this scrape's own queries
/// take a connection), then one COUNT each for sessions and mail.
async fn record_gauges(ctx: &domain::Ctx) {
    if let Some((open, idle, max)) = pool_use(&ctx.db) {
        gauge!(DB_POOL_CONNECTIONS, "state" => "in_use").set(open.saturating_sub(idle) as f64);
        gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(idle as f64);
        gauge!(DB_POOL_MAX).set(max as f64);
    }
    match domain::sessions::count_active(&ctx.db, ctx.now()).await {
        Ok(n) => gauge!(ACTIVE_SESSIONS).set(n as f64),
        Err(e) => tracing::warn!(error = %e, "metrics: counting active sessions failed"),
    }
    match domain::mail::count_pending(&ctx.db).await {
        Ok(n) => gauge!(MAIL_PENDING).set(n as f64),
        Err(e) => tracing::warn!(error = %e, "metrics: counting queued mail failed"),
    }
}

/// Open, idle and most connections of the database pool.
fn pool_use(db: &DatabaseConnection) -> Option<(usize, usize, usize)> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            let p = db.get_sqlite_connection_pool();
            Some((p.size() as usize, p.num_idle(), p.options().get_max_connections() as usize))
        }
        DbBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            Some((p.size() as usize, p.num_idle(), p.options().get_max_connections() as usize))
        }
        _ => None,
    }
}

/// Drains recorded histogram samples into their buckets between scrapes,
/// so memory stays flat however rarely Prometheus comes. Runs forever.
pub async fn upkeep() {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        if let Some(handle) = handle() {
            handle.run_upkeep();
        }
    }
}

/// Middleware: times each request by route group (a few fixed labels,
/// never the path itself).
pub async fn time_requests(req: Request, next: Next) -> Response {
    let group = route_group(req.uri().path());
    let started = Instant::now();
    let response = next.run(req).await;
    histogram!(REQUEST_SECONDS, "group" => group).record(started.elapsed().as_secs_f64());
    response
}

fn route_group(path: &str) -> &'static str {
    use app::routes::{ACCOUNT, ADMIN, FORGOT_PASSWORD, LOGIN, RESET_PASSWORD, SETUP, VERIFY_EMAIL};
    let under = |prefix: &str| path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    if under("/api") {
        "api"
    } else if under("/pkg") || path == "/favicon.ico" {
        "pkg"
    } else if path == "/healthz" || path == "/readyz" {
        "health"
    } else if path == "/" || [LOGIN, ACCOUNT, SETUP, FORGOT_PASSWORD, RESET_PASSWORD, VERIFY_EMAIL, ADMIN].into_iter().any(under) {
        "pages"
    } else {
        "other"
    }
}

#[cfg(test)]
mod tests {
    use super::route_group;

    #[test]
    fn paths_fall_into_a_few_groups() {
        for (path, group) in [
            ("/api/auth/login", "api"),
            ("/pkg/frontend.wasm", "pkg"),
            ("/favicon.ico", "pkg"),
            ("/healthz", "health"),
            ("/", "pages"),
            ("/login/verify", "pages"),
            ("/myaccount/security", "pages"),
            ("/apiary", "other"),
            ("/metrics", "other"),
        ] {
            assert_eq!(route_group(path), group, "{path}");
        }
    }
}
