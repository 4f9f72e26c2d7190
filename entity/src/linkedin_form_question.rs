use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "linkedin_form_questions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub form_id: i64,
    pub linkedin_question_id: String,
    pub name: Option<String>,
    pub text: String,
    pub kind: String,
    pub is_custom: bool,
    pub is_consent: bool,
    pub predefined_field: Option<String>,
    pub options: Option<Json>,
    pub position: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
