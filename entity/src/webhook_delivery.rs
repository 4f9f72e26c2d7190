use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// One event to deliver to one endpoint (the outbox), with the outcome of its latest attempt.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub endpoint_id: i64,
    /// The lead event (`lead_events.id`); deleted with it (an erasure).
    pub event_id: i64,
    pub lead_id: i64,
    /// `lead.created`, `lead.updated`, `lead.deleted`, `lead.erased` or `submission.received`.
    pub event_type: String,
    /// PENDING, DELIVERING, SUCCEEDED, FAILED (given up) or SKIPPED (the lead is gone).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// When the retry window started (creation, replay or re-enabling).
    pub window_started_at: DateTimeUtc,
    pub lease_until: Option<DateTimeUtc>,
    pub leased_by: Option<String>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub last_latency_ms: Option<i64>,
    /// The first 512 bytes of the latest response body.
    pub response_excerpt: Option<String>,
    pub last_attempt_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
