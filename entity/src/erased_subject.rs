use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// An erased person, as a keyed hash of their normalized email: no personal data.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "erased_subjects")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub subject_hash: String,
    pub erased_at: DateTimeUtc,
    pub erased_by_user_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
