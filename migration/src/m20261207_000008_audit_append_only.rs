//! The audit trail is append-only in the database too: UPDATE and DELETE on `audit_log` are
//! refused by a trigger, so not even a bug (or a hand with SQL through the application's
//! connection) rewrites history. Dropping the trigger takes a migration, which is itself visible.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &str = "
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
";

const POSTGRES_UP: &str = "
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit entries are append-only'; END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            sea_orm::DbBackend::Postgres => POSTGRES_UP,
            _ => SQLITE_UP,
        };
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                "DROP TRIGGER audit_log_append_only ON audit_log; DROP FUNCTION audit_log_append_only();"
            }
            _ => "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
        };
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }
}
