//! The HTTP server around the schema: health and readiness, GraphiQL, error codes and masking,
//! the GraphQL WebSocket, the command line, and concurrent migrations.

use std::time::Duration;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use futures::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use leadsync::domain::Role;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};
use tower::ServiceExt;

use crate::common::{TestApp, TestDb, error_code};

/// GETs a path through the router; returns the status, content type and body text.
async fn get(app: &TestApp, path: &str) -> (StatusCode, String, String) {
    let response = app
        .router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::new().await;
    let (status, _, _) = get(&app, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::OK);

    // Without its database the server is alive but not ready.
    app.db.close_by_ref().await.unwrap();
    let (status, _, _) = get(&app, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn get_graphql_serves_graphiql() {
    let app = TestApp::new().await;
    let (status, content_type, body) = get(&app, "/graphql").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        content_type.starts_with("text/html"),
        "content type {content_type}"
    );
    assert!(body.to_lowercase().contains("graphiql"), "{body}");
    assert!(
        body.contains("/graphql/ws"),
        "GraphiQL is told the subscription endpoint"
    );
}

#[tokio::test]
async fn syntax_and_validation_errors_carry_a_code() {
    let app = TestApp::new().await;
    let admin = app.admin().await;

    let (status, response) = app
        .post(Some(&admin), json!({ "query": "query { viewer { name " }))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        error_code(&response).as_deref(),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{response}"
    );
    assert!(response["data"].is_null(), "{response}");

    let response = app
        .query(Some(&admin), "{ viewer { shoeSize } }", json!({}))
        .await;
    assert_eq!(
        error_code(&response).as_deref(),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{response}"
    );

    // Every error of a response has a code, not only the first.
    let response = app
        .query(Some(&admin), "{ viewer { shoeSize hatSize } }", json!({}))
        .await;
    let errors = response["errors"].as_array().expect("errors");
    assert!(errors.len() >= 2, "{response}");
    assert!(
        errors.iter().all(|e| e["extensions"]["code"].is_string()),
        "{response}"
    );
}

#[tokio::test]
async fn bad_ids_are_bad_user_input_and_unknown_ids_not_found() {
    let app = TestApp::new().await;
    let admin = app.admin().await;

    let response = app
        .query(Some(&admin), r#"{ lead(id: "abc") { id } }"#, json!({}))
        .await;
    assert_eq!(
        error_code(&response).as_deref(),
        Some("BAD_USER_INPUT"),
        "{response}"
    );
    assert!(response["data"].is_null(), "{response}");

    let response = app
        .op(Some(&admin), "LeadLinkedInInfo", json!({ "id": "-3" }))
        .await;
    assert_eq!(
        error_code(&response).as_deref(),
        Some("BAD_USER_INPUT"),
        "{response}"
    );

    let response = app
        .op(Some(&admin), "LeadLinkedInInfo", json!({ "id": "987654" }))
        .await;
    assert_eq!(
        error_code(&response).as_deref(),
        Some("NOT_FOUND"),
        "{response}"
    );
    assert!(response["data"].is_null(), "{response}");
}

#[tokio::test]
async fn internal_errors_are_masked() {
    let app = TestApp::new().await;
    let token = app.token(&[Role::LeadgenSalesperson]).await;
    let now = chrono::Utc::now();
    entity::linkedin_campaign::ActiveModel {
        linkedin_id: Set("urn:li:sponsoredCampaign:1".into()),
        account_id: Set(None),
        name: Set("Spring Launch".into()),
        campaign_type: Set(None),
        status: Set(None),
        start_at: Set(None),
        end_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    // Both operations work before the table goes.
    app.op_ok(&token, "CustomerJourneys", json!({})).await;
    app.op_ok(&token, "Campaigns", json!({})).await;

    let drop = if app.test_db.is_postgres() {
        "DROP TABLE customer_journeys CASCADE"
    } else {
        "DROP TABLE customer_journeys"
    };
    app.db.execute_unprepared(drop).await.unwrap();

    let response = app.op(Some(&token), "CustomerJourneys", json!({})).await;
    assert_eq!(
        error_code(&response).as_deref(),
        Some("INTERNAL"),
        "{response}"
    );
    assert_eq!(response["errors"][0]["message"], "internal error");
    let text = response.to_string();
    for leak in [
        "customer_journeys",
        "SELECT",
        "select",
        "no such table",
        "does not exist",
    ] {
        assert!(!text.contains(leak), "response leaks {leak:?}: {text}");
    }

    // A nested field failing in a loader is masked the same way; the rest of the row still comes.
    let response = app.op(Some(&token), "Campaigns", json!({})).await;
    assert_eq!(
        error_code(&response).as_deref(),
        Some("INTERNAL"),
        "{response}"
    );
    assert_eq!(response["errors"][0]["message"], "internal error");
    assert_eq!(
        response["errors"][0]["path"],
        json!(["linkedInCampaigns", 0, "customerJourney"])
    );
    assert_eq!(
        response["data"]["linkedInCampaigns"][0]["name"],
        "Spring Launch"
    );
    let text = response.to_string();
    for leak in [
        "customer_journeys",
        "SELECT",
        "select",
        "no such table",
        "does not exist",
    ] {
        assert!(!text.contains(leak), "response leaks {leak:?}: {text}");
    }
}

// ------------------------------------------------------------------ WebSocket

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// Serves the router on a real port; returns its address.
pub(crate) async fn serve(app: &TestApp) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = leadsync::app(app.state.clone());
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    addr
}

pub(crate) async fn connect(addr: std::net::SocketAddr) -> Ws {
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (ws, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    assert_eq!(
        response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok()),
        Some("graphql-transport-ws")
    );
    ws
}

pub(crate) async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::text(message.to_string()))
        .await
        .expect("send");
}

/// The next frame other than ping/pong, within 10 s; `None` when the stream ended.
pub(crate) async fn next_frame(ws: &mut Ws) -> Option<Result<Message, String>> {
    loop {
        let item = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("no WebSocket frame within 10 s");
        match item {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(message)) => return Some(Ok(message)),
            Some(Err(e)) => return Some(Err(e.to_string())),
            None => return None,
        }
    }
}

pub(crate) async fn next_json(ws: &mut Ws) -> Value {
    match next_frame(ws).await {
        Some(Ok(Message::Text(text))) => serde_json::from_str(text.as_str()).expect("JSON frame"),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

#[tokio::test]
async fn websocket_runs_operations_for_an_authenticated_connection() {
    let app = TestApp::new().await;
    let token = app.token(&[Role::LeadgenSalesperson]).await;
    let addr = serve(&app).await;
    let mut ws = connect(addr).await;

    send(
        &mut ws,
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");

    send(
        &mut ws,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ viewer { name roles } }" } }),
    )
    .await;
    let next = next_json(&mut ws).await;
    assert_eq!(next["type"], "next", "{next}");
    assert_eq!(next["id"], "1");
    assert_eq!(
        next["payload"]["data"]["viewer"],
        json!({ "name": "test user", "roles": ["LEADGEN_SALESPERSON"] }),
        "{next}"
    );
    let complete = next_json(&mut ws).await;
    assert_eq!(complete, json!({ "type": "complete", "id": "1" }));

    // Role guards apply on the socket too: a salesperson may not list users.
    send(
        &mut ws,
        json!({ "id": "2", "type": "subscribe", "payload": { "query": "{ users { id } }" } }),
    )
    .await;
    let next = next_json(&mut ws).await;
    assert_eq!(next["id"], "2");
    assert_eq!(
        next["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{next}"
    );
    ws.close(None).await.ok();
}

/// Over the WebSocket, as over POST, every error carries `extensions.code`.
#[tokio::test]
async fn websocket_errors_carry_a_code() {
    let app = TestApp::new().await;
    let token = app.token(&[Role::LeadgenSalesperson]).await;
    let addr = serve(&app).await;
    let mut ws = connect(addr).await;
    send(
        &mut ws,
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
    send(
        &mut ws,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ viewer { name " } }),
    )
    .await;
    let reply = next_json(&mut ws).await;
    assert_eq!(reply["id"], "1", "{reply}");
    // graphql-transport-ws sends such errors as `error` (payload: the errors); async-graphql as `next`.
    let errors = match reply["type"].as_str() {
        Some("error") => reply["payload"].clone(),
        _ => reply["payload"]["errors"].clone(),
    };
    let errors = errors.as_array().expect("errors").clone();
    assert!(!errors.is_empty(), "{reply}");
    assert!(
        errors.iter().all(|e| e["extensions"]["code"].is_string()),
        "an error without a code: {reply}"
    );
}

/// The server refuses the connection: a close frame, an error or the end of the stream; never an
/// acknowledgement.
async fn assert_refused(ws: &mut Ws) {
    match next_frame(ws).await {
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {}
        Some(Ok(Message::Text(text))) => {
            let message: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
            assert_ne!(message["type"], "connection_ack", "acknowledged: {text}");
            assert_ne!(message["type"], "next", "answered: {text}");
        }
        Some(Ok(other)) => panic!("unexpected frame {other:?}"),
    }
}

#[tokio::test]
async fn websocket_refuses_connections_without_a_valid_token() {
    let app = TestApp::new().await;
    let addr = serve(&app).await;

    for payload in [
        json!({}),
        json!({ "authorization": "Bearer lsk_not-a-real-token" }),
        json!({ "authorization": "lsk_no-scheme" }),
    ] {
        let mut ws = connect(addr).await;
        send(
            &mut ws,
            json!({ "type": "connection_init", "payload": payload }),
        )
        .await;
        assert_refused(&mut ws).await;
    }

    // Subscribing without an acknowledged connection_init gets nothing either.
    let mut ws = connect(addr).await;
    send(
        &mut ws,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ viewer { name } }" } }),
    )
    .await;
    assert_refused(&mut ws).await;
}

// ------------------------------------------------------------------ command line

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("leadsync-cli-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn cli_creates_a_user_whose_token_works() {
    let app = TestApp::new().await;
    let data_dir = temp_dir();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_leadsync"))
        .args([
            "users",
            "create",
            "--name",
            "CLI Admin",
            "--role",
            "SYSTEM_ADMINISTRATOR",
        ])
        .env("DATABASE_URL", &app.test_db.url)
        .env("LEADSYNC_DATA_DIR", &data_dir)
        .env_remove("LEADSYNC_ENV")
        .env_remove("LEADSYNC_SECRET_KEY")
        .output()
        .await
        .expect("run leadsync");
    std::fs::remove_dir_all(&data_dir).ok();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "leadsync users create failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = stdout.lines().last().expect("a token line").trim();
    assert!(!token.is_empty());

    let viewer = app.op_ok(token, "Viewer", json!({})).await;
    assert_eq!(viewer["viewer"]["name"], "CLI Admin");
    assert_eq!(viewer["viewer"]["roles"], json!(["SYSTEM_ADMINISTRATOR"]));
    // A system administrator: it may list users.
    let users = app.op_ok(token, "Users", json!({})).await;
    assert_eq!(users["users"][0]["name"], "CLI Admin");
}

#[tokio::test]
async fn cli_prints_the_schema() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_leadsync"))
        .arg("schema")
        .output()
        .await
        .expect("run leadsync");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8(output.stdout).expect("UTF-8");
    assert_eq!(printed, leadsync::graphql::sdl());
    assert!(printed.contains("formSubmissions"));
}

// ------------------------------------------------------------------ migrations

/// A freshly migrated store answers on every pooled connection at once: on SQLite, connections
/// opened while another ran the migrations used to answer "no such table" now and then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freshly_opened_store_serves_writes_on_every_pooled_connection() {
    for round in 0..30 {
        let test_db = TestDb::new().await;
        let db = leadsync::db::open(&test_db.url).await.expect("open");
        let now = chrono::Utc::now();
        // More writers and readers than the pool holds, so every connection serves one.
        let tasks = (0..24).map(|task| {
            let db = db.clone();
            tokio::spawn(async move {
                let rows = (0..100).map(|i| entity::lead::ActiveModel {
                    email: Set(Some(format!("p{task}-{i}@example.com"))),
                    custom_fields: Set(json!({})),
                    source: Set("IMPORT".into()),
                    submission_count: Set(0),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                });
                entity::lead::Entity::insert_many(rows)
                    .exec_without_returning(&db)
                    .await?;
                entity::form_submission::Entity::find().count(&db).await?;
                entity::customer_journey::Entity::find().count(&db).await
            })
        });
        for (task, result) in futures::future::join_all(tasks)
            .await
            .into_iter()
            .enumerate()
        {
            let result = result.expect("task");
            assert!(result.is_ok(), "round {round}, task {task}: {result:?}");
        }
        let leads = entity::lead::Entity::find().count(&db).await.unwrap();
        assert_eq!(leads, 24 * 100, "round {round}");
        db.close().await.ok();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migrations_on_postgres_both_succeed_and_seed_once() {
    let test_db = TestDb::new().await;
    if !test_db.is_postgres() {
        eprintln!(
            "skipped: concurrent migrations are tested on PostgreSQL (set TEST_DATABASE_URL)"
        );
        return;
    }
    let migrate = |url: String| {
        tokio::spawn(async move {
            let db = leadsync::db::connect(&url).await?;
            let result = leadsync::db::migrate(&db, &url).await;
            db.close().await.ok();
            result
        })
    };
    let a = migrate(test_db.url.clone());
    let b = migrate(test_db.url.clone());
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert!(a.is_ok(), "first migration: {a:?}");
    assert!(b.is_ok(), "second migration: {b:?}");

    let db = leadsync::db::connect(&test_db.url).await.unwrap();
    let email = entity::matching_strategy::Entity::find()
        .filter(entity::matching_strategy::Column::Name.eq("Email"))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(email, 1);
    let configuration = entity::integration_configuration::Entity::find()
        .count(&db)
        .await
        .unwrap();
    assert_eq!(configuration, 1);
    let defaults = entity::field_mapping::Entity::find()
        .filter(entity::field_mapping::Column::IsDefault.eq(true))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(defaults, 22);
    db.close().await.ok();
}
