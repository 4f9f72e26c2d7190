use leadsync::domain::Role;
use serde_json::{Value, json};

use crate::common::{TestApp, error_code};

fn names_and_active(data: &Value) -> Vec<(String, bool)> {
    data["leadMatchingStrategies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["isActive"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn defaults_are_seeded() {
    let app = TestApp::new().await;
    let admin = app.token(&[Role::LeadgenAdministrator]).await;

    let mappings = app.op_ok(&admin, "FieldMappings", json!({})).await;
    let pairs: Vec<(String, String)> = mappings["fieldMappings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["linkedInField"].as_str().unwrap().to_owned(),
                m["leadField"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(pairs.len(), 22);
    for (field, lead_field) in [
        ("EMAIL", "email"),
        ("FIRST_NAME", "firstName"),
        ("PHONE_NUMBER", "phone"),
        ("COMPANY_NAME", "company"),
        ("LINKEDIN_PROFILE_LINK", "custom.linkedInProfileUrl"),
    ] {
        assert!(
            pairs.contains(&(field.into(), lead_field.into())),
            "{field}"
        );
    }

    let strategies = app.op_ok(&admin, "LeadMatchingStrategies", json!({})).await;
    assert_eq!(names_and_active(&strategies), vec![("Email".into(), true)]);
    assert_eq!(
        strategies["leadMatchingStrategies"][0]["fields"],
        json!([{"id": strategies["leadMatchingStrategies"][0]["fields"][0]["id"], "linkedInField": "EMAIL", "leadField": "email"}])
    );
    assert_eq!(
        strategies["leadMatchingStrategies"][0]["alwaysCreateLead"],
        false
    );

    let config = app
        .op_ok(&admin, "IntegrationConfiguration", json!({}))
        .await;
    assert_eq!(
        config["integrationConfiguration"],
        json!({"createJourneysForCampaigns": true, "onMatchFail": "CREATE_NEW_LEAD",
               "syncIntervalSeconds": 900, "createLeadsFromTestLeads": false})
    );
}

#[tokio::test]
async fn exactly_one_strategy_is_active() {
    let app = TestApp::new().await;
    let admin = app.token(&[Role::LeadgenAdministrator]).await;
    let email_id = app.op_ok(&admin, "LeadMatchingStrategies", json!({})).await["leadMatchingStrategies"][0]["id"].clone();

    let created = app
        .op_ok(
            &admin,
            "CreateLeadMatchingStrategy",
            json!({"input": {"name": "Email and phone"}}),
        )
        .await;
    assert_eq!(created["createLeadMatchingStrategy"]["isActive"], false);
    let id = created["createLeadMatchingStrategy"]["id"].clone();

    // A strategy without fields matches nothing: it cannot be activated.
    let response = app
        .op(Some(&admin), "ActivateStrategy", json!({"id": id}))
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("CONFLICT"));

    // Fields must name existing field mappings, once each.
    let response = app
        .op(
            Some(&admin),
            "AddStrategyField",
            json!({"strategyId": id, "linkedInField": "SHOE_SIZE"}),
        )
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("BAD_USER_INPUT"));
    let added = app
        .op_ok(
            &admin,
            "AddStrategyField",
            json!({"strategyId": id, "linkedInField": "EMAIL"}),
        )
        .await;
    assert_eq!(
        added["addStrategyField"]["fields"],
        json!([{"linkedInField": "EMAIL", "leadField": "email"}])
    );
    let added = app
        .op_ok(
            &admin,
            "AddStrategyField",
            json!({"strategyId": id, "linkedInField": "PHONE_NUMBER"}),
        )
        .await;
    assert_eq!(
        added["addStrategyField"]["fields"],
        json!([{"linkedInField": "EMAIL", "leadField": "email"}, {"linkedInField": "PHONE_NUMBER", "leadField": "phone"}])
    );
    let response = app
        .op(
            Some(&admin),
            "AddStrategyField",
            json!({"strategyId": id, "linkedInField": "EMAIL"}),
        )
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("CONFLICT"));

    // Activating one deactivates the other.
    let activated = app
        .op_ok(&admin, "ActivateStrategy", json!({"id": id}))
        .await;
    assert_eq!(activated["activateStrategy"]["isActive"], true);
    let all = app.op_ok(&admin, "LeadMatchingStrategies", json!({})).await;
    assert_eq!(
        names_and_active(&all),
        vec![("Email".into(), false), ("Email and phone".into(), true)]
    );

    // The active one cannot be deleted; the inactive one can.
    let response = app
        .op(
            Some(&admin),
            "DeleteLeadMatchingStrategy",
            json!({"id": id}),
        )
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("CONFLICT"));
    let removed = app
        .op_ok(
            &admin,
            "RemoveStrategyField",
            json!({"strategyId": id, "linkedInField": "PHONE_NUMBER"}),
        )
        .await;
    assert_eq!(
        removed["removeStrategyField"]["fields"],
        json!([{"linkedInField": "EMAIL"}])
    );
    // Removing the last field of the active strategy would make it match nothing.
    let response = app
        .op(
            Some(&admin),
            "RemoveStrategyField",
            json!({"strategyId": id, "linkedInField": "EMAIL"}),
        )
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("CONFLICT"));
    let response = app
        .op(
            Some(&admin),
            "RemoveStrategyField",
            json!({"strategyId": id, "linkedInField": "PHONE_NUMBER"}),
        )
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("NOT_FOUND"));

    app.op_ok(&admin, "ActivateStrategy", json!({"id": email_id}))
        .await;
    let deleted = app
        .op_ok(&admin, "DeleteLeadMatchingStrategy", json!({"id": id}))
        .await;
    assert_eq!(deleted["deleteLeadMatchingStrategy"]["id"], id);
    let all = app.op_ok(&admin, "LeadMatchingStrategies", json!({})).await;
    assert_eq!(names_and_active(&all), vec![("Email".into(), true)]);

    let response = app
        .op(
            Some(&admin),
            "CreateLeadMatchingStrategy",
            json!({"input": {"name": "Email"}}),
        )
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("CONFLICT"));
}

#[tokio::test]
async fn always_create_strategy_activates_without_fields() {
    let app = TestApp::new().await;
    let admin = app.token(&[Role::LeadgenAdministrator]).await;
    let created = app
        .op_ok(
            &admin,
            "CreateLeadMatchingStrategy",
            json!({"input": {"name": "Every response", "alwaysCreateLead": true}}),
        )
        .await;
    let id = created["createLeadMatchingStrategy"]["id"].clone();
    let activated = app
        .op_ok(&admin, "ActivateStrategy", json!({"id": id}))
        .await;
    assert_eq!(activated["activateStrategy"]["isActive"], true);
    let all = app.op_ok(&admin, "LeadMatchingStrategies", json!({})).await;
    assert_eq!(all["leadMatchingStrategies"][1]["alwaysCreateLead"], true);
    assert_eq!(names_and_active(&all).iter().filter(|(_, a)| *a).count(), 1);
}

/// Two activations racing still leave exactly one active strategy.
#[tokio::test]
async fn concurrent_activations_leave_one_active() {
    let app = TestApp::new().await;
    let admin = app.token(&[Role::LeadgenAdministrator]).await;
    let mut ids = Vec::new();
    for name in ["A", "B", "C"] {
        let s = app
            .op_ok(
                &admin,
                "CreateLeadMatchingStrategy",
                json!({"input": {"name": name, "alwaysCreateLead": true}}),
            )
            .await;
        ids.push(s["createLeadMatchingStrategy"]["id"].clone());
    }
    let results = futures::future::join_all(
        ids.iter()
            .map(|id| app.op(Some(&admin), "ActivateStrategy", json!({"id": id}))),
    )
    .await;
    let ok = results.iter().filter(|r| r.get("errors").is_none()).count();
    assert!(ok >= 1, "{results:?}");
    let all = app.op_ok(&admin, "LeadMatchingStrategies", json!({})).await;
    assert_eq!(names_and_active(&all).iter().filter(|(_, a)| *a).count(), 1);
}

#[tokio::test]
async fn field_mappings_are_validated() {
    let app = TestApp::new().await;
    let admin = app.token(&[Role::LeadgenAdministrator]).await;
    let created = app
        .op_ok(&admin, "CreateFieldMapping", json!({"input": {"linkedInField": "What is your budget?", "leadField": "custom.budget"}}))
        .await;
    assert_eq!(created["createFieldMapping"]["leadField"], "custom.budget");
    let id = created["createFieldMapping"]["id"].clone();

    let duplicate = app
        .op(
            Some(&admin),
            "CreateFieldMapping",
            json!({"input": {"linkedInField": "What is your budget?", "leadField": "company"}}),
        )
        .await;
    assert_eq!(error_code(&duplicate).as_deref(), Some("CONFLICT"));
    for lead_field in ["password", "custom.", "custom.has space"] {
        let response = app
            .op(
                Some(&admin),
                "CreateFieldMapping",
                json!({"input": {"linkedInField": "Q", "leadField": lead_field}}),
            )
            .await;
        assert_eq!(
            error_code(&response).as_deref(),
            Some("BAD_USER_INPUT"),
            "{lead_field}"
        );
    }

    // A mapping used by a strategy cannot be deleted.
    let email_mapping = app.op_ok(&admin, "FieldMappings", json!({})).await["fieldMappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["linkedInField"] == "EMAIL")
        .unwrap()["id"]
        .clone();
    let response = app
        .op(
            Some(&admin),
            "DeleteFieldMapping",
            json!({"id": email_mapping}),
        )
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("CONFLICT"));

    let deleted = app
        .op_ok(&admin, "DeleteFieldMapping", json!({"id": id}))
        .await;
    assert_eq!(deleted["deleteFieldMapping"]["id"], id);
    let all = app.op_ok(&admin, "FieldMappings", json!({})).await;
    assert_eq!(all["fieldMappings"].as_array().unwrap().len(), 22);
}

#[tokio::test]
async fn integration_configuration_updates_and_validates() {
    let app = TestApp::new().await;
    let admin = app.token(&[Role::LeadgenAdministrator]).await;
    let updated = app
        .op_ok(
            &admin,
            "UpdateIntegrationConfiguration",
            json!({"input": {"onMatchFail": "IGNORE", "syncIntervalSeconds": 300}}),
        )
        .await;
    assert_eq!(
        updated["updateIntegrationConfiguration"],
        json!({"createJourneysForCampaigns": true, "onMatchFail": "IGNORE",
               "syncIntervalSeconds": 300, "createLeadsFromTestLeads": false})
    );
    let read = app
        .op_ok(&admin, "IntegrationConfiguration", json!({}))
        .await;
    assert_eq!(read["integrationConfiguration"]["onMatchFail"], "IGNORE");
    for seconds in [0, 59, 86_401] {
        let response = app
            .op(
                Some(&admin),
                "UpdateIntegrationConfiguration",
                json!({"input": {"syncIntervalSeconds": seconds}}),
            )
            .await;
        assert_eq!(
            error_code(&response).as_deref(),
            Some("BAD_USER_INPUT"),
            "{seconds}"
        );
    }
    let response = app
        .op(
            Some(&admin),
            "UpdateIntegrationConfiguration",
            json!({"input": {"onMatchFail": "SHRUG"}}),
        )
        .await;
    assert!(error_code(&response).is_some());
    let read = app
        .op_ok(&admin, "IntegrationConfiguration", json!({}))
        .await;
    assert_eq!(read["integrationConfiguration"]["syncIntervalSeconds"], 300);
}
