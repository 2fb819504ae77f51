//! Connecting to SQLite or PostgreSQL (the URL chooses) and applying migrations.

use migration::{Migrator, MigratorTrait as _};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, RuntimeErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait, sqlx::sqlite::SqliteSynchronous,
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
            // `synchronous` is per connection, so it goes into every
            // connection's start-up pragmas; WAL is a property of the file
            // (see `ensure_wal`).
            opts.max_connections(8).map_sqlx_sqlite_opts(|o| o.synchronous(SqliteSynchronous::Normal));
        }
    } else {
        opts.max_connections(16);
    }
    let db = Database::connect(opts).await?;
    if db.get_database_backend() == DbBackend::Sqlite && !url.contains(":memory:") && !url.contains("mode=memory") {
        ensure_wal(&db).await?;
    }
    Ok(db)
}

/// Puts a SQLite file into WAL mode (it stays so). Switching needs an
/// exclusive lock that SQLite does not wait for (the busy timeout does not
/// apply), so when several processes open a new database at once the losers
/// get "database is locked" at once: they retry until the file is in WAL
/// mode, which the winner's switch makes true for everyone.
async fn ensure_wal(db: &DatabaseConnection) -> Result<(), DbErr> {
    let mut attempt: u64 = 0;
    loop {
        let mode = match db.query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA journal_mode=WAL;")).await {
            Ok(row) => row.map(|r| r.try_get_by_index::<String>(0)).transpose()?,
            Err(e) if attempt < 50 && is_sqlite_busy(&e) => None,
            Err(e) => return Err(e),
        };
        if mode.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("wal")) {
            return Ok(());
        }
        if attempt >= 50 {
            return Err(DbErr::Custom(format!("could not put the SQLite database into WAL mode (journal mode is {mode:?})")));
        }
        attempt += 1;
        tokio::time::sleep(Duration::from_millis(20 * attempt.min(10))).await;
    }
}

/// SQLITE_BUSY (5) and its extended codes (517 and so on: the low byte is 5).
fn is_sqlite_busy(e: &DbErr) -> bool {
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => match &**e {
            sea_orm::sqlx::Error::Database(d) => d.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == 5),
            _ => false,
        },
        _ => false,
    }
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
    db.begin_with_options(TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() })
        .await
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

    /// Threat: a server, its CLI or a second instance failing to start
    /// because another process opened the same new SQLite file at the same
    /// moment (switching to WAL mode cannot wait on the busy timeout), and
    /// the first of them is already migrating it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn simultaneous_opens_of_a_new_sqlite_file_all_succeed_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..15 {
            let file = dir.path().join(format!("w{round}.db"));
            let url = format!("sqlite://{}?mode=rwc", file.display());
            let opens: Vec<_> = (0..8)
                .map(|_| {
                    let url = url.clone();
                    tokio::spawn(async move {
                        let db = connect(&url).await?;
                        migrate(&db).await?;
                        Ok::<_, DbErr>(db)
                    })
                })
                .collect();
            for open in opens {
                let db = open.await.unwrap().unwrap_or_else(|e| panic!("round {round}: {e}"));
                let row = db.query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA synchronous;")).await.unwrap().unwrap();
                assert_eq!(row.try_get_by_index::<i32>(0).unwrap(), 1, "synchronous=NORMAL on every connection");
            }
            // The file format version bytes (offsets 18 and 19) are 2 in WAL mode.
            // (Asking a connection that has not read the file yet would report its default.)
            assert_eq!(&std::fs::read(&file).unwrap()[18..20], &[2, 2], "round {round}: the file is in WAL mode");
        }
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
