//! The lead-processing pipeline, driven through the IngestLinkedInLeads operation with LinkedIn's
//! documented payloads and generated ones.

use std::path::Path;

use entity::{customer_journey, form_submission, lead};
use leadsync::domain::Role;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::common::{TestApp, contract_operation, error_code};

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/linkedin")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The fixture copies in tests/ are LinkedIn's documented payloads from ../shared (when present).
#[test]
fn fixture_copies_match_shared() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/linkedin");
    let Ok(entries) = std::fs::read_dir(&shared) else {
        eprintln!("../shared is absent: using the committed fixture copies");
        return;
    };
    for entry in entries {
        let entry = entry.unwrap();
        let ours = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/linkedin")
            .join(entry.file_name());
        assert_eq!(
            std::fs::read_to_string(entry.path()).unwrap(),
            std::fs::read_to_string(&ours).unwrap_or_default(),
            "{} differs from ../shared: copy it again",
            entry.file_name().to_string_lossy()
        );
    }
}

const FORM: i64 = 9100;
const CAMPAIGN: &str = "urn:li:sponsoredCampaign:555";
const T0: i64 = 1_760_000_000_000;

/// A form with EMAIL, FIRST_NAME, PHONE_NUMBER, COMPANY_NAME, a custom "Budget" question, a
/// multiple-choice "Team size" and a consent.
fn form() -> Value {
    let text = |q: &str| json!({"localized": {"en_US": q}});
    json!({
        "id": FORM, "versionId": 2, "name": "Demo request", "state": "PUBLISHED",
        "owner": {"sponsoredAccount": "urn:li:sponsoredAccount:777"},
        "creationLocale": {"country": "US", "language": "en"},
        "content": {
            "headline": text("Book a demo"),
            "questions": [
                {"questionId": 1, "name": "Email", "question": text("Email address"), "predefinedField": "EMAIL"},
                {"questionId": 2, "name": "First name", "question": text("First name"), "predefinedField": "FIRST_NAME"},
                {"questionId": 3, "name": "Phone", "question": text("Phone"), "predefinedField": "PHONE_NUMBER"},
                {"questionId": 4, "name": "Company", "question": text("Company"), "predefinedField": "COMPANY_NAME"},
                {"questionId": 5, "name": "Budget", "question": text("What is your budget?"),
                 "questionDetails": {"textQuestionDetails": {"maxResponseLength": 100}}},
                {"questionId": 6, "name": "Team size", "question": text("How big is your team?"),
                 "questionDetails": {"multipleChoiceQuestionDetails": {"options": [
                    {"id": 0, "text": text("1-10")}, {"id": 1, "text": text("11-50")}, {"id": 2, "text": text("51+")}]}}}
            ],
            "legalInfo": {"consents": [{"id": 0, "consent": text("Contact me by email")}], "privacyPolicyUrl": "https://x.example/privacy"}
        }
    })
}

/// A response to `form()`; `answers` are (questionId, text) pairs, unordered as LinkedIn sends.
fn response(id: &str, minutes: i64, answers: &[(i64, &str)]) -> Value {
    let answers: Vec<Value> = answers
        .iter()
        .map(|(q, a)| json!({"questionId": q, "answerDetails": {"textQuestionAnswer": {"answer": a}}}))
        .collect();
    json!({
        "id": id, "owner": {"sponsoredAccount": "urn:li:sponsoredAccount:777"},
        "submitter": "urn:li:person:abc", "leadType": "SPONSORED",
        "leadMetadata": {"sponsoredLeadMetadata": {"campaign": CAMPAIGN}},
        "versionedLeadGenFormUrn": format!("urn:li:versionedLeadGenForm:(urn:li:leadGenForm:{FORM},2)"),
        "submittedAt": T0 + minutes * 60_000, "testLead": false,
        "associatedEntity": {"associatedCreative": "urn:li:sponsoredCreative:42"},
        "formResponse": {"answers": answers, "consentResponses": [{"consentId": 0, "accepted": true}]}
    })
}

/// The contract's IngestLinkedInLeads selection plus the fields it leaves out.
const INGEST: &str = "mutation($input: IngestLinkedInLeadsInput!) { ingestLinkedInLeads(input: $input) {
    submissionsCreated duplicatesSkipped erasedSkipped leadsCreated leadsUpdated leadsUnchanged ignored failed
    failures { element linkedInId reason }
    submissions { id linkedInId matchingStatus processingState matchExplanation lead { id email } } } }";

async fn ingest(app: &TestApp, token: &str, forms: Vec<Value>, responses: Vec<Value>) -> Value {
    let variables = json!({"input": {"forms": forms, "responses": responses}});
    let full = app.query(Some(token), INGEST, variables).await;
    assert!(full.get("errors").is_none(), "{full:#}");
    full["data"]["ingestLinkedInLeads"].clone()
}

async fn lead_count(app: &TestApp) -> u64 {
    lead::Entity::find().count(&app.db).await.unwrap()
}

async fn submission_count(app: &TestApp) -> u64 {
    form_submission::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

async fn set_config(app: &TestApp, input: Value) {
    let admin = app.admin().await;
    app.op_ok(
        &admin,
        "UpdateIntegrationConfiguration",
        json!({"input": input}),
    )
    .await;
}

#[tokio::test]
async fn linkedin_documented_lead_becomes_a_lead_with_every_answer() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    // The documented response is a test lead: let test leads become leads here.
    set_config(&app, json!({"createLeadsFromTestLeads": true})).await;

    // Exactly the front-end contract's operation.
    let result = app
        .op_ok(
            &s2s,
            "IngestLinkedInLeads",
            json!({"input": {"forms": [fixture("lead-form.json")], "responses": [fixture("lead-form-response.json")]}}),
        )
        .await["ingestLinkedInLeads"]
        .clone();
    assert_eq!(result["submissionsCreated"], 1);
    assert_eq!(result["leadsCreated"], 1);
    assert_eq!(result["failed"], 0);
    let submission = &result["submissions"][0];
    assert_eq!(
        submission["linkedInId"],
        "249592fc-d272-44ba-a7db-c2bdce579507-6"
    );
    assert_eq!(submission["matchingStatus"], "NEW_LEAD_CREATED");
    assert_eq!(submission["processingState"], "SUCCEEDED");
    let lead_id = submission["lead"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        submission["matchExplanation"],
        format!("no lead with email kevjohonson@email.com: created lead {lead_id}")
    );

    let info = app
        .op_ok(&sales, "LeadLinkedInInfo", json!({"id": lead_id}))
        .await["lead"]
        .clone();
    assert_eq!(info["firstName"], "Kevin");
    assert_eq!(info["lastName"], "Johonson");
    assert_eq!(info["email"], "kevjohonson@email.com");
    assert_eq!(info["jobTitle"], "Senior Engineer");
    assert_eq!(info["source"], "LINKEDIN_SPONSORED_CONTENT");
    assert_eq!(info["submissionCount"], 1);
    assert_eq!(info["latestSubmissionAt"], "2023-07-20T23:09:59.288+00:00");
    assert_eq!(info["sourceForm"]["name"], "Form with written spanish");
    assert_eq!(info["sourceCampaign"]["linkedInId"], "198356826");
    let sub = &info["submissions"]["edges"][0]["node"];
    assert_eq!(sub["testLead"], true);
    // Unordered answers come back in the form's order, in the form's language, choices resolved.
    let answers: Vec<(String, String)> = sub["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["questionText"].as_str().unwrap().to_owned(),
                a["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        answers,
        [
            ("Nombre", "Kevin"),
            ("Apellidos", "Johonson"),
            ("Correo electrónico", "kevjohonson@email.com"),
            ("Cargo", "Senior Engineer"),
            ("Función", "Ingeniería"),
            ("Correo electrónico del trabajo", "kjohonson@email.com"),
            ("Cuál es tu color favorito", "Rojo"),
            ("¿Dónde creciste?", "Mexico"),
        ]
        .map(|(q, v)| (q.to_owned(), v.to_owned()))
    );
    assert_eq!(
        sub["consents"],
        json!([{"text": "marque mi casilla de verificación personalizada!", "accepted": true}])
    );

    let forms = app.op_ok(&sales, "Forms", json!({})).await["linkedInForms"].clone();
    assert_eq!(forms[0]["locale"], "es_ES");
    assert_eq!(forms[0]["headline"], "mi super gran titular");
    let custom: Vec<&str> = forms[0]["questions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["isCustom"] == true)
        .map(|q| q["text"].as_str().unwrap())
        .collect();
    assert_eq!(custom, ["Cuál es tu color favorito", "¿Dónde creciste?"]);
    let unmapped: Vec<&str> = forms[0]["unmappedQuestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["text"].as_str().unwrap())
        .collect();
    assert_eq!(unmapped, custom);

    // The campaign got its customer journey, and the submission links to it.
    let journeys =
        app.op_ok(&sales, "CustomerJourneys", json!({})).await["customerJourneys"].clone();
    assert_eq!(journeys.as_array().unwrap().len(), 1);
    let stored = form_submission::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.customer_journey_id.map(|j| j.to_string()),
        journeys[0]["id"].as_str().map(str::to_owned)
    );
    assert_eq!(
        stored.hidden_fields,
        Some(json!({"hidden_field": "abc678", "campo_escondido": "def789"}))
    );
}

#[tokio::test]
async fn test_leads_stay_submissions_unless_configured() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let result = ingest(
        &app,
        &s2s,
        vec![fixture("lead-form.json")],
        vec![fixture("lead-form-response.json")],
    )
    .await;
    assert_eq!(result["submissionsCreated"], 1);
    assert_eq!(result["leadsCreated"], 0);
    assert_eq!(result["ignored"], 1);
    assert!(result["submissions"][0]["lead"].is_null());
    assert_eq!(result["submissions"][0]["processingState"], "SUCCEEDED");
    assert!(
        result["submissions"][0]["matchExplanation"]
            .as_str()
            .unwrap()
            .starts_with("test lead")
    );
    assert_eq!(lead_count(&app).await, 0);
}

#[tokio::test]
async fn a_response_to_an_unknown_form_fails_then_succeeds_with_its_form() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    set_config(&app, json!({"createLeadsFromTestLeads": true})).await;
    let minimal = fixture("lead-form-response-minimal.json");
    let result = ingest(&app, &s2s, vec![], vec![minimal.clone()]).await;
    assert_eq!(result["failed"], 1);
    assert_eq!(result["submissions"][0]["processingState"], "FAILED");
    assert_eq!(
        result["failures"][0]["reason"],
        "form 3213 version 1 is unknown: send its definition with the responses"
    );
    assert_eq!(lead_count(&app).await, 0);

    let mut form = fixture("lead-form.json");
    form["id"] = json!(3213);
    form["content"]["questions"] = json!([
        {"questionId": 20502584796_i64, "name": "Email", "question": {"localized": {"en_US": "Email"}}, "predefinedField": "EMAIL"},
        {"questionId": 20502643516_i64, "name": "First name", "question": {"localized": {"en_US": "First name"}}, "predefinedField": "FIRST_NAME"},
        {"questionId": 20502667260_i64, "name": "Last name", "question": {"localized": {"en_US": "Last name"}}, "predefinedField": "LAST_NAME"}
    ]);
    let result = ingest(&app, &s2s, vec![form], vec![minimal]).await;
    assert_eq!(result["failed"], 0);
    assert_eq!(result["submissionsCreated"], 1);
    assert_eq!(result["leadsCreated"], 1);
    assert_eq!(result["submissions"][0]["lead"]["email"], "test1@gmail.com");
    assert_eq!(
        submission_count(&app).await,
        1,
        "the failed submission was replaced, not doubled"
    );
}

#[tokio::test]
async fn case_and_space_variants_of_an_email_are_one_lead() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    let batch = vec![
        response(
            "r1",
            1,
            &[(2, "Ada"), (1, "Ada@Example.com"), (4, "Analytical")],
        ),
        response(
            "r2",
            2,
            &[(1, "  ada@example.COM "), (4, "Engines Ltd"), (5, "10k")],
        ),
        response("r3", 3, &[(1, "ADA@EXAMPLE.COM"), (4, "Engines Ltd")]),
    ];
    let result = ingest(&app, &s2s, vec![form()], batch).await;
    assert_eq!(result["submissionsCreated"], 3);
    assert_eq!(result["leadsCreated"], 1);
    assert_eq!(result["leadsUpdated"], 1);
    assert_eq!(result["leadsUnchanged"], 1);
    let statuses: Vec<&str> = result["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["matchingStatus"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "NEW_LEAD_CREATED",
            "UPDATED_EXISTING_LEAD",
            "MATCHED_NOT_UPDATED"
        ]
    );
    let lead_id = result["submissions"][0]["lead"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        result["submissions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["lead"]["id"] == lead_id.as_str())
    );
    assert_eq!(
        result["submissions"][1]["matchExplanation"],
        format!("matched lead {lead_id} on email")
    );
    assert_eq!(
        result["submissions"][2]["matchExplanation"],
        format!("matched lead {lead_id} on email: nothing to update")
    );

    let info = app
        .op_ok(&sales, "LeadLinkedInInfo", json!({"id": lead_id}))
        .await["lead"]
        .clone();
    assert_eq!(
        info["firstName"], "Ada",
        "an answer missing later never blanks a field"
    );
    assert_eq!(info["company"], "Engines Ltd", "the later answer wins");
    assert_eq!(info["customFields"], json!({}), "Budget has no mapping yet");
    assert_eq!(info["submissionCount"], 3);
    assert_eq!(info["submissions"]["totalCount"], 3);
    // Newest first.
    let ids: Vec<&str> = info["submissions"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["linkedInId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["r3", "r2", "r1"]);
}

#[tokio::test]
async fn answers_are_kept_in_form_order_with_choices_and_custom_mappings() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let admin = app.token(&[Role::LeadgenAdministrator]).await;
    app.op_ok(
        &admin,
        "CreateFieldMapping",
        json!({"input": {"linkedInField": "What is your budget?", "leadField": "custom.budget"}}),
    )
    .await;
    let mut r = response(
        "r1",
        1,
        &[
            (5, "50k"),
            (3, "+1 415 555 0100"),
            (1, "grace@navy.example"),
            (2, "Grace"),
        ],
    );
    r["formResponse"]["answers"].as_array_mut().unwrap().push(
        json!({"questionId": 6, "answerDetails": {"multipleChoiceAnswer": {"options": [1]}}}),
    );
    let result = ingest(&app, &s2s, vec![form()], vec![r]).await;
    let lead_id = result["submissions"][0]["lead"]["id"].clone();
    let info = app
        .op_ok(&admin, "LeadLinkedInInfo", json!({"id": lead_id}))
        .await["lead"]
        .clone();
    assert_eq!(info["customFields"], json!({"budget": "50k"}));
    assert_eq!(info["phone"], "+1 415 555 0100");
    let answers = &info["submissions"]["edges"][0]["node"]["answers"];
    let texts: Vec<&str> = answers
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["questionText"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "Email address",
            "First name",
            "Phone",
            "What is your budget?",
            "How big is your team?"
        ]
    );
    assert_eq!(answers[4]["value"], "11-50");
    assert_eq!(answers[0]["predefinedField"], "EMAIL");
    assert!(answers[3]["predefinedField"].is_null());
    let forms = app.op_ok(&admin, "Forms", json!({})).await["linkedInForms"].clone();
    let unmapped: Vec<&str> = forms[0]["unmappedQuestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        unmapped,
        ["How big is your team?"],
        "Budget is mapped by its text now"
    );
}

async fn email_and_phone_strategy(app: &TestApp, admin: &str) {
    let s = app
        .op_ok(
            admin,
            "CreateLeadMatchingStrategy",
            json!({"input": {"name": "Email and phone"}}),
        )
        .await;
    let id = s["createLeadMatchingStrategy"]["id"].clone();
    for field in ["EMAIL", "PHONE_NUMBER"] {
        app.op_ok(
            admin,
            "AddStrategyField",
            json!({"strategyId": id, "linkedInField": field}),
        )
        .await;
    }
    app.op_ok(admin, "ActivateStrategy", json!({"id": id}))
        .await;
}

#[tokio::test]
async fn multi_field_strategy_needs_every_field_to_match() {
    for (fallback, expected_leads, status) in [
        ("CREATE_NEW_LEAD", 2, "NEW_LEAD_CREATED"),
        ("IGNORE", 1, "MATCH_FAILED"),
    ] {
        let app = TestApp::new().await;
        let s2s = app.token(&[Role::S2sInbound]).await;
        let admin = app.token(&[Role::LeadgenAdministrator]).await;
        email_and_phone_strategy(&app, &admin).await;
        set_config(&app, json!({"onMatchFail": fallback})).await;
        let first = ingest(
            &app,
            &s2s,
            vec![form()],
            vec![response(
                "a",
                1,
                &[(1, "x@y.example"), (3, "+44 20 7946 0958")],
            )],
        )
        .await;
        // IGNORE applies to the first response too: no lead to match yet.
        let first_status = first["submissions"][0]["matchingStatus"]
            .as_str()
            .unwrap()
            .to_owned();
        if fallback == "IGNORE" {
            assert_eq!(first_status, "MATCH_FAILED");
            app.op_ok(
                &admin,
                "CreateLead",
                json!({"input": {"email": "X@y.example", "phone": "0044 20 7946 0958"}}),
            )
            .await;
        }
        // Same email, other phone: a partial match is no match.
        let partial = ingest(
            &app,
            &s2s,
            vec![],
            vec![response(
                "b",
                2,
                &[(1, "x@y.example"), (3, "+1 212 555 0199")],
            )],
        )
        .await;
        assert_eq!(
            partial["submissions"][0]["matchingStatus"], status,
            "{fallback}"
        );
        let why = partial["submissions"][0]["matchExplanation"]
            .as_str()
            .unwrap();
        assert!(
            why.starts_with("no lead with email x@y.example and phone +12125550199"),
            "{why}"
        );
        // Both fields equal (normalized): an update of that lead.
        let full = ingest(
            &app,
            &s2s,
            vec![],
            vec![response(
                "c",
                3,
                &[
                    (1, "X@Y.example"),
                    (3, "+44 (0)20 7946 0958".replace("(0)", "").as_str()),
                    (2, "Xavier"),
                ],
            )],
        )
        .await;
        assert_eq!(
            full["submissions"][0]["matchingStatus"], "UPDATED_EXISTING_LEAD",
            "{full}"
        );
        assert_eq!(lead_count(&app).await, expected_leads, "{fallback}");
        // A form without the phone question: the strategy field is missing.
        let mut no_phone = response("d", 4, &[(1, "x@y.example")]);
        no_phone["versionedLeadGenFormUrn"] =
            json!("urn:li:versionedLeadGenForm:(urn:li:leadGenForm:9200,1)");
        let mut other_form = form();
        other_form["id"] = json!(9200);
        other_form["content"]["questions"]
            .as_array_mut()
            .unwrap()
            .retain(|q| q["questionId"] != 3);
        let missing = ingest(&app, &s2s, vec![other_form], vec![no_phone]).await;
        let why = missing["submissions"][0]["matchExplanation"]
            .as_str()
            .unwrap();
        assert!(
            why.starts_with("strategy field phone missing from the form"),
            "{why}"
        );
    }
}

#[tokio::test]
async fn always_create_makes_one_lead_per_response_once() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let admin = app.token(&[Role::LeadgenAdministrator]).await;
    let s = app
        .op_ok(
            &admin,
            "CreateLeadMatchingStrategy",
            json!({"input": {"name": "Always", "alwaysCreateLead": true}}),
        )
        .await;
    app.op_ok(
        &admin,
        "ActivateStrategy",
        json!({"id": s["createLeadMatchingStrategy"]["id"]}),
    )
    .await;
    let batch = vec![
        response("a", 1, &[(1, "same@x.example")]),
        response("b", 2, &[(1, "same@x.example")]),
    ];
    let first = ingest(&app, &s2s, vec![form()], batch.clone()).await;
    assert_eq!(first["leadsCreated"], 2);
    let replay = ingest(&app, &s2s, vec![form()], batch).await;
    assert_eq!(replay["leadsCreated"], 0);
    assert_eq!(replay["duplicatesSkipped"], 2);
    assert_eq!(lead_count(&app).await, 2);
}

#[tokio::test]
async fn replaying_a_batch_doubles_nothing() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let batch: Vec<Value> = (0..40)
        .map(|i| {
            response(
                &format!("lead-{i}"),
                i,
                &[(1, &format!("p{}@x.example", i % 25)), (2, "P")],
            )
        })
        .collect();
    let first = ingest(&app, &s2s, vec![form()], batch.clone()).await;
    assert_eq!(first["submissionsCreated"], 40);
    assert_eq!(first["leadsCreated"], 25);
    assert_eq!(
        first["leadsUpdated"].as_i64().unwrap() + first["leadsUnchanged"].as_i64().unwrap(),
        15
    );
    let replay = ingest(&app, &s2s, vec![form()], batch).await;
    assert_eq!(replay["submissionsCreated"], 0);
    assert_eq!(replay["duplicatesSkipped"], 40);
    assert_eq!(replay["submissions"], json!([]));
    assert_eq!(submission_count(&app).await, 40);
    assert_eq!(lead_count(&app).await, 25);
}

#[tokio::test]
async fn concurrent_ingests_of_the_same_responses_store_each_once() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let batch: Vec<Value> = (0..30)
        .map(|i| response(&format!("c-{i}"), i, &[(1, &format!("c{i}@x.example"))]))
        .collect();
    let runs =
        futures::future::join_all((0..4).map(|_| ingest(&app, &s2s, vec![form()], batch.clone())))
            .await;
    let created: i64 = runs
        .iter()
        .map(|r| r["submissionsCreated"].as_i64().unwrap())
        .sum();
    let skipped: i64 = runs
        .iter()
        .map(|r| r["duplicatesSkipped"].as_i64().unwrap())
        .sum();
    assert_eq!(created, 30);
    assert_eq!(skipped, 90);
    assert_eq!(submission_count(&app).await, 30);
    assert_eq!(lead_count(&app).await, 30);
}

#[tokio::test]
async fn malformed_elements_are_reported_and_the_rest_processed() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let good = response("good", 1, &[(1, "ok@x.example")]);
    let mut no_time = response("no-time", 2, &[(1, "a@x.example")]);
    no_time.as_object_mut().unwrap().remove("submittedAt");
    let mut seconds = response("seconds", 3, &[(1, "b@x.example")]);
    seconds["submittedAt"] = json!(1_760_000_000);
    let mut bad_urn = response("bad-urn", 4, &[(1, "c@x.example")]);
    bad_urn["versionedLeadGenFormUrn"] = json!("urn:li:leadGenForm:9100");
    let mut both = response("both", 5, &[]);
    both["formResponse"]["answers"] = json!([{"questionId": 1, "answerDetails": {
        "textQuestionAnswer": {"answer": "x"}, "multipleChoiceAnswer": {"options": [1]}}}]);
    let result = ingest(
        &app,
        &s2s,
        vec![form(), json!({"name": "no id"})],
        vec![no_time, good, seconds, json!("text"), bad_urn, both],
    )
    .await;
    assert_eq!(result["submissionsCreated"], 1);
    assert_eq!(result["failed"], 5);
    let failures: Vec<(String, String)> = result["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["element"].as_str().unwrap().to_owned(),
                f["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(failures[0].0, "forms[1]");
    assert!(failures[0].1.contains("missing field `id`"), "{failures:?}");
    let by_element = |e: &str| {
        failures
            .iter()
            .find(|(el, _)| el == e)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    };
    assert!(by_element("responses[0]").contains("submittedAt"));
    assert!(by_element("responses[2]").contains("not epoch milliseconds"));
    assert!(by_element("responses[3]").contains("invalid type"));
    assert!(by_element("responses[4]").contains("versionedLeadGenForm"));
    assert!(by_element("responses[5]").contains("exactly one of"));
    assert_eq!(result["submissions"][0]["linkedInId"], "good");
}

#[tokio::test]
async fn an_erased_lead_never_comes_back() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let admin = app.token(&[Role::LeadgenAdministrator]).await;
    let batch = vec![
        response("e1", 1, &[(1, "forget@me.example")]),
        response("e2", 2, &[(1, "forget@me.example")]),
        response("keep", 3, &[(1, "keep@me.example")]),
    ];
    let result = ingest(&app, &s2s, vec![form()], batch.clone()).await;
    let lead_id = result["submissions"][0]["lead"]["id"].clone();
    let erased = app
        .query(
            Some(&admin),
            "mutation($id: ID!) { eraseLead(id: $id) { id email } }",
            json!({"id": lead_id}),
        )
        .await;
    assert_eq!(erased["data"]["eraseLead"]["email"], "forget@me.example");
    assert_eq!(lead_count(&app).await, 1);
    assert_eq!(submission_count(&app).await, 1);

    let replay = ingest(&app, &s2s, vec![form()], batch).await;
    assert_eq!(replay["erasedSkipped"], 2);
    assert_eq!(replay["duplicatesSkipped"], 1);
    assert_eq!(replay["leadsCreated"], 0);
    assert_eq!(lead_count(&app).await, 1);
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    let response = app
        .query(
            Some(&sales),
            "mutation($id: ID!) { eraseLead(id: $id) { id } }",
            json!({"id": "1"}),
        )
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("FORBIDDEN"));
}

#[tokio::test]
async fn journeys_are_created_once_per_campaign_when_configured() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    ingest(
        &app,
        &s2s,
        vec![form()],
        vec![response("j1", 1, &[(1, "a@x.example")])],
    )
    .await;
    ingest(
        &app,
        &s2s,
        vec![],
        vec![response("j2", 2, &[(1, "b@x.example")])],
    )
    .await;
    assert_eq!(
        customer_journey::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
    let subs = form_submission::Entity::find().all(&app.db).await.unwrap();
    assert!(subs.iter().all(|s| s.customer_journey_id.is_some()));

    set_config(&app, json!({"createJourneysForCampaigns": false})).await;
    let mut other = response("j3", 3, &[(1, "c@x.example")]);
    other["leadMetadata"]["sponsoredLeadMetadata"]["campaign"] =
        json!("urn:li:sponsoredCampaign:999");
    ingest(&app, &s2s, vec![], vec![other]).await;
    assert_eq!(
        customer_journey::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn batch_size_is_limited() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let responses: Vec<Value> = (0..1001).map(|i| json!({"id": format!("x{i}")})).collect();
    let result = app
        .op(
            Some(&s2s),
            "IngestLinkedInLeads",
            json!({"input": {"responses": responses}}),
        )
        .await;
    assert_eq!(error_code(&result).as_deref(), Some("BAD_USER_INPUT"));
    assert!(
        result["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 1000")
    );
}

#[tokio::test]
async fn a_strategy_can_be_previewed_before_activation() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let admin = app.token(&[Role::LeadgenAdministrator]).await;
    ingest(
        &app,
        &s2s,
        vec![form()],
        vec![
            response("p1", 1, &[(1, "one@x.example"), (3, "555 0100")]),
            response("p2", 2, &[(1, "two@x.example")]),
        ],
    )
    .await;
    let s = app
        .op_ok(
            &admin,
            "CreateLeadMatchingStrategy",
            json!({"input": {"name": "Phone"}}),
        )
        .await;
    let id = s["createLeadMatchingStrategy"]["id"].clone();
    app.op_ok(
        &admin,
        "AddStrategyField",
        json!({"strategyId": id, "linkedInField": "PHONE_NUMBER"}),
    )
    .await;
    let preview = app
        .query(
            Some(&admin),
            "query($id: ID!) { previewLeadMatchingStrategy(id: $id, limit: 10) { outcome explanation submission { linkedInId } lead { email } } }",
            json!({"id": id}),
        )
        .await;
    let rows = preview["data"]["previewLeadMatchingStrategy"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["submission"]["linkedInId"], "p2");
    assert_eq!(rows[0]["outcome"], "CREATE_NEW_LEAD");
    assert!(
        rows[0]["explanation"]
            .as_str()
            .unwrap()
            .starts_with("strategy field phone has no answer")
    );
    assert_eq!(rows[1]["outcome"], "UPDATE_EXISTING_LEAD");
    assert_eq!(rows[1]["lead"]["email"], "one@x.example");
    // Nothing was written: the Email strategy is still active and no lead changed.
    let all = app.op_ok(&admin, "LeadMatchingStrategies", json!({})).await;
    assert_eq!(all["leadMatchingStrategies"][0]["isActive"], true);
    assert_eq!(lead_count(&app).await, 2);
}

#[tokio::test]
async fn committed_leads_are_published_for_live_uis() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let mut events = app.state.bus.subscribe();
    let result = ingest(
        &app,
        &s2s,
        vec![form()],
        vec![
            response("ev1", 1, &[(1, "live@x.example")]),
            response("ev2", 2, &[(1, "live@x.example"), (2, "Liv")]),
        ],
    )
    .await;
    let first = events.try_recv().expect("an event for the created lead");
    let second = events.try_recv().expect("an event for the update");
    assert!(
        events.try_recv().is_err(),
        "one event per committed lead change"
    );
    assert_eq!(first.outcome, leadsync::events::LeadOutcome::Created);
    assert_eq!(second.outcome, leadsync::events::LeadOutcome::Updated);
    assert_eq!(
        first.lead_id.to_string(),
        result["submissions"][0]["lead"]["id"].as_str().unwrap()
    );
    assert_eq!(
        first.submission_id.to_string(),
        result["submissions"][0]["id"].as_str().unwrap()
    );
    assert!(first.campaign_id.is_some() && first.form_id.is_some());
    // A replay commits nothing, so it publishes nothing.
    ingest(
        &app,
        &s2s,
        vec![],
        vec![response("ev1", 1, &[(1, "live@x.example")])],
    )
    .await;
    assert!(events.try_recv().is_err());
}

/// Makes the database refuse any lead whose first name is "Refused", as a constraint would.
async fn refuse_leads_named_refused(app: &TestApp) {
    use sea_orm::ConnectionTrait;
    let statements: &[&str] = if app.test_db.is_postgres() {
        &[
            "CREATE FUNCTION refuse_lead() RETURNS trigger AS $$ BEGIN \
             IF NEW.first_name = 'Refused' THEN RAISE EXCEPTION 'refused by the test'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_lead BEFORE INSERT OR UPDATE ON leads \
             FOR EACH ROW EXECUTE FUNCTION refuse_lead()",
        ]
    } else {
        &[
            "CREATE TRIGGER refuse_insert BEFORE INSERT ON leads WHEN NEW.first_name = 'Refused' \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
            "CREATE TRIGGER refuse_update BEFORE UPDATE ON leads WHEN NEW.first_name = 'Refused' \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        ]
    };
    for sql in statements {
        app.db.execute_unprepared(sql).await.unwrap();
    }
}

#[tokio::test]
async fn a_lead_the_database_refuses_fails_alone_and_is_retried() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    ingest(
        &app,
        &s2s,
        vec![form()],
        vec![response("known", 1, &[(1, "known@x.example"), (2, "Kim")])],
    )
    .await;
    refuse_leads_named_refused(&app).await;
    let mut events = app.state.bus.subscribe();
    let batch = vec![
        response("ok-new", 2, &[(1, "fresh@x.example"), (2, "Fay")]),
        response("bad-new", 3, &[(1, "bad@x.example"), (2, "Refused")]),
        response("bad-update", 4, &[(1, "known@x.example"), (2, "Refused")]),
        response("ok-update", 5, &[(1, "known@x.example"), (4, "Acme")]),
    ];
    let result = ingest(&app, &s2s, vec![], batch.clone()).await;
    assert_eq!(result["submissionsCreated"], 4);
    assert_eq!(result["failed"], 2, "{result:#}");
    assert_eq!(result["leadsCreated"], 1);
    assert_eq!(result["leadsUpdated"], 1);
    let by_id = |id: &str| {
        result["submissions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["linkedInId"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id("ok-new")["matchingStatus"], "NEW_LEAD_CREATED");
    assert_eq!(by_id("bad-new")["matchingStatus"], "LEAD_CREATION_FAILED");
    assert_eq!(by_id("bad-new")["processingState"], "FAILED");
    assert_eq!(by_id("bad-new")["lead"], Value::Null);
    assert_eq!(by_id("bad-update")["matchingStatus"], "LEAD_UPDATE_FAILED");
    assert_eq!(
        by_id("ok-update")["matchingStatus"],
        "UPDATED_EXISTING_LEAD"
    );
    for failed in ["bad-new", "bad-update"] {
        let explanation = by_id(failed)["matchExplanation"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            !explanation.contains("refused by the test") && !explanation.contains("INSERT"),
            "database text leaked: {explanation}"
        );
    }
    // The known lead kept its name and took the later answer; no refused value was stored.
    let known = lead::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.email.as_deref() == Some("known@x.example"))
        .unwrap();
    assert_eq!(known.first_name.as_deref(), Some("Kim"));
    assert_eq!(known.company.as_deref(), Some("Acme"));
    assert_eq!(lead_count(&app).await, 2);
    // Only committed lead changes are published.
    let mut published = 0;
    while events.try_recv().is_ok() {
        published += 1;
    }
    assert_eq!(published, 2);

    // Once the database accepts them, the failed submissions are processed on the next delivery.
    let drop: &[&str] = if app.test_db.is_postgres() {
        &["DROP TRIGGER refuse_lead ON leads"]
    } else {
        &["DROP TRIGGER refuse_insert", "DROP TRIGGER refuse_update"]
    };
    for sql in drop {
        sea_orm::ConnectionTrait::execute_unprepared(&app.db, sql)
            .await
            .unwrap();
    }
    let retry = ingest(&app, &s2s, vec![], batch).await;
    assert_eq!(retry["failed"], 0, "{retry:#}");
    assert_eq!(lead_count(&app).await, 3);
    let failed = form_submission::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.processing_state != "SUCCEEDED")
        .count();
    assert_eq!(failed, 0);
}

/// LinkedIn passes on what members typed, NUL characters included (the GraphQL door refuses them,
/// the sync cannot): the submission is stored with the rest of each text, on both databases.
#[tokio::test]
async fn nul_characters_from_linkedin_are_dropped_not_fatal() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    ingest(&app, &s2s, vec![form()], vec![]).await;
    let mut synced = response(
        "nul-1",
        1,
        &[
            (1, "nul@x.example"),
            (2, "Ni\u{0}na"),
            (4, "Ac\u{0}me\u{0}"),
        ],
    );
    synced["formResponse"]["note\u{0}"] = json!("x");
    let report = leadsync::service::ingest::ingest(
        &app.db,
        &app.state.bus,
        leadsync::service::ingest::IngestRequest {
            forms: vec![],
            responses: vec![synced],
            profile_id: None,
            cursor: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (report.submissions_created, report.failed),
        (1, 0),
        "{report:?}"
    );
    let lead = lead::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(lead.first_name.as_deref(), Some("Nina"));
    assert_eq!(lead.company.as_deref(), Some("Acme"));
    let stored = form_submission::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.processing_state, "SUCCEEDED");
    let raw = stored.raw.unwrap().to_string();
    assert!(raw.contains("Acme") && !raw.contains("\\u0000"), "{raw}");
}

#[tokio::test]
async fn a_submissions_page_without_total_count_answers_its_rows() {
    // The most ordinary list view: the contract's FormSubmissions without `totalCount`. It used
    // to answer INTERNAL whenever the page had rows (the total column was read, never asked for).
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    let mut second = fixture("lead-form-response.json");
    second["id"] = json!("a-second-response");
    app.op_ok(
        &s2s,
        "IngestLinkedInLeads",
        json!({"input": {"forms": [fixture("lead-form.json")], "responses": [fixture("lead-form-response.json"), second]}}),
    )
    .await;
    let operation = contract_operation("FormSubmissions");
    assert!(operation.contains("totalCount"));
    let without_total = operation.replacen("totalCount", "", 1);
    let first = app
        .query(Some(&sales), &without_total, json!({"first": 1}))
        .await;
    assert!(first.get("errors").is_none(), "{first:#}");
    let page = &first["data"]["formSubmissions"];
    assert!(page.get("totalCount").is_none());
    assert_eq!(page["edges"].as_array().unwrap().len(), 1);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let next = app
        .query(
            Some(&sales),
            &without_total,
            json!({"first": 1, "after": page["pageInfo"]["endCursor"]}),
        )
        .await;
    assert!(next.get("errors").is_none(), "{next:#}");
    let rest = &next["data"]["formSubmissions"];
    assert_eq!(rest["edges"].as_array().unwrap().len(), 1);
    assert_ne!(
        rest["edges"][0]["node"]["id"],
        page["edges"][0]["node"]["id"]
    );
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn each_submission_keeps_the_legal_text_of_the_form_version_it_was_shown() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    let first = response("legal-v2", 1, &[(1, "ana@example.com")]);
    ingest(&app, &s2s, vec![form()], vec![first]).await;

    // LinkedIn publishes version 3: a new privacy policy, another consent text, a hidden field.
    let mut v3 = form();
    v3["versionId"] = json!(3);
    v3["content"]["legalInfo"] = json!({
        "consents": [{"id": 0, "consent": {"localized": {"en_US": "Contact me by email or phone"}}}],
        "privacyPolicyUrl": "https://x.example/privacy-2026"
    });
    v3["hiddenFields"] = json!([{"name": "utm_source", "value": "linkedin"}]);
    let mut second = response("legal-v3", 2, &[(1, "ben@example.com")]);
    second["versionedLeadGenFormUrn"] = json!(format!(
        "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:{FORM},3)"
    ));
    ingest(&app, &s2s, vec![v3], vec![second]).await;

    let page = app
        .query(
            Some(&sales),
            "{ formSubmissions(first: 10) { edges { node { linkedInId formVersion
                shownFormVersion { versionId privacyPolicyUrl consents { consentId text } hiddenFields { name value } firstSeenAt }
                form { privacyPolicyUrl versions { versionId privacyPolicyUrl } } } } } }",
            json!({}),
        )
        .await;
    assert!(page.get("errors").is_none(), "{page:#}");
    let nodes: Vec<Value> = page["data"]["formSubmissions"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    let node = |id: &str| {
        nodes
            .iter()
            .find(|n| n["linkedInId"] == id)
            .unwrap()
            .clone()
    };
    let old = node("legal-v2");
    assert_eq!(old["shownFormVersion"]["versionId"], 2);
    assert_eq!(
        old["shownFormVersion"]["privacyPolicyUrl"],
        "https://x.example/privacy"
    );
    assert_eq!(
        old["shownFormVersion"]["consents"],
        json!([{"consentId": "0", "text": "Contact me by email"}])
    );
    assert_eq!(old["shownFormVersion"]["hiddenFields"], json!([]));
    let new = node("legal-v3");
    assert_eq!(new["shownFormVersion"]["versionId"], 3);
    assert_eq!(
        new["shownFormVersion"]["consents"][0]["text"],
        "Contact me by email or phone"
    );
    assert_eq!(
        new["shownFormVersion"]["hiddenFields"],
        json!([{"name": "utm_source", "value": "linkedin"}])
    );
    // The form itself shows the latest version, and lists both.
    assert_eq!(
        new["form"]["privacyPolicyUrl"],
        "https://x.example/privacy-2026"
    );
    assert_eq!(
        new["form"]["versions"],
        json!([
            {"versionId": 2, "privacyPolicyUrl": "https://x.example/privacy"},
            {"versionId": 3, "privacyPolicyUrl": "https://x.example/privacy-2026"}
        ])
    );

    // Reading version 2 again (a re-sync) does not rewrite what its submitters were shown.
    let mut again = form();
    again["content"]["legalInfo"]["privacyPolicyUrl"] = json!("https://x.example/rewritten");
    ingest(&app, &s2s, vec![again], vec![]).await;
    let page = app
        .query(
            Some(&sales),
            "{ formSubmissions(first: 10) { edges { node { linkedInId shownFormVersion { privacyPolicyUrl } } } } }",
            json!({}),
        )
        .await;
    let kept = page["data"]["formSubmissions"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["linkedInId"] == "legal-v2")
        .unwrap()["node"]["shownFormVersion"]["privacyPolicyUrl"]
        .clone();
    assert_eq!(kept, "https://x.example/privacy");
}

#[tokio::test]
async fn organic_leads_get_the_source_of_their_lead_type_and_filter_apart() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    let org = json!({"organization": "urn:li:organization:11223344"});
    let mut organic_form = form();
    organic_form["owner"] = org.clone();
    // Organic responses: owned by the organization, no campaign, no creative.
    let organic = |id: &str, lead_type: &str, email: &str| {
        let mut r = response(id, 3, &[(1, email)]);
        r["owner"] = org.clone();
        r["leadType"] = json!(lead_type);
        r.as_object_mut().unwrap().remove("leadMetadata");
        r.as_object_mut().unwrap().remove("associatedEntity");
        r
    };
    let report = ingest(
        &app,
        &s2s,
        vec![organic_form],
        vec![
            response("ad-1", 1, &[(1, "ad@example.com")]),
            organic("page-1", "COMPANY", "page@example.com"),
            organic("product-1", "ORGANIZATION_PRODUCT", "product@example.com"),
            organic("event-1", "EVENT", "event@example.com"),
        ],
    )
    .await;
    assert_eq!(report["submissionsCreated"], 4, "{report}");
    assert_eq!(report["leadsCreated"], 4, "{report}");

    let sources = app
        .query(
            Some(&sales),
            "{ leads(first: 10) { edges { node { email source } } } leadsBySource { source count } }",
            json!({}),
        )
        .await;
    let by_email: std::collections::HashMap<String, String> = sources["data"]["leads"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["email"].as_str().unwrap().to_owned(),
                e["node"]["source"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(by_email["ad@example.com"], "LINKEDIN_SPONSORED_CONTENT");
    assert_eq!(by_email["page@example.com"], "LINKEDIN_COMPANY_PAGE");
    assert_eq!(by_email["product@example.com"], "LINKEDIN_PRODUCT_PAGE");
    assert_eq!(by_email["event@example.com"], "LINKEDIN_EVENT");
    let counts = sources["data"]["leadsBySource"].as_array().unwrap();
    for source in [
        "LINKEDIN_SPONSORED_CONTENT",
        "LINKEDIN_COMPANY_PAGE",
        "LINKEDIN_PRODUCT_PAGE",
        "LINKEDIN_EVENT",
    ] {
        assert!(
            counts.contains(&json!({"source": source, "count": 1})),
            "{source}: {counts:?}"
        );
    }

    let events = app
        .query(
            Some(&sales),
            "{ formSubmissions(first: 10, filter: {leadType: EVENT}) { totalCount edges { node { linkedInId leadType campaign { id } customerJourney { id } } } } }",
            json!({}),
        )
        .await;
    assert!(events.get("errors").is_none(), "{events}");
    let list = &events["data"]["formSubmissions"];
    assert_eq!(list["totalCount"], 1);
    assert_eq!(list["edges"][0]["node"]["linkedInId"], "event-1");
    assert_eq!(list["edges"][0]["node"]["leadType"], "EVENT");
    // No campaign, so no customer journey.
    assert!(list["edges"][0]["node"]["campaign"].is_null());
    assert!(list["edges"][0]["node"]["customerJourney"].is_null());
    let ads = app
        .query(
            Some(&sales),
            "{ formSubmissions(first: 10, filter: {leadType: SPONSORED}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(ads["data"]["formSubmissions"]["totalCount"], 1, "{ads}");
}
