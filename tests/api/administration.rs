//! Users administration (tokens, disabling, roles, lockout safety), strategy updates and the
//! unmapped questions of synced forms: what an administrator sees and what takes effect at once.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use entity::{audit_entry, field_mapping, linkedin_form_question, submission_answer};
use leadsync::{
    domain::Role,
    error::AppError,
    linkedin::sandbox::SandboxConfig,
    service::{matching::mapping_for, users},
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::{
    common::{TestApp, error_code},
    connector::{authorized_profile, env_with},
};

const USER: &str = "id name roles disabledAt tokens { id createdAt lastUsedAt revokedAt }";

/// The `data` of a response that must have no error.
fn data(response: Value) -> Value {
    assert!(response.get("errors").is_none(), "{response:#}");
    response["data"].clone()
}

async fn viewer(app: &TestApp, token: &str) -> Value {
    app.query(Some(token), "{ viewer { id name roles } }", json!({}))
        .await
}

async fn create_user(app: &TestApp, admin: &str, name: &str, roles: Value) -> (String, String) {
    let made = data(
        app.query(
            Some(admin),
            "mutation($input: CreateUserInput!) { createUser(input: $input) { token user { id } } }",
            json!({ "input": { "name": name, "roles": roles } }),
        )
        .await,
    );
    (
        made["createUser"]["user"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        made["createUser"]["token"].as_str().unwrap().to_owned(),
    )
}

/// User `id` as `users` lists it.
async fn user(app: &TestApp, admin: &str, id: &str) -> Value {
    let users = data(
        app.query(Some(admin), &format!("{{ users {{ {USER} }} }}"), json!({}))
            .await,
    );
    users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .unwrap_or_else(|| panic!("user {id} not listed: {users}"))
        .clone()
}

async fn rotate(app: &TestApp, admin: &str, user_id: &str) -> Value {
    app.query(
        Some(admin),
        &format!(
            "mutation($id: ID!) {{ rotateUserToken(userId: $id) {{ token user {{ {USER} }} }} }}"
        ),
        json!({ "id": user_id }),
    )
    .await
}

async fn revoke(app: &TestApp, admin: &str, token_id: &str) -> Value {
    app.query(
        Some(admin),
        "mutation($id: ID!) { revokeApiToken(id: $id) { id createdAt lastUsedAt revokedAt } }",
        json!({ "id": token_id }),
    )
    .await
}

async fn set_disabled(app: &TestApp, admin: &str, id: &str, disabled: bool) -> Value {
    let field = if disabled {
        "disableUser"
    } else {
        "enableUser"
    };
    app.query(
        Some(admin),
        &format!("mutation($id: ID!) {{ {field}(id: $id) {{ {USER} }} }}"),
        json!({ "id": id }),
    )
    .await
}

async fn update_roles(app: &TestApp, admin: &str, id: &str, roles: Value) -> Value {
    app.query(
        Some(admin),
        &format!("mutation($id: ID!, $roles: [Role!]!) {{ updateUserRoles(id: $id, roles: $roles) {{ {USER} }} }}"),
        json!({ "id": id, "roles": roles }),
    )
    .await
}

/// The audit entries of `operation`, oldest first.
async fn audit(app: &TestApp, operation: &str) -> Vec<audit_entry::Model> {
    audit_entry::Entity::find()
        .filter(audit_entry::Column::Operation.eq(operation))
        .order_by_asc(audit_entry::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
}

/// Every stored token hash: no audit entry may hold one, nor a token.
async fn token_hashes(app: &TestApp) -> Vec<String> {
    entity::api_token::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.token_hash)
        .collect()
}

async fn assert_audit_names_no_token(app: &TestApp, tokens: &[&str]) {
    let hashes = token_hashes(app).await;
    for entry in audit_entry::Entity::find().all(&app.db).await.unwrap() {
        let text = serde_json::to_string(&entry.details).unwrap();
        for secret in tokens
            .iter()
            .copied()
            .chain(hashes.iter().map(String::as_str))
        {
            assert!(
                !text.contains(secret),
                "{} names a token: {text}",
                entry.operation
            );
        }
    }
}

#[tokio::test]
async fn a_created_users_token_works_and_rotation_replaces_it_at_once() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (id, first) = create_user(&app, &admin, "Sales Bot", json!(["LEADGEN_SALESPERSON"])).await;
    let signed_in = data(viewer(&app, &first).await);
    assert_eq!(signed_in["viewer"]["name"], "Sales Bot");

    let rotated = data(rotate(&app, &admin, &id).await)["rotateUserToken"].clone();
    let second = rotated["token"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    assert_eq!(rotated["user"]["id"], json!(id));
    // The old token was remembered by the server a moment ago: it stops all the same.
    let refused = viewer(&app, &first).await;
    assert_eq!(error_code(&refused).as_deref(), Some("UNAUTHENTICATED"));
    assert_eq!(
        data(viewer(&app, &second).await)["viewer"]["name"],
        "Sales Bot"
    );

    // Both tokens are listed, newest first, never their values: the old one used and revoked,
    // the new one used and live.
    let listed = user(&app, &admin, &id).await;
    let tokens = listed["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2, "{listed}");
    assert!(tokens[0]["revokedAt"].is_null(), "{listed}");
    assert!(tokens[0]["lastUsedAt"].is_string(), "{listed}");
    assert!(tokens[1]["revokedAt"].is_string(), "{listed}");
    assert!(tokens[1]["lastUsedAt"].is_string(), "{listed}");
    assert!(!listed.to_string().contains(&second));

    let entries = audit(&app, "rotateUserToken").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].object_id.as_deref(), Some(id.as_str()));
    assert_eq!(
        entries[0].details,
        Some(json!({ "tokensRevoked": 1, "token": "issued" }))
    );
    assert_audit_names_no_token(&app, &[&first, &second, &admin]).await;

    let missing = rotate(&app, &admin, "999999").await;
    assert_eq!(error_code(&missing).as_deref(), Some("NOT_FOUND"));
}

#[tokio::test]
async fn a_revoked_token_stops_at_once_and_shows_when() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (id, token) = create_user(&app, &admin, "Inbound", json!(["S2S_INBOUND"])).await;
    let before = user(&app, &admin, &id).await;
    assert!(
        before["tokens"][0]["lastUsedAt"].is_null(),
        "never used yet"
    );
    data(viewer(&app, &token).await);
    let used = user(&app, &admin, &id).await;
    assert!(used["tokens"][0]["lastUsedAt"].is_string(), "{used}");
    let token_id = used["tokens"][0]["id"].as_str().unwrap().to_owned();

    let revoked = data(revoke(&app, &admin, &token_id).await)["revokeApiToken"].clone();
    assert_eq!(revoked["id"], json!(token_id));
    assert!(revoked["revokedAt"].is_string(), "{revoked}");
    let refused = viewer(&app, &token).await;
    assert_eq!(error_code(&refused).as_deref(), Some("UNAUTHENTICATED"));
    assert_eq!(user(&app, &admin, &id).await["tokens"][0], revoked);

    // Revoking it again changes nothing; an unknown token is not found.
    let again = data(revoke(&app, &admin, &token_id).await)["revokeApiToken"].clone();
    assert_eq!(again, revoked);
    let missing = revoke(&app, &admin, "999999").await;
    assert_eq!(error_code(&missing).as_deref(), Some("NOT_FOUND"));

    let entries = audit(&app, "revokeApiToken").await;
    assert_eq!(entries.len(), 2, "one entry per call");
    assert_eq!(entries[0].object_type, "ApiToken");
    assert_eq!(entries[0].object_id.as_deref(), Some(token_id.as_str()));
    assert_eq!(
        entries[0].details,
        Some(json!({ "userId": id.parse::<i64>().unwrap() }))
    );
    assert_audit_names_no_token(&app, &[&token, &admin]).await;
}

#[tokio::test]
async fn a_disabled_users_token_stops_and_works_again_after_enable() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (id, token) = create_user(&app, &admin, "Sam", json!(["LEADGEN_SALESPERSON"])).await;
    data(viewer(&app, &token).await);

    let disabled = data(set_disabled(&app, &admin, &id, true).await)["disableUser"].clone();
    assert!(disabled["disabledAt"].is_string(), "{disabled}");
    let refused = app
        .query(
            Some(&token),
            "{ leads(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&refused).as_deref(), Some("UNAUTHENTICATED"));
    // Disabling twice keeps the first time.
    let again = data(set_disabled(&app, &admin, &id, true).await)["disableUser"].clone();
    assert_eq!(again["disabledAt"], disabled["disabledAt"]);

    let enabled = data(set_disabled(&app, &admin, &id, false).await)["enableUser"].clone();
    assert!(enabled["disabledAt"].is_null(), "{enabled}");
    assert!(
        enabled["tokens"][0]["revokedAt"].is_null(),
        "its token was never revoked"
    );
    assert_eq!(data(viewer(&app, &token).await)["viewer"]["name"], "Sam");

    for (field, disabled) in [("disableUser", true), ("enableUser", false)] {
        let missing = set_disabled(&app, &admin, "999999", disabled).await;
        assert_eq!(
            error_code(&missing).as_deref(),
            Some("NOT_FOUND"),
            "{field}"
        );
        let entries = audit(&app, field).await;
        assert_eq!(entries.len(), if disabled { 2 } else { 1 }, "{field}");
        assert_eq!(entries[0].object_id.as_deref(), Some(id.as_str()));
    }
    assert_audit_names_no_token(&app, &[&token, &admin]).await;
}

#[tokio::test]
async fn role_changes_change_what_the_user_may_do_at_once() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (id, token) = create_user(&app, &admin, "Deputy", json!(["SYSTEM_ADMINISTRATOR"])).await;
    data(app.query(Some(&token), "{ users { id } }", json!({})).await);

    let changed = data(update_roles(&app, &admin, &id, json!(["LEADGEN_SALESPERSON"])).await);
    assert_eq!(
        changed["updateUserRoles"]["roles"],
        json!(["LEADGEN_SALESPERSON"])
    );
    // The former administrator, remembered by the server a moment ago, is refused at once.
    let refused = app.query(Some(&token), "{ users { id } }", json!({})).await;
    assert_eq!(error_code(&refused).as_deref(), Some("FORBIDDEN"));
    assert_eq!(
        data(viewer(&app, &token).await)["viewer"]["roles"],
        json!(["LEADGEN_SALESPERSON"])
    );
    data(
        app.query(
            Some(&token),
            "{ leads(first: 1) { totalCount } }",
            json!({}),
        )
        .await,
    );
    let refused = app
        .query(Some(&token), "{ fieldMappings { id } }", json!({}))
        .await;
    assert_eq!(error_code(&refused).as_deref(), Some("FORBIDDEN"));

    // And the other way: a new role works at once.
    data(
        update_roles(
            &app,
            &admin,
            &id,
            json!([
                "LEADGEN_ADMINISTRATOR",
                "LEADGEN_SALESPERSON",
                "LEADGEN_ADMINISTRATOR"
            ]),
        )
        .await,
    );
    data(
        app.query(Some(&token), "{ fieldMappings { id } }", json!({}))
            .await,
    );
    assert_eq!(
        data(viewer(&app, &token).await)["viewer"]["roles"],
        json!(["LEADGEN_ADMINISTRATOR", "LEADGEN_SALESPERSON"])
    );

    let empty = update_roles(&app, &admin, &id, json!([])).await;
    assert_eq!(error_code(&empty).as_deref(), Some("BAD_USER_INPUT"));
    let missing = update_roles(&app, &admin, "999999", json!(["S2S_INBOUND"])).await;
    assert_eq!(error_code(&missing).as_deref(), Some("NOT_FOUND"));

    let entries = audit(&app, "updateUserRoles").await;
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].object_id.as_deref(), Some(id.as_str()));
    assert_eq!(
        entries[0].details,
        Some(
            json!({ "roles": ["LEADGEN_SALESPERSON"], "previousRoles": ["SYSTEM_ADMINISTRATOR"] })
        )
    );
    assert_audit_names_no_token(&app, &[&token, &admin]).await;
}

#[tokio::test]
async fn nobody_locks_the_administrators_out() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let me = data(viewer(&app, &admin).await)["viewer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Not yourself: neither disabled nor demoted.
    let refused = set_disabled(&app, &admin, &me, true).await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("CONFLICT"),
        "{refused}"
    );
    let refused = update_roles(&app, &admin, &me, json!(["LEADGEN_ADMINISTRATOR"])).await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("CONFLICT"),
        "{refused}"
    );
    // Other roles beside it are fine.
    let kept = data(
        update_roles(
            &app,
            &admin,
            &me,
            json!(["SYSTEM_ADMINISTRATOR", "LEADGEN_SALESPERSON"]),
        )
        .await,
    );
    assert_eq!(
        kept["updateUserRoles"]["roles"],
        json!(["LEADGEN_SALESPERSON", "SYSTEM_ADMINISTRATOR"])
    );
    // The only administrator's only token is kept; rotating it gives a working one.
    let mine = user(&app, &admin, &me).await["tokens"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = revoke(&app, &admin, &mine).await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("CONFLICT"),
        "{refused}"
    );
    let admin = data(rotate(&app, &admin, &me).await)["rotateUserToken"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    data(app.query(Some(&admin), "{ users { id } }", json!({})).await);

    // A second administrator, demoted meanwhile by an operator in the database while the
    // server still remembers their token as an administrator's, cannot disable or demote the
    // last one: the check reads the database.
    let (deputy_id, deputy) =
        create_user(&app, &admin, "Deputy", json!(["SYSTEM_ADMINISTRATOR"])).await;
    data(
        app.query(Some(&deputy), "{ users { id } }", json!({}))
            .await,
    );
    app.db
        .execute_unprepared(&format!(
            "DELETE FROM api_user_roles WHERE user_id = {deputy_id}"
        ))
        .await
        .unwrap();
    for refused in [
        set_disabled(&app, &deputy, &me, true).await,
        update_roles(&app, &deputy, &me, json!(["S2S_INBOUND"])).await,
    ] {
        assert_eq!(
            error_code(&refused).as_deref(),
            Some("CONFLICT"),
            "{refused}"
        );
        assert!(
            refused["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("last enabled system administrator"),
            "{refused}"
        );
    }
    data(app.query(Some(&admin), "{ users { id } }", json!({})).await);

    // The same rules in the service, whoever calls it.
    let me_id: i64 = me.parse().unwrap();
    let other: i64 = deputy_id.parse().unwrap();
    assert!(matches!(
        users::disable_user(&app.db, other, me_id).await,
        Err(AppError::Conflict(_))
    ));
    assert!(matches!(
        users::update_roles(&app.db, other, me_id, &[Role::LeadgenAdministrator]).await,
        Err(AppError::Conflict(_))
    ));

    // With a second usable administrator, one may disable or demote the other.
    data(update_roles(&app, &admin, &deputy_id, json!(["SYSTEM_ADMINISTRATOR"])).await);
    data(set_disabled(&app, &admin, &deputy_id, true).await);
    data(set_disabled(&app, &admin, &deputy_id, false).await);
    data(update_roles(&app, &deputy, &me, json!(["LEADGEN_ADMINISTRATOR"])).await);
    let refused = app.query(Some(&admin), "{ users { id } }", json!({})).await;
    assert_eq!(error_code(&refused).as_deref(), Some("FORBIDDEN"));
}

/// Two administrators demoting (or disabling) each other at the same moment: one wins, the
/// other is refused, and an administrator remains.
#[tokio::test]
async fn administrators_removing_each_other_at_once_leave_one() {
    let app = TestApp::new().await;
    let setup = app.admin().await;
    for round in 0..4 {
        let (a_id, a) = create_user(&app, &setup, "A", json!(["SYSTEM_ADMINISTRATOR"])).await;
        let (b_id, b) = create_user(&app, &setup, "B", json!(["SYSTEM_ADMINISTRATOR"])).await;
        // The setup administrator steps out of the way: only A and B can administer.
        let setup_id = data(viewer(&app, &setup).await)["viewer"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        data(set_disabled(&app, &a, &setup_id, true).await);
        // Both remembered by the server: both requests pass their guards and race in the
        // database.
        data(viewer(&app, &a).await);
        data(viewer(&app, &b).await);
        let (first, second) = if round % 2 == 0 {
            tokio::join!(
                update_roles(&app, &a, &b_id, json!(["LEADGEN_SALESPERSON"])),
                update_roles(&app, &b, &a_id, json!(["LEADGEN_SALESPERSON"])),
            )
        } else {
            tokio::join!(
                set_disabled(&app, &a, &b_id, true),
                set_disabled(&app, &b, &a_id, true),
            )
        };
        // The loser is refused by the check (CONFLICT) or, when the winner's write landed
        // before its request was authenticated, by its new standing.
        let codes = [error_code(&first), error_code(&second)];
        let refused = codes.iter().flatten().collect::<Vec<_>>();
        assert!(
            codes.contains(&None)
                && refused.len() == 1
                && ["CONFLICT", "FORBIDDEN", "UNAUTHENTICATED"].contains(&refused[0].as_str()),
            "round {round}: {first} {second}"
        );
        let winner = if codes[0].is_none() { &a } else { &b };
        data(app.query(Some(winner), "{ users { id } }", json!({})).await);
        // Next round: the setup administrator back, A and B out.
        data(set_disabled(&app, winner, &setup_id, false).await);
        data(set_disabled(&app, &setup, &a_id, true).await);
        data(set_disabled(&app, &setup, &b_id, true).await);
    }
}

async fn update_strategy(app: &TestApp, token: &str, id: &Value, input: Value) -> Value {
    app.query(
        Some(token),
        "mutation($id: ID!, $input: UpdateLeadMatchingStrategyInput!) { updateLeadMatchingStrategy(id: $id, input: $input) { id name isActive alwaysCreateLead fields { linkedInField } } }",
        json!({ "id": id, "input": input }),
    )
    .await
}

#[tokio::test]
async fn a_strategy_is_renamed_and_its_always_create_lead_changed() {
    let app = TestApp::new().await;
    let admin = app.token(&[Role::LeadgenAdministrator]).await;
    let created = app
        .op_ok(
            &admin,
            "CreateLeadMatchingStrategy",
            json!({ "input": { "name": "Phone" } }),
        )
        .await["createLeadMatchingStrategy"]["id"]
        .clone();

    let renamed =
        data(update_strategy(&app, &admin, &created, json!({ "name": "  By phone " })).await);
    assert_eq!(
        renamed["updateLeadMatchingStrategy"],
        json!({ "id": created, "name": "By phone", "isActive": false, "alwaysCreateLead": false, "fields": [] })
    );
    let always =
        data(update_strategy(&app, &admin, &created, json!({ "alwaysCreateLead": true })).await);
    assert_eq!(
        always["updateLeadMatchingStrategy"]["name"], "By phone",
        "an omitted name stays"
    );
    assert_eq!(
        always["updateLeadMatchingStrategy"]["alwaysCreateLead"],
        true
    );
    let listed = app.op_ok(&admin, "LeadMatchingStrategies", json!({})).await;
    let strategies = listed["leadMatchingStrategies"].as_array().unwrap();
    let mine = strategies.iter().find(|s| s["id"] == created).unwrap();
    assert_eq!(
        (&mine["name"], &mine["alwaysCreateLead"]),
        (&json!("By phone"), &json!(true))
    );
    let email = strategies.iter().find(|s| s["name"] == "Email").unwrap()["id"].clone();

    // Names follow the rules of creation.
    for (name, code) in [
        (json!("   "), "BAD_USER_INPUT"),
        (json!("x".repeat(201)), "BAD_USER_INPUT"),
        (json!("Email"), "CONFLICT"),
    ] {
        let refused = update_strategy(&app, &admin, &created, json!({ "name": name })).await;
        assert_eq!(
            error_code(&refused).as_deref(),
            Some(code),
            "{name}: {refused}"
        );
    }
    let missing = update_strategy(&app, &admin, &json!("999999"), json!({ "name": "Y" })).await;
    assert_eq!(error_code(&missing).as_deref(), Some("NOT_FOUND"));
    // Its own name again is no conflict.
    data(update_strategy(&app, &admin, &created, json!({ "name": "By phone" })).await);

    // The active strategy keeps matching something: without fields it keeps alwaysCreateLead.
    app.op_ok(&admin, "ActivateStrategy", json!({ "id": created }))
        .await;
    let refused =
        update_strategy(&app, &admin, &created, json!({ "alwaysCreateLead": false })).await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("CONFLICT"),
        "{refused}"
    );
    // The active Email strategy again, which has a field: it may go either way.
    app.op_ok(&admin, "ActivateStrategy", json!({ "id": email }))
        .await;
    for always in [true, false] {
        let changed = data(
            update_strategy(&app, &admin, &email, json!({ "alwaysCreateLead": always })).await,
        );
        assert_eq!(
            changed["updateLeadMatchingStrategy"]["alwaysCreateLead"],
            always
        );
        assert_eq!(changed["updateLeadMatchingStrategy"]["isActive"], true);
    }

    let entries = audit(&app, "updateLeadMatchingStrategy").await;
    assert_eq!(entries.len(), 5, "one entry per change made");
    assert_eq!(entries[0].object_id, created.as_str().map(str::to_owned));
    assert_eq!(entries[0].details, Some(json!({ "name": "By phone" })));
    assert_eq!(
        entries[1].details,
        Some(json!({ "alwaysCreateLead": true }))
    );
}

/// The name a question is mapped by (as `unmappedQuestions` shows it), lowercased: mappings
/// compare custom names case-insensitively.
fn key(q: &linkedin_form_question::Model) -> String {
    match &q.predefined_field {
        Some(field) => field.to_ascii_lowercase(),
        None => q
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(q.text.trim())
            .to_ascii_lowercase(),
    }
}

/// (forms, answers) of every unmapped question by its mapping key, counted row by row from
/// what the database holds.
async fn unmapped_in_the_database(app: &TestApp) -> BTreeMap<String, (i64, i64)> {
    let mappings = field_mapping::Entity::find().all(&app.db).await.unwrap();
    let questions = linkedin_form_question::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    let mut answers: HashMap<i64, i64> = HashMap::new();
    for a in submission_answer::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
    {
        if let Some(q) = a.question_id {
            *answers.entry(q).or_default() += 1;
        }
    }
    let mut out: BTreeMap<String, (BTreeSet<i64>, i64)> = BTreeMap::new();
    for q in questions.iter().filter(|q| !q.is_consent).filter(|q| {
        mapping_for(
            &mappings,
            q.predefined_field.as_deref(),
            q.name.as_deref(),
            &q.text,
        )
        .is_none()
    }) {
        let entry = out.entry(key(q)).or_default();
        entry.0.insert(q.form_id);
        entry.1 += answers.get(&q.id).copied().unwrap_or(0);
    }
    out.into_iter()
        .map(|(k, (forms, answers))| (k, (forms.len() as i64, answers)))
        .collect()
}

async fn unmapped_listed(app: &TestApp, token: &str) -> Vec<Value> {
    data(
        app.query(
            Some(token),
            "{ unmappedQuestions { name questionText forms answers } }",
            json!({}),
        )
        .await,
    )["unmappedQuestions"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn unmapped_questions_count_what_the_synced_forms_hold() {
    let env = env_with(
        SandboxConfig {
            leads_per_account: 20,
            ..Default::default()
        },
        |_| {},
    )
    .await;
    authorized_profile(&env).await;
    let app = &env.app;
    let admin = app.token(&[Role::LeadgenAdministrator]).await;

    let listed = unmapped_listed(app, &admin).await;
    let expected = unmapped_in_the_database(app).await;
    assert!(
        !expected.is_empty(),
        "the sandbox forms ask custom questions"
    );
    assert!(
        expected.values().any(|(forms, _)| *forms > 1),
        "a question asked by several forms: {expected:?}"
    );
    let got: BTreeMap<String, (i64, i64)> = listed
        .iter()
        .map(|q| {
            let name = q["name"].as_str().unwrap().to_ascii_lowercase();
            (
                name,
                (q["forms"].as_i64().unwrap(), q["answers"].as_i64().unwrap()),
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert_eq!(got.len(), listed.len(), "one entry per question");
    let counts: Vec<i64> = listed
        .iter()
        .map(|q| q["answers"].as_i64().unwrap())
        .collect();
    assert!(
        counts.windows(2).all(|w| w[0] >= w[1]),
        "most answered first: {counts:?}"
    );
    assert!(counts[0] > 0, "{listed:?}");
    assert!(
        listed
            .iter()
            .all(|q| !q["questionText"].as_str().unwrap().is_empty())
    );

    // Mapping the most answered one by the name shown takes it off the list (and off its forms).
    let top = listed[0]["name"].as_str().unwrap().to_owned();
    app.op_ok(
        &admin,
        "CreateFieldMapping",
        json!({ "input": { "linkedInField": top, "leadField": "custom.top" } }),
    )
    .await;
    let after = unmapped_listed(app, &admin).await;
    assert!(after.iter().all(|q| q["name"] != json!(top)), "{after:?}");
    assert_eq!(after.len(), listed.len() - 1);
    assert_eq!(&after[..], &listed[1..]);
    let forms = data(
        app.query(
            Some(&admin),
            "{ linkedInForms { unmappedQuestions { name text } } }",
            json!({}),
        )
        .await,
    );
    for form in forms["linkedInForms"].as_array().unwrap() {
        for q in form["unmappedQuestions"].as_array().unwrap() {
            assert!(
                !q["name"]
                    .as_str()
                    .unwrap_or_default()
                    .eq_ignore_ascii_case(&top),
                "{q}"
            );
        }
    }
}

#[tokio::test]
async fn only_the_right_roles_reach_the_new_operations() {
    let app = TestApp::new().await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    let leadgen = app.token(&[Role::LeadgenAdministrator]).await;
    let missing = "999999";
    let system_only = [
        (
            "mutation($id: ID!) { updateUserRoles(id: $id, roles: [S2S_INBOUND]) { id } }",
            json!({ "id": missing }),
        ),
        (
            "mutation($id: ID!) { disableUser(id: $id) { id } }",
            json!({ "id": missing }),
        ),
        (
            "mutation($id: ID!) { enableUser(id: $id) { id } }",
            json!({ "id": missing }),
        ),
        (
            "mutation($id: ID!) { revokeApiToken(id: $id) { id } }",
            json!({ "id": missing }),
        ),
        (
            "mutation($id: ID!) { rotateUserToken(userId: $id) { token } }",
            json!({ "id": missing }),
        ),
        ("{ users { tokens { id } disabledAt } }", json!({})),
    ];
    let leadgen_admin = [
        (
            "mutation($id: ID!) { updateLeadMatchingStrategy(id: $id, input: { name: \"X\" }) { id } }",
            json!({ "id": missing }),
        ),
        ("{ unmappedQuestions { name } }", json!({})),
    ];
    for (query, variables) in system_only.iter().chain(&leadgen_admin) {
        let anonymous = app.query(None, query, variables.clone()).await;
        assert_eq!(
            error_code(&anonymous).as_deref(),
            Some("UNAUTHENTICATED"),
            "{query}"
        );
        let refused = app.query(Some(&sales), query, variables.clone()).await;
        assert_eq!(
            error_code(&refused).as_deref(),
            Some("FORBIDDEN"),
            "{query}"
        );
    }
    for (query, variables) in &system_only {
        let refused = app.query(Some(&leadgen), query, variables.clone()).await;
        assert_eq!(
            error_code(&refused).as_deref(),
            Some("FORBIDDEN"),
            "{query}"
        );
    }
    for (query, variables) in &leadgen_admin {
        let answer = app.query(Some(&leadgen), query, variables.clone()).await;
        assert!(
            matches!(error_code(&answer).as_deref(), None | Some("NOT_FOUND")),
            "{query}: {answer}"
        );
    }
    // Refused calls change nothing and record nothing.
    for operation in [
        "updateUserRoles",
        "disableUser",
        "enableUser",
        "revokeApiToken",
        "rotateUserToken",
        "updateLeadMatchingStrategy",
    ] {
        assert!(audit(&app, operation).await.is_empty(), "{operation}");
    }
}
