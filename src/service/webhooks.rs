//! Lead notifications from LinkedIn: deduplicated by notification id, then handed to the
//! connector (CREATED fetches and processes the lead, DELETED erases it).

use chrono::{DateTime, Utc};
use entity::{form_submission, webhook_notification, webhook_validation};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::Expr,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{
    error::{AppError, AppResult},
    linkedin::model::{LeadSourceId, Owner},
    service::connector::Connector,
};

/// The last segment of a URN (`urn:li:leadGenFormResponse:ID`) or the value itself.
fn id_of(value: &str) -> &str {
    if value.starts_with("urn:li:") {
        value.rsplit(':').next().unwrap_or(value)
    } else {
        value
    }
}

fn text<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| v.get(*k).and_then(Value::as_str))
}

pub async fn receive(
    db: &DatabaseConnection,
    connector: &Connector,
    notification: &Value,
    raw: &[u8],
) -> AppResult<()> {
    // The payload's exact form is not documented: accept the plausible field names.
    let action = text(notification, &["leadAction", "action"])
        .ok_or_else(|| AppError::bad_input("the notification has no leadAction"))?;
    let response_id = text(
        notification,
        &[
            "leadGenFormResponse",
            "leadFormResponse",
            "leadFormResponseId",
            "responseId",
            "leadId",
        ],
    )
    .map(id_of)
    .ok_or_else(|| AppError::bad_input("the notification names no lead"))?;
    // An ad account's lead, or an organization's organic lead of the notification's type.
    let owner: Owner = notification
        .get("owner")
        .cloned()
        .and_then(|o| serde_json::from_value(o).ok())
        .unwrap_or_default();
    let account = LeadSourceId::of_owner(&owner, text(notification, &["leadType"]))
        .map_err(AppError::bad_input)?
        .map(|source| source.key());
    let notification_id = text(notification, &["notificationId", "id"])
        .map(str::to_owned)
        .unwrap_or_else(|| hex::encode(Sha256::digest(raw)));

    let existing = webhook_notification::Entity::find()
        .filter(webhook_notification::Column::NotificationId.eq(&notification_id))
        .one(db)
        .await?;
    match existing {
        Some(n) if n.processed_at.is_some() => {
            tracing::info!(notification = %notification_id, "duplicate lead notification ignored");
            return Ok(());
        }
        Some(_) => {}
        None => {
            webhook_notification::Entity::insert(webhook_notification::ActiveModel {
                id: NotSet,
                notification_id: Set(notification_id.clone()),
                action: Set(Some(action.to_owned())),
                response_id: Set(Some(response_id.to_owned())),
                received_at: Set(Utc::now()),
                processed_at: Set(None),
            })
            .on_conflict_do_nothing_on([webhook_notification::Column::NotificationId])
            .exec_without_returning(db)
            .await?;
        }
    }
    connector
        .handle_notification(action, response_id, account.as_deref())
        .await?;
    // Only a notification handled to the end counts as seen: a failed one may be retried.
    let marked = webhook_notification::Entity::update_many()
        .col_expr(
            webhook_notification::Column::ProcessedAt,
            Expr::value(Utc::now()),
        )
        .filter(webhook_notification::Column::NotificationId.eq(&notification_id))
        .filter(webhook_notification::Column::ProcessedAt.is_null())
        .exec(db)
        .await?;
    if marked.rows_affected == 0 {
        tracing::info!(notification = %notification_id, "notification was handled concurrently");
    } else {
        let entry = crate::service::audit::Entry::new(
            crate::service::audit::Actor::System,
            "webhookNotification",
            "LinkedInLeadResponse",
        )
        .object(response_id)
        .context(format!("webhookNotification:{notification_id}"))
        .details(serde_json::json!({ "leadAction": action }));
        crate::service::audit::record_or_log(db, entry).await;
    }
    Ok(())
}

/// Answered validation challenges are kept this long (LinkedIn validates every 2 hours).
const VALIDATIONS_KEPT_DAYS: i64 = 30;

/// Records a validation challenge answered, and forgets those past the kept window.
pub async fn record_validation(db: &DatabaseConnection) -> AppResult<()> {
    let now = Utc::now();
    webhook_validation::Entity::insert(webhook_validation::ActiveModel {
        id: NotSet,
        validated_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    webhook_validation::Entity::delete_many()
        .filter(
            webhook_validation::Column::ValidatedAt
                .lt(now - chrono::Duration::days(VALIDATIONS_KEPT_DAYS)),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// When LinkedIn last validated the webhook (None: not within the kept window).
pub async fn last_validated_at(db: &DatabaseConnection) -> AppResult<Option<DateTime<Utc>>> {
    validation_at(db, true).await
}

async fn validation_at(db: &DatabaseConnection, last: bool) -> AppResult<Option<DateTime<Utc>>> {
    let column = webhook_validation::Column::ValidatedAt;
    let query = webhook_validation::Entity::find();
    let query = if last {
        query.order_by_desc(column)
    } else {
        query.order_by_asc(column)
    };
    Ok(query.one(db).await?.map(|v| v.validated_at))
}

/// How late a lead may reach leadsync by a sync before its notification counts as missing.
pub const ANNOUNCE_GRACE: chrono::Duration = chrono::Duration::minutes(2);

/// Leads submitted in the last day, after LinkedIn first validated the webhook (it delivers only
/// to validated ones), that were stored more than [`ANNOUNCE_GRACE`] after submission with no
/// notification about them: what a working webhook would have announced.
pub async fn unannounced_recent(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<usize> {
    let Some(first) = validation_at(db, false).await? else {
        return Ok(0);
    };
    let since = first.max(now - chrono::Duration::hours(24));
    let late: Vec<(String, DateTime<Utc>, DateTime<Utc>)> = form_submission::Entity::find()
        .select_only()
        .columns([
            form_submission::Column::LinkedinId,
            form_submission::Column::SubmittedAt,
            form_submission::Column::CreatedAt,
        ])
        .filter(form_submission::Column::SubmittedAt.gte(since))
        .filter(form_submission::Column::TestLead.eq(false))
        .limit(10_000)
        .into_tuple()
        .all(db)
        .await?;
    let late: Vec<String> = late
        .into_iter()
        .filter(|(_, submitted, stored)| *stored - *submitted > ANNOUNCE_GRACE)
        .map(|(id, _, _)| id)
        .collect();
    if late.is_empty() {
        return Ok(0);
    }
    let mut announced = std::collections::HashSet::new();
    for chunk in late.chunks(500) {
        let ids: Vec<Option<String>> = webhook_notification::Entity::find()
            .select_only()
            .column(webhook_notification::Column::ResponseId)
            .filter(webhook_notification::Column::ResponseId.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(db)
            .await?;
        announced.extend(ids.into_iter().flatten());
    }
    Ok(late.iter().filter(|id| !announced.contains(*id)).count())
}
