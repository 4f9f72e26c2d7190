use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Whether a LinkedIn lead type syncs, and how far back a new source of it backfills.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "lead_type_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub lead_type: String,
    pub enabled: bool,
    pub backfill_days: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
