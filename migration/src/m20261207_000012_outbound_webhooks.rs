//! Outbound webhooks (issue 16): endpoints administrators register, and the outbox of
//! deliveries fanned out from the lead event log.
//!
//! A delivery references its event (`lead_events.id`, ON DELETE CASCADE): an erasure, which
//! removes the person's earlier events, removes their queued deliveries with them. The fan-out
//! cursor is one row: the last event position turned into deliveries.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    Url,
    Description,
    EventKinds,
    CampaignId,
    FormId,
    LeadType,
    SecretEnc,
    Enabled,
    DisabledReason,
    FailingSince,
    StartPosition,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    EventId,
    LeadId,
    EventType,
    Status,
    Attempts,
    NextAttemptAt,
    WindowStartedAt,
    LeaseUntil,
    LeasedBy,
    LastStatusCode,
    LastError,
    LastLatencyMs,
    ResponseExcerpt,
    LastAttemptAt,
    CreatedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum WebhookDispatchCursor {
    Table,
    Id,
    Position,
}

#[derive(DeriveIden)]
enum LeadEvents {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(big_pk_auto(WebhookEndpoints::Id))
                    .col(string(WebhookEndpoints::Url))
                    .col(string(WebhookEndpoints::Description))
                    // Comma-separated: lead.created,lead.updated,...
                    .col(string(WebhookEndpoints::EventKinds))
                    .col(big_integer_null(WebhookEndpoints::CampaignId))
                    .col(big_integer_null(WebhookEndpoints::FormId))
                    .col(string_null(WebhookEndpoints::LeadType))
                    .col(string(WebhookEndpoints::SecretEnc))
                    .col(boolean(WebhookEndpoints::Enabled))
                    .col(string_null(WebhookEndpoints::DisabledReason))
                    .col(timestamp_with_time_zone_null(
                        WebhookEndpoints::FailingSince,
                    ))
                    .col(big_integer(WebhookEndpoints::StartPosition))
                    .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                    .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(big_pk_auto(WebhookDeliveries::Id))
                    .col(big_integer(WebhookDeliveries::EndpointId))
                    .col(big_integer(WebhookDeliveries::EventId))
                    .col(big_integer(WebhookDeliveries::LeadId))
                    .col(string(WebhookDeliveries::EventType))
                    .col(string(WebhookDeliveries::Status))
                    .col(integer(WebhookDeliveries::Attempts))
                    .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
                    .col(timestamp_with_time_zone(WebhookDeliveries::WindowStartedAt))
                    .col(timestamp_with_time_zone_null(WebhookDeliveries::LeaseUntil))
                    .col(string_null(WebhookDeliveries::LeasedBy))
                    .col(integer_null(WebhookDeliveries::LastStatusCode))
                    .col(string_null(WebhookDeliveries::LastError))
                    .col(big_integer_null(WebhookDeliveries::LastLatencyMs))
                    .col(string_null(WebhookDeliveries::ResponseExcerpt))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::LastAttemptAt,
                    ))
                    .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::DeliveredAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_endpoint_id")
                            .from(WebhookDeliveries::Table, WebhookDeliveries::EndpointId)
                            .to(WebhookEndpoints::Table, WebhookEndpoints::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_event_id")
                            .from(WebhookDeliveries::Table, WebhookDeliveries::EventId)
                            .to(LeadEvents::Table, LeadEvents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns, unique) in [
            // One delivery per endpoint and event (the fan-out inserts ON CONFLICT DO NOTHING).
            (
                "ux_webhook_deliveries_endpoint_event",
                vec![WebhookDeliveries::EndpointId, WebhookDeliveries::EventId],
                true,
            ),
            // The per-lead ordering check: earlier unfinished deliveries of an endpoint and lead.
            (
                "idx_webhook_deliveries_endpoint_lead",
                vec![
                    WebhookDeliveries::EndpointId,
                    WebhookDeliveries::LeadId,
                    WebhookDeliveries::EventId,
                ],
                false,
            ),
            // The claim: due deliveries by status and time.
            (
                "idx_webhook_deliveries_due",
                vec![WebhookDeliveries::Status, WebhookDeliveries::NextAttemptAt],
                false,
            ),
            // The cascade from lead_events.
            (
                "idx_webhook_deliveries_event",
                vec![WebhookDeliveries::EventId],
                false,
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(WebhookDeliveries::Table);
            if unique {
                index.unique();
            }
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(WebhookDispatchCursor::Table)
                    .col(integer(WebhookDispatchCursor::Id).primary_key())
                    .col(big_integer(WebhookDispatchCursor::Position))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(WebhookDispatchCursor::Table)
                    .columns([WebhookDispatchCursor::Id, WebhookDispatchCursor::Position])
                    .values_panic([1.into(), 0.into()])
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookDispatchCursor::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
