pub use sea_orm_migration::prelude::*;

mod m20261128_000001_initial;
mod m20261207_000001_flat_lists;
mod m20261207_000002_linkedin_today;
mod m20261207_000003_organic_sources;
mod m20261207_000004_erased_subjects;
mod m20261207_000005_audit_log;
mod m20261207_000006_retention;
mod m20261207_000007_consent_records;
mod m20261207_000008_audit_append_only;
mod m20261207_000009_answers_by_question;
mod m20261207_000010_submissions_by_processing_state;
mod m20261207_000011_lead_events;
mod m20261207_000012_outbound_webhooks;
mod m20261207_000013_lead_event_horizon;
mod m20261208_000001_campaign_and_form_members;

/// The text a lead's `search` matches (the PostgreSQL trigram index is over this expression).
pub use m20261207_000001_flat_lists::SEARCH_TEXT;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_initial::Migration),
            Box::new(m20261207_000001_flat_lists::Migration),
            Box::new(m20261207_000002_linkedin_today::Migration),
            Box::new(m20261207_000003_organic_sources::Migration),
            Box::new(m20261207_000004_erased_subjects::Migration),
            Box::new(m20261207_000005_audit_log::Migration),
            Box::new(m20261207_000006_retention::Migration),
            Box::new(m20261207_000007_consent_records::Migration),
            Box::new(m20261207_000008_audit_append_only::Migration),
            Box::new(m20261207_000009_answers_by_question::Migration),
            Box::new(m20261207_000010_submissions_by_processing_state::Migration),
            Box::new(m20261207_000011_lead_events::Migration),
            Box::new(m20261207_000012_outbound_webhooks::Migration),
            Box::new(m20261207_000013_lead_event_horizon::Migration),
            Box::new(m20261208_000001_campaign_and_form_members::Migration),
        ]
    }
}
