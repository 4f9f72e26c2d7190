//! Retention (issue 15): three rules on the integration configuration, each off (NULL) until an
//! administrator sets it: keep submissions N days, leads without activity M days, and finished
//! sync runs and handled webhook notifications K days. See `src/service/retention.rs`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IntegrationConfiguration {
    Table,
    RetentionSubmissionsDays,
    RetentionInactiveLeadsDays,
    RetentionOperationalRecordsDays,
}

const COLUMNS: [IntegrationConfiguration; 3] = [
    IntegrationConfiguration::RetentionSubmissionsDays,
    IntegrationConfiguration::RetentionInactiveLeadsDays,
    IntegrationConfiguration::RetentionOperationalRecordsDays,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for column in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(IntegrationConfiguration::Table)
                        .add_column(integer_null(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(IntegrationConfiguration::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
