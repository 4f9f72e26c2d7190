//! Privacy (issue 15): who was erased, without who they were. An erasure leaves, besides the
//! response tombstones, one row per erased email: a keyed hash of the normalized address (HMAC
//! with a key derived from `LEADSYNC_SECRET_KEY`) and when. An export for that address can then
//! say the person was erased, and when, holding no personal data itself.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ErasedSubjects {
    Table,
    Id,
    SubjectHash,
    ErasedAt,
    ErasedByUserId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ErasedSubjects::Table)
                    .col(big_pk_auto(ErasedSubjects::Id))
                    .col(string(ErasedSubjects::SubjectHash))
                    .col(timestamp_with_time_zone(ErasedSubjects::ErasedAt))
                    .col(big_integer_null(ErasedSubjects::ErasedByUserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_erased_subjects_subject_hash")
                    .table(ErasedSubjects::Table)
                    .col(ErasedSubjects::SubjectHash)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ErasedSubjects::Table).to_owned())
            .await
    }
}
