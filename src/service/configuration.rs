//! The integration configuration: a single row (id 1) seeded by the migration.

use chrono::Utc;
use entity::integration_configuration as config;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set};

use crate::{
    domain::OnMatchFail,
    error::{AppError, AppResult},
};

const ROW_ID: i64 = 1;
/// Bounds on the scheduled sync interval: at most every minute, at least daily.
pub const MIN_SYNC_INTERVAL: i32 = 60;
pub const MAX_SYNC_INTERVAL: i32 = 86_400;

pub async fn get(db: &impl ConnectionTrait) -> AppResult<config::Model> {
    config::Entity::find_by_id(ROW_ID)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("integration configuration row is missing"))
}

#[derive(Clone, Debug, Default)]
pub struct ConfigurationChanges {
    pub create_journeys_for_campaigns: Option<bool>,
    pub on_match_fail: Option<OnMatchFail>,
    pub sync_interval_seconds: Option<i32>,
    pub create_leads_from_test_leads: Option<bool>,
}

pub async fn update(
    db: &DatabaseConnection,
    changes: ConfigurationChanges,
) -> AppResult<config::Model> {
    let mut row: config::ActiveModel = get(db).await?.into();
    if let Some(v) = changes.create_journeys_for_campaigns {
        row.create_journeys_for_campaigns = Set(v);
    }
    if let Some(v) = changes.on_match_fail {
        row.on_match_fail = Set(v.as_str().to_owned());
    }
    if let Some(v) = changes.sync_interval_seconds {
        if !(MIN_SYNC_INTERVAL..=MAX_SYNC_INTERVAL).contains(&v) {
            return Err(AppError::bad_input(format!(
                "syncIntervalSeconds must be between {MIN_SYNC_INTERVAL} and {MAX_SYNC_INTERVAL}"
            )));
        }
        row.sync_interval_seconds = Set(v);
    }
    if let Some(v) = changes.create_leads_from_test_leads {
        row.create_leads_from_test_leads = Set(v);
    }
    row.updated_at = Set(Utc::now());
    Ok(row.update(db).await?)
}
