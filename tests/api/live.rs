//! Live: subscriptions over graphql-transport-ws, filters, authentication close codes, lagging
//! subscribers, and delivery across instances on PostgreSQL.

use std::time::Duration;

use futures::StreamExt;
use leadsync::domain::Role;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::{
    common::TestApp,
    server::{connect, next_frame, next_json, send, serve},
};

const FORM: i64 = 4200;

fn form() -> Value {
    let text = |q: &str| json!({"localized": {"en_US": q}});
    json!({
        "id": FORM, "versionId": 1, "name": "Live form",
        "content": {"questions": [
            {"questionId": 1, "name": "Email", "question": text("Email"), "predefinedField": "EMAIL"}
        ]}
    })
}

fn response(id: &str, campaign: i64, email: &str) -> Value {
    json!({
        "id": id, "owner": {"sponsoredAccount": "urn:li:sponsoredAccount:1"},
        "leadMetadata": {"sponsoredLeadMetadata": {"campaign": format!("urn:li:sponsoredCampaign:{campaign}")}},
        "versionedLeadGenFormUrn": format!("urn:li:versionedLeadGenForm:(urn:li:leadGenForm:{FORM},1)"),
        "submittedAt": 1_760_000_000_000_i64, "testLead": false,
        "formResponse": {"answers": [{"questionId": 1, "answerDetails": {"textQuestionAnswer": {"answer": email}}}]}
    })
}

async fn ingest(app: &TestApp, responses: Vec<Value>) {
    let s2s = app.token(&[Role::S2sInbound]).await;
    let result = app
        .op(
            Some(&s2s),
            "IngestLinkedInLeads",
            json!({"input": {"forms": [form()], "responses": responses}}),
        )
        .await;
    assert!(result.get("errors").is_none(), "{result}");
}

async fn campaign_id(app: &TestApp, linkedin_id: &str) -> String {
    use entity::linkedin_campaign;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    linkedin_campaign::Entity::find()
        .filter(linkedin_campaign::Column::LinkedinId.eq(linkedin_id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id
        .to_string()
}

async fn subscribe(ws: &mut crate::server::Ws, token: &str, variables: Value) {
    send(
        ws,
        json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}}),
    )
    .await;
    assert_eq!(next_json(ws).await["type"], "connection_ack");
    send(
        ws,
        json!({"id": "live", "type": "subscribe", "payload": {
            "query": crate::common::contract_operation("LeadSynced"),
            "operationName": "LeadSynced",
            "variables": variables}}),
    )
    .await;
}

#[tokio::test]
async fn lead_synced_delivers_committed_leads_with_filters() {
    let app = TestApp::new().await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    // Create both campaigns first, so the subscriber can filter by one.
    ingest(
        &app,
        vec![
            response("seed-a", 1, "seed-a@x.example"),
            response("seed-b", 2, "seed-b@x.example"),
        ],
    )
    .await;
    let campaign_a = campaign_id(&app, "1").await;
    let addr = serve(&app).await;
    let mut all = connect(addr).await;
    subscribe(&mut all, &sales, json!({})).await;
    let mut only_a = connect(addr).await;
    subscribe(&mut only_a, &sales, json!({"campaignId": campaign_a})).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    ingest(
        &app,
        vec![
            response("b1", 2, "b1@x.example"),
            response("a1", 1, "a1@x.example"),
            response("a2", 1, "A1@x.example"),
        ],
    )
    .await;

    let mut seen_all = Vec::new();
    for _ in 0..3 {
        let message = next_json(&mut all).await;
        assert_eq!(message["type"], "next", "{message}");
        let data = &message["payload"]["data"]["leadSynced"];
        seen_all.push((
            data["outcome"].as_str().unwrap().to_owned(),
            data["lead"]["email"].as_str().unwrap().to_owned(),
        ));
        assert_eq!(data["lead"]["source"], "LINKEDIN_SPONSORED_CONTENT");
        assert!(data["submission"]["campaign"]["name"].is_string());
    }
    seen_all.sort();
    assert_eq!(
        seen_all,
        [
            ("CREATED".into(), "a1@x.example".into()),
            ("CREATED".into(), "b1@x.example".into()),
            ("UNCHANGED".into(), "a1@x.example".into())
        ]
    );
    let mut seen_a = Vec::new();
    for _ in 0..2 {
        let message = next_json(&mut only_a).await;
        let data = &message["payload"]["data"]["leadSynced"];
        assert_eq!(data["submission"]["campaign"]["id"], campaign_a.as_str());
        seen_a.push(data["outcome"].as_str().unwrap().to_owned());
    }
    seen_a.sort();
    assert_eq!(seen_a, ["CREATED", "UNCHANGED"]);
    // Nothing from campaign 2 reaches the filtered subscriber.
    let quiet = tokio::time::timeout(Duration::from_millis(300), only_a.next()).await;
    assert!(
        quiet.is_err() || matches!(quiet, Ok(Some(Ok(Message::Ping(_) | Message::Pong(_))))),
        "{quiet:?}"
    );
}

async fn close_code(ws: &mut crate::server::Ws) -> Option<u16> {
    match next_frame(ws).await {
        Some(Ok(Message::Close(Some(frame)))) => Some(u16::from(frame.code)),
        _ => None,
    }
}

#[tokio::test]
async fn unauthenticated_sockets_are_closed_with_protocol_codes() {
    let app = TestApp::new().await;
    let addr = serve(&app).await;
    let mut ws = connect(addr).await;
    send(&mut ws, json!({"type": "connection_init", "payload": {}})).await;
    assert_eq!(close_code(&mut ws).await, Some(4401));
    let mut ws = connect(addr).await;
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"authorization": "Bearer lsk_wrong"}}),
    )
    .await;
    assert_eq!(close_code(&mut ws).await, Some(4403));
    let mut ws = connect(addr).await;
    send(&mut ws, json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { leadSynced { outcome } }"}})).await;
    assert_eq!(close_code(&mut ws).await, Some(4401));
}

/// The signed-in user of `token`, for requests sent to the schema directly.
async fn viewer_of(app: &TestApp, token: &str) -> leadsync::service::users::Viewer {
    leadsync::service::users::authenticate(&app.db, token)
        .await
        .unwrap()
        .expect("a valid token")
}

#[tokio::test]
async fn a_lagging_subscriber_does_not_hold_the_pipeline_and_is_told() {
    let app = TestApp::new().await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    let viewer = viewer_of(&app, &sales).await;
    let request =
        async_graphql::Request::new("subscription { leadSynced { outcome lead { email } } }")
            .data(viewer);
    let mut stream = app.state.schema.execute_stream(request);
    // Start the subscription (its first poll subscribes), then never read while leads commit.
    assert!(
        tokio::time::timeout(Duration::from_millis(100), stream.next())
            .await
            .is_err()
    );
    let total = leadsync::events::CAPACITY + 76;
    let responses: Vec<Value> = (0..total)
        .map(|i| response(&format!("lag-{i}"), 1, &format!("lag{i}@x.example")))
        .collect();
    for chunk in responses.chunks(1000) {
        ingest(&app, chunk.to_vec()).await;
    }
    // The pipeline finished every lead although the subscriber read nothing.
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        entity::lead::Entity::find().count(&app.db).await.unwrap() as usize,
        total
    );
    // The subscriber is told it fell behind, then its stream ends.
    let mut told = false;
    for _ in 0..=total {
        match tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("an item")
        {
            Some(response) if !response.errors.is_empty() => {
                assert!(
                    response.errors[0].message.contains("fell"),
                    "{:?}",
                    response.errors
                );
                told = true;
                break;
            }
            Some(_) => continue,
            None => break,
        }
    }
    assert!(told, "the lagging subscriber was told");
    assert!(
        tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .unwrap()
            .is_none(),
        "then closed"
    );
}

#[tokio::test]
async fn sync_progress_is_pushed_to_subscribers() {
    let app = TestApp::new().await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    let viewer = viewer_of(&app, &sales).await;
    let profile = leadsync::service::linkedin::create_profile(&app.db, "P", viewer.user_id)
        .await
        .unwrap();
    let request = async_graphql::Request::new(format!(
        "subscription {{ syncRunUpdated(profileId: \"{}\") {{ id status submissionsFetched }} }}",
        profile.id
    ))
    .data(viewer);
    let mut stream = app.state.schema.execute_stream(request);
    assert!(
        tokio::time::timeout(Duration::from_millis(100), stream.next())
            .await
            .is_err()
    );
    use sea_orm::{ActiveModelTrait, Set};
    let now = chrono::Utc::now();
    let run = entity::sync_run::ActiveModel {
        profile_id: Set(Some(profile.id)),
        trigger: Set("MANUAL".into()),
        status: Set("RUNNING".into()),
        started_at: Set(Some(now)),
        finished_at: Set(None),
        submissions_fetched: Set(40),
        submissions_created: Set(0),
        duplicates_skipped: Set(0),
        leads_created: Set(0),
        leads_updated: Set(0),
        failed: Set(0),
        error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    app.state
        .bus
        .publish_run(leadsync::events::SyncRunUpdated {
            run_id: run.id + 1000,
            profile_id: Some(profile.id + 1),
        })
        .await;
    app.state
        .bus
        .publish_run(leadsync::events::SyncRunUpdated {
            run_id: run.id,
            profile_id: Some(profile.id),
        })
        .await;
    let response = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap()
        .unwrap();
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response.data.into_json().unwrap();
    assert_eq!(
        data["syncRunUpdated"],
        json!({"id": run.id.to_string(), "status": "RUNNING", "submissionsFetched": 40})
    );
}

#[tokio::test]
async fn a_lead_committed_on_one_instance_reaches_a_subscriber_on_another() {
    let app = TestApp::new().await;
    if !app.test_db.is_postgres() {
        eprintln!("instances share events through PostgreSQL: skipped on SQLite");
        return;
    }
    // Instance B: its own state, bus and listener, on the same database.
    let b = leadsync::AppState::with_db(app.db.clone(), (*app.state.config).clone()).unwrap();
    let mut events_b = b.bus.subscribe();
    tokio::time::sleep(Duration::from_millis(300)).await; // B's LISTEN is up
    ingest(&app, vec![response("cross-1", 9, "cross@x.example")]).await;
    let event = tokio::time::timeout(Duration::from_secs(10), events_b.recv())
        .await
        .expect("delivered across instances")
        .unwrap();
    assert_eq!(event.outcome, leadsync::events::LeadOutcome::Created);
    let lead = entity::lead::Entity::find_by_id(event.lead_id);
    use sea_orm::EntityTrait;
    assert_eq!(
        lead.one(&app.db).await.unwrap().unwrap().email.as_deref(),
        Some("cross@x.example")
    );
}

#[tokio::test]
async fn the_event_listener_reconnects_after_losing_postgres() {
    let app = TestApp::new().await;
    if !app.test_db.is_postgres() {
        eprintln!("LISTEN/NOTIFY is PostgreSQL's: skipped on SQLite");
        return;
    }
    use sea_orm::ConnectionTrait;
    let mut events = app.state.bus.subscribe();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Cut the listener's connection, as a database restart would.
    let killed = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()",
        ))
        .await
        .unwrap();
    assert!(
        !killed.is_empty(),
        "the listener's connection was found and cut"
    );
    // Leads committed after the reconnect still reach subscribers.
    let mut delivered = false;
    for attempt in 0..20 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        ingest(
            &app,
            vec![response(
                &format!("after-{attempt}"),
                3,
                &format!("after{attempt}@x.example"),
            )],
        )
        .await;
        if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(500), events.recv()).await {
            delivered = true;
            break;
        }
    }
    assert!(
        delivered,
        "events flow again after the listener reconnected"
    );
}

#[tokio::test]
async fn subscribers_share_one_load_per_event() {
    let app = TestApp::new().await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    let viewer = viewer_of(&app, &sales).await;
    let query = crate::common::contract_operation("LeadSynced");
    let mut streams: Vec<_> = (0..50)
        .map(|_| {
            let request = async_graphql::Request::new(query.clone())
                .operation_name("LeadSynced")
                .data(viewer.clone());
            app.state.schema.execute_stream(request)
        })
        .collect();
    // Their first poll subscribes them.
    for stream in &mut streams {
        assert!(
            tokio::time::timeout(Duration::from_millis(20), stream.next())
                .await
                .is_err()
        );
    }
    ingest(&app, vec![response("shared-1", 77, "shared@x.example")]).await;
    let before = app.statement_count();
    // One after the other, so that no DataLoader batch could merge their loads.
    let mut delivered = Vec::new();
    for stream in &mut streams {
        delivered.push(stream.next().await.unwrap());
    }
    let statements = app.statement_count() - before;
    for response in &delivered {
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let data = response.data.clone().into_json().unwrap();
        let payload = &data["leadSynced"];
        assert_eq!(payload["outcome"], "CREATED");
        assert_eq!(payload["lead"]["email"], "shared@x.example");
        assert_eq!(payload["submission"]["form"]["name"], "Live form");
        assert!(
            payload["submission"]["campaign"]["id"].is_string(),
            "{payload}"
        );
    }
    // The lead, the submission, its form and its campaign: loaded once for all 50.
    assert!(
        statements <= 4,
        "{statements} statements to deliver one event to 50 subscribers"
    );
}

/// The close frame a socket gets within `within` (pings skipped; a lead arriving first fails):
/// its code and reason.
async fn closed_within(ws: &mut crate::server::Ws, within: Duration) -> (u16, String) {
    let frame = tokio::time::timeout(within, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => return other,
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the socket was not closed within {within:?}"));
    match frame {
        Some(Ok(Message::Close(Some(frame)))) => (u16::from(frame.code), frame.reason.to_string()),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

/// A lead of the subscription, or a failure naming what came instead.
async fn next_lead(ws: &mut crate::server::Ws) -> String {
    let message = next_json(ws).await;
    assert_eq!(message["type"], "next", "{message}");
    message["payload"]["data"]["leadSynced"]["lead"]["email"]
        .as_str()
        .unwrap_or_else(|| panic!("{message}"))
        .to_owned()
}

#[tokio::test]
async fn revoked_tokens_disabled_users_and_demoted_roles_lose_their_sockets() {
    use leadsync::service::users;
    const CHECK_MS: u64 = 200;
    let app = TestApp::with_config(|config| config.ws_auth_check_ms = CHECK_MS).await;
    let admin = app.admin().await;
    let mut made = Vec::new();
    for name in ["kept", "revoked", "disabled", "demoted"] {
        let created = users::create_user(&app.db, name, &[Role::LeadgenSalesperson])
            .await
            .unwrap();
        made.push((created.user.id, created.token));
    }
    let addr = serve(&app).await;
    let mut sockets = Vec::new();
    for (_, token) in &made {
        let mut ws = connect(addr).await;
        subscribe(&mut ws, token, json!({})).await;
        sockets.push(ws);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    ingest(&app, vec![response("before", 1, "before@x.example")]).await;
    for ws in &mut sockets {
        assert_eq!(next_lead(ws).await, "before@x.example");
    }

    let graphql = |query: &'static str, variables: Value| {
        let (app, admin) = (&app, &admin);
        async move {
            let answer = app.query(Some(admin), query, variables).await;
            assert!(answer.get("errors").is_none(), "{answer}");
            answer
        }
    };
    let token_id = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        entity::api_token::Entity::find()
            .filter(entity::api_token::Column::UserId.eq(made[1].0))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .id
    };
    let changed = std::time::Instant::now();
    graphql(
        "mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }",
        json!({ "id": token_id.to_string() }),
    )
    .await;
    graphql(
        "mutation($id: ID!) { disableUser(id: $id) { id } }",
        json!({ "id": made[2].0.to_string() }),
    )
    .await;
    graphql(
        "mutation($id: ID!) { updateUserRoles(id: $id, roles: [S2S_INBOUND]) { id } }",
        json!({ "id": made[3].0.to_string() }),
    )
    .await;
    // Each is closed within the period (and some slack for a busy machine), with its code.
    let within = Duration::from_millis(CHECK_MS) + Duration::from_secs(3);
    let [kept, revoked, disabled, demoted] = &mut sockets[..] else {
        unreachable!()
    };
    let (code, reason) = closed_within(revoked, within).await;
    assert_eq!(code, 4401, "{reason}");
    assert!(reason.contains("revoked"), "{reason}");
    let (code, reason) = closed_within(disabled, within).await;
    assert_eq!(code, 4401, "{reason}");
    let (code, reason) = closed_within(demoted, within).await;
    assert_eq!(code, 4403, "{reason}");
    assert!(reason.contains("roles"), "{reason}");
    eprintln!("closed {:?} after the changes", changed.elapsed());

    // The still valid subscriber goes on receiving, across many checks.
    tokio::time::sleep(Duration::from_millis(CHECK_MS * 3)).await;
    ingest(&app, vec![response("after", 1, "after@x.example")]).await;
    assert_eq!(next_lead(kept).await, "after@x.example");
}

#[tokio::test]
async fn a_socket_s_new_operations_run_with_the_user_s_roles_as_they_are_now() {
    use leadsync::service::users;
    // The period is long: the change applies at the next subscribe, not at a periodic check.
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let other = users::create_user(&app.db, "soon demoted", &[Role::SystemAdministrator])
        .await
        .unwrap();
    let addr = serve(&app).await;
    let mut ws = connect(addr).await;
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {}", other.token)}}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
    let users_query =
        |id: &str| json!({"id": id, "type": "subscribe", "payload": {"query": "{ users { id } }"}});
    send(&mut ws, users_query("1")).await;
    let answer = next_json(&mut ws).await;
    assert!(answer["payload"]["data"]["users"].is_array(), "{answer}");
    assert_eq!(next_json(&mut ws).await["type"], "complete");

    let demoted = app
        .query(
            Some(&admin),
            "mutation($id: ID!) { updateUserRoles(id: $id, roles: [LEADGEN_SALESPERSON]) { id } }",
            json!({ "id": other.user.id.to_string() }),
        )
        .await;
    assert!(demoted.get("errors").is_none(), "{demoted}");
    send(&mut ws, users_query("2")).await;
    let answer = next_json(&mut ws).await;
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{answer}"
    );
    assert_eq!(next_json(&mut ws).await["type"], "complete");
    // Still a salesperson: the socket stays open for what that role may do.
    send(
        &mut ws,
        json!({"id": "3", "type": "subscribe", "payload": {"query": "{ viewer { roles } }"}}),
    )
    .await;
    let answer = next_json(&mut ws).await;
    assert_eq!(
        answer["payload"]["data"]["viewer"]["roles"],
        json!(["LEADGEN_SALESPERSON"]),
        "{answer}"
    );
}
