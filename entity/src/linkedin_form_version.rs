use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What one version of a form showed its submitters: legal text and hidden fields.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "linkedin_form_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub form_id: i64,
    pub version_id: i64,
    pub privacy_policy_url: Option<String>,
    /// `[{"consentId", "text", "required"}]` as LinkedIn served them.
    pub consents: Option<Json>,
    /// `[{"name", "value"}]`.
    pub hidden_fields: Option<Json>,
    pub first_seen_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
