use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "form_submissions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub linkedin_id: String,
    pub submitted_at: DateTimeUtc,
    pub lead_type: String,
    pub test_lead: bool,
    pub submitter_urn: Option<String>,
    pub account_id: Option<i64>,
    pub campaign_id: Option<i64>,
    pub creative_urn: Option<String>,
    pub form_id: Option<i64>,
    pub form_version: Option<i64>,
    pub profile_id: Option<i64>,
    pub lead_id: Option<i64>,
    pub customer_journey_id: Option<i64>,
    pub matching_status: String,
    pub processing_state: String,
    pub match_explanation: Option<String>,
    pub error: Option<String>,
    pub hidden_fields: Option<Json>,
    pub raw: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
