//! The Latchkey server: configuration, the axum router around the Leptos app,
//! and start-up (database, migrations, first-administrator link).

pub mod cli;
pub mod config;
pub mod metrics;
pub mod middleware;
pub mod routes;
pub mod state;

use app::ssr::{Services, SessionCookie};
use axum::Router;
use axum::http::StatusCode;
use domain::clock::Clock;
use leptos::config::LeptosOptions;
use std::sync::Arc;
use std::time::Duration;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;

pub use config::Config;
use state::{AppState, Web};

pub use middleware::body_limit::{MAX_BODY_BYTES, MAX_UPLOAD_BODY_BYTES, body_limit};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database {url}: {source}")]
    Database { url: String, source: sea_orm::DbErr },
    #[error("cannot apply database migrations: {0}")]
    Migrate(sea_orm::DbErr),
    #[error("{0}")]
    Key(String),
}

/// A built server: the router, and the services behind it (tests use them).
pub struct Built {
    pub router: Router,
    pub services: Services,
    /// Sends queued mail once started with [`domain::mail::run`] (by `serve`,
    /// not by one-shot CLI commands, which must not take a server's mail).
    pub mail: domain::mail::Sender,
}

/// Connects to the database, applies migrations and builds the router.
pub async fn build(config: &Config, clock: Arc<dyn Clock>) -> Result<Built, StartError> {
    let keys = config.keys().map_err(StartError::Key)?;
    let db = domain::db::connect(&config.database_url)
        .await
        .map_err(|source| StartError::Database { url: redact_url(&config.database_url), source })?;
    domain::db::migrate(&db).await.map_err(StartError::Migrate)?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let hasher = domain::crypto::PasswordHasher::new(config.hash_concurrency.unwrap_or(cores));
    let webauthn = domain::passkeys::relying_party(&config.public_url.origin).map_err(|e| StartError::Key(e.to_string()))?;
    let sender = config.mail_sender().map_err(StartError::Key)?;
    let ctx = domain::Ctx::new(db, clock, hasher, config.policy(), keys, webauthn).with_origin(&config.public_url.origin);
    match &config.smtp_host {
        Some(host) => tracing::info!(host = %host, port = config.smtp_port, "mail goes out through SMTP"),
        None => {
            tracing::info!(outbox = %config.mail_outbox.display(), "no SMTP server set (LATCHKEY_SMTP_HOST): mail is written as .eml files")
        }
    }
    let services =
        Services { ctx, cookie: SessionCookie::for_https(config.public_url.https), public_origin: config.public_url.origin.clone() };
    let web =
        Arc::new(Web { public_origin: config.public_url.origin.clone(), https: config.public_url.https, trust_proxy: config.trust_proxy });
    let leptos_options = LeptosOptions::builder()
        .output_name("frontend")
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(config.listen)
        .build();
    let state = AppState { leptos_options, services: services.clone(), web };
    Ok(Built { router: router(state), services, mail: sender })
}

/// The whole HTTP surface: the browser router and the protocol router side
/// by side (see [`routes`]), under the layers every response gets.
fn router(state: AppState) -> Router {
    Router::new()
        .merge(routes::protocol::router())
        .merge(routes::browser::router(&state))
        .with_state(state.clone())
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn_with_state(state.web.clone(), middleware::headers::security_headers))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .layer(axum::middleware::from_fn(metrics::time_requests))
        // One log line per request: method, path (never the query, which may
        // hold tokens), status and latency. Headers (cookies) are never logged.
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(|req: &http::Request<axum::body::Body>| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_response(|res: &http::Response<axum::body::Body>, latency: Duration, _: &tracing::Span| {
                    tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_millis() as u64, "response");
                }),
        )
}

/// The router of the metrics listener (`LATCHKEY_METRICS_LISTEN`): only
/// `GET /metrics`, in the Prometheus text format. The first call installs
/// the process-wide recorder; the public router never serves `/metrics`.
pub fn metrics_router(services: Services) -> Router {
    metrics::router(services)
}

/// A database URL with any password removed, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..s + 3], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// Logs the one-time setup link when there is no account yet.
pub async fn announce_setup(services: &Services, public_origin: &str) -> Result<(), domain::Error> {
    if let Some(token) = domain::setup::issue_token_if_needed(&services.ctx, services.ctx.now()).await? {
        let minutes = services.ctx.policy.setup_token_ttl.as_secs() / 60;
        tracing::warn!(
            "No administrator exists yet. Open {public_origin}{}?token={token} within {minutes} minutes to create one \
             (the link works once; or run `latchkey admin create`).",
            app::routes::SETUP
        );
    }
    Ok(())
}

/// glibc raises its mmap threshold after the first large free, after which
/// argon2's 19 MiB working areas come from per-thread heaps that are seldom
/// returned to the system. A fixed threshold keeps them as mmap/munmap, so
/// memory used for hashing is given back as soon as a hash is done.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called once at start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Runs the server until Ctrl-C or SIGTERM.
pub async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let started = std::time::Instant::now();
    let built = build(&config, Arc::new(domain::clock::SystemClock)).await?;
    announce_setup(&built.services, &config.public_url.origin).await?;
    if let Some(addr) = config.metrics_listen {
        let listener =
            tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr} (LATCHKEY_METRICS_LISTEN): {e}"))?;
        let router = metrics_router(built.services.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
        tokio::spawn(metrics::upkeep());
        tracing::info!(listen = %addr, "Prometheus metrics are served at /metrics");
    }
    let ctx = built.services.ctx.clone();
    // Sends queued mail after each commit that queues some, and retries failures.
    tokio::spawn(domain::mail::run(ctx.clone(), built.mail));
    tokio::spawn(async move {
        // Housekeeping: forget idle rate-limit keys (memory and database), and delete expired
        // ceremonies and half-finished sign-ins (they are refused anyway).
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            ctx.limits.retain_recent();
            let now = ctx.now();
            if let Err(e) = domain::ratelimit::purge_shared(&ctx.db, now).await {
                tracing::warn!(error = %e, "purging full rate-limit buckets failed");
            }
            if let Err(e) = domain::ceremonies::purge_expired(&ctx.db, now).await {
                tracing::warn!(error = %e, "purging expired ceremonies failed");
            }
            if let Err(e) = domain::signin::purge_expired(&ctx.db, now).await {
                tracing::warn!(error = %e, "purging expired sign-ins failed");
            }
            if let Err(e) = domain::tokens::purge_expired(&ctx.db, now).await {
                tracing::warn!(error = %e, "purging expired email links failed");
            }
            if let Err(e) = domain::devices::purge_expired(&ctx.db, now).await {
                tracing::warn!(error = %e, "purging expired known devices failed");
            }
        }
    });
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {} (LATCHKEY_LISTEN): {e}", config.listen))?;
    tracing::info!(
        listen = %config.listen,
        public_url = %config.public_url.origin,
        database = %redact_url(&config.database_url),
        startup_ms = started.elapsed().as_millis() as u64,
        "Latchkey is ready"
    );
    axum::serve(listener, built.router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// Sets up logging: human-readable or JSON, filtered by `RUST_LOG`.
/// Logs go to stdout for the server, and to stderr for one-shot commands
/// (`to_stderr`), whose stdout is their answer (JSON for `app` and `keys`).
pub fn init_logging(format: config::LogFormat, to_stderr: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    match (format, to_stderr) {
        (config::LogFormat::Human, false) => builder.init(),
        (config::LogFormat::Human, true) => builder.with_writer(std::io::stderr).init(),
        (config::LogFormat::Json, false) => builder.json().flatten_event(true).init(),
        (config::LogFormat::Json, true) => builder.json().flatten_event(true).with_writer(std::io::stderr).init(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u@h:5432/db");
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
