//! Lead notifications from LinkedIn: deduplicated by notification id, then handed to the
//! connector (CREATED fetches and processes the lead, DELETED erases it).

use chrono::Utc;
use entity::webhook_notification;
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    sea_query::Expr,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{
    error::{AppError, AppResult},
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
    let account = notification
        .pointer("/owner/sponsoredAccount")
        .and_then(Value::as_str)
        .map(id_of);
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
        .handle_notification(action, response_id, account)
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
    }
    Ok(())
}
