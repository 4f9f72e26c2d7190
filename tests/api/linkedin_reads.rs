//! The read operations over the LinkedIn tables (profiles, accounts, campaigns, forms, journeys,
//! submissions) return what the tables hold. The sync pipeline does not exist yet, so a fixture
//! writes the rows directly.

use chrono::{DateTime, Duration, TimeZone, Utc};
use entity::{
    customer_journey, form_submission, lead, linkedin_account, linkedin_campaign, linkedin_form,
    linkedin_form_question, linkedin_profile, linkedin_profile_account, submission_answer,
};
use leadsync::{
    domain::{LeadSource, Role},
    service::{
        leads::{LeadChanges, create_lead},
        mappings::create_mapping,
    },
};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use serde_json::{Value, json};

use crate::common::{TestApp, error_code};

// ------------------------------------------------------------------ fixture

/// One answer of a submission: (LinkedIn question id, question text, predefined field, value,
/// position, consent accepted — `Some` makes it a consent).
type AnswerSpec<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    &'a str,
    i32,
    Option<bool>,
);

struct Fixture {
    t0: DateTime<Utc>,
    emea: linkedin_account::Model,
    us: linkedin_account::Model,
    alice: linkedin_profile::Model,
    bob: linkedin_profile::Model,
    spring: linkedin_campaign::Model,
    webinar: linkedin_campaign::Model,
    journey: customer_journey::Model,
    demo_form: linkedin_form::Model,
    webinar_form: linkedin_form::Model,
    /// The demo form's questions in form (position) order.
    demo_questions: Vec<linkedin_form_question::Model>,
    ada: lead::Model,
    grace: lead::Model,
    /// s[0] is the oldest submission, s[4] the newest; they were inserted in another order.
    s: Vec<form_submission::Model>,
}

impl Fixture {
    /// The submissions with these indexes into `s`, as GraphQL ids.
    fn ids(&self, indexes: &[usize]) -> Vec<String> {
        indexes.iter().map(|i| self.s[*i].id.to_string()).collect()
    }
}

fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 0).unwrap()
}

async fn insert_account(
    db: &DatabaseConnection,
    linkedin_id: &str,
    name: &str,
    enabled: bool,
    sync_status: &str,
    last_sync_at: Option<DateTime<Utc>>,
) -> linkedin_account::Model {
    let now = Utc::now();
    linkedin_account::ActiveModel {
        linkedin_id: Set(linkedin_id.into()),
        name: Set(name.into()),
        currency: Set(Some("EUR".into())),
        status: Set(Some("ACTIVE".into())),
        is_test: Set(false),
        reference_urn: Set(None),
        enabled_for_sync: Set(enabled),
        sync_status: Set(sync_status.into()),
        status_details: Set(None),
        last_sync_at: Set(last_sync_at),
        sync_cursor_ms: Set(None),
        webhook_subscription_id: Set(None),
        lease_owner: Set(None),
        lease_expires_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert account")
}

async fn insert_profile(
    db: &DatabaseConnection,
    name: &str,
    authorization_status: &str,
    member_name: Option<&str>,
    sync_status: &str,
    status_details: Option<&str>,
) -> linkedin_profile::Model {
    let now = Utc::now();
    linkedin_profile::ActiveModel {
        name: Set(name.into()),
        owner_user_id: Set(None),
        authorization_status: Set(authorization_status.into()),
        linkedin_member_urn: Set(member_name.map(|_| format!("urn:li:person:{name}"))),
        linkedin_member_name: Set(member_name.map(str::to_owned)),
        access_token_enc: Set(None),
        refresh_token_enc: Set(None),
        token_expires_at: Set(None),
        refresh_token_expires_at: Set(None),
        scopes: Set(None),
        last_sync_at: Set(None),
        sync_status: Set(sync_status.into()),
        status_details: Set(status_details.map(str::to_owned)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert profile")
}

async fn link(db: &DatabaseConnection, profile: i64, account: i64) {
    linkedin_profile_account::ActiveModel {
        profile_id: Set(profile),
        account_id: Set(account),
        role: Set(Some("VIEWER".into())),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .expect("link profile and account");
}

async fn insert_campaign(
    db: &DatabaseConnection,
    linkedin_id: &str,
    name: &str,
    account: i64,
) -> linkedin_campaign::Model {
    let now = Utc::now();
    linkedin_campaign::ActiveModel {
        linkedin_id: Set(linkedin_id.into()),
        account_id: Set(Some(account)),
        name: Set(name.into()),
        campaign_type: Set(Some("SPONSORED_UPDATES".into())),
        status: Set(Some("ACTIVE".into())),
        start_at: Set(None),
        end_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert campaign")
}

async fn insert_form(
    db: &DatabaseConnection,
    linkedin_id: &str,
    name: &str,
    headline: &str,
    account: i64,
) -> linkedin_form::Model {
    let now = Utc::now();
    linkedin_form::ActiveModel {
        linkedin_id: Set(linkedin_id.into()),
        account_id: Set(Some(account)),
        name: Set(name.into()),
        headline: Set(Some(headline.into())),
        description: Set(None),
        landing_page_url: Set(None),
        privacy_policy_url: Set(Some("https://example.com/privacy".into())),
        thank_you_message: Set(None),
        locale: Set(Some("en_US".into())),
        version_id: Set(Some(1)),
        status: Set(Some("PUBLISHED".into())),
        hidden_fields: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert form")
}

#[allow(clippy::too_many_arguments)]
async fn insert_question(
    db: &DatabaseConnection,
    form: i64,
    linkedin_question_id: &str,
    name: Option<&str>,
    text: &str,
    kind: &str,
    predefined_field: Option<&str>,
    position: i32,
) -> linkedin_form_question::Model {
    let is_consent = kind == "CONSENT";
    linkedin_form_question::ActiveModel {
        form_id: Set(form),
        linkedin_question_id: Set(linkedin_question_id.into()),
        name: Set(name.map(str::to_owned)),
        text: Set(text.into()),
        kind: Set(kind.into()),
        is_custom: Set(predefined_field.is_none() && !is_consent),
        is_consent: Set(is_consent),
        predefined_field: Set(predefined_field.map(str::to_owned)),
        options: Set((kind == "MULTIPLE_CHOICE").then(|| json!(["Morning", "Evening"]))),
        position: Set(position),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert question")
}

struct SubmissionSpec<'a> {
    linkedin_id: String,
    submitted_at: DateTime<Utc>,
    test_lead: bool,
    account: Option<i64>,
    campaign: Option<i64>,
    form: Option<i64>,
    lead: Option<i64>,
    journey: Option<i64>,
    matching_status: &'a str,
    processing_state: &'a str,
    match_explanation: Option<&'a str>,
    answers: Vec<AnswerSpec<'a>>,
}

/// Inserts a submission and its answers (the answers in the order given, not by position).
async fn insert_submission(
    db: &DatabaseConnection,
    spec: SubmissionSpec<'_>,
) -> form_submission::Model {
    let now = Utc::now();
    let submission = form_submission::ActiveModel {
        linkedin_id: Set(spec.linkedin_id),
        submitted_at: Set(spec.submitted_at),
        lead_type: Set("SPONSORED".into()),
        test_lead: Set(spec.test_lead),
        submitter_urn: Set(None),
        account_id: Set(spec.account),
        campaign_id: Set(spec.campaign),
        creative_urn: Set(None),
        form_id: Set(spec.form),
        form_version: Set(Some(1)),
        profile_id: Set(None),
        lead_id: Set(spec.lead),
        customer_journey_id: Set(spec.journey),
        matching_status: Set(spec.matching_status.into()),
        processing_state: Set(spec.processing_state.into()),
        match_explanation: Set(spec.match_explanation.map(str::to_owned)),
        error: Set(None),
        hidden_fields: Set(None),
        raw: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert submission");
    for (question_id, text, predefined, value, position, accepted) in spec.answers {
        submission_answer::ActiveModel {
            submission_id: Set(submission.id),
            question_id: Set(None),
            linkedin_question_id: Set(question_id.into()),
            question_text: Set(text.into()),
            predefined_field: Set(predefined.map(str::to_owned)),
            value: Set(value.into()),
            is_consent: Set(accepted.is_some()),
            accepted: Set(accepted),
            position: Set(position),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert answer");
    }
    submission
}

const EMAIL_Q: &str = "Email address";
const COLOUR_Q: &str = "What is your favourite colour?";
const CONTACT_Q: &str = "When should we call you?";
const CONSENT_Q: &str = "I agree to receive marketing emails";

/// The demo form's answers, scrambled (positions 3, 4, 1, 2) so that order is the server's work.
fn demo_answers<'a>(
    email: &'a str,
    colour: &'a str,
    contact: &'a str,
    consent: bool,
) -> Vec<AnswerSpec<'a>> {
    vec![
        ("q-contact", CONTACT_Q, None, contact, 3, None),
        ("consent-marketing", CONSENT_Q, None, "", 4, Some(consent)),
        ("q-email", EMAIL_Q, Some("EMAIL"), email, 1, None),
        ("q-colour", COLOUR_Q, None, colour, 2, None),
    ]
}

async fn fixture(db: &DatabaseConnection) -> Fixture {
    let t0 = base_time();
    let emea = insert_account(
        db,
        "urn:li:sponsoredAccount:501",
        "Acme EMEA",
        true,
        "ACTIVE",
        Some(t0),
    )
    .await;
    let us = insert_account(
        db,
        "urn:li:sponsoredAccount:502",
        "Acme US",
        false,
        "NOT_SYNCING",
        None,
    )
    .await;

    // Many-to-many: Alice reaches both accounts, Bob only the US one.
    let alice = insert_profile(
        db,
        "Alice",
        "AUTHORIZED",
        Some("Alice Martin"),
        "ACTIVE",
        None,
    )
    .await;
    let bob = insert_profile(
        db,
        "Bob",
        "EXPIRED",
        None,
        "NOT_SYNCING",
        Some("authorization expired: authorize again"),
    )
    .await;
    link(db, alice.id, us.id).await;
    link(db, bob.id, us.id).await;
    link(db, alice.id, emea.id).await;

    let webinar =
        insert_campaign(db, "urn:li:sponsoredCampaign:9002", "Webinar Series", us.id).await;
    let spring = insert_campaign(
        db,
        "urn:li:sponsoredCampaign:9001",
        "Spring Launch",
        emea.id,
    )
    .await;
    let now = Utc::now();
    let journey = customer_journey::ActiveModel {
        campaign_id: Set(spring.id),
        name: Set("Spring Launch journey".into()),
        status: Set("LIVE".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert journey");

    let webinar_form = insert_form(
        db,
        "urn:li:leadGenForm:72",
        "Webinar Signup",
        "Join the webinar",
        us.id,
    )
    .await;
    let demo_form = insert_form(
        db,
        "urn:li:leadGenForm:71",
        "Demo Request",
        "Book a demo",
        emea.id,
    )
    .await;

    // Inserted out of position order.
    let consent = insert_question(
        db,
        demo_form.id,
        "consent-marketing",
        None,
        CONSENT_Q,
        "CONSENT",
        None,
        4,
    )
    .await;
    let contact = insert_question(
        db,
        demo_form.id,
        "q-contact",
        Some("Preferred contact time"),
        CONTACT_Q,
        "MULTIPLE_CHOICE",
        None,
        3,
    )
    .await;
    let email = insert_question(
        db,
        demo_form.id,
        "q-email",
        None,
        EMAIL_Q,
        "TEXT",
        Some("EMAIL"),
        1,
    )
    .await;
    let colour = insert_question(
        db,
        demo_form.id,
        "q-colour",
        Some("Favourite colour"),
        COLOUR_Q,
        "TEXT",
        None,
        2,
    )
    .await;
    insert_question(
        db,
        webinar_form.id,
        "q-work-email",
        None,
        "Work email",
        "TEXT",
        Some("WORK_EMAIL"),
        2,
    )
    .await;
    insert_question(
        db,
        webinar_form.id,
        "q-first",
        None,
        "First name",
        "TEXT",
        Some("FIRST_NAME"),
        1,
    )
    .await;
    // The custom multiple-choice question is mapped by an administrator; "Favourite colour" is not.
    create_mapping(db, "Preferred contact time", "custom.preferredContactTime")
        .await
        .expect("create mapping");

    let mut custom = serde_json::Map::new();
    custom.insert("preferredContactTime".into(), json!("Evening"));
    let ada = create_lead(
        db,
        LeadChanges {
            first_name: Some(Some("Ada".into())),
            last_name: Some(Some("Lovelace".into())),
            email: Some(Some("ada@example.com".into())),
            company: Some(Some("Analytical Engines".into())),
            custom_fields: Some(custom),
            ..Default::default()
        },
        LeadSource::LinkedinSponsoredContent,
    )
    .await
    .expect("create lead");
    let grace = create_lead(
        db,
        LeadChanges {
            first_name: Some(Some("Grace".into())),
            last_name: Some(Some("Hopper".into())),
            work_email: Some(Some("grace@navy.example".into())),
            ..Default::default()
        },
        LeadSource::LinkedinSponsoredContent,
    )
    .await
    .expect("create lead");

    let at = |hours: i64| t0 + Duration::hours(hours);
    let spec = |n: u32, hours: i64| SubmissionSpec {
        linkedin_id: format!("urn:li:leadFormResponse:{n}"),
        submitted_at: at(hours),
        test_lead: false,
        account: None,
        campaign: None,
        form: None,
        lead: None,
        journey: None,
        matching_status: "NEW_LEAD_CREATED",
        processing_state: "SUCCEEDED",
        match_explanation: None,
        answers: Vec::new(),
    };
    // Inserted in the order s3, s5, s1, s4, s2: ids do not follow submission times.
    let s3 = insert_submission(
        db,
        SubmissionSpec {
            account: Some(emea.id),
            campaign: Some(spring.id),
            form: Some(demo_form.id),
            lead: Some(ada.id),
            journey: Some(journey.id),
            matching_status: "UPDATED_EXISTING_LEAD",
            match_explanation: Some("matched lead on EMAIL"),
            answers: demo_answers("ada@example.com", "Green", "Evening", false),
            ..spec(3, 3)
        },
    )
    .await;
    let s5 = insert_submission(
        db,
        SubmissionSpec {
            test_lead: true,
            account: Some(emea.id),
            campaign: Some(spring.id),
            form: Some(demo_form.id),
            matching_status: "PENDING",
            processing_state: "UNPROCESSED",
            answers: demo_answers("test@linkedin.example", "Red", "Morning", true),
            ..spec(5, 5)
        },
    )
    .await;
    let s1 = insert_submission(
        db,
        SubmissionSpec {
            account: Some(emea.id),
            campaign: Some(spring.id),
            form: Some(demo_form.id),
            lead: Some(ada.id),
            journey: Some(journey.id),
            match_explanation: Some("no lead matched EMAIL: created a new lead"),
            answers: demo_answers("ada@example.com", "Blue", "Morning", true),
            ..spec(1, 1)
        },
    )
    .await;
    let s4 = insert_submission(
        db,
        SubmissionSpec {
            account: Some(us.id),
            campaign: Some(webinar.id),
            form: Some(demo_form.id),
            lead: Some(grace.id),
            matching_status: "UPDATED_EXISTING_LEAD",
            answers: demo_answers("grace@navy.example", "Navy", "Morning", true),
            ..spec(4, 4)
        },
    )
    .await;
    let s2 = insert_submission(
        db,
        SubmissionSpec {
            account: Some(us.id),
            campaign: Some(webinar.id),
            form: Some(webinar_form.id),
            lead: Some(grace.id),
            answers: vec![
                (
                    "q-work-email",
                    "Work email",
                    Some("WORK_EMAIL"),
                    "grace@navy.example",
                    2,
                    None,
                ),
                (
                    "q-first",
                    "First name",
                    Some("FIRST_NAME"),
                    "Grace",
                    1,
                    None,
                ),
            ],
            ..spec(2, 2)
        },
    )
    .await;

    let set_source = |lead: lead::Model, campaign: i64, form: i64, latest: DateTime<Utc>| {
        let mut model: lead::ActiveModel = lead.into();
        model.source_campaign_id = Set(Some(campaign));
        model.source_form_id = Set(Some(form));
        model.latest_submission_at = Set(Some(latest));
        model.submission_count = Set(2);
        model.update(db)
    };
    let ada = set_source(ada, spring.id, demo_form.id, s3.submitted_at)
        .await
        .expect("update lead");
    let grace = set_source(grace, webinar.id, webinar_form.id, s4.submitted_at)
        .await
        .expect("update lead");

    Fixture {
        t0,
        emea,
        us,
        alice,
        bob,
        spring,
        webinar,
        journey,
        demo_form,
        webinar_form,
        demo_questions: vec![email, colour, contact, consent],
        ada,
        grace,
        s: vec![s1, s2, s3, s4, s5],
    }
}

/// A salesperson: the role that reads leads and LinkedIn data day to day.
async fn salesperson(app: &TestApp) -> String {
    app.token(&[Role::LeadgenSalesperson]).await
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a time: {value}")),
    )
    .unwrap_or_else(|e| panic!("not RFC 3339: {value}: {e}"))
    .with_timezone(&Utc)
}

fn node_ids(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["id"].as_str().expect("node id").to_owned())
        .collect()
}

// ------------------------------------------------------------------ lead info

#[tokio::test]
async fn lead_linkedin_info_shows_the_leads_submissions_with_answers_and_consents() {
    let app = TestApp::new().await;
    let f = fixture(&app.db).await;
    let token = salesperson(&app).await;

    let data = app
        .op_ok(
            &token,
            "LeadLinkedInInfo",
            json!({ "id": f.ada.id.to_string() }),
        )
        .await;
    let lead = &data["lead"];
    assert_eq!(lead["id"], f.ada.id.to_string());
    assert_eq!(lead["email"], "ada@example.com");
    assert_eq!(lead["source"], "LINKEDIN_SPONSORED_CONTENT");
    assert_eq!(lead["submissionCount"], 2);
    assert_eq!(time(&lead["latestSubmissionAt"]), f.s[2].submitted_at);
    assert_eq!(
        lead["customFields"],
        json!({ "preferredContactTime": "Evening" })
    );
    assert_eq!(
        lead["sourceCampaign"],
        json!({ "id": f.spring.id.to_string(), "linkedInId": "urn:li:sponsoredCampaign:9001", "name": "Spring Launch" })
    );
    assert_eq!(
        lead["sourceForm"],
        json!({ "id": f.demo_form.id.to_string(), "linkedInId": "urn:li:leadGenForm:71", "name": "Demo Request" })
    );

    // Ada's two submissions (s3, s1), newest first; Grace's and the test lead's are not hers.
    let submissions = &lead["submissions"];
    assert_eq!(submissions["totalCount"], 2);
    assert_eq!(node_ids(submissions), f.ids(&[2, 0]));

    let newest = &submissions["edges"][0]["node"];
    assert_eq!(newest["linkedInId"], "urn:li:leadFormResponse:3");
    assert_eq!(time(&newest["submittedAt"]), f.t0 + Duration::hours(3));
    assert_eq!(newest["testLead"], false);
    assert_eq!(newest["matchingStatus"], "UPDATED_EXISTING_LEAD");
    assert_eq!(newest["processingState"], "SUCCEEDED");
    assert_eq!(newest["matchExplanation"], "matched lead on EMAIL");
    assert_eq!(
        newest["form"],
        json!({ "id": f.demo_form.id.to_string(), "name": "Demo Request" })
    );
    assert_eq!(
        newest["campaign"],
        json!({ "id": f.spring.id.to_string(), "name": "Spring Launch" })
    );
    // Answers in question order; the consent is not among them but under consents.
    assert_eq!(
        newest["answers"],
        json!([
            { "questionText": EMAIL_Q, "predefinedField": "EMAIL", "value": "ada@example.com" },
            { "questionText": COLOUR_Q, "predefinedField": null, "value": "Green" },
            { "questionText": CONTACT_Q, "predefinedField": null, "value": "Evening" },
        ])
    );
    assert_eq!(
        newest["consents"],
        json!([{ "text": CONSENT_Q, "accepted": false }])
    );

    let oldest = &submissions["edges"][1]["node"];
    assert_eq!(oldest["linkedInId"], "urn:li:leadFormResponse:1");
    assert_eq!(oldest["matchingStatus"], "NEW_LEAD_CREATED");
    let values: Vec<&str> = oldest["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["ada@example.com", "Blue", "Morning"]);
    assert_eq!(
        oldest["consents"],
        json!([{ "text": CONSENT_Q, "accepted": true }])
    );

    // Grace: her own two submissions from the other campaign, and her source campaign and form.
    let data = app
        .op_ok(
            &token,
            "LeadLinkedInInfo",
            json!({ "id": f.grace.id.to_string() }),
        )
        .await;
    let lead = &data["lead"];
    assert_eq!(lead["sourceCampaign"]["name"], "Webinar Series");
    assert_eq!(lead["sourceForm"]["name"], "Webinar Signup");
    assert_eq!(lead["submissions"]["totalCount"], 2);
    assert_eq!(node_ids(&lead["submissions"]), f.ids(&[3, 1]));
    let webinar = &lead["submissions"]["edges"][1]["node"];
    assert_eq!(
        webinar["answers"],
        json!([
            { "questionText": "First name", "predefinedField": "FIRST_NAME", "value": "Grace" },
            { "questionText": "Work email", "predefinedField": "WORK_EMAIL", "value": "grace@navy.example" },
        ])
    );
    assert_eq!(webinar["consents"], json!([]));
}

#[tokio::test]
async fn a_lead_without_linkedin_data_has_no_submissions() {
    let app = TestApp::new().await;
    fixture(&app.db).await;
    let token = salesperson(&app).await;
    let manual = create_lead(
        &app.db,
        LeadChanges {
            email: Some(Some("walk-in@example.com".into())),
            ..Default::default()
        },
        LeadSource::Manual,
    )
    .await
    .unwrap();
    let data = app
        .op_ok(
            &token,
            "LeadLinkedInInfo",
            json!({ "id": manual.id.to_string() }),
        )
        .await;
    assert_eq!(data["lead"]["source"], "MANUAL");
    assert!(data["lead"]["sourceCampaign"].is_null());
    assert!(data["lead"]["sourceForm"].is_null());
    assert_eq!(data["lead"]["submissions"]["totalCount"], 0);
    assert_eq!(data["lead"]["submissions"]["edges"], json!([]));
}

// ------------------------------------------------------------------ form submissions

async fn submissions_page(
    app: &TestApp,
    token: &str,
    filter: Value,
    first: Option<i64>,
    after: Option<&str>,
) -> Value {
    let data = app
        .op_ok(
            token,
            "FormSubmissions",
            json!({ "first": first, "after": after, "filter": filter }),
        )
        .await;
    data["formSubmissions"].clone()
}

/// Pages through with `first` until hasNextPage is false; returns every id seen, in order.
async fn all_pages(app: &TestApp, token: &str, filter: Value, first: i64) -> (Vec<String>, i64) {
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    let mut total = None;
    for _ in 0..100 {
        let page =
            submissions_page(app, token, filter.clone(), Some(first), after.as_deref()).await;
        let page_ids = node_ids(&page);
        assert!(
            page_ids.len() as i64 <= first,
            "page larger than first: {page:#}"
        );
        let page_total = page["totalCount"].as_i64().expect("totalCount");
        assert_eq!(
            *total.get_or_insert(page_total),
            page_total,
            "totalCount changed between pages"
        );
        ids.extend(page_ids);
        if page["pageInfo"]["hasNextPage"] == json!(false) {
            return (ids, page_total);
        }
        assert!(
            !node_ids(&page).is_empty(),
            "hasNextPage on an empty page: {page:#}"
        );
        after = Some(
            page["pageInfo"]["endCursor"]
                .as_str()
                .expect("endCursor when hasNextPage")
                .to_owned(),
        );
    }
    panic!("paging did not end");
}

#[tokio::test]
async fn form_submissions_are_newest_first_with_their_relations() {
    let app = TestApp::new().await;
    let f = fixture(&app.db).await;
    let token = salesperson(&app).await;

    let page = submissions_page(&app, &token, json!(null), None, None).await;
    assert_eq!(page["totalCount"], 5);
    assert_eq!(page["pageInfo"]["hasNextPage"], false);
    assert_eq!(node_ids(&page), f.ids(&[4, 3, 2, 1, 0]));

    // s4: Grace's submission of the demo form, through the webinar campaign of the US account.
    let s4 = &page["edges"][1]["node"];
    assert_eq!(s4["linkedInId"], "urn:li:leadFormResponse:4");
    assert_eq!(time(&s4["submittedAt"]), f.t0 + Duration::hours(4));
    assert_eq!(s4["testLead"], false);
    assert_eq!(s4["matchingStatus"], "UPDATED_EXISTING_LEAD");
    assert_eq!(s4["processingState"], "SUCCEEDED");
    assert_eq!(
        s4["lead"],
        json!({ "id": f.grace.id.to_string(), "email": null })
    );
    assert_eq!(
        s4["form"],
        json!({ "id": f.demo_form.id.to_string(), "name": "Demo Request" })
    );
    assert_eq!(
        s4["campaign"],
        json!({ "id": f.webinar.id.to_string(), "name": "Webinar Series" })
    );
    assert_eq!(
        s4["account"],
        json!({ "id": f.us.id.to_string(), "name": "Acme US" })
    );
    let texts: Vec<&str> = s4["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["questionText"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [EMAIL_Q, COLOUR_Q, CONTACT_Q],
        "answers in position order, no consent"
    );

    // s5: the test lead, not matched yet, has no lead.
    let s5 = &page["edges"][0]["node"];
    assert_eq!(s5["testLead"], true);
    assert_eq!(s5["matchingStatus"], "PENDING");
    assert_eq!(s5["processingState"], "UNPROCESSED");
    assert!(s5["lead"].is_null());
    assert_eq!(s5["account"]["name"], "Acme EMEA");

    // s1: Ada's first.
    let s1 = &page["edges"][4]["node"];
    assert_eq!(
        s1["lead"],
        json!({ "id": f.ada.id.to_string(), "email": "ada@example.com" })
    );
}

#[tokio::test]
async fn form_submissions_filters_select_the_matching_submissions() {
    let app = TestApp::new().await;
    let f = fixture(&app.db).await;
    let token = salesperson(&app).await;
    let after = (f.t0 + Duration::minutes(90)).to_rfc3339();
    let before = (f.t0 + Duration::minutes(210)).to_rfc3339();

    let cases: Vec<(Value, Vec<usize>)> = vec![
        (
            json!({ "campaignId": f.spring.id.to_string() }),
            vec![4, 2, 0],
        ),
        (
            json!({ "campaignId": f.webinar.id.to_string() }),
            vec![3, 1],
        ),
        (
            json!({ "formId": f.demo_form.id.to_string() }),
            vec![4, 3, 2, 0],
        ),
        (json!({ "formId": f.webinar_form.id.to_string() }), vec![1]),
        (json!({ "accountId": f.us.id.to_string() }), vec![3, 1]),
        (json!({ "accountId": f.emea.id.to_string() }), vec![4, 2, 0]),
        (
            json!({ "matchingStatus": "UPDATED_EXISTING_LEAD" }),
            vec![3, 2],
        ),
        (json!({ "matchingStatus": "NEW_LEAD_CREATED" }), vec![1, 0]),
        (json!({ "matchingStatus": "PENDING" }), vec![4]),
        (json!({ "matchingStatus": "MATCH_FAILED" }), vec![]),
        (json!({ "processingState": "SUCCEEDED" }), vec![3, 2, 1, 0]),
        (json!({ "processingState": "UNPROCESSED" }), vec![4]),
        (json!({ "processingState": "FAILED" }), vec![]),
        (json!({ "submittedAfter": after }), vec![4, 3, 2, 1]),
        (json!({ "submittedBefore": before }), vec![2, 1, 0]),
        (
            json!({ "submittedAfter": after, "submittedBefore": before }),
            vec![2, 1],
        ),
        (json!({ "testLead": true }), vec![4]),
        (json!({ "testLead": false }), vec![3, 2, 1, 0]),
        (
            json!({ "formId": f.demo_form.id.to_string(), "accountId": f.emea.id.to_string(), "testLead": false }),
            vec![2, 0],
        ),
        (json!({ "campaignId": "999999" }), vec![]),
    ];
    for (filter, expected) in cases {
        let page = submissions_page(&app, &token, filter.clone(), None, None).await;
        assert_eq!(node_ids(&page), f.ids(&expected), "filter {filter}");
        assert_eq!(
            page["totalCount"],
            expected.len(),
            "totalCount for filter {filter}"
        );
        assert_eq!(page["pageInfo"]["hasNextPage"], false, "filter {filter}");
    }

    let response = app
        .op(
            Some(&token),
            "FormSubmissions",
            json!({ "filter": { "campaignId": "abc" } }),
        )
        .await;
    assert_eq!(
        error_code(&response).as_deref(),
        Some("BAD_USER_INPUT"),
        "{response}"
    );
}

#[tokio::test]
async fn paging_through_form_submissions_sees_each_exactly_once() {
    let app = TestApp::new().await;
    let f = fixture(&app.db).await;
    let token = salesperson(&app).await;

    for first in [1, 2, 3, 5] {
        let (ids, total) = all_pages(&app, &token, json!(null), first).await;
        assert_eq!(ids, f.ids(&[4, 3, 2, 1, 0]), "page size {first}");
        assert_eq!(total, 5);
    }
    // Paging within a filter.
    let (ids, total) = all_pages(
        &app,
        &token,
        json!({ "formId": f.demo_form.id.to_string() }),
        3,
    )
    .await;
    assert_eq!(ids, f.ids(&[4, 3, 2, 0]));
    assert_eq!(total, 4);

    // The first page of two says there is more and where to continue.
    let page = submissions_page(&app, &token, json!(null), Some(2), None).await;
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    assert_eq!(page["totalCount"], 5);

    let response = app
        .op(
            Some(&token),
            "FormSubmissions",
            json!({ "first": 2, "after": "not-a-cursor" }),
        )
        .await;
    assert_eq!(
        error_code(&response).as_deref(),
        Some("BAD_USER_INPUT"),
        "{response}"
    );
    let response = app
        .op(Some(&token), "FormSubmissions", json!({ "first": 101 }))
        .await;
    assert_eq!(
        error_code(&response).as_deref(),
        Some("BAD_USER_INPUT"),
        "{response}"
    );
}

#[tokio::test]
async fn paging_is_exact_when_submissions_share_a_time() {
    let app = TestApp::new().await;
    let f = fixture(&app.db).await;
    let token = salesperson(&app).await;
    // A batch of seven arriving in the same instant (with a fraction of a second), between s2 and s3.
    let same = f.t0 + Duration::minutes(150) + Duration::microseconds(250_500);
    let mut batch = Vec::new();
    for n in 0..7 {
        let s = insert_submission(
            &app.db,
            SubmissionSpec {
                linkedin_id: format!("urn:li:leadFormResponse:batch-{n}"),
                submitted_at: same,
                test_lead: false,
                account: Some(f.emea.id),
                campaign: Some(f.spring.id),
                form: Some(f.demo_form.id),
                lead: None,
                journey: None,
                matching_status: "PENDING",
                processing_state: "UNPROCESSED",
                match_explanation: None,
                answers: Vec::new(),
            },
        )
        .await;
        batch.push(s.id.to_string());
    }
    // Newest first, then the higher id first among equal times.
    let mut expected = f.ids(&[4, 3, 2]);
    expected.extend(batch.iter().rev().cloned());
    expected.extend(f.ids(&[1, 0]));
    for first in [2, 3, 4] {
        let (ids, total) = all_pages(&app, &token, json!(null), first).await;
        assert_eq!(ids, expected, "page size {first}");
        assert_eq!(total, 12);
    }
}

// ------------------------------------------------------------------ campaigns, forms, journeys

#[tokio::test]
async fn campaigns_show_their_account_and_customer_journey() {
    let app = TestApp::new().await;
    let f = fixture(&app.db).await;
    let token = salesperson(&app).await;
    let data = app.op_ok(&token, "Campaigns", json!({})).await;
    assert_eq!(
        data["linkedInCampaigns"],
        json!([
            {
                "id": f.spring.id.to_string(),
                "linkedInId": "urn:li:sponsoredCampaign:9001",
                "name": "Spring Launch",
                "status": "ACTIVE",
                "account": { "id": f.emea.id.to_string(), "name": "Acme EMEA" },
                "customerJourney": { "id": f.journey.id.to_string(), "name": "Spring Launch journey" },
            },
            {
                "id": f.webinar.id.to_string(),
                "linkedInId": "urn:li:sponsoredCampaign:9002",
                "name": "Webinar Series",
                "status": "ACTIVE",
                "account": { "id": f.us.id.to_string(), "name": "Acme US" },
                "customerJourney": null,
            },
        ])
    );
}

#[tokio::test]
async fn forms_list_questions_in_order_and_the_unmapped_custom_question() {
    let app = TestApp::new().await;
    let f = fixture(&app.db).await;
    let token = salesperson(&app).await;
    let data = app.op_ok(&token, "Forms", json!({})).await;
    let forms = data["linkedInForms"].as_array().unwrap();
    let names: Vec<&str> = forms.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Demo Request", "Webinar Signup"]);

    let demo = &forms[0];
    assert_eq!(demo["id"], f.demo_form.id.to_string());
    assert_eq!(demo["linkedInId"], "urn:li:leadGenForm:71");
    assert_eq!(demo["headline"], "Book a demo");
    assert_eq!(demo["locale"], "en_US");
    let q = |i: usize| f.demo_questions[i].id.to_string();
    assert_eq!(
        demo["questions"],
        json!([
            { "id": q(0), "linkedInId": "q-email", "text": EMAIL_Q, "predefinedField": "EMAIL", "isCustom": false, "isConsent": false },
            { "id": q(1), "linkedInId": "q-colour", "text": COLOUR_Q, "predefinedField": null, "isCustom": true, "isConsent": false },
            { "id": q(2), "linkedInId": "q-contact", "text": CONTACT_Q, "predefinedField": null, "isCustom": true, "isConsent": false },
            { "id": q(3), "linkedInId": "consent-marketing", "text": CONSENT_Q, "predefinedField": null, "isCustom": false, "isConsent": true },
        ])
    );
    // EMAIL has a default mapping, "Preferred contact time" an administrator's one, the consent
    // is not a question: only "Favourite colour" stays on the submission.
    assert_eq!(
        demo["unmappedQuestions"],
        json!([{ "id": q(1), "text": COLOUR_Q }])
    );

    let webinar = &forms[1];
    assert_eq!(webinar["id"], f.webinar_form.id.to_string());
    let predefined: Vec<&str> = webinar["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["predefinedField"].as_str().unwrap())
        .collect();
    assert_eq!(predefined, ["FIRST_NAME", "WORK_EMAIL"]);
    assert_eq!(webinar["unmappedQuestions"], json!([]));

    // Once an administrator maps the colour question, no question of the form is unmapped.
    create_mapping(&app.db, "Favourite colour", "custom.favouriteColour")
        .await
        .unwrap();
    let data = app.op_ok(&token, "Forms", json!({})).await;
    assert_eq!(data["linkedInForms"][0]["unmappedQuestions"], json!([]));
}

#[tokio::test]
async fn customer_journeys_show_their_campaign() {
    let app = TestApp::new().await;
    let f = fixture(&app.db).await;
    let token = salesperson(&app).await;
    let data = app.op_ok(&token, "CustomerJourneys", json!({})).await;
    let journeys = data["customerJourneys"].as_array().unwrap();
    assert_eq!(journeys.len(), 1, "{data:#}");
    let journey = &journeys[0];
    assert_eq!(journey["id"], f.journey.id.to_string());
    assert_eq!(journey["name"], "Spring Launch journey");
    assert_eq!(journey["status"], "LIVE");
    assert_eq!(
        time(&journey["createdAt"]).timestamp(),
        f.journey.created_at.timestamp()
    );
    assert_eq!(
        journey["campaign"],
        json!({ "id": f.spring.id.to_string(), "name": "Spring Launch" })
    );
}

// ------------------------------------------------------------------ profiles

#[tokio::test]
async fn profiles_list_the_accounts_each_can_reach() {
    let app = TestApp::new().await;
    let f = fixture(&app.db).await;
    let token = salesperson(&app).await;
    let data = app.op_ok(&token, "LinkedInUserProfiles", json!({})).await;
    let profiles = data["linkedInUserProfiles"].as_array().unwrap();
    assert_eq!(profiles.len(), 2, "{data:#}");

    let alice = &profiles[0];
    assert_eq!(alice["id"], f.alice.id.to_string());
    assert_eq!(alice["name"], "Alice");
    assert_eq!(alice["authorizationStatus"], "AUTHORIZED");
    assert_eq!(alice["linkedInMemberName"], "Alice Martin");
    assert_eq!(alice["syncStatus"], "ACTIVE");
    assert!(alice["statusDetails"].is_null());
    let emea = json!({
        "id": f.emea.id.to_string(),
        "linkedInId": "urn:li:sponsoredAccount:501",
        "name": "Acme EMEA",
        "enabledForSync": true,
        "syncStatus": "ACTIVE",
        "lastSyncAt": alice["accounts"][0]["lastSyncAt"].clone(),
    });
    let us = json!({
        "id": f.us.id.to_string(),
        "linkedInId": "urn:li:sponsoredAccount:502",
        "name": "Acme US",
        "enabledForSync": false,
        "syncStatus": "NOT_SYNCING",
        "lastSyncAt": null,
    });
    assert_eq!(alice["accounts"], json!([emea, us]));
    assert_eq!(time(&alice["accounts"][0]["lastSyncAt"]), f.t0);

    let bob = &profiles[1];
    assert_eq!(bob["id"], f.bob.id.to_string());
    assert_eq!(bob["authorizationStatus"], "EXPIRED");
    assert_eq!(bob["syncStatus"], "NOT_SYNCING");
    assert_eq!(
        bob["statusDetails"],
        "authorization expired: authorize again"
    );
    assert_eq!(bob["accounts"], json!([us]));
}

#[tokio::test]
async fn a_new_profile_is_not_authorized_and_not_syncing() {
    let app = TestApp::new().await;
    let f = fixture(&app.db).await;
    let token = salesperson(&app).await;
    let created = app
        .op_ok(
            &token,
            "CreateLinkedInUserProfile",
            json!({ "input": { "name": "Carol's LinkedIn" } }),
        )
        .await;
    let created = &created["createLinkedInUserProfile"];
    assert_eq!(created["name"], "Carol's LinkedIn");
    assert_eq!(created["authorizationStatus"], "NOT_AUTHORIZED");

    let data = app.op_ok(&token, "LinkedInUserProfiles", json!({})).await;
    let profiles = data["linkedInUserProfiles"].as_array().unwrap();
    let ids: Vec<&str> = profiles.iter().map(|p| p["id"].as_str().unwrap()).collect();
    let (alice, bob) = (f.alice.id.to_string(), f.bob.id.to_string());
    assert_eq!(
        ids,
        [
            alice.as_str(),
            bob.as_str(),
            created["id"].as_str().unwrap()
        ]
    );
    let carol = &profiles[2];
    assert_eq!(carol["name"], "Carol's LinkedIn");
    assert_eq!(carol["authorizationStatus"], "NOT_AUTHORIZED");
    assert_eq!(carol["syncStatus"], "NOT_SYNCING");
    assert!(carol["linkedInMemberName"].is_null());
    assert!(carol["tokenExpiresAt"].is_null());
    assert!(carol["lastSyncAt"].is_null());
    assert_eq!(carol["accounts"], json!([]));
}

// ------------------------------------------------------------------ no N+1

/// Adds submissions, each with its own lead and two answers, alternating campaigns, forms and
/// accounts.
async fn add_submissions(db: &DatabaseConnection, f: &Fixture, count: usize) {
    for n in 0..count {
        let lead = create_lead(
            db,
            LeadChanges {
                email: Some(Some(format!("bulk{n}@example.com"))),
                ..Default::default()
            },
            LeadSource::LinkedinSponsoredContent,
        )
        .await
        .unwrap();
        let (account, campaign, form) = if n % 2 == 0 {
            (f.emea.id, f.spring.id, f.demo_form.id)
        } else {
            (f.us.id, f.webinar.id, f.webinar_form.id)
        };
        insert_submission(
            db,
            SubmissionSpec {
                linkedin_id: format!("urn:li:leadFormResponse:bulk-{n}"),
                submitted_at: f.t0 - Duration::minutes(n as i64 + 1),
                test_lead: false,
                account: Some(account),
                campaign: Some(campaign),
                form: Some(form),
                lead: Some(lead.id),
                journey: None,
                matching_status: "NEW_LEAD_CREATED",
                processing_state: "SUCCEEDED",
                match_explanation: None,
                answers: vec![
                    ("q-email", EMAIL_Q, Some("EMAIL"), "x@example.com", 1, None),
                    ("consent-marketing", CONSENT_Q, None, "", 2, Some(true)),
                ],
            },
        )
        .await;
    }
}

/// Sends FormSubmissions (first 50) and returns the rows and the SQL statements it ran.
async fn measured_submissions(app: &TestApp, token: &str) -> (Vec<Value>, usize) {
    let before = app.statement_count();
    let data = app
        .op_ok(token, "FormSubmissions", json!({ "first": 50 }))
        .await;
    let statements = app.statement_count() - before;
    let rows = data["formSubmissions"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    (rows, statements)
}

#[tokio::test]
async fn form_submissions_run_the_same_statements_for_5_or_30_rows() {
    let app = TestApp::new().await;
    let f = fixture(&app.db).await;
    let token = salesperson(&app).await;

    // Authenticating the token once: later requests find it in the viewer cache.
    app.op_ok(&token, "Viewer", json!({})).await;
    let (rows, few) = measured_submissions(&app, &token).await;
    assert_eq!(rows.len(), 5);

    add_submissions(&app.db, &f, 25).await;
    let (rows, many) = measured_submissions(&app, &token).await;
    assert_eq!(rows.len(), 30);
    // Every row's relations were resolved (not skipped), apart from the test lead's missing lead.
    for row in &rows {
        assert!(row["form"]["name"].is_string(), "{row:#}");
        assert!(row["campaign"]["name"].is_string(), "{row:#}");
        assert!(row["account"]["name"].is_string(), "{row:#}");
        assert!(!row["answers"].as_array().unwrap().is_empty(), "{row:#}");
        assert!(
            row["lead"]["id"].is_string() || row["testLead"] == json!(true),
            "{row:#}"
        );
    }

    assert_eq!(few, many, "statements for 5 rows vs 30 rows");
    // The page with its count and its to-one relations (lead, form, campaign, account) is one
    // statement; the one nested list (answers) is one batch.
    assert_eq!(many, 2, "statements for one FormSubmissions request");
}

// ------------------------------------------------------------------ one by id

/// `formSubmission(id)` and `linkedInUserProfile(id)` answer what the lists answer for that row
/// (the console's detail pages open them by URL), and unknown ids are NOT_FOUND, not INTERNAL.
#[tokio::test]
async fn one_submission_and_one_profile_by_id_equal_their_list_rows() {
    let app = TestApp::new().await;
    let f = fixture(&app.db).await;
    let token = salesperson(&app).await;
    let fields = "id linkedInId submittedAt testLead matchingStatus lead { id email } \
                  form { id name } campaign { id name } answers { questionId value } matchExplanation";
    let listed = app
        .query(
            Some(&token),
            &format!("{{ formSubmissions(first: 100) {{ edges {{ node {{ {fields} }} }} }} }}"),
            json!({}),
        )
        .await;
    let rows = listed["data"]["formSubmissions"]["edges"]
        .as_array()
        .unwrap();
    assert_eq!(rows.len(), f.s.len());
    for row in rows {
        let node = &row["node"];
        let one = app
            .query(
                Some(&token),
                &format!("query($id: ID!) {{ formSubmission(id: $id) {{ {fields} }} }}"),
                json!({ "id": node["id"] }),
            )
            .await;
        assert_eq!(&one["data"]["formSubmission"], node, "{one}");
    }

    let profiles = app
        .query(
            Some(&token),
            "{ linkedInUserProfiles { id name authorizationStatus accounts { id } } }",
            json!({}),
        )
        .await;
    let profiles = profiles["data"]["linkedInUserProfiles"].as_array().unwrap();
    assert_eq!(profiles.len(), 2);
    for profile in profiles {
        let one = app
            .query(
                Some(&token),
                "query($id: ID!) { linkedInUserProfile(id: $id) { id name authorizationStatus accounts { id } } }",
                json!({ "id": profile["id"] }),
            )
            .await;
        assert_eq!(&one["data"]["linkedInUserProfile"], profile, "{one}");
    }
    assert_eq!(
        profiles
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [f.alice.id.to_string(), f.bob.id.to_string()]
    );

    for (query, what) in [
        ("{ formSubmission(id: \"999999\") { id } }", "submission"),
        ("{ linkedInUserProfile(id: \"999999\") { id } }", "profile"),
    ] {
        let missing = app.query(Some(&token), query, json!({})).await;
        assert_eq!(
            error_code(&missing).as_deref(),
            Some("NOT_FOUND"),
            "{what}: {missing}"
        );
    }
    let inbound = app.token(&[Role::S2sInbound]).await;
    let refused = app
        .query(
            Some(&inbound),
            &format!("{{ formSubmission(id: \"{}\") {{ id }} }}", f.s[0].id),
            json!({}),
        )
        .await;
    assert_eq!(error_code(&refused).as_deref(), Some("FORBIDDEN"));
}
