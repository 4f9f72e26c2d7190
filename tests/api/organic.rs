//! Organic lead types (company pages, product pages, events) against the LinkedIn sandbox over
//! HTTP: off by default, each type pulled per organization the member administers, its own
//! backfill window, its own webhook subscription, and its own lead source.

use std::{collections::HashSet, time::Duration};

use chrono::Utc;
use entity::{form_submission, lead};
use leadsync::{domain::Role, linkedin::sandbox::SandboxConfig};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::{
    common::error_code,
    connector::{Env, authorized_profile, env_with, sync},
};

const ORGANIC: [&str; 3] = ["COMPANY", "ORGANIZATION_PRODUCT", "EVENT"];

async fn organic_env() -> Env {
    env_with(
        SandboxConfig {
            leads_per_account: 4,
            organic_leads_per_type: 8,
            ..Default::default()
        },
        |_| {},
    )
    .await
}

const SET_LEAD_TYPES: &str = "mutation($types: [LeadTypeSettingInput!]) { updateIntegrationConfiguration(input: { leadTypes: $types }) { leadTypes { leadType enabled backfillDays } } }";

/// Sets lead types as an administrator; returns the answer.
async fn set_lead_types(env: &Env, types: Value) -> Value {
    let admin = env.app.token(&[Role::LeadgenAdministrator]).await;
    env.app
        .query(Some(&admin), SET_LEAD_TYPES, json!({ "types": types }))
        .await
}

async fn enable_organic(env: &Env, backfill_days: i64) {
    let types: Vec<Value> = ORGANIC
        .iter()
        .map(|t| json!({ "leadType": t, "enabled": true, "backfillDays": backfill_days }))
        .collect();
    let answer = set_lead_types(env, json!(types)).await;
    assert!(answer.get("errors").is_none(), "{answer}");
}

/// `(LinkedIn response id, lead type)` of every stored submission.
async fn stored(env: &Env) -> Vec<(String, String)> {
    form_submission::Entity::find()
        .all(&env.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.linkedin_id, s.lead_type))
        .collect()
}

/// The organic response ids LinkedIn serves the member for one lead type, submitted at or
/// after `since_ms`.
fn organic_truth(env: &Env, lead_type: &str, since_ms: i64) -> HashSet<String> {
    env.sandbox
        .organizations()
        .iter()
        .filter(|o| !o.forbidden)
        .flat_map(|o| env.sandbox.organic_responses(&o.urn, lead_type))
        .filter(|r| r["submittedAt"].as_i64().unwrap() >= since_ms)
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn ids_of(stored: &[(String, String)], lead_type: &str) -> HashSet<String> {
    stored
        .iter()
        .filter(|(_, t)| t == lead_type)
        .map(|(id, _)| id.clone())
        .collect()
}

const DAY_MS: i64 = 24 * 3600 * 1000;

async fn accounts(env: &Env) -> Vec<Value> {
    let answer = env
        .app
        .query(
            Some(&env.sales),
            "{ linkedInUserProfiles { accounts { linkedInId name leadType ownerUrn syncStatus } } }",
            json!({}),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"]["linkedInUserProfiles"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["accounts"].as_array().unwrap().clone())
        .collect()
}

#[tokio::test]
async fn organic_lead_types_are_off_until_an_administrator_turns_them_on() {
    let env = organic_env().await;
    let admin = env.app.token(&[Role::LeadgenAdministrator]).await;
    let answer = env
        .app
        .query(
            Some(&admin),
            "{ integrationConfiguration { leadTypes { leadType enabled backfillDays } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        answer["data"]["integrationConfiguration"]["leadTypes"],
        json!([
            { "leadType": "SPONSORED", "enabled": true, "backfillDays": 365 },
            { "leadType": "COMPANY", "enabled": false, "backfillDays": 90 },
            { "leadType": "ORGANIZATION_PRODUCT", "enabled": false, "backfillDays": 90 },
            { "leadType": "EVENT", "enabled": false, "backfillDays": 90 },
        ]),
        "{answer}"
    );

    let _profile = authorized_profile(&env).await;
    let stored = stored(&env).await;
    assert!(!stored.is_empty());
    assert!(
        stored.iter().all(|(_, t)| t == "SPONSORED"),
        "no organic lead is pulled by default"
    );
    assert_eq!(stored.len(), env.sandbox.readable_response_count());
    assert!(
        env.sandbox
            .lead_notification_subscriptions()
            .iter()
            .all(|s| s.lead_type == "SPONSORED"),
        "no organic webhook is subscribed by default"
    );
    assert!(
        accounts(&env)
            .await
            .iter()
            .all(|a| a["leadType"] == "SPONSORED")
    );
    let orgs = env.sandbox.organizations();
    assert!(
        orgs.iter().any(|o| !o.forbidden) && env.sandbox.readable_organic_response_count() > 0,
        "the sandbox has organic leads to leave alone"
    );
}

#[tokio::test]
async fn each_organic_type_syncs_per_organization_with_its_own_source_and_webhook() {
    let env = organic_env().await;
    enable_organic(&env, 365).await;
    let profile = authorized_profile(&env).await;
    let run = sync(&env, &profile).await;
    assert_eq!(run.status, "SUCCEEDED", "{:?}", run.error);

    let stored = stored(&env).await;
    let unique: HashSet<&String> = stored.iter().map(|(id, _)| id).collect();
    assert_eq!(unique.len(), stored.len(), "a submission was stored twice");
    let since = Utc::now().timestamp_millis() - 365 * DAY_MS;
    let mut organic = 0;
    for t in ORGANIC {
        let truth = organic_truth(&env, t, since);
        assert!(!truth.is_empty(), "the sandbox has {t} leads");
        assert_eq!(
            ids_of(&stored, t),
            truth,
            "{t} submissions equal LinkedIn's"
        );
        organic += truth.len();
    }
    assert_eq!(organic, env.sandbox.readable_organic_response_count());
    assert_eq!(
        ids_of(&stored, "SPONSORED").len(),
        env.sandbox.readable_response_count(),
        "sponsored leads sync beside them"
    );

    // One source per organization the member administers and organic type; none for the
    // partner's organization, where the member has no approved role.
    let orgs = env.sandbox.organizations();
    let accounts = accounts(&env).await;
    for org in &orgs {
        for t in ORGANIC {
            let source = accounts
                .iter()
                .find(|a| a["ownerUrn"] == org.urn.as_str() && a["leadType"] == t);
            if org.forbidden {
                assert!(source.is_none(), "{t} of {} is not synced", org.urn);
                continue;
            }
            let source = source.unwrap_or_else(|| panic!("{t} of {}: {accounts:?}", org.urn));
            assert_eq!(source["linkedInId"], format!("{}:{t}", org.id));
            assert_eq!(source["syncStatus"], "ACTIVE");
            let name = source["name"].as_str().unwrap();
            assert!(name.starts_with(&org.name), "{name} names {}", org.name);
        }
    }

    // Each lead's source says where it came from.
    let sources: Vec<String> = lead::Entity::find()
        .all(&env.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.source)
        .collect();
    let answer = env
        .app
        .query(
            Some(&env.sales),
            "{ leadsBySource { source count } }",
            json!({}),
        )
        .await;
    let by_source = answer["data"]["leadsBySource"].as_array().unwrap().clone();
    for source in [
        "LINKEDIN_COMPANY_PAGE",
        "LINKEDIN_PRODUCT_PAGE",
        "LINKEDIN_EVENT",
        "LINKEDIN_SPONSORED_CONTENT",
    ] {
        let count = by_source
            .iter()
            .find(|c| c["source"] == source)
            .map_or(0, |c| c["count"].as_i64().unwrap());
        let rows = sources.iter().filter(|s| *s == source).count() as i64;
        assert_eq!(count, rows, "{source} in {by_source:?}");
    }
    assert!(
        by_source
            .iter()
            .any(|c| c["source"] == "LINKEDIN_EVENT" && c["count"].as_i64().unwrap() > 0),
        "{by_source:?}"
    );

    // The submissions list tells the types apart.
    let answer = env
        .app
        .query(
            Some(&env.sales),
            "{ formSubmissions(first: 100, filter: { leadType: COMPANY }) { totalCount edges { node { linkedInId leadType } } } }",
            json!({}),
        )
        .await;
    let page = &answer["data"]["formSubmissions"];
    assert_eq!(
        page["totalCount"].as_u64().unwrap() as usize,
        ids_of(&stored, "COMPANY").len(),
        "{answer}"
    );
    assert!(
        page["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["node"]["leadType"] == "COMPANY")
    );

    // A lead notification per organization and organic type, to our webhook.
    let hook = format!("{}/webhooks/linkedin", env.base);
    let subscriptions = env.sandbox.lead_notification_subscriptions();
    for org in orgs.iter().filter(|o| !o.forbidden) {
        for t in ORGANIC {
            assert_eq!(
                subscriptions
                    .iter()
                    .filter(|s| s.owner == org.urn && s.lead_type == t && s.webhook == hook)
                    .count(),
                1,
                "{t} of {}: {subscriptions:?}",
                org.urn
            );
        }
    }

    // A second sync stores nothing again.
    let again = sync(&env, &profile).await;
    assert_eq!(again.status, "SUCCEEDED", "{:?}", again.error);
    assert_eq!(again.submissions_created, 0);
    assert_eq!(crate::organic::stored(&env).await.len(), stored.len());
}

#[tokio::test]
async fn an_organic_webhook_brings_an_event_lead_in_as_an_event_lead() {
    let env = organic_env().await;
    enable_organic(&env, 365).await;
    let _profile = authorized_profile(&env).await;
    let org = env
        .sandbox
        .organizations()
        .into_iter()
        .find(|o| !o.forbidden)
        .unwrap();
    let ids = env.sandbox.add_organic_leads(org.id, "EVENT", 1);
    let new_id = ids[0].clone();
    let mut submission = None;
    for _ in 0..200 {
        submission = form_submission::Entity::find()
            .filter(form_submission::Column::LinkedinId.eq(&new_id))
            .one(&env.app.db)
            .await
            .unwrap();
        if submission.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let submission = submission.expect("the webhook brought the event lead in without a sync");
    assert_eq!(submission.lead_type, "EVENT");
    let lead = lead::Entity::find_by_id(submission.lead_id.expect("a lead"))
        .one(&env.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lead.source, "LINKEDIN_EVENT");
}

#[tokio::test]
async fn each_lead_type_backfills_its_own_window() {
    let env = organic_env().await;
    let answer = set_lead_types(
        &env,
        json!([
            { "leadType": "COMPANY", "enabled": true, "backfillDays": 30 },
            { "leadType": "EVENT", "enabled": true },
        ]),
    )
    .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let before = Utc::now().timestamp_millis();
    let _profile = authorized_profile(&env).await;
    let after = Utc::now().timestamp_millis();
    let stored = stored(&env).await;
    for (t, days) in [("COMPANY", 30), ("EVENT", 90)] {
        let got = ids_of(&stored, t);
        // Every lead inside the window as it stood after the sync, none older than it was before.
        let inside = organic_truth(&env, t, after - days * DAY_MS);
        let reachable = organic_truth(&env, t, before - days * DAY_MS);
        assert!(
            got.is_superset(&inside),
            "{t}: every lead of the last {days} days"
        );
        assert!(
            got.is_subset(&reachable),
            "{t}: none older than {days} days"
        );
        let older = organic_truth(&env, t, 0).len() - reachable.len();
        assert!(
            older > 0,
            "the sandbox has {t} leads older than {days} days to leave"
        );
    }
    assert!(
        ids_of(&stored, "ORGANIZATION_PRODUCT").is_empty(),
        "a type left off stays off"
    );

    // Out-of-range windows are refused with a code, and change nothing.
    for days in [0, 366] {
        let answer = set_lead_types(
            &env,
            json!([{ "leadType": "COMPANY", "enabled": false, "backfillDays": days }]),
        )
        .await;
        assert_eq!(
            error_code(&answer).as_deref(),
            Some("BAD_USER_INPUT"),
            "{answer}"
        );
    }
    let answer = set_lead_types(&env, json!([])).await;
    let company = answer["data"]["updateIntegrationConfiguration"]["leadTypes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["leadType"] == "COMPANY")
        .unwrap()
        .clone();
    assert_eq!(
        company,
        json!({ "leadType": "COMPANY", "enabled": true, "backfillDays": 30 })
    );
}

#[tokio::test]
async fn turning_a_lead_type_off_unsubscribes_it_and_keeps_its_leads() {
    let env = organic_env().await;
    enable_organic(&env, 365).await;
    let profile = authorized_profile(&env).await;
    let events = ids_of(&stored(&env).await, "EVENT");
    assert!(!events.is_empty());

    let answer = set_lead_types(&env, json!([{ "leadType": "EVENT", "enabled": false }])).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let run = sync(&env, &profile).await;
    assert_eq!(run.status, "SUCCEEDED", "{:?}", run.error);

    let subscriptions = env.sandbox.lead_notification_subscriptions();
    assert!(
        subscriptions.iter().all(|s| s.lead_type != "EVENT"),
        "{subscriptions:?}"
    );
    assert!(
        subscriptions.iter().any(|s| s.lead_type == "COMPANY"),
        "the others stay subscribed"
    );
    assert!(
        accounts(&env)
            .await
            .iter()
            .all(|a| a["leadType"] != "EVENT")
    );
    assert_eq!(
        ids_of(&stored(&env).await, "EVENT"),
        events,
        "leads already synced stay"
    );
    // New event leads are not pulled any more.
    let org = env
        .sandbox
        .organizations()
        .into_iter()
        .find(|o| !o.forbidden)
        .unwrap();
    let new = env.sandbox.add_organic_leads(org.id, "EVENT", 2);
    let run = sync(&env, &profile).await;
    assert_eq!(run.status, "SUCCEEDED", "{:?}", run.error);
    let now_stored = ids_of(&stored(&env).await, "EVENT");
    assert!(new.iter().all(|id| !now_stored.contains(id)));
}
