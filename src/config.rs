//! One typed configuration, read from flags and the environment (clap `env`).

use std::{fmt, net::SocketAddr, path::PathBuf, str::FromStr};

use clap::{Args, ValueEnum};

/// A string that never prints: `Debug` and `Display` show `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, Args)]
pub struct Config {
    /// Database URL: `sqlite://FILE?mode=rwc` (embedded) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://leadsync.db?mode=rwc",
        global = true
    )]
    pub database_url: String,

    /// Address the HTTP server listens on.
    #[arg(
        long,
        env = "LEADSYNC_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,

    /// Externally visible base URL (OAuth redirect and webhook URLs are built from it).
    /// Defaults to `http://{listen}`.
    #[arg(long, env = "LEADSYNC_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// 64 hex characters (32 bytes) that encrypt stored LinkedIn tokens. In development a key is
    /// generated into the data directory when absent; in production it is required.
    #[arg(
        long,
        env = "LEADSYNC_SECRET_KEY",
        hide_env_values = true,
        global = true
    )]
    pub secret_key: Option<Secret>,

    /// Directory for generated files (the development secret key).
    #[arg(
        long,
        env = "LEADSYNC_DATA_DIR",
        default_value = ".leadsync",
        global = true
    )]
    pub data_dir: PathBuf,

    #[arg(
        long,
        env = "LEADSYNC_ENV",
        value_enum,
        default_value = "development",
        global = true
    )]
    pub environment: Environment,

    #[arg(
        long,
        env = "LEADSYNC_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    /// In production, introspection and GraphiQL are off unless this is set.
    #[arg(long, env = "LEADSYNC_INTROSPECTION", global = true)]
    pub introspection: bool,

    /// Origins allowed to call the API from a browser (comma-separated). In development every
    /// origin is allowed; in production none unless listed.
    #[arg(
        long,
        env = "LEADSYNC_CORS_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_origins: Vec<String>,

    /// Days the lead event log keeps its events (purged hourly): a subscription resuming with
    /// `leadSynced(after:)` from an older position is answered REPLAY_UNAVAILABLE.
    #[arg(
        long,
        env = "LEADSYNC_EVENT_LOG_DAYS",
        default_value_t = 7,
        value_parser = clap::value_parser!(u32).range(1..=3650),
        global = true
    )]
    pub event_log_days: u32,

    /// GraphQL requests allowed per API token per minute.
    #[arg(
        long,
        env = "LEADSYNC_RATE_LIMIT_PER_MINUTE",
        default_value_t = 1200,
        global = true
    )]
    pub rate_limit_per_minute: u32,

    /// Seconds an authenticated API token is remembered, so requests cost no statement to
    /// authenticate; a token revoked or a user disabled in the database stops working within
    /// this time (0: look every token up on every request).
    #[arg(
        long,
        env = "LEADSYNC_AUTH_CACHE_SECS",
        default_value_t = 10,
        global = true
    )]
    pub auth_cache_secs: u64,

    /// Milliseconds a WebSocket client has to send `connection_init` before the socket is closed
    /// with 4408 (graphql-transport-ws).
    #[arg(
        long,
        env = "LEADSYNC_WS_INIT_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub ws_init_timeout_ms: u64,

    /// Milliseconds between the checks of an open WebSocket's token (through the token cache, so
    /// a fresh entry costs nothing): a token revoked or a user disabled closes the socket with
    /// 4401, roles that no longer subscribe with 4403.
    #[arg(
        long,
        env = "LEADSYNC_WS_AUTH_CHECK_MS",
        default_value_t = 15_000,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub ws_auth_check_ms: u64,

    #[command(flatten)]
    pub linkedin: LinkedInConfig,

    #[command(flatten)]
    pub webhooks: WebhooksConfig,
}

/// Outbound webhooks (README "Outbound webhooks").
#[derive(Clone, Debug, Args)]
pub struct WebhooksConfig {
    /// Allow `http://` endpoint URLs (tests, local development); https only otherwise.
    #[arg(long, env = "LEADSYNC_WEBHOOKS_ALLOW_HTTP", global = true)]
    pub webhooks_allow_http: bool,
    /// Allow endpoints on loopback, link-local, private, CGNAT, unspecified, multicast and
    /// metadata addresses (refused by default: SSRF).
    #[arg(long, env = "LEADSYNC_WEBHOOKS_ALLOW_PRIVATE", global = true)]
    pub webhooks_allow_private: bool,
    /// Timeout of one delivery (connect and whole response), in seconds.
    #[arg(
        long,
        env = "LEADSYNC_WEBHOOKS_TIMEOUT_SECS",
        default_value_t = 10,
        global = true
    )]
    pub webhooks_timeout_secs: u64,
    /// First retry delay in milliseconds; it doubles with each attempt (full jitter).
    #[arg(
        long,
        env = "LEADSYNC_WEBHOOKS_RETRY_BASE_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub webhooks_retry_base_ms: u64,
    /// The longest delay between two attempts, in seconds.
    #[arg(
        long,
        env = "LEADSYNC_WEBHOOKS_RETRY_CAP_SECS",
        default_value_t = 600,
        global = true
    )]
    pub webhooks_retry_cap_secs: u64,
    /// How long a delivery is retried before it is FAILED, in seconds.
    #[arg(
        long,
        env = "LEADSYNC_WEBHOOKS_RETRY_WINDOW_SECS",
        default_value_t = 86_400,
        global = true
    )]
    pub webhooks_retry_window_secs: u64,
    /// An endpoint whose deliveries have failed without a success for this long is disabled,
    /// in seconds.
    #[arg(
        long,
        env = "LEADSYNC_WEBHOOKS_DISABLE_AFTER_SECS",
        default_value_t = 259_200,
        global = true
    )]
    pub webhooks_disable_after_secs: u64,
    /// How often the dispatcher looks for retries that came due, in milliseconds (new events
    /// wake it at once).
    #[arg(
        long,
        env = "LEADSYNC_WEBHOOKS_POLL_MS",
        default_value_t = 1_000,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub webhooks_poll_ms: u64,
    /// While an ingest is writing in this process, the dispatcher waits up to this long before
    /// its next batch, in milliseconds: intake first (the outbox keeps every event; deliveries
    /// catch up between and after batches). 0 sends at once.
    #[arg(
        long,
        env = "LEADSYNC_WEBHOOKS_YIELD_MS",
        default_value_t = 1_000,
        global = true
    )]
    pub webhooks_yield_ms: u64,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            webhooks_allow_http: false,
            webhooks_allow_private: false,
            webhooks_timeout_secs: 10,
            webhooks_retry_base_ms: 5_000,
            webhooks_retry_cap_secs: 600,
            webhooks_retry_window_secs: 86_400,
            webhooks_disable_after_secs: 259_200,
            webhooks_poll_ms: 1_000,
            webhooks_yield_ms: 1_000,
        }
    }
}

#[derive(Clone, Debug, Args)]
pub struct LinkedInConfig {
    #[arg(long, env = "LINKEDIN_CLIENT_ID", default_value = "", global = true)]
    pub linkedin_client_id: String,
    #[arg(
        long,
        env = "LINKEDIN_CLIENT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub linkedin_client_secret: Option<Secret>,
    #[arg(
        long,
        env = "LINKEDIN_AUTH_URL",
        default_value = "https://www.linkedin.com/oauth/v2/authorization",
        global = true
    )]
    pub linkedin_auth_url: String,
    #[arg(
        long,
        env = "LINKEDIN_TOKEN_URL",
        default_value = "https://www.linkedin.com/oauth/v2/accessToken",
        global = true
    )]
    pub linkedin_token_url: String,
    #[arg(
        long,
        env = "LINKEDIN_API_URL",
        default_value = "https://api.linkedin.com/rest",
        global = true
    )]
    pub linkedin_api_url: String,
    /// The `LinkedIn-Version` header (YYYYMM). LinkedIn supports a version about 12 months: the
    /// default is one it supports at release (see `linkedin::version`).
    #[arg(
        long,
        env = "LINKEDIN_API_VERSION",
        default_value_t = crate::linkedin::version::DEFAULT,
        global = true
    )]
    pub linkedin_api_version: crate::linkedin::version::ApiVersion,
    /// Attempts per LinkedIn call before a sync run fails (429, 5xx, timeouts are retried).
    #[arg(
        long,
        env = "LINKEDIN_MAX_ATTEMPTS",
        default_value_t = 6,
        global = true
    )]
    pub linkedin_max_attempts: u32,
    /// First retry delay in milliseconds; it doubles with each attempt, with jitter.
    #[arg(
        long,
        env = "LINKEDIN_RETRY_BASE_MS",
        default_value_t = 500,
        global = true
    )]
    pub linkedin_retry_base_ms: u64,
    /// Timeout of one LinkedIn call, in seconds.
    #[arg(
        long,
        env = "LINKEDIN_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub linkedin_timeout_secs: u64,
}

impl Config {
    /// A configuration for tests and embedding: the defaults with the given database.
    pub fn for_database(database_url: &str) -> Self {
        Self {
            database_url: database_url.to_owned(),
            listen: "127.0.0.1:0".parse().expect("valid address"),
            public_url: None,
            secret_key: None,
            data_dir: PathBuf::from(".leadsync"),
            environment: Environment::Development,
            log_format: LogFormat::Text,
            introspection: false,
            cors_origins: Vec::new(),
            event_log_days: 7,
            rate_limit_per_minute: 1200,
            auth_cache_secs: 10,
            ws_init_timeout_ms: 10_000,
            ws_auth_check_ms: 15_000,
            linkedin: LinkedInConfig {
                linkedin_client_id: String::new(),
                linkedin_client_secret: None,
                linkedin_auth_url: "https://www.linkedin.com/oauth/v2/authorization".into(),
                linkedin_token_url: "https://www.linkedin.com/oauth/v2/accessToken".into(),
                linkedin_api_url: "https://api.linkedin.com/rest".into(),
                linkedin_api_version: crate::linkedin::version::DEFAULT,
                linkedin_max_attempts: 6,
                linkedin_retry_base_ms: 500,
                linkedin_timeout_secs: 30,
            },
            webhooks: WebhooksConfig::default(),
        }
    }

    /// The LinkedIn client, when a LinkedIn app is configured.
    pub fn linkedin_client(
        &self,
    ) -> anyhow::Result<Option<crate::linkedin::client::LinkedInClient>> {
        use crate::linkedin::client::{LinkedInClient, LinkedInSettings, RetryPolicy};
        let l = &self.linkedin;
        let (false, Some(secret)) = (l.linkedin_client_id.is_empty(), &l.linkedin_client_secret)
        else {
            return Ok(None);
        };
        let settings = LinkedInSettings {
            client_id: l.linkedin_client_id.clone(),
            client_secret: secret.expose().to_owned(),
            auth_url: l.linkedin_auth_url.clone(),
            token_url: l.linkedin_token_url.clone(),
            api_url: l.linkedin_api_url.clone(),
            api_version: l.linkedin_api_version,
            redirect_uri: format!("{}/oauth/linkedin/callback", self.public_url()),
        };
        let retry = RetryPolicy {
            max_attempts: l.linkedin_max_attempts.max(1),
            base_delay: std::time::Duration::from_millis(l.linkedin_retry_base_ms),
            max_delay: std::time::Duration::from_secs(30),
            request_timeout: std::time::Duration::from_secs(l.linkedin_timeout_secs.max(1)),
        };
        Ok(Some(LinkedInClient::new(settings, retry)?))
    }

    /// LinkedIn only calls webhooks on https URLs; against another LinkedIn (the sandbox) any URL
    /// works.
    pub fn webhook_url(&self) -> Option<String> {
        let public = self.public_url();
        (public.starts_with("https://") || !self.is_real_linkedin())
            .then(|| format!("{public}/webhooks/linkedin"))
    }

    /// Whether the API URL is LinkedIn's own (not the sandbox or another stand-in).
    pub fn is_real_linkedin(&self) -> bool {
        self.linkedin.linkedin_api_url.contains("api.linkedin.com")
    }

    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// The 32-byte key that encrypts stored LinkedIn tokens.
    pub fn resolve_secret_key(&self) -> anyhow::Result<[u8; 32]> {
        if let Some(key) = &self.secret_key {
            return parse_key(key.expose())
                .ok_or_else(|| anyhow::anyhow!("LEADSYNC_SECRET_KEY must be 64 hex characters"));
        }
        if self.environment == Environment::Production {
            anyhow::bail!("LEADSYNC_SECRET_KEY is required when LEADSYNC_ENV=production");
        }
        let path = self.data_dir.join("secret.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return parse_key(text.trim()).ok_or_else(|| {
                anyhow::anyhow!("{} does not hold 64 hex characters", path.display())
            });
        }
        let key: [u8; 32] = rand::random();
        std::fs::create_dir_all(&self.data_dir)?;
        write_private(&path, &hex::encode(key))?;
        tracing::warn!(
            path = %path.display(),
            "LEADSYNC_SECRET_KEY is not set: generated a development key; set it in production"
        );
        Ok(key)
    }
}

fn parse_key(text: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(text).ok()?;
    bytes.try_into().ok()
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?} {secret}"), "[redacted] [redacted]");
    }

    #[test]
    fn key_must_be_64_hex() {
        assert!(parse_key(&"ab".repeat(32)).is_some());
        assert!(parse_key(&"ab".repeat(31)).is_none());
        assert!(parse_key(&"zz".repeat(32)).is_none());
    }

    #[test]
    fn development_key_is_generated_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("leadsync-key-{}", rand::random::<u64>()));
        let mut config = Config::for_database("sqlite::memory:");
        config.data_dir = dir.clone();
        let first = config.resolve_secret_key().unwrap();
        let second = config.resolve_secret_key().unwrap();
        assert_eq!(first, second);
        config.environment = Environment::Production;
        assert!(config.resolve_secret_key().is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
