//! Consents as records (issue 15): one row per consent a person answered, with the consent's
//! exact text in the form's language, the form version, accepted or not, when, and the LinkedIn
//! response it came from. It is the proof of consent (GDPR art. 7(1)), so it outlives the
//! submissions retention rule that removes the answers; it goes with the person (the lead's
//! erasure, deletion or inactivity purge, and LinkedIn's DELETED for its response).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConsentRecords {
    Table,
    Id,
    LeadId,
    LinkedinResponseId,
    SubmitterUrn,
    FormId,
    FormVersion,
    ConsentId,
    ConsentText,
    Accepted,
    SubmittedAt,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Leads {
    Table,
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
                    .table(ConsentRecords::Table)
                    .col(big_pk_auto(ConsentRecords::Id))
                    .col(big_integer(ConsentRecords::LeadId))
                    .col(string(ConsentRecords::LinkedinResponseId))
                    .col(string_null(ConsentRecords::SubmitterUrn))
                    .col(big_integer_null(ConsentRecords::FormId))
                    .col(big_integer_null(ConsentRecords::FormVersion))
                    .col(string(ConsentRecords::ConsentId))
                    .col(text(ConsentRecords::ConsentText))
                    .col(boolean(ConsentRecords::Accepted))
                    .col(timestamp_with_time_zone(ConsentRecords::SubmittedAt))
                    .col(timestamp_with_time_zone(ConsentRecords::RecordedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_consent_records_lead_id")
                            .from(ConsentRecords::Table, ConsentRecords::LeadId)
                            .to(Leads::Table, Leads::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_consent_records_form_id")
                            .from(ConsentRecords::Table, ConsentRecords::FormId)
                            .to(LinkedinForms::Table, LinkedinForms::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_consent_records_response_consent")
                    .table(ConsentRecords::Table)
                    .col(ConsentRecords::LinkedinResponseId)
                    .col(ConsentRecords::ConsentId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_consent_records_lead_id", ConsentRecords::LeadId),
            ("idx_consent_records_form_id", ConsentRecords::FormId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(ConsentRecords::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        // The consents already held become records too.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO consent_records (lead_id, linkedin_response_id, submitter_urn, form_id, \
                 form_version, consent_id, consent_text, accepted, submitted_at, recorded_at) \
                 SELECT s.lead_id, s.linkedin_id, s.submitter_urn, s.form_id, s.form_version, \
                 a.linkedin_question_id, a.question_text, COALESCE(a.accepted, FALSE), \
                 s.submitted_at, s.created_at \
                 FROM submission_answers a JOIN form_submissions s ON s.id = a.submission_id \
                 WHERE a.is_consent = TRUE AND s.lead_id IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConsentRecords::Table).to_owned())
            .await
    }
}
