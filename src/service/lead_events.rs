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
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set, Statement,
    sea_query::{Alias, Expr, ExprTrait, Query},
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

/// Counts commits that appended to the log, in this process or (PostgreSQL, by NOTIFY) on
/// another instance: the outbound dispatcher waits on it instead of polling.
static APPENDED: std::sync::LazyLock<tokio::sync::watch::Sender<u64>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::channel(0).0);

/// Tells whoever waits on `appended` that the log grew.
pub fn wake() {
    APPENDED.send_modify(|n| *n = n.wrapping_add(1));
}

/// Changes after a commit that appended (or may have): see `wake`.
pub fn appended() -> tokio::sync::watch::Receiver<u64> {
    APPENDED.subscribe()
}

/// Commits a transaction from `begin` and wakes the log's waiters.
pub async fn commit(txn: DatabaseTransaction) -> AppResult<()> {
    txn.commit().await?;
    wake();
    Ok(())
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
pub async fn begin(db: &impl crate::service::Db) -> AppResult<DatabaseTransaction> {
    let txn = db.begin().await?;
    lock(&txn).await?;
    Ok(txn)
}

/// Appends `events` in order and returns the positions they were given, in the same order;
/// call inside a transaction from `begin` (or one holding `lock`), and end it with `commit`.
pub async fn append(
    txn: &DatabaseTransaction,
    events: &[NewEvent],
    at: DateTime<Utc>,
) -> AppResult<Vec<i64>> {
    let backend = txn.get_database_backend();
    let mut positions = Vec::with_capacity(events.len());
    for chunk in events.chunks(500) {
        let mut insert =
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
            .into_query();
        // RETURNING: PostgreSQL, and SQLite since 3.35.
        insert.returning_col(lead_event::Column::Id);
        let rows = txn.query_all_raw(backend.build(&insert)).await?;
        let mut ids = rows
            .iter()
            .map(|row| row.try_get::<i64>("", "id"))
            .collect::<Result<Vec<_>, _>>()?;
        // The rows were numbered in the order given (one writer at a time); RETURNING's own
        // order is not promised.
        ids.sort_unstable();
        if ids.len() != chunk.len() {
            return Err(crate::error::AppError::internal(
                "the event log returned another number of positions than it was given events",
            ));
        }
        positions.extend(ids);
    }
    if !events.is_empty() {
        // The other instances' dispatchers hear of it at commit.
        crate::events::notify_logged(txn).await?;
    }
    Ok(positions)
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

/// Up to `limit` SUBMISSION_RECEIVED events after position `after`, in order, of one campaign
/// and/or form when given (what `leadSynced(after:)` replays).
pub async fn submissions_after(
    db: &impl ConnectionTrait,
    after: i64,
    campaign_id: Option<i64>,
    form_id: Option<i64>,
    limit: u64,
) -> AppResult<Vec<lead_event::Model>> {
    let mut find = lead_event::Entity::find()
        .filter(lead_event::Column::Id.gt(after))
        .filter(lead_event::Column::Kind.eq(LeadEventKind::SubmissionReceived.as_str()));
    if let Some(campaign) = campaign_id {
        find = find.filter(lead_event::Column::CampaignId.eq(campaign));
    }
    if let Some(form) = form_id {
        find = find.filter(lead_event::Column::FormId.eq(form));
    }
    Ok(find
        .order_by_asc(lead_event::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

const HORIZON: &str = "lead_event_horizon";

/// The highest position the retention purge has removed (0 when none): the log holds every
/// event after it (but those of erased or purged leads). A consumer at an older position has
/// missed events the log no longer holds.
pub async fn horizon(db: &impl ConnectionTrait) -> AppResult<i64> {
    let backend = db.get_database_backend();
    let select = Query::select()
        .expr(Expr::col(Alias::new("purged_through")))
        .from(Alias::new(HORIZON))
        .and_where(Expr::col(Alias::new("id")).eq(1))
        .to_owned();
    let row = db.query_one_raw(backend.build(&select)).await?;
    Ok(match row {
        Some(row) => row.try_get::<i64>("", "purged_through")?,
        None => 0,
    })
}

/// Removes the events appended before `before` (the log's retention): first moves the horizon
/// past them, in the log's lock, then deletes them in batches. Positions are in commit order, so
/// this removes a prefix of the log: every event up to the newest one older than `before`, but
/// none that outbound webhooks have not fanned out yet. Returns how many went.
pub async fn purge_before(db: &DatabaseConnection, before: DateTime<Utc>) -> AppResult<u64> {
    let txn = begin(db).await?;
    let newest_old: Option<i64> = lead_event::Entity::find()
        .select_only()
        .column(lead_event::Column::Id)
        .filter(lead_event::Column::CreatedAt.lt(before))
        .order_by_desc(lead_event::Column::Id)
        .limit(1)
        .into_tuple()
        .one(&txn)
        .await?;
    // Never what outbound webhooks have not yet turned into deliveries (while an endpoint
    // would receive them: one registered later starts at the log's end).
    let dispatched = txn
        .query_one_raw(Statement::from_string(
            txn.get_database_backend(),
            "SELECT position FROM webhook_dispatch_cursor WHERE id = 1 \
             AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled)",
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "position"))
        .transpose()?;
    let Some(through) = newest_old
        .map(|t| dispatched.map_or(t, |d| Ord::min(t, d)))
        .filter(|t| *t > 0)
    else {
        txn.commit().await?;
        return Ok(0);
    };
    let current = horizon(&txn).await?;
    if through > current {
        let backend = txn.get_database_backend();
        let update = Query::update()
            .table(Alias::new(HORIZON))
            .value(Alias::new("purged_through"), through)
            .value(Alias::new("purged_at"), Utc::now())
            .and_where(Expr::col(Alias::new("id")).eq(1))
            .to_owned();
        txn.execute_raw(backend.build(&update)).await?;
    }
    txn.commit().await?;
    let mut removed = 0;
    loop {
        let ids: Vec<i64> = lead_event::Entity::find()
            .select_only()
            .column(lead_event::Column::Id)
            .filter(lead_event::Column::Id.lte(through))
            .order_by_asc(lead_event::Column::Id)
            .limit(1000)
            .into_tuple()
            .all(db)
            .await?;
        if ids.is_empty() {
            break;
        }
        removed += lead_event::Entity::delete_many()
            .filter(lead_event::Column::Id.is_in(ids))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(removed)
}

/// The latest position (0 when the log is empty).
pub async fn latest(db: &impl ConnectionTrait) -> AppResult<i64> {
    Ok(lead_event::Entity::find()
        .order_by_desc(lead_event::Column::Id)
        .one(db)
        .await?
        .map_or(0, |e| e.id))
}
