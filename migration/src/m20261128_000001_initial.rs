//! Initial schema for leadsync (see `docs/data-model.md`).
//!
//! Written with the portable sea-query builders so that the same migration runs on
//! SQLite and PostgreSQL. Foreign keys are declared inside `CREATE TABLE` (SQLite cannot
//! add them later), so tables are created in dependency order and dropped in reverse.

use sea_orm_migration::sea_orm::prelude::DateTimeUtc;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Name of the partial unique index that allows at most one active matching strategy.
const UX_SINGLE_ACTIVE_STRATEGY: &str = "ux_matching_strategies_single_active";

/// Default LinkedIn `predefinedField` -> lead field mappings seeded into `field_mappings`.
const DEFAULT_FIELD_MAPPINGS: [(&str, &str); 22] = [
    ("FIRST_NAME", "firstName"),
    ("LAST_NAME", "lastName"),
    ("EMAIL", "email"),
    ("WORK_EMAIL", "workEmail"),
    ("PHONE_NUMBER", "phone"),
    ("WORK_PHONE_NUMBER", "workPhone"),
    ("COMPANY_NAME", "company"),
    ("JOB_TITLE", "jobTitle"),
    ("JOB_FUNCTION", "jobFunction"),
    ("SENIORITY", "seniority"),
    ("INDUSTRY", "industry"),
    ("COMPANY_SIZE", "companySize"),
    ("COUNTRY", "country"),
    ("STATE", "state"),
    ("CITY", "city"),
    ("ZIP_CODE", "zipCode"),
    ("DEGREE", "custom.degree"),
    ("FIELD_OF_STUDY", "custom.fieldOfStudy"),
    ("SCHOOL", "custom.school"),
    ("START_DATE", "custom.startDate"),
    ("GRADUATION_DATE", "custom.graduationDate"),
    ("LINKEDIN_PROFILE_LINK", "custom.linkedInProfileUrl"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// Run the whole migration in one transaction on every backend (SQLite supports
    /// transactional DDL too), so a failure never leaves a half-created schema behind.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_tables(manager).await?;
        create_indexes(manager).await?;
        seed(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(UX_SINGLE_ACTIVE_STRATEGY)
                    .table(MatchingStrategies::Table)
                    .to_owned(),
            )
            .await?;
        // Reverse creation order; each table's indexes and constraints go with it.
        let tables: [DynIden; 21] = [
            ErasedResponses::Table.into_iden(),
            WebhookNotifications::Table.into_iden(),
            OauthStates::Table.into_iden(),
            SyncRuns::Table.into_iden(),
            IntegrationConfiguration::Table.into_iden(),
            MatchingStrategyFields::Table.into_iden(),
            MatchingStrategies::Table.into_iden(),
            FieldMappings::Table.into_iden(),
            SubmissionAnswers::Table.into_iden(),
            FormSubmissions::Table.into_iden(),
            Leads::Table.into_iden(),
            CustomerJourneys::Table.into_iden(),
            LinkedinFormQuestions::Table.into_iden(),
            LinkedinForms::Table.into_iden(),
            LinkedinCampaigns::Table.into_iden(),
            LinkedinProfileAccounts::Table.into_iden(),
            LinkedinAccounts::Table.into_iden(),
            LinkedinProfiles::Table.into_iden(),
            ApiTokens::Table.into_iden(),
            ApiUserRoles::Table.into_iden(),
            ApiUsers::Table.into_iden(),
        ];
        for table in tables {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// `FOREIGN KEY (from_col) REFERENCES to_table (id) ON DELETE on_delete`, named `fk_<table>_<column>`.
fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    let from_table = from_table.into_iden();
    let from_col = from_col.into_iden();
    ForeignKey::create()
        .name(format!("fk_{from_table}_{from_col}"))
        .from(from_table, from_col)
        .to(to_table, Alias::new("id"))
        .on_delete(on_delete)
        .to_owned()
}

/// Table-level `CONSTRAINT ux_<table>_<cols> UNIQUE (cols)`.
fn unique<C: IntoIden>(
    table: impl IntoIden,
    cols: impl IntoIterator<Item = C>,
) -> IndexCreateStatement {
    index_stmt(None, "ux", table, cols).unique().to_owned()
}

/// Table-level `CONSTRAINT <name> UNIQUE (cols)`, for when the generated name would exceed
/// PostgreSQL's 63-byte identifier limit.
fn unique_named<C: IntoIden>(
    name: &str,
    table: impl IntoIden,
    cols: impl IntoIterator<Item = C>,
) -> IndexCreateStatement {
    index_stmt(Some(name), "ux", table, cols)
        .unique()
        .to_owned()
}

/// `CREATE INDEX idx_<table>_<cols> ON table (cols)`.
async fn index<C: IntoIden>(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    cols: impl IntoIterator<Item = C>,
) -> Result<(), DbErr> {
    manager
        .create_index(index_stmt(None, "idx", table, cols))
        .await
}

/// An index over `cols` of `table`, named `name` or else `<prefix>_<table>_<cols...>`.
fn index_stmt<C: IntoIden>(
    name: Option<&str>,
    prefix: &str,
    table: impl IntoIden,
    cols: impl IntoIterator<Item = C>,
) -> IndexCreateStatement {
    let table = table.into_iden();
    let cols: Vec<DynIden> = cols.into_iter().map(IntoIden::into_iden).collect();
    let name = match name {
        Some(name) => name.to_owned(),
        None => {
            let mut name = format!("{prefix}_{table}");
            for col in &cols {
                name.push('_');
                name.push_str(&col.to_string());
            }
            name
        }
    };
    debug_assert!(
        name.len() <= 63,
        "identifier too long for PostgreSQL: {name}"
    );
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(col);
    }
    stmt
}

async fn create_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use ForeignKeyAction::{Cascade, Restrict, SetNull};

    manager
        .create_table(
            Table::create()
                .table(ApiUsers::Table)
                .col(big_pk_auto(ApiUsers::Id))
                .col(string(ApiUsers::Name))
                .col(timestamp_with_time_zone(ApiUsers::CreatedAt))
                .col(timestamp_with_time_zone_null(ApiUsers::DisabledAt))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(ApiUserRoles::Table)
                .col(big_integer(ApiUserRoles::UserId))
                .col(string(ApiUserRoles::Role))
                .col(timestamp_with_time_zone(ApiUserRoles::CreatedAt))
                .primary_key(
                    Index::create()
                        .name("pk_api_user_roles")
                        .col(ApiUserRoles::UserId)
                        .col(ApiUserRoles::Role),
                )
                .foreign_key(&mut fk(
                    ApiUserRoles::Table,
                    ApiUserRoles::UserId,
                    ApiUsers::Table,
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(ApiTokens::Table)
                .col(big_pk_auto(ApiTokens::Id))
                .col(big_integer(ApiTokens::UserId))
                .col(string(ApiTokens::TokenHash))
                .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                .index(&mut unique(ApiTokens::Table, [ApiTokens::TokenHash]))
                .foreign_key(&mut fk(
                    ApiTokens::Table,
                    ApiTokens::UserId,
                    ApiUsers::Table,
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(LinkedinProfiles::Table)
                .col(big_pk_auto(LinkedinProfiles::Id))
                .col(string(LinkedinProfiles::Name))
                .col(big_integer_null(LinkedinProfiles::OwnerUserId))
                .col(string(LinkedinProfiles::AuthorizationStatus).default("NOT_AUTHORIZED"))
                .col(string_null(LinkedinProfiles::LinkedinMemberUrn))
                .col(string_null(LinkedinProfiles::LinkedinMemberName))
                .col(string_null(LinkedinProfiles::AccessTokenEnc))
                .col(string_null(LinkedinProfiles::RefreshTokenEnc))
                .col(timestamp_with_time_zone_null(
                    LinkedinProfiles::TokenExpiresAt,
                ))
                .col(timestamp_with_time_zone_null(
                    LinkedinProfiles::RefreshTokenExpiresAt,
                ))
                .col(string_null(LinkedinProfiles::Scopes))
                .col(timestamp_with_time_zone_null(LinkedinProfiles::LastSyncAt))
                .col(string(LinkedinProfiles::SyncStatus).default("NOT_SYNCING"))
                .col(string_null(LinkedinProfiles::StatusDetails))
                .col(timestamp_with_time_zone(LinkedinProfiles::CreatedAt))
                .col(timestamp_with_time_zone(LinkedinProfiles::UpdatedAt))
                .foreign_key(&mut fk(
                    LinkedinProfiles::Table,
                    LinkedinProfiles::OwnerUserId,
                    ApiUsers::Table,
                    SetNull,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(LinkedinAccounts::Table)
                .col(big_pk_auto(LinkedinAccounts::Id))
                .col(string(LinkedinAccounts::LinkedinId))
                .col(string(LinkedinAccounts::Name))
                .col(string_null(LinkedinAccounts::Currency))
                .col(string_null(LinkedinAccounts::Status))
                .col(boolean(LinkedinAccounts::IsTest))
                .col(string_null(LinkedinAccounts::ReferenceUrn))
                .col(boolean(LinkedinAccounts::EnabledForSync).default(true))
                .col(string(LinkedinAccounts::SyncStatus).default("PENDING"))
                .col(string_null(LinkedinAccounts::StatusDetails))
                .col(timestamp_with_time_zone_null(LinkedinAccounts::LastSyncAt))
                .col(big_integer_null(LinkedinAccounts::SyncCursorMs))
                .col(string_null(LinkedinAccounts::WebhookSubscriptionId))
                .col(string_null(LinkedinAccounts::LeaseOwner))
                .col(timestamp_with_time_zone_null(
                    LinkedinAccounts::LeaseExpiresAt,
                ))
                .col(timestamp_with_time_zone(LinkedinAccounts::CreatedAt))
                .col(timestamp_with_time_zone(LinkedinAccounts::UpdatedAt))
                .index(&mut unique(
                    LinkedinAccounts::Table,
                    [LinkedinAccounts::LinkedinId],
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(LinkedinProfileAccounts::Table)
                .col(big_integer(LinkedinProfileAccounts::ProfileId))
                .col(big_integer(LinkedinProfileAccounts::AccountId))
                .col(string_null(LinkedinProfileAccounts::Role))
                .col(timestamp_with_time_zone(LinkedinProfileAccounts::CreatedAt))
                .primary_key(
                    Index::create()
                        .name("pk_linkedin_profile_accounts")
                        .col(LinkedinProfileAccounts::ProfileId)
                        .col(LinkedinProfileAccounts::AccountId),
                )
                .foreign_key(&mut fk(
                    LinkedinProfileAccounts::Table,
                    LinkedinProfileAccounts::ProfileId,
                    LinkedinProfiles::Table,
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    LinkedinProfileAccounts::Table,
                    LinkedinProfileAccounts::AccountId,
                    LinkedinAccounts::Table,
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(LinkedinCampaigns::Table)
                .col(big_pk_auto(LinkedinCampaigns::Id))
                .col(string(LinkedinCampaigns::LinkedinId))
                .col(big_integer_null(LinkedinCampaigns::AccountId))
                .col(string(LinkedinCampaigns::Name))
                .col(string_null(LinkedinCampaigns::CampaignType))
                .col(string_null(LinkedinCampaigns::Status))
                .col(timestamp_with_time_zone_null(LinkedinCampaigns::StartAt))
                .col(timestamp_with_time_zone_null(LinkedinCampaigns::EndAt))
                .col(timestamp_with_time_zone(LinkedinCampaigns::CreatedAt))
                .col(timestamp_with_time_zone(LinkedinCampaigns::UpdatedAt))
                .index(&mut unique(
                    LinkedinCampaigns::Table,
                    [LinkedinCampaigns::LinkedinId],
                ))
                .foreign_key(&mut fk(
                    LinkedinCampaigns::Table,
                    LinkedinCampaigns::AccountId,
                    LinkedinAccounts::Table,
                    SetNull,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(LinkedinForms::Table)
                .col(big_pk_auto(LinkedinForms::Id))
                .col(string(LinkedinForms::LinkedinId))
                .col(big_integer_null(LinkedinForms::AccountId))
                .col(string(LinkedinForms::Name))
                .col(string_null(LinkedinForms::Headline))
                .col(string_null(LinkedinForms::Description))
                .col(string_null(LinkedinForms::LandingPageUrl))
                .col(string_null(LinkedinForms::PrivacyPolicyUrl))
                .col(string_null(LinkedinForms::ThankYouMessage))
                .col(string_null(LinkedinForms::Locale))
                .col(big_integer_null(LinkedinForms::VersionId))
                .col(string_null(LinkedinForms::Status))
                .col(json_binary_null(LinkedinForms::HiddenFields))
                .col(timestamp_with_time_zone(LinkedinForms::CreatedAt))
                .col(timestamp_with_time_zone(LinkedinForms::UpdatedAt))
                .index(&mut unique(
                    LinkedinForms::Table,
                    [LinkedinForms::LinkedinId],
                ))
                .foreign_key(&mut fk(
                    LinkedinForms::Table,
                    LinkedinForms::AccountId,
                    LinkedinAccounts::Table,
                    SetNull,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(LinkedinFormQuestions::Table)
                .col(big_pk_auto(LinkedinFormQuestions::Id))
                .col(big_integer(LinkedinFormQuestions::FormId))
                .col(string(LinkedinFormQuestions::LinkedinQuestionId))
                .col(string_null(LinkedinFormQuestions::Name))
                .col(string(LinkedinFormQuestions::Text))
                .col(string(LinkedinFormQuestions::Kind))
                .col(boolean(LinkedinFormQuestions::IsCustom))
                .col(boolean(LinkedinFormQuestions::IsConsent))
                .col(string_null(LinkedinFormQuestions::PredefinedField))
                .col(json_binary_null(LinkedinFormQuestions::Options))
                .col(integer(LinkedinFormQuestions::Position))
                .col(timestamp_with_time_zone(LinkedinFormQuestions::CreatedAt))
                .index(&mut unique_named(
                    "ux_linkedin_form_questions_form_consent_question",
                    LinkedinFormQuestions::Table,
                    [
                        LinkedinFormQuestions::FormId,
                        LinkedinFormQuestions::IsConsent,
                        LinkedinFormQuestions::LinkedinQuestionId,
                    ],
                ))
                .foreign_key(&mut fk(
                    LinkedinFormQuestions::Table,
                    LinkedinFormQuestions::FormId,
                    LinkedinForms::Table,
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(CustomerJourneys::Table)
                .col(big_pk_auto(CustomerJourneys::Id))
                .col(big_integer(CustomerJourneys::CampaignId))
                .col(string(CustomerJourneys::Name))
                .col(string(CustomerJourneys::Status).default("DRAFT"))
                .col(timestamp_with_time_zone(CustomerJourneys::CreatedAt))
                .col(timestamp_with_time_zone(CustomerJourneys::UpdatedAt))
                .index(&mut unique(
                    CustomerJourneys::Table,
                    [CustomerJourneys::CampaignId],
                ))
                .foreign_key(&mut fk(
                    CustomerJourneys::Table,
                    CustomerJourneys::CampaignId,
                    LinkedinCampaigns::Table,
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(Leads::Table)
                .col(big_pk_auto(Leads::Id))
                .col(string_null(Leads::FirstName))
                .col(string_null(Leads::LastName))
                .col(string_null(Leads::Email))
                .col(string_null(Leads::EmailNormalized))
                .col(string_null(Leads::WorkEmail))
                .col(string_null(Leads::WorkEmailNormalized))
                .col(string_null(Leads::Phone))
                .col(string_null(Leads::PhoneNormalized))
                .col(string_null(Leads::WorkPhone))
                .col(string_null(Leads::Company))
                .col(string_null(Leads::JobTitle))
                .col(string_null(Leads::JobFunction))
                .col(string_null(Leads::Seniority))
                .col(string_null(Leads::Industry))
                .col(string_null(Leads::CompanySize))
                .col(string_null(Leads::Country))
                .col(string_null(Leads::State))
                .col(string_null(Leads::City))
                .col(string_null(Leads::ZipCode))
                .col(json_binary(Leads::CustomFields))
                .col(string(Leads::Source))
                .col(big_integer_null(Leads::SourceCampaignId))
                .col(big_integer_null(Leads::SourceFormId))
                .col(timestamp_with_time_zone_null(Leads::LatestSubmissionAt))
                .col(integer(Leads::SubmissionCount).default(0))
                .col(timestamp_with_time_zone(Leads::CreatedAt))
                .col(timestamp_with_time_zone(Leads::UpdatedAt))
                .foreign_key(&mut fk(
                    Leads::Table,
                    Leads::SourceCampaignId,
                    LinkedinCampaigns::Table,
                    SetNull,
                ))
                .foreign_key(&mut fk(
                    Leads::Table,
                    Leads::SourceFormId,
                    LinkedinForms::Table,
                    SetNull,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(FormSubmissions::Table)
                .col(big_pk_auto(FormSubmissions::Id))
                .col(string(FormSubmissions::LinkedinId))
                .col(timestamp_with_time_zone(FormSubmissions::SubmittedAt))
                .col(string(FormSubmissions::LeadType))
                .col(boolean(FormSubmissions::TestLead))
                .col(string_null(FormSubmissions::SubmitterUrn))
                .col(big_integer_null(FormSubmissions::AccountId))
                .col(big_integer_null(FormSubmissions::CampaignId))
                .col(string_null(FormSubmissions::CreativeUrn))
                .col(big_integer_null(FormSubmissions::FormId))
                .col(big_integer_null(FormSubmissions::FormVersion))
                .col(big_integer_null(FormSubmissions::ProfileId))
                .col(big_integer_null(FormSubmissions::LeadId))
                .col(big_integer_null(FormSubmissions::CustomerJourneyId))
                .col(string(FormSubmissions::MatchingStatus).default("PENDING"))
                .col(string(FormSubmissions::ProcessingState).default("UNPROCESSED"))
                .col(string_null(FormSubmissions::MatchExplanation))
                .col(string_null(FormSubmissions::Error))
                .col(json_binary_null(FormSubmissions::HiddenFields))
                .col(json_binary_null(FormSubmissions::Raw))
                .col(timestamp_with_time_zone(FormSubmissions::CreatedAt))
                .col(timestamp_with_time_zone(FormSubmissions::UpdatedAt))
                .index(&mut unique(
                    FormSubmissions::Table,
                    [FormSubmissions::LinkedinId],
                ))
                .foreign_key(&mut fk(
                    FormSubmissions::Table,
                    FormSubmissions::AccountId,
                    LinkedinAccounts::Table,
                    SetNull,
                ))
                .foreign_key(&mut fk(
                    FormSubmissions::Table,
                    FormSubmissions::CampaignId,
                    LinkedinCampaigns::Table,
                    SetNull,
                ))
                .foreign_key(&mut fk(
                    FormSubmissions::Table,
                    FormSubmissions::FormId,
                    LinkedinForms::Table,
                    SetNull,
                ))
                .foreign_key(&mut fk(
                    FormSubmissions::Table,
                    FormSubmissions::ProfileId,
                    LinkedinProfiles::Table,
                    SetNull,
                ))
                .foreign_key(&mut fk(
                    FormSubmissions::Table,
                    FormSubmissions::LeadId,
                    Leads::Table,
                    SetNull,
                ))
                .foreign_key(&mut fk(
                    FormSubmissions::Table,
                    FormSubmissions::CustomerJourneyId,
                    CustomerJourneys::Table,
                    SetNull,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(SubmissionAnswers::Table)
                .col(big_pk_auto(SubmissionAnswers::Id))
                .col(big_integer(SubmissionAnswers::SubmissionId))
                .col(big_integer_null(SubmissionAnswers::QuestionId))
                .col(string(SubmissionAnswers::LinkedinQuestionId))
                .col(string(SubmissionAnswers::QuestionText))
                .col(string_null(SubmissionAnswers::PredefinedField))
                .col(string(SubmissionAnswers::Value))
                .col(boolean(SubmissionAnswers::IsConsent))
                .col(boolean_null(SubmissionAnswers::Accepted))
                .col(integer(SubmissionAnswers::Position))
                .foreign_key(&mut fk(
                    SubmissionAnswers::Table,
                    SubmissionAnswers::SubmissionId,
                    FormSubmissions::Table,
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    SubmissionAnswers::Table,
                    SubmissionAnswers::QuestionId,
                    LinkedinFormQuestions::Table,
                    SetNull,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(FieldMappings::Table)
                .col(big_pk_auto(FieldMappings::Id))
                .col(string(FieldMappings::LinkedinField))
                .col(string(FieldMappings::LeadField))
                .col(boolean(FieldMappings::IsDefault))
                .col(timestamp_with_time_zone(FieldMappings::CreatedAt))
                .col(timestamp_with_time_zone(FieldMappings::UpdatedAt))
                .index(&mut unique(
                    FieldMappings::Table,
                    [FieldMappings::LinkedinField],
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(MatchingStrategies::Table)
                .col(big_pk_auto(MatchingStrategies::Id))
                .col(string(MatchingStrategies::Name))
                .col(boolean(MatchingStrategies::IsActive))
                .col(boolean(MatchingStrategies::AlwaysCreateLead))
                .col(timestamp_with_time_zone(MatchingStrategies::CreatedAt))
                .col(timestamp_with_time_zone(MatchingStrategies::UpdatedAt))
                .index(&mut unique(
                    MatchingStrategies::Table,
                    [MatchingStrategies::Name],
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(MatchingStrategyFields::Table)
                .col(big_pk_auto(MatchingStrategyFields::Id))
                .col(big_integer(MatchingStrategyFields::StrategyId))
                .col(big_integer(MatchingStrategyFields::FieldMappingId))
                .col(timestamp_with_time_zone(MatchingStrategyFields::CreatedAt))
                .index(&mut unique(
                    MatchingStrategyFields::Table,
                    [
                        MatchingStrategyFields::StrategyId,
                        MatchingStrategyFields::FieldMappingId,
                    ],
                ))
                .foreign_key(&mut fk(
                    MatchingStrategyFields::Table,
                    MatchingStrategyFields::StrategyId,
                    MatchingStrategies::Table,
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    MatchingStrategyFields::Table,
                    MatchingStrategyFields::FieldMappingId,
                    FieldMappings::Table,
                    Restrict,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(IntegrationConfiguration::Table)
                .col(big_integer(IntegrationConfiguration::Id).primary_key())
                .col(boolean(
                    IntegrationConfiguration::CreateJourneysForCampaigns,
                ))
                .col(string(IntegrationConfiguration::OnMatchFail))
                .col(integer(IntegrationConfiguration::SyncIntervalSeconds))
                .col(boolean(IntegrationConfiguration::CreateLeadsFromTestLeads))
                .col(timestamp_with_time_zone(
                    IntegrationConfiguration::UpdatedAt,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(SyncRuns::Table)
                .col(big_pk_auto(SyncRuns::Id))
                .col(big_integer_null(SyncRuns::ProfileId))
                .col(string(SyncRuns::Trigger))
                .col(string(SyncRuns::Status))
                .col(timestamp_with_time_zone_null(SyncRuns::StartedAt))
                .col(timestamp_with_time_zone_null(SyncRuns::FinishedAt))
                .col(integer(SyncRuns::SubmissionsFetched))
                .col(integer(SyncRuns::SubmissionsCreated))
                .col(integer(SyncRuns::DuplicatesSkipped))
                .col(integer(SyncRuns::LeadsCreated))
                .col(integer(SyncRuns::LeadsUpdated))
                .col(integer(SyncRuns::Failed))
                .col(string_null(SyncRuns::Error))
                .col(timestamp_with_time_zone(SyncRuns::CreatedAt))
                .col(timestamp_with_time_zone(SyncRuns::UpdatedAt))
                .foreign_key(&mut fk(
                    SyncRuns::Table,
                    SyncRuns::ProfileId,
                    LinkedinProfiles::Table,
                    Cascade,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(OauthStates::Table)
                .col(big_pk_auto(OauthStates::Id))
                .col(string(OauthStates::State))
                .col(big_integer(OauthStates::ProfileId))
                .col(string(OauthStates::PkceVerifier))
                .col(big_integer_null(OauthStates::CreatedByUserId))
                .col(timestamp_with_time_zone(OauthStates::ExpiresAt))
                .col(timestamp_with_time_zone_null(OauthStates::UsedAt))
                .col(timestamp_with_time_zone(OauthStates::CreatedAt))
                .index(&mut unique(OauthStates::Table, [OauthStates::State]))
                .foreign_key(&mut fk(
                    OauthStates::Table,
                    OauthStates::ProfileId,
                    LinkedinProfiles::Table,
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    OauthStates::Table,
                    OauthStates::CreatedByUserId,
                    ApiUsers::Table,
                    SetNull,
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(WebhookNotifications::Table)
                .col(big_pk_auto(WebhookNotifications::Id))
                .col(string(WebhookNotifications::NotificationId))
                .col(string_null(WebhookNotifications::Action))
                .col(string_null(WebhookNotifications::ResponseId))
                .col(timestamp_with_time_zone(WebhookNotifications::ReceivedAt))
                .col(timestamp_with_time_zone_null(
                    WebhookNotifications::ProcessedAt,
                ))
                .index(&mut unique(
                    WebhookNotifications::Table,
                    [WebhookNotifications::NotificationId],
                ))
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(ErasedResponses::Table)
                .col(big_pk_auto(ErasedResponses::Id))
                .col(string(ErasedResponses::LinkedinResponseId))
                .col(timestamp_with_time_zone(ErasedResponses::ErasedAt))
                .col(big_integer_null(ErasedResponses::ErasedByUserId))
                .index(&mut unique(
                    ErasedResponses::Table,
                    [ErasedResponses::LinkedinResponseId],
                ))
                .foreign_key(&mut fk(
                    ErasedResponses::Table,
                    ErasedResponses::ErasedByUserId,
                    ApiUsers::Table,
                    SetNull,
                ))
                .to_owned(),
        )
        .await?;

    Ok(())
}

async fn create_indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    index(manager, ApiTokens::Table, [ApiTokens::UserId]).await?;

    index(manager, Leads::Table, [Leads::EmailNormalized]).await?;
    index(manager, Leads::Table, [Leads::WorkEmailNormalized]).await?;
    index(manager, Leads::Table, [Leads::PhoneNormalized]).await?;
    index(manager, Leads::Table, [Leads::CreatedAt]).await?;
    index(manager, Leads::Table, [Leads::UpdatedAt]).await?;
    index(manager, Leads::Table, [Leads::LatestSubmissionAt]).await?;
    index(manager, Leads::Table, [Leads::Source, Leads::CreatedAt]).await?;
    index(manager, Leads::Table, [Leads::SourceCampaignId]).await?;
    index(manager, Leads::Table, [Leads::SourceFormId]).await?;

    index(
        manager,
        LinkedinProfileAccounts::Table,
        [LinkedinProfileAccounts::AccountId],
    )
    .await?;
    index(
        manager,
        LinkedinCampaigns::Table,
        [LinkedinCampaigns::AccountId],
    )
    .await?;
    index(manager, LinkedinForms::Table, [LinkedinForms::AccountId]).await?;

    for col in [
        FormSubmissions::LeadId,
        FormSubmissions::CampaignId,
        FormSubmissions::FormId,
        FormSubmissions::AccountId,
    ] {
        index(
            manager,
            FormSubmissions::Table,
            [col, FormSubmissions::SubmittedAt],
        )
        .await?;
    }
    index(
        manager,
        FormSubmissions::Table,
        [FormSubmissions::SubmittedAt],
    )
    .await?;
    index(
        manager,
        FormSubmissions::Table,
        [
            FormSubmissions::MatchingStatus,
            FormSubmissions::SubmittedAt,
        ],
    )
    .await?;

    index(
        manager,
        SubmissionAnswers::Table,
        [SubmissionAnswers::SubmissionId, SubmissionAnswers::Position],
    )
    .await?;

    index(
        manager,
        MatchingStrategyFields::Table,
        [MatchingStrategyFields::FieldMappingId],
    )
    .await?;
    // Partial unique index: at most one row with is_active = true. The bare boolean
    // predicate `WHERE is_active` is valid on both PostgreSQL and SQLite (0/1 integers).
    manager
        .create_index(
            Index::create()
                .name(UX_SINGLE_ACTIVE_STRATEGY)
                .table(MatchingStrategies::Table)
                .col(MatchingStrategies::IsActive)
                .unique()
                .and_where(Expr::col(MatchingStrategies::IsActive))
                .to_owned(),
        )
        .await?;

    index(
        manager,
        SyncRuns::Table,
        [SyncRuns::ProfileId, SyncRuns::CreatedAt],
    )
    .await?;
    index(
        manager,
        SyncRuns::Table,
        [SyncRuns::Status, SyncRuns::CreatedAt],
    )
    .await?;

    Ok(())
}

async fn seed(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let now: DateTimeUtc = sea_orm_migration::sea_orm::prelude::ChronoUtc::now();

    manager
        .exec_stmt(
            Query::insert()
                .into_table(IntegrationConfiguration::Table)
                .columns([
                    IntegrationConfiguration::Id,
                    IntegrationConfiguration::CreateJourneysForCampaigns,
                    IntegrationConfiguration::OnMatchFail,
                    IntegrationConfiguration::SyncIntervalSeconds,
                    IntegrationConfiguration::CreateLeadsFromTestLeads,
                    IntegrationConfiguration::UpdatedAt,
                ])
                .values_panic([
                    1i64.into(),
                    true.into(),
                    "CREATE_NEW_LEAD".into(),
                    900i32.into(),
                    false.into(),
                    now.into(),
                ])
                .to_owned(),
        )
        .await?;

    let mut mappings = Query::insert();
    mappings.into_table(FieldMappings::Table).columns([
        FieldMappings::LinkedinField,
        FieldMappings::LeadField,
        FieldMappings::IsDefault,
        FieldMappings::CreatedAt,
        FieldMappings::UpdatedAt,
    ]);
    for (linkedin_field, lead_field) in DEFAULT_FIELD_MAPPINGS {
        mappings.values_panic([
            linkedin_field.into(),
            lead_field.into(),
            true.into(),
            now.into(),
            now.into(),
        ]);
    }
    manager.exec_stmt(mappings).await?;

    manager
        .exec_stmt(
            Query::insert()
                .into_table(MatchingStrategies::Table)
                .columns([
                    MatchingStrategies::Name,
                    MatchingStrategies::IsActive,
                    MatchingStrategies::AlwaysCreateLead,
                    MatchingStrategies::CreatedAt,
                    MatchingStrategies::UpdatedAt,
                ])
                .values_panic([
                    "Email".into(),
                    true.into(),
                    false.into(),
                    now.into(),
                    now.into(),
                ])
                .to_owned(),
        )
        .await?;

    // INSERT INTO matching_strategy_fields (strategy_id, field_mapping_id, created_at)
    // SELECT s.id, f.id, <now> FROM matching_strategies s, field_mappings f
    // WHERE s.name = 'Email' AND f.linkedin_field = 'EMAIL'
    let select = Query::select()
        .column((MatchingStrategies::Table, MatchingStrategies::Id))
        .column((FieldMappings::Table, FieldMappings::Id))
        .expr(Expr::val(now))
        .from(MatchingStrategies::Table)
        .from(FieldMappings::Table)
        .and_where(Expr::col((MatchingStrategies::Table, MatchingStrategies::Name)).eq("Email"))
        .and_where(Expr::col((FieldMappings::Table, FieldMappings::LinkedinField)).eq("EMAIL"))
        .to_owned();
    manager
        .exec_stmt(
            Query::insert()
                .into_table(MatchingStrategyFields::Table)
                .columns([
                    MatchingStrategyFields::StrategyId,
                    MatchingStrategyFields::FieldMappingId,
                    MatchingStrategyFields::CreatedAt,
                ])
                .select_from(select)
                .map_err(|e| DbErr::Migration(e.to_string()))?
                .to_owned(),
        )
        .await?;

    Ok(())
}

#[derive(DeriveIden)]
enum ApiUsers {
    Table,
    Id,
    Name,
    CreatedAt,
    DisabledAt,
}

#[derive(DeriveIden)]
enum ApiUserRoles {
    Table,
    UserId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    UserId,
    TokenHash,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Leads {
    Table,
    Id,
    FirstName,
    LastName,
    Email,
    EmailNormalized,
    WorkEmail,
    WorkEmailNormalized,
    Phone,
    PhoneNormalized,
    WorkPhone,
    Company,
    JobTitle,
    JobFunction,
    Seniority,
    Industry,
    CompanySize,
    Country,
    State,
    City,
    ZipCode,
    CustomFields,
    Source,
    SourceCampaignId,
    SourceFormId,
    LatestSubmissionAt,
    SubmissionCount,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LinkedinProfiles {
    Table,
    Id,
    Name,
    OwnerUserId,
    AuthorizationStatus,
    LinkedinMemberUrn,
    LinkedinMemberName,
    AccessTokenEnc,
    RefreshTokenEnc,
    TokenExpiresAt,
    RefreshTokenExpiresAt,
    Scopes,
    LastSyncAt,
    SyncStatus,
    StatusDetails,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LinkedinAccounts {
    Table,
    Id,
    LinkedinId,
    Name,
    Currency,
    Status,
    IsTest,
    ReferenceUrn,
    EnabledForSync,
    SyncStatus,
    StatusDetails,
    LastSyncAt,
    SyncCursorMs,
    WebhookSubscriptionId,
    LeaseOwner,
    LeaseExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LinkedinProfileAccounts {
    Table,
    ProfileId,
    AccountId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LinkedinCampaigns {
    Table,
    Id,
    LinkedinId,
    AccountId,
    Name,
    CampaignType,
    Status,
    StartAt,
    EndAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LinkedinForms {
    Table,
    Id,
    LinkedinId,
    AccountId,
    Name,
    Headline,
    Description,
    LandingPageUrl,
    PrivacyPolicyUrl,
    ThankYouMessage,
    Locale,
    VersionId,
    Status,
    HiddenFields,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LinkedinFormQuestions {
    Table,
    Id,
    FormId,
    LinkedinQuestionId,
    Name,
    Text,
    Kind,
    IsCustom,
    IsConsent,
    PredefinedField,
    Options,
    Position,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CustomerJourneys {
    Table,
    Id,
    CampaignId,
    Name,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FormSubmissions {
    Table,
    Id,
    LinkedinId,
    SubmittedAt,
    LeadType,
    TestLead,
    SubmitterUrn,
    AccountId,
    CampaignId,
    CreativeUrn,
    FormId,
    FormVersion,
    ProfileId,
    LeadId,
    CustomerJourneyId,
    MatchingStatus,
    ProcessingState,
    MatchExplanation,
    Error,
    HiddenFields,
    Raw,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SubmissionAnswers {
    Table,
    Id,
    SubmissionId,
    QuestionId,
    LinkedinQuestionId,
    QuestionText,
    PredefinedField,
    Value,
    IsConsent,
    Accepted,
    Position,
}

#[derive(DeriveIden)]
enum FieldMappings {
    Table,
    Id,
    LinkedinField,
    LeadField,
    IsDefault,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MatchingStrategies {
    Table,
    Id,
    Name,
    IsActive,
    AlwaysCreateLead,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MatchingStrategyFields {
    Table,
    Id,
    StrategyId,
    FieldMappingId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IntegrationConfiguration {
    Table,
    Id,
    CreateJourneysForCampaigns,
    OnMatchFail,
    SyncIntervalSeconds,
    CreateLeadsFromTestLeads,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SyncRuns {
    Table,
    Id,
    ProfileId,
    Trigger,
    Status,
    StartedAt,
    FinishedAt,
    SubmissionsFetched,
    SubmissionsCreated,
    DuplicatesSkipped,
    LeadsCreated,
    LeadsUpdated,
    Failed,
    Error,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OauthStates {
    Table,
    Id,
    State,
    ProfileId,
    PkceVerifier,
    CreatedByUserId,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookNotifications {
    Table,
    Id,
    NotificationId,
    Action,
    ResponseId,
    ReceivedAt,
    ProcessedAt,
}

#[derive(DeriveIden)]
enum ErasedResponses {
    Table,
    Id,
    LinkedinResponseId,
    ErasedAt,
    ErasedByUserId,
}
