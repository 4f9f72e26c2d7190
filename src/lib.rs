//! leadsync: LinkedIn Lead Gen Form leads into a CRM lead store, behind a GraphQL API.

pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod linkedin;
pub mod metrics;
pub mod service;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

// A page of GraphQL is thousands of small allocations (values, names, rows): glibc's malloc was
// about a fifth of the server's CPU per request (perf, docs/benchmarks.md). Declared in the
// library so that the binary, the tests and the benchmark's server all run on it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub use config::Config;
pub use graphql::AppSchema;

/// Everything the HTTP handlers share.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub schema: AppSchema,
    pub bus: events::EventBus,
    pub connector: service::connector::Connector,
    pub limiter: Arc<http::RateLimiter>,
    pub viewers: Arc<service::users::ViewerCache>,
    /// Signs and checks the exports' download links (`POST /export/links`).
    pub export_links: service::export::links::LinkSigner,
}

impl AppState {
    /// Connects, migrates and builds the schema.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let db = db::open(&config.database_url).await?;
        let interrupted = service::connector::fail_interrupted_runs(&db)
            .await
            .unwrap_or(0);
        if interrupted > 0 {
            tracing::warn!(interrupted, "marked sync runs cut off by a stop as failed");
        }
        Self::with_db(db, config)
    }

    pub fn with_db(db: DatabaseConnection, config: Config) -> anyhow::Result<Self> {
        let key = config.resolve_secret_key()?;
        let export_links = service::export::links::LinkSigner::new(&key);
        let connector = service::connector::Connector::new(
            db.clone(),
            events::EventBus::for_database(&db, &config.database_url),
            service::connector::ConnectorOptions {
                client: config.linkedin_client()?,
                key,
                webhook_url: config.webhook_url(),
            },
        );
        let bus = connector.bus().clone();
        let config = Arc::new(config);
        let viewers = Arc::new(service::users::ViewerCache::new(
            std::time::Duration::from_secs(config.auth_cache_secs),
        ));
        let schema = graphql::build_schema(
            db.clone(),
            config.clone(),
            bus.clone(),
            connector.clone(),
            viewers.clone(),
        );
        let limiter = Arc::new(http::RateLimiter::new(config.rate_limit_per_minute));
        Ok(Self {
            db,
            config,
            schema,
            bus,
            connector,
            limiter,
            viewers,
            export_links,
        })
    }
}

/// The HTTP application, used by `leadsync serve` and by the tests.
pub fn app(state: AppState) -> axum::Router {
    http::router(state)
}
