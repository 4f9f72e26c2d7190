//! Today's LinkedIn (issue 13): what LinkedIn's webhook validation and versioned forms leave
//! behind, kept for accountability.
//!
//! - `webhook_validations`: every validation challenge leadsync answered (LinkedIn re-validates
//!   every 2 hours and blocks a webhook after 3 failures), so a profile can show when LinkedIn
//!   last validated us.
//! - `linkedin_form_versions`: the legal text of each form version as LinkedIn served it (privacy
//!   policy URL, consent texts) and its hidden fields, so a submission shows what its submitter
//!   was shown even after the form changed.
//! - An index on `webhook_notifications.response_id`: which synced leads a notification announced.
//! - `form_submissions (lead_type, submitted_at, id)`: the submissions list filtered by lead type
//!   (organic types are a small share) reads its page from the index.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookValidations {
    Table,
    Id,
    ValidatedAt,
}

#[derive(DeriveIden)]
enum LinkedinFormVersions {
    Table,
    Id,
    FormId,
    VersionId,
    PrivacyPolicyUrl,
    Consents,
    HiddenFields,
    FirstSeenAt,
}

#[derive(DeriveIden)]
enum WebhookNotifications {
    Table,
    ResponseId,
}

#[derive(DeriveIden)]
enum FormSubmissions {
    Table,
    LeadType,
    SubmittedAt,
    Id,
}

#[derive(DeriveIden)]
enum LinkedinForms {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookValidations::Table)
                    .col(big_pk_auto(WebhookValidations::Id))
                    .col(timestamp_with_time_zone(WebhookValidations::ValidatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_validations_validated_at")
                    .table(WebhookValidations::Table)
                    .col(WebhookValidations::ValidatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LinkedinFormVersions::Table)
                    .col(big_pk_auto(LinkedinFormVersions::Id))
                    .col(big_integer(LinkedinFormVersions::FormId))
                    .col(big_integer(LinkedinFormVersions::VersionId))
                    .col(string_null(LinkedinFormVersions::PrivacyPolicyUrl))
                    .col(json_binary_null(LinkedinFormVersions::Consents))
                    .col(json_binary_null(LinkedinFormVersions::HiddenFields))
                    .col(timestamp_with_time_zone(LinkedinFormVersions::FirstSeenAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_linkedin_form_versions_form_id")
                            .from(LinkedinFormVersions::Table, LinkedinFormVersions::FormId)
                            .to(LinkedinForms::Table, LinkedinForms::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_linkedin_form_versions_form_version")
                    .table(LinkedinFormVersions::Table)
                    .col(LinkedinFormVersions::FormId)
                    .col(LinkedinFormVersions::VersionId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_notifications_response_id")
                    .table(WebhookNotifications::Table)
                    .col(WebhookNotifications::ResponseId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_form_submissions_lead_type_submitted_at_id")
                    .table(FormSubmissions::Table)
                    .col(FormSubmissions::LeadType)
                    .col(FormSubmissions::SubmittedAt)
                    .col(FormSubmissions::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_form_submissions_lead_type_submitted_at_id")
                    .table(FormSubmissions::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_webhook_notifications_response_id")
                    .table(WebhookNotifications::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(LinkedinFormVersions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(WebhookValidations::Table).to_owned())
            .await
    }
}
