//! The first administrator, created through the one-time setup link.

use crate::it_test;
use crate::support::*;
use reqwest::StatusCode;

async fn setup_link_creates_one_admin_once(app: TestApp) {
    let token = domain::setup::issue_token_if_needed(&app.services.ctx, app.clock_now()).await.unwrap().unwrap();
    let c = app.client();
    let page = app.get(&c, &format!("/setup?token={token}")).await.text().await.unwrap();
    assert!(page.contains("Create the first administrator") && page.contains("setup-username"));

    let form = |u: &'static str, pw: &'static str, confirm: &'static str| {
        vec![
            ("token", token.clone()),
            ("username", u.into()),
            ("email", format!("{u}@example.com")),
            ("password", pw.into()),
            ("confirm", confirm.into()),
        ]
    };
    // Policy and validation first: nothing created.
    let (status, body) =
        json(c.post(app.url("/api/auth/create_first_admin")).form(&form("ab", "short", "short")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fields: Vec<_> = body["Invalid"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["username", "password"]);
    let (status, _) = json(
        c.post(app.url("/api/auth/create_first_admin"))
            .form(&form("root", "calm orbit velvet lantern", "calm orbit velvet lanterN"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Threat: the first administrator with a guessable password (zxcvbn < 2).
    let (status, body) =
        json(c.post(app.url("/api/auth/create_first_admin")).form(&form("root", "password123", "password123")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(field_message(&body, "password").unwrap().contains("too easy to guess"), "{body}");
    assert_eq!(domain::users::count(&app.services.ctx.db).await.unwrap(), 0);

    let r = c
        .post(app.url("/api/auth/create_first_admin"))
        .form(&form("root", "calm orbit velvet lantern", "calm orbit velvet lantern"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, me) = json(app.post(&c, "/api/account/me", &[]).await).await;
    assert_eq!(me["username"], "root");
    assert_eq!(me["is_admin"], true);

    // Second use of the link: refused, nothing created.
    let other = app.client();
    let (status, body) = json(
        other
            .post(app.url("/api/auth/create_first_admin"))
            .form(&form("root2", "calm orbit velvet lantern", "calm orbit velvet lantern"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["Refused"].as_str().unwrap().contains("already has an administrator"));
    assert_eq!(domain::users::count(&app.services.ctx.db).await.unwrap(), 1);
    let page = app.get(&other, &format!("/setup?token={token}")).await.text().await.unwrap();
    assert!(page.contains("Latchkey already has an administrator."));
}
it_test!(setup_link_creates_one_admin_once);

/// Threat: guessing or replaying setup links.
async fn unknown_setup_tokens_are_refused(app: TestApp) {
    domain::setup::issue_token_if_needed(&app.services.ctx, app.clock_now()).await.unwrap().unwrap();
    let c = app.client();
    let page = app.get(&c, "/setup?token=guessed").await.text().await.unwrap();
    assert!(page.contains("This setup link is not valid"));
    let (status, _) = json(
        c.post(app.url("/api/auth/create_first_admin"))
            .form(&[
                ("token", "guessed"),
                ("username", "root"),
                ("email", "r@example.com"),
                ("password", "calm orbit velvet lantern"),
                ("confirm", "calm orbit velvet lantern"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(domain::users::count(&app.services.ctx.db).await.unwrap(), 0);
}
it_test!(unknown_setup_tokens_are_refused);

/// Threat: a setup link found in old logs. It expires after 30 minutes.
async fn setup_tokens_expire(app: TestApp) {
    let token = domain::setup::issue_token_if_needed(&app.services.ctx, app.clock_now()).await.unwrap().unwrap();
    app.advance(std::time::Duration::from_secs(31 * 60));
    let c = app.client();
    assert!(app.get(&c, &format!("/setup?token={token}")).await.text().await.unwrap().contains("This setup link is not valid"));
}
it_test!(setup_tokens_expire);
