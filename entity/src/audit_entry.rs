use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// One audit trail entry: appended, never changed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub actor_user_id: Option<i64>,
    /// `USER` (an API user), `S2S` (the sync worker and webhooks) or `CLI`.
    pub actor: String,
    /// The GraphQL field or CLI command: `updateLead`, `eraseLead`, `sync`, ...
    pub operation: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub details: Option<Json>,
    /// The sync run or webhook notification a system write belongs to.
    pub context: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
