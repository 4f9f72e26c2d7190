//! The event bus behind subscriptions: bounded in-process broadcast channels. On PostgreSQL,
//! events go out with `NOTIFY` (lead events from inside the committing transaction, so they
//! arrive in position order) and every instance `LISTEN`s, so a subscriber on one instance sees
//! what another committed; on SQLite (one instance) they stay in process, delivered after commit.
//! A subscriber that falls more than `CAPACITY` events behind is told it lagged; every lead event
//! carries its position in the lead event log, so it can resume from the last one it saw.

use std::{sync::Arc, time::Duration};

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, Statement,
};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::error::AppResult;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LeadOutcome {
    Created,
    Updated,
    /// Matched an existing lead whose values the submission did not change.
    Unchanged,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadSynced {
    /// The position of the event's SUBMISSION_RECEIVED entry in the lead event log
    /// (`service::lead_events`): events are published in commit order of their positions, and a
    /// subscriber resumes after the last one it saw (`leadSynced(after:)`). 0 from a sender that
    /// did not say (an older instance during a rolling upgrade).
    #[serde(default)]
    pub position: i64,
    pub outcome: LeadOutcome,
    pub lead_id: i64,
    pub submission_id: i64,
    pub campaign_id: Option<i64>,
    pub form_id: Option<i64>,
    /// Whatever the first of this instance's subscribers loaded for the event, for the others to
    /// reuse (a thousand live UIs cost one load per event, not a thousand). Not sent between
    /// instances: each fills its own.
    #[serde(skip)]
    pub shared: SharedLoad,
}

/// A value computed once per delivered event and shared by every subscriber that receives it.
#[derive(Clone, Default)]
pub struct SharedLoad(pub Arc<tokio::sync::OnceCell<Arc<dyn std::any::Any + Send + Sync>>>);

impl std::fmt::Debug for SharedLoad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedLoad")
    }
}

/// Not part of what an event says: any two are equal.
impl PartialEq for SharedLoad {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for SharedLoad {}

/// A sync run changed (started, progressed by a page, finished).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRunUpdated {
    pub run_id: i64,
    pub profile_id: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Event {
    Lead(LeadSynced),
    Run(SyncRunUpdated),
    /// A commit appended to the lead event log (wakes outbound dispatchers).
    Logged,
}

/// Events a subscriber may fall behind by before it is told it lagged.
pub const CAPACITY: usize = 1024;
const CHANNEL: &str = "leadsync_events";
/// Lead events per NOTIFY statement.
const NOTIFY_CHUNK: usize = 500;

#[derive(Clone)]
pub struct EventBus {
    leads: broadcast::Sender<LeadSynced>,
    runs: broadcast::Sender<SyncRunUpdated>,
    /// Set on PostgreSQL: publish through NOTIFY.
    postgres: Option<Arc<DatabaseConnection>>,
    /// SQLite: held from before a batch's commit until its events are delivered (`Staged`).
    order: Arc<tokio::sync::Mutex<()>>,
}

/// A batch's lead events, staged in its transaction: `deliver` them after the commit (dropped
/// instead, after a rollback, they are not delivered).
#[must_use = "deliver the events after the commit"]
pub struct Staged {
    bus: EventBus,
    /// What is left to deliver in this process (SQLite).
    events: Vec<LeadSynced>,
    _order: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Staged {
    pub fn deliver(self) {
        for event in self.events.iter().cloned() {
            self.bus.deliver(Event::Lead(event));
        }
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            leads: broadcast::channel(CAPACITY).0,
            runs: broadcast::channel(CAPACITY).0,
            postgres: None,
            order: Default::default(),
        }
    }
}

impl EventBus {
    /// The bus for this database: in process on SQLite; NOTIFY/LISTEN across instances on
    /// PostgreSQL (the listener reconnects by itself after a database restart).
    pub fn for_database(db: &DatabaseConnection, url: &str) -> Self {
        let mut bus = Self::default();
        if db.get_database_backend() == DatabaseBackend::Postgres {
            bus.postgres = Some(Arc::new(db.clone()));
            tokio::spawn(listen(bus.clone(), url.to_owned()));
        }
        bus
    }

    fn deliver(&self, event: Event) {
        // No subscriber is not an error.
        match event {
            Event::Lead(e) => {
                let _ = self.leads.send(e);
            }
            Event::Run(e) => {
                let _ = self.runs.send(e);
            }
            Event::Logged => crate::service::lead_events::wake(),
        }
    }

    async fn publish(&self, event: Event) {
        let Some(db) = &self.postgres else {
            self.deliver(event);
            return;
        };
        let payload = serde_json::to_string(&event).expect("events serialize");
        let sent = db
            .execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), payload.into()],
            ))
            .await;
        if let Err(e) = sent {
            // Subscribers on this instance still hear of it.
            tracing::warn!(error = %e, "NOTIFY failed; delivering in process only");
            self.deliver(event);
        }
    }

    /// Stages a batch's lead events in the transaction that logged them (call after its last
    /// append, then `commit`, then `Staged::deliver`). On PostgreSQL they are NOTIFYed from inside
    /// it: PostgreSQL delivers notifications at commit in commit order, and the event log's lock
    /// makes that position order. On SQLite (one writer, one instance) they wait for `deliver`,
    /// holding this process's order lock from before the commit until they are delivered.
    /// Either way, subscribers hear of them in position order.
    pub async fn stage_leads(
        &self,
        txn: &DatabaseTransaction,
        events: Vec<LeadSynced>,
    ) -> AppResult<Staged> {
        if self.postgres.is_none() {
            let order = self.order.clone().lock_owned().await;
            return Ok(Staged {
                bus: self.clone(),
                events,
                _order: Some(order),
            });
        }
        // One statement per `NOTIFY_CHUNK` events, not one per event.
        for chunk in events.chunks(NOTIFY_CHUNK) {
            let mut values = vec![CHANNEL.into()];
            let mut rows = Vec::with_capacity(chunk.len());
            for (i, event) in chunk.iter().enumerate() {
                let payload =
                    serde_json::to_string(&Event::Lead(event.clone())).expect("events serialize");
                values.push(payload.into());
                rows.push(format!("(${})", i + 2));
            }
            let sql = format!(
                "SELECT pg_notify($1, v.payload) FROM (VALUES {}) AS v(payload)",
                rows.join(", ")
            );
            txn.query_all_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                sql,
                values,
            ))
            .await?;
        }
        Ok(Staged {
            bus: self.clone(),
            events: Vec::new(),
            _order: None,
        })
    }

    pub async fn publish_run(&self, event: SyncRunUpdated) {
        self.publish(Event::Run(event)).await;
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LeadSynced> {
        self.leads.subscribe()
    }

    pub fn subscribe_runs(&self) -> broadcast::Receiver<SyncRunUpdated> {
        self.runs.subscribe()
    }
}

/// Tells the other instances, at `txn`'s commit, that it appended to the lead event log
/// (PostgreSQL; this instance is woken by `lead_events::commit`).
pub async fn notify_logged(txn: &DatabaseTransaction) -> AppResult<()> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        let payload = serde_json::to_string(&Event::Logged).expect("events serialize");
        txn.query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), payload.into()],
        ))
        .await?;
    }
    Ok(())
}

async fn listen(bus: EventBus, url: String) {
    use sea_orm::sqlx::postgres::PgListener;
    let mut backoff = Duration::from_millis(200);
    loop {
        let listener = async {
            let mut l = PgListener::connect(&url).await?;
            l.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(l)
        }
        .await;
        match listener {
            Ok(mut listener) => {
                backoff = Duration::from_millis(200);
                loop {
                    match listener.recv().await {
                        Ok(n) => match serde_json::from_str::<Event>(n.payload()) {
                            Ok(event) => bus.deliver(event),
                            Err(e) => tracing::warn!(error = %e, "ignoring an unreadable event"),
                        },
                        Err(e) => {
                            tracing::warn!(error = %e, "event listener lost PostgreSQL; reconnecting");
                            break;
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "event listener cannot reach PostgreSQL; retrying")
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}
