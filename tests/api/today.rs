//! Today's LinkedIn: API versions live about a year, tokens end (60 days without programmatic
//! refresh, 365 days from consent with it), and leadsync says so before LinkedIn stops answering.

use chrono::{DateTime, Utc};
use leadsync::{
    domain::Role,
    linkedin::{
        sandbox::SandboxConfig,
        version::{self, ApiVersion, Standing},
    },
};
use serde_json::{Value, json};

use crate::connector::{
    Env, authorization_url, authorized_profile, env_with, follow_authorization, get, settle, sync,
};

const VERSION_QUERY: &str = "{ integrationConfiguration { linkedInApiVersion { version isDefault defaultCheckedOn expectedSunset daysToSunset standing warning newerVersions } } }";

async fn api_version(env: &Env) -> Value {
    let admin = env.app.token(&[Role::LeadgenAdministrator]).await;
    let answer = env.app.query(Some(&admin), VERSION_QUERY, json!({})).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"]["integrationConfiguration"]["linkedInApiVersion"].clone()
}

async fn warnings(env: &Env) -> Vec<String> {
    let answer = env
        .app
        .query(Some(&env.sales), "{ syncStatus { warnings } }", json!({}))
        .await;
    serde_json::from_value(answer["data"]["syncStatus"]["warnings"].clone()).expect("warnings")
}

fn small() -> SandboxConfig {
    SandboxConfig {
        leads_per_account: 5,
        ..Default::default()
    }
}

/// A version LinkedIn's policy has within 60 days of its sunset today.
fn version_near_its_sunset() -> ApiVersion {
    let today = Utc::now().date_naive();
    let mut v = ApiVersion::of_month(today);
    for _ in 0..24 {
        if v.standing(today) == Standing::SunsetSoon {
            return v;
        }
        v = ApiVersion::of_month(v.published() - chrono::Days::new(1));
    }
    panic!("no version is within 60 days of its sunset today");
}

#[tokio::test]
async fn the_default_version_is_accepted_and_reported_active() {
    let env = env_with(small(), |_| {}).await;
    let profile = authorized_profile(&env).await;
    let run = sync(&env, &profile).await;
    assert_eq!(run.status, "SUCCEEDED", "{:?}", run.error);

    let v = api_version(&env).await;
    assert_eq!(v["version"], version::DEFAULT.to_string());
    assert_eq!(v["isDefault"], true);
    assert_eq!(v["defaultCheckedOn"], version::DEFAULT_CHECKED_ON);
    let today = Utc::now().date_naive();
    let expected = version::DEFAULT.standing(today);
    assert_eq!(v["standing"], expected.as_str());
    assert_eq!(
        v["expectedSunset"],
        version::DEFAULT.sunset(version::SUPPORT_MONTHS).to_string()
    );
    if expected == Standing::Active {
        assert!(v["warning"].is_null(), "{v}");
        assert!(warnings(&env).await.is_empty());
    }

    let (status, metrics) = get(&env.app, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains(&format!(
            "leadsync_linkedin_api_version_info{{version=\"{}\",standing=\"{}\"}} 1",
            version::DEFAULT,
            expected.as_str()
        )),
        "{metrics}"
    );
    assert!(metrics.contains("leadsync_linkedin_api_version_days_to_sunset"));
}

#[tokio::test]
async fn a_version_near_its_sunset_still_syncs_and_is_warned_about_everywhere() {
    let near = version_near_its_sunset();
    let env = env_with(small(), |c| c.linkedin.linkedin_api_version = near).await;
    let profile = authorized_profile(&env).await;
    let run = sync(&env, &profile).await;
    assert_eq!(run.status, "SUCCEEDED", "LinkedIn still answers {near}");

    let v = api_version(&env).await;
    assert_eq!(v["standing"], "SUNSET_SOON");
    assert_eq!(v["isDefault"], false);
    let days = v["daysToSunset"].as_i64().unwrap();
    assert!((0..=version::WARN_DAYS).contains(&days), "{v}");
    let warning = v["warning"].as_str().expect("a warning").to_owned();
    let sunset = near.sunset(version::SUPPORT_MONTHS).to_string();
    assert!(
        warning.contains(&near.to_string()) && warning.contains(&sunset),
        "{warning}"
    );
    // The newer versions offered are ones LinkedIn accepts today.
    let newer: Vec<String> = serde_json::from_value(v["newerVersions"].clone()).unwrap();
    assert!(!newer.is_empty());
    let today = Utc::now().date_naive();
    assert!(newer.iter().all(|n| {
        leadsync::linkedin::sandbox::SandboxVersions::default().accepts(n, today)
            && n.parse::<ApiVersion>().unwrap() > near
    }));

    assert_eq!(warnings(&env).await, vec![warning]);
    let (_, metrics) = get(&env.app, "/metrics").await;
    assert!(
        metrics.contains(&format!(
            "leadsync_linkedin_api_version_info{{version=\"{near}\",standing=\"SUNSET_SOON\"}} 1"
        )),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_malformed_version_is_refused_at_startup_with_the_reason() {
    for bad in ["2026-03", "202613", "latest"] {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_leadsync"))
            .args(["migrate"])
            .env("LINKEDIN_API_VERSION", bad)
            .env("DATABASE_URL", "sqlite::memory:")
            .output()
            .await
            .unwrap();
        assert!(!output.status.success(), "{bad} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("LINKEDIN_API_VERSION") || stderr.contains("--linkedin-api-version"),
            "{stderr}"
        );
        assert!(
            stderr.contains("YYYYMM") || stderr.contains("first versioned"),
            "{stderr}"
        );
    }
}

async fn profile_health(env: &Env, id: &str) -> Value {
    let answer = env
        .app
        .query(
            Some(&env.sales),
            "{ linkedInUserProfiles { id authorizationStatus tokenExpiresAt refreshTokenExpiresAt reauthorizeBy hasRefreshToken reauthorizationWarning } }",
            json!({}),
        )
        .await;
    answer["data"]["linkedInUserProfiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .cloned()
        .expect("the profile")
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn without_programmatic_refresh_the_profile_is_due_in_60_days_and_warned_before() {
    let env = env_with(
        SandboxConfig {
            programmatic_refresh: false,
            // Ten days left: inside the 14-day warning.
            access_token_ttl: 10 * 86_400,
            ..small()
        },
        |_| {},
    )
    .await;
    let profile = authorized_profile(&env).await;
    let p = profile_health(&env, &profile).await;
    assert_eq!(p["authorizationStatus"], "AUTHORIZED");
    assert_eq!(p["hasRefreshToken"], false);
    assert_eq!(p["reauthorizeBy"], p["tokenExpiresAt"]);
    let due = time(&p["reauthorizeBy"]);
    assert!((due - Utc::now()).num_days() <= 10);
    let warning = p["reauthorizationWarning"].as_str().expect("a warning");
    assert!(
        warning.contains("no refresh token")
            && warning.contains(&due.format("%Y-%m-%d").to_string()),
        "{warning}"
    );
    assert!(warnings(&env).await.iter().any(|w| w == warning));

    // Authorizing again is one call that gives the LinkedIn URL; the new grant moves the date.
    let callback = follow_authorization(&authorization_url(&env, &profile).await).await;
    assert_eq!(get(&env.app, &callback).await.0, 200);
    settle(&env.app).await;
    let again = profile_health(&env, &profile).await;
    assert!(time(&again["reauthorizeBy"]) > due);

    // An access token that LinkedIn ends, with no refresh token to fall back on, expires the
    // profile, and the warning says to authorize again.
    env.sandbox.expire_access_tokens();
    let run = sync(&env, &profile).await;
    assert_eq!(run.status, "FAILED");
    let expired = profile_health(&env, &profile).await;
    assert_eq!(expired["authorizationStatus"], "EXPIRED");
    assert!(
        expired["reauthorizationWarning"]
            .as_str()
            .is_some_and(|w| w.contains("authorize it again")),
        "{expired}"
    );
}

#[tokio::test]
async fn with_refresh_tokens_the_365_days_from_consent_are_tracked_and_not_extended() {
    let env = env_with(
        SandboxConfig {
            // A consent given long ago: a week of it left.
            refresh_token_ttl: 7 * 86_400,
            ..small()
        },
        |_| {},
    )
    .await;
    let profile = authorized_profile(&env).await;
    let p = profile_health(&env, &profile).await;
    assert_eq!(p["hasRefreshToken"], true);
    assert_eq!(p["reauthorizeBy"], p["refreshTokenExpiresAt"]);
    let warning = p["reauthorizationWarning"].as_str().expect("a warning");
    assert!(
        warning.contains("365 days after the first consent"),
        "{warning}"
    );

    // A refresh gives a new access token but not more time.
    env.sandbox.expire_access_tokens();
    assert_eq!(sync(&env, &profile).await.status, "SUCCEEDED");
    let after = profile_health(&env, &profile).await;
    assert_ne!(after["tokenExpiresAt"], p["tokenExpiresAt"]);
    let drift = (time(&after["reauthorizeBy"]) - time(&p["reauthorizeBy"]))
        .num_seconds()
        .abs();
    assert!(drift <= 2, "refreshing moved the deadline by {drift} s");
}

#[tokio::test]
async fn a_profile_far_from_its_deadline_has_no_warning() {
    let env = env_with(small(), |_| {}).await;
    let profile = authorized_profile(&env).await;
    let p = profile_health(&env, &profile).await;
    assert!(p["reauthorizationWarning"].is_null(), "{p}");
    assert!(time(&p["reauthorizeBy"]) > Utc::now() + chrono::Duration::days(300));
}

async fn profile_validated_at(env: &Env) -> Value {
    env.app
        .query(
            Some(&env.sales),
            "{ linkedInUserProfiles { webhookLastValidatedAt } syncStatus { webhookLastValidatedAt } }",
            json!({}),
        )
        .await["data"]
        .clone()
}

#[tokio::test]
async fn linkedins_webhook_validations_are_recorded_and_shown() {
    let env = env_with(small(), |_| {}).await;
    authorized_profile(&env).await;
    let before = profile_validated_at(&env).await;
    assert!(before["syncStatus"]["webhookLastValidatedAt"].is_null());
    assert!(before["linkedInUserProfiles"][0]["webhookLastValidatedAt"].is_null());

    let hook = format!("{}/webhooks/linkedin", env.base);
    let start = Utc::now();
    assert!(env.sandbox.validate_webhook(&hook).await.unwrap());
    let after = profile_validated_at(&env).await;
    let at = time(&after["syncStatus"]["webhookLastValidatedAt"]);
    assert!(at >= start - chrono::Duration::seconds(1) && at <= Utc::now());
    assert_eq!(
        after["linkedInUserProfiles"][0]["webhookLastValidatedAt"],
        after["syncStatus"]["webhookLastValidatedAt"]
    );
    assert!(
        warnings(&env).await.is_empty(),
        "a fresh validation is fine"
    );

    // LinkedIn stopped validating hours ago: it blocks a webhook after 3 failures.
    use sea_orm::{EntityTrait, Set};
    entity::webhook_validation::Entity::delete_many()
        .exec(&env.app.db)
        .await
        .unwrap();
    entity::webhook_validation::Entity::insert(entity::webhook_validation::ActiveModel {
        validated_at: Set(Utc::now() - chrono::Duration::hours(7)),
        ..Default::default()
    })
    .exec(&env.app.db)
    .await
    .unwrap();
    let stale = warnings(&env).await;
    assert!(
        stale
            .iter()
            .any(|w| w.contains("last validated the lead webhook")),
        "{stale:?}"
    );
}

#[tokio::test]
async fn leads_the_webhook_did_not_announce_are_warned_about() {
    let env = env_with(small(), |_| {}).await;
    authorized_profile(&env).await;
    let hook = format!("{}/webhooks/linkedin", env.base);
    assert!(env.sandbox.validate_webhook(&hook).await.unwrap());
    // LinkedIn has validated us for a while (it delivers only to validated webhooks, so only
    // leads submitted since then count).
    {
        use sea_orm::{EntityTrait, Set};
        entity::webhook_validation::Entity::insert(entity::webhook_validation::ActiveModel {
            validated_at: Set(Utc::now() - chrono::Duration::hours(1)),
            ..Default::default()
        })
        .exec(&env.app.db)
        .await
        .unwrap();
    }

    // A lead the webhook announces is not a concern.
    let account = env
        .sandbox
        .accounts()
        .into_iter()
        .find(|a| !a.forbidden)
        .unwrap();
    let announced = env.sandbox.add_leads(&account.id, 1)[0].clone();
    let mut stored = false;
    for _ in 0..200 {
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        stored = entity::form_submission::Entity::find()
            .filter(entity::form_submission::Column::LinkedinId.eq(&announced))
            .count(&env.app.db)
            .await
            .unwrap()
            > 0;
        if stored {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(stored, "the webhook brought the lead in");
    assert!(warnings(&env).await.is_empty());

    // A lead submitted half an hour ago that only now reaches leadsync, with no notification:
    // what a blocked webhook looks like.
    let mut late = env.sandbox.responses(&account.id)[0].clone();
    late["id"] = json!("late-lead-1");
    late["testLead"] = json!(false);
    late["submittedAt"] = json!((Utc::now() - chrono::Duration::minutes(30)).timestamp_millis());
    let s2s = env.app.token(&[Role::S2sInbound]).await;
    let ingested = env
        .app
        .query(
            Some(&s2s),
            "mutation($input: IngestLinkedInLeadsInput!) { ingestLinkedInLeads(input: $input) { submissionsCreated } }",
            json!({"input": {"forms": [], "responses": [late]}}),
        )
        .await;
    assert_eq!(
        ingested["data"]["ingestLinkedInLeads"]["submissionsCreated"], 1,
        "{ingested}"
    );
    let now = warnings(&env).await;
    assert!(
        now.iter()
            .any(|w| w.starts_with("1 lead(s)") && w.contains("did not announce")),
        "{now:?}"
    );
}
