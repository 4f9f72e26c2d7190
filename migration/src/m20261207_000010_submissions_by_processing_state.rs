//! Submissions by processing state (issue 14): the console's Form Submissions filter finds the
//! FAILED or UNPROCESSED ones, newest first; an index on (state, submitted_at) serves the filter
//! and its order without reading the SUCCEEDED majority.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FormSubmissions {
    Table,
    ProcessingState,
    SubmittedAt,
}

const INDEX: &str = "idx_form_submissions_processing_state_submitted_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(FormSubmissions::Table)
                    .col(FormSubmissions::ProcessingState)
                    .col(FormSubmissions::SubmittedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(FormSubmissions::Table)
                    .to_owned(),
            )
            .await
    }
}
