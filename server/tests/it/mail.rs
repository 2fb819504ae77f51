//! Mail: email verification links (bound to their address, single use,
//! 24 hours), the recovery email, and sending that survives a down server.

use crate::it_test;
use crate::smtp::MailSink;
use crate::support::*;
use reqwest::StatusCode;
use std::time::Duration;

async fn change_email(app: &TestApp, c: &reqwest::Client, email: &str) -> serde_json::Value {
    let form = [("profile[email]", email)];
    let (status, body) = json(app.post(c, "/api/account/update_profile", &form).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn verify(app: &TestApp, token: &str) -> (StatusCode, serde_json::Value) {
    json(app.post(&app.client(), "/api/recover/verify_email", &[("token", token)]).await).await
}

async fn verified(app: &TestApp, c: &reqwest::Client) -> bool {
    json(app.post(c, "/api/account/profile", &[]).await).await.1["email_verified"].as_bool().unwrap()
}

/// Threat: claiming an address one does not own. The new address must
/// follow its link; the old one is told.
async fn a_new_primary_email_is_unverified_until_its_link_is_followed(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    let saved = change_email(&app, &c, "ada@new.example").await;
    assert_eq!(saved["email_verified"], false);
    let link = app.mail.wait_for("ada@new.example", "confirm your email address").await;
    let notice = app.mail.wait_for("alice@example.com", "your email address was changed").await;
    assert!(notice.text().contains("to ada@new.example"));
    let token = link.token("/verify-email");

    // Opening the link shows a button and changes nothing (mail scanners open links).
    let page = app.get(&app.client(), &format!("/verify-email?token={token}")).await.text().await.unwrap();
    assert!(page.contains("Confirm email address"));
    assert!(!verified(&app, &c).await);

    let (status, body) = verify(&app, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.as_str().unwrap().contains("ada@new.example is confirmed"));
    assert!(verified(&app, &c).await);
    assert_eq!(verify(&app, &token).await.0, StatusCode::CONFLICT, "single use");
}
it_test!(a_new_primary_email_is_unverified_until_its_link_is_followed);

/// Threat: a borrowed signed-in browser sending the account's reset links
/// to another mailbox. Changing the email needs a recent sign-in proof.
async fn changing_the_email_needs_a_recent_proof(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    app.advance(Duration::from_secs(6 * 60));
    let (status, body) = json(app.post(&c, "/api/account/update_profile", &[("profile[email]", "mallory@evil.example")]).await).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, serde_json::json!("ReauthRequired")));
    let (_, p) = json(app.post(&c, "/api/account/profile", &[]).await).await;
    assert_eq!(p["form"]["email"], "alice@example.com", "nothing changed");
    // Other fields need no proof.
    let form = [("profile[email]", "alice@example.com"), ("profile[given_name]", "Alice")];
    assert_eq!(app.post(&c, "/api/account/update_profile", &form).await.status(), StatusCode::OK);
    reauthenticate(&app, &c).await;
    change_email(&app, &c, "alice@new.example").await;
    app.mail.wait_for("alice@new.example", "confirm your email address").await;
    assert!(app.mail.matching("mallory@evil.example", "").is_empty());
}
it_test!(changing_the_email_needs_a_recent_proof);

/// Threat: a link for an address the account no longer has verifying the
/// current one.
async fn links_are_bound_to_the_address_and_expire_in_a_day(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    change_email(&app, &c, "one@new.example").await;
    let first = app.mail.wait_for("one@new.example", "confirm").await.token("/verify-email");
    change_email(&app, &c, "two@new.example").await;
    let second = app.mail.wait_for("two@new.example", "confirm").await.token("/verify-email");
    assert_eq!(verify(&app, &first).await.0, StatusCode::CONFLICT);
    assert!(!verified(&app, &c).await);

    app.advance(Duration::from_secs(24 * 3600 + 60));
    let c = app.signed_in("alice").await;
    assert_eq!(verify(&app, &second).await.0, StatusCode::CONFLICT, "expired after 24 hours");
    // A fresh link can be asked for.
    let (status, body) = json(app.post(&c, "/api/account/resend_verification", &[]).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let third = app.mail.wait_n("two@new.example", "confirm", 2).await.token("/verify-email");
    assert_eq!(verify(&app, &third).await.0, StatusCode::OK);
    let (status, body) = json(app.post(&c, "/api/account/resend_verification", &[]).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "already verified: {body}");
}
it_test!(links_are_bound_to_the_address_and_expire_in_a_day);

async fn a_verified_recovery_email_also_gets_reset_links(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    let (status, body) = json(app.post(&c, "/api/recovery/set_email", &[("email", "Alice@Home.example")]).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, r) = json(app.post(&c, "/api/recovery/overview", &[]).await).await;
    assert_eq!((r["recovery_email"].as_str(), r["recovery_email_verified"].as_bool()), (Some("alice@home.example"), Some(false)));

    // Unverified, it gets no reset link.
    app.post(&app.client(), "/api/recover/forgot", &[("identifier", "alice")]).await;
    app.mail_settled().await;
    assert_eq!(app.mail.matching("alice@example.com", "reset your password").len(), 1);
    assert!(app.mail.matching("alice@home.example", "reset your password").is_empty());

    let token = app.mail.wait_for("alice@home.example", "confirm your recovery email").await.token("/verify-email");
    let (status, body) = verify(&app, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, r) = json(app.post(&c, "/api/recovery/overview", &[]).await).await;
    assert_eq!(r["recovery_email_verified"], true);

    app.post(&app.client(), "/api/recover/forgot", &[("identifier", "alice")]).await;
    let via_recovery = app.mail.wait_for("alice@home.example", "reset your password").await.token("/reset-password");
    let form = [("token", via_recovery.as_str()), ("password", "ample tuba cinder orbit"), ("confirm", "ample tuba cinder orbit")];
    let (status, body) = json(app.post(&app.client(), "/api/recover/reset", &form).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let same = json(app.post(&c, "/api/recovery/set_email", &[("email", "alice@example.com")]).await).await;
    assert_eq!(same.0, StatusCode::UNAUTHORIZED, "signed out by the reset");
}
it_test!(a_verified_recovery_email_also_gets_reset_links);

/// A failed send is kept and retried, never lost: the SMTP server refuses
/// service when the mail is queued and accepts it later.
async fn retry_case(backend: Backend) {
    // A server that refuses at first: the first attempts fail.
    let sink = MailSink::refusing().await;
    let port = sink.addr.port();
    let Some(app) = TestApp::spawn_with(backend, |c| c.smtp_port = port).await else {
        eprintln!("{}", domain::testing::PG_SKIP_NOTICE);
        return;
    };
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    let form = [
        ("current", TEST_PASSWORD),
        ("password", "ample tuba cinder orbit"),
        ("confirm", "ample tuba cinder orbit"),
        ("sign_out_others", "true"),
    ];
    assert_eq!(app.post(&c, "/api/security/change_password", &form).await.status(), StatusCode::OK, "the request does not wait for mail");
    let db = &app.services.ctx.db;
    let mut row = None;
    for _ in 0..200 {
        // A claimed row has attempts = 1 before its failure is written;
        // wait for the recorded error, not just the claim.
        if let Some(r) = domain::mail::pending(db).await.unwrap().into_iter().find(|r| r.last_error.is_some()) {
            row = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let row = row.expect("a failed attempt is recorded");
    assert!(row.last_error.as_deref().unwrap_or_default().contains("SMTP"), "{row:?}");
    assert!(row.failed_at.is_none());

    assert!(sink.all().is_empty());
    sink.accept();
    app.advance(Duration::from_secs(120));
    app.services.ctx.mail_wake.notify_one();
    sink.wait_for("alice@example.com", "your password was changed").await;
    // The sender deletes the row once the server has accepted the message.
    let mut left = usize::MAX;
    for _ in 0..100 {
        left = domain::mail::pending(db).await.unwrap().len();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(left, 0, "sent, and gone from the queue");
    assert_eq!(sink.all().len(), 1, "sent once");
}

mod mail_retry {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::retry_case(crate::support::Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::retry_case(crate::support::Backend::Postgres).await
    }
}
