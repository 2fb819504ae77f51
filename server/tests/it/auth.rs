//! Password sign-in: success, failure without enumeration, fixation, open
//! redirects, rate limits, sign-out.

use crate::it_test;
use crate::support::*;
use reqwest::StatusCode;

async fn right_password_signs_in_with_a_safe_cookie(app: TestApp) {
    app.user("alice", false).await;
    let c = app.client();
    let r = app.login(&c, "Alice@Example.com", TEST_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let set = session_cookie(&r).expect("a session cookie");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"), "{set}");
    assert!(!set.contains("Secure"), "plain http origin: no Secure flag");
    let token = cookie_token(&set);
    assert_eq!(token.len(), 43, "256-bit token");
    let (_, next) = json(r).await;
    assert_eq!(next, "/myaccount");
    let (status, me) = json(app.post(&c, "/api/account/me", &[]).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "alice");

    // Only the token's hash is stored.
    use sea_orm::EntityTrait as _;
    let rows = entity::prelude::UserSessions::find().all(&app.services.ctx.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0].token_hash.expose(), token);
    assert_eq!(rows[0].token_hash.expose(), domain::crypto::hash_token(&token));
    assert_eq!(rows[0].amr, r#"["pwd"]"#);
    assert_eq!(rows[0].ip.as_deref(), Some("127.0.0.1"));
}
it_test!(right_password_signs_in_with_a_safe_cookie);

/// Threat: account enumeration. A wrong password and an unknown account get
/// the same status and the same body.
async fn wrong_password_and_unknown_account_answer_identically(app: TestApp) {
    app.user("alice", false).await;
    let c = app.client();
    let wrong = app.login(&c, "alice", "not the password").await;
    assert!(session_cookie(&wrong).is_none());
    let wrong = json(wrong).await;
    let unknown = json(app.login(&c, "nobody", "not the password").await).await;
    let unknown_email = json(app.login(&c, "nobody@example.com", "not the password").await).await;
    assert_eq!(wrong.0, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong, unknown);
    assert_eq!(wrong, unknown_email);
    assert_eq!(wrong.1, "InvalidCredentials");
    assert!(!is_signed_in(&app, &c).await);
}
it_test!(wrong_password_and_unknown_account_answer_identically);

async fn empty_fields_get_specific_messages(app: TestApp) {
    let c = app.client();
    let (status, body) = json(app.login(&c, " ", "").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fields: Vec<_> = body["Invalid"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["identifier", "password"]);
    // Missing fields altogether: a clear 400, never a 500.
    let (status, _) = json(app.post(&c, "/api/auth/login", &[]).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
it_test!(empty_fields_get_specific_messages);

/// Threat: session fixation. A session id the browser had before signing in
/// (possibly planted) never becomes the signed-in session.
async fn sign_in_issues_a_new_session_and_ends_the_old_one(app: TestApp) {
    app.user("alice", false).await;
    let c = app.client();
    let first = cookie_token(&session_cookie(&app.login(&c, "alice", TEST_PASSWORD).await).unwrap());
    let second = cookie_token(&session_cookie(&app.login(&c, "alice", TEST_PASSWORD).await).unwrap());
    assert_ne!(first, second);
    // The first token no longer works, even presented on its own.
    let planted = app.bare_client();
    let r = planted
        .post(app.url("/api/account/me"))
        .header("Origin", &app.base)
        .header("Cookie", format!("latchkey_session={first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(is_signed_in(&app, &c).await);
}
it_test!(sign_in_issues_a_new_session_and_ends_the_old_one);

/// Threat: open redirect. `next` is followed only for local paths.
async fn next_is_followed_only_for_local_paths(app: TestApp) {
    app.user("alice", false).await;
    for (next, expected) in [
        ("/myaccount/personal-info", "/myaccount/personal-info"),
        ("https://evil.example/", "/myaccount"),
        ("//evil.example/", "/myaccount"),
        ("/\\evil.example", "/myaccount"),
        ("", "/myaccount"),
    ] {
        let c = app.client();
        let r = app.post(&c, "/api/auth/login", &[("identifier", "alice"), ("password", TEST_PASSWORD), ("next", next)]).await;
        assert_eq!(json(r).await.1, expected, "next={next:?}");
        // The plain-form (no JavaScript) path redirects with the same rule.
        let r = c
            .post(app.url("/api/auth/login"))
            .header("Accept", "text/html")
            .header("Referer", app.url("/login"))
            .form(&[("identifier", "alice"), ("password", TEST_PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FOUND);
        assert_eq!(r.headers()["location"], expected, "no-JS next={next:?}");
    }
}
it_test!(next_is_followed_only_for_local_paths);

/// Threat: online guessing. Attempts on one account are limited whatever the
/// password, and the limit answers 429 with the wait.
async fn guessing_is_rate_limited(app: TestApp) {
    app.user("alice", false).await;
    let c = app.client();
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(app.login(&c, "alice", "guess").await.status());
    }
    assert!(statuses[..10].iter().all(|s| *s == StatusCode::UNAUTHORIZED), "{statuses:?}");
    assert_eq!(statuses[11], StatusCode::TOO_MANY_REQUESTS);
    let (status, body) = json(app.login(&c, "alice", TEST_PASSWORD).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(body["RateLimited"]["retry_after_secs"].as_u64().unwrap() >= 1);
}
it_test!(guessing_is_rate_limited);

/// Threat: a cookie captured before sign-out. Sign-out ends the session on
/// the server, not only in the browser.
async fn sign_out_ends_the_session_on_the_server(app: TestApp) {
    app.user("alice", false).await;
    let c = app.client();
    let token = cookie_token(&session_cookie(&app.login(&c, "alice", TEST_PASSWORD).await).unwrap());
    let r = app.post(&c, "/api/auth/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(session_cookie(&r).unwrap().contains("Max-Age=0"));
    assert!(!is_signed_in(&app, &c).await);
    let stolen = app.bare_client();
    let r = stolen.get(app.url("/myaccount")).header("Cookie", format!("latchkey_session={token}")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login");
}
it_test!(sign_out_ends_the_session_on_the_server);

async fn plain_form_sign_in_works_without_javascript(app: TestApp) {
    app.user("alice", false).await;
    let c = app.client();
    let form = |pw: &'static str| [("identifier", "alice"), ("password", pw), ("next", "")];
    let r = c
        .post(app.url("/api/auth/login"))
        .header("Accept", "text/html")
        .header("Referer", app.url("/login"))
        .form(&form("wrong password"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let back = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with(&app.url("/login?")) && back.contains("__err="), "{back}");
    let page = app.get(&c, back.strip_prefix(&app.base).unwrap()).await.text().await.unwrap();
    assert!(page.contains("The username, email or password is not right."));

    let r = c
        .post(app.url("/api/auth/login"))
        .header("Accept", "text/html")
        .header("Referer", app.url("/login"))
        .form(&form(TEST_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()["location"], "/myaccount");
    assert!(session_cookie(&r).is_some());
    assert_eq!(app.get(&c, "/myaccount").await.status(), StatusCode::OK);
}
it_test!(plain_form_sign_in_works_without_javascript);
