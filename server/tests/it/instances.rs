//! Two instances, one database: what is done on one server applies on the
//! other at once. Sessions, the My Account switch, the login flow and the
//! guessing budget live in the database, not in one process's memory, so a
//! deployment behind a load balancer behaves like one server.
//!
//! The second server ([`Second`]) runs on the first one's database (the same
//! SQLite file; the same PostgreSQL database), with its server key, its clock
//! and its public URL, as real instances behind one address do; only its
//! port differs. A browser would send the one cookie to both, so requests to
//! the second carry the session cookie by hand.

use crate::security::{STEP, call, code, enrol_totp};
use crate::support::*;
use reqwest::header::{COOKIE, HeaderMap, HeaderValue, ORIGIN};
use reqwest::{Client, StatusCode, redirect};
use serde_json::{Value, json as j};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::task::AbortHandle;

/// A second server on the database of a [`TestApp`].
struct Second {
    base: String,
    /// Sends the public origin (the first server's), keeps no cookies.
    client: Client,
    tasks: Vec<AbortHandle>,
}

impl Drop for Second {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Second {
    /// Starts a server as `TestApp::spawn_with` does, on `database_url` with
    /// `secret_key`, sharing `first`'s public URL, clock and mail sink.
    async fn start(first: &TestApp, database_url: &str, secret_key: Option<String>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut config = server::Config::for_test(database_url, &first.base, addr);
        config.secret_key = secret_key;
        config.smtp_host = Some("127.0.0.1".into());
        config.smtp_port = first.mail.addr.port();
        let built = server::build(&config, first.clock.clone()).await.expect("second server builds");
        let mail = tokio::spawn(domain::mail::run(built.services.ctx.clone(), built.mail)).abort_handle();
        let router = built.router;
        let serve = tokio::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
        })
        .abort_handle();
        let mut headers = HeaderMap::new();
        headers.insert(ORIGIN, HeaderValue::from_str(&first.base).expect("origin"));
        let client = Client::builder()
            .default_headers(headers)
            .redirect(redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Self { base: format!("http://{addr}"), client, tasks: vec![mail, serve] }
    }

    /// Calls a server function, with the session `token` when given.
    async fn call(&self, token: Option<&str>, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let mut rb = self.client.post(format!("{}{path}", self.base)).form(form);
        if let Some(t) = token {
            rb = rb.header(COOKIE, format!("latchkey_session={t}"));
        }
        json(rb.send().await.expect("request")).await
    }

    /// Signs in with a password: the answer, and the session token if one was set.
    async fn login(&self, name: &str, password: &str) -> (StatusCode, Value, Option<String>) {
        let r = self.client.post(format!("{}/api/auth/login", self.base)).form(&[("identifier", name), ("password", password)]);
        let r = r.send().await.expect("request");
        let token = session_cookie(&r).map(|c| cookie_token(&c)).filter(|t| !t.is_empty());
        let (status, body) = json(r).await;
        (status, body, token)
    }
}

/// The first server, and a second one on its database with its key.
async fn two_instances(backend: Backend) -> Option<(TestApp, Second)> {
    let (mut url, mut key) = (String::new(), None);
    let first = TestApp::spawn_with(backend, |c| {
        url = c.database_url.clone();
        key = c.secret_key.clone();
    })
    .await?;
    assert!(key.is_some(), "test servers are given their key");
    let second = Second::start(&first, &url, key).await;
    Some((first, second))
}

/// Runs an `async fn(TestApp, Second)` on SQLite and on PostgreSQL (as
/// `it_test!` does), both servers on one database.
macro_rules! two_instances_test {
    ($case:ident) => {
        mod $case {
            use $crate::support::Backend;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let (a, b) = super::two_instances(Backend::Sqlite).await.expect("sqlite apps");
                super::$case(a, b).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match super::two_instances(Backend::Postgres).await {
                    Some((a, b)) => super::$case(a, b).await,
                    None => eprintln!("{}", domain::testing::PG_SKIP_NOTICE),
                }
            }
        }
    };
}

/// Signs in on the first server: its client (cookie kept) and the token.
async fn sign_in_on_first(app: &TestApp, name: &str) -> (Client, String) {
    let c = app.client();
    let r = app.login(&c, name, TEST_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK, "sign-in of {name}");
    let token = cookie_token(&session_cookie(&r).expect("session cookie"));
    (c, token)
}

/// A call to the first server with a session token sent by hand.
async fn call_with_token(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    let r = app.client().post(app.url(path)).header(COOKIE, format!("latchkey_session={token}")).form(&[] as &[(&str, &str)]);
    json(r.send().await.expect("request")).await
}

/// An administrator signed in as console changes need (an authenticator app,
/// proved in this session), as in the admin tests.
async fn strong_admin(app: &TestApp, name: &str) -> Client {
    let c = app.signed_in(name).await;
    let secret = enrol_totp(app, &c).await;
    app.advance(STEP);
    let (status, body) = call(app, &c, "/api/reauth/confirm", &[("method", "totp"), ("secret", &code(app, &secret, 0))]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    c
}

/// Threat: a revoked or signed-out session living on at another instance
/// (a session cache per process), so "sign out" or "end that session" after a
/// theft would not stop the thief. A session made on one instance is accepted
/// on the other; ended on either, it is refused on both at once.
async fn sessions_are_shared_and_end_on_every_instance_at_once(a: TestApp, b: Second) {
    a.user("alice", false).await;
    // Made on A, accepted on B, revoked on B, refused on A.
    let (on_a, token) = sign_in_on_first(&a, "alice").await;
    let (status, me) = b.call(Some(&token), "/api/account/me", &[]).await;
    assert_eq!((status, &me["username"]), (StatusCode::OK, &Value::from("alice")), "{me}");
    let (status, list) = b.call(Some(&token), "/api/sessions/list", &[]).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let this = list.as_array().expect("a list").iter().find(|s| s["current"] == true).expect("the current session");
    let id = this["id"].as_str().expect("an id").to_owned();
    let (status, body) = b.call(Some(&token), "/api/sessions/revoke", &[("id", &id)]).await;
    assert_eq!((status, body), (StatusCode::OK, Value::from("/login")));
    let (status, body) = json(a.post(&on_a, "/api/account/me", &[]).await).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, Value::from("Unauthenticated")), "refused on A at once");
    assert_eq!(b.call(Some(&token), "/api/account/me", &[]).await.0, StatusCode::UNAUTHORIZED, "and on B");

    // Made on B, accepted on A, signed out on A, refused on B.
    let (status, next, token) = b.login("alice", TEST_PASSWORD).await;
    assert_eq!((status, next.as_str()), (StatusCode::OK, Some("/myaccount")));
    let token = token.expect("a session cookie from B");
    let (status, me) = call_with_token(&a, &token, "/api/account/me").await;
    assert_eq!((status, &me["username"]), (StatusCode::OK, &Value::from("alice")), "{me}");
    assert_eq!(call_with_token(&a, &token, "/api/auth/logout").await.0, StatusCode::OK);
    let (status, body) = b.call(Some(&token), "/api/account/me", &[]).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, Value::from("Unauthenticated")), "refused on B at once");
}
two_instances_test!(sessions_are_shared_and_end_on_every_instance_at_once);

/// Threat: an administrator's decision not applying everywhere — My Account
/// switched off (say, during an incident) still open on another instance, or
/// a stricter login flow that one instance does not ask for. Both are read
/// from the database on each request: a change saved on A applies on B at
/// the next request, with no restart and no wait.
async fn console_changes_on_one_instance_apply_on_the_other_at_once(a: TestApp, b: Second) {
    a.user("root", true).await;
    a.user("alice", false).await;
    let root = strong_admin(&a, "root").await;
    let (status, next, alice) = b.login("alice", TEST_PASSWORD).await;
    assert_eq!((status, next.as_str()), (StatusCode::OK, Some("/myaccount")), "no second step for alice yet");
    let alice = alice.expect("a session cookie from B");
    assert_eq!(b.call(Some(&alice), "/api/account/me", &[]).await.0, StatusCode::OK);

    let (status, body) = call(&a, &root, "/api/admin/application_enabled", &[("enabled", "false")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = b.call(Some(&alice), "/api/account/me", &[]).await;
    assert_eq!((status, body), (StatusCode::FORBIDDEN, Value::from("PortalDisabled")), "switched off on B at once");
    let (status, body) = call(&a, &root, "/api/admin/application_enabled", &[("enabled", "true")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(b.call(Some(&alice), "/api/account/me", &[]).await.0, StatusCode::OK, "and back on");

    // Everyone must now give an authenticator code after the password;
    // alice has none (the console asks to confirm blocking her), so her next
    // sign-in on B is refused with the reason.
    let everyone = j!({ "steps": [{ "options": ["password"] }, { "options": ["totp"], "when": "always" }] }).to_string();
    let save = [("base_version", "0"), ("definition", everyone.as_str()), ("confirm_blocked", "1")];
    let (status, body) = call(&a, &root, "/api/admin/login_flow_update", &save).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, token) = b.login("alice", TEST_PASSWORD).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["Refused"].as_str().unwrap_or_default().contains("Sign-in step 2 asks for a method you have not set up"), "{body}");
    assert_eq!(token, None, "no session");
    assert_eq!(b.call(Some(&alice), "/api/account/me", &[]).await.0, StatusCode::OK, "sessions from before stay valid");
}
two_instances_test!(console_changes_on_one_instance_apply_on_the_other_at_once);

/// Threat: online password guessing multiplied by the number of instances.
/// The per-account budget is one budget in the database: 10 wrong passwords
/// in a row, spread over both instances, slow the account down on both (the
/// 11th attempt, even with the right password, answers 429 on either), until
/// a minute has passed.
async fn the_guessing_budget_of_an_account_is_shared_by_every_instance(a: TestApp, b: Second) {
    a.user("alice", false).await;
    for attempt in 1..=10 {
        let (status, body) = if attempt % 2 == 1 {
            json(a.login(&a.client(), "alice", "not the password").await).await
        } else {
            let (status, body, _) = b.login("alice", "not the password").await;
            (status, body)
        };
        assert_eq!((status, body), (StatusCode::UNAUTHORIZED, Value::from("InvalidCredentials")), "attempt {attempt}");
    }
    for password in ["not the password", TEST_PASSWORD] {
        let (status, body) = json(a.login(&a.client(), "alice", password).await).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "A: {body}");
        assert!(body["RateLimited"]["retry_after_secs"].as_u64().is_some_and(|s| (1..=60).contains(&s)), "{body}");
        let (status, body, token) = b.login("alice", password).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "B: {body}");
        assert_eq!(token, None);
    }
    // A minute later (the instances share the clock), one attempt is allowed again.
    a.advance(Duration::from_secs(61));
    let (status, next, token) = b.login("alice", TEST_PASSWORD).await;
    assert_eq!((status, next.as_str()), (StatusCode::OK, Some("/myaccount")));
    assert!(token.is_some());
}
two_instances_test!(the_guessing_budget_of_an_account_is_shared_by_every_instance);
