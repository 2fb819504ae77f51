//! Applications: the console registers, edits, switches and deletes them;
//! people discover, star and launch them in My Account.

use crate::admin::strong_admin;
use crate::it_test;
use crate::security::{call, page_html, plain_post};
use crate::support::*;
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::Value;

const SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="#36c"/></svg>"##;

fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The form of a new application, with `extra` fields replacing or adding.
fn form<'a>(name: &'a str, url: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![("form[name]", name), ("form[access_url]", url), ("form[description]", "Pay slips"), ("form[discoverable]", "on")];
    for (k, v) in extra {
        f.retain(|(key, _)| key != k);
        f.push((k, v));
    }
    f
}

async fn names(app: &TestApp, c: &reqwest::Client, search: &str) -> Vec<String> {
    let (status, list) = call(app, c, "/api/account/applications", &[("search", search)]).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["apps"].as_array().unwrap().iter().map(|a| a["app"]["name"].as_str().unwrap().to_owned()).collect()
}

async fn an_admin_registers_edits_disables_and_deletes_an_application(app: TestApp) {
    app.user("root", true).await;
    let (root, _) = strong_admin(&app, "root").await;
    let logo = data_url("image/svg+xml", SVG.as_bytes());
    let (status, created) =
        call(&app, &root, "/api/admin/application_create", &form("Payroll", "https://pay.example.com/", &[("form[logo_file]", &logo)]))
            .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!((created["app"]["id"].as_str(), created["app"]["enabled"].as_bool()), (Some("payroll"), Some(true)));
    assert_eq!(created["created"]["by"], "root");

    // The logo is served sanitised, under a policy that runs nothing.
    let logo_path = created["app"]["logo"].as_str().unwrap().to_owned();
    let r = app.get(&app.client(), &logo_path).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
    assert!(r.text().await.unwrap().contains("<svg"));
    assert_eq!(app.get(&app.client(), "/logos/not-a-uuid").await.status(), StatusCode::NOT_FOUND);

    let (_, list) = call(&app, &root, "/api/admin/applications", &[]).await;
    let ids: Vec<_> = list.as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["myaccount", "payroll"], "My Account first");
    let (_, found) = call(&app, &root, "/api/admin/applications", &[("search", "ROLL")]).await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let html = page_html(&app, &root, "/admin/applications?search=pay").await;
    assert!(html.contains("Payroll") && !html.contains(">My Account</a>"), "the search works without JavaScript");

    let mut edit = form("Payroll & HR", "http://localhost:9000/", &[("form[logo_url]", "https://cdn.example.com/p.png")]);
    edit.push(("app", "payroll"));
    let (status, edited) = call(&app, &root, "/api/admin/application_update", &edit).await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(
        (edited["app"]["name"].as_str(), edited["app"]["logo"].as_str()),
        (Some("Payroll & HR"), Some("https://cdn.example.com/p.png"))
    );
    assert_eq!(app.get(&app.client(), &logo_path).await.status(), StatusCode::NOT_FOUND, "the replaced upload is gone");

    let (status, off) = call(&app, &root, "/api/admin/application_enabled", &[("app", "payroll"), ("enabled", "false")]).await;
    assert_eq!((status, off["app"]["enabled"].as_bool()), (StatusCode::OK, Some(false)));
    assert_eq!(off["switched"]["by"], "root");

    let (status, body) = call(&app, &root, "/api/admin/application_delete", &[("app", "payroll"), ("confirm_name", "Payroll")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(field_message(&body, "confirm_name").unwrap().contains("Payroll & HR"));
    let (status, body) = call(&app, &root, "/api/admin/application_delete", &[("app", "myaccount"), ("confirm_name", "My Account")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "My Account can't be deleted: {body}");
    let (status, _) = call(&app, &root, "/api/admin/application_delete", &[("app", "payroll"), ("confirm_name", "Payroll & HR")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(call(&app, &root, "/api/admin/application", &[("app", "payroll")]).await.0, StatusCode::NOT_FOUND);
    // Every change is recorded in the administrator's activity.
    let root_id = domain::users::find_by_login(&app.services.ctx.db, "root").await.unwrap().unwrap().id;
    let events = domain::events::recent(&app.services.ctx.db, root_id, 50).await.unwrap();
    let details: Vec<String> = events.into_iter().filter_map(|e| e.detail).collect();
    for what in
        ["Application Payroll registered", "Application Payroll & HR edited", "Payroll & HR disabled", "Application Payroll & HR deleted"]
    {
        assert!(details.iter().any(|d| d == what), "{what} in {details:?}");
    }
}
it_test!(an_admin_registers_edits_disables_and_deletes_an_application);

/// Threat: stored XSS and script links through an application's fields,
/// and half-stored applications. Each bad field gets its own message and
/// nothing is stored.
async fn bad_application_input_gets_field_messages_and_stores_nothing(app: TestApp) {
    app.user("root", true).await;
    let (root, _) = strong_admin(&app, "root").await;
    let oversize = data_url("image/png", &vec![0x89; domain::apps::logo::MAX_BYTES + 1]);
    let not_image = data_url("text/html", b"<html><script>alert(1)</script></html>");
    let script_svg = data_url("image/svg+xml", br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (form("", "https://x.example", &[]), "name"),
        (form("X", "javascript:alert(1)", &[]), "access_url"),
        (form("X", "http://x.example", &[]), "access_url"),
        (form("X", "https://x.example", &[("form[logo_file]", &oversize)]), "logo"),
        (form("X", "https://x.example", &[("form[logo_file]", &not_image)]), "logo"),
        (form("X", "https://x.example", &[("form[logo_file]", &script_svg)]), "logo"),
        (form("X", "https://x.example", &[("form[logo_file]", "%%%not base64")]), "logo"),
        (form("X", "https://x.example", &[("form[logo_url]", "javascript:alert(1)")]), "logo_url"),
    ];
    for (f, field) in cases {
        let (status, body) = call(&app, &root, "/api/admin/application_create", &f).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {body}");
        assert!(field_message(&body, field).is_some(), "{field}: {body}");
    }
    let (status, body) = call(&app, &root, "/api/admin/application_create", &form(" ", "ftp://x", &[])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(field_message(&body, "name").is_some() && field_message(&body, "access_url").is_some(), "every field at once: {body}");
    let (_, list) = call(&app, &root, "/api/admin/applications", &[]).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "nothing stored: {list}");
    let (status, _) = call(&app, &root, "/api/admin/application_update", &{
        let mut f = form("My Account 2", "https://x.example", &[]);
        f.push(("app", "myaccount"));
        f
    })
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "My Account's details are fixed");
}
it_test!(bad_application_input_gets_field_messages_and_stores_nothing);

/// Threat: people reaching applications an administrator disabled or did
/// not list, and another site filling someone's "recently used" list.
async fn people_list_search_star_and_launch_applications(app: TestApp) {
    app.user("root", true).await;
    app.user("alice", false).await;
    app.user("bob", false).await;
    let (root, _) = strong_admin(&app, "root").await;
    for (name, url, shown) in [
        ("Wiki", "https://wiki.example/", true),
        ("Chat", "https://chat.example/", true),
        ("Hidden", "https://h.example/", false),
        ("Payroll", "https://pay.example/", true),
    ] {
        let f = if shown {
            form(name, url, &[])
        } else {
            form(name, url, &[("form[discoverable]", "")]).into_iter().filter(|(k, _)| *k != "form[discoverable]").collect()
        };
        assert_eq!(call(&app, &root, "/api/admin/application_create", &f).await.0, StatusCode::OK, "{name}");
    }
    call(&app, &root, "/api/admin/application_enabled", &[("app", "payroll"), ("enabled", "false")]).await;

    let alice = app.signed_in("alice").await;
    assert_eq!(names(&app, &alice, "").await, ["Chat", "Wiki"], "hidden, disabled and My Account are never listed");
    assert_eq!(names(&app, &alice, "wi").await, ["Wiki"]);
    let (status, body) = call(&app, &alice, "/api/account/application_favourite", &[("app", "wiki"), ("on", "true")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(names(&app, &alice, "").await, ["Wiki", "Chat"], "favourites first");
    let bob = app.signed_in("bob").await;
    assert_eq!(names(&app, &bob, "").await, ["Chat", "Wiki"], "favourites are per person");
    for hidden in ["hidden", "payroll", "myaccount"] {
        let (status, _) = call(&app, &alice, "/api/account/application_favourite", &[("app", hidden), ("on", "true")]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{hidden}");
    }

    // Launch: a redirect to the registered address; recorded only when
    // followed from this site.
    let launch = |c: &reqwest::Client, handle: &str, site: &str| {
        c.get(app.url(&format!("/api/account/launch?app={handle}"))).header("Sec-Fetch-Site", site.to_owned()).send()
    };
    let r = launch(&alice, "chat", "cross-site").await.unwrap();
    assert_eq!((r.status(), r.headers()["location"].to_str().unwrap()), (StatusCode::FOUND, "https://chat.example/"));
    let (_, mine) = call(&app, &alice, "/api/account/applications", &[]).await;
    assert_eq!(mine["recent"], Value::Array(vec![]), "not recorded from another site");
    let r = launch(&alice, "chat", "same-origin").await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let (_, mine) = call(&app, &alice, "/api/account/applications", &[]).await;
    assert_eq!(mine["recent"][0]["name"], "Chat");
    for hidden in ["hidden", "payroll", "myaccount", "nope"] {
        let r = launch(&alice, hidden, "same-origin").await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{hidden}");
        assert!(r.headers().get("location").is_none());
    }
    assert_eq!(launch(&app.client(), "chat", "same-origin").await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // Without JavaScript: the page lists, searches and stars.
    let html = page_html(&app, &alice, "/myaccount/applications?search=ch").await;
    assert!(html.contains("Chat") && !html.contains("Wiki"), "search as a GET form");
    assert!(html.contains(r#"target="_blank""#) && html.contains(r#"rel="noopener noreferrer""#));
    let back = plain_post(
        &app,
        &alice,
        "/api/account/application_favourite",
        "/myaccount/applications?search=ch",
        &[("app", "chat"), ("on", "true")],
    )
    .await;
    assert_eq!(back, "/myaccount/applications?search=ch");
    assert_eq!(names(&app, &alice, "").await, ["Chat", "Wiki"], "both starred: by name");

    // The switch of My Account applies here too.
    call(&app, &root, "/api/admin/application_enabled", &[("app", "myaccount"), ("enabled", "false")]).await;
    assert_eq!(call(&app, &alice, "/api/account/applications", &[]).await.0, StatusCode::FORBIDDEN);
    assert_eq!(launch(&alice, "chat", "same-origin").await.unwrap().status(), StatusCode::FORBIDDEN);
}
it_test!(people_list_search_star_and_launch_applications);

/// With nothing to launch, the page says what to do.
async fn the_empty_list_says_what_to_do(app: TestApp) {
    app.user("alice", false).await;
    let alice = app.signed_in("alice").await;
    let html = page_html(&app, &alice, "/myaccount/applications").await;
    assert!(html.contains("No applications yet") && html.contains("Your administrator can make applications discoverable"));
}
it_test!(the_empty_list_says_what_to_do);

/// Threat: a crafted Launch address crashing the handler or redirecting
/// anywhere but a registered application.
async fn launch_refuses_garbage(app: TestApp) {
    app.user("alice", false).await;
    let alice = app.signed_in("alice").await;
    let long = format!("/api/account/launch?app={}", "a".repeat(5000));
    for path in [
        "/api/account/launch",
        "/api/account/launch?app=",
        "/api/account/launch?app=%FF%FE",
        "/api/account/launch?app[]=x",
        &long,
        "/api/account/launch?app=https://evil.example",
    ] {
        let r = app.get(&alice, path).await;
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
        assert!(r.headers().get("location").is_none(), "{path}");
        assert!(!r.text().await.unwrap().trim().is_empty(), "{path}: a message");
    }
}
it_test!(launch_refuses_garbage);
