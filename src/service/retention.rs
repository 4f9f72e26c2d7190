//! Retention: forget old data on a schedule. Three rules in the integration configuration, each
//! off until set:
//!
//! - `submissionsDays`: submissions (with their answers and consents) submitted longer ago are
//!   removed; their LinkedIn ids are kept as tombstones so no re-sync or webhook brings them back
//!   while LinkedIn still holds them. Their leads stay, with the count of what is left (the time
//!   of their latest submission stays too: it is when the person was last active).
//! - `inactiveLeadsDays`: leads neither changed nor submitting for that long are removed with
//!   their submissions (tombstoned the same way).
//! - `operationalRecordsDays`: finished sync runs and handled webhook notifications.
//!
//! The audit trail is not purged: it is the proof of what was done, and holds no personal data.
//! A purge deletes in batches (no long locks), the list counters follow by trigger, and it is
//! recorded on the trail with its counts. A dry run counts with the same rules and the same
//! clock, so it reports what a purge at that moment removes.

use chrono::{DateTime, Duration, Utc};
use entity::{
    erased_response, form_submission, integration_configuration, lead, sync_run,
    webhook_notification,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
    sea_query::{Expr, Query},
};

use crate::{domain::SyncRunStatus, error::AppResult};

/// Rows deleted per transaction.
const BATCH: u64 = 500;
pub const MIN_DAYS: i32 = 1;
pub const MAX_DAYS: i32 = 3650;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub submissions_days: Option<i32>,
    pub inactive_leads_days: Option<i32>,
    pub operational_records_days: Option<i32>,
}

impl RetentionPolicy {
    pub fn of(config: &integration_configuration::Model) -> Self {
        Self {
            submissions_days: config.retention_submissions_days,
            inactive_leads_days: config.retention_inactive_leads_days,
            operational_records_days: config.retention_operational_records_days,
        }
    }

    pub fn is_off(&self) -> bool {
        *self == Self::default()
    }
}

/// What a purge removed, or what a dry run says it would.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub submissions: u64,
    pub leads: u64,
    pub sync_runs: u64,
    pub webhook_notifications: u64,
}

impl PurgeReport {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

fn cutoff(now: DateTime<Utc>, days: Option<i32>) -> Option<DateTime<Utc>> {
    days.map(|d| now - Duration::days(i64::from(d)))
}

/// Leads inactive since `before`: not changed and no submission since.
fn inactive_leads(before: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(lead::Column::UpdatedAt.lt(before))
        .add(
            Condition::any()
                .add(lead::Column::LatestSubmissionAt.is_null())
                .add(lead::Column::LatestSubmissionAt.lt(before)),
        )
}

fn finished_runs(before: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(sync_run::Column::CreatedAt.lt(before))
        .add(sync_run::Column::Status.is_not_in([
            SyncRunStatus::Queued.as_str(),
            SyncRunStatus::Running.as_str(),
        ]))
}

fn handled_notifications(before: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(webhook_notification::Column::ReceivedAt.lt(before))
        .add(webhook_notification::Column::ProcessedAt.is_not_null())
}

/// What `purge` with `policy` would remove at `now`.
pub async fn dry_run(
    db: &impl ConnectionTrait,
    policy: RetentionPolicy,
    now: DateTime<Utc>,
) -> AppResult<PurgeReport> {
    let mut report = PurgeReport::default();
    let leads_before = cutoff(now, policy.inactive_leads_days);
    let submissions_before = cutoff(now, policy.submissions_days);
    if let Some(before) = leads_before {
        report.leads = lead::Entity::find()
            .filter(inactive_leads(before))
            .count(db)
            .await?;
    }
    if leads_before.is_some() || submissions_before.is_some() {
        let mut any = Condition::any();
        if let Some(before) = submissions_before {
            any = any.add(form_submission::Column::SubmittedAt.lt(before));
        }
        if let Some(before) = leads_before {
            let inactive = Query::select()
                .column(lead::Column::Id)
                .from(lead::Entity)
                .cond_where(inactive_leads(before))
                .to_owned();
            any = any.add(form_submission::Column::LeadId.in_subquery(inactive));
        }
        report.submissions = form_submission::Entity::find()
            .filter(any)
            .count(db)
            .await?;
    }
    if let Some(before) = cutoff(now, policy.operational_records_days) {
        report.sync_runs = sync_run::Entity::find()
            .filter(finished_runs(before))
            .count(db)
            .await?;
        report.webhook_notifications = webhook_notification::Entity::find()
            .filter(handled_notifications(before))
            .count(db)
            .await?;
    }
    Ok(report)
}

/// Applies `policy` as of `now`, in batches; returns what it removed.
pub async fn purge(
    db: &DatabaseConnection,
    policy: RetentionPolicy,
    now: DateTime<Utc>,
) -> AppResult<PurgeReport> {
    let mut report = PurgeReport::default();
    if let Some(before) = cutoff(now, policy.inactive_leads_days) {
        loop {
            let ids: Vec<i64> = lead::Entity::find()
                .select_only()
                .column(lead::Column::Id)
                .filter(inactive_leads(before))
                .order_by_asc(lead::Column::Id)
                .limit(BATCH)
                .into_tuple()
                .all(db)
                .await?;
            if ids.is_empty() {
                break;
            }
            let txn = crate::service::lead_events::begin(db).await?;
            crate::service::lead_events::forget_leads(&txn, &ids).await?;
            loop {
                let removed = remove_submissions(
                    &txn,
                    form_submission::Column::LeadId.is_in(ids.clone()),
                    now,
                    false,
                )
                .await?;
                report.submissions += removed;
                if removed < BATCH {
                    break;
                }
            }
            report.leads += lead::Entity::delete_many()
                .filter(lead::Column::Id.is_in(ids))
                .exec(&txn)
                .await?
                .rows_affected;
            txn.commit().await?;
        }
    }
    if let Some(before) = cutoff(now, policy.submissions_days) {
        loop {
            let txn = db.begin().await?;
            let removed = remove_submissions(
                &txn,
                form_submission::Column::SubmittedAt.lt(before),
                now,
                true,
            )
            .await?;
            txn.commit().await?;
            report.submissions += removed;
            if removed < BATCH {
                break;
            }
        }
    }
    if let Some(before) = cutoff(now, policy.operational_records_days) {
        report.sync_runs =
            delete_in_batches::<sync_run::Entity>(db, finished_runs(before), sync_run::Column::Id)
                .await?;
        report.webhook_notifications = delete_in_batches::<webhook_notification::Entity>(
            db,
            handled_notifications(before),
            webhook_notification::Column::Id,
        )
        .await?;
    }
    if !report.is_empty() {
        tracing::info!(
            submissions = report.submissions,
            leads = report.leads,
            sync_runs = report.sync_runs,
            webhook_notifications = report.webhook_notifications,
            "retention purge"
        );
    }
    Ok(report)
}

/// Removes up to `BATCH` submissions matching `which`, tombstoning their LinkedIn ids; with
/// `recount`, their leads' submission counts follow. Returns how many went.
async fn remove_submissions(
    txn: &impl ConnectionTrait,
    which: impl sea_orm::sea_query::IntoCondition,
    now: DateTime<Utc>,
    recount: bool,
) -> AppResult<u64> {
    let rows: Vec<(i64, String, Option<i64>)> = form_submission::Entity::find()
        .select_only()
        .columns([
            form_submission::Column::Id,
            form_submission::Column::LinkedinId,
            form_submission::Column::LeadId,
        ])
        .filter(which)
        .order_by_asc(form_submission::Column::Id)
        .limit(BATCH)
        .into_tuple()
        .all(txn)
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    erased_response::Entity::insert_many(rows.iter().map(|(_, linkedin_id, _)| {
        erased_response::ActiveModel {
            id: sea_orm::ActiveValue::NotSet,
            linkedin_response_id: sea_orm::Set(linkedin_id.clone()),
            erased_at: sea_orm::Set(now),
            erased_by_user_id: sea_orm::Set(None),
        }
    }))
    .on_conflict_do_nothing_on([erased_response::Column::LinkedinResponseId])
    .exec_without_returning(txn)
    .await?;
    let removed = form_submission::Entity::delete_many()
        .filter(form_submission::Column::Id.is_in(rows.iter().map(|r| r.0)))
        .exec(txn)
        .await?
        .rows_affected;
    if recount {
        let leads: std::collections::BTreeSet<i64> = rows.iter().filter_map(|r| r.2).collect();
        if !leads.is_empty() {
            lead::Entity::update_many()
                .col_expr(
                    lead::Column::SubmissionCount,
                    Expr::cust(
                        "(SELECT COUNT(*) FROM form_submissions WHERE form_submissions.lead_id = leads.id)",
                    ),
                )
                .filter(lead::Column::Id.is_in(leads))
                .exec(txn)
                .await?;
        }
    }
    Ok(removed)
}

async fn delete_in_batches<E: EntityTrait>(
    db: &DatabaseConnection,
    which: Condition,
    id: E::Column,
) -> AppResult<u64> {
    let mut removed = 0;
    loop {
        let ids: Vec<i64> = E::find()
            .select_only()
            .column(id)
            .filter(which.clone())
            .order_by_asc(id)
            .limit(BATCH)
            .into_tuple()
            .all(db)
            .await?;
        if ids.is_empty() {
            return Ok(removed);
        }
        removed += E::delete_many()
            .filter(id.is_in(ids))
            .exec(db)
            .await?
            .rows_affected;
    }
}

/// Runs the configured policy hourly; each purge that removed anything is on the audit trail
/// as the system. The lead event log keeps `event_log_days` (`LEADSYNC_EVENT_LOG_DAYS`): older
/// events go in the same schedule, and a subscription resuming from before them is told so.
pub fn spawn_schedule(db: DatabaseConnection, event_log_days: u32) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let now = Utc::now();
            let system = crate::service::audit::Actor::System;
            if let Err(e) = run_configured(&db, now, system, "retentionPurge").await {
                tracing::error!(error = ?e, "retention purge failed");
            }
            let before = now - Duration::days(i64::from(event_log_days));
            match crate::service::lead_events::purge_before(&db, before).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "lead event log purge"),
                Err(e) => tracing::error!(error = ?e, "lead event log purge failed"),
            }
        }
    })
}

/// Applies the configured policy at `now` and records it on the audit trail: every purge a user
/// asked for, and the scheduled ones that removed anything.
pub async fn run_configured(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    actor: crate::service::audit::Actor,
    operation: &str,
) -> AppResult<PurgeReport> {
    let policy = RetentionPolicy::of(&crate::service::configuration::get(db).await?);
    let report = if policy.is_off() {
        PurgeReport::default()
    } else {
        purge(db, policy, now).await?
    };
    if matches!(actor, crate::service::audit::Actor::User(_)) || !report.is_empty() {
        let entry = crate::service::audit::Entry::new(actor, operation, "RetentionPolicy")
            .details(report_json(&policy, &report));
        crate::service::audit::record_or_log(db, entry).await;
    }
    Ok(report)
}

/// A purge's counts and the rules it applied, for the audit trail (counts, not contents).
fn report_json(policy: &RetentionPolicy, report: &PurgeReport) -> serde_json::Value {
    serde_json::json!({
        "submissionsDays": policy.submissions_days,
        "inactiveLeadsDays": policy.inactive_leads_days,
        "operationalRecordsDays": policy.operational_records_days,
        "submissions": report.submissions,
        "leads": report.leads,
        "syncRuns": report.sync_runs,
        "webhookNotifications": report.webhook_notifications,
    })
}
