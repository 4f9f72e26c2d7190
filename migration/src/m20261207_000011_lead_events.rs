//! The lead event log (issue 16): every lead created, updated, deleted or erased and every
//! submission received, appended in the same transaction as the change, numbered in commit order
//! (`id` is the event's position). Subscriptions replay from it after a reconnect and outbound
//! webhooks deliver from it, so a crash between commit and send loses nothing.
//!
//! Rows hold ids and kinds only, no personal data: what a consumer is sent is read from the
//! lead store when it is sent. An erasure removes the person's earlier events (and with them any
//! delivery still queued for them) and leaves one LEAD_ERASED event.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LeadEvents {
    Table,
    Id,
    Kind,
    LeadId,
    SubmissionId,
    Outcome,
    CampaignId,
    FormId,
    LeadType,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LeadEvents::Table)
                    .col(big_pk_auto(LeadEvents::Id))
                    .col(string(LeadEvents::Kind))
                    .col(big_integer(LeadEvents::LeadId))
                    .col(big_integer_null(LeadEvents::SubmissionId))
                    .col(string_null(LeadEvents::Outcome))
                    .col(big_integer_null(LeadEvents::CampaignId))
                    .col(big_integer_null(LeadEvents::FormId))
                    .col(string_null(LeadEvents::LeadType))
                    .col(timestamp_with_time_zone(LeadEvents::CreatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_lead_events_lead",
                vec![LeadEvents::LeadId, LeadEvents::Id],
            ),
            ("idx_lead_events_created_at", vec![LeadEvents::CreatedAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(LeadEvents::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LeadEvents::Table).to_owned())
            .await
    }
}
