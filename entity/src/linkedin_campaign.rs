use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "linkedin_campaigns")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub linkedin_id: String,
    pub account_id: Option<i64>,
    pub name: String,
    pub campaign_type: Option<String>,
    pub status: Option<String>,
    pub start_at: Option<DateTimeUtc>,
    pub end_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
