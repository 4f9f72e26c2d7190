use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "linkedin_accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub linkedin_id: String,
    pub name: String,
    pub currency: Option<String>,
    pub status: Option<String>,
    pub is_test: bool,
    pub reference_urn: Option<String>,
    pub enabled_for_sync: bool,
    pub sync_status: String,
    pub status_details: Option<String>,
    pub last_sync_at: Option<DateTimeUtc>,
    pub sync_cursor_ms: Option<i64>,
    pub webhook_subscription_id: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTimeUtc>,
    /// `SPONSORED` for an ad account, else the organic lead type this source pulls.
    pub lead_type: String,
    /// The LinkedIn owner of the leads: the ad account's or the organization's URN.
    pub owner_urn: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
