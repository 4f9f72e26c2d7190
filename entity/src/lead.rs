use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "leads")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub email_normalized: Option<String>,
    pub work_email: Option<String>,
    pub work_email_normalized: Option<String>,
    pub phone: Option<String>,
    pub phone_normalized: Option<String>,
    pub work_phone: Option<String>,
    pub company: Option<String>,
    pub job_title: Option<String>,
    pub job_function: Option<String>,
    pub seniority: Option<String>,
    pub industry: Option<String>,
    pub company_size: Option<String>,
    pub country: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
    pub zip_code: Option<String>,
    pub custom_fields: Json,
    pub source: String,
    pub source_campaign_id: Option<i64>,
    pub source_form_id: Option<i64>,
    pub latest_submission_at: Option<DateTimeUtc>,
    pub submission_count: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
