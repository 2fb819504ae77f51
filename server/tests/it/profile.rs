//! Personal info: validation on the server, persistence, email re-verification.

use crate::it_test;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::Value;

fn profile_form<'a>(over: &[(&'a str, &'a str)]) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = [
        ("given_name", "Ada"),
        ("family_name", "Lovelace"),
        ("display_name", ""),
        ("email", "alice@example.com"),
        ("phone", "+44 7700 900123"),
        ("locale", "en-GB"),
        ("time_zone", "Europe/London"),
        ("picture_url", "https://example.com/ada.png"),
    ]
    .iter()
    .map(|(k, v)| (format!("profile[{k}]"), v.to_string()))
    .collect();
    for (k, v) in over {
        let key = format!("profile[{k}]");
        match f.iter_mut().find(|(fk, _)| *fk == key) {
            Some(e) => e.1 = v.to_string(),
            None => f.push((key, v.to_string())),
        }
    }
    f
}

async fn save(app: &TestApp, c: &reqwest::Client, form: &[(String, String)]) -> (StatusCode, Value) {
    json(c.post(app.url("/api/account/update_profile")).form(form).send().await.unwrap()).await
}

async fn stored(app: &TestApp, c: &reqwest::Client) -> Value {
    json(app.post(c, "/api/account/profile", &[]).await).await.1
}

async fn valid_profile_is_saved_normalised_and_survives(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    let (status, saved) = save(&app, &c, &profile_form(&[("given_name", "  Ada  ")])).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["form"]["given_name"], "Ada");
    assert_eq!(saved["form"]["phone"], "+447700900123");
    // A fresh read (as after a reload) returns the same.
    let again = stored(&app, &c).await;
    assert_eq!(again, saved);
    // And the server-rendered page shows it.
    let page = app.get(&c, "/myaccount/personal-info").await.text().await.unwrap();
    assert!(page.contains(r#"value="+447700900123""#));
    assert!(page.contains(r#"<option value="Europe/London" selected"#));
}
it_test!(valid_profile_is_saved_normalised_and_survives);

async fn invalid_fields_are_all_reported_and_nothing_is_written(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    save(&app, &c, &profile_form(&[])).await;
    let before = stored(&app, &c).await;
    let long = "x".repeat(101);
    let cases: Vec<(&str, String)> = vec![
        ("email", "not-an-email".into()),
        ("email", "".into()),
        ("phone", "07700 900123".into()),
        ("locale", "tlh".into()),
        ("time_zone", "Mars/Olympus_Mons".into()),
        ("picture_url", "javascript:alert(1)".into()),
        ("picture_url", "http://example.com/a.png".into()),
        ("given_name", long.clone()),
        ("display_name", "two\nlines".into()),
    ];
    for (field, value) in &cases {
        let (status, body) = save(&app, &c, &profile_form(&[("given_name", "Changed"), (field, value.as_str())])).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}={value:?}: {body}");
        let errors = body["Invalid"].as_array().unwrap();
        assert!(errors.iter().any(|e| e["field"] == *field), "{field}: {body}");
        assert_eq!(stored(&app, &c).await, before, "a refused save writes nothing ({field})");
    }
    // Several bad fields at once: each reported.
    let (_, body) = save(&app, &c, &profile_form(&[("email", "x"), ("phone", "1")])).await;
    assert_eq!(body["Invalid"].as_array().unwrap().len(), 2);
}
it_test!(invalid_fields_are_all_reported_and_nothing_is_written);

async fn changing_email_marks_it_unverified_and_keeps_it_unique(app: TestApp) {
    app.user("alice", false).await;
    app.user("bob", false).await;
    let c = app.signed_in("alice").await;
    let (status, body) = save(&app, &c, &profile_form(&[("email", "BOB@example.com")])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["Invalid"][0]["field"], "email");
    // Threat: account enumeration: the refusal does not say who has the address.
    assert_eq!(body["Invalid"][0]["message"], "This email address can't be used for your account. Check it, or choose another.");

    // Pretend the current address was verified, then change it.
    use sea_orm::{ActiveModelTrait as _, Set};
    let alice = domain::users::find_by_login(&app.services.ctx.db, "alice").await.unwrap().unwrap();
    let mut a: entity::users::ActiveModel = alice.into();
    a.email_verified = Set(true);
    a.update(&app.services.ctx.db).await.unwrap();
    let (_, same) = save(&app, &c, &profile_form(&[])).await;
    assert_eq!(same["email_verified"], true, "saving other fields keeps verification");
    let (status, changed) = save(&app, &c, &profile_form(&[("email", "Ada@New.Example")])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(changed["form"]["email"], "ada@new.example");
    assert_eq!(changed["email_verified"], false);
    // The new address signs in.
    let c2 = app.client();
    assert_eq!(app.login(&c2, "ada@new.example", TEST_PASSWORD).await.status(), StatusCode::OK);
}
it_test!(changing_email_marks_it_unverified_and_keeps_it_unique);

async fn plain_form_save_works_without_javascript(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    let referer = app.url("/myaccount/personal-info");
    let post = |form: Vec<(String, String)>| {
        c.post(app.url("/api/account/update_profile")).header("Accept", "text/html").header("Referer", &referer).form(&form).send()
    };
    let r = post(profile_form(&[("phone", "12")])).await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let back = r.headers()["location"].to_str().unwrap().to_owned();
    let page = app.get(&c, back.strip_prefix(&app.base).unwrap()).await.text().await.unwrap();
    assert!(page.contains("Enter the number in international format"), "the error is shown next to the field");

    let r = post(profile_form(&[("given_name", "Grace")])).await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(r.headers()["location"], "/myaccount/personal-info?saved=1");
    let page = app.get(&c, "/myaccount/personal-info?saved=1").await.text().await.unwrap();
    assert!(page.contains("Your personal info was saved."));
    assert!(page.contains(r#"value="Grace""#));
}
it_test!(plain_form_save_works_without_javascript);
