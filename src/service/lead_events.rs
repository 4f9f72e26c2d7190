//! The lead event log (issue 16): an append-only, numbered record of what happened to leads,
//! written in the transaction that made the change. Its `id` is the event's position: positions
//! grow in commit order (on PostgreSQL every writer holds one advisory lock until it commits, see
//! `begin`; SQLite has one writer), so a consumer that has seen position N has seen everything
//! before it. Subscriptions replay from it; outbound webhooks deliver from it.
//!
//! An event holds ids and kinds, never personal data; what a consumer is shown is read from the
//! lead store at that time. Erasing a lead removes its earlier events and leaves one LEAD_ERASED.

use chrono::{DateTime, Utc};
use entity::lead_event;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement, TransactionTrait,
};

use crate::{domain::LeadEventKind, error::AppResult};

/// The advisory lock every writer of the event log holds until it commits (PostgreSQL), so that
/// positions are assigned in commit order. The ingest pipeline takes the same key.
pub const EVENT_LOG_LOCK_KEY: i64 = 0x1ead_1a9e;

/// An event to append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    pub kind: LeadEventKind,
    pub lead_id: i64,
    pub submission_id: Option<i64>,
    /// For SUBMISSION_RECEIVED: CREATED, UPDATED or UNCHANGED (what it did to its lead).
    pub outcome: Option<&'static str>,
    pub campaign_id: Option<i64>,
    pub form_id: Option<i64>,
    pub lead_type: Option<String>,
}

impl NewEvent {
    /// An event about a lead alone.
    pub fn lead(kind: LeadEventKind, lead: &entity::lead::Model) -> Self {
        Self {
            kind,
            lead_id: lead.id,
            submission_id: None,
            outcome: None,
            campaign_id: lead.source_campaign_id,
            form_id: lead.source_form_id,
            lead_type: None,
        }
    }
}

/// Takes the event log's lock in `txn` (PostgreSQL; nothing to do on SQLite). Take it before
/// touching any row: a writer that locked a lead row first and then waited here could deadlock
/// with an ingest batch holding the lock and waiting for that row.
pub async fn lock(txn: &DatabaseTransaction) -> AppResult<()> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [EVENT_LOG_LOCK_KEY.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Begins a transaction that may append events, holding the event log's lock.
pub async fn begin(db: &DatabaseConnection) -> AppResult<DatabaseTransaction> {
    let txn = db.begin().await?;
    lock(&txn).await?;
    Ok(txn)
}

/// Appends `events` in order; call inside a transaction from `begin` (or one holding `lock`).
pub async fn append(
    txn: &DatabaseTransaction,
    events: &[NewEvent],
    at: DateTime<Utc>,
) -> AppResult<()> {
    for chunk in events.chunks(500) {
        lead_event::Entity::insert_many(chunk.iter().map(|e| lead_event::ActiveModel {
            kind: Set(e.kind.as_str().to_owned()),
            lead_id: Set(e.lead_id),
            submission_id: Set(e.submission_id),
            outcome: Set(e.outcome.map(str::to_owned)),
            campaign_id: Set(e.campaign_id),
            form_id: Set(e.form_id),
            lead_type: Set(e.lead_type.clone()),
            created_at: Set(at),
            ..Default::default()
        }))
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// Forgets every event of `lead_id` (an erasure: what remains is the LEAD_ERASED appended after).
pub async fn forget_lead(txn: &DatabaseTransaction, lead_id: i64) -> AppResult<u64> {
    Ok(lead_event::Entity::delete_many()
        .filter(lead_event::Column::LeadId.eq(lead_id))
        .exec(txn)
        .await?
        .rows_affected)
}

/// Forgets the events of leads a retention purge removed (nothing is left to tell about them).
pub async fn forget_leads(txn: &DatabaseTransaction, lead_ids: &[i64]) -> AppResult<u64> {
    Ok(lead_event::Entity::delete_many()
        .filter(lead_event::Column::LeadId.is_in(lead_ids.iter().copied()))
        .exec(txn)
        .await?
        .rows_affected)
}

/// Up to `limit` events after position `after`, in order.
pub async fn after(
    db: &impl ConnectionTrait,
    after: i64,
    limit: u64,
) -> AppResult<Vec<lead_event::Model>> {
    Ok(lead_event::Entity::find()
        .filter(lead_event::Column::Id.gt(after))
        .order_by_asc(lead_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// The latest position (0 when the log is empty).
pub async fn latest(db: &impl ConnectionTrait) -> AppResult<i64> {
    Ok(lead_event::Entity::find()
        .order_by_desc(lead_event::Column::Id)
        .one(db)
        .await?
        .map_or(0, |e| e.id))
}
