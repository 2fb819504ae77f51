//! Session lifetime as seen over HTTP: idle and absolute expiry, page guards.

use crate::it_test;
use crate::support::*;
use reqwest::StatusCode;
use std::time::Duration;

async fn idle_sessions_are_refused_on_the_next_request(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    app.advance(Duration::from_secs(29 * 60));
    assert!(is_signed_in(&app, &c).await, "activity within the idle window keeps it");
    app.advance(Duration::from_secs(29 * 60));
    assert!(is_signed_in(&app, &c).await, "and extends it");
    app.advance(Duration::from_secs(31 * 60));
    let r = app.post(&c, "/api/account/me", &[]).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(&r).unwrap().contains("Max-Age=0"), "a dead cookie is cleared");
}
it_test!(idle_sessions_are_refused_on_the_next_request);

async fn absolute_lifetime_ends_even_busy_sessions(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    // 20 × 29 min = 9 h 40 min of steady activity: alive.
    for _ in 0..20 {
        app.advance(Duration::from_secs(29 * 60));
        assert!(is_signed_in(&app, &c).await);
    }
    // 21 more minutes: within the idle window, past the 10-hour lifetime.
    app.advance(Duration::from_secs(21 * 60));
    assert!(!is_signed_in(&app, &c).await);
}
it_test!(absolute_lifetime_ends_even_busy_sessions);

async fn account_pages_need_a_session_and_sign_in_sends_signed_in_people_on(app: TestApp) {
    app.user("alice", false).await;
    let anon = app.client();
    for (path, to) in [("/myaccount", "/login"), ("/myaccount/personal-info", "/login?next=/myaccount/personal-info"), ("/", "/myaccount")]
    {
        let r = app.get(&anon, path).await;
        assert!(r.status().is_redirection(), "{path}: {}", r.status());
        assert_eq!(r.headers()["location"], to, "{path}");
    }
    let (status, _) = json(app.post(&anon, "/api/account/profile", &[]).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let c = app.signed_in("alice").await;
    assert_eq!(app.get(&c, "/myaccount").await.status(), StatusCode::OK);
    let r = app.get(&c, "/login?next=/myaccount/personal-info").await;
    assert_eq!(r.headers()["location"], "/myaccount/personal-info");
    let r = app.get(&c, "/login?next=https://evil.example").await;
    assert_eq!(r.headers()["location"], "/myaccount");
}
it_test!(account_pages_need_a_session_and_sign_in_sends_signed_in_people_on);

async fn overview_shows_this_and_the_previous_sign_in(app: TestApp) {
    app.user("alice", false).await;
    let first = app.signed_in("alice").await;
    let (status, o) = json(app.post(&first, "/api/account/overview", &[]).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(o["username"], "alice");
    assert_eq!(o["email"], "alice@example.com");
    assert_eq!(o["this_sign_in"]["ip"], "127.0.0.1");
    assert!(o["this_sign_in"]["at"].as_str().unwrap().ends_with("UTC"));
    assert!(o["previous_sign_in"].is_null(), "nothing before the first sign-in");

    app.advance(Duration::from_secs(120));
    let second = app.signed_in("alice").await;
    let (_, o2) = json(app.post(&second, "/api/account/overview", &[]).await).await;
    assert_eq!(o2["previous_sign_in"], o["this_sign_in"], "the first sign-in is now the previous one");
    assert_ne!(o2["this_sign_in"]["at"], o["this_sign_in"]["at"]);
    let page = app.get(&second, "/myaccount").await.text().await.unwrap();
    assert!(page.contains("from 127.0.0.1"), "server-rendered overview");
}
it_test!(overview_shows_this_and_the_previous_sign_in);
