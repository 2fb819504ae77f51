#![allow(dead_code)] // each test file uses a different part of the kit

use app::ssr::Services;
use chrono::Utc;
use domain::clock::{Clock as _, ManualClock, SystemClock};
use domain::testing::{PASSWORD, PgDatabase};
use reqwest::header::{HeaderMap, HeaderValue, ORIGIN};
use reqwest::{Client, Response, StatusCode, redirect};
use serde_json::Value;
use server::Config;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use domain::testing::PASSWORD as TEST_PASSWORD;

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

enum DbGuard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] PgDatabase),
}

/// A running server with a database of its own.
pub struct TestApp {
    /// `http://localhost:PORT`, the public origin.
    pub base: String,
    pub addr: SocketAddr,
    pub services: Services,
    pub clock: Arc<ManualClock>,
    /// The SMTP listener this server sends its mail to.
    pub mail: crate::smtp::MailSink,
    server: tokio::task::JoinHandle<()>,
    _db: DbGuard,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    /// `None` when the backend is PostgreSQL and no server is configured.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<Self> {
        let (url, guard) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("latchkey.db").display());
                (url, DbGuard::Sqlite(dir))
            }
            Backend::Postgres => {
                let admin = domain::testing::postgres_admin_url()?;
                let pg = PgDatabase::create(&admin).await;
                (pg.url.clone(), DbGuard::Postgres(pg))
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let base = format!("http://localhost:{}", addr.port());
        let mut config = Config::for_test(&url, &base, addr);
        let mail = crate::smtp::MailSink::start().await;
        config.smtp_host = Some("127.0.0.1".into());
        config.smtp_port = mail.addr.port();
        tweak(&mut config);
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        let built = server::build(&config, clock.clone()).await.expect("server builds");
        let router = built.router;
        tokio::spawn(domain::mail::run(built.services.ctx.clone(), built.mail));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await;
        });
        Some(Self { base, addr, services: built.services, clock, mail, server, _db: guard })
    }

    /// A browser-like client: keeps cookies, sends this site's `Origin`, does
    /// not follow redirects (tests look at them).
    pub fn client(&self) -> Client {
        let mut h = HeaderMap::new();
        h.insert(ORIGIN, HeaderValue::from_str(&self.base).expect("origin"));
        self.client_builder().default_headers(h).build().expect("client")
    }

    /// A browser-like client that also sends `user_agent`.
    pub fn client_with_agent(&self, user_agent: &str) -> Client {
        let mut h = HeaderMap::new();
        h.insert(ORIGIN, HeaderValue::from_str(&self.base).expect("origin"));
        self.client_builder().default_headers(h).user_agent(user_agent.to_owned()).build().expect("client")
    }

    /// A client that sends no `Origin` header (like a forged cross-site form
    /// from a browser that strips it, or a bare script).
    pub fn bare_client(&self) -> Client {
        self.client_builder().build().expect("client")
    }

    fn client_builder(&self) -> reqwest::ClientBuilder {
        Client::builder()
            .cookie_store(true)
            .redirect(redirect::Policy::none())
            .resolve("localhost", self.addr)
            .timeout(Duration::from_secs(30))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Creates an account with [`PASSWORD`] directly in the database.
    pub async fn user(&self, name: &str, is_admin: bool) -> domain::users::User {
        domain::users::create_with_password(
            &self.services.ctx,
            domain::users::NewUser { username: name.into(), email: format!("{name}@example.com"), is_admin },
            PASSWORD,
            self.clock.now(),
        )
        .await
        .expect("create user")
    }

    pub async fn post(&self, client: &Client, path: &str, form: &[(&str, &str)]) -> Response {
        client.post(self.url(path)).form(form).send().await.expect("request")
    }

    pub async fn get(&self, client: &Client, path: &str) -> Response {
        client.get(self.url(path)).send().await.expect("request")
    }

    pub async fn login(&self, client: &Client, identifier: &str, password: &str) -> Response {
        self.post(client, "/api/auth/login", &[("identifier", identifier), ("password", password)]).await
    }

    /// A client signed in as `name` (who must exist).
    pub async fn signed_in(&self, name: &str) -> Client {
        let c = self.client();
        let r = self.login(&c, name, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::OK, "sign-in of {name}");
        c
    }

    /// Waits until work the server did after answering (the "forgot
    /// password" lookup) is done and every message it queued has been sent:
    /// then what the mail sink holds is all there will be.
    pub async fn mail_settled(&self) {
        let ctx = &self.services.ctx;
        tokio::time::timeout(Duration::from_secs(20), async {
            ctx.background.idle().await;
            while !domain::mail::pending(&ctx.db).await.expect("outbox").is_empty() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("queued mail was sent within 20 s");
    }

    pub fn clock_now(&self) -> chrono::DateTime<Utc> {
        self.clock.now()
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }
}

/// Confirms it's the person (password), so sensitive changes work again.
pub async fn reauthenticate(app: &TestApp, c: &Client) {
    let r = app.post(c, "/api/reauth/confirm", &[("method", "password"), ("secret", PASSWORD)]).await;
    assert_eq!(r.status(), StatusCode::OK, "confirm it's you");
}

/// The response body as JSON, with its status.
pub async fn json(r: Response) -> (StatusCode, Value) {
    let status = r.status();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The value of the session cookie a response sets, if any.
pub fn session_cookie(r: &Response) -> Option<String> {
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("latchkey_session="))
        .map(str::to_owned)
}

/// Just the token of a `Set-Cookie: …latchkey_session=TOKEN; …` header.
pub fn cookie_token(set_cookie: &str) -> String {
    set_cookie.split(';').next().and_then(|kv| kv.split_once('=')).map(|(_, v)| v.to_owned()).unwrap_or_default()
}

/// Whether a client is signed in, by asking the server.
pub async fn is_signed_in(app: &TestApp, c: &Client) -> bool {
    app.post(c, "/api/account/me", &[]).await.status() == StatusCode::OK
}

pub fn now() -> chrono::DateTime<Utc> {
    SystemClock.now()
}

/// Runs an `async fn(TestApp)` against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! it_test {
    ($case:ident) => {
        mod $case {
            use $crate::support::{Backend, TestApp};

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$case(TestApp::spawn(Backend::Sqlite).await.expect("sqlite app")).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match TestApp::spawn(Backend::Postgres).await {
                    Some(app) => super::$case(app).await,
                    None => eprintln!("{}", domain::testing::PG_SKIP_NOTICE),
                }
            }
        }
    };
}

/// Runs an `async fn(TestApp)` against SQLite and PostgreSQL, on servers
/// whose configuration `tweak` adjusts.
#[macro_export]
macro_rules! it_test_with {
    ($case:ident, $tweak:expr) => {
        mod $case {
            use $crate::support::{Backend, TestApp};

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$case(TestApp::spawn_with(Backend::Sqlite, $tweak).await.expect("sqlite app")).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match TestApp::spawn_with(Backend::Postgres, $tweak).await {
                    Some(app) => super::$case(app).await,
                    None => eprintln!("{}", domain::testing::PG_SKIP_NOTICE),
                }
            }
        }
    };
}

/// The value a response sets for the cookie `name`: `Some("")` when it
/// clears it, `None` when it does not mention it.
pub fn set_cookie_value(r: &Response, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&prefix))
        .map(cookie_token)
}

/// The message a 400 answer (`{"Invalid": [{field, message}, …]}`) gives for `field`.
pub fn field_message(body: &Value, field: &str) -> Option<String> {
    body["Invalid"].as_array()?.iter().find(|e| e["field"] == field).and_then(|e| e["message"].as_str()).map(str::to_owned)
}
