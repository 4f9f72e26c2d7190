use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "integration_configuration")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub create_journeys_for_campaigns: bool,
    pub on_match_fail: String,
    pub sync_interval_seconds: i32,
    pub create_leads_from_test_leads: bool,
    pub updated_at: DateTimeUtc,
    /// Retention rules in days; NULL is off (see `src/service/retention.rs`).
    pub retention_submissions_days: Option<i32>,
    pub retention_inactive_leads_days: Option<i32>,
    pub retention_operational_records_days: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
