use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "linkedin_forms")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub linkedin_id: String,
    pub account_id: Option<i64>,
    pub name: String,
    pub headline: Option<String>,
    pub description: Option<String>,
    pub landing_page_url: Option<String>,
    pub privacy_policy_url: Option<String>,
    pub thank_you_message: Option<String>,
    pub locale: Option<String>,
    pub version_id: Option<i64>,
    pub status: Option<String>,
    pub hidden_fields: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
