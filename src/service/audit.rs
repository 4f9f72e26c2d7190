//! The audit trail: who changed or looked at what. Entries are appended here and nowhere
//! changed or deleted; the API only reads them (`auditLog`, system administrators).
//!
//! Details never hold personal data: a lead's changed fields are named, not valued; an
//! erasure or export names the lead id only.

use chrono::{DateTime, Utc};
use entity::audit_entry;
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use serde_json::Value;

use crate::{
    error::AppResult,
    service::paging::{self, Page},
};

/// Who wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// An API user, by id.
    User(i64),
    /// The sync worker and LinkedIn's webhooks (the `S2S_INBOUND` identity of the system).
    System,
    /// An operator at the command line.
    Cli,
}

impl Actor {
    fn parts(self) -> (&'static str, Option<i64>) {
        match self {
            Actor::User(id) => ("USER", Some(id)),
            Actor::System => ("S2S", None),
            Actor::Cli => ("CLI", None),
        }
    }
}

/// What an entry records.
#[derive(Clone, Debug)]
pub struct Entry {
    pub actor: Actor,
    pub operation: String,
    pub object_type: &'static str,
    pub object_id: Option<String>,
    pub details: Option<Value>,
    pub context: Option<String>,
}

impl Entry {
    pub fn new(actor: Actor, operation: impl Into<String>, object_type: &'static str) -> Self {
        Self {
            actor,
            operation: operation.into(),
            object_type,
            object_id: None,
            details: None,
            context: None,
        }
    }

    pub fn object(mut self, id: impl ToString) -> Self {
        self.object_id = Some(id.to_string());
        self
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn context(mut self, context: impl Into<String>) -> Self {
        self.context = Some(context.into());
        self
    }
}

pub async fn record(db: &impl ConnectionTrait, entry: Entry) -> AppResult<()> {
    let (actor, actor_user_id) = entry.actor.parts();
    audit_entry::Entity::insert(audit_entry::ActiveModel {
        id: NotSet,
        at: Set(Utc::now()),
        actor_user_id: Set(actor_user_id),
        actor: Set(actor.to_owned()),
        operation: Set(entry.operation),
        object_type: Set(entry.object_type.to_owned()),
        object_id: Set(entry.object_id),
        details: Set(entry.details),
        context: Set(entry.context),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// A write and its audit entry in one transaction: the change and the fact of it commit
/// together or not at all. The service functions a write calls run inside it (their own
/// transactions become savepoints); `commit` appends the entry and commits.
pub struct AuditedWrite {
    txn: DatabaseTransaction,
    actor: Actor,
}

impl AuditedWrite {
    /// Begins the write. On SQLite it takes the write lock at once (every audited write writes,
    /// and a transaction that reads first and writes later can fail to upgrade its lock).
    pub async fn begin(db: &DatabaseConnection, actor: Actor) -> AppResult<Self> {
        let txn = db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        Ok(Self { txn, actor })
    }

    /// Where the write's statements go.
    pub fn db(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Appends the entry (`operation` on `object_type` `object_id`, with `details`, which hold
    /// no personal data) and commits the write with it.
    pub async fn commit(
        self,
        operation: &str,
        object_type: &'static str,
        object_id: Option<i64>,
        details: Value,
    ) -> AppResult<()> {
        let mut entry = Entry::new(self.actor, operation, object_type);
        if let Some(id) = object_id {
            entry = entry.object(id);
        }
        if !details.is_null() {
            entry = entry.details(details);
        }
        record(&self.txn, entry).await?;
        self.txn.commit().await?;
        // A lead write inside woke the outbound dispatcher at its savepoint, before this commit
        // made its events visible: wake it again now.
        crate::service::lead_events::wake();
        Ok(())
    }
}

/// Records an entry after its write committed. The write stands either way: a failure to
/// record is logged as an error, for the operator to see, and counted.
pub async fn record_or_log(db: &impl ConnectionTrait, entry: Entry) {
    let operation = entry.operation.clone();
    if let Err(e) = record(db, entry).await {
        crate::metrics::count("leadsync_audit_failures_total", &[], 1);
        tracing::error!(%operation, error = ?e, "could not record an audit entry");
    }
}

#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub operation: Option<String>,
    pub actor_user_id: Option<i64>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// Entries newest first, keyset-paged on id.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    first: Option<i32>,
    after: Option<&str>,
) -> AppResult<(Page<audit_entry::Model>, i64)> {
    use audit_entry::Column as C;
    let size = paging::page_size(first)?;
    let mut query = audit_entry::Entity::find();
    if let Some(v) = &filter.operation {
        query = query.filter(C::Operation.eq(v));
    }
    if let Some(v) = filter.actor_user_id {
        query = query.filter(C::ActorUserId.eq(v));
    }
    if let Some(v) = &filter.object_type {
        query = query.filter(C::ObjectType.eq(v));
    }
    if let Some(v) = &filter.object_id {
        query = query.filter(C::ObjectId.eq(v));
    }
    if let Some(v) = filter.since {
        query = query.filter(C::At.gte(v));
    }
    if let Some(v) = filter.until {
        query = query.filter(C::At.lt(v));
    }
    let total = paging::count_of(
        db,
        paging::bounded_count(query.clone(), paging::COUNT_LIMIT),
    )
    .await?;
    if let Some(after) = after {
        let (_, id) = paging::decode_cursor(after)?;
        query = query.filter(C::Id.lt(id));
    }
    let mut rows = query.order_by_desc(C::Id).limit(size + 1).all(db).await?;
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

/// The entries about some leads (for a person's export), oldest first.
pub async fn about_leads(
    db: &impl ConnectionTrait,
    lead_ids: &[i64],
) -> AppResult<Vec<audit_entry::Model>> {
    if lead_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(audit_entry::Entity::find()
        .filter(audit_entry::Column::ObjectType.eq("Lead"))
        .filter(audit_entry::Column::ObjectId.is_in(lead_ids.iter().map(i64::to_string)))
        .order_by_asc(audit_entry::Column::Id)
        .all(db)
        .await?)
}
