//! The test harness: a fresh database per test (SQLite file by default, a new PostgreSQL database
//! when TEST_DATABASE_URL is set), the real router, and helpers to send contract operations.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use leadsync::{AppState, Config, domain::Role, service::users};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use tower::ServiceExt;

pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(std::path::PathBuf),
    Postgres { server_url: String, name: String },
}

fn unique_name() -> String {
    format!(
        "leadsync_test_{}_{}",
        std::process::id(),
        rand::random::<u32>()
    )
}

impl TestDb {
    pub async fn new() -> Self {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(server_url) if !server_url.is_empty() => {
                let name = unique_name();
                let admin = Database::connect(&server_url)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let base = server_url
                    .rsplit_once('/')
                    .map(|(b, _)| b)
                    .expect("TEST_DATABASE_URL has a database part");
                TestDb {
                    url: format!("{base}/{name}"),
                    cleanup: Cleanup::Postgres { server_url, name },
                }
            }
            _ => {
                let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
                TestDb {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    cleanup: Cleanup::SqliteFile(path),
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.cleanup, Cleanup::Postgres { .. })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { server_url, name } => {
                let (server_url, name) = (server_url.clone(), name.clone());
                // Drop runs inside the test's runtime: use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    rt.block_on(async {
                        if let Ok(admin) = Database::connect(&server_url).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                ))
                                .await;
                            admin.close().await.ok();
                        }
                    });
                })
                .join();
            }
        }
    }
}

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub db: DatabaseConnection,
    /// SQL statements executed so far through `db`.
    pub statements: Arc<AtomicUsize>,
    pub test_db: TestDb,
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_config(|_| {}).await
    }

    /// A test app whose configuration `configure` adjusts (LinkedIn settings, public URL).
    pub async fn with_config(configure: impl FnOnce(&mut Config)) -> Self {
        Self::with_schema_and_config("", configure).await
    }

    /// A test app whose migrated database also runs `sql` before the app's pool opens (on
    /// SQLite a pooled connection may not see DDL another one ran: change data, not schema,
    /// while the app runs).
    pub async fn with_schema_and_config(sql: &str, configure: impl FnOnce(&mut Config)) -> Self {
        crate::pii_watch::install();
        let test_db = TestDb::new().await;
        if !sql.is_empty() {
            let setup = leadsync::db::open(&test_db.url).await.expect("migrate");
            setup.execute_unprepared(sql).await.expect("schema setup");
            setup.close().await.expect("close");
        }
        let mut db = leadsync::db::open(&test_db.url)
            .await
            .expect("connect and migrate");
        let statements = Arc::new(AtomicUsize::new(0));
        let counter = statements.clone();
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        let mut config = Config::for_database(&test_db.url);
        config.secret_key = Some(leadsync::config::Secret::new(hex::encode(rand::random::<
            [u8; 32],
        >())));
        configure(&mut config);
        let state = AppState::with_db(db.clone(), config).expect("state");
        let router = leadsync::app(state.clone());
        TestApp {
            state,
            router,
            db,
            statements,
            test_db,
        }
    }

    pub fn statement_count(&self) -> usize {
        self.statements.load(Ordering::Relaxed)
    }

    /// Creates a user with these roles and returns its token.
    pub async fn token(&self, roles: &[Role]) -> String {
        users::create_user(&self.db, "test user", roles)
            .await
            .expect("create user")
            .token
    }

    pub async fn admin(&self) -> String {
        self.token(&[Role::SystemAdministrator]).await
    }

    /// POSTs a GraphQL request through the router; returns the status and JSON body.
    pub async fn post(&self, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut request =
            Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(body.to_string())).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)));
        if let Some(errors) = json.get("errors") {
            crate::pii_watch::scan("an error sent to a client", &errors.to_string());
        }
        (status, json)
    }

    /// Sends a query text.
    pub async fn query(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.post(token, json!({ "query": query, "variables": variables }))
            .await
            .1
    }

    /// Sends the named operation of the front-end contract, as the front-end teams do.
    pub async fn op(&self, token: Option<&str>, name: &str, variables: Value) -> Value {
        self.query(token, &contract_operation(name), variables)
            .await
    }

    /// Sends a contract operation and returns its `data`, failing on any error.
    pub async fn op_ok(&self, token: &str, name: &str, variables: Value) -> Value {
        let response = self.op(Some(token), name, variables).await;
        assert!(
            response.get("errors").is_none(),
            "{name} failed: {response:#}"
        );
        response["data"].clone()
    }
}

/// A test fails when the suite's watch found personal data in a log line, an error or
/// `/metrics` (`pii_watch`).
impl Drop for TestApp {
    fn drop(&mut self) {
        crate::pii_watch::assert_clean();
    }
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(response: &Value) -> Option<String> {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_owned)
}

pub use crate::contract::{CONTRACT, contract_operation};
