//! Resume: `leadSynced(after:)` replays from the lead event log what a subscriber missed, then
//! goes on live, with no gap and no repeat (issue 16); filters apply to the replay; a position
//! older than the log is REPLAY_UNAVAILABLE, a malformed one BAD_USER_INPUT; across instances on
//! PostgreSQL; under ingest running while subscribers resume; and live events of concurrent
//! writers arrive in position order.

use std::{collections::HashSet, time::Duration};

use futures::{Stream, StreamExt};
use leadsync::domain::Role;
use serde_json::{Value, json};

use crate::{
    common::TestApp,
    server::{connect, next_json, send, serve},
};

const FORM: i64 = 4300;

const RESUME: &str = "subscription Resume($after: String, $campaignId: ID) {
  leadSynced(after: $after, campaignId: $campaignId) {
    position outcome lead { email } submission { id campaign { id } }
  }
}";

fn form() -> Value {
    let text = |q: &str| json!({"localized": {"en_US": q}});
    json!({
        "id": FORM, "versionId": 1, "name": "Resume form",
        "content": {"questions": [
            {"questionId": 1, "name": "Email", "question": text("Email"), "predefinedField": "EMAIL"}
        ]}
    })
}

fn response(id: &str, campaign: i64) -> Value {
    json!({
        "id": id, "owner": {"sponsoredAccount": "urn:li:sponsoredAccount:1"},
        "leadMetadata": {"sponsoredLeadMetadata": {"campaign": format!("urn:li:sponsoredCampaign:{campaign}")}},
        "versionedLeadGenFormUrn": format!("urn:li:versionedLeadGenForm:(urn:li:leadGenForm:{FORM},1)"),
        "submittedAt": 1_760_000_000_000_i64, "testLead": false,
        "formResponse": {"answers": [{"questionId": 1, "answerDetails": {"textQuestionAnswer": {"answer": format!("{id}@x.example")}}}]}
    })
}

/// Ingests responses (ids, campaign) through the inbound door, as LinkedIn's relay would.
async fn ingest(app: &TestApp, s2s: &str, ids: &[&str], campaign: i64) {
    let responses = ids.iter().map(|id| response(id, campaign)).collect();
    ingest_all(app, s2s, responses).await;
}

async fn ingest_all(app: &TestApp, s2s: &str, responses: Vec<Value>) {
    let result = app
        .op(
            Some(s2s),
            "IngestLinkedInLeads",
            json!({"input": {"forms": [form()], "responses": responses}}),
        )
        .await;
    assert!(result.get("errors").is_none(), "{result}");
}

/// Ingests responses through `router` (a spawned writer's own handle on an instance).
async fn ingest_through(router: &axum::Router, s2s: &str, responses: Vec<Value>) {
    use tower::ServiceExt;
    let body = json!({
        "query": crate::common::contract_operation("IngestLinkedInLeads"),
        "variables": {"input": {"forms": [form()], "responses": responses}},
    });
    let request = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {s2s}"))
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert!(response.status().is_success());
}

/// One delivered event: its position, the lead's email (`{response id}@x.example`) and the
/// submission id.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    position: i64,
    email: String,
    submission: String,
}

fn seen(data: &Value) -> Seen {
    let event = &data["leadSynced"];
    Seen {
        position: event["position"]
            .as_str()
            .unwrap_or_else(|| panic!("{event}"))
            .parse()
            .expect("a numeric position"),
        email: event["lead"]["email"].as_str().unwrap().to_owned(),
        submission: event["submission"]["id"].as_str().unwrap().to_owned(),
    }
}

async fn ws_subscribe(ws: &mut crate::server::Ws, token: &str, variables: Value) {
    send(
        ws,
        json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}}),
    )
    .await;
    assert_eq!(next_json(ws).await["type"], "connection_ack");
    send(
        ws,
        json!({"id": "resume", "type": "subscribe", "payload": {
            "query": RESUME, "operationName": "Resume", "variables": variables}}),
    )
    .await;
}

async fn ws_next(ws: &mut crate::server::Ws) -> Seen {
    let message = next_json(ws).await;
    assert_eq!(message["type"], "next", "{message}");
    assert!(message["payload"].get("errors").is_none(), "{message}");
    seen(&message["payload"]["data"])
}

/// Nothing more arrives on the socket within a moment (pings aside).
async fn ws_quiet(ws: &mut crate::server::Ws) {
    use tokio_tungstenite::tungstenite::Message;
    let quiet = tokio::time::timeout(Duration::from_millis(400), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => return other,
            }
        }
    })
    .await;
    assert!(quiet.is_err(), "unexpected: {quiet:?}");
}

async fn viewer(app: &TestApp) -> leadsync::service::users::Viewer {
    let token = app.token(&[Role::LeadgenSalesperson]).await;
    leadsync::service::users::authenticate(&app.db, &token)
        .await
        .unwrap()
        .expect("a valid token")
}

type Events = std::pin::Pin<Box<dyn Stream<Item = async_graphql::Response> + Send>>;

/// `leadSynced(after:)` on a schema directly; its first poll subscribes it.
async fn subscribe_on(
    schema: &leadsync::AppSchema,
    viewer: &leadsync::service::users::Viewer,
    variables: Value,
) -> Events {
    let request = async_graphql::Request::new(RESUME)
        .variables(async_graphql::Variables::from_json(variables))
        .data(viewer.clone());
    schema.execute_stream(request).boxed()
}

async fn next_event(stream: &mut Events) -> Seen {
    let response = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an event within 10 s")
        .expect("the stream goes on");
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    seen(&response.data.into_json().unwrap())
}

async fn quiet(stream: &mut Events) {
    let next = tokio::time::timeout(Duration::from_millis(400), stream.next()).await;
    assert!(
        next.is_err(),
        "unexpected: {:?}",
        next.map(|r| r.map(|r| r.data))
    );
}

fn emails(seen: &[Seen]) -> Vec<String> {
    seen.iter().map(|s| s.email.clone()).collect()
}

fn expected(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|id| format!("{id}@x.example")).collect()
}

#[tokio::test]
async fn resume_after_a_dropped_socket_with_no_gap_and_no_repeat() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    let addr = serve(&app).await;

    let mut ws = connect(addr).await;
    ws_subscribe(&mut ws, &sales, json!({})).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    ingest(&app, &s2s, &["first-1", "first-2"], 1).await;
    ingest(&app, &s2s, &["first-3"], 1).await;
    let mut before = Vec::new();
    for _ in 0..3 {
        before.push(ws_next(&mut ws).await);
    }
    assert_eq!(
        emails(&before),
        expected(&["first-1", "first-2", "first-3"])
    );
    assert!(
        before.windows(2).all(|w| w[0].position < w[1].position),
        "{before:?}"
    );
    let last = before.last().unwrap().position;

    // The network drops; leads keep coming (one of them matching an existing lead).
    drop(ws);
    ingest(&app, &s2s, &["missed-1", "missed-2"], 1).await;
    ingest(&app, &s2s, &["missed-3"], 2).await;
    ingest_all(
        &app,
        &s2s,
        vec![response("missed-4", 1), {
            let mut again = response("missed-5", 1);
            again["formResponse"]["answers"][0]["answerDetails"]["textQuestionAnswer"]["answer"] =
                json!("first-1@x.example");
            again
        }],
    )
    .await;

    let mut ws = connect(addr).await;
    ws_subscribe(&mut ws, &sales, json!({"after": last.to_string()})).await;
    let mut replayed = Vec::new();
    for _ in 0..5 {
        replayed.push(ws_next(&mut ws).await);
    }
    assert_eq!(
        emails(&replayed),
        expected(&["missed-1", "missed-2", "missed-3", "missed-4", "first-1"])
    );
    // Then live, after the replay.
    ingest(&app, &s2s, &["live-1", "live-2"], 1).await;
    let mut live = Vec::new();
    for _ in 0..2 {
        live.push(ws_next(&mut ws).await);
    }
    assert_eq!(emails(&live), expected(&["live-1", "live-2"]));
    ws_quiet(&mut ws).await;

    let all: Vec<Seen> = before.into_iter().chain(replayed).chain(live).collect();
    assert!(
        all.windows(2).all(|w| w[0].position < w[1].position),
        "positions grow: {all:?}"
    );
    let submissions: HashSet<&str> = all.iter().map(|s| s.submission.as_str()).collect();
    assert_eq!(submissions.len(), all.len(), "no submission twice: {all:?}");
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        entity::form_submission::Entity::find()
            .count(&app.db)
            .await
            .unwrap() as usize,
        all.len(),
        "and none missing"
    );

    // Resuming from the very last position replays nothing and goes on live.
    let last = all.last().unwrap().position;
    let mut ws = connect(addr).await;
    ws_subscribe(&mut ws, &sales, json!({"after": last.to_string()})).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    ingest(&app, &s2s, &["later-1"], 1).await;
    assert_eq!(ws_next(&mut ws).await.email, "later-1@x.example");
    ws_quiet(&mut ws).await;
}

#[tokio::test]
async fn the_replay_applies_the_filters_and_leaves_out_erased_leads() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let viewer = viewer(&app).await;
    ingest(&app, &s2s, &["seed-a"], 11).await;
    ingest(&app, &s2s, &["seed-b"], 12).await;
    let start = leadsync::service::lead_events::latest(&app.db)
        .await
        .unwrap();
    ingest(&app, &s2s, &["a-1"], 11).await;
    ingest(&app, &s2s, &["b-1", "b-2"], 12).await;
    ingest(&app, &s2s, &["a-2", "a-gone", "a-3"], 11).await;

    // a-gone's person is erased: its events go from the log, and the replay leaves it out.
    let gone = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        entity::lead::Entity::find()
            .filter(entity::lead::Column::Email.eq("a-gone@x.example"))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
    };
    let admin = app.admin().await;
    let erased = app
        .query(
            Some(&admin),
            "mutation($id: ID!) { eraseLead(id: $id) { id } }",
            json!({"id": gone.id.to_string()}),
        )
        .await;
    assert!(erased.get("errors").is_none(), "{erased}");

    let campaign_a = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        entity::linkedin_campaign::Entity::find()
            .filter(entity::linkedin_campaign::Column::LinkedinId.eq("11"))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .id
            .to_string()
    };
    let mut only_a = subscribe_on(
        &app.state.schema,
        &viewer,
        json!({"after": start.to_string(), "campaignId": campaign_a}),
    )
    .await;
    let mut replayed = Vec::new();
    for _ in 0..3 {
        replayed.push(next_event(&mut only_a).await);
    }
    assert_eq!(emails(&replayed), expected(&["a-1", "a-2", "a-3"]));
    quiet(&mut only_a).await;
    // Live goes on with the same filter.
    ingest(&app, &s2s, &["b-3"], 12).await;
    ingest(&app, &s2s, &["a-4"], 11).await;
    assert_eq!(next_event(&mut only_a).await.email, "a-4@x.example");
    quiet(&mut only_a).await;
}

#[tokio::test]
async fn an_after_older_than_the_log_is_replay_unavailable_and_a_malformed_one_bad_input() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let viewer = viewer(&app).await;
    ingest(&app, &s2s, &["old-1"], 1).await;
    let old = leadsync::service::lead_events::latest(&app.db)
        .await
        .unwrap();
    ingest(&app, &s2s, &["old-2"], 1).await;
    let newest = leadsync::service::lead_events::latest(&app.db)
        .await
        .unwrap();
    // The log's retention passes over everything so far.
    let removed = leadsync::service::lead_events::purge_before(
        &app.db,
        chrono::Utc::now() + chrono::Duration::seconds(1),
    )
    .await
    .unwrap();
    assert!(removed >= 2, "{removed}");
    assert_eq!(
        leadsync::service::lead_events::horizon(&app.db)
            .await
            .unwrap(),
        newest
    );

    for after in [0, old] {
        let mut stream = subscribe_on(
            &app.state.schema,
            &viewer,
            json!({"after": after.to_string()}),
        )
        .await;
        let response = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .unwrap()
            .expect("an answer");
        let answer = serde_json::to_value(&response).unwrap();
        assert_eq!(
            crate::common::error_code(&answer).as_deref(),
            Some("REPLAY_UNAVAILABLE"),
            "{answer}"
        );
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("reload"),
            "{answer}"
        );
        let end = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .unwrap();
        assert!(end.is_none(), "then the stream ends");
    }

    // From the newest purged position on, nothing was lost: it resumes.
    let mut stream = subscribe_on(
        &app.state.schema,
        &viewer,
        json!({"after": newest.to_string()}),
    )
    .await;
    quiet(&mut stream).await;
    ingest(&app, &s2s, &["new-1"], 1).await;
    assert_eq!(next_event(&mut stream).await.email, "new-1@x.example");

    for malformed in ["abc", "-1", "", "1.5", "+3", "99999999999999999999"] {
        let mut stream =
            subscribe_on(&app.state.schema, &viewer, json!({"after": malformed})).await;
        let response = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .unwrap()
            .expect("an answer");
        let answer = serde_json::to_value(&response).unwrap();
        assert_eq!(
            crate::common::error_code(&answer).as_deref(),
            Some("BAD_USER_INPUT"),
            "{malformed:?}: {answer}"
        );
    }
}

#[tokio::test]
async fn events_committed_on_one_instance_replay_and_stream_on_another() {
    let app = TestApp::new().await;
    if !app.test_db.is_postgres() {
        eprintln!("instances share one database on PostgreSQL: skipped on SQLite");
        return;
    }
    let s2s = app.token(&[Role::S2sInbound]).await;
    let viewer = viewer(&app).await;
    // Instance B: its own state, bus and listener, on the same database.
    let b = leadsync::AppState::with_db(app.db.clone(), (*app.state.config).clone()).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await; // B's LISTEN is up
    ingest(&app, &s2s, &["seen-1"], 1).await;
    let seen_at = leadsync::service::lead_events::latest(&app.db)
        .await
        .unwrap();
    ingest(&app, &s2s, &["cross-1", "cross-2"], 1).await;
    ingest(&app, &s2s, &["cross-3"], 2).await;

    let mut on_b = subscribe_on(&b.schema, &viewer, json!({"after": seen_at.to_string()})).await;
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(next_event(&mut on_b).await);
    }
    assert_eq!(emails(&got), expected(&["cross-1", "cross-2", "cross-3"]));
    // Committed through A after the replay: live on B.
    ingest(&app, &s2s, &["cross-4"], 1).await;
    got.push(next_event(&mut on_b).await);
    assert_eq!(got[3].email, "cross-4@x.example");
    quiet(&mut on_b).await;
    assert!(got.windows(2).all(|w| w[0].position < w[1].position));
}

#[tokio::test]
async fn leads_committed_while_subscribers_resume_are_neither_lost_nor_doubled() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let viewer = viewer(&app).await;
    let writers = if app.test_db.is_postgres() {
        // Commits through another instance too.
        let b = leadsync::AppState::with_db(app.db.clone(), (*app.state.config).clone()).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        Some(b)
    } else {
        None
    };
    const BATCHES: usize = 40;
    let ingesting = {
        let s2s = s2s.clone();
        let router = app.router.clone();
        tokio::spawn(async move {
            for i in 0..BATCHES {
                // Batches of 1 to 3, so positions also move inside a commit.
                let responses: Vec<Value> = (0..(i % 3 + 1))
                    .map(|j| response(&format!("race-{i}-{j}"), 1))
                    .collect();
                ingest_through(&router, &s2s, responses).await;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let total: usize = (0..BATCHES).map(|i| i % 3 + 1).sum();

    // Resume over and over while the writer runs: read a few, drop, resume from the last seen.
    let schemas: Vec<&leadsync::AppSchema> = match &writers {
        Some(b) => vec![&app.state.schema, &b.schema],
        None => vec![&app.state.schema],
    };
    let mut all: Vec<Seen> = Vec::new();
    let mut last = 0_i64;
    let mut round = 0;
    while all.len() < total {
        let schema = schemas[round % schemas.len()];
        let mut stream = subscribe_on(schema, &viewer, json!({"after": last.to_string()})).await;
        for _ in 0..(round % 4 + 1) {
            if all.len() == total {
                break;
            }
            let event = next_event(&mut stream).await;
            last = event.position;
            all.push(event);
        }
        drop(stream);
        round += 1;
    }
    ingesting.await.unwrap();
    let mut stream = subscribe_on(
        &app.state.schema,
        &viewer,
        json!({"after": last.to_string()}),
    )
    .await;
    quiet(&mut stream).await;

    assert!(round > 5, "resumed {round} times");
    assert!(
        all.windows(2).all(|w| w[0].position < w[1].position),
        "in order, none twice: {all:?}"
    );
    let submissions: HashSet<&str> = all.iter().map(|s| s.submission.as_str()).collect();
    assert_eq!(submissions.len(), total);
    let mut want: Vec<String> = (0..BATCHES)
        .flat_map(|i| (0..(i % 3 + 1)).map(move |j| format!("race-{i}-{j}@x.example")))
        .collect();
    let mut got = emails(&all);
    want.sort();
    got.sort();
    assert_eq!(got, want, "every lead once");
}

#[tokio::test]
async fn live_events_of_concurrent_writers_arrive_in_position_order() {
    // A subscriber keeps the last position it saw and resumes after it: an event that arrived
    // after a greater position would be lost on the next resume. Writers commit concurrently
    // (on PostgreSQL through two instances), and every live event must come in position order.
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let viewer = viewer(&app).await;
    let other = if app.test_db.is_postgres() {
        let b = leadsync::AppState::with_db(app.db.clone(), (*app.state.config).clone()).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        Some(b)
    } else {
        None
    };
    let mut stream = subscribe_on(&app.state.schema, &viewer, json!({})).await;
    // Subscribed once the first poll returns pending.
    quiet(&mut stream).await;
    const WRITERS: usize = 6;
    const BATCHES: usize = 8;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let router = match (&other, w % 2) {
            (Some(b), 1) => leadsync::app(b.clone()),
            _ => app.router.clone(),
        };
        let s2s = s2s.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..BATCHES {
                let responses: Vec<Value> = (0..(i % 3 + 1))
                    .map(|j| response(&format!("order-{w}-{i}-{j}"), 1))
                    .collect();
                ingest_through(&router, &s2s, responses).await;
            }
        }));
    }
    let total = WRITERS * (0..BATCHES).map(|i| i % 3 + 1).sum::<usize>();
    let mut all = Vec::with_capacity(total);
    while all.len() < total {
        all.push(next_event(&mut stream).await);
    }
    for t in tasks {
        t.await.unwrap();
    }
    quiet(&mut stream).await;
    let out_of_order: Vec<_> = all
        .windows(2)
        .filter(|w| w[0].position >= w[1].position)
        .map(|w| (w[0].position, w[1].position))
        .collect();
    assert!(
        out_of_order.is_empty(),
        "live events out of position order: {out_of_order:?}"
    );
    let submissions: HashSet<&str> = all.iter().map(|s| s.submission.as_str()).collect();
    assert_eq!(submissions.len(), total, "every submission once");
}
