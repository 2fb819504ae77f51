//! Prometheus metrics: served by the metrics router on a listener of its
//! own, never by the public one. The recorder is global to this test
//! binary and other tests record into it at the same time, so counts are
//! checked with `>=`.

use crate::it_test;
use crate::support::*;
use reqwest::StatusCode;
use std::net::SocketAddr;

/// Serves the metrics router of `app` on an ephemeral port of its own.
async fn metrics_listener(app: &TestApp) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = server::metrics_router(app.services.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

/// The sum of the samples of `name` whose labels include all of `labels`
/// (`None` when there is none).
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    let values: Vec<f64> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let rest = series.strip_prefix(name)?;
            (rest.is_empty() || rest.starts_with('{')).then_some(())?;
            labels.iter().all(|want| rest.contains(want)).then(|| value.parse().ok())?
        })
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

async fn metrics_count_sign_ins_hashes_limits_requests_and_sessions(app: TestApp) {
    let metrics = metrics_listener(&app).await;
    app.user("alice", false).await;
    let c = app.client();
    assert_eq!(app.login(&c, "alice", "not the password").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login(&c, "alice", TEST_PASSWORD).await.status(), StatusCode::OK);
    // A flood of setup attempts (cheap: refused before any hashing) meets its limit.
    let mut limited = false;
    for _ in 0..20 {
        let form = [
            ("token", "guessed"),
            ("username", "root"),
            ("email", "r@example.com"),
            ("password", "calm orbit velvet lantern"),
            ("confirm", "calm orbit velvet lantern"),
        ];
        let r = app.post(&c, "/api/auth/create_first_admin", &form).await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    assert!(limited, "the setup limit refused");

    let r = reqwest::get(format!("http://{metrics}/metrics")).await.expect("scrape");
    assert_eq!(r.status(), StatusCode::OK);
    let content_type = r.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = r.text().await.unwrap();
    let at_least = |name: &str, labels: &[&str], min: f64| {
        let v = sample(&text, name, labels).unwrap_or_else(|| panic!("no {name} {labels:?} in:\n{text}"));
        assert!(v >= min, "{name} {labels:?} = {v}, want at least {min}");
    };
    at_least("latchkey_sign_ins_total", &[r#"method="pwd""#, r#"outcome="success""#], 1.0);
    at_least("latchkey_sign_ins_total", &[r#"method="pwd""#, r#"outcome="failure""#], 1.0);
    at_least("latchkey_second_factor_failures_total", &[], 0.0);
    at_least("latchkey_rate_limited_total", &[r#"limit="setup_ip""#], 1.0);
    at_least("latchkey_argon2_hash_seconds_count", &[r#"op="verify""#], 2.0);
    at_least("latchkey_argon2_hash_seconds_sum", &[], f64::MIN_POSITIVE);
    at_least("latchkey_argon2_queue_wait_seconds_count", &[], 2.0);
    at_least("latchkey_http_request_duration_seconds_count", &[r#"group="api""#], 3.0);
    at_least("latchkey_http_request_duration_seconds_bucket", &[r#"group="api""#, r#"le="+Inf""#], 3.0);
    at_least("latchkey_db_pool_connections", &[r#"state="idle""#], 0.0);
    at_least("latchkey_db_pool_connections", &[r#"state="in_use""#], 0.0);
    at_least("latchkey_db_pool_max_connections", &[], 1.0);
    at_least("latchkey_mail_queue_pending", &[], 0.0);
    at_least("latchkey_mail_failures_total", &[], 0.0);
    at_least("latchkey_active_sessions", &[], 1.0);
    for name in ["latchkey_sign_ins_total", "latchkey_argon2_hash_seconds", "latchkey_active_sessions", "latchkey_rate_limited_total"] {
        assert!(text.contains(&format!("# HELP {name} ")), "help text for {name}");
    }
    assert!(text.contains("# TYPE latchkey_argon2_hash_seconds histogram"), "a histogram, not a summary");
}
it_test!(metrics_count_sign_ins_hashes_limits_requests_and_sessions);

/// Threat: metrics (account activity, load) leaking to the internet. The
/// public listener never serves them, even with the recorder installed.
async fn the_public_router_has_no_metrics(app: TestApp) {
    let metrics = metrics_listener(&app).await;
    let c = app.client();
    let r = app.get(&c, "/metrics").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(!r.text().await.unwrap().contains("# TYPE"), "no metrics in the body");
    // The metrics router serves nothing else.
    let other = reqwest::get(format!("http://{metrics}/healthz")).await.unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}
it_test!(the_public_router_has_no_metrics);
