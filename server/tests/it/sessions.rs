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

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

async fn sign_in_with_agent(app: &TestApp, name: &str, agent: &str) -> reqwest::Client {
    let c = app.client_with_agent(agent);
    assert_eq!(app.login(&c, name, TEST_PASSWORD).await.status(), StatusCode::OK);
    c
}

async fn list(app: &TestApp, c: &reqwest::Client) -> Vec<serde_json::Value> {
    let (status, body) = json(app.post(c, "/api/sessions/list", &[]).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

/// The Sessions list shows every live session of the person with browser,
/// system, IP, times and methods, this one first and marked.
async fn sessions_are_listed_with_what_a_person_recognises(app: TestApp) {
    app.user("alice", false).await;
    let firefox = sign_in_with_agent(&app, "alice", FIREFOX).await;
    app.advance(Duration::from_secs(30));
    let chrome = sign_in_with_agent(&app, "alice", CHROME).await;
    app.advance(Duration::from_secs(10 * 60));
    let sessions = list(&app, &chrome).await;
    assert_eq!(sessions.len(), 2);
    let (this, other) = (&sessions[0], &sessions[1]);
    assert_eq!((this["current"].as_bool(), other["current"].as_bool()), (Some(true), Some(false)), "this device first");
    assert_eq!(this["browser"], "Chrome 120");
    assert_eq!(this["os"], "Windows 10");
    assert_eq!(other["browser"], "Firefox 128");
    assert_eq!(other["os"], "Linux");
    assert_eq!(this["ip"], "127.0.0.1");
    assert_eq!(this["methods"], "Password");
    assert_eq!(other["last_active"], "10 minutes ago");
    assert!(this["started"].as_str().unwrap().ends_with("UTC"));
    // Listing touched the asking session (more than a minute since the last write).
    assert_eq!(list(&app, &chrome).await[0]["last_active"], "just now");
    let _ = firefox;
}
it_test!(sessions_are_listed_with_what_a_person_recognises);

/// Threat: a stolen session kept alive. Ending it from another browser
/// refuses it on its very next request; nobody can end another person's
/// sessions; "everywhere else" keeps this one; ending this one signs out.
async fn sessions_end_at_once_and_only_for_their_owner(app: TestApp) {
    app.user("alice", false).await;
    app.user("bob", false).await;
    let a1 = sign_in_with_agent(&app, "alice", FIREFOX).await;
    let a2 = sign_in_with_agent(&app, "alice", CHROME).await;
    let a3 = app.signed_in("alice").await;
    let bob = app.signed_in("bob").await;
    let bob_id = list(&app, &bob).await[0]["id"].as_str().unwrap().to_owned();
    let theirs = app.post(&a2, "/api/sessions/revoke", &[("id", &bob_id)]).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND, "someone else's session is not found");
    assert!(is_signed_in(&app, &bob).await);
    let bad = app.post(&a2, "/api/sessions/revoke", &[("id", "not-an-id")]).await;
    assert_eq!(bad.status(), StatusCode::NOT_FOUND);

    let sessions = list(&app, &a2).await;
    let firefox_id = sessions.iter().find(|s| s["browser"] == "Firefox 128").unwrap()["id"].as_str().unwrap().to_owned();
    let (status, body) = json(app.post(&a2, "/api/sessions/revoke", &[("id", &firefox_id)]).await).await;
    assert_eq!((status, body), (StatusCode::OK, serde_json::Value::Null));
    assert!(!is_signed_in(&app, &a1).await, "refused on its very next request");
    assert_eq!(list(&app, &a2).await.len(), 2);

    let (status, body) = json(app.post(&a2, "/api/sessions/revoke_others", &[]).await).await;
    assert_eq!((status, body), (StatusCode::OK, serde_json::Value::from(1)));
    assert!(!is_signed_in(&app, &a3).await);
    assert!(is_signed_in(&app, &a2).await, "this one stays");
    assert!(is_signed_in(&app, &bob).await, "other people are untouched");

    let this_id = list(&app, &a2).await[0]["id"].as_str().unwrap().to_owned();
    let r = app.post(&a2, "/api/sessions/revoke", &[("id", &this_id)]).await;
    assert!(session_cookie(&r).unwrap().contains("Max-Age=0"), "the cookie is cleared");
    assert_eq!(json(r).await, (StatusCode::OK, serde_json::Value::from("/login")));
    assert!(!is_signed_in(&app, &a2).await);
}
it_test!(sessions_end_at_once_and_only_for_their_owner);
