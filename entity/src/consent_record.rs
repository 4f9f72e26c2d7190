use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A consent a person answered on a LinkedIn form: the proof, kept past the answers' retention.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "consent_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub lead_id: i64,
    pub linkedin_response_id: String,
    pub submitter_urn: Option<String>,
    pub form_id: Option<i64>,
    pub form_version: Option<i64>,
    /// LinkedIn's consent id on the form.
    pub consent_id: String,
    /// The consent as the form showed it, in the form's language.
    pub consent_text: String,
    pub accepted: bool,
    pub submitted_at: DateTimeUtc,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
