//! Streamed exports (`GET /export/{leads,submissions}.{csv,ndjson}`): the same rows, in the same
//! order, as the GraphQL lists with the same filters; CSV as spreadsheets read it (RFC 4180,
//! formulas neutralized, an optional BOM); the API's tokens and roles; one audit entry each.

use std::collections::{HashMap, HashSet};

use axum::{
    body::Body,
    http::{HeaderMap, Request, StatusCode, header},
};
use entity::lead;
use http_body_util::BodyExt;
use leadsync::{
    domain::{LeadSource, Role},
    linkedin::sandbox::SandboxConfig,
    service::leads::{LeadChanges, create_lead},
};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::{
    common::TestApp,
    connector::{Env, authorized_profile, env_with},
};

struct Exported {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    /// Data frames the body arrived in.
    frames: usize,
}

impl Exported {
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8")
    }

    fn lines(&self) -> Vec<Value> {
        assert!(self.text().is_empty() || self.text().ends_with('\n'));
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
            .collect()
    }

    fn error(&self) -> String {
        let v: Value = serde_json::from_slice(&self.body).expect("a JSON error");
        v["errors"][0]["message"].as_str().unwrap().to_owned()
    }
}

async fn export(app: &TestApp, token: Option<&str>, uri: &str) -> Exported {
    let mut request = Request::get(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = app
        .router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = response.into_body();
    let (mut bytes, mut frames) = (Vec::new(), 0);
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("the body completes").into_data() {
            frames += 1;
            bytes.extend_from_slice(&data);
        }
    }
    Exported {
        status,
        headers,
        body: bytes,
        frames,
    }
}

/// An RFC 4180 reader: CRLF records, quoted fields with doubled quotes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                assert!(field.is_empty(), "a quote inside an unquoted field");
                quoted = true;
            }
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "records end with CRLF");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            '\n' => panic!("a bare LF outside quotes"),
            c => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && row.is_empty(),
        "the last record ends with CRLF"
    );
    rows
}

/// The rows of a CSV export as maps from its header.
fn csv_maps(text: &str) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut rows = parse_csv(text);
    let header = rows.remove(0);
    let maps = rows
        .into_iter()
        .map(|r| {
            assert_eq!(r.len(), header.len(), "{r:?}");
            header.iter().cloned().zip(r).collect()
        })
        .collect();
    (header, maps)
}

/// What a CSV cell holds for a value: formulas neutralized with a leading `'`.
fn as_cell(value: &Value) -> String {
    let text = match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text
    }
}

const LEADS: &str = "query($after: String, $filter: LeadFilter) {
  leads(first: 100, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    edges { node {
      id firstName lastName email workEmail phone workPhone company jobTitle jobFunction
      seniority industry companySize country state city zipCode customFields source
      sourceCampaign { id name } sourceForm { id name }
      submissionCount latestSubmissionAt createdAt updatedAt
    } }
  }
}";

/// Every lead of the GraphQL list with `filter`, page by page.
async fn graphql_leads(app: &TestApp, token: &str, filter: Value) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = Value::Null;
    loop {
        let answer = app
            .query(
                Some(token),
                LEADS,
                json!({ "after": after, "filter": filter }),
            )
            .await;
        assert!(answer.get("errors").is_none(), "{answer}");
        let leads = &answer["data"]["leads"];
        all.extend(
            leads["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone()),
        );
        if !leads["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return all;
        }
        after = leads["pageInfo"]["endCursor"].clone();
    }
}

const SUBMISSIONS: &str = "query($after: String, $filter: FormSubmissionFilter) {
  formSubmissions(first: 100, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    edges { node {
      id linkedInId submittedAt leadType testLead matchingStatus processingState
      lead { id email } form { id name } campaign { id name } account { id name }
      answers { questionId questionText predefinedField value }
    } }
  }
}";

async fn graphql_submissions(app: &TestApp, token: &str, filter: Value) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = Value::Null;
    loop {
        let answer = app
            .query(
                Some(token),
                SUBMISSIONS,
                json!({ "after": after, "filter": filter }),
            )
            .await;
        assert!(answer.get("errors").is_none(), "{answer}");
        let list = &answer["data"]["formSubmissions"];
        all.extend(
            list["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone()),
        );
        if !list["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return all;
        }
        after = list["pageInfo"]["endCursor"].clone();
    }
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn synced() -> Env {
    let env = env_with(
        SandboxConfig {
            leads_per_account: 12,
            ..Default::default()
        },
        |_| {},
    )
    .await;
    authorized_profile(&env).await;
    env
}

fn company(value: &str) -> LeadChanges {
    LeadChanges {
        company: Some(Some(value.to_owned())),
        last_name: Some(Some("Tricky".to_owned())),
        ..Default::default()
    }
}

const TRICKY: &[&str] = &[
    "=HYPERLINK(\"http://x\")",
    "+1",
    "@SUM(A1)",
    "-2",
    "Smith, Jones & \"Partners\"",
    "line one\nline two\r\nline three",
    "Zürich · 東京 ✓",
];

#[tokio::test]
async fn lead_exports_hold_the_graphql_list_in_its_order_with_the_same_values() {
    let env = synced().await;
    let app = &env.app;
    let sales = &env.sales;
    for value in TRICKY {
        let mut changes = company(value);
        changes.custom_fields = Some(
            json!({ "note": value, "n": 3 })
                .as_object()
                .unwrap()
                .clone(),
        );
        create_lead(&app.db, changes, LeadSource::Manual)
            .await
            .unwrap();
    }
    // An erased lead is gone from the exports as from the list.
    let erased = graphql_leads(
        app,
        sales,
        json!({ "source": "LINKEDIN_SPONSORED_CONTENT" }),
    )
    .await[3]
        .clone();
    let key = app.state.config.resolve_secret_key().unwrap();
    let erased_id: i64 = erased["id"].as_str().unwrap().parse().unwrap();
    leadsync::service::leads::erase_lead(&app.db, &key, erased_id, None)
        .await
        .unwrap();

    let listed = graphql_leads(app, sales, json!({})).await;
    assert!(listed.len() > 20, "{}", listed.len());
    assert!(!ids(&listed).contains(&erased_id.to_string()));

    let ndjson = export(app, Some(sales), "/export/leads.ndjson").await;
    assert_eq!(ndjson.status, StatusCode::OK, "{}", ndjson.text());
    assert_eq!(ndjson.headers[header::CONTENT_TYPE], "application/x-ndjson");
    assert_eq!(ndjson.headers[header::CACHE_CONTROL], "no-store");
    let day = chrono::Utc::now().format("%Y%m%d");
    assert_eq!(
        ndjson.headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"leads-{day}.ndjson\"").as_str()
    );
    let lines = ndjson.lines();
    // The same leads, in the same order (the list's: newest first), with the same values.
    assert_eq!(ids(&lines), ids(&listed));
    assert_eq!(lines, listed);
    for value in TRICKY {
        assert!(
            lines.iter().any(|l| l["company"] == *value),
            "NDJSON keeps {value:?} as it is"
        );
    }

    let csv = export(app, Some(sales), "/export/leads.csv").await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text());
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(csv.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(
        csv.headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"leads-{day}.csv\"").as_str()
    );
    assert!(!csv.body.starts_with(b"\xEF\xBB\xBF"));
    let (header, rows) = csv_maps(&csv.text());
    for column in [
        "id",
        "email",
        "firstName",
        "lastName",
        "phone",
        "company",
        "jobTitle",
        "city",
        "state",
        "country",
        "zipCode",
        "source",
        "sourceCampaign",
        "sourceForm",
        "submissionCount",
        "latestSubmissionAt",
        "createdAt",
        "updatedAt",
        "customFields",
    ] {
        assert!(
            header.contains(&column.to_owned()),
            "{column} in {header:?}"
        );
    }
    assert_eq!(rows.len(), listed.len());
    for (row, lead) in rows.iter().zip(&listed) {
        for (column, cell) in row {
            let expected = match column.as_str() {
                "sourceCampaign" | "sourceForm" => as_cell(&lead[column]["name"]),
                "sourceCampaignId" => as_cell(&lead["sourceCampaign"]["id"]),
                "sourceFormId" => as_cell(&lead["sourceForm"]["id"]),
                "customFields" => {
                    let parsed: Value = serde_json::from_str(cell).unwrap();
                    assert_eq!(parsed, lead["customFields"]);
                    continue;
                }
                _ => as_cell(&lead[column]),
            };
            assert_eq!(cell, &expected, "{column} of lead {}", lead["id"]);
        }
    }
    // Formulas are text in a spreadsheet; commas, quotes and line breaks round-trip.
    let companies: HashSet<&str> = rows.iter().map(|r| r["company"].as_str()).collect();
    for expected in [
        "'=HYPERLINK(\"http://x\")",
        "'+1",
        "'@SUM(A1)",
        "'-2",
        "Smith, Jones & \"Partners\"",
        "line one\nline two\r\nline three",
        "Zürich · 東京 ✓",
    ] {
        assert!(
            companies.contains(expected),
            "{expected:?} in {companies:?}"
        );
    }
    assert!(csv.text().contains("\"'=HYPERLINK(\"\"http://x\"\")\""));

    // With a BOM for Excel.
    let bom = export(app, Some(sales), "/export/leads.csv?bom=true").await;
    assert_eq!(bom.status, StatusCode::OK);
    assert!(bom.body.starts_with(b"\xEF\xBB\xBFid,"));
    assert_eq!(&bom.body[3..], &csv.body[..]);

    // Each filter gives the GraphQL list's leads with the same filter, in its order.
    let with_campaign = listed
        .iter()
        .find(|l| !l["sourceCampaign"].is_null())
        .expect("synced leads have a campaign");
    let campaign = with_campaign["sourceCampaign"]["id"].as_str().unwrap();
    let form = with_campaign["sourceForm"]["id"].as_str().unwrap();
    let middle = listed[listed.len() / 2]["createdAt"].as_str().unwrap();
    let filters = [
        ("source", json!("MANUAL")),
        ("source", json!("LINKEDIN_SPONSORED_CONTENT")),
        ("campaignId", json!(campaign)),
        ("formId", json!(form)),
        ("createdAfter", json!(middle)),
        ("createdBefore", json!(middle)),
        ("search", json!("tricky")),
        ("search", json!("partners")),
    ];
    for (name, value) in filters {
        let expected = graphql_leads(app, sales, json!({ name: value })).await;
        assert!(!expected.is_empty(), "{name}={value}");
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(name, value.as_str().unwrap())
            .finish();
        let got = export(app, Some(sales), &format!("/export/leads.ndjson?{query}")).await;
        assert_eq!(got.status, StatusCode::OK, "{name}: {}", got.text());
        assert_eq!(ids(&got.lines()), ids(&expected), "{name}={value}");
        let got = export(app, Some(sales), &format!("/export/leads.csv?{query}")).await;
        let (_, rows) = csv_maps(&got.text());
        let csv_ids: Vec<String> = rows.iter().map(|r| r["id"].clone()).collect();
        assert_eq!(csv_ids, ids(&expected), "{name}={value} (CSV)");
    }
}

#[tokio::test]
async fn an_export_writes_one_audit_entry_without_personal_data() {
    let env = synced().await;
    let app = &env.app;
    let listed = graphql_leads(app, &env.sales, json!({})).await;
    let email = listed
        .iter()
        .find_map(|l| l["email"].as_str())
        .unwrap()
        .to_owned();
    let got = export(
        app,
        Some(&env.sales),
        &format!("/export/leads.csv?source=LINKEDIN_SPONSORED_CONTENT&search={email}"),
    )
    .await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text());
    let entries = entity::audit_entry::Entity::find()
        .filter(entity::audit_entry::Column::Operation.eq("exportLeads"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(entry.actor, "USER");
    assert!(entry.actor_user_id.is_some());
    assert_eq!(entry.object_type, "Lead");
    let details = entry.details.clone().unwrap();
    assert_eq!(details["format"], "csv");
    assert_eq!(details["filter"]["source"], "LINKEDIN_SPONSORED_CONTENT");
    assert_eq!(details["rows"], 1);
    assert_eq!(details["complete"], true);
    let text = format!("{entry:?}").to_lowercase();
    for lead in &listed {
        for field in ["email", "lastName", "company", "phone"] {
            if let Some(value) = lead[field].as_str() {
                assert!(!text.contains(&value.to_lowercase()), "{field} in {text}");
            }
        }
    }

    let got = export(app, Some(&env.sales), "/export/submissions.ndjson").await;
    assert_eq!(got.status, StatusCode::OK);
    let entries = entity::audit_entry::Entity::find()
        .filter(entity::audit_entry::Column::Operation.eq("exportSubmissions"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].details.as_ref().unwrap()["rows"],
        got.lines().len()
    );
}

#[tokio::test]
async fn submission_exports_hold_the_list_and_one_form_s_questions_as_columns() {
    let env = synced().await;
    let app = &env.app;
    let sales = &env.sales;
    let listed = graphql_submissions(app, sales, json!({})).await;
    assert!(listed.len() > 10);

    let ndjson = export(app, Some(sales), "/export/submissions.ndjson").await;
    assert_eq!(ndjson.status, StatusCode::OK, "{}", ndjson.text());
    let lines = ndjson.lines();
    assert_eq!(ids(&lines), ids(&listed));
    for (line, node) in lines.iter().zip(&listed) {
        for (field, value) in node.as_object().unwrap() {
            assert_eq!(&line[field], value, "{field} of submission {}", node["id"]);
        }
    }

    // Without formId: the answers as one JSON column.
    let csv = export(app, Some(sales), "/export/submissions.csv").await;
    let (header, rows) = csv_maps(&csv.text());
    assert!(header.contains(&"answers".to_owned()));
    assert_eq!(rows.len(), listed.len());
    for (row, node) in rows.iter().zip(&listed) {
        assert_eq!(row["id"], node["id"].as_str().unwrap());
        assert_eq!(row["linkedInId"], node["linkedInId"].as_str().unwrap());
        assert_eq!(row["leadEmail"], as_cell(&node["lead"]["email"]));
        assert_eq!(row["campaign"], as_cell(&node["campaign"]["name"]));
        let answers: Value = serde_json::from_str(&row["answers"]).unwrap();
        assert_eq!(answers, node["answers"]);
    }

    // With formId: one column per question of that form, in form order, headed by its text.
    let form = listed[0]["form"]["id"].as_str().unwrap().to_owned();
    let questions = app
        .query(
            Some(sales),
            "{ linkedInForms { id questions { linkedInId text isConsent } } }",
            json!({}),
        )
        .await;
    let form_questions: Vec<Value> = questions["data"]["linkedInForms"]
        .as_array()
        .unwrap_or_else(|| panic!("{questions}"))
        .iter()
        .find(|f| f["id"] == form.as_str())
        .unwrap()["questions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["isConsent"] != true)
        .cloned()
        .collect();
    assert!(form_questions.len() >= 2, "{form_questions:?}");
    let of_form = graphql_submissions(app, sales, json!({ "formId": form })).await;
    let csv = export(
        app,
        Some(sales),
        &format!("/export/submissions.csv?formId={form}"),
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text());
    let mut records = parse_csv(&csv.text());
    let header = records.remove(0);
    let texts: Vec<String> = form_questions
        .iter()
        .map(|q| q["text"].as_str().unwrap().to_owned())
        .collect();
    let start = header.iter().position(|h| h == &texts[0]).unwrap();
    assert_eq!(header[start..start + texts.len()], texts[..]);
    assert!(!header.contains(&"answers".to_owned()));
    assert_eq!(records.len(), of_form.len());
    let mut filled = 0;
    for (record, node) in records.iter().zip(&of_form) {
        assert_eq!(record[0], node["id"].as_str().unwrap());
        for (i, question) in form_questions.iter().enumerate() {
            let answer = node["answers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["questionId"] == question["linkedInId"]);
            let expected = answer.map_or(String::new(), |a| as_cell(&a["value"]));
            filled += usize::from(!expected.is_empty());
            assert_eq!(
                record[start + i],
                expected,
                "{} of {}",
                texts[i],
                node["id"]
            );
        }
    }
    assert!(filled > 0);

    // Filters as in the list.
    let campaign = listed[0]["campaign"]["id"].as_str().unwrap();
    for (name, value) in [
        ("campaignId", campaign.to_owned()),
        ("formId", form.clone()),
        (
            "leadId",
            listed[0]["lead"]["id"].as_str().unwrap().to_owned(),
        ),
        ("matchingStatus", "NEW_LEAD_CREATED".to_owned()),
        ("processingState", "SUCCEEDED".to_owned()),
        ("leadType", "SPONSORED".to_owned()),
        ("testLead", "false".to_owned()),
        (
            "submittedAfter",
            listed[listed.len() / 2]["submittedAt"]
                .as_str()
                .unwrap()
                .to_owned(),
        ),
        (
            "submittedBefore",
            listed[listed.len() / 2]["submittedAt"]
                .as_str()
                .unwrap()
                .to_owned(),
        ),
    ] {
        let graphql_value = if name == "testLead" {
            json!(false)
        } else {
            json!(value)
        };
        let expected = graphql_submissions(app, sales, json!({ name: graphql_value })).await;
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(name, &value)
            .finish();
        let got = export(
            app,
            Some(sales),
            &format!("/export/submissions.ndjson?{query}"),
        )
        .await;
        assert_eq!(got.status, StatusCode::OK, "{name}: {}", got.text());
        assert_eq!(ids(&got.lines()), ids(&expected), "{name}={value}");
    }
}

#[tokio::test]
async fn exports_take_the_api_s_tokens_roles_and_filter_words() {
    let app = TestApp::new().await;
    for path in [
        "/export/leads.csv",
        "/export/leads.ndjson",
        "/export/submissions.csv",
        "/export/submissions.ndjson",
    ] {
        let got = export(&app, None, path).await;
        assert_eq!(got.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(got.error().contains("Bearer"));
        let got = export(&app, Some("not-a-token"), path).await;
        assert_eq!(got.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let inbound = app.token(&[Role::S2sInbound]).await;
    let got = export(&app, Some(&inbound), "/export/leads.csv").await;
    assert_eq!(got.status, StatusCode::FORBIDDEN);
    assert!(got.error().contains("roles"));
    for roles in [
        Role::LeadgenAdministrator,
        Role::LeadgenSalesperson,
        Role::SystemAdministrator,
    ] {
        let token = app.token(&[roles]).await;
        let got = export(&app, Some(&token), "/export/submissions.csv").await;
        assert_eq!(got.status, StatusCode::OK, "{roles:?}");
    }

    let admin = app.admin().await;
    for (path, parameter) in [
        ("/export/leads.csv?campaignId=abc", "campaignId"),
        ("/export/leads.csv?formId=-1", "formId"),
        ("/export/leads.csv?source=FAX", "source"),
        (
            "/export/leads.ndjson?createdAfter=yesterday",
            "createdAfter",
        ),
        (
            "/export/leads.ndjson?createdBefore=2026-13-01",
            "createdBefore",
        ),
        ("/export/leads.csv?campaign_id=1", "campaign_id"),
        ("/export/leads.ndjson?bom=true", "bom"),
        ("/export/leads.csv?bom=yes", "bom"),
        ("/export/submissions.csv?testLead=maybe", "testLead"),
        (
            "/export/submissions.csv?matchingStatus=DONE",
            "matchingStatus",
        ),
        ("/export/submissions.ndjson?leadType=ADS", "leadType"),
        (
            "/export/submissions.csv?processingState=DONE",
            "processingState",
        ),
        ("/export/submissions.ndjson?accountId=x", "accountId"),
        ("/export/submissions.ndjson?leadId=0", "leadId"),
        (
            "/export/submissions.ndjson?submittedAfter=now",
            "submittedAfter",
        ),
        ("/export/submissions.ndjson?source=MANUAL", "source"),
    ] {
        let got = export(&app, Some(&admin), path).await;
        assert_eq!(got.status, StatusCode::BAD_REQUEST, "{path}");
        let message = got.error();
        assert!(message.contains(parameter), "{path}: {message}");
        assert!(!message.to_lowercase().contains("select"), "{message}");
    }
    let long = "a".repeat(201);
    let got = export(
        &app,
        Some(&admin),
        &format!("/export/leads.csv?search={long}"),
    )
    .await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST);
    assert!(got.error().contains("search"));
    // Nothing exported, nothing audited.
    let audited = entity::audit_entry::Entity::find()
        .filter(entity::audit_entry::Column::Operation.starts_with("export"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(audited.len(), 3, "the three successful exports");

    // An empty store: the header row only (CSV), nothing (NDJSON).
    let got = export(&app, Some(&admin), "/export/leads.csv").await;
    assert_eq!(parse_csv(&got.text()).len(), 1);
    let got = export(&app, Some(&admin), "/export/leads.ndjson").await;
    assert!(got.body.is_empty());
}

#[tokio::test]
async fn a_large_export_streams_in_batches() {
    // On a synced store, so the export's source filter has rows to leave out.
    let env = synced().await;
    let app = &env.app;
    let admin = app.admin().await;
    let now = chrono::Utc::now();
    let total = 5_000;
    for chunk in 0..(total / 200) {
        let rows = (0..200).map(|i| {
            let n = chunk * 200 + i;
            lead::ActiveModel {
                first_name: Set(Some(format!("First{n}"))),
                last_name: Set(Some(format!("Last{n}"))),
                email: Set(Some(format!("person{n}@example.com"))),
                email_normalized: Set(Some(format!("person{n}@example.com"))),
                company: Set(Some(format!("Company {n}, Inc."))),
                custom_fields: Set(json!({})),
                source: Set("IMPORT".into()),
                submission_count: Set(0),
                created_at: Set(now - chrono::Duration::seconds(n)),
                updated_at: Set(now),
                ..Default::default()
            }
        });
        lead::Entity::insert_many(rows)
            .exec_without_returning(&app.db)
            .await
            .unwrap();
    }
    let got = export(app, Some(&admin), "/export/leads.csv?source=IMPORT").await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.frames > 1, "{} frames", got.frames);
    let (_, rows) = csv_maps(&got.text());
    assert_eq!(rows.len(), total as usize);
    let unique: HashSet<&String> = rows.iter().map(|r| &r["id"]).collect();
    assert_eq!(unique.len(), total as usize, "no row twice");
    // Newest first, as the list.
    assert_eq!(rows[0]["email"], "person0@example.com");
    assert_eq!(rows[4_999]["email"], "person4999@example.com");
    let got = export(app, Some(&admin), "/export/leads.ndjson?source=IMPORT").await;
    assert!(got.frames > 1);
    assert_eq!(got.lines().len(), total as usize);
}

#[tokio::test]
async fn the_export_command_writes_the_same_bytes() {
    let env = synced().await;
    let app = &env.app;
    for value in TRICKY {
        create_lead(&app.db, company(value), LeadSource::Manual)
            .await
            .unwrap();
    }
    let admin = app.admin().await;
    let config = app.state.config.clone();
    let dir = std::env::temp_dir().join(format!("leadsync-export-{}", rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    for (args, uri) in [
        (
            vec!["leads", "--format", "csv", "--bom", "--search", "tricky"],
            "/export/leads.csv?bom=true&search=tricky",
        ),
        (vec!["leads", "--format", "ndjson"], "/export/leads.ndjson"),
        (
            vec!["submissions", "--format", "csv", "--test-lead", "false"],
            "/export/submissions.csv?testLead=false",
        ),
    ] {
        let file = dir.join("out");
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_leadsync"))
            .arg("export")
            .args(&args)
            .arg("--output")
            .arg(&file)
            .env("DATABASE_URL", &config.database_url)
            .env(
                "LEADSYNC_SECRET_KEY",
                config.secret_key.as_ref().unwrap().expose(),
            )
            .env("LEADSYNC_LOG", "error")
            .output()
            .await
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let served = export(app, Some(&admin), uri).await;
        assert_eq!(served.status, StatusCode::OK);
        assert_eq!(std::fs::read(&file).unwrap(), served.body, "{args:?}");
    }
    // A bad filter: refused with the parameter's name, and no file.
    let file = dir.join("refused");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_leadsync"))
        .args(["export", "leads", "--source", "FAX", "--output"])
        .arg(&file)
        .env("DATABASE_URL", &config.database_url)
        .env(
            "LEADSYNC_SECRET_KEY",
            config.secret_key.as_ref().unwrap().expose(),
        )
        .env("LEADSYNC_LOG", "error")
        .env("RUST_BACKTRACE", "0")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("source:"));
    assert!(!file.exists());
    let cli = entity::audit_entry::Entity::find()
        .filter(entity::audit_entry::Column::Actor.eq("CLI"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(cli.len(), 3, "one entry per command: {cli:?}");
    assert!(cli.iter().all(|e| e.operation.starts_with("export")));
    std::fs::remove_dir_all(&dir).ok();
}

/// `POST /export/links` as `token` with `body`: the status and the JSON answer.
async fn link_for(app: &TestApp, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut request =
        Request::post("/export/links").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = app
        .router
        .clone()
        .oneshot(request.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    assert_eq!(
        response.headers()[header::CACHE_CONTROL],
        "no-store",
        "{body}"
    );
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)));
    (status, json)
}

/// A link's URL, failing unless it was made.
async fn link_url(app: &TestApp, token: &str, path: &str, query: &str) -> String {
    let (status, answer) =
        link_for(app, Some(token), json!({ "path": path, "query": query })).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["url"].as_str().unwrap().to_owned()
}

/// A URL with its `link` parameter's value replaced by `f(value)`.
fn with_link(url: &str, f: impl Fn(&str) -> String) -> String {
    let (path, query) = url.split_once('?').unwrap();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .map(|(k, v)| if k == "link" { (k, f(&v)) } else { (k, v) })
        .collect();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    format!("{path}?{query}")
}

fn link_of(url: &str) -> String {
    let (_, query) = url.split_once('?').unwrap();
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "link")
        .map(|(_, v)| v.into_owned())
        .expect("a link parameter")
}

#[tokio::test]
async fn a_signed_link_downloads_the_same_bytes_as_the_token_and_is_audited_as_its_user() {
    let env = synced().await;
    let app = &env.app;
    let sales = &env.sales;
    let user_id = leadsync::service::users::authenticate(&app.db, sales)
        .await
        .unwrap()
        .unwrap()
        .user_id;
    let email = graphql_leads(app, sales, json!({}))
        .await
        .iter()
        .find_map(|l| l["email"].as_str().map(str::to_owned))
        .unwrap();
    let form = graphql_submissions(app, sales, json!({})).await[0]["form"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let search = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("search", &email[..email.find('@').unwrap()])
        .append_pair("bom", "true")
        .finish();
    for (path, query) in [
        (
            "/export/leads.csv",
            "source=LINKEDIN_SPONSORED_CONTENT&bom=true".to_owned(),
        ),
        ("/export/leads.csv", search),
        ("/export/leads.ndjson", String::new()),
        ("/export/submissions.csv", format!("formId={form}")),
        ("/export/submissions.ndjson", "testLead=false".to_owned()),
    ] {
        let before = chrono::Utc::now();
        let (status, answer) =
            link_for(app, Some(sales), json!({ "path": path, "query": query })).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let url = answer["url"].as_str().unwrap();
        assert!(url.starts_with(&format!("{path}?")), "{url}");
        let expires = chrono::DateTime::parse_from_rfc3339(answer["expiresAt"].as_str().unwrap())
            .unwrap()
            .to_utc();
        let valid = (expires - before).num_seconds();
        assert!((59..=61).contains(&valid), "valid for {valid} s");
        let by_link = export(app, None, url).await;
        assert_eq!(by_link.status, StatusCode::OK, "{url}: {}", by_link.text());
        let by_token = export(app, Some(sales), &format!("{path}?{query}")).await;
        assert_eq!(by_token.status, StatusCode::OK);
        assert!(!by_link.body.is_empty());
        assert_eq!(by_link.body, by_token.body, "{url}");
        for name in [
            header::CONTENT_TYPE,
            header::CONTENT_DISPOSITION,
            header::CACHE_CONTROL,
        ] {
            assert_eq!(by_link.headers[&name], by_token.headers[&name], "{name}");
        }
        // The same link again (within its minute): it is not single-use.
        assert_eq!(export(app, None, url).await.status, StatusCode::OK);
    }
    // Each export is one entry as the salesperson, a link's the same as a token's.
    let entries = entity::audit_entry::Entity::find()
        .filter(entity::audit_entry::Column::Operation.starts_with("export"))
        .order_by_asc(entity::audit_entry::Column::Id)
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(entries.len(), 15, "{entries:?}");
    for entry in &entries {
        assert_eq!(entry.actor, "USER");
        assert_eq!(entry.actor_user_id, Some(user_id));
        let details = entry.details.as_ref().unwrap();
        assert_eq!(details["complete"], true);
        assert!(details["filter"].get("link").is_none(), "{details}");
    }
    for three in entries.chunks(3) {
        let details: Vec<&Value> = three.iter().map(|e| e.details.as_ref().unwrap()).collect();
        assert_eq!(details[0], details[1]);
        assert_eq!(details[0], details[2]);
    }
}

#[tokio::test]
async fn signed_links_are_refused_when_changed_expired_or_their_user_can_no_longer_export() {
    use leadsync::service::users;
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let sales = users::create_user(&app.db, "sales", &[Role::LeadgenSalesperson])
        .await
        .unwrap();
    let token = sales.token.as_str();
    let url = link_url(&app, token, "/export/leads.csv", "source=MANUAL&search=a+b").await;
    assert_eq!(export(&app, None, &url).await.status, StatusCode::OK);
    let link = link_of(&url);
    let query_with = |query: &str| format!("{query}&link={link}");

    // Bound to the path and to every parameter: 403, saying so.
    for changed in [
        format!(
            "/export/leads.csv?{}",
            query_with("source=IMPORT&search=a+b")
        ),
        format!(
            "/export/leads.csv?{}",
            query_with("source=MANUAL&search=a+c")
        ),
        format!("/export/leads.csv?{}", query_with("source=MANUAL")),
        format!(
            "/export/leads.csv?{}",
            query_with("source=MANUAL&search=a+b&bom=true")
        ),
        format!(
            "/export/leads.ndjson?{}",
            query_with("source=MANUAL&search=a+b")
        ),
        format!(
            "/export/submissions.csv?{}",
            query_with("source=MANUAL&search=a+b")
        ),
        with_link(&url, |l| format!("{}{}", &l[..l.len() - 2], "AA")),
        with_link(&url, |l| {
            let (user, rest) = l.split_once('.').unwrap();
            format!("{}.{rest}", user.parse::<i64>().unwrap() + 1)
        }),
    ] {
        let got = export(&app, None, &changed).await;
        assert_eq!(got.status, StatusCode::FORBIDDEN, "{changed}");
        assert!(
            got.error().contains("not made for this URL"),
            "{}",
            got.error()
        );
    }
    // The same parameters in another order and encoding are the same query.
    let reordered = format!("/export/leads.csv?search=a%20b&link={link}&source=MANUAL");
    assert_eq!(export(&app, None, &reordered).await.status, StatusCode::OK);
    // No signature, or not a link at all: 403; two links: 400.
    for (malformed, status) in [
        (
            with_link(&url, |l| l.rsplit_once('.').unwrap().0.to_owned()),
            StatusCode::FORBIDDEN,
        ),
        (with_link(&url, |_| String::new()), StatusCode::FORBIDDEN),
        (with_link(&url, |_| admin.clone()), StatusCode::FORBIDDEN),
        (format!("{url}&link={link}"), StatusCode::BAD_REQUEST),
    ] {
        let got = export(&app, None, &malformed).await;
        assert_eq!(got.status, status, "{malformed}");
        if status == StatusCode::FORBIDDEN {
            assert!(
                got.error().contains("not a download link"),
                "{}",
                got.error()
            );
        }
    }
    // Expired: signed (by the server's own signer) with a time already past.
    let params = vec![("source".to_owned(), "MANUAL".to_owned())];
    let expired = app.state.export_links.sign(
        sales.user.id,
        "/export/leads.csv",
        &params,
        chrono::Utc::now() - chrono::TimeDelta::seconds(1),
    );
    let got = export(
        &app,
        None,
        &format!("/export/leads.csv?source=MANUAL&link={expired}"),
    )
    .await;
    assert_eq!(got.status, StatusCode::FORBIDDEN);
    assert!(got.error().contains("expired"), "{}", got.error());
    // Signed under another deployment's key.
    let foreign = leadsync::service::export::links::LinkSigner::new(&[1; 32]).sign(
        sales.user.id,
        "/export/leads.csv",
        &params,
        chrono::Utc::now() + chrono::TimeDelta::seconds(60),
    );
    let got = export(
        &app,
        None,
        &format!("/export/leads.csv?source=MANUAL&link={foreign}"),
    )
    .await;
    assert_eq!(got.status, StatusCode::FORBIDDEN);

    // The user is checked again when the link is used: roles that no longer export (403), a
    // disabled user (401), a user whose every token is revoked (401).
    let graphql = |query: &'static str, variables: Value| {
        let (app, admin) = (&app, &admin);
        async move {
            let answer = app.query(Some(admin), query, variables).await;
            assert!(answer.get("errors").is_none(), "{answer}");
        }
    };
    let id = sales.user.id.to_string();
    let fresh = link_url(&app, token, "/export/leads.csv", "").await;
    graphql(
        "mutation($id: ID!) { updateUserRoles(id: $id, roles: [S2S_INBOUND]) { id } }",
        json!({ "id": id }),
    )
    .await;
    let got = export(&app, None, &fresh).await;
    assert_eq!(got.status, StatusCode::FORBIDDEN);
    assert!(got.error().contains("roles"), "{}", got.error());
    graphql(
        "mutation($id: ID!) { updateUserRoles(id: $id, roles: [LEADGEN_SALESPERSON]) { id } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(export(&app, None, &fresh).await.status, StatusCode::OK);
    graphql(
        "mutation($id: ID!) { disableUser(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await;
    let got = export(&app, None, &fresh).await;
    assert_eq!(got.status, StatusCode::UNAUTHORIZED);
    assert!(got.error().contains("no longer sign in"), "{}", got.error());
    graphql(
        "mutation($id: ID!) { enableUser(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(export(&app, None, &fresh).await.status, StatusCode::OK);
    let token_id = entity::api_token::Entity::find()
        .filter(entity::api_token::Column::UserId.eq(sales.user.id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    graphql(
        "mutation($id: ID!) { revokeApiToken(id: $id) { id } }",
        json!({ "id": token_id.to_string() }),
    )
    .await;
    assert_eq!(
        export(&app, None, &fresh).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Links are made for the four exports only, with their own parameters, by the roles that
    // export.
    let (status, _) = link_for(&app, None, json!({ "path": "/export/leads.csv" })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let inbound = app.token(&[Role::S2sInbound]).await;
    let (status, answer) =
        link_for(&app, Some(&inbound), json!({ "path": "/export/leads.csv" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    for (body, word) in [
        (json!({ "path": "/graphql" }), "path"),
        (json!({ "path": "/export/links" }), "path"),
        (json!({ "path": "/export/leads.csv/../links" }), "path"),
        (
            json!({ "path": "/export/leads.csv", "query": "source=FAX" }),
            "source",
        ),
        (
            json!({ "path": "/export/leads.ndjson", "query": "bom=true" }),
            "bom",
        ),
        (
            json!({ "path": "/export/leads.csv", "query": "link=x" }),
            "link",
        ),
        (
            json!({ "path": "/export/leads.csv", "query": "source=MANUAL&source=WEB" }),
            "source",
        ),
        (json!({ "query": "source=MANUAL" }), "path"),
        (
            json!({ "path": "/export/leads.csv", "expires": 3600 }),
            "path",
        ),
    ] {
        let (status, answer) = link_for(&app, Some(&admin), body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        let message = answer["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(word), "{body}: {message}");
    }
    // A leading `?` is allowed.
    let url = link_url(&app, &admin, "/export/submissions.ndjson", "?testLead=true").await;
    assert!(
        url.starts_with("/export/submissions.ndjson?testLead=true&link="),
        "{url}"
    );
    let response = app
        .router
        .clone()
        .oneshot(
            Request::post("/export/links")
                .header(header::AUTHORIZATION, format!("Bearer {admin}"))
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("path=/export/leads.csv"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Only the exports that ran are audited.
    let audited = entity::audit_entry::Entity::find()
        .filter(entity::audit_entry::Column::Operation.starts_with("export"))
        .all(&app.db)
        .await
        .unwrap()
        .len();
    assert_eq!(audited, 4, "the four downloads that were served");
}
