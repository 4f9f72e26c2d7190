use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// An outbound webhook endpoint an administrator registered.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub url: String,
    pub description: String,
    /// Comma-separated event types: `lead.created`, `lead.updated`, `lead.deleted`,
    /// `lead.erased`, `submission.received`.
    pub event_kinds: String,
    pub campaign_id: Option<i64>,
    pub form_id: Option<i64>,
    pub lead_type: Option<String>,
    /// The signing secret (`whsec_...`), encrypted with `LEADSYNC_SECRET_KEY`.
    #[serde(skip_serializing)]
    pub secret_enc: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// Since when its deliveries have failed without a success in between.
    pub failing_since: Option<DateTimeUtc>,
    /// The event log's position when it was created: it receives the events after it.
    pub start_position: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
