//! The LinkedIn connector: authorization (OAuth 2.0 with PKCE), token health, discovery of ad
//! accounts, campaigns and forms, and the sync of lead responses into the pipeline — scheduled,
//! on demand, and by webhook.
//!
//! Nothing lost, nothing doubled: an account's cursor advances only in the transaction that
//! stores the pages it covers; responses are keyed by LinkedIn id; an account is synced by one run
//! at a time through a lease in the database, which expires if its holder dies.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use base64::Engine;
use chrono::{DateTime, Utc};
use entity::{
    linkedin_account, linkedin_campaign, linkedin_profile, linkedin_profile_account, oauth_state,
    sync_run,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::NotSet,
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
    sea_query::{Expr, OnConflict},
};
use serde_json::{Value, json};

use crate::{
    crypto::TokenCipher,
    domain::{AccountSyncStatus, AuthorizationStatus, LeadType, ProfileSyncStatus, SyncRunStatus},
    error::{AppError, AppResult},
    events::EventBus,
    linkedin::{
        client::{ApiError, LinkedInClient, OAuthError},
        model,
    },
    service::{
        configuration,
        ingest::{self, IngestReport, IngestRequest},
    },
};

/// LinkedIn keeps leads for 365 days.
/// LinkedIn keeps ad leads this long; no lead type backfills further.
const RETENTION_DAYS: i32 = 365;
const DAY_MS: i64 = 24 * 3600 * 1000;
/// The lead types that belong to an organization rather than an ad account.
const ORGANIC_LEAD_TYPES: [LeadType; 3] = [
    LeadType::Company,
    LeadType::OrganizationProduct,
    LeadType::Event,
];
/// Later pulls re-read this much before the cursor, for late-arriving leads.
const OVERLAP_MS: i64 = 15 * 60 * 1000;
/// Refresh an access token this long before it expires.
const REFRESH_AHEAD: chrono::Duration = chrono::Duration::minutes(10);
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
const STATE_TTL: chrono::Duration = chrono::Duration::minutes(30);
const PAGE_SIZE: u64 = 100;
/// Lead pages fetched ahead of the batch being stored.
const PAGES_AHEAD: usize = 8;
/// Responses stored in one ingest transaction at most (pages that arrived meanwhile join).
const BATCH_RESPONSES: usize = 500;

#[derive(Clone)]
pub struct Connector {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    client: Option<LinkedInClient>,
    cipher: TokenCipher,
    bus: EventBus,
    instance: String,
    /// Where LinkedIn's lead notifications should go, when webhooks are on.
    webhook_url: Option<String>,
    client_secret: String,
    api_version: crate::linkedin::version::ApiVersion,
    /// Profiles with a run in progress in this instance.
    running: Mutex<HashSet<i64>>,
    /// Set on shutdown: no new runs start.
    stopping: std::sync::atomic::AtomicBool,
}

/// Why a sync stopped.
#[derive(Debug)]
enum SyncFail {
    /// The profile cannot sync until a person authorizes it again (already recorded on it).
    Expired(String),
    Failed(String),
}

#[derive(Default, Debug, Clone)]
pub struct RunCounts {
    pub fetched: i32,
    pub created: i32,
    pub duplicates: i32,
    pub leads_created: i32,
    pub leads_updated: i32,
    pub failed: i32,
}

impl RunCounts {
    fn add(&mut self, fetched: usize, r: &IngestReport) {
        self.fetched += fetched as i32;
        self.created += r.submissions_created;
        self.duplicates += r.duplicates_skipped + r.erased_skipped;
        self.leads_created += r.leads_created;
        self.leads_updated += r.leads_updated;
        self.failed += r.failed;
    }
}

/// What LinkedIn's redirect back came to: shown to the person on the callback page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationOutcome {
    /// The profile is authorized (its first sync is queued).
    pub connected: bool,
    /// For the person.
    pub message: String,
    /// The profile the state was bound to; None when the state was missing or unknown.
    pub profile_id: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Manual,
    Scheduled,
    Reset,
    Authorization,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "MANUAL",
            Trigger::Scheduled => "SCHEDULED",
            Trigger::Reset => "RESET",
            Trigger::Authorization => "AUTHORIZATION",
        }
    }
}

pub struct ConnectorOptions {
    pub client: Option<LinkedInClient>,
    pub key: [u8; 32],
    pub webhook_url: Option<String>,
}

fn not_configured() -> AppError {
    AppError::conflict(
        "LinkedIn is not configured: set LINKEDIN_CLIENT_ID and LINKEDIN_CLIENT_SECRET",
    )
}

fn random_token(bytes: usize) -> String {
    let data: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

impl Connector {
    pub fn new(db: DatabaseConnection, bus: EventBus, options: ConnectorOptions) -> Self {
        let (client_secret, api_version) = options
            .client
            .as_ref()
            .map(|c| (c.settings().client_secret.clone(), c.settings().api_version))
            .unwrap_or((String::new(), crate::linkedin::version::DEFAULT));
        Self {
            inner: Arc::new(Inner {
                db,
                client: options.client,
                cipher: TokenCipher::new(&options.key),
                bus,
                instance: random_token(9),
                webhook_url: options.webhook_url,
                client_secret,
                api_version,
                running: Mutex::new(HashSet::new()),
                stopping: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    pub fn bus(&self) -> &EventBus {
        &self.inner.bus
    }

    /// The cipher of stored secrets (`LEADSYNC_SECRET_KEY`): LinkedIn tokens, webhook secrets.
    pub fn cipher(&self) -> &TokenCipher {
        &self.inner.cipher
    }

    fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    fn client(&self) -> AppResult<&LinkedInClient> {
        self.inner.client.as_ref().ok_or_else(not_configured)
    }

    fn api_client(&self) -> Result<&LinkedInClient, ApiError> {
        self.client().map_err(local)
    }

    pub fn is_configured(&self) -> bool {
        self.inner.client.is_some()
    }

    /// The client secret signs LinkedIn's webhook calls.
    pub fn webhook_secret(&self) -> Option<&str> {
        self.is_configured()
            .then_some(self.inner.client_secret.as_str())
            .filter(|s| !s.is_empty())
    }

    // ------------------------------------------------------------------ authorization

    /// The LinkedIn URL a person opens to authorize `profile_id`, with a single-use state bound
    /// to the profile and a PKCE challenge.
    pub async fn authorization_url(
        &self,
        profile_id: i64,
        user_id: Option<i64>,
    ) -> AppResult<String> {
        let client = self.client()?;
        let profile = profile(self.db(), profile_id).await?;
        let (challenge, verifier) = LinkedInClient::new_pkce();
        let state = random_token(32);
        let now = Utc::now();
        oauth_state::ActiveModel {
            id: NotSet,
            state: Set(state.clone()),
            profile_id: Set(profile.id),
            pkce_verifier: Set(self.inner.cipher.encrypt(&verifier)),
            created_by_user_id: Set(user_id),
            expires_at: Set(now + STATE_TTL),
            used_at: Set(None),
            created_at: Set(now),
        }
        .insert(self.db())
        .await?;
        if profile.authorization_status != AuthorizationStatus::NotAuthorized.as_str() {
            update_profile(self.db(), profile.id, |p| {
                p.authorization_status = Set(AuthorizationStatus::Reauthorizing.as_str().into());
            })
            .await?;
        }
        Ok(client.authorization_url(&state, challenge))
    }

    /// Handles LinkedIn's redirect back: whether the profile is now connected, a message for the
    /// person, and the profile the state was bound to.
    pub async fn complete_authorization(
        &self,
        state: Option<&str>,
        code: Option<&str>,
        error: Option<&str>,
        error_description: Option<&str>,
    ) -> AppResult<AuthorizationOutcome> {
        let client = self.client()?;
        let unknown = |message: &str| AuthorizationOutcome {
            connected: false,
            message: message.into(),
            profile_id: None,
        };
        let Some(state) = state else {
            return Ok(unknown(
                "The authorization response has no state: start again from leadsync.",
            ));
        };
        let Some(row) = oauth_state::Entity::find()
            .filter(oauth_state::Column::State.eq(state))
            .one(self.db())
            .await?
        else {
            return Ok(unknown(
                "This authorization request is unknown: start again from leadsync.",
            ));
        };
        // Single use: claim the state before anything else.
        let now = Utc::now();
        let claimed = oauth_state::Entity::update_many()
            .col_expr(oauth_state::Column::UsedAt, Expr::value(now))
            .filter(oauth_state::Column::Id.eq(row.id))
            .filter(oauth_state::Column::UsedAt.is_null())
            .exec(self.db())
            .await?
            .rows_affected
            == 1;
        let fail = |detail: String| async move {
            self.set_unauthorized(row.profile_id, &detail).await?;
            Ok::<_, AppError>(AuthorizationOutcome {
                connected: false,
                message: detail,
                profile_id: Some(row.profile_id),
            })
        };
        if !claimed {
            return fail(
                "Authorization failed: this authorization link was already used. Start again."
                    .into(),
            )
            .await;
        }
        if row.expires_at < now {
            return fail(
                "Authorization failed: the authorization link expired. Start again.".into(),
            )
            .await;
        }
        if let Some(error) = error {
            return fail(format!(
                "LinkedIn authorization was refused ({error}{}).",
                error_description
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ))
            .await;
        }
        let Some(code) = code else {
            return fail("Authorization failed: LinkedIn sent no code.".into()).await;
        };
        let verifier = self.inner.cipher.decrypt(&row.pkce_verifier)?;
        let tokens = match client.exchange_code(code, &verifier).await {
            Ok(tokens) => tokens,
            Err(e) => {
                return fail(format!(
                    "Authorization failed: LinkedIn refused the code exchange ({e})."
                ))
                .await;
            }
        };
        let cipher = &self.inner.cipher;
        update_profile(self.db(), row.profile_id, |p| {
            p.authorization_status = Set(AuthorizationStatus::Authorized.as_str().into());
            p.access_token_enc = Set(Some(cipher.encrypt(&tokens.access_token)));
            p.refresh_token_enc = Set(tokens.refresh_token.as_deref().map(|t| cipher.encrypt(t)));
            p.token_expires_at = Set(Some(tokens.expires_at));
            p.refresh_token_expires_at = Set(tokens.refresh_expires_at);
            p.scopes = Set(Some(tokens.scopes.join(" ")));
            p.status_details = Set(Some("Authorized with LinkedIn.".into()));
        })
        .await?;
        tracing::info!(profile_id = row.profile_id, "LinkedIn profile authorized");
        // The tokens arrive through LinkedIn's redirect, not a mutation: recorded here, as the
        // user who asked for the authorization URL.
        let actor = row.created_by_user_id.map_or(
            crate::service::audit::Actor::System,
            crate::service::audit::Actor::User,
        );
        let entry = crate::service::audit::Entry::new(
            actor,
            "completeLinkedInAuthorization",
            "LinkedInUserProfile",
        )
        .object(row.profile_id)
        .details(json!({
            "scopes": tokens.scopes,
            "refreshToken": tokens.refresh_token.is_some(),
        }));
        crate::service::audit::record_or_log(self.db(), entry).await;
        // Discovery and the first (backfill) sync start at once.
        self.queue_sync(row.profile_id, Trigger::Authorization)
            .await?;
        Ok(AuthorizationOutcome {
            connected: true,
            message: "LinkedIn is connected: leadsync is discovering your ad accounts and syncing \
                      leads."
                .into(),
            profile_id: Some(row.profile_id),
        })
    }

    async fn set_unauthorized(&self, profile_id: i64, detail: &str) -> AppResult<()> {
        let current = profile(self.db(), profile_id).await?;
        let detail = detail.to_owned();
        // A profile that was authorized keeps working with its tokens; a new one stays unauthorized.
        let status = if current.access_token_enc.is_some()
            && current.authorization_status != AuthorizationStatus::Expired.as_str()
        {
            AuthorizationStatus::Authorized
        } else if current.access_token_enc.is_some() {
            AuthorizationStatus::Expired
        } else {
            AuthorizationStatus::NotAuthorized
        };
        update_profile(self.db(), profile_id, move |p| {
            p.authorization_status = Set(status.as_str().into());
            p.status_details = Set(Some(detail));
        })
        .await
    }

    /// A usable access token for the profile: refreshed ahead of expiry (or when `force`d after a
    /// 401); when refresh is impossible the profile becomes EXPIRED.
    async fn access_token(&self, profile_id: i64, force: bool) -> Result<String, SyncFail> {
        let client = self
            .client()
            .map_err(|e| SyncFail::Failed(e.message().into()))?;
        let p = profile(self.db(), profile_id).await.map_err(db_fail)?;
        if p.authorization_status != AuthorizationStatus::Authorized.as_str() {
            return Err(SyncFail::Expired(format!(
                "the profile is {}: authorize it with LinkedIn first",
                p.authorization_status.to_lowercase().replace('_', " ")
            )));
        }
        let cipher = &self.inner.cipher;
        let access = p
            .access_token_enc
            .as_deref()
            .map(|t| cipher.decrypt(t))
            .transpose()
            .map_err(|_| {
                SyncFail::Failed("a stored token does not decrypt with LEADSYNC_SECRET_KEY".into())
            })?;
        let fresh = p
            .token_expires_at
            .is_some_and(|at| at > Utc::now() + REFRESH_AHEAD);
        if let (Some(access), false) = (access.clone(), force || !fresh) {
            return Ok(access);
        }
        let Some(refresh) = p
            .refresh_token_enc
            .as_deref()
            .and_then(|t| cipher.decrypt(t).ok())
        else {
            return Err(self
                .expire(
                    profile_id,
                    "The access token expired and LinkedIn gave no refresh token: authorize again.",
                )
                .await);
        };
        match client.refresh(&refresh).await {
            Ok(tokens) => {
                update_profile(self.db(), profile_id, |m| {
                    m.access_token_enc = Set(Some(cipher.encrypt(&tokens.access_token)));
                    if let Some(r) = &tokens.refresh_token {
                        m.refresh_token_enc = Set(Some(cipher.encrypt(r)));
                    }
                    m.token_expires_at = Set(Some(tokens.expires_at));
                    if tokens.refresh_expires_at.is_some() {
                        m.refresh_token_expires_at = Set(tokens.refresh_expires_at);
                    }
                })
                .await
                .map_err(db_fail)?;
                tracing::info!(profile_id, "refreshed the LinkedIn access token");
                Ok(tokens.access_token)
            }
            Err(OAuthError::Rejected { error, description }) => Err(self
                .expire(
                    profile_id,
                    &format!("LinkedIn refused to refresh the token ({error}: {description}): authorize again."),
                )
                .await),
            Err(e) => Err(SyncFail::Failed(e.to_string())),
        }
    }

    async fn expire(&self, profile_id: i64, detail: &str) -> SyncFail {
        let detail_owned = detail.to_owned();
        let result = update_profile(self.db(), profile_id, move |p| {
            p.authorization_status = Set(AuthorizationStatus::Expired.as_str().into());
            p.sync_status = Set(ProfileSyncStatus::NotSyncing.as_str().into());
            p.status_details = Set(Some(detail_owned));
        })
        .await;
        if result.is_err() {
            return SyncFail::Failed("could not record the expired profile".into());
        }
        tracing::warn!(profile_id, detail, "LinkedIn profile expired");
        SyncFail::Expired(detail.to_owned())
    }

    // ------------------------------------------------------------------ runs

    /// Queues a sync of the profile and starts it; a run already queued or running for the
    /// profile is returned instead of starting a second one.
    pub async fn queue_sync(
        &self,
        profile_id: i64,
        trigger: Trigger,
    ) -> AppResult<sync_run::Model> {
        self.client()?;
        if self.stopping() {
            return Err(AppError::conflict(
                "leadsync is shutting down; sync again shortly",
            ));
        }
        profile(self.db(), profile_id).await?;
        if let Some(active) = sync_run::Entity::find()
            .filter(sync_run::Column::ProfileId.eq(profile_id))
            .filter(sync_run::Column::Status.is_in([
                SyncRunStatus::Queued.as_str(),
                SyncRunStatus::Running.as_str(),
            ]))
            .order_by_desc(sync_run::Column::Id)
            .one(self.db())
            .await?
            && self
                .inner
                .running
                .lock()
                .expect("lock")
                .contains(&profile_id)
        {
            return Ok(active);
        }
        let run = new_run(self.db(), profile_id, trigger).await?;
        let this = self.clone();
        let run_id = run.id;
        tokio::spawn(async move {
            this.execute(run_id, profile_id, None).await;
        });
        Ok(run)
    }

    /// Runs a sync in the foreground (the CLI and tests); returns the finished run.
    pub async fn sync_now(&self, profile_id: i64, trigger: Trigger) -> AppResult<sync_run::Model> {
        self.client()?;
        profile(self.db(), profile_id).await?;
        let run = new_run(self.db(), profile_id, trigger).await?;
        self.execute(run.id, profile_id, None).await;
        get_run(self.db(), run.id).await
    }

    /// Forgets the profile's account cursors and re-reads the whole retention window; earlier
    /// submissions are kept (duplicates are skipped by LinkedIn id).
    pub async fn reset(&self, profile_id: i64) -> AppResult<sync_run::Model> {
        let links = linkedin_profile_account::Entity::find()
            .filter(linkedin_profile_account::Column::ProfileId.eq(profile_id))
            .all(self.db())
            .await?;
        linkedin_account::Entity::update_many()
            .col_expr(
                linkedin_account::Column::SyncCursorMs,
                Expr::value(Option::<i64>::None),
            )
            .filter(linkedin_account::Column::Id.is_in(links.iter().map(|l| l.account_id)))
            .exec(self.db())
            .await?;
        self.queue_sync(profile_id, Trigger::Reset).await
    }

    async fn execute(&self, run_id: i64, profile_id: i64, unsynced_since: Option<DateTime<Utc>>) {
        if !self.inner.running.lock().expect("lock").insert(profile_id) {
            let _ = finish_run(
                self.db(),
                run_id,
                &RunCounts::default(),
                Some("another sync of this profile is running".into()),
            )
            .await;
            return;
        }
        // Removes the profile from the running set however this future ends (even dropped).
        struct Running<'a>(&'a Mutex<HashSet<i64>>, i64);
        impl Drop for Running<'_> {
            fn drop(&mut self) {
                if let Ok(mut set) = self.0.lock() {
                    set.remove(&self.1);
                }
            }
        }
        let running = Running(&self.inner.running, profile_id);
        let _ = sync_run::Entity::update_many()
            .col_expr(
                sync_run::Column::Status,
                Expr::value(SyncRunStatus::Running.as_str()),
            )
            .col_expr(sync_run::Column::StartedAt, Expr::value(Utc::now()))
            .col_expr(sync_run::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(sync_run::Column::Id.eq(run_id))
            .exec(self.db())
            .await;
        self.publish_run(run_id, profile_id).await;
        let mut counts = RunCounts::default();
        let result = self
            .sync_profile(run_id, profile_id, &mut counts, unsynced_since)
            .await;
        let error = match result {
            Ok(()) => None,
            Err(SyncFail::Expired(why)) | Err(SyncFail::Failed(why)) => Some(why),
        };
        if let Some(e) = &error {
            tracing::warn!(run_id, profile_id, error = %e, "sync failed");
            let detail = format!("Last sync failed: {e}");
            let _ = update_profile(self.db(), profile_id, move |p| {
                p.status_details = Set(Some(detail));
            })
            .await;
        }
        // Free the profile before the run reads as finished: whoever sees it finished (a
        // caller waiting on the status) may start the next sync at once.
        drop(running);
        let outcome = if error.is_some() {
            "FAILED"
        } else {
            "SUCCEEDED"
        };
        if let Err(e) = finish_run(self.db(), run_id, &counts, error).await {
            tracing::error!(run_id, error = ?e, "could not record the end of a sync run");
        }
        // The sync worker's writes, as the system identity, with the run they belong to.
        let entry = crate::service::audit::Entry::new(
            crate::service::audit::Actor::System,
            "syncRun",
            "LinkedInUserProfile",
        )
        .object(profile_id)
        .context(format!("syncRun:{run_id}"))
        .details(json!({
            "status": outcome,
            "submissionsCreated": counts.created,
            "leadsCreated": counts.leads_created,
            "leadsUpdated": counts.leads_updated,
            "failed": counts.failed,
        }));
        crate::service::audit::record_or_log(self.db(), entry).await;
        self.publish_run(run_id, profile_id).await;
    }

    async fn sync_profile(
        &self,
        run_id: i64,
        profile_id: i64,
        counts: &mut RunCounts,
        unsynced_since: Option<DateTime<Utc>>,
    ) -> Result<(), SyncFail> {
        let mut token = self.access_token(profile_id, false).await?;
        let accounts = match self.discover(profile_id, &token).await {
            Err(ApiError::Unauthorized { .. }) => {
                token = self.access_token(profile_id, true).await?;
                self.discover(profile_id, &token).await
            }
            other => other,
        }
        .map_err(|e| self.api_fail(e))?;
        let lease_owner = format!("{}:{run_id}", self.inner.instance);
        for account in accounts {
            if !account.enabled_for_sync
                || account.sync_status == AccountSyncStatus::Forbidden.as_str()
                || unsynced_since
                    .is_some_and(|since| account.last_sync_at.is_some_and(|at| at >= since))
            {
                continue;
            }
            if !acquire_lease(self.db(), account.id, &lease_owner)
                .await
                .map_err(db_fail)?
            {
                tracing::info!(account = %account.linkedin_id, "account is being synced elsewhere");
                continue;
            }
            // Re-read under the lease: another run may have moved the cursor meanwhile.
            let account = linkedin_account::Entity::find_by_id(account.id)
                .one(self.db())
                .await
                .map_err(|e| db_fail(e.into()))?
                .unwrap_or(account);
            let mut result = self
                .sync_account(run_id, profile_id, &token, &account, &lease_owner, counts)
                .await;
            if let Err(ApiError::Unauthorized { .. }) = result {
                // Refresh once, then continue from the committed cursor.
                match self.access_token(profile_id, true).await {
                    Ok(t) => {
                        token = t;
                        let fresh = linkedin_account::Entity::find_by_id(account.id)
                            .one(self.db())
                            .await
                            .map_err(|e| db_fail(e.into()))?
                            .unwrap_or(account.clone());
                        result = self
                            .sync_account(run_id, profile_id, &token, &fresh, &lease_owner, counts)
                            .await;
                    }
                    Err(e) => {
                        release_lease(self.db(), account.id, &lease_owner)
                            .await
                            .ok();
                        return Err(e);
                    }
                }
            }
            release_lease(self.db(), account.id, &lease_owner)
                .await
                .map_err(db_fail)?;
            match result {
                Ok(()) => {}
                Err(ApiError::Forbidden(m)) => {
                    set_account_status(
                        self.db(),
                        account.id,
                        AccountSyncStatus::Forbidden,
                        Some(format!(
                            "LinkedIn denied access to this account's leads: {m}"
                        )),
                    )
                    .await
                    .map_err(db_fail)?;
                }
                Err(ApiError::Unauthorized { message, .. }) => {
                    return Err(self
                        .expire(
                            profile_id,
                            &format!(
                                "LinkedIn keeps refusing the token ({message}): authorize again."
                            ),
                        )
                        .await);
                }
                Err(e) => return Err(self.api_fail(e)),
            }
        }
        let now = Utc::now();
        update_profile(self.db(), profile_id, |p| {
            p.last_sync_at = Set(Some(now));
        })
        .await
        .map_err(db_fail)?;
        Ok(())
    }

    fn api_fail(&self, e: ApiError) -> SyncFail {
        match e {
            ApiError::VersionInactive(m) => {
                SyncFail::Failed(crate::linkedin::version::inactive_message(
                    self.inner.api_version,
                    &m,
                    Utc::now().date_naive(),
                ))
            }
            other => SyncFail::Failed(other.to_string()),
        }
    }

    /// Ad accounts (many-to-many with profiles), page roles, campaigns and forms. Returns the
    /// profile's accounts as stored.
    async fn discover(
        &self,
        profile_id: i64,
        token: &str,
    ) -> Result<Vec<linkedin_account::Model>, ApiError> {
        let client = self.api_client()?;
        let db = self.db();
        update_profile(db, profile_id, |p| {
            p.sync_status = Set(ProfileSyncStatus::SyncingAccounts.as_str().into());
        })
        .await
        .map_err(local)?;
        let settings = configuration::lead_types(db).await.map_err(local)?;
        let sponsored = configuration::lead_type_setting(&settings, LeadType::Sponsored).is_some();
        let organic: Vec<LeadType> = ORGANIC_LEAD_TYPES
            .into_iter()
            .filter(|t| configuration::lead_type_setting(&settings, *t).is_some())
            .collect();
        let found = if !sponsored {
            Vec::new()
        } else {
            client
                .all_offset(
                    token,
                    "/adAccounts",
                    &[
                        ("q", json!("search")),
                        (
                            "search",
                            json!({"status": {"values": ["ACTIVE"]}, "test": false}),
                        ),
                    ],
                    PAGE_SIZE,
                )
                .await?
        };
        let acls = client
            .all_offset(
                token,
                "/organizationAcls",
                &[("q", json!("roleAssignee")), ("state", json!("APPROVED"))],
                PAGE_SIZE,
            )
            .await?;
        let approved: BTreeSet<String> = acls
            .iter()
            .filter_map(|a| {
                a.get("organization")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect();
        let member = acls
            .iter()
            .find_map(|a| a.get("roleAssignee").and_then(Value::as_str))
            .map(str::to_owned);

        let now = Utc::now();
        let mut account_ids = Vec::new();
        for a in &found {
            let Some(id) = a
                .get("id")
                .map(|v| v.to_string().trim_matches('"').to_owned())
            else {
                continue;
            };
            let org = a
                .get("reference")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| {
                    a.pointer("/referenceInfo/organization/id")
                        .and_then(Value::as_i64)
                        .map(|o| format!("urn:li:organization:{o}"))
                });
            let forbidden = org.as_ref().is_some_and(|o| !approved.contains(o));
            let source = model::LeadSourceId::AdAccount(id);
            let row = upsert_account(db, &source, a, org.clone(), now)
                .await
                .map_err(local)?;
            link_profile(db, profile_id, row.id, now)
                .await
                .map_err(local)?;
            account_ids.push(row.id);
            if forbidden {
                set_account_status(db, row.id, AccountSyncStatus::Forbidden, Some(format!(
                    "the LinkedIn member has no approved role on {}: lead calls would be refused",
                    org.unwrap_or_default()
                )))
                .await
                .map_err(local)?;
                continue;
            }
            let found = self.discover_account(token, &row).await;
            self.settle_discovered(token, &row, &found, "account")
                .await?;
            if let Err(e) = found
                && !matches!(e, ApiError::Forbidden(_))
            {
                return Err(e);
            }
        }
        if !organic.is_empty() {
            for org in &approved {
                let rows = self
                    .discover_organization(profile_id, token, org, &organic, now)
                    .await?;
                account_ids.extend(rows);
            }
        }
        // Accounts this member no longer reaches are unlinked from the profile; those no profile
        // reaches any more lose their webhook subscription.
        let dropped = linkedin_profile_account::Entity::find()
            .filter(linkedin_profile_account::Column::ProfileId.eq(profile_id))
            .filter(linkedin_profile_account::Column::AccountId.is_not_in(account_ids.clone()))
            .all(db)
            .await
            .map_err(|e| local(e.into()))?;
        linkedin_profile_account::Entity::delete_many()
            .filter(linkedin_profile_account::Column::ProfileId.eq(profile_id))
            .filter(linkedin_profile_account::Column::AccountId.is_not_in(account_ids.clone()))
            .exec(db)
            .await
            .map_err(|e| local(e.into()))?;
        for link in dropped {
            let still_reached = linkedin_profile_account::Entity::find()
                .filter(linkedin_profile_account::Column::AccountId.eq(link.account_id))
                .one(db)
                .await
                .map_err(|e| local(e.into()))?
                .is_some();
            if !still_reached
                && let Some(account) = linkedin_account::Entity::find_by_id(link.account_id)
                    .one(db)
                    .await
                    .map_err(|e| local(e.into()))?
            {
                self.unsubscribe_webhook(token, &account).await;
            }
        }
        let status = if account_ids.is_empty() {
            ProfileSyncStatus::NoAccountsAvailable
        } else {
            ProfileSyncStatus::Active
        };
        update_profile(db, profile_id, |p| {
            p.sync_status = Set(status.as_str().into());
            if member.is_some() {
                p.linkedin_member_urn = Set(member.clone());
            }
        })
        .await
        .map_err(local)?;
        linkedin_account::Entity::find()
            .filter(linkedin_account::Column::Id.is_in(account_ids))
            .order_by_asc(linkedin_account::Column::Id)
            .all(db)
            .await
            .map_err(|e| local(e.into()))
    }

    /// The organic lead sources of one organization the member administers: one per enabled
    /// organic lead type, sharing the organization's forms. Returns their row ids.
    async fn discover_organization(
        &self,
        profile_id: i64,
        token: &str,
        org_urn: &str,
        lead_types: &[LeadType],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, ApiError> {
        let db = self.db();
        let Ok(org_id) = model::urn_id(org_urn, "organization") else {
            tracing::warn!(organization = %org_urn, "skipping an ACL that names no organization");
            return Ok(Vec::new());
        };
        let name = self.organization_name(token, &org_id).await;
        let mut rows = Vec::with_capacity(lead_types.len());
        for lead_type in lead_types {
            let source = model::LeadSourceId::Organic {
                organization: org_id.clone(),
                lead_type: *lead_type,
            };
            let element = json!({ "name": model::organic_source_name(&name, *lead_type) });
            let row = upsert_account(db, &source, &element, Some(org_urn.to_owned()), now)
                .await
                .map_err(local)?;
            link_profile(db, profile_id, row.id, now)
                .await
                .map_err(local)?;
            rows.push(row);
        }
        let Some(first) = rows.first() else {
            return Ok(Vec::new());
        };
        // An organization's forms are the same whichever lead type pulls them: fetched once.
        let outcome = self.refresh_forms(token, first).await;
        for row in &rows {
            self.settle_discovered(token, row, &outcome, "organization")
                .await?;
        }
        match outcome {
            Ok(_) | Err(ApiError::Forbidden(_)) => Ok(rows.iter().map(|r| r.id).collect()),
            Err(e) => Err(e),
        }
    }

    /// A lead source's status after its forms were listed (`found` forms, or LinkedIn's
    /// refusal); one with forms is subscribed to lead notifications. Other errors change nothing.
    async fn settle_discovered(
        &self,
        token: &str,
        row: &linkedin_account::Model,
        found: &Result<usize, ApiError>,
        owner: &str,
    ) -> Result<(), ApiError> {
        let db = self.db();
        match found {
            Ok(0) => set_account_status(
                db,
                row.id,
                AccountSyncStatus::NoFormsAvailable,
                Some(format!("no lead gen forms on this {owner}")),
            )
            .await
            .map_err(local),
            Ok(_) => {
                if row.sync_status != AccountSyncStatus::Active.as_str() {
                    set_account_status(db, row.id, AccountSyncStatus::Pending, None)
                        .await
                        .map_err(local)?;
                }
                if row.enabled_for_sync {
                    self.subscribe_webhook(token, row).await;
                }
                Ok(())
            }
            Err(ApiError::Forbidden(m)) => {
                set_account_status(db, row.id, AccountSyncStatus::Forbidden, Some(m.clone()))
                    .await
                    .map_err(local)
            }
            Err(_) => Ok(()),
        }
    }

    /// The organization's name as LinkedIn shows it, or "Organization {id}" when LinkedIn does
    /// not say (the lookup is a nicety: discovery goes on without it).
    async fn organization_name(&self, token: &str, org_id: &str) -> String {
        let fallback = || format!("Organization {org_id}");
        let Ok(client) = self.client() else {
            return fallback();
        };
        match client
            .get(token, &format!("/organizations/{org_id}"), &[])
            .await
        {
            Ok(org) => org
                .get("localizedName")
                .and_then(Value::as_str)
                .filter(|n| !n.trim().is_empty())
                .map_or_else(fallback, str::to_owned),
            Err(e) => {
                tracing::info!(organization = %org_id, error = %e, "organization name not available");
                fallback()
            }
        }
    }

    /// Campaigns and forms of one account; returns how many forms it has.
    async fn discover_account(
        &self,
        token: &str,
        account: &linkedin_account::Model,
    ) -> Result<usize, ApiError> {
        let client = self.api_client()?;
        let campaigns = client
            .all_tokens(
                token,
                &format!("/adAccounts/{}/adCampaigns", account.linkedin_id),
                &[("q", json!("search")), ("search", json!({"status": {"values": ["ACTIVE", "PAUSED", "ARCHIVED", "COMPLETED", "CANCELED", "DRAFT"]}}))],
                PAGE_SIZE,
            )
            .await?;
        upsert_campaigns(self.db(), account.id, &campaigns)
            .await
            .map_err(local)?;
        self.refresh_forms(token, account).await
    }

    async fn refresh_forms(
        &self,
        token: &str,
        account: &linkedin_account::Model,
    ) -> Result<usize, ApiError> {
        let client = self.api_client()?;
        let forms = client
            .all_offset(
                token,
                "/leadForms",
                &[("q", json!("owner")), ("owner", owner_of(account))],
                PAGE_SIZE,
            )
            .await?;
        let parsed: Vec<model::LeadForm> = forms
            .iter()
            .filter_map(|f| match model::parse_form(f) {
                Ok(form) => Some(form),
                Err(e) => {
                    tracing::warn!(error = %e, "skipping a LinkedIn form that does not parse");
                    None
                }
            })
            .collect();
        ingest::store_forms(self.db(), &parsed)
            .await
            .map_err(|e| ApiError::Rejected {
                status: 0,
                message: e.message().into(),
            })?;
        Ok(parsed.len())
    }

    /// Removes the account's lead notification subscription at LinkedIn, if it has one.
    async fn unsubscribe_webhook(&self, token: &str, account: &linkedin_account::Model) {
        let (Some(id), Ok(client)) = (&account.webhook_subscription_id, self.client()) else {
            return;
        };
        let path = format!(
            "/leadNotifications/{}",
            percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC)
        );
        match client.delete(token, &path).await {
            Ok(()) => {
                let _ = linkedin_account::Entity::update_many()
                    .col_expr(
                        linkedin_account::Column::WebhookSubscriptionId,
                        Expr::value(Option::<String>::None),
                    )
                    .filter(linkedin_account::Column::Id.eq(account.id))
                    .exec(self.db())
                    .await;
            }
            Err(e) => {
                tracing::warn!(account = %account.linkedin_id, error = %e, "could not unsubscribe the lead webhook")
            }
        }
    }

    /// Turns syncing of an account on or off; off also unsubscribes its webhook, on subscribes it
    /// again (when a profile that reaches it is authorized).
    pub async fn set_account_enabled(
        &self,
        account_id: i64,
        enabled: Option<bool>,
    ) -> AppResult<linkedin_account::Model> {
        let account =
            crate::service::linkedin::update_account(self.db(), account_id, enabled).await?;
        let Some(enabled) = enabled else {
            return Ok(account);
        };
        if !self.is_configured() {
            return Ok(account);
        }
        let links = linkedin_profile_account::Entity::find()
            .filter(linkedin_profile_account::Column::AccountId.eq(account.id))
            .all(self.db())
            .await?;
        for link in links {
            if let Ok(token) = self.access_token(link.profile_id, false).await {
                if enabled {
                    self.subscribe_webhook(&token, &account).await;
                } else {
                    self.unsubscribe_webhook(&token, &account).await;
                }
                break;
            }
        }
        crate::service::linkedin::get_account(self.db(), account.id).await
    }

    async fn subscribe_webhook(&self, token: &str, account: &linkedin_account::Model) {
        let (Some(url), None) = (&self.inner.webhook_url, &account.webhook_subscription_id) else {
            return;
        };
        let Ok(client) = self.client() else { return };
        let body = json!({
            "webhook": url,
            "owner": owner_of(account),
            "leadType": account.lead_type,
        });
        match client.create(token, "/leadNotifications", &body).await {
            Ok(id) => {
                let _ = linkedin_account::Entity::update_many()
                    .col_expr(
                        linkedin_account::Column::WebhookSubscriptionId,
                        Expr::value(id.or(Some("subscribed".into()))),
                    )
                    .filter(linkedin_account::Column::Id.eq(account.id))
                    .exec(self.db())
                    .await;
            }
            Err(e) => {
                tracing::warn!(account = %account.linkedin_id, error = %e, "could not subscribe the lead webhook")
            }
        }
    }

    /// Pulls the account's lead responses from its cursor (minus an overlap) or, the first time,
    /// the whole 365-day retention window, page by page.
    /// Records a run's counts so far (the CLI's progress bar and live UIs read them).
    async fn progress(&self, run_id: i64, profile_id: i64, counts: &RunCounts) {
        if let Err(e) = write_counts(self.db(), run_id, counts).await {
            tracing::warn!(run_id, error = ?e, "could not record sync progress");
        }
        self.publish_run(run_id, profile_id).await;
    }

    async fn publish_run(&self, run_id: i64, profile_id: i64) {
        self.inner
            .bus
            .publish_run(crate::events::SyncRunUpdated {
                run_id,
                profile_id: Some(profile_id),
            })
            .await;
    }

    async fn sync_account(
        &self,
        run_id: i64,
        profile_id: i64,
        token: &str,
        account: &linkedin_account::Model,
        lease_owner: &str,
        counts: &mut RunCounts,
    ) -> Result<(), ApiError> {
        let client = self.api_client()?;
        let now_ms = Utc::now().timestamp_millis();
        // A new source backfills its lead type's window (LinkedIn keeps at most 365 days).
        let settings = configuration::lead_types(self.db()).await.map_err(local)?;
        let days = settings
            .iter()
            .find(|s| s.lead_type == account.lead_type)
            .map_or(RETENTION_DAYS, |s| s.backfill_days.clamp(1, RETENTION_DAYS));
        let floor = now_ms - i64::from(days) * DAY_MS;
        let start_ms = account
            .sync_cursor_ms
            .map_or(floor, |c| (c - OVERLAP_MS).max(floor));
        let params = [
            ("q", json!("owner")),
            ("owner", owner_of(account)),
            ("leadType", json!({"leadType": account.lead_type})),
            ("limitedToTestLeads", json!(false)),
            (
                "submittedAtTimeRange",
                json!({"start": start_ms, "end": now_ms}),
            ),
        ];
        // LinkedIn's pages are fetched ahead while earlier ones are stored, so its latency and
        // our writes overlap; storing ends the fetching (done, or failed).
        let (pages_tx, pages_rx) = tokio::sync::mpsc::channel(PAGES_AHEAD);
        let fetch = fetch_lead_pages(client, token, &params, pages_tx);
        let target = SyncTarget {
            run_id,
            profile_id,
            token,
            account,
            lease_owner,
            now_ms,
        };
        let store = self.store_lead_pages(&target, pages_rx, counts);
        tokio::pin!(fetch, store);
        tokio::select! {
            stored = &mut store => stored?,
            () = &mut fetch => store.await?,
        }

        let now = Utc::now();
        linkedin_account::Entity::update_many()
            .col_expr(linkedin_account::Column::LastSyncAt, Expr::value(now))
            .col_expr(
                linkedin_account::Column::SyncStatus,
                Expr::value(AccountSyncStatus::Active.as_str()),
            )
            .col_expr(
                linkedin_account::Column::StatusDetails,
                Expr::value(Option::<String>::None),
            )
            .filter(linkedin_account::Column::Id.eq(account.id))
            .exec(self.db())
            .await
            .map_err(|e| local(e.into()))?;
        Ok(())
    }

    /// Stores the fetched pages in order. The pages that arrived while a batch was being stored
    /// go into the next ingest together (up to `BATCH_RESPONSES`), so a database slower than
    /// LinkedIn commits fewer, larger transactions. A fetch error ends the run after the pages
    /// before it are stored.
    async fn store_lead_pages(
        &self,
        target: &SyncTarget<'_>,
        mut pages: tokio::sync::mpsc::Receiver<Result<LeadPage, ApiError>>,
        counts: &mut RunCounts,
    ) -> Result<(), ApiError> {
        let mut known_forms: HashMap<String, i64> = HashMap::new();
        let mut high_water = target.account.sync_cursor_ms.unwrap_or(0);
        let mut ordered = true;
        let mut done = false;
        while !done {
            let Some(first) = pages.recv().await else {
                // The fetcher stops after the last page or an error, both sent: not reached.
                return Err(ApiError::Unavailable("the lead pages ended early".into()));
            };
            let mut arrived = vec![first];
            let mut size = arrived[0].as_ref().map_or(0, |p| p.elements.len());
            while size < BATCH_RESPONSES {
                match pages.try_recv() {
                    Ok(page) => {
                        size += page.as_ref().map_or(0, |p| p.elements.len());
                        arrived.push(page);
                    }
                    Err(_) => break,
                }
            }

            let mut responses = Vec::with_capacity(size);
            let mut cursor = None;
            let mut failure = None;
            for page in arrived {
                let page = match page {
                    Ok(page) => page,
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                };
                let offset = page.offset;
                // Every element must parse before anything of the page is stored: a malformed
                // page fails the run and leaves the cursor where it was.
                let mut parsed = Vec::with_capacity(page.elements.len());
                for (i, element) in page.elements.iter().enumerate() {
                    parsed.push(model::parse_response(element).map_err(|e| {
                        ApiError::Unavailable(format!(
                            "lead response {i} of the page at {offset} is malformed: {e}"
                        ))
                    })?);
                }
                // New forms or form versions since discovery are fetched before their leads.
                let missing = |known: &HashMap<String, i64>| {
                    parsed
                        .iter()
                        .any(|r| known.get(&r.form_id).is_none_or(|v| *v < r.form_version))
                };
                if missing(&known_forms) {
                    let ids = || parsed.iter().map(|r| r.form_id.clone()).collect();
                    known_forms = form_versions(self.db(), ids()).await.map_err(local)?;
                    if missing(&known_forms) {
                        self.refresh_forms(target.token, target.account).await?;
                        known_forms = form_versions(self.db(), ids()).await.map_err(local)?;
                    }
                }
                let times = parsed.iter().map(|r| r.submitted_at.timestamp_millis());
                let (page_min, page_max) = (times.clone().min(), times.max());
                if page_min.is_some_and(|m| m < high_water.min(target.now_ms)) && offset > 0 {
                    ordered = false;
                }
                done = page.last;
                // Mid-window the cursor follows the newest stored lead while LinkedIn pages in
                // time order; the window's end is committed with its last page.
                let page_cursor = if done {
                    Some(target.now_ms)
                } else if ordered {
                    page_max
                } else {
                    None
                };
                cursor = page_cursor.or(cursor);
                if let Some(m) = page_max {
                    high_water = high_water.max(m);
                }
                responses.extend(page.elements);
            }

            let fetched = responses.len();
            let report = ingest::ingest(
                self.db(),
                &self.inner.bus,
                IngestRequest {
                    forms: Vec::new(),
                    responses,
                    profile_id: Some(target.profile_id),
                    cursor: cursor.map(|c| (target.account.id, c)),
                },
            )
            .await
            .map_err(local)?;
            counts.add(fetched, &report);
            renew_lease(self.db(), target.account.id, target.lease_owner)
                .await
                .map_err(local)?;
            self.progress(target.run_id, target.profile_id, counts)
                .await;
            if let Some(e) = failure {
                return Err(e);
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------------ schedule

    /// Stops starting runs and waits (up to `patience`) for the running ones to finish. A run cut
    /// off after that loses nothing: its cursor covers only what it committed.
    pub async fn drain(&self, patience: Duration) {
        self.inner
            .stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let running = self.inner.running.lock().map(|r| r.len()).unwrap_or(0);
            if running == 0 {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!(
                    running,
                    "stopping with syncs in flight; their cursors stay where they committed"
                );
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn stopping(&self) -> bool {
        self.inner
            .stopping
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Every `syncIntervalSeconds`, syncs every authorized profile; an account reachable through
    /// several profiles is synced once per cycle.
    pub fn spawn_scheduler(&self) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                let interval = crate::service::configuration::get(this.db())
                    .await
                    .map(|c| c.sync_interval_seconds)
                    .unwrap_or(900)
                    .max(crate::service::configuration::MIN_SYNC_INTERVAL);
                tokio::time::sleep(Duration::from_secs(interval as u64)).await;
                if let Err(e) = this.run_cycle().await {
                    tracing::error!(error = ?e, "scheduled sync cycle failed");
                }
            }
        })
    }

    pub async fn run_cycle(&self) -> AppResult<()> {
        if !self.is_configured() || self.stopping() {
            return Ok(());
        }
        let cycle_start = Utc::now();
        let profiles = linkedin_profile::Entity::find()
            .filter(
                linkedin_profile::Column::AuthorizationStatus
                    .eq(AuthorizationStatus::Authorized.as_str()),
            )
            .order_by_asc(linkedin_profile::Column::Id)
            .all(self.db())
            .await?;
        for p in profiles {
            let run = new_run(self.db(), p.id, Trigger::Scheduled).await?;
            self.execute(run.id, p.id, Some(cycle_start)).await;
        }
        Ok(())
    }

    // ------------------------------------------------------------------ webhooks

    /// A lead notification: fetch the new lead (CREATED) or erase it (DELETED).
    pub async fn handle_notification(
        &self,
        action: &str,
        response_id: &str,
        account_id: Option<&str>,
    ) -> AppResult<()> {
        match action {
            "DELETED" => {
                crate::service::leads::erase_response(self.db(), response_id).await?;
                Ok(())
            }
            "CREATED" => {
                let account = match account_id {
                    Some(id) => {
                        linkedin_account::Entity::find()
                            .filter(linkedin_account::Column::LinkedinId.eq(id))
                            .one(self.db())
                            .await?
                    }
                    None => None,
                };
                let Some(account) = account else {
                    return Err(AppError::bad_input(
                        "the notification names no ad account or organization leadsync syncs",
                    ));
                };
                let profile_id = linkedin_profile_account::Entity::find()
                    .filter(linkedin_profile_account::Column::AccountId.eq(account.id))
                    .all(self.db())
                    .await?;
                let mut last =
                    AppError::bad_input("no authorized LinkedIn profile reaches this account");
                for link in profile_id {
                    let token = match self.access_token(link.profile_id, false).await {
                        Ok(t) => t,
                        Err(_) => continue,
                    };
                    let client = self.client()?;
                    let path = format!(
                        "/leadFormResponses/{}",
                        percent_encoding::utf8_percent_encode(
                            response_id,
                            percent_encoding::NON_ALPHANUMERIC
                        )
                    );
                    match client.get(&token, &path, &[]).await {
                        Ok(element) => {
                            let parsed =
                                model::parse_response(&element).map_err(AppError::bad_input)?;
                            let known =
                                form_versions(self.db(), vec![parsed.form_id.clone()]).await?;
                            if known
                                .get(&parsed.form_id)
                                .is_none_or(|v| *v < parsed.form_version)
                            {
                                self.refresh_forms(&token, &account)
                                    .await
                                    .map_err(|e| AppError::internal(e.to_string()))?;
                            }
                            ingest::ingest(
                                self.db(),
                                &self.inner.bus,
                                IngestRequest {
                                    forms: vec![],
                                    responses: vec![element],
                                    profile_id: Some(link.profile_id),
                                    cursor: None,
                                },
                            )
                            .await?;
                            return Ok(());
                        }
                        Err(e) => {
                            last = AppError::internal(format!("fetching lead {response_id}: {e}"))
                        }
                    }
                }
                Err(last)
            }
            other => Err(AppError::bad_input(format!("unknown leadAction {other:?}"))),
        }
    }
}

/// The account a run is syncing, and the run.
struct SyncTarget<'a> {
    run_id: i64,
    profile_id: i64,
    token: &'a str,
    account: &'a linkedin_account::Model,
    lease_owner: &'a str,
    /// The end of the time window being pulled.
    now_ms: i64,
}

/// A page of lead responses and where it sits in the collection.
struct LeadPage {
    offset: u64,
    elements: Vec<Value>,
    /// No page follows this one.
    last: bool,
}

/// Fetches the lead pages in order into `pages` until the last one or an error (sent too), or
/// until the receiver is gone.
async fn fetch_lead_pages(
    client: &LinkedInClient,
    token: &str,
    params: &[(&str, Value)],
    pages: tokio::sync::mpsc::Sender<Result<LeadPage, ApiError>>,
) {
    let mut offset = 0;
    loop {
        let page = client
            .page(token, "/leadFormResponses", params, offset, PAGE_SIZE)
            .await
            .map(|page| {
                let n = page.elements.len() as u64;
                // `total` can be absent: then a short page is the last.
                let last = match page.total {
                    Some(total) => offset + n >= total || n == 0,
                    None => n < PAGE_SIZE,
                };
                LeadPage {
                    offset,
                    elements: page.elements,
                    last,
                }
            });
        let next = page
            .as_ref()
            .ok()
            .filter(|p| !p.last)
            .map(|p| offset + p.elements.len() as u64);
        if pages.send(page).await.is_err() {
            return;
        }
        match next {
            Some(n) => offset = n,
            None => return,
        }
    }
}

/// A failure on our side (the database) while talking to LinkedIn.
fn local(e: AppError) -> ApiError {
    ApiError::Rejected {
        status: 0,
        message: e.message().into(),
    }
}

/// The `owner` finder parameter of an ad account.
fn owner_of(account: &linkedin_account::Model) -> serde_json::Value {
    model::LeadSourceId::parse(&account.linkedin_id).owner()
}

fn db_fail(e: AppError) -> SyncFail {
    SyncFail::Failed(e.message().to_owned())
}

async fn profile(db: &DatabaseConnection, id: i64) -> AppResult<linkedin_profile::Model> {
    linkedin_profile::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("LinkedIn user profile", id))
}

async fn update_profile(
    db: &DatabaseConnection,
    id: i64,
    change: impl FnOnce(&mut linkedin_profile::ActiveModel),
) -> AppResult<()> {
    let mut model = linkedin_profile::ActiveModel {
        id: Set(id),
        ..Default::default()
    };
    change(&mut model);
    model.updated_at = Set(Utc::now());
    model.update(db).await?;
    Ok(())
}

async fn set_account_status(
    db: &DatabaseConnection,
    id: i64,
    status: AccountSyncStatus,
    details: Option<String>,
) -> AppResult<()> {
    linkedin_account::Entity::update_many()
        .col_expr(
            linkedin_account::Column::SyncStatus,
            Expr::value(status.as_str()),
        )
        .col_expr(
            linkedin_account::Column::StatusDetails,
            Expr::value(details),
        )
        .col_expr(linkedin_account::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(linkedin_account::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Links a lead source to a profile that reaches it (kept if already linked).
async fn link_profile(
    db: &DatabaseConnection,
    profile_id: i64,
    account_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    linkedin_profile_account::Entity::insert(linkedin_profile_account::ActiveModel {
        profile_id: Set(profile_id),
        account_id: Set(account_id),
        role: Set(None),
        created_at: Set(now),
    })
    .on_conflict_do_nothing_on([
        linkedin_profile_account::Column::ProfileId,
        linkedin_profile_account::Column::AccountId,
    ])
    .exec_without_returning(db)
    .await?;
    Ok(())
}

async fn upsert_account(
    db: &DatabaseConnection,
    source: &model::LeadSourceId,
    element: &Value,
    reference: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<linkedin_account::Model> {
    use linkedin_account::Column as A;
    let linkedin_id = source.key();
    let text = |key: &str| element.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut row = ingest::new_source_row(source, now);
    if let Some(name) = text("name") {
        row.name = Set(name);
    }
    row.currency = Set(text("currency"));
    row.status = Set(text("status"));
    row.is_test = Set(element
        .get("test")
        .and_then(Value::as_bool)
        .unwrap_or(false));
    row.reference_urn = Set(reference);
    linkedin_account::Entity::insert(row)
        .on_conflict(
            OnConflict::column(A::LinkedinId)
                .update_columns([
                    A::LeadType,
                    A::OwnerUrn,
                    A::Name,
                    A::Currency,
                    A::Status,
                    A::IsTest,
                    A::ReferenceUrn,
                    A::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    linkedin_account::Entity::find()
        .filter(A::LinkedinId.eq(linkedin_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("stored account vanished"))
}

fn ms_time(v: Option<&Value>) -> Option<DateTime<Utc>> {
    v.and_then(Value::as_i64)
        .and_then(DateTime::from_timestamp_millis)
}

async fn upsert_campaigns(
    db: &DatabaseConnection,
    account_id: i64,
    campaigns: &[Value],
) -> AppResult<()> {
    use linkedin_campaign::Column as C;
    let now = Utc::now();
    let rows: Vec<linkedin_campaign::ActiveModel> = campaigns
        .iter()
        .filter_map(|c| {
            let id = c
                .get("id")
                .map(|v| v.to_string().trim_matches('"').to_owned())?;
            Some(linkedin_campaign::ActiveModel {
                id: NotSet,
                linkedin_id: Set(id.clone()),
                account_id: Set(Some(account_id)),
                name: Set(c
                    .get("name")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("Campaign {id}"), str::to_owned)),
                campaign_type: Set(c.get("type").and_then(Value::as_str).map(str::to_owned)),
                status: Set(c.get("status").and_then(Value::as_str).map(str::to_owned)),
                start_at: Set(ms_time(c.pointer("/runSchedule/start"))),
                end_at: Set(ms_time(c.pointer("/runSchedule/end"))),
                created_at: Set(now),
                updated_at: Set(now),
            })
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let linkedin_ids: Vec<String> = rows
        .iter()
        .filter_map(|r| r.linkedin_id.try_as_ref().cloned())
        .collect();
    linkedin_campaign::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(C::LinkedinId)
                .update_columns([
                    C::AccountId,
                    C::Name,
                    C::CampaignType,
                    C::Status,
                    C::StartAt,
                    C::EndAt,
                    C::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    // The connector made a journey per campaign when the campaign first synced, leads or not.
    if configuration::get(db).await?.create_journeys_for_campaigns {
        let campaign_ids = linkedin_campaign::Entity::find()
            .select_only()
            .column(C::Id)
            .filter(C::LinkedinId.is_in(linkedin_ids))
            .into_tuple::<i64>()
            .all(db)
            .await?;
        ingest::ensure_journeys(db, campaign_ids).await?;
    }
    Ok(())
}

/// LinkedIn form id -> stored version.
async fn form_versions(
    db: &DatabaseConnection,
    ids: Vec<String>,
) -> AppResult<HashMap<String, i64>> {
    Ok(entity::linkedin_form::Entity::find()
        .filter(entity::linkedin_form::Column::LinkedinId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.linkedin_id, f.version_id.unwrap_or(0)))
        .collect())
}

async fn acquire_lease(db: &DatabaseConnection, account_id: i64, owner: &str) -> AppResult<bool> {
    use linkedin_account::Column as A;
    let now = Utc::now();
    let result = linkedin_account::Entity::update_many()
        .col_expr(A::LeaseOwner, Expr::value(owner))
        .col_expr(A::LeaseExpiresAt, Expr::value(now + LEASE))
        .filter(A::Id.eq(account_id))
        .filter(
            Condition::any()
                .add(A::LeaseOwner.is_null())
                .add(A::LeaseExpiresAt.lt(now))
                .add(A::LeaseOwner.eq(owner)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

async fn renew_lease(db: &DatabaseConnection, account_id: i64, owner: &str) -> AppResult<()> {
    use linkedin_account::Column as A;
    linkedin_account::Entity::update_many()
        .col_expr(A::LeaseExpiresAt, Expr::value(Utc::now() + LEASE))
        .filter(A::Id.eq(account_id))
        .filter(A::LeaseOwner.eq(owner))
        .exec(db)
        .await?;
    Ok(())
}

async fn release_lease(db: &DatabaseConnection, account_id: i64, owner: &str) -> AppResult<()> {
    use linkedin_account::Column as A;
    linkedin_account::Entity::update_many()
        .col_expr(A::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(
            A::LeaseExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(A::Id.eq(account_id))
        .filter(A::LeaseOwner.eq(owner))
        .exec(db)
        .await?;
    Ok(())
}

async fn new_run(
    db: &DatabaseConnection,
    profile_id: i64,
    trigger: Trigger,
) -> AppResult<sync_run::Model> {
    let now = Utc::now();
    Ok(sync_run::ActiveModel {
        id: NotSet,
        profile_id: Set(Some(profile_id)),
        trigger: Set(trigger.as_str().into()),
        status: Set(SyncRunStatus::Queued.as_str().into()),
        started_at: Set(None),
        finished_at: Set(None),
        submissions_fetched: Set(0),
        submissions_created: Set(0),
        duplicates_skipped: Set(0),
        leads_created: Set(0),
        leads_updated: Set(0),
        failed: Set(0),
        error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?)
}

async fn write_counts(db: &DatabaseConnection, run_id: i64, c: &RunCounts) -> AppResult<()> {
    use sync_run::Column as R;
    sync_run::Entity::update_many()
        .col_expr(R::SubmissionsFetched, Expr::value(c.fetched))
        .col_expr(R::SubmissionsCreated, Expr::value(c.created))
        .col_expr(R::DuplicatesSkipped, Expr::value(c.duplicates))
        .col_expr(R::LeadsCreated, Expr::value(c.leads_created))
        .col_expr(R::LeadsUpdated, Expr::value(c.leads_updated))
        .col_expr(R::Failed, Expr::value(c.failed))
        .col_expr(R::UpdatedAt, Expr::value(Utc::now()))
        .filter(R::Id.eq(run_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Runs still QUEUED or RUNNING that have not moved for this long were cut off (a crash, a
/// restart): they are marked FAILED so that UIs and the next sync see the truth.
pub async fn fail_interrupted_runs(db: &DatabaseConnection) -> AppResult<u64> {
    use sync_run::Column as R;
    let stale = Utc::now() - chrono::Duration::minutes(10);
    let result = sync_run::Entity::update_many()
        .col_expr(R::Status, Expr::value(SyncRunStatus::Failed.as_str()))
        .col_expr(
            R::Error,
            Expr::value("interrupted: the instance running it stopped"),
        )
        .col_expr(R::FinishedAt, Expr::value(Utc::now()))
        .filter(R::Status.is_in([
            SyncRunStatus::Queued.as_str(),
            SyncRunStatus::Running.as_str(),
        ]))
        .filter(R::UpdatedAt.lt(stale))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

async fn finish_run(
    db: &DatabaseConnection,
    run_id: i64,
    c: &RunCounts,
    error: Option<String>,
) -> AppResult<()> {
    use sync_run::Column as R;
    let now = Utc::now();
    let status = if error.is_some() {
        SyncRunStatus::Failed
    } else {
        SyncRunStatus::Succeeded
    };
    crate::metrics::count(
        "leadsync_sync_runs_total",
        &[("status", status.as_str())],
        1,
    );
    sync_run::Entity::update_many()
        .col_expr(R::Status, Expr::value(status.as_str()))
        .col_expr(R::FinishedAt, Expr::value(now))
        .col_expr(R::SubmissionsFetched, Expr::value(c.fetched))
        .col_expr(R::SubmissionsCreated, Expr::value(c.created))
        .col_expr(R::DuplicatesSkipped, Expr::value(c.duplicates))
        .col_expr(R::LeadsCreated, Expr::value(c.leads_created))
        .col_expr(R::LeadsUpdated, Expr::value(c.leads_updated))
        .col_expr(R::Failed, Expr::value(c.failed))
        .col_expr(R::Error, Expr::value(error))
        .col_expr(R::UpdatedAt, Expr::value(now))
        .filter(R::Id.eq(run_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn get_run(db: &DatabaseConnection, id: i64) -> AppResult<sync_run::Model> {
    sync_run::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("sync run", id))
}
