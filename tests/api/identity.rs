use entity::api_token;
use leadsync::domain::Role;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::common::{TestApp, error_code};

#[tokio::test]
async fn a_created_user_signs_in_with_the_token_shown_once() {
    let app = TestApp::new().await;
    let admin = app.admin().await;

    let data = app
        .op_ok(
            &admin,
            "CreateUser",
            json!({ "input": { "name": "Sales Bot", "roles": ["LEADGEN_SALESPERSON", "S2S_INBOUND"] } }),
        )
        .await;
    let token = data["createUser"]["token"].as_str().unwrap().to_owned();
    assert_eq!(data["createUser"]["user"]["name"], "Sales Bot");
    assert_eq!(
        data["createUser"]["user"]["roles"],
        json!(["LEADGEN_SALESPERSON", "S2S_INBOUND"])
    );

    // Only a hash is stored.
    let stored = api_token::Entity::find().all(&app.db).await.unwrap();
    assert!(
        stored
            .iter()
            .all(|t| t.token_hash != token && !token.contains(&t.token_hash))
    );

    let viewer = app.op_ok(&token, "Viewer", json!({})).await;
    assert_eq!(viewer["viewer"]["name"], "Sales Bot");
    assert_eq!(
        viewer["viewer"]["roles"],
        json!(["LEADGEN_SALESPERSON", "S2S_INBOUND"])
    );

    let users = app.op_ok(&admin, "Users", json!({})).await;
    let names: Vec<&str> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["test user", "Sales Bot"]);
}

#[tokio::test]
async fn missing_or_wrong_tokens_are_unauthenticated() {
    let app = TestApp::new().await;
    let response = app.op(None, "Viewer", json!({})).await;
    assert_eq!(error_code(&response).as_deref(), Some("UNAUTHENTICATED"));
    assert!(response["data"].is_null());

    let response = app
        .op(Some("lsk_not-a-real-token"), "Viewer", json!({}))
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("UNAUTHENTICATED"));

    // A well-formed token of a user whose token was never issued here.
    let other = TestApp::new().await;
    let foreign = other.admin().await;
    let response = app.op(Some(&foreign), "Viewer", json!({})).await;
    assert_eq!(error_code(&response).as_deref(), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn create_user_validates_its_input() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let response = app
        .op(
            Some(&admin),
            "CreateUser",
            json!({ "input": { "name": "  ", "roles": ["S2S_INBOUND"] } }),
        )
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("BAD_USER_INPUT"));
    let response = app
        .op(
            Some(&admin),
            "CreateUser",
            json!({ "input": { "name": "x", "roles": [] } }),
        )
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("BAD_USER_INPUT"));
    let response = app
        .op(
            Some(&admin),
            "CreateUser",
            json!({ "input": { "name": "x", "roles": ["ROOT"] } }),
        )
        .await;
    assert!(
        error_code(&response).is_some(),
        "unknown role must be refused: {response}"
    );
    let only_sales = app.token(&[Role::LeadgenSalesperson]).await;
    let response = app
        .op(
            Some(&only_sales),
            "CreateUser",
            json!({ "input": { "name": "x", "roles": ["SYSTEM_ADMINISTRATOR"] } }),
        )
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("FORBIDDEN"));
}

/// Revokes every token in the database, as an operator would.
async fn revoke_all(app: &TestApp) {
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("UPDATE api_tokens SET revoked_at = created_at")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_known_token_costs_no_statement_until_its_cache_time_ends() {
    let app = TestApp::with_config(|c| c.auth_cache_secs = 1).await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    app.op_ok(&sales, "Viewer", json!({})).await;
    let before = app.statement_count();
    let viewer = app.op_ok(&sales, "Viewer", json!({})).await;
    assert_eq!(viewer["viewer"]["roles"], json!(["LEADGEN_SALESPERSON"]));
    assert_eq!(app.statement_count() - before, 0, "a remembered token");

    revoke_all(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let response = app.op(Some(&sales), "Viewer", json!({})).await;
    assert_eq!(error_code(&response).as_deref(), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn without_the_cache_a_revoked_token_fails_at_once() {
    let app = TestApp::with_config(|c| c.auth_cache_secs = 0).await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    app.op_ok(&sales, "Viewer", json!({})).await;
    revoke_all(&app).await;
    let response = app.op(Some(&sales), "Viewer", json!({})).await;
    assert_eq!(error_code(&response).as_deref(), Some("UNAUTHENTICATED"));
}
