//! The audit trail: every write names who, when and what, holds no personal data, and can only
//! be read (by system administrators).

use std::collections::HashSet;

use leadsync::{domain::Role, linkedin::sandbox::SandboxConfig};
use serde_json::{Value, json};

use crate::{
    common::{TestApp, error_code},
    connector::{authorized_profile, env_with},
};

const AUDIT_LOG: &str = "query($first: Int, $after: String, $filter: AuditLogFilter) { auditLog(first: $first, after: $after, filter: $filter) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id at actor actorUserId operation objectType objectId details context } } } }";

async fn audit_log(app: &TestApp, token: &str, variables: Value) -> Value {
    let answer = app.query(Some(token), AUDIT_LOG, variables).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"]["auditLog"].clone()
}

fn nodes(page: &Value) -> Vec<Value> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

async fn viewer_id(app: &TestApp, token: &str) -> String {
    let answer = app.query(Some(token), "{ viewer { id } }", json!({})).await;
    answer["data"]["viewer"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_leads_life_is_recorded_by_who_and_what_without_its_values() {
    let app = TestApp::new().await;
    let system = app.token(&[Role::SystemAdministrator]).await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    let admin = app.token(&[Role::LeadgenAdministrator]).await;
    let (email, first_name) = ("rosalind.franklin@kings.example", "Rosalind");

    let created = app
        .query(
            Some(&sales),
            "mutation($input: CreateLeadInput!) { createLead(input: $input) { id } }",
            json!({ "input": { "email": email, "company": "King's College" } }),
        )
        .await;
    let lead_id = created["data"]["createLead"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let updated = app
        .query(
            Some(&sales),
            "mutation($id: ID!, $input: UpdateLeadInput!) { updateLead(id: $id, input: $input) { id } }",
            json!({ "id": lead_id, "input": { "firstName": first_name, "jobTitle": null } }),
        )
        .await;
    assert!(updated.get("errors").is_none(), "{updated}");
    let exported = app
        .query(
            Some(&admin),
            "query($email: String!) { exportPersonalData(email: $email) }",
            json!({ "email": email }),
        )
        .await;
    let export = &exported["data"]["exportPersonalData"];
    assert_eq!(
        export["audit"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["operation"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["createLead", "updateLead"],
        "the export carries the lead's audit entries: {export}"
    );
    let erased = app
        .query(
            Some(&admin),
            "mutation($id: ID!) { eraseLead(id: $id) { id } }",
            json!({ "id": lead_id }),
        )
        .await;
    assert!(erased.get("errors").is_none(), "{erased}");

    let page = audit_log(
        &app,
        &system,
        json!({ "filter": { "objectType": "Lead", "objectId": lead_id } }),
    )
    .await;
    let entries = nodes(&page);
    let operations: Vec<&str> = entries
        .iter()
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        operations,
        [
            "eraseLead",
            "exportPersonalData",
            "updateLead",
            "createLead"
        ],
        "newest first"
    );
    assert_eq!(page["totalCount"], 4);
    let (sales_id, admin_id) = (viewer_id(&app, &sales).await, viewer_id(&app, &admin).await);
    let who: Vec<&str> = entries
        .iter()
        .map(|e| e["actorUserId"].as_str().unwrap())
        .collect();
    assert_eq!(who, [&admin_id, &admin_id, &sales_id, &sales_id]);
    assert!(entries.iter().all(|e| e["actor"] == "USER"));
    let mut times: Vec<&str> = entries.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let newest_first = times.clone();
    times.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(times, newest_first);

    // Which fields changed, never their values.
    assert_eq!(
        entries[2]["details"]["fieldsChanged"],
        json!(["firstName", "jobTitle"])
    );
    assert_eq!(
        entries[3]["details"],
        json!({ "fieldsSet": ["email", "company"], "source": "MANUAL" })
    );
    let text = page.to_string().to_lowercase();
    for personal in [email, first_name, "king's college"] {
        assert!(
            !text.contains(&personal.to_lowercase()),
            "{personal} in {text}"
        );
    }
}

#[tokio::test]
async fn only_system_administrators_read_the_trail_and_nobody_can_change_it() {
    let app = TestApp::new().await;
    for role in [
        Role::LeadgenAdministrator,
        Role::LeadgenSalesperson,
        Role::S2sInbound,
    ] {
        let token = app.token(&[role]).await;
        let answer = app.query(Some(&token), AUDIT_LOG, json!({})).await;
        assert_eq!(
            error_code(&answer).as_deref(),
            Some("FORBIDDEN"),
            "{role:?}"
        );
    }
    let answer = app.query(None, AUDIT_LOG, json!({})).await;
    assert_eq!(error_code(&answer).as_deref(), Some("UNAUTHENTICATED"));

    let system = app.token(&[Role::SystemAdministrator]).await;
    let answer = app
        .query(
            Some(&system),
            "{ __schema { mutationType { fields { name } } } }",
            json!({}),
        )
        .await;
    let mutations: Vec<&str> = answer["data"]["__schema"]["mutationType"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(!mutations.is_empty());
    assert!(
        mutations
            .iter()
            .all(|m| !m.to_lowercase().contains("audit")),
        "no mutation touches the trail: {mutations:?}"
    );

    // Nor does SQL through the application's own connection: the database refuses.
    let made = app
        .query(
            Some(&system),
            "mutation { createUser(input: { name: \"Auditor\", roles: [LEADGEN_SALESPERSON] }) { user { id } } }",
            json!({}),
        )
        .await;
    assert!(made.get("errors").is_none(), "{made}");
    use sea_orm::ConnectionTrait;
    for sql in [
        "UPDATE audit_log SET operation = 'nothing happened'",
        "DELETE FROM audit_log",
    ] {
        let refused = app.db.execute_unprepared(sql).await;
        assert!(refused.is_err(), "{sql} was allowed");
    }
    let page = audit_log(
        &app,
        &system,
        json!({ "filter": { "operation": "createUser" } }),
    )
    .await;
    assert_eq!(page["totalCount"], 1, "the entry is still there, unchanged");
}

#[tokio::test]
async fn the_trail_pages_newest_first_without_gaps_or_repeats_and_filters() {
    let app = TestApp::new().await;
    let system = app.token(&[Role::SystemAdministrator]).await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    for i in 0..7 {
        let answer = app
            .query(
                Some(&sales),
                "mutation($input: CreateLeadInput!) { createLead(input: $input) { id } }",
                json!({ "input": { "company": format!("Company {i}") } }),
            )
            .await;
        assert!(answer.get("errors").is_none(), "{answer}");
    }
    let filter = json!({ "operation": "createLead" });
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = audit_log(
            &app,
            &system,
            json!({ "first": 3, "after": after, "filter": filter }),
        )
        .await;
        assert_eq!(page["totalCount"], 7);
        seen.extend(
            nodes(&page)
                .iter()
                .map(|n| n["id"].as_str().unwrap().parse::<i64>().unwrap()),
        );
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), 7);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 7, "no repeats");
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first");

    let by_actor = audit_log(
        &app,
        &system,
        json!({ "filter": { "userId": viewer_id(&app, &system).await } }),
    )
    .await;
    assert_eq!(by_actor["totalCount"], 0, "the reader wrote nothing");
    let future = audit_log(
        &app,
        &system,
        json!({ "filter": { "since": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339() } }),
    )
    .await;
    assert_eq!(future["totalCount"], 0);
}

#[tokio::test]
async fn syncs_and_webhooks_are_recorded_as_the_system_with_their_run_or_notification() {
    let env = env_with(
        SandboxConfig {
            leads_per_account: 5,
            ..Default::default()
        },
        |_| {},
    )
    .await;
    let profile = authorized_profile(&env).await;
    let system = env.app.token(&[Role::SystemAdministrator]).await;
    let page = audit_log(
        &env.app,
        &system,
        json!({ "filter": { "operation": "syncRun" } }),
    )
    .await;
    let run = &nodes(&page)[0];
    // LinkedIn's redirect completed the authorization: recorded as the salesperson who asked.
    let authorized = audit_log(
        &env.app,
        &system,
        json!({ "filter": { "operation": "completeLinkedInAuthorization", "objectId": profile } }),
    )
    .await;
    let entry = &nodes(&authorized)[0];
    assert_eq!(entry["actor"], "USER");
    assert_eq!(entry["actorUserId"], viewer_id(&env.app, &env.sales).await);
    assert!(
        entry["details"]["scopes"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(run["actor"], "S2S");
    assert!(run["actorUserId"].is_null());
    assert_eq!(run["objectType"], "LinkedInUserProfile");
    assert_eq!(run["objectId"], profile.as_str());
    assert!(run["context"].as_str().unwrap().starts_with("syncRun:"));
    assert_eq!(run["details"]["status"], "SUCCEEDED");
    assert!(run["details"]["submissionsCreated"].as_i64().unwrap() > 0);

    let account = env
        .sandbox
        .accounts()
        .into_iter()
        .find(|a| !a.forbidden)
        .unwrap();
    let new_id = env.sandbox.add_leads(&account.id, 1).remove(0);
    let mut entry = None;
    for _ in 0..200 {
        let page = audit_log(
            &env.app,
            &system,
            json!({ "filter": { "operation": "webhookNotification", "objectId": new_id } }),
        )
        .await;
        if let Some(n) = nodes(&page).first() {
            entry = Some(n.clone());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let entry = entry.expect("the webhook's write is recorded");
    assert_eq!(entry["actor"], "S2S");
    assert_eq!(entry["details"]["leadAction"], "CREATED");
    assert!(
        entry["context"]
            .as_str()
            .unwrap()
            .starts_with("webhookNotification:")
    );
}

/// A switch that makes the trail refuse new entries, as a full disk or a broken trail table
/// would: a trigger that raises while `trail_switch.blocked` is 1.
fn trail_switch(postgres: bool) -> &'static str {
    if postgres {
        "CREATE TABLE trail_switch (blocked INTEGER NOT NULL); \
         INSERT INTO trail_switch VALUES (0); \
         CREATE FUNCTION audit_log_blocked() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF (SELECT blocked FROM trail_switch) = 1 THEN \
         RAISE EXCEPTION 'the trail is unavailable'; END IF; RETURN NEW; END $$; \
         CREATE TRIGGER audit_log_blocked BEFORE INSERT ON audit_log \
         FOR EACH ROW EXECUTE FUNCTION audit_log_blocked();"
    } else {
        "CREATE TABLE trail_switch (blocked INTEGER NOT NULL); \
         INSERT INTO trail_switch VALUES (0); \
         CREATE TRIGGER audit_log_blocked BEFORE INSERT ON audit_log \
         WHEN (SELECT blocked FROM trail_switch) = 1 \
         BEGIN SELECT RAISE(ABORT, 'the trail is unavailable'); END;"
    }
}

async fn block_trail(app: &TestApp, blocked: bool) {
    use sea_orm::ConnectionTrait;
    let sql = format!("UPDATE trail_switch SET blocked = {}", i32::from(blocked));
    app.db.execute_unprepared(&sql).await.unwrap();
}

/// What the writes below change, read from the database (not through the API).
async fn written_state(app: &TestApp, lead_id: i64) -> Value {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let lead = entity::lead::Entity::find_by_id(lead_id)
        .one(&app.db)
        .await
        .unwrap();
    let config = leadsync::service::configuration::get(&app.db)
        .await
        .unwrap();
    json!({
        "users": entity::api_user::Entity::find().count(&app.db).await.unwrap(),
        "leads": entity::lead::Entity::find().count(&app.db).await.unwrap(),
        "lead": lead.map(|l| json!([l.company, l.job_title])),
        "mappings": entity::field_mapping::Entity::find().count(&app.db).await.unwrap(),
        "strategies": entity::matching_strategy::Entity::find().count(&app.db).await.unwrap(),
        "profiles": entity::linkedin_profile::Entity::find().count(&app.db).await.unwrap(),
        "endpoints": entity::webhook_endpoint::Entity::find().count(&app.db).await.unwrap(),
        "syncInterval": config.sync_interval_seconds,
        "trail": entity::audit_entry::Entity::find().count(&app.db).await.unwrap(),
    })
}

#[tokio::test]
async fn a_write_whose_audit_entry_cannot_be_recorded_does_not_happen() {
    let postgres = std::env::var("TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty());
    let app = TestApp::with_schema_and_config(trail_switch(postgres), |c| {
        c.webhooks.webhooks_allow_http = true;
        c.webhooks.webhooks_allow_private = true;
    })
    .await;
    assert_eq!(app.test_db.is_postgres(), postgres);
    let system = app.admin().await;
    let admin = app
        .token(&[Role::LeadgenAdministrator, Role::LeadgenSalesperson])
        .await;
    let created = app
        .query(
            Some(&admin),
            "mutation { createLead(input: { firstName: \"Kept\", company: \"Before\" }) { id } }",
            json!({}),
        )
        .await;
    let lead = created["data"]["createLead"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let lead_id: i64 = lead.parse().unwrap();
    let writes: Vec<(&str, &str, Value)> = vec![
        (
            &system,
            "mutation { createUser(input: { name: \"blocked\", roles: [LEADGEN_SALESPERSON] }) { token } }",
            json!({}),
        ),
        (
            &admin,
            "mutation { createLead(input: { firstName: \"Never\" }) { id } }",
            json!({}),
        ),
        (
            &admin,
            "mutation($id: ID!) { updateLead(id: $id, input: { company: \"After\", jobTitle: \"CTO\" }) { id } }",
            json!({ "id": lead }),
        ),
        (
            &admin,
            "mutation($id: ID!) { eraseLead(id: $id) { id } }",
            json!({ "id": lead }),
        ),
        (
            &admin,
            "mutation($id: ID!) { deleteLead(id: $id) { id } }",
            json!({ "id": lead }),
        ),
        (
            &admin,
            "mutation { createFieldMapping(input: { linkedInField: \"Budget\", leadField: \"custom.budget\" }) { id } }",
            json!({}),
        ),
        (
            &admin,
            "mutation { createLeadMatchingStrategy(input: { name: \"blocked\" }) { id } }",
            json!({}),
        ),
        (
            &admin,
            "mutation { updateIntegrationConfiguration(input: { syncIntervalSeconds: 7200 }) { syncIntervalSeconds } }",
            json!({}),
        ),
        (
            &admin,
            "mutation { createLinkedInUserProfile(input: { name: \"blocked\" }) { id } }",
            json!({}),
        ),
        (
            &admin,
            "mutation { createWebhookEndpoint(input: { url: \"http://127.0.0.1:9/hook\", eventTypes: [LEAD_CREATED] }) { secret } }",
            json!({}),
        ),
    ];

    let before = written_state(&app, lead_id).await;
    block_trail(&app, true).await;
    for (token, query, variables) in &writes {
        let answer = app.query(Some(token), query, variables.clone()).await;
        assert_eq!(
            error_code(&answer).as_deref(),
            Some("INTERNAL"),
            "{query}: {answer}"
        );
        assert!(
            !answer.to_string().contains("unavailable"),
            "the database's words stay in the log: {answer}"
        );
    }
    assert_eq!(
        written_state(&app, lead_id).await,
        before,
        "no write happened without its entry"
    );

    // With the trail back, each write happens with its entry.
    block_trail(&app, false).await;
    for (token, query, variables) in &writes {
        let answer = app.query(Some(token), query, variables.clone()).await;
        let expected_missing = query.contains("deleteLead");
        assert_eq!(
            answer.get("errors").is_some(),
            expected_missing,
            "{query}: {answer}"
        );
    }
    let after = written_state(&app, lead_id).await;
    assert_eq!(after["users"], before["users"].as_u64().unwrap() + 1);
    assert_eq!(after["leads"], before["leads"], "one created, one erased");
    assert_eq!(after["lead"], Value::Null, "erased");
    assert_eq!(after["mappings"], before["mappings"].as_u64().unwrap() + 1);
    assert_eq!(
        after["strategies"],
        before["strategies"].as_u64().unwrap() + 1
    );
    assert_eq!(after["profiles"], before["profiles"].as_u64().unwrap() + 1);
    assert_eq!(
        after["endpoints"],
        before["endpoints"].as_u64().unwrap() + 1
    );
    assert_eq!(after["syncInterval"], 7200);
    // Nine writes, nine entries (the delete of an erased lead is refused and writes none).
    assert_eq!(after["trail"], before["trail"].as_u64().unwrap() + 9);
}
