//! Hostile input is refused early with clear errors while the server keeps serving; production
//! mode closes introspection, GraphiQL and foreign origins; rate limits; metrics; request ids.

use axum::{
    body::Body,
    http::{Request, header},
};
use http_body_util::BodyExt;
use leadsync::{config::Environment, domain::Role};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::{TestApp, error_code};

async fn raw(app: &TestApp, request: Request<Body>) -> (u16, axum::http::HeaderMap, String) {
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn post(token: &str, body: String) -> Request<Body> {
    Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(body))
        .unwrap()
}

async fn still_serving(app: &TestApp, token: &str) {
    let viewer = app.op(Some(token), "Viewer", json!({})).await;
    assert!(
        viewer.get("errors").is_none(),
        "the server keeps serving: {viewer}"
    );
}

#[tokio::test]
async fn hostile_documents_are_refused_and_the_server_keeps_serving() {
    let app = TestApp::new().await;
    let token = app.token(&[Role::LeadgenSalesperson]).await;

    let deep = format!(
        "{{ {} id {} }}",
        "lead(id: \"1\") { sourceCampaign { account { id } } submissions { edges { node { lead { "
            .repeat(5),
        "} } } } } } }".repeat(5)
    );
    let nested = app.query(Some(&token), &deep, json!({})).await;
    assert!(
        nested.get("errors").is_some(),
        "deep nesting is refused: {nested}"
    );
    let sixty_five = format!("{}{}", "{ a".repeat(65), " }".repeat(65));
    let refused = app.query(Some(&token), &sixty_five, json!({})).await;
    assert!(error_code(&refused).is_some());

    let aliases: String = (0..1000)
        .map(|i| format!("a{i}: viewer {{ id }} "))
        .collect();
    let refused = app
        .query(Some(&token), &format!("{{ {aliases} }}"), json!({}))
        .await;
    assert_eq!(
        error_code(&refused).as_deref(),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{refused}"
    );
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("aliases")
    );

    let directives = "@include(if: true) ".repeat(10_000);
    let refused = app
        .query(
            Some(&token),
            &format!("{{ viewer {directives} {{ id }} }}"),
            json!({}),
        )
        .await;
    assert!(
        error_code(&refused).is_some(),
        "10,000 directives are refused"
    );
    assert!(refused["data"].is_null());

    // Batching is off: a 100-operation batch is refused as a whole.
    let batch: Vec<Value> = (0..100)
        .map(|_| json!({"query": "{ viewer { id } }"}))
        .collect();
    let (status, _, _) = raw(&app, post(&token, serde_json::to_string(&batch).unwrap())).await;
    assert!(status >= 400, "batch refused with {status}");

    // A 2 MiB body is refused before it is parsed.
    let big =
        json!({"query": "{ viewer { id } }", "variables": {"pad": "x".repeat(2 * 1024 * 1024)}})
            .to_string();
    let mut request = post(&token, big.clone());
    request
        .headers_mut()
        .insert(header::CONTENT_LENGTH, big.len().into());
    let (status, _, _) = raw(&app, request).await;
    assert_eq!(status, 413);
    // Without a declared length the body is cut off at the limit and refused too.
    let (status, _, _) = raw(&app, post(&token, big)).await;
    assert!(status == 413 || status == 400, "{status}");

    still_serving(&app, &token).await;
}

#[tokio::test]
async fn production_mode_closes_introspection_graphiql_and_foreign_origins() {
    let app = TestApp::with_config(|c| {
        c.environment = Environment::Production;
        c.cors_origins = vec!["https://crm.example.com".into()];
    })
    .await;
    let token = app.token(&[Role::LeadgenSalesperson]).await;
    let introspection = app
        .query(Some(&token), "{ __schema { types { name } } }", json!({}))
        .await;
    assert!(
        introspection["data"]["__schema"].is_null(),
        "{introspection}"
    );
    let (status, _, _) = raw(&app, Request::get("/graphql").body(Body::empty()).unwrap()).await;
    assert_eq!(status, 404);
    // Suggestions are off: an unknown field does not name its neighbours.
    let typo = app.query(Some(&token), "{ viewr { id } }", json!({})).await;
    assert!(
        !typo["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Did you mean")
    );

    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/graphql")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .body(Body::empty())
            .unwrap()
    };
    let (_, headers, _) = raw(&app, preflight("https://crm.example.com")).await;
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://crm.example.com"
    );
    let (_, headers, _) = raw(&app, preflight("https://evil.example")).await;
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    still_serving(&app, &token).await;
}

#[tokio::test]
async fn each_token_is_rate_limited_with_a_clear_code() {
    let app = TestApp::with_config(|c| c.rate_limit_per_minute = 5).await;
    let token = app.token(&[Role::LeadgenSalesperson]).await;
    let other = app.token(&[Role::LeadgenSalesperson]).await;
    for _ in 0..5 {
        still_serving(&app, &token).await;
    }
    let (status, headers, body) = raw(
        &app,
        post(&token, json!({"query": "{ viewer { id } }"}).to_string()),
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(headers[header::RETRY_AFTER], "60");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error_code(&body).as_deref(), Some("RATE_LIMITED"));
    // Another token is not affected.
    still_serving(&app, &other).await;
}

#[tokio::test]
async fn metrics_and_request_ids_let_an_operator_watch() {
    let app = TestApp::new().await;
    let token = app.token(&[Role::LeadgenSalesperson]).await;
    let (status, headers, _) = raw(
        &app,
        post(
            &token,
            json!({"query": "query Viewer { viewer { id } }", "operationName": "Viewer"})
                .to_string(),
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-request-id"].to_str().unwrap().len(), 16);
    let (status, headers, text) =
        raw(&app, Request::get("/metrics").body(Body::empty()).unwrap()).await;
    crate::pii_watch::scan("/metrics", &text);
    assert_eq!(status, 200);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(
        text.contains("leadsync_graphql_requests_total{operation=\"Viewer\",outcome=\"ok\"}"),
        "{text}"
    );
    assert!(text.contains(
        "leadsync_graphql_request_duration_seconds_bucket{operation=\"Viewer\",le=\"+Inf\"}"
    ));
    for family in [
        "leadsync_sync_runs_total",
        "leadsync_submissions_processed_total",
        "leadsync_linkedin_calls_total",
        "leadsync_subscriptions",
    ] {
        assert!(text.contains(&format!("# TYPE {family}")), "{family}");
    }
}
