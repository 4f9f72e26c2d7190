//! Retention: each rule off until set, a purge removes exactly what its dry run reported at the
//! same clock, in batches, leaving tombstones so a re-sync does not bring the data back.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use entity::{erased_response, form_submission, lead, sync_run};
use leadsync::{
    domain::Role,
    linkedin::sandbox::SandboxConfig,
    service::retention::{self, PurgeReport, RetentionPolicy},
};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

use crate::{
    common::error_code,
    connector::{Env, authorized_profile, env_with, settle, sync},
};

async fn synced() -> (Env, String) {
    let env = env_with(
        SandboxConfig {
            // Enough submissions over LinkedIn's year that several purge batches (500) run.
            leads_per_account: 400,
            ..Default::default()
        },
        |_| {},
    )
    .await;
    let profile = authorized_profile(&env).await;
    (env, profile)
}

async fn submissions(env: &Env) -> Vec<form_submission::Model> {
    form_submission::Entity::find()
        .all(&env.app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn old_submissions_go_exactly_as_the_dry_run_said_and_do_not_come_back() {
    let (env, profile) = synced().await;
    let db = &env.app.db;
    let before = submissions(&env).await;
    let now = Utc::now();
    let policy = RetentionPolicy {
        submissions_days: Some(90),
        ..Default::default()
    };
    let cutoff = now - Duration::days(90);
    let old: HashSet<String> = before
        .iter()
        .filter(|s| s.submitted_at < cutoff)
        .map(|s| s.linkedin_id.clone())
        .collect();
    assert!(old.len() > 500, "more than one batch: {}", old.len());
    assert!(old.len() < before.len(), "newer ones stay");

    let preview = retention::dry_run(db, policy, now).await.unwrap();
    assert_eq!(
        preview,
        PurgeReport {
            submissions: old.len() as u64,
            ..Default::default()
        }
    );
    let leads_before = lead::Entity::find().count(db).await.unwrap();
    let done = retention::purge(db, policy, now).await.unwrap();
    assert_eq!(done, preview, "the purge removed what its dry run said");

    let after = submissions(&env).await;
    assert_eq!(after.len(), before.len() - old.len());
    assert!(after.iter().all(|s| s.submitted_at >= cutoff));
    assert_eq!(
        lead::Entity::find().count(db).await.unwrap(),
        leads_before,
        "leads stay"
    );
    // Each lead counts what it has left; the list counters follow.
    for l in lead::Entity::find().all(db).await.unwrap() {
        let left = after.iter().filter(|s| s.lead_id == Some(l.id)).count();
        assert_eq!(l.submission_count as usize, left, "lead {}", l.id);
    }
    let answer = env
        .app
        .query(
            Some(&env.sales),
            "{ formSubmissions(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        answer["data"]["formSubmissions"]["totalCount"],
        after.len() as i64
    );
    let tombstones: HashSet<String> = erased_response::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.linkedin_response_id)
        .collect();
    assert!(tombstones.is_superset(&old));

    // A full re-read of LinkedIn's year brings none of them back.
    env.app
        .state
        .connector
        .reset(profile.parse().unwrap())
        .await
        .unwrap();
    settle(&env.app).await;
    let again = submissions(&env).await;
    assert_eq!(again.len(), after.len());
    assert!(again.iter().all(|s| !old.contains(&s.linkedin_id)));
    // Nothing is left for the rule at the same clock.
    assert!(
        retention::dry_run(db, policy, now)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn inactive_leads_and_old_records_go_with_their_submissions() {
    let (env, profile) = synced().await;
    let db = &env.app.db;
    sync(&env, &profile).await;
    let leads = lead::Entity::find().count(db).await.unwrap();
    let runs = sync_run::Entity::find().count(db).await.unwrap();
    let all = submissions(&env).await;
    // Submissions without a lead (test leads, by default) are the submissions rule's, not this one's.
    let of_leads = all.iter().filter(|s| s.lead_id.is_some()).count() as u64;
    let leadless = all.len() as u64 - of_leads;
    assert!(runs >= 2);

    // A month from now, with a ten-day rule, every lead is inactive.
    let later = Utc::now() + Duration::days(30);
    let policy = RetentionPolicy {
        inactive_leads_days: Some(10),
        operational_records_days: Some(7),
        ..Default::default()
    };
    let preview = retention::dry_run(db, policy, later).await.unwrap();
    assert_eq!(
        preview,
        PurgeReport {
            submissions: of_leads,
            leads,
            sync_runs: runs,
            webhook_notifications: 0,
        }
    );
    // Today nothing is that old.
    assert!(
        retention::dry_run(db, policy, Utc::now())
            .await
            .unwrap()
            .is_empty()
    );
    let done = retention::purge(db, policy, later).await.unwrap();
    assert_eq!(done, preview);
    assert_eq!(lead::Entity::find().count(db).await.unwrap(), 0);
    assert_eq!(
        form_submission::Entity::find().count(db).await.unwrap(),
        leadless
    );
    assert_eq!(sync_run::Entity::find().count(db).await.unwrap(), 0);
    let answer = env
        .app
        .query(
            Some(&env.sales),
            "{ leads(first: 1) { totalCount } leadsBySource { count } }",
            json!({}),
        )
        .await;
    assert_eq!(answer["data"]["leads"]["totalCount"], 0, "{answer}");
    assert_eq!(answer["data"]["leadsBySource"], json!([]));
}

#[tokio::test]
async fn rules_are_off_until_set_and_the_api_previews_runs_and_records_them() {
    let (env, _profile) = synced().await;
    let admin = env.app.token(&[Role::LeadgenAdministrator]).await;
    let system = env.app.token(&[Role::SystemAdministrator]).await;
    let answer = env
        .app
        .query(
            Some(&admin),
            "{ integrationConfiguration { retention { submissionsDays inactiveLeadsDays operationalRecordsDays } } retentionPreview { submissions leads syncRuns webhookNotifications } }",
            json!({}),
        )
        .await;
    assert_eq!(
        answer["data"]["integrationConfiguration"]["retention"],
        json!({ "submissionsDays": null, "inactiveLeadsDays": null, "operationalRecordsDays": null })
    );
    assert_eq!(
        answer["data"]["retentionPreview"],
        json!({ "submissions": 0, "leads": 0, "syncRuns": 0, "webhookNotifications": 0 })
    );
    let all = submissions(&env).await.len();
    assert_eq!(
        retention::run_configured(
            &env.app.db,
            Utc::now() + Duration::days(4000),
            leadsync::service::audit::Actor::System,
            "retentionPurge",
        )
        .await
        .unwrap(),
        PurgeReport::default(),
        "nothing goes while every rule is off, however late it is"
    );
    assert_eq!(submissions(&env).await.len(), all);

    const SET: &str = "mutation($r: RetentionPolicyInput!) { updateIntegrationConfiguration(input: { retention: $r }) { retention { submissionsDays inactiveLeadsDays operationalRecordsDays } } }";
    for bad in [0, 3651] {
        let answer = env
            .app
            .query(
                Some(&admin),
                SET,
                json!({ "r": { "submissionsDays": bad } }),
            )
            .await;
        assert_eq!(
            error_code(&answer).as_deref(),
            Some("BAD_USER_INPUT"),
            "{answer}"
        );
    }
    let answer = env
        .app
        .query(
            Some(&admin),
            SET,
            json!({ "r": { "submissionsDays": 120 } }),
        )
        .await;
    assert_eq!(
        answer["data"]["updateIntegrationConfiguration"]["retention"],
        json!({ "submissionsDays": 120, "inactiveLeadsDays": null, "operationalRecordsDays": null })
    );
    let preview = env
        .app
        .query(
            Some(&admin),
            "{ retentionPreview { submissions leads syncRuns webhookNotifications } }",
            json!({}),
        )
        .await["data"]["retentionPreview"]
        .clone();
    assert!(preview["submissions"].as_i64().unwrap() > 0, "{preview}");
    let done = env
        .app
        .query(
            Some(&admin),
            "mutation { purgeRetention { submissions leads syncRuns webhookNotifications } }",
            json!({}),
        )
        .await;
    assert_eq!(done["data"]["purgeRetention"], preview, "{done}");
    let trail = env
        .app
        .query(
            Some(&system),
            "{ auditLog(first: 1, filter: { operation: \"purgeRetention\" }) { edges { node { actor details } } } }",
            json!({}),
        )
        .await;
    let entry = &trail["data"]["auditLog"]["edges"][0]["node"];
    assert_eq!(entry["actor"], "USER");
    assert_eq!(entry["details"]["submissions"], preview["submissions"]);
    assert_eq!(entry["details"]["submissionsDays"], 120);

    // null turns the rule off again.
    let answer = env
        .app
        .query(
            Some(&admin),
            SET,
            json!({ "r": { "submissionsDays": null } }),
        )
        .await;
    assert_eq!(
        answer["data"]["updateIntegrationConfiguration"]["retention"]["submissionsDays"],
        json!(null)
    );
}
