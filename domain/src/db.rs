//! Connecting to SQLite or PostgreSQL (the URL chooses) and applying migrations.

use migration::{Migrator, MigratorTrait as _};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use std::time::Duration;

/// Opens a pool for `url`. For a SQLite file, its folder is created and the
/// database is put in WAL mode so readers do not wait for writers.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false).acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        if url.contains(":memory:") || url.contains("mode=memory") {
            // Every connection to :memory: is its own database: keep exactly one.
            opts.max_connections(1).min_connections(1).idle_timeout(None::<Duration>).max_lifetime(None::<Duration>);
        } else {
            if let Some(path) = sqlite_path(url)
                && let Some(dir) = std::path::Path::new(&path).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
            }
            opts.max_connections(8);
        }
    } else {
        opts.max_connections(16);
    }
    let db = Database::connect(opts).await?;
    if db.get_database_backend() == DbBackend::Sqlite && !url.contains(":memory:") {
        db.execute_unprepared("PRAGMA journal_mode=WAL;").await?;
        db.execute_unprepared("PRAGMA synchronous=NORMAL;").await?;
    }
    Ok(db)
}

/// Applies every pending migration. Several processes may start at once
/// (scale-out, or a CLI command beside the server): on PostgreSQL the whole
/// run holds a transaction-scoped advisory lock, so one process migrates and
/// the others then find nothing to do; on SQLite a writer that lost the race
/// retries once the winner has finished.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        let txn = db.begin().await?;
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7215431102)").await?;
        Migrator::up(&txn, None).await?;
        return txn.commit().await;
    }
    let mut attempt = 0;
    loop {
        match Migrator::up(db, None).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 20 => {
                attempt += 1;
                tracing::debug!(error = %e, attempt, "migration raced another process; retrying");
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Begins a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`:
/// it takes the write lock at once (waiting up to the busy timeout), so a
/// read at its start can never leave it unable to write later. A deferred
/// transaction that reads first and then writes fails at once ("database is
/// locked") when another connection wrote in between, e.g. the mail sender
/// deleting a sent message. PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() }).await
}

/// Answers whether the database responds (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.ping().await
}

fn sqlite_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty()).then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Threat: a 500 for an ordinary request because another connection
    /// wrote at the same moment. A write transaction that reads first must
    /// still be able to write after a concurrent writer (on SQLite a
    /// deferred transaction fails here with "database is locked").
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn write_transactions_survive_a_concurrent_writer_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let db = connect(&format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display())).await.unwrap();
        migrate(&db).await.unwrap();
        let now = crate::testing::t0();
        let txn = begin_write(&db).await.unwrap();
        crate::apps::my_account(&txn).await.unwrap();
        let other = {
            let db = db.clone();
            tokio::spawn(async move { crate::apps::set_my_account_enabled(&db, false, uuid::Uuid::nil(), now).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        crate::apps::set_my_account_enabled(&txn, true, uuid::Uuid::nil(), now).await.unwrap();
        txn.commit().await.unwrap();
        other.await.unwrap().unwrap();
        assert!(!crate::apps::my_account(&db).await.unwrap().enabled, "the other writer went second");
    }

    async fn concurrent_starts_migrate_once(url: String) {
        let dbs = futures_util_join(&url).await;
        for db in &dbs {
            assert!(Migrator::get_pending_migrations(db).await.unwrap().is_empty());
        }
    }

    /// Four pools migrating the same database at the same moment.
    async fn futures_util_join(url: &str) -> Vec<DatabaseConnection> {
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let url = url.to_owned();
            tasks.push(tokio::spawn(async move {
                let db = connect(&url).await.unwrap();
                migrate(&db).await.unwrap();
                db
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_starts_migrate_once_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        concurrent_starts_migrate_once(format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display())).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_starts_migrate_once_on_postgres() {
        let Some(admin) = crate::testing::postgres_admin_url() else {
            eprintln!("{}", crate::testing::PG_SKIP_NOTICE);
            return;
        };
        let pg = crate::testing::PgDatabase::create(&admin).await;
        concurrent_starts_migrate_once(pg.url.clone()).await;
    }

    #[test]
    fn sqlite_paths_are_found_in_urls() {
        assert_eq!(sqlite_path("sqlite://data/latchkey.db?mode=rwc").as_deref(), Some("data/latchkey.db"));
        assert_eq!(sqlite_path("sqlite:///tmp/x.db").as_deref(), Some("/tmp/x.db"));
        assert_eq!(sqlite_path("sqlite::memory:").as_deref(), Some(":memory:"));
    }
}
