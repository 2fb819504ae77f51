//! Change password (My Account → Security): current password re-checked,
//! policy and strength on the server, other sessions ended, a security mail.

use crate::it_test;
use crate::support::*;
use reqwest::StatusCode;

const NEW: &str = "ample tuba cinder orbit";

async fn change(
    app: &TestApp,
    c: &reqwest::Client,
    current: &str,
    new: &str,
    confirm: &str,
    others: bool,
) -> (StatusCode, serde_json::Value) {
    let others = if others { "true" } else { "false" };
    json(
        app.post(
            c,
            "/api/security/change_password",
            &[("current", current), ("password", new), ("confirm", confirm), ("sign_out_others", others)],
        )
        .await,
    )
    .await
}

/// Threat: someone at a signed-in browser changing the password without
/// knowing it, and a thief's other sessions surviving the owner's change.
async fn wrong_current_is_refused_and_right_one_ends_other_sessions(app: TestApp) {
    app.user("alice", false).await;
    let this = app.signed_in("alice").await;
    let other = app.signed_in("alice").await;

    let (status, body) = change(&app, &this, "not my password", NEW, NEW, true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(field_message(&body, "current").as_deref(), Some("Your current password is not right."));
    assert!(is_signed_in(&app, &other).await, "a refused change ends nothing");

    let (status, body) = change(&app, &this, TEST_PASSWORD, NEW, NEW, true).await;
    assert_eq!((status, body.clone()), (StatusCode::OK, serde_json::json!(1)), "{body}");
    assert!(is_signed_in(&app, &this).await, "this session stays");
    assert!(!is_signed_in(&app, &other).await, "the other session is refused on its next request");

    assert_eq!(app.login(&app.client(), "alice", TEST_PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login(&app.client(), "alice", NEW).await.status(), StatusCode::OK);

    let mail = app.mail.wait_for("alice@example.com", "your password was changed").await;
    assert!(mail.subject().starts_with("Latchkey:"));
    assert!(mail.text().contains("changed in My Account"));
    assert!(mail.part("text/html").contains("<a href="));
    assert!(!mail.data.contains(NEW), "the password never goes into mail");
}
it_test!(wrong_current_is_refused_and_right_one_ends_other_sessions);

async fn other_sessions_can_be_kept(app: TestApp) {
    app.user("alice", false).await;
    let this = app.signed_in("alice").await;
    let other = app.signed_in("alice").await;
    let (status, body) = change(&app, &this, TEST_PASSWORD, NEW, NEW, false).await;
    assert_eq!((status, body), (StatusCode::OK, serde_json::json!(0)));
    assert!(is_signed_in(&app, &other).await);
}
it_test!(other_sessions_can_be_kept);

async fn bad_new_passwords_get_clear_messages_and_change_nothing(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    for (new, confirm, field, message) in [
        ("short", "short", "password", "Use at least 8 characters (5 so far)."),
        (NEW, "ample tuba cinder orbiT", "confirm", "The two passwords do not match."),
        (TEST_PASSWORD, TEST_PASSWORD, "password", "Choose a password different from your current one."),
        ("password123", "password123", "password", "This password is too easy to guess."),
        ("alice1234", "alice1234", "password", "This password is too easy to guess."),
    ] {
        let (status, body) = change(&app, &c, TEST_PASSWORD, new, confirm, true).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{new}: {body}");
        let got = field_message(&body, field).unwrap_or_else(|| panic!("{new}: {body}"));
        assert!(got.starts_with(message), "{new}: {got}");
    }
    let (status, body) = change(&app, &c, "", NEW, NEW, true).await;
    assert_eq!(field_message(&body, "current").as_deref(), Some("Enter your current password."), "{status} {body}");
    // A missing field is a clear 400, not a crash.
    let (status, _) = json(app.post(&c, "/api/security/change_password", &[("current", TEST_PASSWORD)]).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(app.login(&app.client(), "alice", TEST_PASSWORD).await.status(), StatusCode::OK, "still the old password");
    // Mail is queued in the change's transaction, before the answer: none
    // queued (and none already sent) means none will come.
    app.mail_settled().await;
    assert!(app.mail.all().is_empty(), "no mail for refused changes");
}
it_test!(bad_new_passwords_get_clear_messages_and_change_nothing);

async fn strength_meter_rates_on_the_server_for_signed_in_people(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    let (_, weak) = json(app.post(&c, "/api/security/password_strength", &[("password", "alice1234")]).await).await;
    let (_, strong) = json(app.post(&c, "/api/security/password_strength", &[("password", NEW)]).await).await;
    assert!(weak["score"].as_u64().unwrap() < 2, "{weak}");
    assert!(weak["warning"].is_string() || weak["suggestion"].is_string(), "{weak}");
    assert!(strong["score"].as_u64().unwrap() >= 3, "{strong}");
    let anonymous = app.post(&app.client(), "/api/security/password_strength", &[("password", NEW)]).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
it_test!(strength_meter_rates_on_the_server_for_signed_in_people);
