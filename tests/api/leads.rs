use std::collections::HashSet;

use chrono::Utc;
use entity::linkedin_campaign;
use leadsync::domain::Role;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};

use crate::common::{TestApp, error_code};

async fn create(app: &TestApp, token: &str, input: Value) -> Value {
    app.op_ok(token, "CreateLead", json!({ "input": input }))
        .await["createLead"]
        .clone()
}

#[tokio::test]
async fn a_lead_is_created_updated_and_deleted() {
    let app = TestApp::new().await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    let admin = app.token(&[Role::LeadgenAdministrator]).await;

    let lead = create(
        &app,
        &sales,
        json!({"firstName": " Ada ", "lastName": "Lovelace", "email": "Ada@Example.com",
               "phone": "+44 20 7946 0958", "company": "Analytical Engines", "country": "GB"}),
    )
    .await;
    assert_eq!(lead["firstName"], "Ada", "values are trimmed");
    assert_eq!(lead["email"], "Ada@Example.com");
    assert_eq!(lead["source"], "MANUAL");
    assert_eq!(lead["submissionCount"], 0);
    assert!(lead["latestSubmissionAt"].is_null());
    let id = lead["id"].as_str().unwrap().to_owned();

    // Omitted fields stay, null clears, values change.
    let updated = app
        .op_ok(
            &sales,
            "UpdateLead",
            json!({"id": id, "input": {"jobTitle": "Programmer", "phone": null, "company": "Babbage & Co"}}),
        )
        .await["updateLead"]
        .clone();
    assert_eq!(updated["firstName"], "Ada");
    assert_eq!(updated["email"], "Ada@Example.com");
    assert_eq!(updated["jobTitle"], "Programmer");
    assert_eq!(updated["company"], "Babbage & Co");
    assert!(updated["phone"].is_null());
    assert!(updated["updatedAt"].as_str().unwrap() >= lead["updatedAt"].as_str().unwrap());

    let info = app
        .op_ok(&sales, "LeadLinkedInInfo", json!({"id": id}))
        .await;
    assert_eq!(info["lead"]["jobTitle"], "Programmer");
    assert_eq!(info["lead"]["customFields"], json!({}));
    assert_eq!(info["lead"]["submissions"]["totalCount"], 0);

    let deleted = app.op_ok(&admin, "DeleteLead", json!({"id": id})).await;
    assert_eq!(deleted["deleteLead"]["id"], id.as_str());
    let gone = app
        .op(Some(&sales), "LeadLinkedInInfo", json!({"id": id}))
        .await;
    assert_eq!(error_code(&gone).as_deref(), Some("NOT_FOUND"));
    let again = app.op(Some(&admin), "DeleteLead", json!({"id": id})).await;
    assert_eq!(error_code(&again).as_deref(), Some("NOT_FOUND"));
}

#[tokio::test]
async fn bad_lead_input_is_refused_with_a_clear_code() {
    let app = TestApp::new().await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    for input in [
        json!({"email": "not an email"}),
        json!({"workEmail": "a@b"}),
        json!({"firstName": "x".repeat(1001)}),
        json!({"customFields": [1, 2]}),
    ] {
        let response = app
            .op(Some(&sales), "CreateLead", json!({ "input": input }))
            .await;
        assert_eq!(
            error_code(&response).as_deref(),
            Some("BAD_USER_INPUT"),
            "{input}: {response}"
        );
    }
    let response = app
        .op(
            Some(&sales),
            "UpdateLead",
            json!({"id": "12345", "input": {"firstName": "x"}}),
        )
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("NOT_FOUND"));
    let response = app
        .op(
            Some(&sales),
            "UpdateLead",
            json!({"id": "abc", "input": {}}),
        )
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("BAD_USER_INPUT"));
    let response = app.op(Some(&sales), "Leads", json!({"first": 1000})).await;
    assert_eq!(error_code(&response).as_deref(), Some("BAD_USER_INPUT"));
    let response = app
        .op(Some(&sales), "Leads", json!({"after": "garbage"}))
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn custom_fields_are_kept_as_a_json_object() {
    let app = TestApp::new().await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    let lead = create(
        &app,
        &sales,
        json!({"customFields": {"budget": "10k", "seats": 12}}),
    )
    .await;
    let info = app
        .op_ok(&sales, "LeadLinkedInInfo", json!({"id": lead["id"]}))
        .await;
    assert_eq!(
        info["lead"]["customFields"],
        json!({"budget": "10k", "seats": 12})
    );
}

/// Pages through `Leads` with the given filter and order; returns the emails in page order.
async fn all_pages(
    app: &TestApp,
    token: &str,
    filter: Value,
    order: Value,
    size: i64,
) -> (Vec<Value>, i64) {
    let mut after: Option<String> = None;
    let mut seen = Vec::new();
    let mut total;
    loop {
        let data = app
            .op_ok(
                token,
                "Leads",
                json!({"first": size, "after": after, "filter": filter, "orderBy": order}),
            )
            .await;
        let conn = &data["leads"];
        total = conn["totalCount"].as_i64().unwrap();
        let edges = conn["edges"].as_array().unwrap();
        assert!(edges.len() as i64 <= size);
        for edge in edges {
            seen.push(edge["node"]["email"].clone());
        }
        if !conn["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = Some(conn["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    }
    (seen, total)
}

#[tokio::test]
async fn leads_filter_order_and_page() {
    let app = TestApp::new().await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;

    let mut emails = Vec::new();
    for i in 0..23 {
        let email = format!(
            "person{:02}@{}.example",
            (i * 7) % 23,
            if i % 3 == 0 { "acme" } else { "globex" }
        );
        let company = if i % 3 == 0 { "ACME Corp" } else { "Globex" };
        let source = if i % 2 == 0 { "MANUAL" } else { "IMPORT" };
        create(&app, &sales, json!({"email": email, "company": company, "source": source, "firstName": format!("P{i}")})).await;
        emails.push(email);
    }
    // Leads without email sort last whatever the direction.
    create(
        &app,
        &sales,
        json!({"firstName": "No Email 1", "company": "100% Real"}),
    )
    .await;
    create(&app, &sales, json!({"firstName": "No Email 2"})).await;

    let mut sorted = emails.clone();
    sorted.sort();
    let (seen, total) = all_pages(
        &app,
        &sales,
        json!({}),
        json!({"field": "EMAIL", "direction": "ASC"}),
        7,
    )
    .await;
    assert_eq!(total, 25);
    let mut expected: Vec<Value> = sorted.iter().map(|e| json!(e)).collect();
    expected.extend([Value::Null, Value::Null]);
    assert_eq!(seen, expected);

    let (seen, _) = all_pages(
        &app,
        &sales,
        json!({}),
        json!({"field": "EMAIL", "direction": "DESC"}),
        4,
    )
    .await;
    let mut expected: Vec<Value> = sorted.iter().rev().map(|e| json!(e)).collect();
    expected.extend([Value::Null, Value::Null]);
    assert_eq!(seen, expected);

    // Newest first by default: every lead exactly once across pages of 5.
    let (seen, total) = all_pages(&app, &sales, json!({}), Value::Null, 5).await;
    assert_eq!(total, 25);
    assert_eq!(seen.len(), 25);
    let distinct: HashSet<String> = seen.iter().map(|v| v.to_string()).collect();
    assert_eq!(distinct.len(), 24, "23 emails and null");

    let (seen, total) =
        all_pages(&app, &sales, json!({"source": "IMPORT"}), Value::Null, 100).await;
    assert_eq!(total, 11);
    assert_eq!(seen.len(), 11);

    // Search is case-insensitive over name, email and company; words must all match.
    let (seen, total) = all_pages(&app, &sales, json!({"search": "acme"}), Value::Null, 100).await;
    assert_eq!(total, 8);
    assert!(seen.iter().all(|e| e.as_str().unwrap().contains("@acme.")));
    let (_, total) = all_pages(
        &app,
        &sales,
        json!({"search": "ACME person00"}),
        Value::Null,
        100,
    )
    .await;
    assert_eq!(total, 1);
    // LIKE wildcards in the search are literal.
    let (_, total) = all_pages(&app, &sales, json!({"search": "100%"}), Value::Null, 100).await;
    assert_eq!(total, 1);
    let (_, total) = all_pages(&app, &sales, json!({"search": "%"}), Value::Null, 100).await;
    assert_eq!(total, 1);

    let now = Utc::now();
    let (_, total) = all_pages(&app, &sales, json!({"createdAfter": now}), Value::Null, 100).await;
    assert_eq!(total, 0);
    let (_, total) = all_pages(
        &app,
        &sales,
        json!({"createdBefore": now}),
        Value::Null,
        100,
    )
    .await;
    assert_eq!(total, 25);
}

#[tokio::test]
async fn leads_filter_by_campaign() {
    let app = TestApp::new().await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    let now = Utc::now();
    let campaign = linkedin_campaign::ActiveModel {
        linkedin_id: Set("501".into()),
        account_id: Set(None),
        name: Set("Spring launch".into()),
        campaign_type: Set(None),
        status: Set(Some("ACTIVE".into())),
        start_at: Set(None),
        end_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let from_campaign = create(&app, &sales, json!({"email": "c@camp.example"})).await;
    create(&app, &sales, json!({"email": "other@camp.example"})).await;
    let id: i64 = from_campaign["id"].as_str().unwrap().parse().unwrap();
    let model = leadsync::service::leads::get_lead(&app.db, id)
        .await
        .unwrap();
    let mut active: entity::lead::ActiveModel = model.into();
    active.source_campaign_id = Set(Some(campaign.id));
    active.update(&app.db).await.unwrap();

    let (seen, total) = all_pages(
        &app,
        &sales,
        json!({"campaignId": campaign.id.to_string()}),
        Value::Null,
        10,
    )
    .await;
    assert_eq!(total, 1);
    assert_eq!(seen, vec![json!("c@camp.example")]);
    let info = app
        .op_ok(&sales, "LeadLinkedInInfo", json!({"id": id.to_string()}))
        .await;
    assert_eq!(info["lead"]["sourceCampaign"]["name"], "Spring launch");
    assert_eq!(info["lead"]["sourceCampaign"]["linkedInId"], "501");
}

/// Runs `Leads` and returns its connection and the SQL statements the request ran.
async fn measured_leads(app: &TestApp, token: &str, variables: Value) -> (Value, usize) {
    let before = app.statement_count();
    let data = app.op_ok(token, "Leads", variables).await;
    (data["leads"].clone(), app.statement_count() - before)
}

#[tokio::test]
async fn a_leads_page_with_its_total_is_one_statement_whatever_its_size() {
    let app = TestApp::new().await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    for i in 0..30 {
        create(&app, &sales, json!({"email": format!("p{i}@x.example")})).await;
    }
    let order = json!({"field": "EMAIL", "direction": "ASC"});
    let (few, statements_few) =
        measured_leads(&app, &sales, json!({"first": 5, "orderBy": order})).await;
    let (many, statements_many) =
        measured_leads(&app, &sales, json!({"first": 50, "orderBy": order})).await;
    assert_eq!(few["edges"].as_array().unwrap().len(), 5);
    assert_eq!(many["edges"].as_array().unwrap().len(), 30);
    assert_eq!(few["totalCount"], 30);
    assert_eq!(many["totalCount"], 30);
    assert_eq!((statements_few, statements_many), (1, 1));

    // Past the last row the page is empty and its total still counts the whole list.
    let end = many["pageInfo"]["endCursor"].as_str().unwrap();
    let (past, _) = measured_leads(
        &app,
        &sales,
        json!({"first": 5, "after": end, "orderBy": order}),
    )
    .await;
    assert_eq!(past["edges"], json!([]));
    assert_eq!(past["totalCount"], 30);
    // A filter that matches nothing: an empty first page counts 0.
    let (none, _) = measured_leads(
        &app,
        &sales,
        json!({"first": 5, "filter": {"search": "nobody-here"}}),
    )
    .await;
    assert_eq!(none["totalCount"], 0);
}
