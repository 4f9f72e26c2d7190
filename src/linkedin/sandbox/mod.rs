//! Our LinkedIn sandbox: a real HTTP server that behaves like LinkedIn's OAuth 2.0 (three-legged,
//! with PKCE and refresh tokens) and Marketing API (Lead Sync), as `linkedin-api.md` describes
//! them. Tests and the demo run the real client against it; the control methods bend it into the
//! situations LinkedIn produces (expired and revoked tokens, throttling, outages, truncated
//! bodies, late leads, deletions, webhooks), and the ground-truth methods say what a correct sync
//! must end up with.
//!
//! Routes (see `router`): `GET /oauth/v2/authorization`, `POST /oauth/v2/accessToken`, the
//! interactive sign-in's `POST /oauth/v2/login-submit` and `POST /oauth/v2/authorization-decision`
//! (see `interactive_sign_in`), and `/rest/...` (ad accounts, organization ACLs, campaigns, lead
//! forms, lead form responses, lead notifications).

mod api;
mod data;
mod oauth;
mod pages;
mod webhooks;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use anyhow::Context;
use axum::{
    Router,
    routing::{any, get, post},
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::Value;

use data::World;
/// The names the sandbox gives its people (tests look for them where personal data must not be).
pub use data::{FIRST_NAMES, LAST_NAMES};

/// How the sandbox is set up. Everything LinkedIn leaves open is a setting here.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub seed: u64,
    pub client_id: String,
    pub client_secret: String,
    /// The registered redirect URI; None accepts any redirect_uri (the code is still bound to it).
    pub redirect_uri: Option<String>,
    /// Ad accounts the member can use (default 2), plus one account whose organization the member
    /// has no approved role on (403 on its lead calls).
    pub accounts: usize,
    /// Leads generated per account over the past 400 days (default 120).
    pub leads_per_account: usize,
    /// Which LinkedIn-Version values are active; others get 426 NONEXISTENT_VERSION.
    pub versions: SandboxVersions,
    /// Scope separator in token responses: "," (LinkedIn's documented form) or " ".
    pub scope_separator: String,
    /// Leave `paging.total` out of lead/form collections (LinkedIn sometimes does).
    pub omit_total: bool,
    /// Access token lifetime in seconds (default 5_184_000) and refresh token lifetime (default
    /// 31_536_000).
    pub access_token_ttl: i64,
    pub refresh_token_ttl: i64,
    /// Whether the app is approved for programmatic refresh (default yes): without it token
    /// responses carry no refresh token, and the member authorizes again every 60 days.
    pub programmatic_refresh: bool,
    /// Organic leads (COMPANY, ORGANIZATION_PRODUCT, EVENT) generated per lead type on each of
    /// two organizations, one the member administers (with `accounts: 0`, one added that owns no
    /// ad account) and one it has no role on (default 0: the sponsored world alone, unchanged).
    pub organic_leads_per_type: usize,
    /// The authorization endpoint shows LinkedIn's sign-in page, then its permissions page
    /// (Allow / Cancel), instead of approving at once (default off: tests and the demo's round
    /// trip approve at once). `Sandbox::interactive_sign_in` switches it at run time.
    pub interactive_sign_in: bool,
    /// The developer app's name, as the permissions page shows it ("{app_name} would like to:").
    pub app_name: String,
    /// The member's name, shown on the sign-in and permissions pages.
    pub member_name: String,
    /// The member's email, prefilled on the sign-in page; None prefills `SANDBOX_MEMBER_EMAIL`.
    pub member_email: Option<String>,
}

/// The address the sign-in page prefills when the member has no email configured.
pub const SANDBOX_MEMBER_EMAIL: &str = "member@sandbox.example";

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            client_id: "sandbox-client".into(),
            client_secret: "sandbox-secret".into(),
            redirect_uri: None,
            accounts: 2,
            leads_per_account: 120,
            versions: SandboxVersions::default(),
            scope_separator: ",".into(),
            omit_total: false,
            access_token_ttl: 5_184_000,
            refresh_token_ttl: 31_536_000,
            programmatic_refresh: true,
            organic_leads_per_type: 0,
            interactive_sign_in: false,
            app_name: "leadsync".into(),
            member_name: "Alex Sandbox".into(),
            member_email: None,
        }
    }
}

/// Which API versions the sandbox answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SandboxVersions {
    /// LinkedIn's policy by the sandbox's clock: a version is active from its month until its
    /// sunset, `support_months` later (LinkedIn: 12).
    Policy { support_months: u32 },
    /// Exactly these.
    Listed(Vec<String>),
}

impl Default for SandboxVersions {
    fn default() -> Self {
        Self::Policy {
            support_months: crate::linkedin::version::SUPPORT_MONTHS,
        }
    }
}

impl SandboxVersions {
    /// Whether a `LinkedIn-Version` header value is active on `today`.
    pub fn accepts(&self, header: &str, today: chrono::NaiveDate) -> bool {
        use crate::linkedin::version::{ApiVersion, Standing};
        match self {
            Self::Listed(versions) => versions.iter().any(|v| v == header),
            Self::Policy { support_months } => header.parse::<ApiVersion>().is_ok_and(|v| {
                matches!(
                    v.standing_with(today, *support_months),
                    Standing::Active | Standing::SunsetSoon
                )
            }),
        }
    }
}

/// Failures injected into `/rest` calls (never into OAuth), after the header and token checks.
#[derive(Debug, Clone)]
pub struct Faults {
    /// Share of `/rest` calls that fail, 0 to 1.
    pub rate: f64,
    /// Drawn uniformly per failing call; empty means Throttle, ServerError and Unavailable.
    pub kinds: Vec<FaultKind>,
    /// Seeds the draw, so a run with the same calls fails the same way.
    pub seed: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            rate: 0.0,
            kinds: Vec::new(),
            seed: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// 429 with LinkedIn's JSON body and no Retry-After.
    Throttle,
    /// 500.
    ServerError,
    /// 503.
    Unavailable,
    /// Sleeps, then answers normally.
    Slow(Duration),
    /// 200 with the JSON body cut in half.
    Truncated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookAction {
    Created,
    Deleted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookMode {
    /// `X-LI-Signature = hex(HMAC-SHA256(client secret, "hmacsha256=" + body))`.
    Signed,
    /// HMAC over the plain body.
    SignedPlain,
    /// A wrong signature.
    Forged,
    /// The same notification (same id, Signed) sent twice; the second status is returned.
    Twice,
}

/// What the sandbox has seen, for assertions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxStats {
    /// Every request under `/rest`, whatever its outcome.
    pub rest_calls: u64,
    /// `/rest` responses by HTTP status.
    pub by_status: HashMap<u16, u64>,
    /// Requests to the token endpoint.
    pub token_calls: u64,
    /// Requests to the authorization page.
    pub authorize_calls: u64,
    /// Sign-in pages shown (interactive mode): one per authorization, plus one per refused
    /// sign-in (an empty password).
    pub sign_in_pages: u64,
    /// Permissions pages shown (interactive mode), after a sign-in.
    pub permission_pages: u64,
    pub faults_injected: u64,
    /// Webhook notifications POSTed (both from `send_webhook` and fired by lead changes).
    pub webhooks_sent: u64,
}

/// One ad account as the sandbox knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountTruth {
    /// LinkedIn's numeric id.
    pub id: String,
    pub name: String,
    /// The member has no approved role on its organization: its lead calls answer 403.
    pub forbidden: bool,
}

/// An organization, as a test's ground truth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationTruth {
    pub id: i64,
    pub urn: String,
    pub name: String,
    /// The member has no approved role on it: its lead calls answer 403.
    pub forbidden: bool,
    /// The organic lead types it has forms of.
    pub lead_types: Vec<&'static str>,
}

/// One lead notification subscription, as a test's ground truth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionTruth {
    pub id: String,
    pub webhook: String,
    /// `urn:li:sponsoredAccount:{id}` or `urn:li:organization:{id}`.
    pub owner: String,
    /// `SPONSORED`, `COMPANY`, `ORGANIZATION_PRODUCT` or `EVENT`.
    pub lead_type: String,
}

/// The sandbox; cheap to clone (shared state).
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

struct Inner {
    config: SandboxConfig,
    base_url: Mutex<Option<String>>,
    /// For webhook deliveries: no redirects, bounded time.
    http: reqwest::Client,
    state: Mutex<State>,
}

struct State {
    world: World,
    oauth: oauth::OAuthState,
    refuse_authorizations: bool,
    interactive_sign_in: bool,
    faults: Option<(Faults, StdRng)>,
    stats: SandboxStats,
    subscriptions: Vec<webhooks::Subscription>,
    next_subscription: u64,
}

/// Milliseconds since the epoch, as LinkedIn's API counts time.
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Sandbox {
    /// Generates the seeded data; nothing listens until `start` (or until `router` is served).
    pub fn new(config: SandboxConfig) -> Self {
        let world = World::generate(&config, now_ms());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        let state = State {
            world,
            oauth: oauth::OAuthState::default(),
            refuse_authorizations: false,
            interactive_sign_in: config.interactive_sign_in,
            faults: None,
            stats: SandboxStats::default(),
            subscriptions: Vec::new(),
            next_subscription: 7_000,
        };
        Self {
            inner: Arc::new(Inner {
                config,
                base_url: Mutex::new(None),
                http,
                state: Mutex::new(state),
            }),
        }
    }

    /// All routes: OAuth at `/oauth/v2/...`, the API under `/rest`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/oauth/v2/authorization", get(oauth::authorize))
            .route("/oauth/v2/accessToken", post(oauth::access_token))
            .route("/oauth/v2/login-submit", post(oauth::login_submit))
            .route(
                "/oauth/v2/authorization-decision",
                post(oauth::authorization_decision),
            )
            // One entry point for the API: it checks headers, applies the method override and
            // faults, then dispatches on path and method itself.
            .route("/rest", any(api::rest))
            .route("/rest/{*path}", any(api::rest))
            .with_state(self.clone())
    }

    /// Binds `addr` (e.g. "127.0.0.1:0"), serves in a spawned task, returns the bound base URL
    /// like "http://127.0.0.1:PORT".
    pub async fn start(&self, addr: &str) -> anyhow::Result<String> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the LinkedIn sandbox to {addr}"))?;
        let mut local = listener.local_addr()?;
        // A wildcard bind is reachable on loopback; clients cannot dial 0.0.0.0.
        if local.ip().is_unspecified() {
            local.set_ip(if local.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        let base = format!("http://{local}");
        *self
            .inner
            .base_url
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(base.clone());
        let router = self.router();
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::warn!(%error, "LinkedIn sandbox stopped");
            }
        });
        Ok(base)
    }

    fn base(&self) -> String {
        self.inner
            .base_url
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_default()
    }

    /// `{base}/oauth/v2/authorization` (valid after `start`).
    pub fn auth_url(&self) -> String {
        format!("{}/oauth/v2/authorization", self.base())
    }

    /// `{base}/oauth/v2/accessToken`.
    pub fn token_url(&self) -> String {
        format!("{}/oauth/v2/accessToken", self.base())
    }

    /// `{base}/rest`.
    pub fn api_url(&self) -> String {
        format!("{}/rest", self.base())
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.inner.config
    }

    /// The state lock. Never held across an await; a panic while holding it cannot leave the
    /// data half-written in a way that matters to a sandbox, so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ------------------------------------------------------------------ control

    /// While set, the authorization page redirects with `error=user_cancelled_authorize` (in
    /// interactive mode too, before any sign-in page).
    pub fn refuse_authorizations(&self, refuse: bool) {
        self.lock().refuse_authorizations = refuse;
    }

    /// While set, the authorization page asks the member to sign in and then to allow the app
    /// (LinkedIn's two pages) instead of approving at once; see `SandboxConfig::interactive_sign_in`.
    /// Requests already waiting on a page keep going either way.
    pub fn interactive_sign_in(&self, interactive: bool) {
        self.lock().interactive_sign_in = interactive;
    }

    /// New responses submitted now; returns their ids and notifies (CREATED, Signed) every
    /// webhook subscribed to the account. An unknown account gets nothing.
    pub fn add_leads(&self, account_id: &str, n: usize) -> Vec<String> {
        let now = now_ms();
        let mut state = self.lock();
        let ids = state.world.add_leads(account_id, n, now);
        self.announce_created(state, ids, now)
    }

    /// New organic responses of `lead_type` on the organization, submitted now; notifies every
    /// webhook subscribed to that organization and lead type.
    pub fn add_organic_leads(&self, org_id: i64, lead_type: &str, n: usize) -> Vec<String> {
        let now = now_ms();
        let mut state = self.lock();
        let ids = state.world.add_organic_leads(org_id, lead_type, n, now);
        self.announce_created(state, ids, now)
    }

    /// Removes a response and notifies (DELETED, Signed) every webhook subscribed to its account.
    pub fn delete_lead(&self, response_id: &str) {
        let now = now_ms();
        let mut state = self.lock();
        if state.world.delete_lead(response_id).is_none() {
            return;
        }
        let deliveries = self.deliveries(&state, WebhookAction::Deleted, response_id, now);
        drop(state);
        self.fire(deliveries);
    }

    /// Every access token issued so far answers 401 65602 EXPIRED_ACCESS_TOKEN; refresh works.
    pub fn expire_access_tokens(&self) {
        self.lock().oauth.expire_all();
    }

    /// Access tokens answer 401 65601 REVOKED_ACCESS_TOKEN and refresh tokens are invalid.
    pub fn revoke_tokens(&self) {
        self.lock().oauth.revoke_all();
    }

    /// Replaces the fault plan (and restarts its random sequence from `faults.seed`).
    pub fn set_faults(&self, faults: Faults) {
        let rng = StdRng::seed_from_u64(faults.seed);
        self.lock().faults = Some((faults, rng));
    }

    pub fn stats(&self) -> SandboxStats {
        self.lock().stats.clone()
    }

    // ------------------------------------------------------------------ ground truth

    /// The member's ad accounts, the forbidden one last.
    pub fn accounts(&self) -> Vec<AccountTruth> {
        self.lock()
            .world
            .accounts
            .iter()
            .map(|a| AccountTruth {
                id: a.id.clone(),
                name: a.name.clone(),
                forbidden: a.forbidden,
            })
            .collect()
    }

    /// Every lead response LinkedIn would return for the account now: within the 365-day
    /// retention, test leads included, as LinkedIn JSON elements, in API order.
    pub fn responses(&self, account_id: &str) -> Vec<Value> {
        let now = now_ms();
        self.lock()
            .world
            .responses(account_id, now)
            .map(|l| l.json.clone())
            .collect()
    }

    /// Organizations that own organic forms (none unless `organic_leads_per_type` > 0).
    pub fn organizations(&self) -> Vec<OrganizationTruth> {
        let state = self.lock();
        let world = &state.world;
        world
            .orgs
            .iter()
            .enumerate()
            .filter(|(_, o)| !o.organic_forms.is_empty())
            .map(|(i, o)| OrganizationTruth {
                id: o.id,
                urn: o.urn(),
                name: o.name.clone(),
                forbidden: world.org_forbidden(i),
                lead_types: o.organic_forms.iter().map(|(t, _)| *t).collect(),
            })
            .collect()
    }

    /// The organic responses of one lead type LinkedIn would return for the organization
    /// (`urn:li:organization:{id}`) now: within the 365-day retention, test leads included, in
    /// API order.
    pub fn organic_responses(&self, org_urn: &str, lead_type: &str) -> Vec<Value> {
        let now = now_ms();
        self.lock()
            .world
            .responses(&data::organic_key(org_urn, lead_type), now)
            .map(|l| l.json.clone())
            .collect()
    }

    /// The organization's organic `leadForms` elements (every type).
    pub fn organic_forms(&self, org_id: i64) -> Vec<Value> {
        let state = self.lock();
        state
            .world
            .org_by_id(org_id)
            .map(|i| {
                state.world.orgs[i]
                    .organic_forms
                    .iter()
                    .map(|(_, f)| f.json.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many responses a full sync should store: those of the accounts the member may read.
    pub fn readable_response_count(&self) -> usize {
        let now = now_ms();
        let state = self.lock();
        state
            .world
            .accounts
            .iter()
            .filter(|a| !a.forbidden)
            .map(|a| state.world.responses(&a.id, now).count())
            .sum()
    }

    /// How many organic responses a full organic sync should store: every organic type of the
    /// organizations the member has an approved role on (the sponsored count leaves them out).
    pub fn readable_organic_response_count(&self) -> usize {
        let now = now_ms();
        let state = self.lock();
        let world = &state.world;
        (0..world.orgs.len())
            .filter(|&org| !world.org_forbidden(org))
            .flat_map(|org| {
                let urn = world.orgs[org].urn();
                data::ORGANIC_TYPES.map(|t| data::organic_key(&urn, t))
            })
            .map(|key| world.responses(&key, now).count())
            .sum()
    }

    /// The account's `leadForms` elements.
    pub fn forms(&self, account_id: &str) -> Vec<Value> {
        self.lock()
            .world
            .account(account_id)
            .map(|a| a.forms.iter().map(|f| f.json.clone()).collect())
            .unwrap_or_default()
    }

    /// Every lead notification subscription with its lead type: an organization has one per
    /// organic type it is subscribed for.
    pub fn lead_notification_subscriptions(&self) -> Vec<SubscriptionTruth> {
        self.lock()
            .subscriptions
            .iter()
            .map(|s| SubscriptionTruth {
                id: s.id.clone(),
                webhook: s.webhook.clone(),
                owner: s.owner.clone(),
                lead_type: s.lead_type.clone(),
            })
            .collect()
    }

    /// `(id, webhook url, owner URN)` of every lead notification subscription.
    pub fn webhook_subscriptions(&self) -> Vec<(String, String, String)> {
        self.lock()
            .subscriptions
            .iter()
            .map(|s| (s.id.clone(), s.webhook.clone(), s.owner.clone()))
            .collect()
    }

    /// Sends one notification about `response_id` (live or deleted) to `url` now and returns the
    /// HTTP status our server answered.
    pub async fn send_webhook(
        &self,
        url: &str,
        action: WebhookAction,
        response_id: &str,
        mode: WebhookMode,
    ) -> anyhow::Result<u16> {
        let body = {
            let state = self.lock();
            let lead = state
                .world
                .any_lead(response_id)
                .with_context(|| format!("the sandbox has no lead response {response_id:?}"))?;
            webhooks::notification(action, lead, now_ms())
        };
        let secret = &self.inner.config.client_secret;
        let signature = webhooks::signature(secret, &body, mode);
        let times = if mode == WebhookMode::Twice { 2 } else { 1 };
        let mut status = 0;
        for _ in 0..times {
            status = webhooks::deliver(&self.inner.http, url, &body, &signature).await?;
            self.lock().stats.webhooks_sent += 1;
        }
        Ok(status)
    }

    /// Validates a webhook URL the way LinkedIn does before it delivers to it: `GET
    /// {url}?challengeCode=..` must answer 200 JSON with the same `challengeCode` and
    /// `challengeResponse = hex(HMAC-SHA256(client secret, challengeCode))` within 3 seconds.
    pub async fn validate_webhook(&self, url: &str) -> anyhow::Result<bool> {
        webhooks::challenge(&self.inner.http, url, &self.inner.config.client_secret).await
    }

    // ------------------------------------------------------------------ internals

    /// Notifies (CREATED, Signed) the subscribers of each new lead, after the lock is released.
    fn announce_created(
        &self,
        state: MutexGuard<'_, State>,
        ids: Vec<String>,
        now: i64,
    ) -> Vec<String> {
        let deliveries = ids
            .iter()
            .flat_map(|id| self.deliveries(&state, WebhookAction::Created, id, now))
            .collect();
        drop(state);
        self.fire(deliveries);
        ids
    }

    /// `(url, body)` of the notifications a lead change sends, one per subscription on its account.
    fn deliveries(
        &self,
        state: &State,
        action: WebhookAction,
        response_id: &str,
        now: i64,
    ) -> Vec<(String, String)> {
        let Some(lead) = state.world.any_lead(response_id) else {
            return Vec::new();
        };
        state
            .subscriptions
            .iter()
            .filter(|s| s.owner == lead.owner && s.lead_type == lead.lead_type)
            .map(|s| (s.webhook.clone(), webhooks::notification(action, lead, now)))
            .collect()
    }

    /// Delivers in the background (Signed), ignoring failures, as LinkedIn does. Without a Tokio
    /// runtime (a plain unit test) there is nobody to deliver and nothing is sent.
    fn fire(&self, deliveries: Vec<(String, String)>) {
        if deliveries.is_empty() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::debug!("no Tokio runtime: lead notifications not delivered");
            return;
        };
        let sandbox = self.clone();
        runtime.spawn(async move {
            let secret = sandbox.inner.config.client_secret.clone();
            for (url, body) in deliveries {
                let signature = webhooks::signature(&secret, &body, WebhookMode::Signed);
                let outcome = webhooks::deliver(&sandbox.inner.http, &url, &body, &signature).await;
                sandbox.lock().stats.webhooks_sent += 1;
                if let Err(error) = outcome {
                    tracing::debug!(%url, %error, "lead notification not delivered");
                }
            }
        });
    }

    /// Draws whether this `/rest` call fails, and how.
    fn roll_fault(&self) -> Option<FaultKind> {
        let mut state = self.lock();
        let (faults, rng) = state.faults.as_mut()?;
        if faults.rate <= 0.0 || rng.random::<f64>() >= faults.rate {
            return None;
        }
        const DEFAULT_KINDS: [FaultKind; 3] = [
            FaultKind::Throttle,
            FaultKind::ServerError,
            FaultKind::Unavailable,
        ];
        let kinds: &[FaultKind] = if faults.kinds.is_empty() {
            &DEFAULT_KINDS
        } else {
            &faults.kinds
        };
        let kind = kinds[rng.random_range(0..kinds.len())];
        state.stats.faults_injected += 1;
        Some(kind)
    }
}
