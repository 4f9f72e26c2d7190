//! The integration configuration: a single row (id 1) seeded by the migration.

use chrono::Utc;
use entity::{integration_configuration as config, lead_type_setting};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use crate::{
    domain::{LeadType, OnMatchFail},
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
    pub lead_types: Vec<LeadTypeChange>,
    /// Each retention rule: None leaves it, Some(None) turns it off, Some(Some(days)) sets it.
    pub retention_submissions_days: Option<Option<i32>>,
    pub retention_inactive_leads_days: Option<Option<i32>>,
    pub retention_operational_records_days: Option<Option<i32>>,
}

pub async fn update(
    db: &impl crate::service::Db,
    changes: ConfigurationChanges,
) -> AppResult<config::Model> {
    // Checked before anything is written, so a bad value changes nothing.
    if let Some(v) = changes.sync_interval_seconds
        && !(MIN_SYNC_INTERVAL..=MAX_SYNC_INTERVAL).contains(&v)
    {
        return Err(AppError::bad_input(format!(
            "syncIntervalSeconds must be between {MIN_SYNC_INTERVAL} and {MAX_SYNC_INTERVAL}"
        )));
    }
    use crate::service::retention::{MAX_DAYS, MIN_DAYS};
    for (name, v) in [
        ("submissionsDays", changes.retention_submissions_days),
        ("inactiveLeadsDays", changes.retention_inactive_leads_days),
        (
            "operationalRecordsDays",
            changes.retention_operational_records_days,
        ),
    ] {
        if let Some(Some(days)) = v
            && !(MIN_DAYS..=MAX_DAYS).contains(&days)
        {
            return Err(AppError::bad_input(format!(
                "retention {name} must be between {MIN_DAYS} and {MAX_DAYS}, or null for off"
            )));
        }
    }
    update_lead_types(db, &changes.lead_types).await?;
    let mut row: config::ActiveModel = get(db).await?.into();
    if let Some(v) = changes.create_journeys_for_campaigns {
        row.create_journeys_for_campaigns = Set(v);
    }
    if let Some(v) = changes.on_match_fail {
        row.on_match_fail = Set(v.as_str().to_owned());
    }
    if let Some(v) = changes.sync_interval_seconds {
        row.sync_interval_seconds = Set(v);
    }
    if let Some(v) = changes.create_leads_from_test_leads {
        row.create_leads_from_test_leads = Set(v);
    }
    if let Some(v) = changes.retention_submissions_days {
        row.retention_submissions_days = Set(v);
    }
    if let Some(v) = changes.retention_inactive_leads_days {
        row.retention_inactive_leads_days = Set(v);
    }
    if let Some(v) = changes.retention_operational_records_days {
        row.retention_operational_records_days = Set(v);
    }
    row.updated_at = Set(Utc::now());
    Ok(row.update(db).await?)
}

/// Bounds on a lead type's backfill window: LinkedIn keeps leads at most 365 days.
pub const MIN_BACKFILL_DAYS: i32 = 1;
pub const MAX_BACKFILL_DAYS: i32 = 365;

/// Which lead types sync and how far back a new source of each backfills, in `LeadType` order.
pub async fn lead_types(db: &impl ConnectionTrait) -> AppResult<Vec<lead_type_setting::Model>> {
    let mut rows = lead_type_setting::Entity::find().all(db).await?;
    rows.sort_by_key(|r| {
        r.lead_type
            .parse::<LeadType>()
            .map_or(usize::MAX, |t| t as usize)
    });
    Ok(rows)
}

/// The setting of one lead type; a type the table lacks (LinkedIn added it) does not sync.
pub fn lead_type_setting(
    settings: &[lead_type_setting::Model],
    lead_type: LeadType,
) -> Option<&lead_type_setting::Model> {
    settings
        .iter()
        .find(|s| s.lead_type == lead_type.as_str())
        .filter(|s| s.enabled)
}

#[derive(Clone, Debug)]
pub struct LeadTypeChange {
    pub lead_type: LeadType,
    pub enabled: Option<bool>,
    pub backfill_days: Option<i32>,
}

/// Applies lead type changes together: all of them or, on a bad value, none.
pub async fn update_lead_types(
    db: &impl crate::service::Db,
    changes: &[LeadTypeChange],
) -> AppResult<()> {
    for c in changes {
        if let Some(days) = c.backfill_days
            && !(MIN_BACKFILL_DAYS..=MAX_BACKFILL_DAYS).contains(&days)
        {
            return Err(AppError::bad_input(format!(
                "backfillDays of {} must be between {MIN_BACKFILL_DAYS} and {MAX_BACKFILL_DAYS}",
                c.lead_type
            )));
        }
    }
    let txn = db.begin().await?;
    for c in changes {
        let now = Utc::now();
        let existing = lead_type_setting::Entity::find_by_id(c.lead_type.as_str())
            .one(&txn)
            .await?;
        match existing {
            Some(row) => {
                let mut row: lead_type_setting::ActiveModel = row.into();
                if let Some(v) = c.enabled {
                    row.enabled = Set(v);
                }
                if let Some(v) = c.backfill_days {
                    row.backfill_days = Set(v);
                }
                row.updated_at = Set(now);
                row.update(&txn).await?;
            }
            None => {
                lead_type_setting::ActiveModel {
                    lead_type: Set(c.lead_type.as_str().to_owned()),
                    enabled: Set(c.enabled.unwrap_or(false)),
                    backfill_days: Set(c.backfill_days.unwrap_or(90)),
                    updated_at: Set(now),
                }
                .insert(&txn)
                .await?;
            }
        }
    }
    txn.commit().await?;
    Ok(())
}
