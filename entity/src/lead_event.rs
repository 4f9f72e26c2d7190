use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// One entry of the lead event log: `id` is its position (commit order). Ids and kinds only.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "lead_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// LEAD_CREATED, LEAD_UPDATED, LEAD_DELETED, LEAD_ERASED or SUBMISSION_RECEIVED.
    pub kind: String,
    pub lead_id: i64,
    pub submission_id: Option<i64>,
    /// For SUBMISSION_RECEIVED: what the submission did to its lead (CREATED, UPDATED,
    /// UNCHANGED).
    pub outcome: Option<String>,
    pub campaign_id: Option<i64>,
    pub form_id: Option<i64>,
    pub lead_type: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
