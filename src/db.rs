//! Connecting to SQLite or PostgreSQL, and migrating safely when several instances start at once.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, Statement,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

/// Any constant shared by all instances: the advisory lock that serializes migrations.
const MIGRATION_LOCK_KEY: i64 = 0x1ead_5c0c;
/// Address space SQLite may map per connection (only pages read become resident).
const SQLITE_MMAP_BYTES: u64 = 1 << 30;

pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .map_sqlx_sqlite_opts(|opts| {
            // WAL lets readers run beside the single writer; the busy timeout queues writers.
            // Reads map the file instead of copying pages through SQLite's cache: the dashboard
            // aggregates over a million submissions run about 40% faster (docs/benchmarks.md).
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
                .pragma("mmap_size", SQLITE_MMAP_BYTES.to_string())
        });
    if url.starts_with("sqlite") {
        options.max_connections(8);
    } else {
        options.max_connections(20);
    }
    Ok(Database::connect(options).await?)
}

/// Migrates, then opens the pool that serves. On SQLite the migrations run on a connection of
/// their own, closed before the pool opens: a pooled connection that was open while another
/// created the tables has now and then still answered "no such table" for them (a test in
/// `tests/api/server.rs` sees it in most runs without this).
pub async fn open(url: &str) -> anyhow::Result<DatabaseConnection> {
    if !url.starts_with("sqlite") {
        let db = connect(url).await?;
        migrate(&db, url).await?;
        return Ok(db);
    }
    let migrating = connect(url).await?;
    let migrated = migrate(&migrating, url).await;
    migrating.close().await?;
    migrated?;
    connect(url).await
}

/// Applies pending migrations. On PostgreSQL a session advisory lock, held on a dedicated
/// connection, makes a second instance wait until the first has finished.
pub async fn migrate(db: &DatabaseConnection, url: &str) -> anyhow::Result<()> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        Migrator::up(db, None).await?;
        return Ok(());
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    let lock_conn = Database::connect(options).await?;
    let lock = |sql: &str| {
        Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, [MIGRATION_LOCK_KEY.into()])
    };
    lock_conn
        .query_one_raw(lock("SELECT pg_advisory_lock($1)"))
        .await?;
    let result = Migrator::up(&lock_conn, None).await;
    lock_conn
        .query_one_raw(lock("SELECT pg_advisory_unlock($1)"))
        .await?;
    lock_conn.close().await?;
    Ok(result?)
}

pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}
