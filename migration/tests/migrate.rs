//! Runs the migrations up, down and up again, then checks the seed data, the partial
//! unique index, that every entity round-trips through its table, and the foreign-key
//! ON DELETE actions.
//!
//! Always runs on an in-memory SQLite database. When `TEST_DATABASE_URL` points at a
//! PostgreSQL server (e.g. `postgres://postgres@127.0.0.1:5432/postgres`), the same checks
//! run on a freshly created, uniquely named database that is dropped afterwards.

use entity::prelude::*;
use entity::{
    api_token, api_user, api_user_role, customer_journey, erased_response, field_mapping,
    form_submission, integration_configuration, lead, lead_type_setting, linkedin_account,
    linkedin_campaign, linkedin_form, linkedin_form_question, linkedin_profile,
    linkedin_profile_account, matching_strategy, matching_strategy_field, oauth_state,
    submission_answer, sync_run, webhook_notification,
};
use migration::{Migrator, MigratorTrait, SchemaManager};
use sea_orm_migration::sea_orm::prelude::{ChronoUtc, DateTimeUtc};
use sea_orm_migration::sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, Database, DatabaseConnection, DbBackend,
    EntityTrait, ModelTrait, PaginatorTrait, QueryFilter, Set, Statement,
};
use serde_json::json;
use std::time::{SystemTime, UNIX_EPOCH};

const TABLES: [&str; 27] = [
    "lead_events",
    "consent_records",
    "audit_log",
    "erased_subjects",
    "lead_type_settings",
    "api_users",
    "api_user_roles",
    "api_tokens",
    "leads",
    "linkedin_profiles",
    "linkedin_accounts",
    "linkedin_profile_accounts",
    "linkedin_campaigns",
    "linkedin_forms",
    "linkedin_form_questions",
    "customer_journeys",
    "form_submissions",
    "submission_answers",
    "field_mappings",
    "matching_strategies",
    "matching_strategy_fields",
    "integration_configuration",
    "sync_runs",
    "oauth_states",
    "webhook_notifications",
    "erased_responses",
    "list_counts",
];

const EXPECTED_MAPPINGS: [(&str, &str); 22] = [
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

/// Indexes created with `CREATE INDEX` (visible under these names on every backend); the
/// `(column, id)` keyset indexes replaced the single-column ones in `m20261207_000001_flat_lists`.
const INDEXES: [&str; 24] = [
    "idx_api_tokens_user_id",
    "idx_leads_email_normalized_id",
    "idx_leads_work_email_normalized",
    "idx_leads_phone_normalized",
    "idx_leads_created_at_id",
    "idx_leads_updated_at_id",
    "idx_leads_latest_submission_at_id",
    "idx_leads_source_created_at",
    "idx_leads_source_campaign_id",
    "idx_leads_source_form_id",
    "idx_linkedin_profile_accounts_account_id",
    "idx_linkedin_campaigns_account_id",
    "idx_linkedin_forms_account_id",
    "idx_form_submissions_lead_id_submitted_at",
    "idx_form_submissions_campaign_id_submitted_at",
    "idx_form_submissions_form_id_submitted_at",
    "idx_form_submissions_account_id_submitted_at",
    "idx_form_submissions_submitted_at_id",
    "idx_form_submissions_matching_status_submitted_at",
    "idx_submission_answers_submission_id_position",
    "idx_matching_strategy_fields_field_mapping_id",
    "idx_sync_runs_profile_id_created_at",
    "idx_sync_runs_status_created_at",
    "ux_matching_strategies_single_active",
];

/// Table-level UNIQUE constraints. PostgreSQL names their backing indexes after them;
/// SQLite calls them `sqlite_autoindex_*`, so these are checked on PostgreSQL only.
const UNIQUE_CONSTRAINTS: [&str; 13] = [
    "ux_api_tokens_token_hash",
    "ux_linkedin_accounts_linkedin_id",
    "ux_linkedin_campaigns_linkedin_id",
    "ux_linkedin_forms_linkedin_id",
    "ux_linkedin_form_questions_form_consent_question",
    "ux_customer_journeys_campaign_id",
    "ux_form_submissions_linkedin_id",
    "ux_field_mappings_linkedin_field",
    "ux_matching_strategies_name",
    "ux_matching_strategy_fields_strategy_id_field_mapping_id",
    "ux_oauth_states_state",
    "ux_webhook_notifications_notification_id",
    "ux_erased_responses_linkedin_response_id",
];

#[tokio::test]
async fn migrate_sqlite() {
    let db = Database::connect("sqlite::memory:")
        .await
        .expect("connect to in-memory SQLite");
    exercise(&db).await;
}

#[tokio::test]
async fn migrate_postgres() {
    let Ok(server_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL not set; skipping the PostgreSQL migration test");
        return;
    };
    let server = Database::connect(&server_url)
        .await
        .expect("connect to TEST_DATABASE_URL");
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after epoch")
        .as_nanos();
    let name = format!("leadsync_migration_test_{}_{nanos}", std::process::id());
    server
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");

    let db_url = with_database(&server_url, &name);
    // Run the checks in their own task so the database is dropped even if they panic.
    let outcome = tokio::spawn(async move {
        let db = Database::connect(&db_url)
            .await
            .expect("connect to test database");
        exercise(&db).await;
        db.close().await.expect("close test database connection");
    })
    .await;

    server
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .expect("drop test database");
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

/// Replaces the database name (URL path) of a PostgreSQL URL, keeping any query string.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

async fn exercise(db: &DatabaseConnection) {
    Migrator::up(db, None).await.expect("first up");
    assert_tables(db, true).await;
    check_seed(db).await;

    Migrator::down(db, None).await.expect("down");
    assert_tables(db, false).await;

    Migrator::up(db, None).await.expect("second up");
    assert_tables(db, true).await;
    check_index_names(db).await;
    check_seed(db).await;
    check_single_active_strategy(db).await;
    check_entities_and_foreign_keys(db).await;
}

async fn assert_tables(db: &DatabaseConnection, present: bool) {
    let manager = SchemaManager::new(db);
    for table in TABLES {
        let exists = manager.has_table(table).await.expect("has_table");
        assert_eq!(exists, present, "table {table} present = {exists}");
    }
}

async fn check_index_names(db: &DatabaseConnection) {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'index'",
        DbBackend::Postgres => {
            "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()"
        }
        other => panic!("unexpected backend {other:?}"),
    };
    let names: Vec<String> = db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get("", "name").unwrap())
        .collect();
    let mut expected: Vec<&str> = INDEXES.to_vec();
    if backend == DbBackend::Postgres {
        expected.extend(UNIQUE_CONSTRAINTS);
    }
    for name in expected {
        assert!(
            names.iter().any(|n| n == name),
            "index {name} missing; have {names:?}"
        );
    }
}

async fn check_seed(db: &DatabaseConnection) {
    let mut mappings = FieldMapping::find().all(db).await.unwrap();
    assert_eq!(mappings.len(), 22);
    assert!(mappings.iter().all(|m| m.is_default));
    mappings.sort_by(|a, b| a.linkedin_field.cmp(&b.linkedin_field));
    let mut expected = EXPECTED_MAPPINGS.to_vec();
    expected.sort();
    let actual: Vec<(&str, &str)> = mappings
        .iter()
        .map(|m| (m.linkedin_field.as_str(), m.lead_field.as_str()))
        .collect();
    assert_eq!(actual, expected);

    let strategies = MatchingStrategy::find().all(db).await.unwrap();
    assert_eq!(strategies.len(), 1);
    let active = MatchingStrategy::find()
        .filter(matching_strategy::Column::IsActive.eq(true))
        .all(db)
        .await
        .unwrap();
    assert_eq!(active.len(), 1);
    let email_strategy = &active[0];
    assert_eq!(email_strategy.name, "Email");
    assert!(!email_strategy.always_create_lead);

    let email_mapping = mappings
        .iter()
        .find(|m| m.linkedin_field == "EMAIL")
        .expect("EMAIL mapping");
    assert_eq!(email_mapping.lead_field, "email");
    let fields = MatchingStrategyField::find().all(db).await.unwrap();
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].strategy_id, email_strategy.id);
    assert_eq!(fields[0].field_mapping_id, email_mapping.id);

    let configs = IntegrationConfiguration::find().all(db).await.unwrap();
    assert_eq!(configs.len(), 1);
    let config = &configs[0];
    assert_eq!(config.id, 1);
    assert!(config.create_journeys_for_campaigns);
    assert_eq!(config.on_match_fail, "CREATE_NEW_LEAD");
    assert_eq!(config.sync_interval_seconds, 900);
    assert!(!config.create_leads_from_test_leads);

    // Sponsored leads sync by default with LinkedIn's 365-day window; organic types are opt-in.
    let mut lead_types: Vec<(String, bool, i32)> = LeadTypeSetting::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.lead_type, s.enabled, s.backfill_days))
        .collect();
    lead_types.sort();
    assert_eq!(
        lead_types,
        vec![
            ("COMPANY".to_owned(), false, 90),
            ("EVENT".to_owned(), false, 90),
            ("ORGANIZATION_PRODUCT".to_owned(), false, 90),
            ("SPONSORED".to_owned(), true, 365),
        ]
    );
    let _ = lead_type_setting::Column::Enabled;
}

fn strategy(name: &str, is_active: bool, now: DateTimeUtc) -> matching_strategy::ActiveModel {
    matching_strategy::ActiveModel {
        name: Set(name.to_owned()),
        is_active: Set(is_active),
        always_create_lead: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

async fn check_single_active_strategy(db: &DatabaseConnection) {
    let now = ChronoUtc::now();
    let second_active = strategy("Second active", true, now).insert(db).await;
    assert!(
        second_active.is_err(),
        "a second active strategy must violate ux_matching_strategies_single_active"
    );
    // Any number of inactive strategies is fine.
    let a = strategy("Inactive A", false, now).insert(db).await.unwrap();
    let b = strategy("Inactive B", false, now).insert(db).await.unwrap();
    // The unique name constraint still applies.
    assert!(strategy("Inactive A", false, now).insert(db).await.is_err());
    a.delete(db).await.unwrap();
    b.delete(db).await.unwrap();
    assert_eq!(MatchingStrategy::find().count(db).await.unwrap(), 1);
}

/// Inserts a row into every table through its entity (letting the database fill the
/// defaults), reads it back, and checks the ON DELETE actions.
async fn check_entities_and_foreign_keys(db: &DatabaseConnection) {
    let now = ChronoUtc::now();

    let user = api_user::ActiveModel {
        name: Set("admin".into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(user.disabled_at, None);
    assert_eq!(
        ApiUser::find_by_id(user.id).one(db).await.unwrap(),
        Some(user.clone())
    );

    let role = api_user_role::ActiveModel {
        user_id: Set(user.id),
        role: Set("ADMIN".into()),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        ApiUserRole::find_by_id((user.id, "ADMIN".to_owned()))
            .one(db)
            .await
            .unwrap(),
        Some(role)
    );

    let token = api_token::ActiveModel {
        user_id: Set(user.id),
        token_hash: Set("hash".into()),
        created_at: Set(now),
        last_used_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        ApiToken::find_by_id(token.id).one(db).await.unwrap(),
        Some(token)
    );
    let duplicate_token = api_token::ActiveModel {
        user_id: Set(user.id),
        token_hash: Set("hash".into()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await;
    assert!(duplicate_token.is_err(), "token_hash is unique");

    let profile = linkedin_profile::ActiveModel {
        name: Set("Marketing".into()),
        owner_user_id: Set(Some(user.id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(profile.authorization_status, "NOT_AUTHORIZED");
    assert_eq!(profile.sync_status, "NOT_SYNCING");
    assert_eq!(
        LinkedinProfile::find_by_id(profile.id)
            .one(db)
            .await
            .unwrap(),
        Some(profile.clone())
    );

    let account = linkedin_account::ActiveModel {
        linkedin_id: Set("urn:li:sponsoredAccount:1".into()),
        name: Set("Account".into()),
        is_test: Set(false),
        sync_cursor_ms: Set(Some(1_764_000_000_000)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert!(account.enabled_for_sync);
    assert_eq!(account.sync_status, "PENDING");
    assert_eq!(account.sync_cursor_ms, Some(1_764_000_000_000));
    assert_eq!(
        LinkedinAccount::find_by_id(account.id)
            .one(db)
            .await
            .unwrap(),
        Some(account.clone())
    );

    let profile_account = linkedin_profile_account::ActiveModel {
        profile_id: Set(profile.id),
        account_id: Set(account.id),
        role: Set(Some("ACCOUNT_BILLING_ADMIN".into())),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        LinkedinProfileAccount::find_by_id((profile.id, account.id))
            .one(db)
            .await
            .unwrap(),
        Some(profile_account)
    );

    let campaign = linkedin_campaign::ActiveModel {
        linkedin_id: Set("urn:li:sponsoredCampaign:1".into()),
        account_id: Set(Some(account.id)),
        name: Set("Campaign".into()),
        start_at: Set(Some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        LinkedinCampaign::find_by_id(campaign.id)
            .one(db)
            .await
            .unwrap(),
        Some(campaign.clone())
    );

    let form = linkedin_form::ActiveModel {
        linkedin_id: Set("urn:li:leadGenForm:1".into()),
        account_id: Set(Some(account.id)),
        name: Set("Form".into()),
        version_id: Set(Some(3)),
        hidden_fields: Set(Some(json!([{"name": "utm", "value": "x"}]))),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        LinkedinForm::find_by_id(form.id).one(db).await.unwrap(),
        Some(form.clone())
    );

    let question = linkedin_form_question::ActiveModel {
        form_id: Set(form.id),
        linkedin_question_id: Set("1".into()),
        text: Set("Email".into()),
        kind: Set("TEXT".into()),
        is_custom: Set(false),
        is_consent: Set(false),
        predefined_field: Set(Some("EMAIL".into())),
        options: Set(Some(json!(["a", "b"]))),
        position: Set(0),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        LinkedinFormQuestion::find_by_id(question.id)
            .one(db)
            .await
            .unwrap(),
        Some(question.clone())
    );
    // The same LinkedIn question id may exist once as a question and once as a consent.
    linkedin_form_question::ActiveModel {
        form_id: Set(form.id),
        linkedin_question_id: Set("1".into()),
        text: Set("I agree".into()),
        kind: Set("CONSENT".into()),
        is_custom: Set(false),
        is_consent: Set(true),
        position: Set(1),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();

    let journey = customer_journey::ActiveModel {
        campaign_id: Set(campaign.id),
        name: Set("Journey".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(journey.status, "DRAFT");
    assert_eq!(
        CustomerJourney::find_by_id(journey.id)
            .one(db)
            .await
            .unwrap(),
        Some(journey.clone())
    );

    let custom_fields = json!({"degree": "MSc", "nested": {"n": 1.5, "ok": true}});
    let lead = lead::ActiveModel {
        email: Set(Some("Ada@Example.com".into())),
        email_normalized: Set(Some("ada@example.com".into())),
        custom_fields: Set(custom_fields.clone()),
        source: Set("LINKEDIN".into()),
        source_campaign_id: Set(Some(campaign.id)),
        source_form_id: Set(Some(form.id)),
        latest_submission_at: Set(Some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(lead.submission_count, 0);
    assert_eq!(lead.custom_fields, custom_fields);
    assert_eq!(
        Lead::find_by_id(lead.id).one(db).await.unwrap(),
        Some(lead.clone())
    );
    let found = Lead::find()
        .filter(lead::Column::EmailNormalized.eq("ada@example.com"))
        .one(db)
        .await
        .unwrap();
    assert_eq!(found.map(|l| l.id), Some(lead.id));

    let submission = form_submission::ActiveModel {
        linkedin_id: Set("urn:li:leadFormResponse:1".into()),
        submitted_at: Set(now),
        lead_type: Set("SPONSORED".into()),
        test_lead: Set(false),
        account_id: Set(Some(account.id)),
        campaign_id: Set(Some(campaign.id)),
        form_id: Set(Some(form.id)),
        form_version: Set(Some(3)),
        profile_id: Set(Some(profile.id)),
        lead_id: Set(Some(lead.id)),
        customer_journey_id: Set(Some(journey.id)),
        raw: Set(Some(json!({"id": "1"}))),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(submission.matching_status, "PENDING");
    assert_eq!(submission.processing_state, "UNPROCESSED");
    assert_eq!(
        FormSubmission::find_by_id(submission.id)
            .one(db)
            .await
            .unwrap(),
        Some(submission.clone())
    );

    let answer = submission_answer::ActiveModel {
        submission_id: Set(submission.id),
        question_id: Set(Some(question.id)),
        linkedin_question_id: Set("1".into()),
        question_text: Set("Email".into()),
        value: Set("ada@example.com".into()),
        is_consent: Set(false),
        accepted: Set(Some(true)),
        position: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        SubmissionAnswer::find_by_id(answer.id)
            .one(db)
            .await
            .unwrap(),
        Some(answer.clone())
    );

    let config = IntegrationConfiguration::find_by_id(1)
        .one(db)
        .await
        .unwrap()
        .expect("configuration row");
    let mut config: integration_configuration::ActiveModel = config.into();
    config.sync_interval_seconds = Set(60);
    config.updated_at = Set(now);
    let config = config.update(db).await.unwrap();
    assert_eq!(config.sync_interval_seconds, 60);

    let run = sync_run::ActiveModel {
        profile_id: Set(Some(profile.id)),
        trigger: Set("MANUAL".into()),
        status: Set("RUNNING".into()),
        started_at: Set(Some(now)),
        submissions_fetched: Set(1),
        submissions_created: Set(1),
        duplicates_skipped: Set(0),
        leads_created: Set(1),
        leads_updated: Set(0),
        failed: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        SyncRun::find_by_id(run.id).one(db).await.unwrap(),
        Some(run.clone())
    );

    let state = oauth_state::ActiveModel {
        state: Set("state".into()),
        profile_id: Set(profile.id),
        pkce_verifier: Set("verifier".into()),
        created_by_user_id: Set(Some(user.id)),
        expires_at: Set(now),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        OauthState::find_by_id(state.id).one(db).await.unwrap(),
        Some(state.clone())
    );

    let notification = webhook_notification::ActiveModel {
        notification_id: Set("n1".into()),
        action: Set(Some("CREATED".into())),
        response_id: Set(Some("urn:li:leadFormResponse:1".into())),
        received_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        WebhookNotification::find_by_id(notification.id)
            .one(db)
            .await
            .unwrap(),
        Some(notification)
    );

    let erased = erased_response::ActiveModel {
        linkedin_response_id: Set("urn:li:leadFormResponse:2".into()),
        erased_at: Set(now),
        erased_by_user_id: Set(Some(user.id)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(
        ErasedResponse::find_by_id(erased.id).one(db).await.unwrap(),
        Some(erased.clone())
    );

    // field_mapping_id is ON DELETE RESTRICT: the EMAIL mapping is used by the Email strategy.
    let email_mapping = FieldMapping::find()
        .filter(field_mapping::Column::LinkedinField.eq("EMAIL"))
        .one(db)
        .await
        .unwrap()
        .expect("EMAIL mapping");
    assert!(email_mapping.delete(db).await.is_err());

    // Deleting a strategy cascades to its fields.
    let other = strategy("Other", false, now).insert(db).await.unwrap();
    let other_field = matching_strategy_field::ActiveModel {
        strategy_id: Set(other.id),
        field_mapping_id: Set(1),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    other.delete(db).await.unwrap();
    assert!(
        MatchingStrategyField::find_by_id(other_field.id)
            .one(db)
            .await
            .unwrap()
            .is_none()
    );

    // Deleting a campaign: journeys cascade; leads and submissions keep their rows (SET NULL).
    campaign.delete(db).await.unwrap();
    assert!(
        CustomerJourney::find_by_id(journey.id)
            .one(db)
            .await
            .unwrap()
            .is_none()
    );
    let lead_after = Lead::find_by_id(lead.id).one(db).await.unwrap().unwrap();
    assert_eq!(lead_after.source_campaign_id, None);
    assert_eq!(lead_after.source_form_id, Some(form.id));
    let submission_after = FormSubmission::find_by_id(submission.id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(submission_after.campaign_id, None);
    assert_eq!(submission_after.customer_journey_id, None);
    assert_eq!(submission_after.lead_id, Some(lead.id));

    // Deleting a form: questions cascade; answers keep their rows with question_id NULL.
    form.delete(db).await.unwrap();
    assert!(
        LinkedinFormQuestion::find()
            .filter(linkedin_form_question::Column::FormId.eq(question.form_id))
            .one(db)
            .await
            .unwrap()
            .is_none()
    );
    let answer_after = SubmissionAnswer::find_by_id(answer.id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(answer_after.question_id, None);
    assert_eq!(
        Lead::find_by_id(lead.id)
            .one(db)
            .await
            .unwrap()
            .unwrap()
            .source_form_id,
        None
    );

    // Deleting a lead nulls the submission's lead_id; deleting the submission cascades to answers.
    lead_after.delete(db).await.unwrap();
    let submission_after = FormSubmission::find_by_id(submission.id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(submission_after.lead_id, None);
    submission_after.delete(db).await.unwrap();
    assert!(
        SubmissionAnswer::find_by_id(answer.id)
            .one(db)
            .await
            .unwrap()
            .is_none()
    );

    // Deleting a user: roles and tokens cascade; profile owner, oauth creator, eraser SET NULL.
    ApiUser::delete_by_id(user.id).exec(db).await.unwrap();
    assert_eq!(ApiUserRole::find().count(db).await.unwrap(), 0);
    assert_eq!(ApiToken::find().count(db).await.unwrap(), 0);
    let profile_after = LinkedinProfile::find_by_id(profile.id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(profile_after.owner_user_id, None);
    let state_after = OauthState::find_by_id(state.id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state_after.created_by_user_id, None);
    let erased_after = ErasedResponse::find_by_id(erased.id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(erased_after.erased_by_user_id, None);

    // Deleting an account nulls campaign/form/submission references (none left here) and
    // cascades to profile links; deleting a profile cascades to runs and oauth states.
    account.delete(db).await.unwrap();
    assert_eq!(LinkedinProfileAccount::find().count(db).await.unwrap(), 0);
    profile_after.delete(db).await.unwrap();
    assert_eq!(SyncRun::find().count(db).await.unwrap(), 0);
    assert_eq!(OauthState::find().count(db).await.unwrap(), 0);
}
