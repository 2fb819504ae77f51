//! Test support: a fresh database per test on SQLite and, when
//! `LATCHKEY_TEST_POSTGRES_URL` is set, on PostgreSQL (a database of its own,
//! dropped afterwards), with migrations applied.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test support

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::sync::Arc;

use crate::clock::SystemClock;
use crate::crypto::PasswordHasher;
use crate::users::{self, NewUser};
use crate::{Ctx, Policy};

/// The origin tests pretend to serve (WebAuthn relying party).
pub const ORIGIN: &str = "http://localhost:8080";

/// The password every test user has.
pub const PASSWORD: &str = "correct horse battery staple";

pub const PG_ENV: &str = "LATCHKEY_TEST_POSTGRES_URL";
pub const PG_SKIP_NOTICE: &str = "skipping the PostgreSQL leg: LATCHKEY_TEST_POSTGRES_URL is not set";

/// A fixed instant tests start from.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
}

/// The PostgreSQL server tests create their databases on. `None` skips
/// the PostgreSQL leg, except under CI (`CI` set), where a missing server
/// fails the test: a green run must mean both databases were tested.
pub fn postgres_admin_url() -> Option<String> {
    let url = std::env::var(PG_ENV).ok().filter(|s| !s.is_empty());
    if url.is_none() && std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false") {
        panic!("CI is set but {PG_ENV} is not: the PostgreSQL leg must run in CI");
    }
    url
}

/// A PostgreSQL database created for one test and dropped when this drops.
pub struct PgDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl PgDatabase {
    pub async fn create(admin_url: &str) -> Self {
        let name = format!("latchkey_t_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(admin_url).await.expect("connect to the PostgreSQL test server");
        admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
        admin.close().await.ok();
        let url = match admin_url.rfind('/') {
            Some(i) if admin_url[..i].contains("://") && i > admin_url.find("://").unwrap() + 2 => {
                let (base, rest) = admin_url.split_at(i);
                let query = rest.find('?').map(|q| &rest[q..]).unwrap_or("");
                format!("{base}/{name}{query}")
            }
            _ => format!("{admin_url}/{name}"),
        };
        Self { url, admin_url: admin_url.to_owned(), name }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop may run inside a runtime: do the work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async move {
                let admin = sea_orm::Database::connect(&admin_url).await.ok()?;
                admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await.ok()?;
                admin.close().await.ok()
            })
        })
        .join();
    }
}

/// A migrated database for one test.
pub struct TestDb {
    pub db: DatabaseConnection,
    _pg: Option<PgDatabase>,
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let db = crate::db::connect("sqlite::memory:").await.unwrap();
        crate::db::migrate(&db).await.unwrap();
        Self { db, _pg: None }
    }

    /// `None` when no PostgreSQL server is configured.
    pub async fn postgres() -> Option<Self> {
        let admin = postgres_admin_url()?;
        let pg = PgDatabase::create(&admin).await;
        let db = crate::db::connect(&pg.url).await.unwrap();
        crate::db::migrate(&db).await.unwrap();
        Some(Self { db, _pg: Some(pg) })
    }

    pub fn ctx(&self) -> Ctx {
        Ctx::new(
            self.db.clone(),
            Arc::new(SystemClock),
            PasswordHasher::new(2),
            Policy::default(),
            crate::keys::Keys::from_master(&crate::keys::Keys::generate_master()),
            crate::passkeys::relying_party(ORIGIN).unwrap(),
        )
    }
}

/// Creates `name` with [`PASSWORD`] and `name@example.com`.
pub async fn user(ctx: &Ctx, name: &str, is_admin: bool) -> entity::users::Model {
    users::create_with_password(ctx, NewUser { username: name.into(), email: format!("{name}@example.com"), is_admin }, PASSWORD, t0())
        .await
        .unwrap()
}

/// Signs `name` in with [`PASSWORD`] (a one-step flow) and returns the
/// session as a request would see it.
pub async fn signed_in(ctx: &Ctx, name: &str, now: DateTime<Utc>) -> crate::sessions::Authenticated {
    let meta = crate::ClientMeta::default();
    let crate::signin::Outcome::Complete(s) =
        crate::signin::with_password(ctx, name, PASSWORD, Default::default(), &meta, None, now).await.unwrap()
    else {
        panic!("one step")
    };
    crate::sessions::resolve(&ctx.db, &s.session.token, &ctx.policy, now).await.unwrap().unwrap()
}

/// The token of the newest link to `path` mailed to `to`, read back from
/// the outbox.
pub async fn mailed_token(ctx: &Ctx, to: &str, path: &str) -> String {
    let texts = mailed_texts(ctx, to).await;
    let text = texts.iter().rev().find(|t| t.contains(&format!("{path}?token="))).expect("link in mail");
    let start = text.find(&format!("{path}?token=")).expect("link in mail") + path.len() + 7;
    text[start..].split_whitespace().next().unwrap().to_owned()
}

/// The plain-text bodies of the mail queued for `to`, oldest first.
pub async fn mailed_texts(ctx: &Ctx, to: &str) -> Vec<String> {
    let rows = crate::mail::pending(&ctx.db).await.unwrap();
    rows.iter()
        .filter(|r| r.to_address == to)
        .map(|r| {
            let m: crate::mail::Message = serde_json::from_slice(&ctx.keys.open(r.sealed.expose(), "mail").unwrap()).unwrap();
            format!("{}\n{}", m.subject, m.text)
        })
        .collect()
}

/// Runs an `async fn(TestDb)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! db_test {
    ($case:ident) => {
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$case($crate::testing::TestDb::sqlite().await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match $crate::testing::TestDb::postgres().await {
                    Some(db) => super::$case(db).await,
                    None => eprintln!("{}", $crate::testing::PG_SKIP_NOTICE),
                }
            }
        }
    };
}
