//! Outbound webhooks (issue 16): endpoints, the outbox of deliveries, and the dispatcher that
//! fans the lead event log out to endpoints and sends signed deliveries.
//!
//! - **Outbox.** The lead event log is written in the changing transaction; the fan-out turns
//!   events after its cursor into one delivery per matching endpoint and advances the cursor in
//!   the same transaction. Positions are commit-ordered, so nothing is skipped, and a crash
//!   between a commit and a send loses nothing: the event waits in the log.
//! - **Claiming.** Due deliveries are leased (`DELIVERING`, `lease_until`, `leased_by`) by one
//!   statement; on PostgreSQL its rows are picked `FOR UPDATE SKIP LOCKED`, so several instances
//!   each send different deliveries. A lease that expires (its holder died) is claimed again:
//!   delivery is at least once, deduplicable by `webhook-id`.
//! - **Ordering.** A delivery is not claimed while an earlier delivery of the same endpoint and
//!   lead is PENDING or DELIVERING: a lead's events reach an endpoint in order.
//! - **Signing.** Standard Webhooks: `webhook-id` = `evt_<event position>` (the same on every
//!   attempt and replay), `webhook-timestamp` = unix seconds of the attempt,
//!   `webhook-signature` = `v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>` with the
//!   secret's bytes the base64 after `whsec_`.
//! - **SSRF.** https only (unless allowed), no loopback/private/link-local/CGNAT/multicast/
//!   unspecified/metadata addresses (unless allowed), checked at registration on literal
//!   addresses and at send time on every address the name resolves to (the connection uses only
//!   the checked addresses, so a DNS rebinding cannot slip past), no redirects, bounded time
//!   and response read.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use base64::Engine;
use chrono::{DateTime, Utc};
use entity::{
    form_submission, lead, lead_event, submission_answer, webhook_delivery, webhook_endpoint,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement,
    TransactionTrait,
    sea_query::{Expr, OnConflict},
};
use serde_json::{Value, json};

use crate::{
    config::WebhooksConfig,
    crypto::TokenCipher,
    error::{AppError, AppResult},
    service::paging::{self, Page},
};

/// The event types an endpoint subscribes to, as sent in `type`.
pub const EVENT_TYPES: [&str; 5] = [
    "lead.created",
    "lead.updated",
    "lead.deleted",
    "lead.erased",
    "submission.received",
];

/// The wire type of a lead event kind (`LEAD_CREATED` → `lead.created`).
pub fn event_type(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "LEAD_CREATED" => "lead.created",
        "LEAD_UPDATED" => "lead.updated",
        "LEAD_DELETED" => "lead.deleted",
        "LEAD_ERASED" => "lead.erased",
        "SUBMISSION_RECEIVED" => "submission.received",
        _ => return None,
    })
}

/// The stable id of an event's deliveries (`webhook-id`): the same across retries, replays and
/// endpoints, so a receiver deduplicates by it.
pub fn webhook_id(event_id: i64) -> String {
    format!("evt_{event_id}")
}

pub const PENDING: &str = "PENDING";
pub const DELIVERING: &str = "DELIVERING";
pub const SUCCEEDED: &str = "SUCCEEDED";
pub const FAILED: &str = "FAILED";
pub const SKIPPED: &str = "SKIPPED";
pub const STATUSES: [&str; 5] = [PENDING, DELIVERING, SUCCEEDED, FAILED, SKIPPED];

/// Bytes of a response body kept (and read) at most.
pub const EXCERPT_BYTES: usize = 512;
/// Events turned into deliveries per fan-out transaction.
const FAN_OUT_BATCH: u64 = 500;
/// Deliveries claimed per statement.
const CLAIM_BATCH: u64 = 64;
/// Deliveries sent at once by one dispatcher.
const CONCURRENCY: usize = 16;

// ------------------------------------------------------------------ SSRF

/// Why an address may not be a webhook target, or `None` when it may.
pub fn refused_address(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return refused_v4(v4);
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("a loopback address")
            } else if v6.is_unspecified() {
                Some("the unspecified address")
            } else if v6.is_multicast() {
                Some("a multicast address")
            } else if first & 0xfe00 == 0xfc00 {
                Some("a unique local (private) address")
            } else if first & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else if v6.segments()[..6] == [0, 0, 0, 0, 0, 0] {
                // IPv4-compatible (deprecated) ::a.b.c.d
                refused_v4(Ipv4Addr::from(
                    (u32::from(v6.segments()[6]) << 16) | u32::from(v6.segments()[7]),
                ))
            } else {
                None
            }
        }
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip == Ipv4Addr::new(169, 254, 169, 254) {
        Some("a cloud metadata address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() || a == 0 {
        Some("the unspecified address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if a == 100 && (b & 0xc0) == 64 {
        Some("a shared (CGNAT) address")
    } else if ip.is_multicast() || ip.is_broadcast() || a >= 240 {
        Some("a multicast or reserved address")
    } else {
        None
    }
}

/// Checks an endpoint URL as registered: the scheme, and a host that is not a refused literal
/// address or `localhost` (names are checked on their addresses at send time).
pub fn check_url(raw: &str, config: &WebhooksConfig) -> AppResult<url::Url> {
    let url =
        url::Url::parse(raw.trim()).map_err(|_| AppError::bad_input("url: not an absolute URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if config.webhooks_allow_http => {}
        "http" => {
            return Err(AppError::bad_input(
                "url: only https endpoints are allowed (LEADSYNC_WEBHOOKS_ALLOW_HTTP)",
            ));
        }
        _ => return Err(AppError::bad_input("url: the scheme must be https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AppError::bad_input(
            "url: credentials in the URL are not allowed",
        ));
    }
    if url.fragment().is_some() {
        return Err(AppError::bad_input("url: a fragment is not allowed"));
    }
    let refusal = match url.host() {
        None => return Err(AppError::bad_input("url: a host is required")),
        Some(url::Host::Ipv4(ip)) => refused_address(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => refused_address(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            (name == "localhost" || name.ends_with(".localhost")).then_some("a loopback address")
        }
    };
    if let Some(why) = refusal
        && !config.webhooks_allow_private
    {
        return Err(AppError::bad_input(format!(
            "url: the host is {why}, which webhooks may not reach (LEADSYNC_WEBHOOKS_ALLOW_PRIVATE)"
        )));
    }
    if raw.len() > 2048 {
        return Err(AppError::bad_input("url: at most 2048 characters"));
    }
    Ok(url)
}

/// The client's resolver: a name's addresses, without the refused ones (all refused: an error),
/// so that the connection is made only to an address that was checked.
struct CheckedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allow_private || refused_address(a.ip()).is_none())
                .collect();
            if allowed.is_empty() {
                let why = found
                    .first()
                    .and_then(|a| refused_address(a.ip()))
                    .unwrap_or("unresolvable");
                return Err(
                    format!("the host resolves to {why}, which webhooks may not reach").into(),
                );
            }
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

// ------------------------------------------------------------------ secrets and signatures

/// A new signing secret: `whsec_` + base64 of 32 random bytes.
pub fn generate_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// `v1,<base64 HMAC-SHA256(secret bytes, "{id}.{timestamp}.{body}")>`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> AppResult<String> {
    use hmac::{Hmac, Mac};
    let key = secret
        .strip_prefix("whsec_")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .ok_or_else(|| AppError::internal("a webhook secret is not whsec_<base64>"))?;
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).expect("any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

// ------------------------------------------------------------------ endpoints

/// What an endpoint is registered with.
#[derive(Clone, Debug, Default)]
pub struct EndpointInput {
    pub url: String,
    pub description: Option<String>,
    /// Wire types (`lead.created`, ...); at least one.
    pub event_types: Vec<String>,
    pub campaign_id: Option<i64>,
    pub form_id: Option<i64>,
    pub lead_type: Option<String>,
}

/// A change to an endpoint: `None` keeps a field; for the filters `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct EndpointPatch {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub campaign_id: Option<Option<i64>>,
    pub form_id: Option<Option<i64>>,
    pub lead_type: Option<Option<String>>,
}

fn event_kinds(types: &[String]) -> AppResult<String> {
    if types.is_empty() {
        return Err(AppError::bad_input("eventTypes: at least one"));
    }
    let mut kinds: Vec<&str> = Vec::new();
    for t in types {
        let known = EVENT_TYPES
            .iter()
            .find(|k| **k == t.as_str())
            .ok_or_else(|| AppError::bad_input("eventTypes: an unknown event type"))?;
        if !kinds.contains(known) {
            kinds.push(known);
        }
    }
    kinds.sort_by_key(|k| EVENT_TYPES.iter().position(|e| e == k));
    Ok(kinds.join(","))
}

fn description(text: Option<String>) -> AppResult<String> {
    let text = text.unwrap_or_default().trim().to_owned();
    if text.chars().count() > 500 {
        return Err(AppError::bad_input("description: at most 500 characters"));
    }
    Ok(text)
}

/// The event types of an endpoint.
pub fn types_of(endpoint: &webhook_endpoint::Model) -> Vec<&str> {
    endpoint
        .event_kinds
        .split(',')
        .filter(|k| !k.is_empty())
        .collect()
}

/// Endpoints and their deliveries, for the API (no sending).
/// Endpoint administration over the pool or, for an audited write, its transaction.
pub struct Endpoints<'a, C = DatabaseConnection> {
    pub db: &'a C,
    pub cipher: &'a TokenCipher,
    pub config: &'a WebhooksConfig,
}

impl<C: crate::service::Db> Endpoints<'_, C> {
    /// Registers an endpoint; returns it and its secret (shown this once). It receives the events
    /// logged after now.
    pub async fn create(
        &self,
        input: EndpointInput,
    ) -> AppResult<(webhook_endpoint::Model, String)> {
        let url = check_url(&input.url, self.config)?;
        let kinds = event_kinds(&input.event_types)?;
        let secret = generate_secret();
        let now = Utc::now();
        let start = crate::service::lead_events::latest(self.db).await?;
        let model = webhook_endpoint::ActiveModel {
            url: Set(url.to_string()),
            description: Set(description(input.description)?),
            event_kinds: Set(kinds),
            campaign_id: Set(input.campaign_id),
            form_id: Set(input.form_id),
            lead_type: Set(input.lead_type),
            secret_enc: Set(self.cipher.encrypt(&secret)),
            enabled: Set(true),
            disabled_reason: Set(None),
            failing_since: Set(None),
            start_position: Set(start),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(self.db)
        .await?;
        Ok((model, secret))
    }

    pub async fn get(&self, id: i64) -> AppResult<webhook_endpoint::Model> {
        webhook_endpoint::Entity::find_by_id(id)
            .one(self.db)
            .await?
            .ok_or_else(|| AppError::not_found("webhook endpoint", id))
    }

    pub async fn list(&self) -> AppResult<Vec<webhook_endpoint::Model>> {
        Ok(webhook_endpoint::Entity::find()
            .order_by_asc(webhook_endpoint::Column::Id)
            .all(self.db)
            .await?)
    }

    /// Applies `patch`; returns the endpoint and the names of the fields changed.
    pub async fn update(
        &self,
        id: i64,
        patch: EndpointPatch,
    ) -> AppResult<(webhook_endpoint::Model, Vec<&'static str>)> {
        let current = self.get(id).await?;
        let mut m: webhook_endpoint::ActiveModel = current.into();
        let mut changed = Vec::new();
        if let Some(url) = patch.url {
            m.url = Set(check_url(&url, self.config)?.to_string());
            changed.push("url");
        }
        if let Some(text) = patch.description {
            m.description = Set(description(Some(text))?);
            changed.push("description");
        }
        if let Some(types) = patch.event_types {
            m.event_kinds = Set(event_kinds(&types)?);
            changed.push("eventTypes");
        }
        if let Some(v) = patch.campaign_id {
            m.campaign_id = Set(v);
            changed.push("campaignId");
        }
        if let Some(v) = patch.form_id {
            m.form_id = Set(v);
            changed.push("formId");
        }
        if let Some(v) = patch.lead_type {
            m.lead_type = Set(v);
            changed.push("leadType");
        }
        m.updated_at = Set(Utc::now());
        Ok((m.update(self.db).await?, changed))
    }

    /// Deletes an endpoint with its delivery log and queue.
    pub async fn delete(&self, id: i64) -> AppResult<webhook_endpoint::Model> {
        let endpoint = self.get(id).await?;
        webhook_endpoint::Entity::delete_by_id(id)
            .exec(self.db)
            .await?;
        Ok(endpoint)
    }

    /// A new secret (returned, shown once); deliveries from now on are signed with it.
    pub async fn rotate_secret(&self, id: i64) -> AppResult<(webhook_endpoint::Model, String)> {
        let current = self.get(id).await?;
        let secret = generate_secret();
        let mut m: webhook_endpoint::ActiveModel = current.into();
        m.secret_enc = Set(self.cipher.encrypt(&secret));
        m.updated_at = Set(Utc::now());
        Ok((m.update(self.db).await?, secret))
    }

    /// Enables an endpoint (again): its queued deliveries resume now, each with a fresh retry
    /// window.
    pub async fn enable(&self, id: i64) -> AppResult<webhook_endpoint::Model> {
        let current = self.get(id).await?;
        let now = Utc::now();
        let txn = self.db.begin().await?;
        let mut m: webhook_endpoint::ActiveModel = current.into();
        m.enabled = Set(true);
        m.disabled_reason = Set(None);
        m.failing_since = Set(None);
        m.updated_at = Set(now);
        let endpoint = m.update(&txn).await?;
        webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(now))
            .col_expr(webhook_delivery::Column::WindowStartedAt, Expr::value(now))
            .filter(webhook_delivery::Column::EndpointId.eq(id))
            .filter(webhook_delivery::Column::Status.eq(PENDING))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(endpoint)
    }

    /// Disables an endpoint by hand (its queue waits until it is enabled).
    pub async fn disable(&self, id: i64, reason: &str) -> AppResult<webhook_endpoint::Model> {
        let current = self.get(id).await?;
        let mut m: webhook_endpoint::ActiveModel = current.into();
        m.enabled = Set(false);
        m.disabled_reason = Set(Some(reason.to_owned()));
        m.updated_at = Set(Utc::now());
        Ok(m.update(self.db).await?)
    }

    pub async fn delivery(&self, id: i64) -> AppResult<webhook_delivery::Model> {
        webhook_delivery::Entity::find_by_id(id)
            .one(self.db)
            .await?
            .ok_or_else(|| AppError::not_found("webhook delivery", id))
    }

    /// Queues a fresh attempt of a delivery (same `webhook-id`), now, with a fresh retry window.
    /// Refused while it is being sent.
    pub async fn replay(&self, id: i64) -> AppResult<webhook_delivery::Model> {
        let d = self.delivery(id).await?;
        let now = Utc::now();
        let updated = webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::Status, Expr::value(PENDING))
            .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(now))
            .col_expr(webhook_delivery::Column::WindowStartedAt, Expr::value(now))
            .col_expr(
                webhook_delivery::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                webhook_delivery::Column::LeasedBy,
                Expr::value(Option::<String>::None),
            )
            .filter(webhook_delivery::Column::Id.eq(d.id))
            .filter(webhook_delivery::Column::Status.ne(DELIVERING))
            .exec(self.db)
            .await?;
        if updated.rows_affected == 0 {
            return Err(AppError::conflict(
                "the delivery is being sent; replay it when it is done",
            ));
        }
        self.delivery(id).await
    }

    /// An endpoint's deliveries, newest first, keyset-paged on id.
    pub async fn deliveries(
        &self,
        endpoint_id: i64,
        status: Option<&str>,
        first: Option<i32>,
        after: Option<&str>,
    ) -> AppResult<(Page<webhook_delivery::Model>, i64)> {
        use webhook_delivery::Column as C;
        let size = paging::page_size(first)?;
        let mut query = webhook_delivery::Entity::find().filter(C::EndpointId.eq(endpoint_id));
        if let Some(status) = status {
            query = query.filter(C::Status.eq(status));
        }
        let total = paging::count_of(
            self.db,
            paging::bounded_count(query.clone(), paging::COUNT_LIMIT),
        )
        .await?;
        if let Some(after) = after {
            let (_, id) = paging::decode_cursor(after)?;
            query = query.filter(C::Id.lt(id));
        }
        let mut rows = query
            .order_by_desc(C::Id)
            .limit(size + 1)
            .all(self.db)
            .await?;
        let has_next_page = rows.len() as u64 > size;
        rows.truncate(size as usize);
        Ok((
            Page {
                items: rows
                    .into_iter()
                    .map(|r| (paging::encode_cursor(None, r.id), r))
                    .collect(),
                has_next_page,
                has_previous_page: after.is_some(),
            },
            total,
        ))
    }
}

// ------------------------------------------------------------------ the dispatcher

/// What one dispatcher pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Deliveries created by the fan-out.
    pub queued: u64,
    pub succeeded: u64,
    /// Attempts that failed (to be retried, or given up: `given_up`).
    pub failed_attempts: u64,
    pub given_up: u64,
    pub skipped: u64,
}

impl DispatchReport {
    fn add(&mut self, other: &DispatchReport) {
        self.queued += other.queued;
        self.succeeded += other.succeeded;
        self.failed_attempts += other.failed_attempts;
        self.given_up += other.given_up;
        self.skipped += other.skipped;
    }
    /// Whether the pass did anything.
    pub fn is_idle(&self) -> bool {
        *self == DispatchReport::default()
    }
}

/// The outbox as a monitoring system sees it (`GET /metrics`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub pending: i64,
    pub delivering: i64,
    /// How long the most overdue PENDING delivery has been due, in seconds (0 when none is):
    /// grows while the dispatcher is stalled or an endpoint is disabled with deliveries queued.
    pub overdue_secs: i64,
    /// Endpoints disabled (by an administrator, by failing, or 410 Gone).
    pub disabled_endpoints: i64,
}

/// Counts the outbox's unfinished deliveries (index on status: cheap however long the log).
pub async fn queue_depth(db: &DatabaseConnection) -> AppResult<QueueDepth> {
    use webhook_delivery::Column as C;
    let count = |status: &'static str| {
        webhook_delivery::Entity::find()
            .filter(C::Status.eq(status))
            .count(db)
    };
    let most_due: Option<DateTime<Utc>> = webhook_delivery::Entity::find()
        .select_only()
        .column(C::NextAttemptAt)
        .filter(C::Status.eq(PENDING))
        .order_by_asc(C::NextAttemptAt)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok(QueueDepth {
        pending: count(PENDING).await? as i64,
        delivering: count(DELIVERING).await? as i64,
        overdue_secs: most_due.map_or(0, |t| (Utc::now() - t).num_seconds().max(0)),
        disabled_endpoints: webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::Enabled.eq(false))
            .count(db)
            .await? as i64,
    })
}

/// How an endpoint answered a test event (`Dispatcher::send_test`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestDelivery {
    pub webhook_id: String,
    /// None: no answer.
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    /// Why it did not succeed.
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
}

impl TestDelivery {
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }
}

/// Fans events out and sends deliveries; one per instance (`spawn`), or called directly.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<DispatcherInner>,
}

struct DispatcherInner {
    db: DatabaseConnection,
    cipher: TokenCipher,
    config: WebhooksConfig,
    client: reqwest::Client,
    instance: String,
}

/// How one attempt ended.
enum Attempt {
    Delivered {
        status: u16,
        excerpt: String,
    },
    /// An answer that is not 2xx.
    Refused {
        status: u16,
        excerpt: String,
    },
    /// No answer: connection refused or reset, timeout, refused address.
    NoAnswer(String),
}

impl Dispatcher {
    pub fn new(db: DatabaseConnection, cipher: TokenCipher, config: WebhooksConfig) -> Self {
        let timeout = Duration::from_secs(config.webhooks_timeout_secs.max(1));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .timeout(timeout)
            .dns_resolver(Arc::new(CheckedResolver {
                allow_private: config.webhooks_allow_private,
            }))
            .user_agent(concat!("leadsync-webhooks/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(4)
            .build()
            .expect("a reqwest client");
        let instance: [u8; 6] = rand::random();
        Self {
            inner: Arc::new(DispatcherInner {
                db,
                cipher,
                config,
                client,
                instance: hex::encode(instance),
            }),
        }
    }

    /// A dispatcher with the application's database, cipher and configuration.
    pub fn of(state: &crate::AppState) -> Self {
        Self::new(
            state.db.clone(),
            state.connector.cipher().clone(),
            state.config.webhooks.clone(),
        )
    }

    fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    /// Runs `run_once` as soon as a commit appends to the lead event log (here or on another
    /// instance), and every `LEADSYNC_WEBHOOKS_POLL_MS` for the retries that come due (at once
    /// again while there is work).
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let poll = Duration::from_millis(self.inner.config.webhooks_poll_ms);
            let mut appended = crate::service::lead_events::appended();
            loop {
                // Marks what is seen now as seen: a commit from here on wakes the next wait.
                appended.borrow_and_update();
                match self.run_once().await {
                    Ok(report) if !report.is_idle() => continue,
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = ?e, "webhook dispatch failed"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = appended.changed() => {}
                }
            }
        })
    }

    /// Waits while an ingest writes in this process, at most `LEADSYNC_WEBHOOKS_YIELD_MS`: on a
    /// small machine the dispatcher would otherwise take a share of the CPU and the database
    /// from the intake for as long as it has a backlog.
    async fn yield_to_ingest(&self) {
        let most = self.inner.config.webhooks_yield_ms;
        if most == 0 {
            return;
        }
        let mut writing = crate::service::ingest::writing();
        let idle = writing.wait_for(|n| *n == 0);
        let _ = tokio::time::timeout(Duration::from_millis(most), idle).await;
    }

    /// One pass: fans new events out, then sends what is due (until nothing more is).
    pub async fn run_once(&self) -> AppResult<DispatchReport> {
        let mut report = DispatchReport {
            queued: self.fan_out().await?,
            ..Default::default()
        };
        // Bounded: a delivery that succeeds may unblock the next of its lead.
        for _ in 0..64 {
            self.yield_to_ingest().await;
            let sent = self.send_due().await?;
            if sent.is_idle() {
                break;
            }
            report.add(&sent);
        }
        Ok(report)
    }

    /// Turns the events after the cursor into deliveries, advancing the cursor in the same
    /// transaction; returns the deliveries created.
    pub async fn fan_out(&self) -> AppResult<u64> {
        let mut queued = 0;
        loop {
            let txn = self.db().begin().await?;
            // Takes the cursor row's write lock first (PostgreSQL: instances fan out one at a
            // time; SQLite: the write lock before reading, no upgrade later).
            txn.execute_raw(Statement::from_string(
                txn.get_database_backend(),
                "UPDATE webhook_dispatch_cursor SET position = position WHERE id = 1",
            ))
            .await?;
            let position = txn
                .query_one_raw(Statement::from_string(
                    txn.get_database_backend(),
                    "SELECT position FROM webhook_dispatch_cursor WHERE id = 1",
                ))
                .await?
                .map(|r| r.try_get::<i64>("", "position"))
                .transpose()?
                .unwrap_or(0);
            let events = crate::service::lead_events::after(&txn, position, FAN_OUT_BATCH).await?;
            let Some(last) = events.last().map(|e| e.id) else {
                txn.rollback().await?;
                return Ok(queued);
            };
            let endpoints = webhook_endpoint::Entity::find()
                .filter(webhook_endpoint::Column::Enabled.eq(true))
                .all(&txn)
                .await?;
            let now = Utc::now();
            let mut rows = Vec::new();
            for event in &events {
                let Some(kind) = event_type(&event.kind) else {
                    continue;
                };
                for endpoint in endpoints.iter().filter(|e| matches(e, event, kind)) {
                    rows.push(webhook_delivery::ActiveModel {
                        endpoint_id: Set(endpoint.id),
                        event_id: Set(event.id),
                        lead_id: Set(event.lead_id),
                        event_type: Set(kind.to_owned()),
                        status: Set(PENDING.to_owned()),
                        attempts: Set(0),
                        next_attempt_at: Set(now),
                        window_started_at: Set(now),
                        created_at: Set(now),
                        ..Default::default()
                    });
                }
            }
            let created = rows.len() as u64;
            for chunk in rows.chunks(200) {
                webhook_delivery::Entity::insert_many(chunk.to_vec())
                    .on_conflict(
                        OnConflict::columns([
                            webhook_delivery::Column::EndpointId,
                            webhook_delivery::Column::EventId,
                        ])
                        .do_nothing()
                        .to_owned(),
                    )
                    .exec_without_returning(&txn)
                    .await?;
            }
            txn.execute_raw(Statement::from_sql_and_values(
                txn.get_database_backend(),
                placeholders(
                    txn.get_database_backend(),
                    "UPDATE webhook_dispatch_cursor SET position = $1 WHERE id = 1",
                ),
                [last.into()],
            ))
            .await?;
            txn.commit().await?;
            queued += created;
            if created > 0 {
                crate::metrics::count("leadsync_webhook_deliveries_queued_total", &[], created);
            }
            if (events.len() as u64) < FAN_OUT_BATCH {
                return Ok(queued);
            }
        }
    }

    /// Leases due deliveries: PENDING and due, or DELIVERING with an expired lease; of enabled
    /// endpoints; with no earlier unfinished delivery of the same endpoint and lead.
    pub async fn claim(&self, limit: u64) -> AppResult<Vec<webhook_delivery::Model>> {
        let backend = self.db().get_database_backend();
        let now = Utc::now();
        let lease =
            now + chrono::Duration::seconds(self.inner.config.webhooks_timeout_secs as i64 + 30);
        let lock = if backend == DatabaseBackend::Postgres {
            "FOR UPDATE OF d SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE webhook_deliveries SET status = 'DELIVERING', lease_until = $1, leased_by = $2 \
             WHERE id IN (\
               SELECT d.id FROM webhook_deliveries d \
               JOIN webhook_endpoints w ON w.id = d.endpoint_id \
               WHERE w.enabled = $3 \
                 AND ((d.status = 'PENDING' AND d.next_attempt_at <= $4) \
                   OR (d.status = 'DELIVERING' AND d.lease_until < $4)) \
                 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
                   WHERE e.endpoint_id = d.endpoint_id AND e.lead_id = d.lead_id \
                     AND e.event_id < d.event_id AND e.status IN ('PENDING', 'DELIVERING')) \
               ORDER BY d.event_id LIMIT $5 {lock}) \
             RETURNING *"
        );
        let stmt = Statement::from_sql_and_values(
            backend,
            placeholders(backend, &sql),
            [
                lease.into(),
                self.inner.instance.clone().into(),
                true.into(),
                now.into(),
                (limit as i64).into(),
            ],
        );
        Ok(webhook_delivery::Entity::find()
            .from_raw_sql(stmt)
            .all(self.db())
            .await?)
    }

    /// Claims and sends one batch of due deliveries. The batch's endpoints and events are read
    /// at once, and each event's payload once for all the endpoints it goes to.
    pub async fn send_due(&self) -> AppResult<DispatchReport> {
        use futures::StreamExt;
        use std::collections::HashMap;
        let claimed = self.claim(CLAIM_BATCH).await?;
        if claimed.is_empty() {
            return Ok(DispatchReport::default());
        }
        let endpoints: HashMap<i64, webhook_endpoint::Model> = webhook_endpoint::Entity::find()
            .filter(
                webhook_endpoint::Column::Id.is_in(crate::service::batch::padded(
                    claimed.iter().map(|d| d.endpoint_id),
                )),
            )
            .all(self.db())
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect();
        let events: HashMap<i64, lead_event::Model> = lead_event::Entity::find()
            .filter(lead_event::Column::Id.is_in(crate::service::batch::padded(
                claimed.iter().map(|d| d.event_id),
            )))
            .all(self.db())
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect();
        // One delivery per event stands for all of them: the payload depends on the event only.
        let mut firsts: HashMap<i64, (webhook_delivery::Model, lead_event::Model)> = HashMap::new();
        for d in &claimed {
            if let Some(event) = events.get(&d.event_id) {
                firsts
                    .entry(d.event_id)
                    .or_insert_with(|| (d.clone(), event.clone()));
            }
        }
        let payloads: Vec<AppResult<(i64, Option<Value>)>> =
            futures::stream::iter(firsts.into_iter().map(|(id, (d, event))| async move {
                Ok((id, payload_data(self.db(), &d, &event).await?))
            }))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut data: HashMap<i64, Option<Value>> = HashMap::new();
        for p in payloads {
            let (id, payload) = p?;
            data.insert(id, payload);
        }
        let reports: Vec<AppResult<DispatchReport>> =
            futures::stream::iter(claimed.into_iter().map(|d| {
                let endpoint = endpoints.get(&d.endpoint_id).cloned();
                let event = events.get(&d.event_id).cloned();
                let payload = data.get(&d.event_id).cloned().flatten();
                self.deliver(d, endpoint, event, payload)
            }))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut total = DispatchReport::default();
        for r in reports {
            total.add(&r?);
        }
        Ok(total)
    }

    /// Sends one claimed delivery of `endpoint` and `event` with `payload` (its data, `None`
    /// when the lead is gone) and records the outcome.
    async fn deliver(
        &self,
        d: webhook_delivery::Model,
        endpoint: Option<webhook_endpoint::Model>,
        event: Option<lead_event::Model>,
        payload: Option<Value>,
    ) -> AppResult<DispatchReport> {
        let mut report = DispatchReport::default();
        let Some(endpoint) = endpoint else {
            return Ok(report);
        };
        let Some(event) = event else {
            return Ok(report); // erased meanwhile: the cascade removes the delivery
        };
        let Some(data) = payload else {
            self.finish(&d, SKIPPED, |m| {
                m.last_error = Set(Some(
                    "the lead no longer exists: nothing is sent (its data is not kept)".into(),
                ));
            })
            .await?;
            crate::metrics::count(
                "leadsync_webhook_deliveries_total",
                &[("outcome", "skipped")],
                1,
            );
            report.skipped = 1;
            return Ok(report);
        };
        let body = serde_json::to_vec(&json!({
            "type": d.event_type,
            "timestamp": event.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": data,
        }))
        .map_err(AppError::internal)?;
        let secret = self.inner.cipher.decrypt(&endpoint.secret_enc)?;
        let id = webhook_id(d.event_id);
        let started = Instant::now();
        let attempt = self.attempt(&endpoint, &secret, &id, body).await?;
        let latency = started.elapsed();
        crate::metrics::observe("leadsync_webhook_delivery_duration_seconds", &[], latency);
        let now = Utc::now();
        let latency_ms = latency.as_millis() as i64;
        let attempts = d.attempts + 1;
        match attempt {
            Attempt::Delivered { status, excerpt } => {
                self.finish(&d, SUCCEEDED, |m| {
                    m.attempts = Set(attempts);
                    m.last_status_code = Set(Some(i32::from(status)));
                    m.last_error = Set(None);
                    m.last_latency_ms = Set(Some(latency_ms));
                    m.response_excerpt = Set(Some(excerpt));
                    m.last_attempt_at = Set(Some(now));
                    m.delivered_at = Set(Some(now));
                })
                .await?;
                if endpoint.failing_since.is_some() {
                    webhook_endpoint::Entity::update_many()
                        .col_expr(
                            webhook_endpoint::Column::FailingSince,
                            Expr::value(Option::<DateTime<Utc>>::None),
                        )
                        .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
                        .exec(self.db())
                        .await?;
                }
                crate::metrics::count(
                    "leadsync_webhook_deliveries_total",
                    &[("outcome", "succeeded")],
                    1,
                );
                report.succeeded = 1;
            }
            failure => {
                let (status, excerpt, error) = match failure {
                    Attempt::Refused { status, excerpt } => (
                        Some(i32::from(status)),
                        Some(excerpt),
                        format!("answered HTTP {status}"),
                    ),
                    Attempt::NoAnswer(e) => (None, None, e),
                    Attempt::Delivered { .. } => unreachable!(),
                };
                let gone = status == Some(410);
                let delay = self.backoff(attempts);
                let window_end = d.window_started_at
                    + chrono::Duration::seconds(
                        self.inner.config.webhooks_retry_window_secs as i64,
                    );
                let next = now + delay;
                let give_up = gone || next > window_end;
                self.finish(&d, if give_up { FAILED } else { PENDING }, |m| {
                    m.attempts = Set(attempts);
                    m.last_status_code = Set(status);
                    m.last_error = Set(Some(truncate(&error, 500)));
                    m.last_latency_ms = Set(Some(latency_ms));
                    m.response_excerpt = Set(excerpt);
                    m.last_attempt_at = Set(Some(now));
                    m.next_attempt_at = Set(next);
                })
                .await?;
                report.failed_attempts = 1;
                crate::metrics::count(
                    "leadsync_webhook_deliveries_total",
                    &[("outcome", if give_up { "failed" } else { "retried" })],
                    1,
                );
                if give_up {
                    report.given_up = 1;
                }
                self.endpoint_failed(&endpoint, now, gone).await?;
            }
        }
        Ok(report)
    }

    /// Records a failure on the endpoint: since when it fails, and disables it after
    /// `LEADSYNC_WEBHOOKS_DISABLE_AFTER_SECS` of failing (or at once on 410 Gone).
    async fn endpoint_failed(
        &self,
        endpoint: &webhook_endpoint::Model,
        now: DateTime<Utc>,
        gone: bool,
    ) -> AppResult<()> {
        use webhook_endpoint::Column as C;
        let since = endpoint.failing_since.unwrap_or(now);
        let limit = chrono::Duration::seconds(self.inner.config.webhooks_disable_after_secs as i64);
        let reason = if gone {
            Some("the endpoint answered 410 Gone".to_owned())
        } else if now - since >= limit {
            Some(format!(
                "deliveries failed continuously since {}",
                since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ))
        } else {
            None
        };
        let mut update = webhook_endpoint::Entity::update_many()
            .filter(C::Id.eq(endpoint.id))
            .col_expr(C::FailingSince, Expr::value(Some(since)));
        if let Some(reason) = &reason {
            update = update
                .col_expr(C::Enabled, Expr::value(false))
                .col_expr(C::DisabledReason, Expr::value(Some(reason.clone())))
                .col_expr(C::UpdatedAt, Expr::value(now))
                .filter(C::Enabled.eq(true));
        } else {
            // Keep the first failure's time when another attempt set it meanwhile.
            update = update.filter(C::FailingSince.is_null());
        }
        let changed = update.exec(self.db()).await?.rows_affected;
        if reason.is_some() && changed > 0 {
            tracing::warn!(endpoint = endpoint.id, reason = ?reason, "webhook endpoint disabled");
            crate::service::audit::record_or_log(
                self.db(),
                crate::service::audit::Entry::new(
                    crate::service::audit::Actor::System,
                    "disableWebhookEndpoint",
                    "WebhookEndpoint",
                )
                .object(endpoint.id)
                .details(json!({ "reason": reason })),
            )
            .await;
        }
        Ok(())
    }

    /// Writes the outcome if the lease is still ours (a replay or another instance may have
    /// taken the delivery since).
    async fn finish(
        &self,
        d: &webhook_delivery::Model,
        status: &str,
        set: impl FnOnce(&mut webhook_delivery::ActiveModel),
    ) -> AppResult<()> {
        use webhook_delivery::Column as C;
        let mut m = webhook_delivery::ActiveModel {
            status: Set(status.to_owned()),
            lease_until: Set(None),
            leased_by: Set(None),
            ..Default::default()
        };
        set(&mut m);
        webhook_delivery::Entity::update_many()
            .set(m)
            .filter(C::Id.eq(d.id))
            .filter(C::Status.eq(DELIVERING))
            .filter(C::LeasedBy.eq(self.inner.instance.as_str()))
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// Sends a signed `webhook.test` event to an endpoint now, enabled or not: not queued, not
    /// retried, and not counted against the endpoint (it says whether the receiver is set up).
    pub async fn send_test(&self, endpoint_id: i64) -> AppResult<TestDelivery> {
        let endpoint = webhook_endpoint::Entity::find_by_id(endpoint_id)
            .one(self.db())
            .await?
            .ok_or_else(|| AppError::not_found("webhook endpoint", endpoint_id))?;
        let id = format!("msg_test_{}", hex::encode(rand::random::<[u8; 8]>()));
        let body = serde_json::to_vec(&json!({
            "type": "webhook.test",
            "timestamp": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": { "endpointId": endpoint.id.to_string() },
        }))
        .map_err(AppError::internal)?;
        let secret = self.inner.cipher.decrypt(&endpoint.secret_enc)?;
        let started = Instant::now();
        let attempt = self.attempt(&endpoint, &secret, &id, body).await?;
        let latency_ms = started.elapsed().as_millis() as i64;
        Ok(match attempt {
            Attempt::Delivered { status, excerpt } => TestDelivery {
                webhook_id: id,
                status_code: Some(status),
                latency_ms,
                error: None,
                response_excerpt: Some(excerpt),
            },
            Attempt::Refused { status, excerpt } => TestDelivery {
                webhook_id: id,
                status_code: Some(status),
                latency_ms,
                error: Some(format!("answered HTTP {status}")),
                response_excerpt: Some(excerpt),
            },
            Attempt::NoAnswer(error) => TestDelivery {
                webhook_id: id,
                status_code: None,
                latency_ms,
                error: Some(truncate(&error, 500)),
                response_excerpt: None,
            },
        })
    }

    /// Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempts-1))].
    fn backoff(&self, attempts: i32) -> chrono::Duration {
        let c = &self.inner.config;
        let cap = c.webhooks_retry_cap_secs.saturating_mul(1000).max(1);
        let exp = c
            .webhooks_retry_base_ms
            .saturating_mul(1u64 << (attempts.clamp(1, 30) - 1) as u32)
            .min(cap);
        chrono::Duration::milliseconds(rand::random_range(0..=exp) as i64)
    }

    async fn attempt(
        &self,
        endpoint: &webhook_endpoint::Model,
        secret: &str,
        id: &str,
        body: Vec<u8>,
    ) -> AppResult<Attempt> {
        // Checked again at send time: the rules may have changed since registration.
        if let Err(e) = check_url(&endpoint.url, &self.inner.config) {
            return Ok(Attempt::NoAnswer(e.message().to_owned()));
        }
        let timestamp = Utc::now().timestamp();
        let signature = sign(secret, id, timestamp, &body)?;
        let sent = self
            .inner
            .client
            .post(&endpoint.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => return Ok(Attempt::NoAnswer(describe(&e))),
        };
        let status = response.status().as_u16();
        let mut excerpt = Vec::new();
        // Only the first bytes are read; the rest is dropped with the connection.
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = EXCERPT_BYTES - excerpt.len();
                    excerpt.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if excerpt.len() >= EXCERPT_BYTES {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) if (200..300).contains(&status) => {
                    // The status arrived: a 2xx is a delivery even if the body is cut off.
                    tracing::debug!(error = %e, "webhook response body cut off");
                    break;
                }
                Err(e) => return Ok(Attempt::NoAnswer(describe(&e))),
            }
        }
        let excerpt = String::from_utf8_lossy(&excerpt).into_owned();
        Ok(if (200..300).contains(&status) {
            Attempt::Delivered { status, excerpt }
        } else {
            Attempt::Refused { status, excerpt }
        })
    }
}

/// `$n` placeholders as the backend writes them (`?n` on SQLite).
fn placeholders(backend: DatabaseBackend, sql: &str) -> String {
    if backend == DatabaseBackend::Sqlite {
        sql.replace('$', "?")
    } else {
        sql.to_owned()
    }
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// A transport error in a few words (no URL: it may carry a token in its query).
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else if e.is_body() || e.is_decode() {
        "the response was cut off".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let part = s.to_string();
        if !part.is_empty() && !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    truncate(
        &text.replace(e.url().map(|u| u.as_str()).unwrap_or("\u{0}"), "[url]"),
        500,
    )
}

/// Whether an endpoint takes an event: its type subscribed, after the endpoint's start, and
/// its filters (campaign, form, lead type) matching. `lead.erased` ignores the filters: every
/// endpoint subscribed to erasures hears of each one (it may hold the person's data).
fn matches(endpoint: &webhook_endpoint::Model, event: &lead_event::Model, kind: &str) -> bool {
    if event.id <= endpoint.start_position || !types_of(endpoint).contains(&kind) {
        return false;
    }
    if kind == "lead.erased" {
        return true;
    }
    let filter = |wanted: Option<i64>, actual: Option<i64>| wanted.is_none() || wanted == actual;
    filter(endpoint.campaign_id, event.campaign_id)
        && filter(endpoint.form_id, event.form_id)
        && (endpoint.lead_type.is_none() || endpoint.lead_type == event.lead_type)
}

/// The lead as the GraphQL `Lead` type's scalars.
pub fn lead_json(l: &lead::Model) -> Value {
    json!({
        "id": l.id.to_string(),
        "firstName": l.first_name,
        "lastName": l.last_name,
        "email": l.email,
        "workEmail": l.work_email,
        "phone": l.phone,
        "workPhone": l.work_phone,
        "company": l.company,
        "jobTitle": l.job_title,
        "jobFunction": l.job_function,
        "seniority": l.seniority,
        "industry": l.industry,
        "companySize": l.company_size,
        "country": l.country,
        "state": l.state,
        "city": l.city,
        "zipCode": l.zip_code,
        "customFields": l.custom_fields,
        "source": l.source,
        "sourceCampaignId": l.source_campaign_id.map(|v| v.to_string()),
        "sourceFormId": l.source_form_id.map(|v| v.to_string()),
        "createdAt": l.created_at,
        "updatedAt": l.updated_at,
        "latestSubmissionAt": l.latest_submission_at,
        "submissionCount": l.submission_count,
    })
}

/// The `data` of a delivery, read from the lead store now; `None` when the lead (or the
/// submission) is gone, so that nothing older is sent.
async fn payload_data(
    db: &impl ConnectionTrait,
    d: &webhook_delivery::Model,
    event: &lead_event::Model,
) -> AppResult<Option<Value>> {
    let lead_id = json!(d.lead_id.to_string());
    match d.event_type.as_str() {
        "lead.erased" | "lead.deleted" => return Ok(Some(json!({ "leadId": lead_id }))),
        _ => {}
    }
    let Some(lead) = lead::Entity::find_by_id(d.lead_id).one(db).await? else {
        return Ok(None);
    };
    if d.event_type != "submission.received" {
        return Ok(Some(json!({ "lead": lead_json(&lead) })));
    }
    let Some(submission) = (match event.submission_id {
        Some(id) => form_submission::Entity::find_by_id(id).one(db).await?,
        None => None,
    }) else {
        return Ok(None);
    };
    let answers = submission_answer::Entity::find()
        .filter(submission_answer::Column::SubmissionId.eq(submission.id))
        .order_by_asc(submission_answer::Column::Position)
        .all(db)
        .await?;
    let answers: Vec<Value> = answers
        .iter()
        .map(|a| {
            json!({
                "questionId": a.linkedin_question_id,
                "questionText": a.question_text,
                "predefinedField": a.predefined_field,
                "value": a.value,
                "isConsent": a.is_consent,
                "accepted": a.accepted,
            })
        })
        .collect();
    Ok(Some(json!({
        "lead": lead_json(&lead),
        "submission": {
            "id": submission.id.to_string(),
            "linkedInId": submission.linkedin_id,
            "submittedAt": submission.submitted_at,
            "leadType": submission.lead_type,
            "testLead": submission.test_lead,
            "campaignId": submission.campaign_id.map(|v| v.to_string()),
            "formId": submission.form_id.map(|v| v.to_string()),
            "formVersion": submission.form_version,
            "matchingStatus": submission.matching_status,
            "answers": answers,
        },
        "outcome": event.outcome,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_private_and_special_addresses() {
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(refused_address(ip.parse().unwrap()).is_some(), "{ip}");
        }
        for ip in ["93.184.216.34", "100.128.0.1", "2606:4700::1111", "8.8.8.8"] {
            assert!(refused_address(ip.parse().unwrap()).is_none(), "{ip}");
        }
    }

    #[test]
    fn checks_urls() {
        let strict = WebhooksConfig::default();
        assert!(check_url("https://hooks.example.com/in", &strict).is_ok());
        for bad in [
            "http://hooks.example.com/in",
            "ftp://hooks.example.com/",
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://10.0.0.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://localhost/",
            "https://user:pw@hooks.example.com/",
            "not a url",
        ] {
            assert!(check_url(bad, &strict).is_err(), "{bad}");
        }
        let open = WebhooksConfig {
            webhooks_allow_http: true,
            webhooks_allow_private: true,
            ..Default::default()
        };
        assert!(check_url("http://127.0.0.1:9/", &open).is_ok());
    }

    #[test]
    fn signs_like_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
