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

/// Every list counter of `list_counts` (summed over its slots) against `COUNT(*)` of its list.
async fn assert_counters_match(app: &TestApp, step: &str) {
    use sea_orm::{ConnectionTrait, Statement};
    let db = &app.db;
    let backend = db.get_database_backend();
    let rows = |sql: &str| {
        let statement = Statement::from_string(backend, sql.to_owned());
        async move {
            let mut out = std::collections::BTreeMap::new();
            for row in db.query_all_raw(statement).await.unwrap() {
                let list: String = row.try_get("", "list").unwrap();
                let n: i64 = row.try_get("", "n").unwrap();
                if n != 0 {
                    out.insert(list, n);
                }
            }
            out
        }
    };
    let counters =
        rows("SELECT list, CAST(SUM(n) AS BIGINT) AS n FROM list_counts GROUP BY list").await;
    let counted = rows(
        "SELECT 'leads' AS list, COUNT(*) AS n FROM leads \
         UNION ALL SELECT 'leads:source:' || source, COUNT(*) FROM leads GROUP BY source \
         UNION ALL SELECT 'submissions', COUNT(*) FROM form_submissions \
         UNION ALL SELECT 'submissions:campaign:' || campaign_id, COUNT(*) FROM form_submissions \
             WHERE campaign_id IS NOT NULL GROUP BY campaign_id \
         UNION ALL SELECT 'leads:campaign:' || ref, COUNT(*) FROM (\
             SELECT id AS lead, source_campaign_id AS ref FROM leads \
                 WHERE source_campaign_id IS NOT NULL \
             UNION SELECT lead_id, campaign_id FROM form_submissions \
                 WHERE lead_id IS NOT NULL AND campaign_id IS NOT NULL) m GROUP BY ref \
         UNION ALL SELECT 'leads:form:' || ref, COUNT(*) FROM (\
             SELECT id AS lead, source_form_id AS ref FROM leads WHERE source_form_id IS NOT NULL \
             UNION SELECT lead_id, form_id FROM form_submissions \
                 WHERE lead_id IS NOT NULL AND form_id IS NOT NULL) m GROUP BY ref",
    )
    .await;
    assert_eq!(counters, counted, "list counters after {step}");
    // The membership rows themselves, with how many reasons each lead belongs for.
    let members = rows(
        "SELECT 'campaign:' || lead_id || ':' || campaign_id AS list, reasons AS n \
             FROM lead_campaigns \
         UNION ALL SELECT 'form:' || lead_id || ':' || form_id, reasons FROM lead_forms",
    )
    .await;
    let reasons = rows(
        "SELECT 'campaign:' || lead || ':' || ref AS list, COUNT(*) AS n FROM (\
             SELECT id AS lead, source_campaign_id AS ref FROM leads \
                 WHERE source_campaign_id IS NOT NULL \
             UNION ALL SELECT lead_id, campaign_id FROM form_submissions \
                 WHERE lead_id IS NOT NULL AND campaign_id IS NOT NULL) m GROUP BY lead, ref \
         UNION ALL SELECT 'form:' || lead || ':' || ref, COUNT(*) FROM (\
             SELECT id AS lead, source_form_id AS ref FROM leads WHERE source_form_id IS NOT NULL \
             UNION ALL SELECT lead_id, form_id FROM form_submissions \
                 WHERE lead_id IS NOT NULL AND form_id IS NOT NULL) m GROUP BY lead, ref",
    )
    .await;
    assert!(
        !reasons.is_empty() || step == "migrating",
        "members after {step}"
    );
    assert_eq!(members, reasons, "campaign and form members after {step}");
}

#[tokio::test]
async fn list_counters_stay_equal_to_count_after_every_write() {
    use leadsync::{
        events::EventBus,
        linkedin::sandbox::{Sandbox, SandboxConfig},
        service::{ingest, leads},
    };
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = TestApp::new().await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    assert_counters_match(&app, "migrating").await;

    let sandbox = Sandbox::new(SandboxConfig {
        seed: 12,
        accounts: 1,
        leads_per_account: 150,
        ..Default::default()
    });
    let account = sandbox
        .accounts()
        .into_iter()
        .find(|a| !a.forbidden)
        .unwrap();
    let forms = sandbox.forms(&account.id);
    let responses = sandbox.responses(&account.id);
    assert!(responses.len() > 60, "{} responses", responses.len());
    let bus = EventBus::default();
    for (k, batch) in responses.chunks(40).enumerate() {
        ingest::ingest(
            &app.db,
            &bus,
            ingest::IngestRequest {
                forms: if k == 0 { forms.clone() } else { Vec::new() },
                responses: batch.to_vec(),
                profile_id: None,
                cursor: None,
            },
        )
        .await
        .unwrap();
        assert_counters_match(&app, &format!("ingest batch {k}")).await;
    }
    // The same responses again: duplicates, nothing new.
    ingest::ingest(
        &app.db,
        &bus,
        ingest::IngestRequest {
            forms: Vec::new(),
            responses: responses[..30].to_vec(),
            profile_id: None,
            cursor: None,
        },
    )
    .await
    .unwrap();
    assert_counters_match(&app, "a replayed batch").await;

    let manual = create(
        &app,
        &sales,
        json!({"email": "m@x.example", "source": "WEB"}),
    )
    .await;
    assert_counters_match(&app, "createLead").await;
    let manual_id: i64 = manual["id"].as_str().unwrap().parse().unwrap();
    let mut active: entity::lead::ActiveModel =
        leads::get_lead(&app.db, manual_id).await.unwrap().into();
    active.source = Set("IMPORT".into());
    active.update(&app.db).await.unwrap();
    assert_counters_match(&app, "a lead's source changed").await;

    let page = app
        .op_ok(&sales, "FormSubmissions", json!({"first": 3}))
        .await;
    let lead_of = |k: usize| {
        page["formSubmissions"]["edges"][k]["node"]["lead"]["id"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .unwrap()
    };
    // A submission moved to another lead, and a lead whose campaign and form changed.
    let submission = entity::form_submission::Entity::find()
        .filter(entity::form_submission::Column::LeadId.eq(lead_of(0)))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut moved: entity::form_submission::ActiveModel = submission.clone().into();
    moved.lead_id = Set(Some(manual_id));
    moved.update(&app.db).await.unwrap();
    assert_counters_match(&app, "a submission moved to another lead").await;
    let mut active: entity::lead::ActiveModel =
        leads::get_lead(&app.db, manual_id).await.unwrap().into();
    active.source_campaign_id = Set(submission.campaign_id);
    active.source_form_id = Set(submission.form_id);
    active.update(&app.db).await.unwrap();
    assert_counters_match(&app, "a lead's campaign and form set").await;
    let mut active: entity::lead::ActiveModel =
        leads::get_lead(&app.db, manual_id).await.unwrap().into();
    active.source_campaign_id = Set(None);
    active.update(&app.db).await.unwrap();
    assert_counters_match(&app, "a lead's campaign cleared").await;
    // The campaign's leads through the API: the exact total is its counter's.
    let campaign = submission.campaign_id.unwrap();
    let members = app
        .query(
            Some(&sales),
            "query($c: ID!) { leads(first: 100, filter: { campaignId: $c }) { totalCount edges { node { id } } } }",
            json!({ "c": campaign.to_string() }),
        )
        .await;
    let listed = members["data"]["leads"]["edges"].as_array().unwrap().len() as i64;
    assert!(listed > 0, "{members}");
    assert_eq!(members["data"]["leads"]["totalCount"], listed, "{members}");

    leads::delete_lead(&app.db, lead_of(0)).await.unwrap();
    assert_counters_match(&app, "deleteLead").await;
    leads::erase_lead(&app.db, &[7; 32], lead_of(1), None)
        .await
        .unwrap();
    assert_counters_match(&app, "eraseLead").await;
    let linkedin_id = page["formSubmissions"]["edges"][2]["node"]["linkedInId"]
        .as_str()
        .unwrap();
    assert!(leads::erase_response(&app.db, linkedin_id).await.unwrap());
    assert_counters_match(&app, "a response LinkedIn deleted").await;

    // The totals the lists report are those counters.
    let total = app.op_ok(&sales, "Leads", json!({"first": 1})).await["leads"]["totalCount"]
        .as_i64()
        .unwrap();
    assert_eq!(total, lead_count(&app).await);
}

async fn lead_count(app: &TestApp) -> i64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    entity::lead::Entity::find().count(&app.db).await.unwrap() as i64
}

#[tokio::test]
async fn a_filtered_total_counts_up_to_its_limit_and_an_unfiltered_one_exactly() {
    use leadsync::service::paging::COUNT_LIMIT;
    use sea_orm::EntityTrait;
    let app = TestApp::new().await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    // Through the API first, as a client would: the pool's connections then know the schema.
    let none = app
        .query(
            Some(&sales),
            "{ leads(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(none["data"]["leads"]["totalCount"], 0, "{none}");
    let now = Utc::now();
    let n = COUNT_LIMIT as usize + 5;
    let rows = (0..n).map(|i| {
        let email = format!("bulk{i}@x.example");
        entity::lead::ActiveModel {
            first_name: Set(Some(format!("Bulk{i}"))),
            email_normalized: Set(Some(email.clone())),
            email: Set(Some(email)),
            custom_fields: Set(json!({})),
            source: Set(if i % 2 == 0 { "MANUAL" } else { "WEB" }.into()),
            submission_count: Set(0),
            created_at: Set(now - chrono::Duration::seconds(i as i64)),
            updated_at: Set(now),
            ..Default::default()
        }
    });
    let rows: Vec<_> = rows.collect();
    for chunk in rows.chunks(200) {
        entity::lead::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&app.db)
            .await
            .unwrap();
    }
    let total = |filter: Value| {
        let app = &app;
        let sales = &sales;
        async move {
            app.op_ok(sales, "Leads", json!({"first": 2, "filter": filter}))
                .await["leads"]["totalCount"]
                .as_i64()
                .unwrap()
        }
    };
    // Counters: exact whatever the size.
    assert_eq!(total(json!({})).await, n as i64);
    assert_eq!(total(json!({"source": "WEB"})).await, (n / 2) as i64);
    // Other filters: exact up to the limit, one more past it.
    assert_eq!(
        total(json!({"search": "bulk"})).await,
        COUNT_LIMIT as i64 + 1
    );
    assert_eq!(
        total(json!({"search": "bulk100"})).await,
        6,
        "bulk100, bulk1000..1004"
    );
    assert_eq!(
        total(json!({"createdBefore": now + chrono::Duration::seconds(1)})).await,
        COUNT_LIMIT as i64 + 1
    );
    assert_eq!(
        total(json!({"createdAfter": now - chrono::Duration::seconds(9)})).await,
        10
    );
    // Past a cursor an empty page still reports the same total.
    let last = app
        .op_ok(
            &sales,
            "Leads",
            json!({"first": 1, "filter": {"search": "bulk"},
                   "orderBy": {"field": "CREATED_AT", "direction": "ASC"}}),
        )
        .await;
    assert_eq!(last["leads"]["totalCount"], COUNT_LIMIT as i64 + 1);
}

fn sortable(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// Pages of 3 through every order both ways give the order of one sorted list: values in the
/// direction, ties by id in the direction, nulls (no email, no submission) last by id.
#[tokio::test]
async fn every_order_pages_without_gaps_or_repeats_with_nulls_last() {
    let app = TestApp::new().await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    let base = Utc::now() - chrono::Duration::days(3);
    let mut ids = Vec::new();
    for i in 0..17 {
        let input = if i % 4 == 3 {
            json!({"firstName": format!("N{i}")})
        } else {
            // Repeated emails: ties broken by id.
            json!({"email": format!("p{}@x.example", i % 5), "firstName": format!("N{i}")})
        };
        let lead = create(&app, &sales, input).await;
        let id: i64 = lead["id"].as_str().unwrap().parse().unwrap();
        let mut active: entity::lead::ActiveModel = leadsync::service::leads::get_lead(&app.db, id)
            .await
            .unwrap()
            .into();
        // Every third lead has no submission; the others share three instants (ties).
        active.latest_submission_at =
            Set((i % 3 != 0)
                .then(|| base + chrono::Duration::hours((i % 3) as i64 + (i % 2) as i64)));
        active.update(&app.db).await.unwrap();
        ids.push(id);
    }
    let leads: Vec<entity::lead::Model> = {
        use sea_orm::EntityTrait;
        entity::lead::Entity::find().all(&app.db).await.unwrap()
    };
    for field in ["CREATED_AT", "UPDATED_AT", "LATEST_SUBMISSION_AT", "EMAIL"] {
        for descending in [false, true] {
            let key = |m: &entity::lead::Model| -> Option<String> {
                match field {
                    "CREATED_AT" => Some(sortable(m.created_at)),
                    "UPDATED_AT" => Some(sortable(m.updated_at)),
                    "LATEST_SUBMISSION_AT" => m.latest_submission_at.map(sortable),
                    _ => m.email_normalized.clone(),
                }
            };
            let mut expected = leads.clone();
            expected.sort_by(|a, b| {
                let order = match (key(a), key(b)) {
                    (Some(x), Some(y)) => x.cmp(&y).then(a.id.cmp(&b.id)),
                    (Some(_), None) => return std::cmp::Ordering::Less,
                    (None, Some(_)) => return std::cmp::Ordering::Greater,
                    (None, None) => a.id.cmp(&b.id),
                };
                if descending { order.reverse() } else { order }
            });
            let expected: Vec<String> = expected.iter().map(|m| m.id.to_string()).collect();
            let order =
                json!({"field": field, "direction": if descending { "DESC" } else { "ASC" }});
            let mut after: Option<String> = None;
            let mut seen = Vec::new();
            loop {
                let data = app
                    .op_ok(
                        &sales,
                        "Leads",
                        json!({"first": 3, "after": after, "orderBy": order}),
                    )
                    .await;
                let conn = &data["leads"];
                assert_eq!(conn["totalCount"], 17);
                for edge in conn["edges"].as_array().unwrap() {
                    seen.push(edge["node"]["id"].as_str().unwrap().to_owned());
                }
                if !conn["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                    break;
                }
                after = conn["pageInfo"]["endCursor"].as_str().map(str::to_owned);
            }
            assert_eq!(seen, expected, "{field} descending={descending}");
        }
    }
}
