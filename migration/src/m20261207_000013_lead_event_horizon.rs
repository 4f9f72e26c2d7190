//! How far the lead event log has been purged (issue 16): one row whose `purged_through` is the
//! highest position the retention purge removed. A subscriber resuming after an older position
//! is told the log no longer holds what it missed, instead of silently skipping it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LeadEventHorizon {
    Table,
    Id,
    PurgedThrough,
    PurgedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LeadEventHorizon::Table)
                    .col(integer(LeadEventHorizon::Id).primary_key())
                    .col(big_integer(LeadEventHorizon::PurgedThrough).default(0))
                    .col(timestamp_with_time_zone_null(LeadEventHorizon::PurgedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(LeadEventHorizon::Table)
                    .columns([LeadEventHorizon::Id, LeadEventHorizon::PurgedThrough])
                    .values_panic([1.into(), 0.into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LeadEventHorizon::Table).to_owned())
            .await
    }
}
