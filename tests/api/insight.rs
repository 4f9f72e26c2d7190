//! Dashboard aggregates, fed through the IngestLinkedInLeads pipeline and CreateLead, each checked
//! against a count made here, in Rust, from the stored rows.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, TimeZone, Utc};
use entity::{form_submission, lead, linkedin_campaign, sync_run};
use leadsync::domain::Role;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};

use crate::common::{TestApp, error_code};

const FORM: i64 = 9100;
const CAMPAIGNS: [&str; 3] = ["301", "302", "303"];

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .with_timezone(&Utc)
}

/// A form with EMAIL, FIRST_NAME and COMPANY_NAME (copied down from tests/api/ingest.rs).
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
                {"questionId": 4, "name": "Company", "question": text("Company"), "predefinedField": "COMPANY_NAME"}
            ],
            "legalInfo": {"consents": [], "privacyPolicyUrl": "https://x.example/privacy"}
        }
    })
}

/// A response to `form()` from campaign `campaign` (None: no campaign) at `submitted`.
fn response(
    id: &str,
    campaign: Option<&str>,
    submitted: DateTime<Utc>,
    email: &str,
    company: &str,
    test_lead: bool,
) -> Value {
    let answers = json!([
        {"questionId": 1, "answerDetails": {"textQuestionAnswer": {"answer": email}}},
        {"questionId": 4, "answerDetails": {"textQuestionAnswer": {"answer": company}}}
    ]);
    let mut r = json!({
        "id": id, "owner": {"sponsoredAccount": "urn:li:sponsoredAccount:777"},
        "submitter": "urn:li:person:abc", "leadType": "SPONSORED",
        "versionedLeadGenFormUrn": format!("urn:li:versionedLeadGenForm:(urn:li:leadGenForm:{FORM},2)"),
        "submittedAt": submitted.timestamp_millis(), "testLead": test_lead,
        "associatedEntity": {"associatedCreative": "urn:li:sponsoredCreative:42"},
        "formResponse": {"answers": answers, "consentResponses": []}
    });
    if let Some(c) = campaign {
        r["leadMetadata"] =
            json!({"sponsoredLeadMetadata": {"campaign": format!("urn:li:sponsoredCampaign:{c}")}});
    }
    r
}

const INGEST: &str =
    "mutation($input: IngestLinkedInLeadsInput!) { ingestLinkedInLeads(input: $input) {
    submissionsCreated leadsCreated leadsUpdated failed } }";

async fn ingest(app: &TestApp, token: &str, forms: Vec<Value>, responses: Vec<Value>) -> Value {
    let variables = json!({"input": {"forms": forms, "responses": responses}});
    let full = app.query(Some(token), INGEST, variables).await;
    assert!(full.get("errors").is_none(), "{full:#}");
    full["data"]["ingestLinkedInLeads"].clone()
}

/// Manual and web leads, then 36 generated responses over a month and 3 campaigns (some test
/// leads, some matching the manual leads or each other), responses on the hour, day, week and
/// month boundaries, one without a campaign and one that fails.
async fn seed(app: &TestApp) -> String {
    let admin = app.token(&[Role::LeadgenAdministrator]).await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    // Test leads become (or update) leads too, so that leaving them out changes every count.
    app.op_ok(
        &admin,
        "UpdateIntegrationConfiguration",
        json!({"input": {"createLeadsFromTestLeads": true}}),
    )
    .await;
    for i in 0..4 {
        app.op_ok(
            &sales,
            "CreateLead",
            json!({"input": {"email": format!("m{i}@x.example"), "company": "Manual"}}),
        )
        .await;
    }
    for i in 0..2 {
        app.op_ok(
            &sales,
            "CreateLead",
            json!({"input": {"email": format!("w{i}@x.example"), "source": "WEB"}}),
        )
        .await;
    }

    let base = at("2025-09-29T00:00:00Z"); // a Monday
    let mut batch: Vec<Value> = (0..36_i64)
        .map(|i| {
            // Quadratic spacing: dense at first, then days without any submission.
            let submitted = base + chrono::TimeDelta::minutes(i * i * 37 + i * 53);
            let campaign = CAMPAIGNS[[0, 0, 1, 1, 2][(i % 5) as usize]];
            let email = if i % 9 == 0 {
                format!("m{}@x.example", (i / 9) % 4)
            } else {
                format!("p{}@x.example", i % 12)
            };
            response(
                &format!("g-{i}"),
                Some(campaign),
                submitted,
                &email,
                &format!("Company {i}"),
                i % 6 == 4,
            )
        })
        .collect();
    let edges = [
        ("b-sep", "2025-09-30T23:59:59.999Z", "302", false),
        ("b-sun", "2025-10-05T23:59:59.999Z", "302", false),
        ("b-mon", "2025-10-06T00:00:00Z", "302", false),
        ("b-h1", "2025-10-07T10:59:59.999Z", "301", false),
        ("b-h2", "2025-10-07T11:00:00Z", "301", false),
        ("b-test", "2025-10-07T11:30:00Z", "303", true),
        ("b-oct", "2025-10-31T23:59:59.999Z", "303", false),
        ("b-nov", "2025-11-01T00:00:00Z", "303", false),
    ];
    for (id, time, campaign, test) in edges {
        batch.push(response(
            id,
            Some(campaign),
            at(time),
            &format!("{id}@x.example"),
            "Edge",
            test,
        ));
    }
    batch.push(response(
        "no-campaign",
        None,
        at("2025-10-08T12:00:00Z"),
        "m2@x.example",
        "Elsewhere",
        false,
    ));
    let mut failing = response(
        "unknown-form",
        Some("303"),
        at("2025-10-09T09:15:00Z"),
        "f@x.example",
        "F",
        false,
    );
    failing["versionedLeadGenFormUrn"] =
        json!("urn:li:versionedLeadGenForm:(urn:li:leadGenForm:4040,1)");
    batch.push(failing);
    let result = ingest(app, &s2s, vec![form()], batch).await;
    assert_eq!(result["submissionsCreated"], 46);
    assert_eq!(result["failed"], 1);
    sales
}

async fn submissions(app: &TestApp) -> Vec<form_submission::Model> {
    form_submission::Entity::find().all(&app.db).await.unwrap()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn time(v: &Value) -> DateTime<Utc> {
    at(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
}

// ------------------------------------------------------------------ syncStatus

const SYNC_STATUS_ALL: &str = "query($all: Boolean) { syncStatus(includeTestLeads: $all) {
    lastSyncAt submissionsSynced leadsCreated leadsUpdated failedSubmissions } }";

fn expected_sync_status(rows: &[form_submission::Model], all: bool) -> [i64; 4] {
    let rows: Vec<_> = rows.iter().filter(|s| all || !s.test_lead).collect();
    let with =
        |f: &dyn Fn(&form_submission::Model) -> bool| rows.iter().filter(|s| f(s)).count() as i64;
    [
        rows.len() as i64,
        with(&|s| s.matching_status == "NEW_LEAD_CREATED"),
        with(&|s| s.matching_status == "UPDATED_EXISTING_LEAD"),
        with(&|s| s.processing_state == "FAILED"),
    ]
}

fn sync_counts(status: &Value) -> [i64; 4] {
    [
        int(&status["submissionsSynced"]),
        int(&status["leadsCreated"]),
        int(&status["leadsUpdated"]),
        int(&status["failedSubmissions"]),
    ]
}

async fn sync_run(app: &TestApp, status: &str, finished_at: Option<DateTime<Utc>>) {
    let now = Utc::now();
    sync_run::ActiveModel {
        profile_id: Set(None),
        trigger: Set("MANUAL".into()),
        status: Set(status.into()),
        started_at: Set(finished_at.map(|f| f - chrono::TimeDelta::minutes(1))),
        finished_at: Set(finished_at),
        submissions_fetched: Set(0),
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
}

#[tokio::test]
async fn sync_status_counts_submissions_and_the_latest_successful_run() {
    let app = TestApp::new().await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    let empty = app.op_ok(&sales, "SyncStatus", json!({})).await["syncStatus"].clone();
    assert!(empty["lastSyncAt"].is_null(), "{empty}");
    assert_eq!(sync_counts(&empty), [0; 4]);

    seed(&app).await;
    let rows = submissions(&app).await;
    let without = expected_sync_status(&rows, false);
    let with = expected_sync_status(&rows, true);
    // The data exercises every count, and the test leads change each of the first three.
    assert!(without.iter().all(|n| *n > 0), "{without:?}");
    assert!((0..3).all(|i| with[i] > without[i]), "{with:?} {without:?}");

    let status = app.op_ok(&sales, "SyncStatus", json!({})).await["syncStatus"].clone();
    assert_eq!(sync_counts(&status), without, "{status}");
    assert!(status["lastSyncAt"].is_null(), "no sync run yet");
    for (all, expected) in [
        (json!(false), without),
        (json!(true), with),
        (Value::Null, without),
    ] {
        let r = app
            .query(Some(&sales), SYNC_STATUS_ALL, json!({"all": all}))
            .await;
        assert!(r.get("errors").is_none(), "{r}");
        assert_eq!(sync_counts(&r["data"]["syncStatus"]), expected, "{all}");
    }

    // Only succeeded runs count, the latest finish wins; unfinished and failed runs are ignored.
    let last = at("2025-11-02T08:30:15.250Z");
    sync_run(&app, "SUCCEEDED", Some(at("2025-11-02T08:00:00Z"))).await;
    sync_run(&app, "SUCCEEDED", Some(last)).await;
    sync_run(&app, "SUCCEEDED", Some(at("2025-10-30T23:59:59.999Z"))).await;
    sync_run(&app, "SUCCEEDED", None).await;
    sync_run(&app, "FAILED", Some(at("2025-11-03T00:00:00Z"))).await;
    sync_run(&app, "RUNNING", None).await;
    let status = app.op_ok(&sales, "SyncStatus", json!({})).await["syncStatus"].clone();
    assert_eq!(time(&status["lastSyncAt"]), last, "{status}");
    assert_eq!(sync_counts(&status), without);
}

// ------------------------------------------------------------------ leadsBySource

#[tokio::test]
async fn leads_by_source_counts_each_source_most_first() {
    let app = TestApp::new().await;
    let sales = seed(&app).await;
    let mut expected: HashMap<String, i64> = HashMap::new();
    for l in lead::Entity::find().all(&app.db).await.unwrap() {
        *expected.entry(l.source).or_default() += 1;
    }
    assert_eq!(expected.len(), 3, "{expected:?}");

    let rows = app.op_ok(&sales, "LeadsBySource", json!({})).await["leadsBySource"].clone();
    let got: Vec<(String, i64)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["source"].as_str().unwrap().to_owned(), int(&r["count"])))
        .collect();
    assert_eq!(
        got.iter().cloned().collect::<HashMap<_, _>>(),
        expected,
        "{rows}"
    );
    assert!(
        got.windows(2).all(|w| w[0].1 >= w[1].1),
        "most first: {got:?}"
    );
    assert_eq!(got.len(), 3, "one row per source: {got:?}");
}

// ------------------------------------------------------------------ submissionsByCampaign

const BY_CAMPAIGN_ALL: &str = "query($from: DateTime, $to: DateTime) {
    submissionsByCampaign(from: $from, to: $to, includeTestLeads: true) {
        campaign { id name } submissions leadsCreated leadsUpdated } }";

/// (campaign id, name, submissions, created, updated), ordered as the API promises.
type CampaignRow = (String, String, i64, i64, i64);

async fn expected_by_campaign(
    app: &TestApp,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    all: bool,
) -> Vec<CampaignRow> {
    let names: HashMap<i64, String> = linkedin_campaign::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let mut counts: BTreeMap<i64, [i64; 3]> = BTreeMap::new();
    for s in submissions(app).await {
        let in_range =
            from.is_none_or(|f| s.submitted_at >= f) && to.is_none_or(|t| s.submitted_at < t);
        let (Some(campaign), true, true) = (s.campaign_id, in_range, all || !s.test_lead) else {
            continue;
        };
        let c = counts.entry(campaign).or_default();
        c[0] += 1;
        c[1] += i64::from(s.matching_status == "NEW_LEAD_CREATED");
        c[2] += i64::from(s.matching_status == "UPDATED_EXISTING_LEAD");
    }
    let mut rows: Vec<(i64, CampaignRow)> = counts
        .into_iter()
        .map(|(id, [n, c, u])| (id, (id.to_string(), names[&id].clone(), n, c, u)))
        .collect();
    rows.sort_by(|(a_id, a), (b_id, b)| {
        b.2.cmp(&a.2)
            .then_with(|| a.1.cmp(&b.1))
            .then(a_id.cmp(b_id))
    });
    rows.into_iter().map(|(_, r)| r).collect()
}

fn campaign_rows(data: &Value) -> Vec<CampaignRow> {
    data["submissionsByCampaign"]
        .as_array()
        .unwrap_or_else(|| panic!("{data}"))
        .iter()
        .map(|r| {
            (
                r["campaign"]["id"].as_str().unwrap().to_owned(),
                r["campaign"]["name"].as_str().unwrap().to_owned(),
                int(&r["submissions"]),
                int(&r["leadsCreated"]),
                int(&r["leadsUpdated"]),
            )
        })
        .collect()
}

#[tokio::test]
async fn submissions_by_campaign_counts_created_and_updated_in_the_range() {
    let app = TestApp::new().await;
    let sales = seed(&app).await;

    let all_time = app.op_ok(&sales, "SubmissionsByCampaign", json!({})).await;
    let expected = expected_by_campaign(&app, None, None, false).await;
    assert_eq!(campaign_rows(&all_time), expected);
    assert_eq!(expected.len(), 3);
    assert!(expected.iter().all(|r| r.2 > 0));
    assert!(expected.iter().map(|r| r.3).sum::<i64>() > 0);
    assert!(expected.iter().map(|r| r.4).sum::<i64>() > 0);
    // The submission without a campaign is left out, the test leads too.
    let non_test = submissions(&app)
        .await
        .iter()
        .filter(|s| !s.test_lead)
        .count() as i64;
    assert_eq!(expected.iter().map(|r| r.2).sum::<i64>(), non_test - 1);

    // [from, to): the Monday 00:00 submission is in, the November 1st 00:00 one is out.
    let (from, to) = (at("2025-10-06T00:00:00Z"), at("2025-11-01T00:00:00Z"));
    let ranged = app
        .op_ok(
            &sales,
            "SubmissionsByCampaign",
            json!({"from": from, "to": to}),
        )
        .await;
    let expected_range = expected_by_campaign(&app, Some(from), Some(to), false).await;
    assert_eq!(campaign_rows(&ranged), expected_range);
    assert_ne!(expected_range, expected, "the range must leave some out");
    // One end only.
    for (f, t) in [(Some(from), None), (None, Some(to))] {
        let data = app
            .op_ok(&sales, "SubmissionsByCampaign", json!({"from": f, "to": t}))
            .await;
        assert_eq!(
            campaign_rows(&data),
            expected_by_campaign(&app, f, t, false).await,
            "{f:?} {t:?}"
        );
    }
    // The exact boundaries: a range holding only the b-mon submission (campaign 302).
    let only = app
        .op_ok(
            &sales,
            "SubmissionsByCampaign",
            json!({"from": "2025-10-06T00:00:00Z", "to": "2025-10-06T00:00:00.001Z"}),
        )
        .await;
    assert_eq!(
        campaign_rows(&only),
        expected_by_campaign(
            &app,
            Some(at("2025-10-06T00:00:00Z")),
            Some(at("2025-10-06T00:00:00.001Z")),
            false
        )
        .await
    );
    assert_eq!(campaign_rows(&only).len(), 1);

    // Test leads on request.
    let r = app
        .query(
            Some(&sales),
            BY_CAMPAIGN_ALL,
            json!({"from": from, "to": to}),
        )
        .await;
    assert!(r.get("errors").is_none(), "{r}");
    let with_tests = expected_by_campaign(&app, Some(from), Some(to), true).await;
    assert_eq!(campaign_rows(&r["data"]), with_tests);
    assert_ne!(with_tests, expected_range);

    // A reversed or empty range is refused.
    for (f, t) in [(to, from), (from, from)] {
        let r = app
            .op(
                Some(&sales),
                "SubmissionsByCampaign",
                json!({"from": f, "to": t}),
            )
            .await;
        assert_eq!(error_code(&r).as_deref(), Some("BAD_USER_INPUT"), "{r}");
    }
}

#[tokio::test]
async fn campaigns_with_equal_submissions_are_ordered_by_name() {
    let app = TestApp::new().await;
    let s2s = app.token(&[Role::S2sInbound]).await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    let t = at("2025-10-01T12:00:00Z");
    let plan = [("701", 2), ("702", 3), ("703", 2)];
    let mut batch = Vec::new();
    for (campaign, n) in plan {
        for i in 0..n {
            batch.push(response(
                &format!("{campaign}-{i}"),
                Some(campaign),
                t,
                &format!("{campaign}-{i}@x.example"),
                "C",
                false,
            ));
        }
    }
    ingest(&app, &s2s, vec![form()], batch).await;
    // Name the tied campaigns against their row order: the lower id gets the later name.
    let mut tied: Vec<linkedin_campaign::Model> = linkedin_campaign::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.linkedin_id != "702")
        .collect();
    assert_eq!(tied.len(), 2, "{tied:?}");
    tied.sort_by_key(|c| c.id);
    for (c, name) in tied.into_iter().zip(["Zulu", "Alpha"]) {
        let mut c: linkedin_campaign::ActiveModel = c.into();
        c.name = Set(name.into());
        c.update(&app.db).await.unwrap();
    }
    let data = app.op_ok(&sales, "SubmissionsByCampaign", json!({})).await;
    let got = campaign_rows(&data);
    assert_eq!(got, expected_by_campaign(&app, None, None, false).await);
    let names: Vec<&str> = got.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(names[1..], ["Alpha", "Zulu"], "{got:?}");
    assert_eq!(got[0].2, 3);
}

// ------------------------------------------------------------------ submissionsOverTime

const OVER_TIME_ALL: &str = "query($from: DateTime!, $to: DateTime!, $interval: TimeInterval!, $campaignId: ID) {
    submissionsOverTime(from: $from, to: $to, interval: $interval, campaignId: $campaignId, includeTestLeads: true) {
        bucketStart count } }";

/// The bucket start of `t`, computed here independently of the server (epoch arithmetic).
fn bucket_of(t: DateTime<Utc>, interval: &str) -> DateTime<Utc> {
    let s = t.timestamp();
    const DAY: i64 = 86_400;
    let start = match interval {
        "HOUR" => s - s.rem_euclid(3_600),
        "DAY" => s - s.rem_euclid(DAY),
        // 1970-01-05 was a Monday.
        "WEEK" => s - (s - 4 * DAY).rem_euclid(7 * DAY),
        "MONTH" => {
            return Utc
                .with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0)
                .unwrap();
        }
        other => panic!("{other}"),
    };
    Utc.timestamp_opt(start, 0).unwrap()
}

/// Every bucket of [from, to) with its count of the rows given, computed from the rows.
fn expected_series(
    rows: &[&form_submission::Model],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    interval: &str,
) -> Vec<(DateTime<Utc>, i64)> {
    let mut counts: BTreeMap<DateTime<Utc>, i64> = BTreeMap::new();
    // Every bucket: walk one second past each bucket's end.
    let mut start = bucket_of(from, interval);
    while start < to {
        counts.insert(start, 0);
        let mut probe = start;
        while bucket_of(probe, interval) == start {
            probe += chrono::TimeDelta::hours(1);
        }
        start = bucket_of(probe, interval);
    }
    for s in rows {
        if s.submitted_at >= from && s.submitted_at < to {
            *counts
                .get_mut(&bucket_of(s.submitted_at, interval))
                .unwrap() += 1;
        }
    }
    counts.into_iter().collect()
}

fn series(data: &Value) -> Vec<(DateTime<Utc>, i64)> {
    data["submissionsOverTime"]
        .as_array()
        .unwrap_or_else(|| panic!("{data}"))
        .iter()
        .map(|b| (time(&b["bucketStart"]), int(&b["count"])))
        .collect()
}

async fn over_time(
    app: &TestApp,
    token: &str,
    from: &str,
    to: &str,
    interval: &str,
    campaign: Option<i64>,
) -> Vec<(DateTime<Utc>, i64)> {
    let data = app
        .op_ok(
            token,
            "SubmissionsOverTime",
            json!({"from": from, "to": to, "interval": interval,
                   "campaignId": campaign.map(|c| c.to_string())}),
        )
        .await;
    series(&data)
}

#[tokio::test]
async fn submissions_over_time_has_every_bucket_of_the_range() {
    let app = TestApp::new().await;
    let sales = seed(&app).await;
    let rows = submissions(&app).await;
    let non_test: Vec<&form_submission::Model> = rows.iter().filter(|s| !s.test_lead).collect();

    // (interval, from, to, whether the range has an empty bucket)
    for (interval, from, to, gap) in [
        ("HOUR", "2025-10-07T00:00:00Z", "2025-10-09T00:00:00Z", true),
        ("HOUR", "2025-09-29T01:30:00Z", "2025-09-30T07:15:00Z", true),
        ("DAY", "2025-09-28T00:00:00Z", "2025-11-03T00:00:00Z", true),
        ("DAY", "2025-10-05T12:00:00Z", "2025-10-20T06:00:00Z", true),
        // b-h2 is exactly at `to`: out.
        ("DAY", "2025-10-05T12:00:00Z", "2025-10-07T11:00:00Z", false),
        ("WEEK", "2025-09-22T00:00:00Z", "2025-11-10T00:00:00Z", true),
        (
            "WEEK",
            "2025-10-01T12:00:00Z",
            "2025-10-31T00:00:00Z",
            false,
        ),
        (
            "MONTH",
            "2025-08-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
            true,
        ),
        (
            "MONTH",
            "2025-09-15T00:00:00Z",
            "2025-11-01T00:00:00Z",
            false,
        ),
    ] {
        let got = over_time(&app, &sales, from, to, interval, None).await;
        let expected = expected_series(&non_test, at(from), at(to), interval);
        assert_eq!(got, expected, "{interval} {from} {to}");
        assert_eq!(
            got.iter().any(|b| b.1 == 0),
            gap,
            "{interval} {from}: empty buckets are present with 0"
        );
        assert!(got.iter().any(|b| b.1 > 0), "{interval} {from}");
        assert!(got.windows(2).all(|w| w[0].0 < w[1].0), "ascending");
    }

    // The bucket boundaries themselves, spelled out.
    let starts = |s: &[(DateTime<Utc>, i64)]| s.iter().map(|b| b.0).collect::<Vec<_>>();
    let week = over_time(
        &app,
        &sales,
        "2025-10-01T12:00:00Z",
        "2025-10-13T00:00:00Z",
        "WEEK",
        None,
    )
    .await;
    assert_eq!(
        starts(&week),
        [at("2025-09-29T00:00:00Z"), at("2025-10-06T00:00:00Z")]
    );
    let month = over_time(
        &app,
        &sales,
        "2025-09-30T23:59:59.999Z",
        "2025-11-01T00:00:00.001Z",
        "MONTH",
        None,
    )
    .await;
    assert_eq!(
        starts(&month),
        [
            at("2025-09-01T00:00:00Z"),
            at("2025-10-01T00:00:00Z"),
            at("2025-11-01T00:00:00Z")
        ]
    );
    // b-sep, b-oct and b-nov, each alone at its end of a month.
    assert_eq!(month[0].1, 1, "{month:?}");
    assert_eq!(month[2].1, 1, "{month:?}");
    let hours = over_time(
        &app,
        &sales,
        "2025-10-07T10:59:59.999Z",
        "2025-10-07T11:00:00.001Z",
        "HOUR",
        None,
    )
    .await;
    assert_eq!(
        hours,
        [
            (at("2025-10-07T10:00:00Z"), 1),
            (at("2025-10-07T11:00:00Z"), 1)
        ]
    );
    let days = over_time(
        &app,
        &sales,
        "2025-10-05T23:59:59.999Z",
        "2025-10-06T00:00:00.001Z",
        "DAY",
        None,
    )
    .await;
    assert_eq!(
        days,
        [
            (at("2025-10-05T00:00:00Z"), 1),
            (at("2025-10-06T00:00:00Z"), 1)
        ]
    );
    let weeks = over_time(
        &app,
        &sales,
        "2025-10-05T23:59:59.999Z",
        "2025-10-06T00:00:00.001Z",
        "WEEK",
        None,
    )
    .await;
    assert_eq!(
        weeks,
        [
            (at("2025-09-29T00:00:00Z"), 1),
            (at("2025-10-06T00:00:00Z"), 1)
        ]
    );
}

#[tokio::test]
async fn submissions_over_time_filters_by_campaign_and_test_leads() {
    let app = TestApp::new().await;
    let sales = seed(&app).await;
    let rows = submissions(&app).await;
    let (from, to) = ("2025-09-29T00:00:00Z", "2025-11-03T00:00:00Z");
    let campaigns = linkedin_campaign::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(campaigns.len(), 3);
    for c in &campaigns {
        let of_campaign: Vec<&form_submission::Model> = rows
            .iter()
            .filter(|s| s.campaign_id == Some(c.id) && !s.test_lead)
            .collect();
        let got = over_time(&app, &sales, from, to, "DAY", Some(c.id)).await;
        assert_eq!(
            got,
            expected_series(&of_campaign, at(from), at(to), "DAY"),
            "{}",
            c.name
        );
        assert_eq!(
            got.iter().map(|b| b.1).sum::<i64>(),
            of_campaign.len() as i64
        );
    }
    // A campaign without submissions: every bucket, all 0.
    let none = over_time(&app, &sales, from, to, "WEEK", Some(999_999)).await;
    assert_eq!(none, expected_series(&[], at(from), at(to), "WEEK"));
    assert_eq!(none.len(), 5, "the weeks of 2025-09-29 to 2025-10-27");
    assert!(none.iter().all(|b| b.1 == 0));

    // With test leads, overall and for one campaign.
    let everything: Vec<&form_submission::Model> = rows.iter().collect();
    for campaign in [None, Some(campaigns[2].id)] {
        let r = app
            .query(
                Some(&sales),
                OVER_TIME_ALL,
                json!({"from": from, "to": to, "interval": "HOUR",
                       "campaignId": campaign.map(|c| c.to_string())}),
            )
            .await;
        assert!(r.get("errors").is_none(), "{r}");
        let subset: Vec<&form_submission::Model> = everything
            .iter()
            .copied()
            .filter(|s| campaign.is_none() || s.campaign_id == campaign)
            .collect();
        let expected = expected_series(&subset, at(from), at(to), "HOUR");
        assert_eq!(series(&r["data"]), expected, "{campaign:?}");
        let without_tests = over_time(&app, &sales, from, to, "HOUR", campaign).await;
        assert_ne!(without_tests, expected, "test leads must make a difference");
    }
}

#[tokio::test]
async fn bad_ranges_and_bad_ids_are_refused() {
    let app = TestApp::new().await;
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    let send = |from: &str, to: &str, interval: &str, campaign: Option<&str>| {
        let variables =
            json!({"from": from, "to": to, "interval": interval, "campaignId": campaign});
        let sales = sales.clone();
        let app = &app;
        async move { app.op(Some(&sales), "SubmissionsOverTime", variables).await }
    };
    for (from, to, interval) in [
        ("2025-10-02T00:00:00Z", "2025-10-01T00:00:00Z", "DAY"),
        ("2025-10-01T00:00:00Z", "2025-10-01T00:00:00Z", "HOUR"),
        // 10,001 hours; 30 years of days; 1000 years of months.
        ("2025-01-01T00:00:00Z", "2026-02-21T17:00:00Z", "HOUR"),
        ("2000-01-01T00:00:00Z", "2030-01-01T00:00:00Z", "DAY"),
        ("1200-01-01T00:00:00Z", "2200-01-01T00:00:00Z", "MONTH"),
    ] {
        let r = send(from, to, interval, None).await;
        assert_eq!(
            error_code(&r).as_deref(),
            Some("BAD_USER_INPUT"),
            "{from} {to} {interval}: {r}"
        );
    }
    // Exactly 10,000 buckets is allowed.
    let r = send("2025-01-01T00:00:00Z", "2026-02-21T16:00:00Z", "HOUR", None).await;
    assert!(r.get("errors").is_none(), "{r}");
    assert_eq!(
        r["data"]["submissionsOverTime"].as_array().unwrap().len(),
        10_000
    );
    let r = send(
        "2025-01-01T00:00:00Z",
        "2025-01-02T00:00:00Z",
        "DAY",
        Some("x"),
    )
    .await;
    assert_eq!(error_code(&r).as_deref(), Some("BAD_USER_INPUT"), "{r}");
    let r = send(
        "2025-01-01T00:00:00Z",
        "2025-01-02T00:00:00Z",
        "FORTNIGHT",
        None,
    )
    .await;
    assert_eq!(
        error_code(&r).as_deref(),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{r}"
    );
}

// ------------------------------------------------------------------ cost and guards

#[tokio::test]
async fn aggregates_cost_the_same_statements_for_any_number_of_rows() {
    let app = TestApp::new().await;
    let sales = seed(&app).await;
    let measure = |variables: Value, name: &'static str| {
        let app = &app;
        let sales = sales.clone();
        async move {
            let before = app.statement_count();
            let data = app.op_ok(&sales, name, variables).await;
            (app.statement_count() - before, data)
        }
    };
    let (busy, data) = measure(json!({}), "SubmissionsByCampaign").await;
    assert_eq!(data["submissionsByCampaign"].as_array().unwrap().len(), 3);
    let (quiet, data) = measure(
        json!({"from": "2025-10-06T00:00:00Z", "to": "2025-10-06T00:00:00.001Z"}),
        "SubmissionsByCampaign",
    )
    .await;
    assert_eq!(data["submissionsByCampaign"].as_array().unwrap().len(), 1);
    assert_eq!(busy, quiet, "one aggregate and one campaign batch");

    let (many, data) = measure(
        json!({"from": "2025-09-29T00:00:00Z", "to": "2025-11-03T00:00:00Z", "interval": "HOUR"}),
        "SubmissionsOverTime",
    )
    .await;
    assert!(data["submissionsOverTime"].as_array().unwrap().len() > 800);
    let (few, _) = measure(
        json!({"from": "2020-01-01T00:00:00Z", "to": "2020-01-02T00:00:00Z", "interval": "DAY"}),
        "SubmissionsOverTime",
    )
    .await;
    assert_eq!(many, few);
}

#[tokio::test]
async fn dashboards_are_for_lead_users() {
    let app = TestApp::new().await;
    let range =
        json!({"from": "2025-10-01T00:00:00Z", "to": "2025-10-02T00:00:00Z", "interval": "DAY"});
    let operations = [
        ("SyncStatus", json!({})),
        ("LeadsBySource", json!({})),
        ("SubmissionsByCampaign", json!({})),
        ("SubmissionsOverTime", range),
    ];
    let s2s = app.token(&[Role::S2sInbound]).await;
    let mut allowed = Vec::new();
    for role in [
        Role::SystemAdministrator,
        Role::LeadgenAdministrator,
        Role::LeadgenSalesperson,
    ] {
        allowed.push(app.token(&[role]).await);
    }
    for (name, variables) in operations {
        let r = app.op(None, name, variables.clone()).await;
        assert_eq!(error_code(&r).as_deref(), Some("UNAUTHENTICATED"), "{name}");
        let r = app.op(Some(&s2s), name, variables.clone()).await;
        assert_eq!(error_code(&r).as_deref(), Some("FORBIDDEN"), "{name}");
        for token in &allowed {
            app.op_ok(token, name, variables.clone()).await;
        }
    }
}
