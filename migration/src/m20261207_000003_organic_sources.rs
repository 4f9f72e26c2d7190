//! Organic lead types (issue 13): leads of company pages, product pages and events belong to an
//! organization, not an ad account, and LinkedIn pulls them per organization and lead type.
//!
//! - `linkedin_accounts.lead_type` / `owner_urn`: a row is a *lead source*: an ad account
//!   (`SPONSORED`, owner `urn:li:sponsoredAccount:{id}`) or one organization's leads of one
//!   organic type (linkedin_id `{organization id}:{TYPE}`, owner `urn:li:organization:{id}`).
//!   Each keeps its own cursor, lease, webhook subscription and status.
//! - `lead_type_settings`: which lead types sync and how far back a new source backfills.
//!   Sponsored is on with LinkedIn's 365-day retention (what the connector did); the organic
//!   types are opt-in with 90 days (LinkedIn's help pages give 90 days for some of them).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LinkedinAccounts {
    Table,
    LeadType,
    OwnerUrn,
}

#[derive(DeriveIden)]
enum LeadTypeSettings {
    Table,
    LeadType,
    Enabled,
    BackfillDays,
    UpdatedAt,
}

/// (lead type, enabled, backfill days) as seeded.
const DEFAULTS: [(&str, bool, i32); 4] = [
    ("SPONSORED", true, 365),
    ("COMPANY", false, 90),
    ("ORGANIZATION_PRODUCT", false, 90),
    ("EVENT", false, 90),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(LinkedinAccounts::Table)
                    .add_column(string(LinkedinAccounts::LeadType).default("SPONSORED"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(LinkedinAccounts::Table)
                    .add_column(string_null(LinkedinAccounts::OwnerUrn))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LeadTypeSettings::Table)
                    .col(string(LeadTypeSettings::LeadType).primary_key())
                    .col(boolean(LeadTypeSettings::Enabled))
                    .col(integer(LeadTypeSettings::BackfillDays))
                    .col(timestamp_with_time_zone(LeadTypeSettings::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        let mut insert = Query::insert();
        insert.into_table(LeadTypeSettings::Table).columns([
            LeadTypeSettings::LeadType,
            LeadTypeSettings::Enabled,
            LeadTypeSettings::BackfillDays,
            LeadTypeSettings::UpdatedAt,
        ]);
        for (lead_type, enabled, days) in DEFAULTS {
            insert.values_panic([
                lead_type.into(),
                enabled.into(),
                days.into(),
                Expr::current_timestamp(),
            ]);
        }
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LeadTypeSettings::Table).to_owned())
            .await?;
        for column in [LinkedinAccounts::OwnerUrn, LinkedinAccounts::LeadType] {
            manager
                .alter_table(
                    Table::alter()
                        .table(LinkedinAccounts::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
