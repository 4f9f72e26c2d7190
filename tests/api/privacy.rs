//! A person's data on request: `exportPersonalData` (and `leadsync export`) returns everything
//! held about an email or a lead; after an erasure it says when, and holds nothing of them.

use std::collections::HashSet;

use entity::{form_submission, lead, linkedin_campaign, submission_answer};
use leadsync::{domain::Role, linkedin::sandbox::SandboxConfig};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::{
    common::error_code,
    connector::{Env, authorized_profile, env_with},
};

const EXPORT: &str = "query($email: String!) { exportPersonalData(email: $email) }";
const EXPORT_LEAD: &str = "query($leadId: ID!) { exportLeadPersonalData(leadId: $leadId) }";

async fn synced_env() -> Env {
    let env = env_with(
        SandboxConfig {
            leads_per_account: 6,
            ..Default::default()
        },
        |_| {},
    )
    .await;
    authorized_profile(&env).await;
    env
}

async fn export(env: &Env, token: &str, variables: Value) -> Value {
    let query = if variables.get("leadId").is_some() {
        EXPORT_LEAD
    } else {
        EXPORT
    };
    env.app.query(Some(token), query, variables).await
}

/// A synced lead with an email and a submission that has consents.
async fn lead_with_consents(env: &Env) -> lead::Model {
    let consents = submission_answer::Entity::find()
        .filter(submission_answer::Column::IsConsent.eq(true))
        .all(&env.app.db)
        .await
        .unwrap();
    for answer in consents {
        let submission = form_submission::Entity::find_by_id(answer.submission_id)
            .one(&env.app.db)
            .await
            .unwrap()
            .unwrap();
        let Some(lead_id) = submission.lead_id else {
            continue;
        };
        let lead = lead::Entity::find_by_id(lead_id)
            .one(&env.app.db)
            .await
            .unwrap()
            .unwrap();
        if lead.email.is_some() {
            return lead;
        }
    }
    panic!("the sandbox's forms ask for consents");
}

#[tokio::test]
async fn an_export_holds_every_lead_submission_answer_and_consent_of_the_person() {
    let env = synced_env().await;
    let admin = env.app.token(&[Role::LeadgenAdministrator]).await;
    let person = lead_with_consents(&env).await;
    let email = person.email.clone().unwrap();

    // Found under matching's normalization: any case, surrounding blanks.
    let asked = format!("  {}  ", email.to_uppercase());
    let answer = export(&env, &admin, json!({ "email": asked })).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let doc = &answer["data"]["exportPersonalData"];
    assert_eq!(doc["format"], "leadsync.personal-data/1");
    assert_eq!(doc["subject"], json!({ "by": "email" }));
    assert!(doc["erasure"].is_null());

    let expected: Vec<lead::Model> = lead::Entity::find()
        .all(&env.app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| {
            [&l.email, &l.work_email]
                .into_iter()
                .flatten()
                .any(|e| e.trim().eq_ignore_ascii_case(email.trim()))
        })
        .collect();
    let exported: Vec<&Value> = doc["leads"].as_array().unwrap().iter().collect();
    assert_eq!(
        exported
            .iter()
            .map(|l| l["id"].as_i64().unwrap())
            .collect::<HashSet<_>>(),
        expected.iter().map(|l| l.id).collect::<HashSet<_>>()
    );
    let mine = exported
        .iter()
        .find(|l| l["id"] == person.id)
        .expect("the lead itself");
    assert_eq!(mine["fields"]["email"], email.as_str());
    assert_eq!(
        mine["fields"]["firstName"].as_str(),
        person.first_name.as_deref()
    );

    // Every submission, with every answer and consent as stored.
    let submissions = form_submission::Entity::find()
        .filter(form_submission::Column::LeadId.eq(person.id))
        .all(&env.app.db)
        .await
        .unwrap();
    let listed = mine["submissions"].as_array().unwrap();
    assert_eq!(listed.len(), submissions.len());
    let mut consents_seen = 0;
    for s in &submissions {
        let e = listed
            .iter()
            .find(|e| e["linkedInResponseId"] == s.linkedin_id.as_str())
            .expect("each submission");
        let stored = submission_answer::Entity::find()
            .filter(submission_answer::Column::SubmissionId.eq(s.id))
            .all(&env.app.db)
            .await
            .unwrap();
        let answers = e["answers"].as_array().unwrap();
        let consents = e["consents"].as_array().unwrap();
        assert_eq!(answers.len() + consents.len(), stored.len());
        for a in stored.iter().filter(|a| !a.is_consent) {
            assert!(
                answers
                    .iter()
                    .any(|x| x["question"] == a.question_text.as_str()
                        && x["answer"] == a.value.as_str()),
                "{a:?} in {answers:?}"
            );
        }
        for c in stored.iter().filter(|a| a.is_consent) {
            assert!(!c.question_text.is_empty(), "a consent has its text");
            assert!(
                consents
                    .iter()
                    .any(|x| x["text"] == c.question_text.as_str()
                        && x["accepted"] == c.accepted.unwrap_or(false))
            );
            consents_seen += 1;
        }
        if let Some(campaign_id) = s.campaign_id {
            let campaign = linkedin_campaign::Entity::find_by_id(campaign_id)
                .one(&env.app.db)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(e["campaign"]["name"], campaign.name.as_str());
            assert!(e["customerJourney"]["name"].is_string(), "{e}");
        }
        assert_eq!(
            e["hiddenFields"],
            s.hidden_fields.clone().unwrap_or(Value::Null),
            "the form's hidden fields as the submission carried them"
        );
        assert!(e["form"]["name"].is_string(), "{e}");
        assert!(e["matchExplanation"].is_string(), "{e}");
    }
    assert!(consents_seen > 0);

    // By lead id: the same lead.
    let answer = export(&env, &admin, json!({ "leadId": person.id.to_string() })).await;
    let by_id = &answer["data"]["exportLeadPersonalData"];
    assert_eq!(by_id["leads"].as_array().unwrap().len(), 1, "{answer}");
    assert_eq!(by_id["leads"][0]["submissions"], mine["submissions"]);

    // Nobody by that address: an empty export, not an erasure.
    let answer = export(&env, &admin, json!({ "email": "nobody@example.invalid" })).await;
    let doc = &answer["data"]["exportPersonalData"];
    assert_eq!(doc["leads"], json!([]));
    assert!(doc["erasure"].is_null());
}

#[tokio::test]
async fn exports_are_for_administrators_and_want_one_subject() {
    let env = synced_env().await;
    let admin = env.app.token(&[Role::LeadgenAdministrator]).await;
    let answer = export(&env, &env.sales, json!({ "email": "a@example.com" })).await;
    assert_eq!(
        error_code(&answer).as_deref(),
        Some("FORBIDDEN"),
        "{answer}"
    );
    for variables in [json!({ "email": "  " }), json!({ "leadId": "not-an-id" })] {
        let answer = export(&env, &admin, variables).await;
        assert_eq!(
            error_code(&answer).as_deref(),
            Some("BAD_USER_INPUT"),
            "{answer}"
        );
    }
    let answer = export(&env, &admin, json!({ "leadId": "987654321" })).await;
    assert_eq!(
        error_code(&answer).as_deref(),
        Some("NOT_FOUND"),
        "{answer}"
    );
}

#[tokio::test]
async fn after_an_erasure_the_export_says_when_and_holds_nothing_of_the_person() {
    let env = synced_env().await;
    let admin = env.app.token(&[Role::LeadgenAdministrator]).await;
    let person = lead_with_consents(&env).await;
    let email = person.email.clone().unwrap();
    let before = export(&env, &admin, json!({ "email": email })).await;
    let held = before["data"]["exportPersonalData"].clone();
    let answers: Vec<String> = held["leads"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["submissions"].as_array().unwrap().clone())
        .flat_map(|s| s["answers"].as_array().unwrap().clone())
        .map(|a| a["answer"].as_str().unwrap().to_owned())
        .filter(|a| a.len() > 3)
        .collect();
    assert!(!answers.is_empty());

    let submitters: Vec<String> = entity::form_submission::Entity::find()
        .filter(entity::form_submission::Column::LeadId.eq(person.id))
        .all(&env.app.db)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|s| s.submitter_urn)
        .collect();
    assert!(!submitters.is_empty());
    let started = chrono::Utc::now();
    for l in held["leads"].as_array().unwrap() {
        let answer = env
            .app
            .query(
                Some(&admin),
                "mutation($id: ID!) { eraseLead(id: $id) { id } }",
                json!({ "id": l["id"].as_i64().unwrap().to_string() }),
            )
            .await;
        assert!(answer.get("errors").is_none(), "{answer}");
    }

    let after = export(&env, &admin, json!({ "email": email.to_uppercase() })).await;
    let doc = &after["data"]["exportPersonalData"];
    assert_eq!(doc["leads"], json!([]), "{after}");
    let erased_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(doc["erasure"]["erasedAt"].clone()).expect("erasedAt");
    assert!(erased_at >= started - chrono::Duration::seconds(1));
    let text = doc.to_string();
    let mut personal = vec![email.to_lowercase()];
    personal.extend(person.first_name.clone());
    personal.extend(person.last_name.clone());
    personal.extend(answers);
    for p in &personal {
        assert!(
            !text.to_lowercase().contains(&p.to_lowercase()),
            "{p:?} is not in the erased export {text}"
        );
    }
    // Nothing that identifies them is left in any table (answers such as a company name are
    // shared with other people): only the tombstones and the audit facts.
    let rows = every_row(&env.app.db).await.to_lowercase();
    let mut identifying = vec![email.to_lowercase()];
    identifying.extend(person.phone.clone());
    identifying.extend(submitters);
    for p in &identifying {
        assert!(
            !rows.contains(&p.to_lowercase()),
            "{p:?} is still in the database: {}",
            rows.lines()
                .find(|l| l.contains(&p.to_lowercase()))
                .unwrap_or_default()
        );
    }
    // Nor in what the erasure left behind.
    let tombstones = entity::erased_subject::Entity::find()
        .all(&env.app.db)
        .await
        .unwrap();
    assert!(!tombstones.is_empty());
    let kept = format!("{tombstones:?}").to_lowercase();
    assert!(!kept.contains(&email.to_lowercase()) && !kept.contains(&hex_of(&email)));
}

fn hex_of(s: &str) -> String {
    s.to_lowercase()
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn the_export_command_prints_the_same_document() {
    let env = synced_env().await;
    let admin = env.app.token(&[Role::LeadgenAdministrator]).await;
    let person = lead_with_consents(&env).await;
    let email = person.email.clone().unwrap();
    let config = env.app.state.config.clone();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_leadsync"))
        .args(["export", "--email", &email])
        .env("DATABASE_URL", &config.database_url)
        .env(
            "LEADSYNC_SECRET_KEY",
            config.secret_key.as_ref().unwrap().expose(),
        )
        .env("LEADSYNC_LOG", "error")
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    let answer = export(&env, &admin, json!({ "email": email })).await;
    let served = &answer["data"]["exportPersonalData"];
    assert_eq!(printed["format"], served["format"]);
    assert_eq!(printed["leads"], served["leads"]);
    // The command's look at the person is on the trail, as the CLI.
    let cli = entity::audit_entry::Entity::find()
        .all(&env.app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.operation == "export")
        .expect("the export is audited");
    assert_eq!(cli.actor, "CLI");
    assert_eq!(cli.object_id, Some(person.id.to_string()));
}

/// Every row of every table, as text (to look for what must not be there).
async fn every_row(db: &sea_orm::DatabaseConnection) -> String {
    use sea_orm::{DbBackend, FromQueryResult, JsonValue, Statement};
    let backend = db.get_database_backend();
    let list = match backend {
        DbBackend::Postgres => {
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    };
    let tables = JsonValue::find_by_statement(Statement::from_string(backend, list))
        .all(db)
        .await
        .unwrap();
    assert!(tables.len() > 20, "{tables:?}");
    let mut text = String::new();
    for t in tables {
        let name = t["name"].as_str().unwrap().to_owned();
        let rows = JsonValue::find_by_statement(Statement::from_string(
            backend,
            format!("SELECT * FROM \"{name}\""),
        ))
        .all(db)
        .await
        .unwrap_or_else(|e| panic!("reading {name}: {e}"));
        for row in rows {
            text.push_str(&name);
            text.push(' ');
            text.push_str(&row.to_string());
            text.push('\n');
        }
    }
    text
}
