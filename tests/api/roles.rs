//! Walks the roles table of the README: every contract operation, as every role.

use leadsync::domain::Role::{self, *};
use serde_json::{Value, json};

use crate::common::{TestApp, error_code};

const ALL: &[Role] = &[
    SystemAdministrator,
    LeadgenAdministrator,
    LeadgenSalesperson,
    S2sInbound,
];
const ADMINS: &[Role] = &[SystemAdministrator, LeadgenAdministrator];
const LEAD_USERS: &[Role] = &[
    SystemAdministrator,
    LeadgenAdministrator,
    LeadgenSalesperson,
];

/// (operation, variables, roles allowed): the README's roles table.
fn table() -> Vec<(&'static str, Value, &'static [Role])> {
    let missing = "999999";
    vec![
        ("Viewer", json!({}), ALL),
        ("Users", json!({}), &[SystemAdministrator]),
        (
            "CreateUser",
            json!({"input": {"name": "n", "roles": ["S2S_INBOUND"]}}),
            &[SystemAdministrator],
        ),
        ("Leads", json!({"first": 5}), LEAD_USERS),
        ("LeadLinkedInInfo", json!({"id": missing}), LEAD_USERS),
        (
            "CreateLead",
            json!({"input": {"firstName": "Ada"}}),
            LEAD_USERS,
        ),
        (
            "UpdateLead",
            json!({"id": missing, "input": {"firstName": "Ada"}}),
            LEAD_USERS,
        ),
        ("DeleteLead", json!({"id": missing}), ADMINS),
        ("FieldMappings", json!({}), ADMINS),
        (
            "CreateFieldMapping",
            json!({"input": {"linkedInField": "Budget", "leadField": "custom.budget"}}),
            ADMINS,
        ),
        ("DeleteFieldMapping", json!({"id": missing}), ADMINS),
        ("LeadMatchingStrategies", json!({}), ADMINS),
        (
            "CreateLeadMatchingStrategy",
            json!({"input": {"name": "S"}}),
            ADMINS,
        ),
        (
            "AddStrategyField",
            json!({"strategyId": missing, "linkedInField": "EMAIL"}),
            ADMINS,
        ),
        (
            "RemoveStrategyField",
            json!({"strategyId": missing, "linkedInField": "EMAIL"}),
            ADMINS,
        ),
        ("ActivateStrategy", json!({"id": missing}), ADMINS),
        ("DeleteLeadMatchingStrategy", json!({"id": missing}), ADMINS),
        ("IntegrationConfiguration", json!({}), ADMINS),
        (
            "UpdateIntegrationConfiguration",
            json!({"input": {}}),
            ADMINS,
        ),
        ("LinkedInUserProfiles", json!({}), LEAD_USERS),
        (
            "CreateLinkedInUserProfile",
            json!({"input": {"name": "P"}}),
            &[SystemAdministrator, LeadgenSalesperson],
        ),
        ("FormSubmissions", json!({"first": 5}), LEAD_USERS),
        ("Campaigns", json!({}), LEAD_USERS),
        ("Forms", json!({}), LEAD_USERS),
        ("CustomerJourneys", json!({}), LEAD_USERS),
        (
            "IngestLinkedInLeads",
            json!({"input": {"responses": []}}),
            &[SystemAdministrator, S2sInbound],
        ),
        (
            "AuthorizeLinkedInUserProfile",
            json!({"id": missing}),
            &[SystemAdministrator, LeadgenSalesperson],
        ),
        (
            "UpdateLinkedInAccount",
            json!({"id": missing, "input": {"enabledForSync": false}}),
            &[SystemAdministrator, LeadgenSalesperson],
        ),
        (
            "SyncSubmissions",
            json!({"profileId": missing}),
            &[SystemAdministrator, LeadgenSalesperson],
        ),
        ("SyncRun", json!({"id": missing}), LEAD_USERS),
        ("SyncStatus", json!({}), LEAD_USERS),
        ("LeadsBySource", json!({}), LEAD_USERS),
        ("SubmissionsByCampaign", json!({}), LEAD_USERS),
        (
            "SubmissionsOverTime",
            json!({"from": "2026-01-01T00:00:00Z", "to": "2026-01-08T00:00:00Z", "interval": "DAY"}),
            LEAD_USERS,
        ),
    ]
}

#[tokio::test]
async fn every_operation_is_guarded_by_the_roles_table() {
    let app = TestApp::new().await;
    let mut tokens = Vec::new();
    for role in ALL {
        tokens.push((*role, app.token(&[*role]).await));
    }
    for (operation, variables, allowed) in table() {
        let anonymous = app.op(None, operation, variables.clone()).await;
        assert_eq!(
            error_code(&anonymous).as_deref(),
            Some("UNAUTHENTICATED"),
            "{operation} without a token: {anonymous}"
        );
        for (role, token) in &tokens {
            let response = app.op(Some(token), operation, variables.clone()).await;
            let code = error_code(&response);
            if allowed.contains(role) {
                assert!(
                    !matches!(code.as_deref(), Some("FORBIDDEN" | "UNAUTHENTICATED")),
                    "{operation} must be allowed for {role}: {response}"
                );
                assert!(
                    response.get("errors").is_none()
                        || matches!(code.as_deref(), Some("NOT_FOUND" | "CONFLICT")),
                    "{operation} as {role} failed unexpectedly: {response}"
                );
            } else {
                assert_eq!(
                    code.as_deref(),
                    Some("FORBIDDEN"),
                    "{operation} must be forbidden for {role}: {response}"
                );
            }
        }
    }
}

/// A user holding two roles gets the union of their rights.
#[tokio::test]
async fn roles_combine() {
    let app = TestApp::new().await;
    let token = app.token(&[LeadgenSalesperson, S2sInbound]).await;
    assert!(
        app.op(Some(&token), "Leads", json!({}))
            .await
            .get("errors")
            .is_none()
    );
    let response = app.op(Some(&token), "FieldMappings", json!({})).await;
    assert_eq!(error_code(&response).as_deref(), Some("FORBIDDEN"));
}
