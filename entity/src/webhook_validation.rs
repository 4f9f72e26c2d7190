use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A LinkedIn webhook validation challenge leadsync answered.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "webhook_validations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub validated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
