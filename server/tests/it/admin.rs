//! The admin console over HTTP: who may use it, switching My Account off and
//! on, and editing its login flow (validation, lock-out rule, concurrency,
//! history and restore, and what the next sign-in asks for).

use crate::it_test;
use crate::security::{STEP, call, code, enrol_totp};
use crate::support::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json as j};
use std::time::Duration;

const DISABLED: &str = "My Account has been disabled by the administrator.";

/// Every registered server function under `prefix`.
fn functions_under(prefix: &str) -> Vec<&'static str> {
    // Posted functions; the one GET function (Launch) has its own tests.
    let mut paths: Vec<_> = leptos::server_fn::axum::server_fn_paths()
        .filter(|(p, m)| p.starts_with(prefix) && *m == http::Method::POST)
        .map(|(p, _)| p)
        .collect();
    paths.sort();
    paths.dedup();
    assert!(!paths.is_empty(), "no functions under {prefix}");
    paths
}

/// A form with every argument any of those functions takes, each well-formed,
/// so a call is refused by its guard rather than by argument parsing.
fn any_arguments() -> Vec<(&'static str, &'static str)> {
    let mut form = vec![
        ("enabled", "true"),
        ("base_version", "0"),
        ("version", "0"),
        ("definition", r#"{"steps":[{"options":["password"]}]}"#),
        ("ceremony", "00000000-0000-0000-0000-000000000000"),
        ("code", "123456"),
        ("name", "Phone"),
        ("credential", "{}"),
        ("id", "00000000-0000-0000-0000-000000000000"),
        ("current", "x"),
        ("password", "x"),
        ("confirm", "x"),
        ("sign_out_others", "true"),
        ("email", "x@example.com"),
        ("steps[0][password]", "on"),
        ("steps[0][when]", "always"),
        ("app", "myaccount"),
        ("confirm_name", "x"),
        ("on", "true"),
        ("form[name]", "X"),
        ("form[access_url]", "https://x.example"),
        ("form[client_type]", "confidential"),
        ("form[access_token_minutes]", "10"),
        ("form[refresh_token_days]", "30"),
        ("form[id_token_alg]", "RS256"),
        ("request", "x"),
        ("allow", "yes"),
    ];
    for f in ["question1", "answer1", "question2", "answer2"] {
        form.push((Box::leak(format!("form[{f}]").into_boxed_str()), "x"));
    }
    for f in ["given_name", "family_name", "display_name", "phone", "locale", "time_zone", "picture_url"] {
        form.push((Box::leak(format!("profile[{f}]").into_boxed_str()), ""));
    }
    form.push(("profile[email]", "alice@example.com"));
    form
}

/// An administrator signed in as console changes need: an authenticator
/// app added, and proved in this session. Returns the client and the app's secret.
pub(crate) async fn strong_admin(app: &TestApp, name: &str) -> (Client, String) {
    let c = app.signed_in(name).await;
    let secret = enrol_totp(app, &c).await;
    app.advance(STEP);
    let (status, body) = call(app, &c, "/api/reauth/confirm", &[("method", "totp"), ("secret", &code(app, &secret, 0))]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (c, secret)
}

fn flow(steps: Value) -> String {
    j!({ "steps": steps }).to_string()
}

async fn login_flow(app: &TestApp, c: &Client) -> Value {
    let (status, body) = call(app, c, "/api/admin/login_flow", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn save_flow(app: &TestApp, c: &Client, base: i64, definition: &str) -> (StatusCode, Value) {
    call(app, c, "/api/admin/login_flow_update", &[("base_version", &base.to_string()), ("definition", definition)]).await
}

async fn set_enabled(app: &TestApp, c: &Client, enabled: bool) -> (StatusCode, Value) {
    call(app, c, "/api/admin/application_enabled", &[("enabled", if enabled { "true" } else { "false" })]).await
}

/// Threat: privilege escalation. Every admin function refuses anonymous
/// callers (401) and signed-in people who are not administrators (403), and
/// the console's pages say so. Threat: the console's code (what it calls,
/// how) handed to everyone: only administrators' pages load its bundle.
async fn non_admins_are_refused_on_every_admin_function(app: TestApp) {
    app.user("root", true).await;
    app.user("alice", false).await;
    let anon = app.client();
    let alice = app.signed_in("alice").await;
    let root = app.signed_in("root").await;
    let form = any_arguments();
    for path in functions_under("/api/admin/") {
        let (status, body) = call(&app, &anon, path, &form).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
        let (status, body) = call(&app, &alice, path, &form).await;
        assert_eq!((status, &body), (StatusCode::FORBIDDEN, &Value::from("Forbidden")), "{path}");
    }
    assert_eq!(login_flow(&app, &root).await["version"], 0, "nothing was saved by the refused calls");
    let (_, a) = call(&app, &root, "/api/admin/application", &[]).await;
    assert_eq!(a["app"]["enabled"], true);

    let page = app.get(&alice, "/admin/applications").await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let html = page.text().await.unwrap();
    assert!(html.contains("The admin console is for administrators only"));
    // The console's code goes to administrators only: the refusal loads no
    // app at all, and her My Account pages load the bundle without it.
    assert!(!html.contains("frontend.js") && !html.contains("frontend_bg.wasm"), "the refusal loads no app");
    let mine = app.get(&alice, "/myaccount/security").await.text().await.unwrap();
    assert!(mine.contains("/pkg/frontend.js") && !mine.contains("/pkg/console/"), "no console code for people");
    let theirs = app.get(&root, "/myaccount/security").await.text().await.unwrap();
    assert!(theirs.contains("/pkg/console/frontend.js"), "administrators load the console bundle");
    let r = app.get(&anon, "/admin/applications/myaccount").await;
    assert_eq!(r.headers()["location"], "/login?next=/admin/applications/myaccount");
    let page = app.get(&root, "/admin/applications").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("My Account") && html.contains(&format!("{}/myaccount", app.base)), "listed with its access URL");
}
it_test!(non_admins_are_refused_on_every_admin_function);

/// Disabling applies at once to every My Account function and page (403 with
/// the message); sessions stay valid; admins keep the console; enabling
/// brings everything back. Who switched it, and when, is recorded.
async fn disabling_my_account_refuses_it_at_once_and_enabling_brings_it_back(app: TestApp) {
    app.user("root", true).await;
    app.user("alice", false).await;
    let (root, _) = strong_admin(&app, "root").await;
    let alice = app.signed_in("alice").await;
    assert_eq!(call(&app, &alice, "/api/account/me", &[]).await.0, StatusCode::OK);

    let (status, body) = set_enabled(&app, &root, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["app"]["enabled"], false);
    assert_eq!(body["switched"]["by"], "root");
    assert!(body["switched"]["at"].as_str().unwrap().ends_with("UTC"));

    let form = any_arguments();
    for prefix in ["/api/account/", "/api/security/", "/api/sessions/", "/api/recovery/"] {
        for path in functions_under(prefix) {
            for who in [&alice, &root] {
                let (status, body) = call(&app, who, path, &form).await;
                assert_eq!((status, &body), (StatusCode::FORBIDDEN, &Value::from("PortalDisabled")), "{path}");
            }
        }
    }
    for path in ["/myaccount", "/myaccount/personal-info", "/myaccount/security", "/myaccount/recovery"] {
        let page = app.get(&alice, path).await;
        assert_eq!(page.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(page.text().await.unwrap().contains(DISABLED), "{path}");
    }
    // Still signed in (other applications keep working): the session answers.
    assert_eq!(call(&app, &alice, "/api/reauth/options", &[]).await.0, StatusCode::OK);
    // The console still works, so the switch can be turned back.
    assert_eq!(app.get(&root, "/admin/applications/myaccount").await.status(), StatusCode::OK);
    let (_, list) = call(&app, &root, "/api/admin/applications", &[]).await;
    assert_eq!((list[0]["id"].as_str(), list[0]["enabled"].as_bool()), (Some("myaccount"), Some(false)));

    let (status, body) = set_enabled(&app, &root, true).await;
    assert_eq!((status, &body["app"]["enabled"]), (StatusCode::OK, &Value::Bool(true)));
    assert_eq!(call(&app, &alice, "/api/account/me", &[]).await.0, StatusCode::OK);
    assert_eq!(app.get(&alice, "/myaccount").await.status(), StatusCode::OK);
}
it_test!(disabling_my_account_refuses_it_at_once_and_enabling_brings_it_back);

/// The switch is stored, not held in one server's memory: a second server
/// on the same database sees it on its next request.
async fn the_switch_applies_on_every_instance(app: TestApp) {
    app.user("root", true).await;
    app.user("alice", false).await;
    let (root, _) = strong_admin(&app, "root").await;
    let alice = app.signed_in("alice").await;
    assert_eq!(call(&app, &alice, "/api/account/overview", &[]).await.0, StatusCode::OK);
    // Flip it behind this server's back, as another instance would.
    let admin_id = domain::users::find_by_login(&app.services.ctx.db, "root").await.unwrap().unwrap().id;
    domain::apps::set_my_account_enabled(&app.services.ctx.db, false, admin_id, app.clock_now()).await.unwrap();
    assert_eq!(call(&app, &alice, "/api/account/overview", &[]).await.0, StatusCode::FORBIDDEN);
    let (status, _) = set_enabled(&app, &root, true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(call(&app, &alice, "/api/account/overview", &[]).await.0, StatusCode::OK);
}
it_test!(the_switch_applies_on_every_instance);

/// Threat: a borrowed, still-signed-in admin browser. Console changes need a
/// recent sign-in proof, like sensitive changes in My Account.
async fn console_changes_need_a_recent_proof(app: TestApp) {
    app.user("root", true).await;
    let (root, _) = strong_admin(&app, "root").await;
    app.advance(Duration::from_secs(6 * 60));
    let (status, body) = set_enabled(&app, &root, false).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, Value::from("ReauthRequired")));
    let def = flow(j!([{ "options": ["password"] }]));
    assert_eq!(save_flow(&app, &root, 0, &def).await.1, Value::from("ReauthRequired"));
    reauthenticate(&app, &root).await;
    assert_eq!(set_enabled(&app, &root, false).await.0, StatusCode::OK);
    assert_eq!(save_flow(&app, &root, 0, &def).await.0, StatusCode::OK);
}
it_test!(console_changes_need_a_recent_proof);

/// Table-driven: valid flows are saved as new versions; invalid, malformed,
/// unknown or oversize ones get a clear message and leave the stored flow as it was.
async fn flows_are_validated_and_bad_ones_change_nothing(app: TestApp) {
    app.user("root", true).await;
    // With an authenticator app, the admin can complete every flow below.
    let (root, _) = strong_admin(&app, "root").await;
    let valid = [
        flow(j!([{ "options": ["password"] }])),
        flow(j!([{ "options": ["passkey", "password"] }, { "options": ["totp", "backup_code"], "when": "if_new_device" }])),
        flow(
            j!([{ "options": ["password"] }, { "options": ["backup_code"], "when": "if_enrolled" }, { "options": ["totp"], "when": "if_admin" }]),
        ),
    ];
    let mut version = 0;
    for def in &valid {
        let (status, body) = save_flow(&app, &root, version, def).await;
        assert_eq!(status, StatusCode::OK, "{def}: {body}");
        version += 1;
        assert_eq!(body["version"], version);
        let sent: Value = serde_json::from_str(def).unwrap();
        assert_eq!(body["flow"], with_conditions(&sent["steps"]), "stored as sent");
    }
    let six = flow(Value::Array(vec![j!({ "options": ["password"] }); 6]));
    let oversize = format!(r#"{{"steps":[{{"options":["password"]}}],"pad":"{}"}}"#, "x".repeat(5000));
    let invalid: Vec<(String, &str)> = vec![
        (flow(j!([])), "Add at least one step."),
        (flow(j!([{ "options": ["totp"] }])), "Step 1 must offer a password or a passkey"),
        (flow(j!([{ "options": ["password", "backup_code"] }])), "Backup code cannot be offered in step 1"),
        (flow(j!([{ "options": ["password"] }, { "options": [] }])), "Step 2 has no options."),
        (flow(j!([{ "options": ["password", "password"] }])), "Step 1 lists an option twice."),
        (flow(j!([{ "options": ["password"], "when": "if_admin" }])), "Step 1 always applies."),
        (six, "Use at most 5 steps."),
        (flow(j!([{ "options": ["sms"] }])), "The flow could not be read: unknown variant `sms`"),
        (flow(j!([{ "options": ["password"], "when": "sometimes" }])), "The flow could not be read: unknown variant `sometimes`"),
        (r#"{"steps":[{"options":["password"]}],"admin":true}"#.into(), "The flow could not be read: unknown field `admin`"),
        (r#"{"steps":[{"options":"password"}]}"#.into(), "The flow could not be read: invalid type"),
        ("{not json".into(), "The flow could not be read"),
        (String::new(), "The flow could not be read"),
        (oversize, "The flow is too large"),
    ];
    for (def, message) in &invalid {
        let (status, body) = save_flow(&app, &root, version, def).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{def}: {body}");
        let got = field_message(&body, "flow").unwrap_or_default();
        assert!(got.contains(message), "{def}: {got}");
    }
    // Wrong argument types are refused before anything runs.
    let (status, _) = call(&app, &root, "/api/admin/login_flow_update", &[("base_version", "one"), ("definition", &valid[0])]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let now = login_flow(&app, &root).await;
    assert_eq!(now["version"], version, "no invalid flow was stored");
    assert_eq!(now["history"].as_array().unwrap().len(), valid.len() + 1, "saved versions and the built-in default");
}
it_test!(flows_are_validated_and_bad_ones_change_nothing);

/// Steps as the server echoes them: conditions spelled out ("always" by default).
fn with_conditions(steps: &Value) -> Value {
    {
        let steps: Vec<Value> = steps
            .as_array()
            .unwrap()
            .iter()
            .map(|s| j!({ "options": s["options"], "when": s.get("when").cloned().unwrap_or(Value::from("always")) }))
            .collect();
        j!({ "steps": steps })
    }
}

/// Threat: an administrator locking every administrator out. A flow no
/// admin could complete is refused with the reason; lost updates too.
async fn lock_out_and_stale_saves_are_refused(app: TestApp) {
    app.user("root", true).await;
    let (root, _) = strong_admin(&app, "root").await;
    let codes_always = flow(j!([{ "options": ["password"] }, { "options": ["backup_code"] }]));
    let (status, body) = save_flow(&app, &root, 0, &codes_always).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let m = body["Refused"].as_str().unwrap();
    assert!(m.contains("No administrator could sign in with this flow") && m.contains("Step 2 asks for Backup code"), "{m}");
    assert_eq!(login_flow(&app, &root).await["version"], 0);

    // Once the admin has backup codes, the same flow is accepted.
    assert_eq!(call(&app, &root, "/api/security/backup_codes_generate", &[]).await.0, StatusCode::OK);
    let (status, body) = save_flow(&app, &root, 0, &codes_always).await;
    assert_eq!((status, &body["version"]), (StatusCode::OK, &Value::from(1)));
    // An editor still on version 0 cannot overwrite version 1.
    let (status, body) = save_flow(&app, &root, 0, &flow(j!([{ "options": ["password"] }]))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["Refused"].as_str().unwrap().contains("Another administrator saved the login flow"));
    assert_eq!(login_flow(&app, &root).await["version"], 1);
}
it_test!(lock_out_and_stale_saves_are_refused);

/// Sign in with the password; `Some(next step)` when another step is asked for.
async fn password_sign_in(app: &TestApp, name: &str) -> (Client, StatusCode, Value) {
    let c = app.client();
    let (status, next) = json(app.login(&c, name, TEST_PASSWORD).await).await;
    (c, status, next)
}

/// The saved flow decides what the next sign-in asks for: "only for
/// administrators" asks admins only; "always" asks everyone; people already
/// signed in stay signed in.
async fn the_saved_flow_applies_to_the_next_sign_in(app: TestApp) {
    app.user("root", true).await;
    app.user("alice", false).await;
    app.user("bob", false).await;
    let (root, root_secret) = strong_admin(&app, "root").await;
    let alice = app.signed_in("alice").await;
    let alice_secret = enrol_totp(&app, &alice).await;
    let bob = app.signed_in("bob").await;

    let admins_only = flow(j!([{ "options": ["password"] }, { "options": ["totp"], "when": "if_admin" }]));
    let (status, body) = save_flow(&app, &root, 0, &admins_only).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, status, next) = password_sign_in(&app, "alice").await;
    assert_eq!((status, next.as_str()), (StatusCode::OK, Some("/myaccount")), "alice has TOTP but is not an admin: not asked");
    let (_, status, next) = password_sign_in(&app, "root").await;
    assert_eq!((status, next.as_str()), (StatusCode::OK, Some("/login/verify")), "the admin is asked");

    let everyone = flow(j!([{ "options": ["password"] }, { "options": ["totp"], "when": "always" }]));
    // Bob has no authenticator app: the console asks before stopping him.
    let (status, body) = save_flow(&app, &root, 1, &everyone).await;
    assert_eq!((status, body), (StatusCode::CONFLICT, j!({ "WouldBlock": { "people": 1 } })));
    let confirmed = [("base_version", "1"), ("definition", everyone.as_str()), ("confirm_blocked", "1")];
    let (status, _) = call(&app, &root, "/api/admin/login_flow_update", &confirmed).await;
    assert_eq!(status, StatusCode::OK);
    let (c, status, next) = password_sign_in(&app, "alice").await;
    assert_eq!((status, next.as_str()), (StatusCode::OK, Some("/login/verify")), "now everyone is asked");
    app.advance(STEP);
    let (status, body) = call(&app, &c, "/api/auth/verify_sign_in", &[("method", "totp"), ("code", &code(&app, &alice_secret, 0))]).await;
    assert_eq!((status, body), (StatusCode::OK, Value::from("/myaccount")));
    // Bob has no authenticator app: the flow cannot be completed, and he is told why.
    let (_, status, body) = password_sign_in(&app, "bob").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["Refused"].as_str().unwrap().contains("Sign-in step 2 asks for a method you have not set up"), "{body}");
    // Sessions from before the change are untouched.
    assert!(is_signed_in(&app, &bob).await && is_signed_in(&app, &alice).await && is_signed_in(&app, &root).await);
    let _ = root_secret;
}
it_test!(the_saved_flow_applies_to_the_next_sign_in);

/// Every version is kept with who saved it and what changed; restoring an
/// older one (or the built-in default) saves it again as the newest.
async fn versions_are_kept_and_can_be_restored(app: TestApp) {
    app.user("root", true).await;
    let (root, _) = strong_admin(&app, "root").await;
    let v1 = flow(j!([{ "options": ["passkey", "password"] }, { "options": ["totp", "backup_code"], "when": "if_enrolled" }]));
    let v2 = flow(j!([{ "options": ["password"] }]));
    assert_eq!(save_flow(&app, &root, 0, &v1).await.0, StatusCode::OK);
    let (_, info) = save_flow(&app, &root, 1, &v2).await;
    let history = info["history"].as_array().unwrap();
    assert_eq!(history.iter().map(|h| h["version"].as_i64().unwrap()).collect::<Vec<_>>(), vec![2, 1, 0]);
    assert_eq!(history[0]["current"], true);
    assert_eq!(history[0]["saved"]["by"], "root");
    assert_eq!(
        history[0]["changes"],
        j!([
            "Step 1: Passkey or Password (always) → Password (always)",
            "Step 2 removed: Authenticator app (TOTP) or Backup code (when enrolled)"
        ])
    );
    assert_eq!(history[2]["saved"], Value::Null, "the built-in default was never saved");

    let (status, info) = call(&app, &root, "/api/admin/login_flow_restore", &[("base_version", "2"), ("version", "1")]).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["version"], 3);
    assert_eq!(info["flow"], with_conditions(&serde_json::from_str::<Value>(&v1).unwrap()["steps"]));
    let (status, info) = call(&app, &root, "/api/admin/login_flow_restore", &[("base_version", "3"), ("version", "0")]).await;
    assert_eq!((status, &info["version"]), (StatusCode::OK, &Value::from(4)));
    assert_eq!(
        info["history"][0]["steps"],
        j!(["Step 1: Password or Passkey (always)", "Step 2: Authenticator app (TOTP) or Backup code (when enrolled)"])
    );
    let (status, _) = call(&app, &root, "/api/admin/login_flow_restore", &[("base_version", "4"), ("version", "99")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(login_flow(&app, &root).await["version"], 4);
}
it_test!(versions_are_kept_and_can_be_restored);

/// Threat: a phished or guessed administrator password changing how everyone
/// signs in. Console changes need a session that used two factors (or a
/// passkey): a password-only admin can read the console, is told what to do,
/// and is refused; after adding an authenticator app and proving it, the
/// change goes through.
async fn console_changes_need_two_factors(app: TestApp) {
    app.user("root", true).await;
    let root = app.signed_in("root").await;
    let (status, me) = call(&app, &root, "/api/admin/me", &[]).await;
    assert_eq!((status, &me["multi_factor"]), (StatusCode::OK, &Value::Bool(false)));
    let (_, account) = call(&app, &root, "/api/account/me", &[]).await;
    assert_eq!(account["admin_needs_second_factor"], true, "My Account tells the admin too");
    assert_eq!(call(&app, &root, "/api/admin/login_flow", &[]).await.0, StatusCode::OK, "reads still work");
    let (status, body) = set_enabled(&app, &root, false).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["Refused"].as_str().unwrap().contains("Changes in the console need two factors"), "{body}");
    let (status, _) = save_flow(&app, &root, 0, &flow(j!([{ "options": ["password"] }]))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // A fresh password proof does not count as a second factor.
    reauthenticate(&app, &root).await;
    assert_eq!(set_enabled(&app, &root, false).await.0, StatusCode::CONFLICT);
    assert_eq!(login_flow(&app, &root).await["version"], 0, "nothing changed");
    // The console page shows the banner with a link to Security.
    let html = app.get(&root, "/admin/applications").await.text().await.unwrap();
    assert!(html.contains("needs-two-factors") && html.contains("/myaccount/security"));

    let secret = enrol_totp(&app, &root).await;
    app.advance(STEP);
    let (status, _) = call(&app, &root, "/api/reauth/confirm", &[("method", "totp"), ("secret", &code(&app, &secret, 0))]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(call(&app, &root, "/api/admin/me", &[]).await.1["multi_factor"], true);
    assert_eq!(set_enabled(&app, &root, false).await.0, StatusCode::OK);
    assert_eq!(save_flow(&app, &root, 0, &flow(j!([{ "options": ["password"] }]))).await.0, StatusCode::OK);
}
it_test!(console_changes_need_two_factors);

/// Threat: an administrator locking people out by accident. Before a flow
/// that some people could not complete is saved, the console is told how
/// many (409 `WouldBlock`) and nothing is stored; sending that number back
/// confirms it.
async fn a_flow_that_would_block_people_asks_first(app: TestApp) {
    app.user("root", true).await;
    app.user("alice", false).await;
    app.user("bob", false).await;
    let (root, _) = strong_admin(&app, "root").await;
    let totp_always = flow(j!([{ "options": ["password"] }, { "options": ["totp"] }]));
    let (status, body) = save_flow(&app, &root, 0, &totp_always).await;
    assert_eq!((status, body), (StatusCode::CONFLICT, j!({ "WouldBlock": { "people": 2 } })));
    assert_eq!(login_flow(&app, &root).await["version"], 0, "nothing saved");
    let wrong = [("base_version", "0"), ("definition", totp_always.as_str()), ("confirm_blocked", "1")];
    assert_eq!(call(&app, &root, "/api/admin/login_flow_update", &wrong).await.0, StatusCode::CONFLICT, "the count must match");
    let right = [("base_version", "0"), ("definition", totp_always.as_str()), ("confirm_blocked", "2")];
    let (status, body) = call(&app, &root, "/api/admin/login_flow_update", &right).await;
    assert_eq!((status, &body["version"]), (StatusCode::OK, &Value::from(1)), "{body}");
    // Restoring a version that blocks nobody needs no confirmation.
    let (status, _) = call(&app, &root, "/api/admin/login_flow_restore", &[("base_version", "1"), ("version", "0")]).await;
    assert_eq!(status, StatusCode::OK);
}
it_test!(a_flow_that_would_block_people_asks_first);

/// Checks the Login Flow tab without JavaScript: the page renders the flow
/// as a plain form (a row per step, a checkbox per option); posting it
/// saves the flow it describes (empty rows drop out), a flow that would stop
/// people comes back saying how many and is saved once that number is
/// ticked, and an older version is restored with a plain form too.
/// Threat: an administrator without JavaScript unable to undo a bad flow,
/// or saving one that locks people out unawares.
async fn without_javascript_the_login_flow_is_edited_and_restored_with_plain_forms(app: TestApp) {
    use crate::security::{page_html, plain_post};
    app.user("root", true).await;
    app.user("alice", false).await;
    let (root, _) = strong_admin(&app, "root").await;
    const TAB: &str = "/admin/applications/myaccount?tab=login-flow";
    let page = page_html(&app, &root, TAB).await;
    assert!(page.contains(r#"action="/api/admin/login_flow_form""#), "the tab is a plain form without JavaScript");
    assert!(page.contains(r#"name="steps[1][totp]""#) && page.contains(r#"name="steps[4][when]""#), "a row per possible step");

    let form = |extra: &[(&'static str, &'static str)]| {
        let mut f = vec![
            ("base_version", "0"),
            ("steps[0][password]", "on"),
            ("steps[0][when]", "always"),
            ("steps[1][when]", "always"),
            ("steps[2][totp]", "on"),
            ("steps[2][when]", "always"),
        ];
        f.extend_from_slice(extra);
        f
    };
    let back = plain_post(&app, &root, "/api/admin/login_flow_form", TAB, &form(&[])).await;
    assert!(back.contains("__err="), "an authenticator app for everyone would stop alice: {back}");
    let page = page_html(&app, &root, &back).await;
    assert!(page.contains("This flow would stop 1 person"), "saying how many");
    assert!(page.contains(r#"name="confirm_blocked" value="1""#), "and offering to confirm that number");
    assert_eq!(login_flow(&app, &root).await["version"], 0, "nothing saved");

    let saved = plain_post(&app, &root, "/api/admin/login_flow_form", TAB, &form(&[("confirm_blocked", "1")])).await;
    assert_eq!(saved, "/admin/applications/myaccount?tab=login-flow&saved=1");
    assert!(page_html(&app, &root, &saved).await.contains("Saved as version 1."));
    let current = login_flow(&app, &root).await;
    assert_eq!(
        current["flow"],
        j!({ "steps": [{ "options": ["password"], "when": "always" }, { "options": ["totp"], "when": "always" }] })
    );

    let bad = [("base_version", "1"), ("steps[0][password]", "on"), ("steps[1][totp]", "on"), ("steps[1][when]", "sometimes")];
    let back = plain_post(&app, &root, "/api/admin/login_flow_form", TAB, &bad).await;
    assert!(page_html(&app, &root, &back).await.contains("Choose when step 2 applies."));

    let page = page_html(&app, &root, TAB).await;
    assert!(page.contains(r#"data-testid="plain-restore-0""#), "each older version has a plain Restore form");
    let restored =
        plain_post(&app, &root, "/api/admin/login_flow_restore", TAB, &[("base_version", "1"), ("version", "0"), ("confirm", "yes")]).await;
    assert_eq!(restored, "/admin/applications/myaccount?tab=login-flow&restored=2");
    assert_eq!(login_flow(&app, &root).await["version"], 2);
}
it_test!(without_javascript_the_login_flow_is_edited_and_restored_with_plain_forms);
