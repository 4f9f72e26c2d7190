//! Nothing personal where it does not belong: a sync, a webhook, a lead's life through the API
//! (create, update, a refused input, export, erase) with every log line captured (leadsync at
//! TRACE, the rest at DEBUG); then no email, name or phone of any lead, no token and no secret
//! appears in a log line, in `/metrics`, or in an error message sent to a client. (The whole
//! suite is watched by patterns too: `pii_watch`.)

use std::time::Duration;

use entity::{form_submission, lead};
use leadsync::{domain::Role, linkedin::sandbox::SandboxConfig};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::connector::{LogCapture, authorized_profile, env_with, get};

#[tokio::test]
async fn no_personal_data_reaches_a_log_line_a_metric_or_an_error() {
    let captured = LogCapture::start();

    let env = env_with(
        SandboxConfig {
            leads_per_account: 20,
            ..Default::default()
        },
        |_| {},
    )
    .await;
    authorized_profile(&env).await;
    let account = env
        .sandbox
        .accounts()
        .into_iter()
        .find(|a| !a.forbidden)
        .unwrap();
    let hooked = env.sandbox.add_leads(&account.id, 1).remove(0);
    for _ in 0..200 {
        let found = form_submission::Entity::find()
            .filter(form_submission::Column::LinkedinId.eq(&hooked))
            .one(&env.app.db)
            .await
            .unwrap();
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    let admin = env.app.token(&[Role::LeadgenAdministrator]).await;
    let mut errors = Vec::new();
    let created = env
        .app
        .query(
            Some(&env.sales),
            "mutation($input: CreateLeadInput!) { createLead(input: $input) { id } }",
            json!({ "input": { "firstName": "Hypatia", "lastName": "Alexandrina", "email": "hypatia@library.example", "phone": "+20 3 555 0199" } }),
        )
        .await;
    let id = created["data"]["createLead"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (query, variables) in [
        (
            "mutation($id: ID!, $input: UpdateLeadInput!) { updateLead(id: $id, input: $input) { id } }",
            json!({ "id": id, "input": { "lastName": "Theonis" } }),
        ),
        // Refused inputs: the error says what is wrong, not what was sent.
        (
            "mutation($input: CreateLeadInput!) { createLead(input: $input) { id } }",
            json!({ "input": { "firstName": "Euclidia", "email": "euclidia at museum" } }),
        ),
        (
            "mutation($id: ID!, $input: UpdateLeadInput!) { updateLead(id: $id, input: $input) { id } }",
            json!({ "id": id, "input": { "workEmail": "theon@@museum" } }),
        ),
        (
            "query($email: String!) { exportPersonalData(email: $email) }",
            json!({ "email": "hypatia@library.example" }),
        ),
        (
            "mutation($id: ID!) { eraseLead(id: $id) { id } }",
            json!({ "id": id }),
        ),
    ] {
        let answer = env.app.query(Some(&admin), query, variables).await;
        if let Some(e) = answer.get("errors") {
            errors.push(e.to_string());
        }
    }
    assert!(
        errors.len() >= 2,
        "the refused inputs were refused: {errors:?}"
    );

    // Everything personal leadsync held during the test.
    let mut personal: Vec<String> = vec![
        "Hypatia".into(),
        "Alexandrina".into(),
        "Theonis".into(),
        "Euclidia".into(),
        "hypatia@library.example".into(),
        "euclidia at museum".into(),
        "theon@@museum".into(),
        "555 0199".into(),
    ];
    for l in lead::Entity::find().all(&env.app.db).await.unwrap() {
        for v in [
            l.first_name,
            l.last_name,
            l.email,
            l.work_email,
            l.phone,
            l.work_phone,
        ]
        .into_iter()
        .flatten()
        {
            // Short values (a two-letter name) are too common to tell a leak from a word.
            if v.chars().count() >= 5 {
                personal.push(v);
            }
        }
    }
    assert!(personal.len() > 20, "the sync brought people in");
    personal.push(env.sandbox.config().client_secret.clone());
    personal.push(
        env.app
            .state
            .config
            .secret_key
            .as_ref()
            .unwrap()
            .expose()
            .to_owned(),
    );
    personal.push(admin.clone());
    personal.push(env.sales.clone());

    let (status, metrics) = get(&env.app, "/metrics").await;
    assert_eq!(status, 200);
    let logs = captured.text();
    assert!(logs.lines().count() > 100, "the logs were captured");
    for value in &personal {
        assert!(
            !logs.contains(value.as_str()),
            "{value:?} reached a log line"
        );
        assert!(
            !metrics.contains(value.as_str()),
            "{value:?} reached /metrics"
        );
        for e in &errors {
            assert!(
                !e.contains(value.as_str()),
                "{value:?} reached an error: {e}"
            );
        }
    }
}
