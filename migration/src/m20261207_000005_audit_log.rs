//! The audit trail (issue 15): one row per write through the API or the CLI, and per sync run
//! and webhook notification, appended and never changed. Who (API user, or the S2S identity of
//! the sync worker and webhooks), when, what (operation, object) and details that hold no
//! personal data: for a lead's fields, which ones changed, not their values.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    ActorUserId,
    Actor,
    Operation,
    ObjectType,
    ObjectId,
    Details,
    Context,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(big_integer_null(AuditLog::ActorUserId))
                    .col(string(AuditLog::Actor))
                    .col(string(AuditLog::Operation))
                    .col(string(AuditLog::ObjectType))
                    .col(string_null(AuditLog::ObjectId))
                    .col(json_binary_null(AuditLog::Details))
                    .col(string_null(AuditLog::Context))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_audit_log_object",
                vec![AuditLog::ObjectType, AuditLog::ObjectId, AuditLog::Id],
            ),
            (
                "idx_audit_log_actor_user_id",
                vec![AuditLog::ActorUserId, AuditLog::Id],
            ),
            (
                "idx_audit_log_operation",
                vec![AuditLog::Operation, AuditLog::Id],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(AuditLog::Table);
            for c in columns {
                index.col(c);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await
    }
}
