//! The LinkedIn connector against the LinkedIn sandbox over real HTTP: OAuth, discovery, sync,
//! faults, token health and webhooks.

use std::{collections::HashSet, time::Duration};

use axum::{body::Body, http::Request};
use entity::{form_submission, lead, linkedin_account, linkedin_profile};
use http_body_util::BodyExt;
use leadsync::{
    domain::Role,
    linkedin::sandbox::{FaultKind, Faults, Sandbox, SandboxConfig, WebhookAction, WebhookMode},
    service::connector::Trigger,
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Expr};
use serde_json::json;
use tower::ServiceExt;

use crate::common::{TestApp, error_code};

pub(crate) struct Env {
    pub(crate) app: TestApp,
    pub(crate) sandbox: Sandbox,
    /// Our server on a real port (LinkedIn's webhooks reach it there).
    pub(crate) base: String,
    pub(crate) sales: String,
}

pub(crate) async fn env_with(
    sandbox_config: SandboxConfig,
    tweak: impl FnOnce(&mut leadsync::Config),
) -> Env {
    let sandbox = Sandbox::new(sandbox_config);
    sandbox.start("127.0.0.1:0").await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let c = sandbox.config().clone();
    let (auth, token, api) = (sandbox.auth_url(), sandbox.token_url(), sandbox.api_url());
    let public = base.clone();
    let app = TestApp::with_config(move |config| {
        config.public_url = Some(public);
        let l = &mut config.linkedin;
        l.linkedin_client_id = c.client_id.clone();
        l.linkedin_client_secret = Some(leadsync::config::Secret::new(c.client_secret.clone()));
        l.linkedin_auth_url = auth;
        l.linkedin_token_url = token;
        l.linkedin_api_url = api;
        l.linkedin_retry_base_ms = 1;
        l.linkedin_max_attempts = 10;
        l.linkedin_timeout_secs = 5;
        tweak(config);
    })
    .await;
    let router = leadsync::app(app.state.clone());
    tokio::spawn(async move {
        axum::serve(listener, router).await.ok();
    });
    let sales = app.token(&[Role::LeadgenSalesperson]).await;
    Env {
        app,
        sandbox,
        base,
        sales,
    }
}

pub(crate) async fn env() -> Env {
    env_with(
        SandboxConfig {
            leads_per_account: 60,
            ..Default::default()
        },
        |_| {},
    )
    .await
}

/// Sends a GET through our router; returns status and body text.
pub(crate) async fn get(app: &TestApp, uri: &str) -> (u16, String) {
    let response = app
        .router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8_lossy(&bytes).into_owned();
    if uri.starts_with("/metrics") {
        crate::pii_watch::scan("/metrics", &body);
    }
    (status, body)
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Opens the authorization URL at the sandbox (as a browser would) and returns the path and
/// query LinkedIn redirects back to.
pub(crate) async fn follow_authorization(url: &str) -> String {
    let response = no_redirects().get(url).send().await.unwrap();
    assert_eq!(
        response.status().as_u16(),
        302,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let parsed = url::Url::parse(&location).unwrap();
    format!("{}?{}", parsed.path(), parsed.query().unwrap_or_default())
}

async fn create_profile(env: &Env) -> String {
    env.app
        .op_ok(
            &env.sales,
            "CreateLinkedInUserProfile",
            json!({"input": {"name": "Sam's LinkedIn"}}),
        )
        .await["createLinkedInUserProfile"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) async fn authorization_url(env: &Env, profile: &str) -> String {
    env.app
        .op_ok(
            &env.sales,
            "AuthorizeLinkedInUserProfile",
            json!({"id": profile}),
        )
        .await["authorizeLinkedInUserProfile"]["authorizationUrl"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Waits until every sync run has finished.
pub(crate) async fn settle(app: &TestApp) {
    for _ in 0..600 {
        let open = entity::sync_run::Entity::find()
            .filter(entity::sync_run::Column::Status.is_in(["QUEUED", "RUNNING"]))
            .count(&app.db)
            .await
            .unwrap();
        if open == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("sync runs did not finish");
}

/// Authorizes a new profile through the full OAuth round trip; waits for its first sync.
pub(crate) async fn authorized_profile(env: &Env) -> String {
    let profile = create_profile(env).await;
    let url = authorization_url(env, &profile).await;
    let callback = follow_authorization(&url).await;
    let (status, page) = get(&env.app, &callback).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("LinkedIn connected"), "{page}");
    assert_returns_to_profile(&page, &profile);
    settle(&env.app).await;
    profile
}

/// The callback page of a successful authorization takes the browser to the profile's page in
/// the console at once, and links there.
fn assert_returns_to_profile(page: &str, profile: &str) {
    let target = format!("/console/#/profiles/{profile}");
    assert!(
        page.contains(&format!(
            "<meta http-equiv=\"refresh\" content=\"0; url={target}\">"
        )),
        "{page}"
    );
    assert!(
        page.contains(&format!("<a href=\"{target}\">Back to the profile</a>")),
        "{page}"
    );
}

/// The path and query of a redirect's `Location` (LinkedIn's redirect back to leadsync).
fn location_path(response: &reqwest::Response) -> String {
    assert_eq!(response.status().as_u16(), 302);
    let location = response.headers()["location"].to_str().unwrap();
    let parsed = url::Url::parse(location).unwrap();
    format!("{}?{}", parsed.path(), parsed.query().unwrap_or_default())
}

/// Opens the authorization URL at an interactive sandbox and signs in (after an empty password
/// first); returns the permissions page's request id.
async fn sign_in_at_linkedin(env: &Env, url: &str) -> String {
    let request_id = |page: &str| {
        let marker = "name=\"request_id\" value=\"";
        let start = page.find(marker).unwrap_or_else(|| panic!("{page}")) + marker.len();
        page[start..start + page[start..].find('"').unwrap()].to_owned()
    };
    let browser = no_redirects();
    let page = browser.get(url).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("<h1>Sign in</h1>"), "{page}");
    let id = request_id(&page);
    let login = env
        .sandbox
        .auth_url()
        .replace("/authorization", "/login-submit");
    let submit = |password: &'static str| {
        browser
            .post(&login)
            .form(&[
                ("request_id", id.as_str()),
                ("session_key", "someone@example.com"),
                ("session_password", password),
            ])
            .send()
    };
    let page = submit("").await.unwrap().text().await.unwrap();
    assert!(page.contains("Please enter a password."), "{page}");
    let page = submit("correct horse").await.unwrap().text().await.unwrap();
    assert!(page.contains("would like to:"), "{page}");
    for scope in leadsync::linkedin::client::SCOPES {
        assert!(page.contains(&format!("data-scope=\"{scope}\"")), "{page}");
    }
    assert!(page.contains(">Allow</button>") && page.contains(">Cancel</button>"));
    request_id(&page)
}

/// Presses Allow or Cancel on the permissions page; returns where LinkedIn sends the browser.
async fn decide_at_linkedin(env: &Env, id: &str, action: &str) -> String {
    let decision = env
        .sandbox
        .auth_url()
        .replace("/authorization", "/authorization-decision");
    let response = no_redirects()
        .post(decision)
        .form(&[("request_id", id), ("action", action)])
        .send()
        .await
        .unwrap();
    location_path(&response)
}

async fn profile_row(app: &TestApp, id: &str) -> linkedin_profile::Model {
    linkedin_profile::Entity::find_by_id(id.parse::<i64>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

/// The LinkedIn ids the sandbox holds for the accounts the member may read.
fn truth(sandbox: &Sandbox) -> HashSet<String> {
    sandbox
        .accounts()
        .iter()
        .filter(|a| !a.forbidden)
        .flat_map(|a| sandbox.responses(&a.id))
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn stored(app: &TestApp) -> Vec<String> {
    form_submission::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.linkedin_id)
        .collect()
}

/// Stored submissions are exactly the sandbox's responses, once each.
async fn assert_equal_to_truth(env: &Env) {
    let ids = stored(&env.app).await;
    let unique: HashSet<String> = ids.iter().cloned().collect();
    assert_eq!(unique.len(), ids.len(), "a submission was stored twice");
    assert_eq!(unique, truth(&env.sandbox));
}

pub(crate) async fn sync(env: &Env, profile: &str) -> entity::sync_run::Model {
    env.app
        .state
        .connector
        .sync_now(profile.parse().unwrap(), Trigger::Manual)
        .await
        .unwrap()
}

#[tokio::test]
async fn authorize_discover_and_sync_equal_linkedin() {
    let env = env().await;
    let profile = authorized_profile(&env).await;

    let row = profile_row(&env.app, &profile).await;
    assert_eq!(row.authorization_status, "AUTHORIZED");
    assert!(
        row.access_token_enc
            .as_deref()
            .is_some_and(|t| t.starts_with("v1:")),
        "stored encrypted"
    );
    assert!(row.refresh_token_expires_at.is_some());

    let profiles = env
        .app
        .op_ok(&env.sales, "LinkedInUserProfiles", json!({}))
        .await;
    let p = &profiles["linkedInUserProfiles"][0];
    assert_eq!(p["authorizationStatus"], "AUTHORIZED");
    assert_eq!(p["syncStatus"], "ACTIVE");
    assert!(p["tokenExpiresAt"].is_string() && p["lastSyncAt"].is_string());
    let accounts = p["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), env.sandbox.accounts().len());
    let forbidden: Vec<&str> = accounts
        .iter()
        .filter(|a| a["syncStatus"] == "FORBIDDEN")
        .map(|a| a["linkedInId"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = env
        .sandbox
        .accounts()
        .into_iter()
        .filter(|a| a.forbidden)
        .map(|a| a.id)
        .collect();
    assert_eq!(forbidden, expected);
    assert!(
        accounts
            .iter()
            .filter(|a| a["syncStatus"] != "FORBIDDEN")
            .all(|a| a["syncStatus"] == "ACTIVE")
    );

    // The first sync backfilled exactly what LinkedIn holds for the last 365 days (the count the
    // demo's progress bar and the benchmark expect, forbidden account left out).
    assert_equal_to_truth(&env).await;
    assert_eq!(
        stored(&env.app).await.len(),
        env.sandbox.readable_response_count()
    );
    let campaigns = env.app.op_ok(&env.sales, "Campaigns", json!({})).await;
    assert!(
        campaigns["linkedInCampaigns"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| !c["name"].as_str().unwrap().starts_with("Campaign "))
    );
    let forms = env.app.op_ok(&env.sales, "Forms", json!({})).await;
    assert!(!forms["linkedInForms"].as_array().unwrap().is_empty());

    // Leads: one per distinct (case-insensitive) email among non-test responses.
    let emails: HashSet<String> = env
        .sandbox
        .accounts()
        .iter()
        .filter(|a| !a.forbidden)
        .flat_map(|a| {
            let forms = env.sandbox.forms(&a.id);
            env.sandbox
                .responses(&a.id)
                .into_iter()
                .filter_map(move |r| {
                    if r["testLead"] == true {
                        return None;
                    }
                    let form_id = leadsync::linkedin::model::parse_response(&r)
                        .unwrap()
                        .form_id;
                    let form = forms
                        .iter()
                        .find(|f| f["id"].as_i64() == form_id.parse::<i64>().ok())?;
                    let email_q = form["content"]["questions"]
                        .as_array()?
                        .iter()
                        .find(|q| q["predefinedField"] == "EMAIL")?;
                    let answer = r["formResponse"]["answers"]
                        .as_array()?
                        .iter()
                        .find(|a| a["questionId"] == email_q["questionId"])?;
                    Some(
                        answer["answerDetails"]["textQuestionAnswer"]["answer"]
                            .as_str()?
                            .trim()
                            .to_lowercase(),
                    )
                })
        })
        .collect();
    assert_eq!(
        lead::Entity::find().count(&env.app.db).await.unwrap() as usize,
        emails.len()
    );

    // A second sync adds nothing.
    let again = sync(&env, &profile).await;
    assert_eq!(again.status, "SUCCEEDED", "{:?}", again.error);
    assert_eq!(again.submissions_created, 0);
    assert_equal_to_truth(&env).await;

    // New leads arrive on demand through the contract's SyncSubmissions.
    let account = env
        .sandbox
        .accounts()
        .into_iter()
        .find(|a| !a.forbidden)
        .unwrap();
    let new_ids = env.sandbox.add_leads(&account.id, 3);
    let run = env
        .app
        .op_ok(&env.sales, "SyncSubmissions", json!({"profileId": profile}))
        .await;
    let run_id = run["syncSubmissions"]["id"].clone();
    settle(&env.app).await;
    let done = env
        .app
        .op_ok(&env.sales, "SyncRun", json!({"id": run_id}))
        .await;
    assert_eq!(done["syncRun"]["status"], "SUCCEEDED", "{done}");
    let ids = stored(&env.app).await;
    assert!(new_ids.iter().all(|id| ids.contains(id)));
    assert_equal_to_truth(&env).await;
}

#[tokio::test]
async fn tampered_replayed_and_refused_authorizations_leave_the_profile_unauthorized() {
    let env = env().await;
    let profile = create_profile(&env).await;
    let url = authorization_url(&env, &profile).await;
    let callback = follow_authorization(&url).await;

    let tampered = callback.replace("state=", "state=x");
    let (status, page) = get(&env.app, &tampered).await;
    assert_eq!(status, 400);
    assert!(page.contains("unknown"), "{page}");
    assert_eq!(
        profile_row(&env.app, &profile).await.authorization_status,
        "NOT_AUTHORIZED"
    );

    let (status, _) = get(&env.app, &callback).await;
    assert_eq!(status, 200);
    settle(&env.app).await;
    let (status, page) = get(&env.app, &callback).await;
    assert_eq!(status, 400, "a replayed state is refused");
    assert!(page.contains("already used"), "{page}");
    let row = profile_row(&env.app, &profile).await;
    assert_eq!(
        row.authorization_status, "AUTHORIZED",
        "the first authorization stands"
    );
    assert!(row.status_details.unwrap().contains("already used"));

    let other = create_profile(&env).await;
    env.sandbox.refuse_authorizations(true);
    let callback = follow_authorization(&authorization_url(&env, &other).await).await;
    assert!(callback.contains("error=user_cancelled_authorize"));
    let (status, page) = get(&env.app, &callback).await;
    assert_eq!(status, 400);
    assert!(page.contains("refused"), "{page}");
    let row = profile_row(&env.app, &other).await;
    assert_eq!(row.authorization_status, "NOT_AUTHORIZED");
    assert!(
        row.status_details
            .unwrap()
            .contains("user_cancelled_authorize")
    );
    assert!(row.access_token_enc.is_none());
}

#[tokio::test]
async fn interactive_sign_in_cancel_then_allow_return_to_the_profile() {
    let env = env_with(
        SandboxConfig {
            leads_per_account: 5,
            interactive_sign_in: true,
            ..Default::default()
        },
        |_| {},
    )
    .await;
    let profile = create_profile(&env).await;

    // Cancel on LinkedIn's permissions page: the profile shows the refusal.
    let url = authorization_url(&env, &profile).await;
    let state = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let id = sign_in_at_linkedin(&env, &url).await;
    let callback = decide_at_linkedin(&env, &id, "cancel").await;
    assert!(
        callback.starts_with("/oauth/linkedin/callback?"),
        "{callback}"
    );
    assert!(
        callback.contains("error=user_cancelled_authorize"),
        "{callback}"
    );
    assert!(
        callback.contains(&format!(
            "state={}",
            url::form_urlencoded::byte_serialize(state.as_bytes()).collect::<String>()
        )),
        "{callback}"
    );
    let (status, page) = get(&env.app, &callback).await;
    assert_eq!(status, 400);
    assert!(page.contains("refused"), "{page}");
    assert!(!page.contains("http-equiv=\"refresh\""), "{page}");
    assert!(
        page.contains(&format!(
            "<a href=\"/console/#/profiles/{profile}\">Back to the profile</a>"
        )),
        "{page}"
    );
    let row = profile_row(&env.app, &profile).await;
    assert_eq!(row.authorization_status, "NOT_AUTHORIZED");
    assert!(
        row.status_details
            .unwrap()
            .contains("user_cancelled_authorize")
    );
    // What the console shows: the profile through the API, with the refusal in its details.
    let shown = env
        .app
        .op_ok(&env.sales, "LinkedInUserProfiles", json!({}))
        .await;
    let shown = shown["linkedInUserProfiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == profile.as_str())
        .cloned()
        .unwrap();
    assert_eq!(shown["authorizationStatus"], "NOT_AUTHORIZED", "{shown}");
    assert!(
        shown["statusDetails"]
            .as_str()
            .unwrap()
            .contains("user_cancelled_authorize"),
        "{shown}"
    );

    // Allow: the code comes back, leadsync exchanges it, and the page returns to the profile.
    let url = authorization_url(&env, &profile).await;
    let id = sign_in_at_linkedin(&env, &url).await;
    let callback = decide_at_linkedin(&env, &id, "allow").await;
    assert!(callback.contains("code="), "{callback}");
    let (status, page) = get(&env.app, &callback).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("LinkedIn connected"), "{page}");
    assert_returns_to_profile(&page, &profile);
    settle(&env.app).await;
    let row = profile_row(&env.app, &profile).await;
    assert_eq!(row.authorization_status, "AUTHORIZED");
    assert!(row.access_token_enc.is_some());
    let stats = env.sandbox.stats();
    assert_eq!((stats.sign_in_pages, stats.permission_pages), (4, 2));
}

#[tokio::test]
async fn the_callback_returns_to_the_authorized_profile_and_to_the_console_when_unknown() {
    let env = env().await;
    let first = create_profile(&env).await;
    let second = create_profile(&env).await;
    // The second profile's authorization lands on the second profile's page, not the first's.
    let callback = follow_authorization(&authorization_url(&env, &second).await).await;
    let (status, page) = get(&env.app, &callback).await;
    assert_eq!(status, 200, "{page}");
    assert_returns_to_profile(&page, &second);
    assert!(!page.contains(&format!("/profiles/{first}\"")), "{page}");
    settle(&env.app).await;

    // An unknown or missing state: no profile to go back to, so the console.
    for uri in [
        "/oauth/linkedin/callback?state=nobody&code=x".to_owned(),
        "/oauth/linkedin/callback?code=x".to_owned(),
    ] {
        let (status, page) = get(&env.app, &uri).await;
        assert_eq!(status, 400, "{page}");
        assert!(page.contains("<a href=\"/console/\">"), "{page}");
        assert!(!page.contains("http-equiv"), "{page}");
    }
}

#[tokio::test]
async fn throttling_outages_and_truncated_bodies_still_end_exactly_equal() {
    let env = env().await;
    let profile = create_profile(&env).await;
    // Faults from the start: discovery and the backfill both go through them.
    env.sandbox.set_faults(Faults {
        rate: 0.3,
        kinds: vec![
            FaultKind::Throttle,
            FaultKind::Unavailable,
            FaultKind::ServerError,
            FaultKind::Truncated,
        ],
        seed: 7,
    });
    let callback = follow_authorization(&authorization_url(&env, &profile).await).await;
    assert_eq!(get(&env.app, &callback).await.0, 200);
    settle(&env.app).await;
    let runs = entity::sync_run::Entity::find()
        .all(&env.app.db)
        .await
        .unwrap();
    assert!(runs.iter().all(|r| r.status == "SUCCEEDED"), "{runs:?}");
    assert!(env.sandbox.stats().faults_injected > 0);
    assert_equal_to_truth(&env).await;
}

#[tokio::test]
async fn a_sync_killed_midway_resumes_without_loss_or_doubles() {
    let (env, profile, all) = unsynced_profile(500).await;
    // Slow LinkedIn down, start a sync, and kill it once part of the leads are stored.
    let task = slow_sync_under_way(&env, &profile).await;
    task.abort();
    let _ = task.await;
    let kept = stored(&env.app).await.len();
    assert!(kept < all, "killed mid-way: {kept} of {all}");
    assert_cursors_within_stored(&env).await;

    // The dead run's lease expires; the next sync resumes from the cursor.
    linkedin_account::Entity::update_many()
        .col_expr(
            linkedin_account::Column::LeaseExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&env.app.db)
        .await
        .unwrap();
    assert_next_sync_resumes(&env, &profile, all, kept).await;
}

/// LinkedIn failing for good in the middle of a sync (every retry exhausted) fails the run; the
/// pages stored before the failure stay, with their cursor, and the next run resumes from there.
#[tokio::test]
async fn a_sync_linkedin_cuts_off_keeps_what_it_stored_and_resumes() {
    let (env, profile, all) = unsynced_profile(1_000).await;
    let task = slow_sync_under_way(&env, &profile).await;
    env.sandbox.set_faults(Faults {
        rate: 1.0,
        kinds: vec![FaultKind::ServerError],
        seed: 2,
    });
    let run = task.await.unwrap().unwrap();
    assert_eq!(run.status, "FAILED", "{run:?}");
    let kept = stored(&env.app).await;
    let unique: HashSet<&String> = kept.iter().collect();
    assert!(kept.len() < all, "cut off mid-way: {} of {all}", kept.len());
    assert_eq!(unique.len(), kept.len(), "a submission was stored twice");
    assert_cursors_within_stored(&env).await;
    assert_next_sync_resumes(&env, &profile, all, kept.len()).await;
}

/// A profile authorized and synced once, then with no submissions, no leads and no cursors, as
/// if it had never synced; returns it and how many responses LinkedIn holds for it.
async fn unsynced_profile(leads_per_account: usize) -> (Env, String, usize) {
    let env = env_with(
        SandboxConfig {
            leads_per_account,
            ..Default::default()
        },
        |_| {},
    )
    .await;
    let profile = authorized_profile(&env).await;
    let all = truth(&env.sandbox).len();
    let forget = || async {
        form_submission::Entity::delete_many()
            .exec(&env.app.db)
            .await
            .unwrap();
        lead::Entity::delete_many().exec(&env.app.db).await.unwrap();
    };
    forget().await;
    let id: i64 = profile.parse().unwrap();
    env.app.state.connector.reset(id).await.unwrap();
    settle(&env.app).await;
    forget().await;
    linkedin_account::Entity::update_many()
        .col_expr(
            linkedin_account::Column::SyncCursorMs,
            Expr::value(Option::<i64>::None),
        )
        .exec(&env.app.db)
        .await
        .unwrap();
    (env, profile, all)
}

/// Slows LinkedIn down (30 ms a call) and starts a sync; returns once part of it is stored.
async fn slow_sync_under_way(
    env: &Env,
    profile: &str,
) -> tokio::task::JoinHandle<leadsync::error::AppResult<entity::sync_run::Model>> {
    env.sandbox.set_faults(Faults {
        rate: 1.0,
        kinds: vec![FaultKind::Slow(Duration::from_millis(30))],
        seed: 1,
    });
    let connector = env.app.state.connector.clone();
    let id: i64 = profile.parse().unwrap();
    let task = tokio::spawn(async move { connector.sync_now(id, Trigger::Manual).await });
    for _ in 0..400 {
        if !stored(&env.app).await.is_empty() {
            return task;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("nothing was stored in 4 s");
}

/// Whatever was committed is covered by the cursor, and nothing beyond it.
async fn assert_cursors_within_stored(env: &Env) {
    let newest = form_submission::Entity::find()
        .all(&env.app.db)
        .await
        .unwrap()
        .iter()
        .map(|s| s.submitted_at.timestamp_millis())
        .max()
        .unwrap();
    for account in linkedin_account::Entity::find()
        .all(&env.app.db)
        .await
        .unwrap()
    {
        assert!(
            account.sync_cursor_ms.is_none_or(|c| c <= newest),
            "the cursor never runs ahead of stored leads"
        );
    }
}

/// With LinkedIn healthy again, the next sync fetches what the cursor left (not everything again)
/// and ends exactly equal to LinkedIn.
async fn assert_next_sync_resumes(env: &Env, profile: &str, all: usize, kept: usize) {
    env.sandbox.set_faults(Faults::default());
    let run = sync(env, profile).await;
    assert_eq!(run.status, "SUCCEEDED", "{:?}", run.error);
    assert!(
        (run.submissions_fetched as usize) < all + kept,
        "it resumed rather than starting over"
    );
    assert_equal_to_truth(env).await;
}

#[tokio::test]
async fn expired_tokens_refresh_and_revoked_ones_expire_the_profile() {
    let env = env().await;
    let profile = authorized_profile(&env).await;
    let token_calls = env.sandbox.stats().token_calls;
    env.sandbox.expire_access_tokens();
    let run = sync(&env, &profile).await;
    assert_eq!(run.status, "SUCCEEDED", "{:?}", run.error);
    assert!(
        env.sandbox.stats().token_calls > token_calls,
        "the token was refreshed"
    );
    assert_eq!(
        profile_row(&env.app, &profile).await.authorization_status,
        "AUTHORIZED"
    );

    env.sandbox.revoke_tokens();
    // Make the stored token look stale so the next sync must refresh, which is refused.
    let run = sync(&env, &profile).await;
    assert_eq!(run.status, "FAILED");
    let row = profile_row(&env.app, &profile).await;
    assert_eq!(row.authorization_status, "EXPIRED");
    assert!(row.status_details.unwrap().contains("authorize again"));
    // An expired profile stops syncing until it is authorized again.
    let run = sync(&env, &profile).await;
    assert_eq!(run.status, "FAILED");
    assert!(run.error.unwrap().contains("expired"));
}

#[tokio::test]
async fn an_inactive_api_version_is_reported_by_name() {
    let env = env_with(
        SandboxConfig {
            leads_per_account: 5,
            ..Default::default()
        },
        |c| {
            // The default before LinkedIn's policy was followed: retired since 2025.
            c.linkedin.linkedin_api_version = "202405".parse().unwrap();
        },
    )
    .await;
    let profile = create_profile(&env).await;
    let callback = follow_authorization(&authorization_url(&env, &profile).await).await;
    assert_eq!(get(&env.app, &callback).await.0, 200);
    settle(&env.app).await;
    let run = entity::sync_run::Entity::find()
        .one(&env.app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status, "FAILED");
    let error = run.error.unwrap();
    assert!(error.contains("LINKEDIN_API_VERSION=202405"), "{error}");
    // It names newer versions to try, and the first of them is one LinkedIn (here the sandbox,
    // by the same policy) accepts.
    let newest = error
        .split("(try ")
        .nth(1)
        .and_then(|rest| rest.get(..6))
        .unwrap_or_else(|| panic!("no version to try in: {error}"));
    let today = chrono::Utc::now().date_naive();
    assert!(
        leadsync::linkedin::sandbox::SandboxVersions::default().accepts(newest, today),
        "{error}"
    );
}

#[tokio::test]
async fn webhooks_bring_leads_in_once_and_erase_deleted_ones() {
    let env = env().await;
    let profile = authorized_profile(&env).await;
    let subscriptions = env.sandbox.webhook_subscriptions();
    let hook = format!("{}/webhooks/linkedin", env.base);
    assert!(!subscriptions.is_empty() && subscriptions.iter().all(|(_, url, _)| *url == hook));
    assert!(
        env.sandbox.validate_webhook(&hook).await.unwrap(),
        "the challenge is answered"
    );

    let account = env
        .sandbox
        .accounts()
        .into_iter()
        .find(|a| !a.forbidden)
        .unwrap();
    let ids = env.sandbox.add_leads(&account.id, 1);
    let new_id = ids[0].clone();
    let mut found = false;
    for _ in 0..200 {
        if stored(&env.app).await.contains(&new_id) {
            found = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(found, "the webhook brought the new lead in without a sync");

    let before = stored(&env.app).await.len();
    let status = env
        .sandbox
        .send_webhook(&hook, WebhookAction::Created, &new_id, WebhookMode::Twice)
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        stored(&env.app).await.len(),
        before,
        "a duplicated notification changes nothing"
    );
    let status = env
        .sandbox
        .send_webhook(&hook, WebhookAction::Created, &new_id, WebhookMode::Forged)
        .await
        .unwrap();
    assert_eq!(status, 401);
    let status = env
        .sandbox
        .send_webhook(
            &hook,
            WebhookAction::Created,
            &new_id,
            WebhookMode::SignedPlain,
        )
        .await
        .unwrap();
    assert_eq!(status, 200);

    env.sandbox.delete_lead(&new_id);
    let mut gone = false;
    for _ in 0..200 {
        if !stored(&env.app).await.contains(&new_id) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(gone, "DELETED erased the submission");
    // It never comes back with a later sync.
    let run = sync(&env, &profile).await;
    assert_eq!(run.status, "SUCCEEDED");
    assert!(!stored(&env.app).await.contains(&new_id));
}

#[tokio::test]
async fn accounts_can_be_disabled_and_bad_requests_get_codes() {
    let env = env().await;
    let profile = authorized_profile(&env).await;
    let profiles = env
        .app
        .op_ok(&env.sales, "LinkedInUserProfiles", json!({}))
        .await;
    let account = profiles["linkedInUserProfiles"][0]["accounts"][0]["id"].clone();
    let updated = env
        .app
        .op_ok(
            &env.sales,
            "UpdateLinkedInAccount",
            json!({"id": account, "input": {"enabledForSync": false}}),
        )
        .await;
    assert_eq!(updated["updateLinkedInAccount"]["enabledForSync"], false);
    // Disabling unsubscribes the account's lead webhook at LinkedIn; its leads stop syncing.
    let linkedin_id = profiles["linkedInUserProfiles"][0]["accounts"][0]["linkedInId"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner = format!("urn:li:sponsoredAccount:{linkedin_id}");
    assert!(
        !env.sandbox
            .webhook_subscriptions()
            .iter()
            .any(|(_, _, o)| *o == owner)
    );
    let new_ids = env.sandbox.add_leads(&linkedin_id, 2);
    let run = sync(&env, &profile).await;
    assert_eq!(run.status, "SUCCEEDED");
    let ids = stored(&env.app).await;
    assert!(
        new_ids.iter().all(|id| !ids.contains(id)),
        "a disabled account is not synced"
    );
    // Enabling subscribes again, and the next sync catches up.
    env.app
        .op_ok(
            &env.sales,
            "UpdateLinkedInAccount",
            json!({"id": account, "input": {"enabledForSync": true}}),
        )
        .await;
    assert!(
        env.sandbox
            .webhook_subscriptions()
            .iter()
            .any(|(_, _, o)| *o == owner)
    );
    sync(&env, &profile).await;
    let ids = stored(&env.app).await;
    assert!(new_ids.iter().all(|id| ids.contains(id)));
    let response = env
        .app
        .op(
            Some(&env.sales),
            "SyncSubmissions",
            json!({"profileId": "999999"}),
        )
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("NOT_FOUND"));
    let response = env
        .app
        .op(Some(&env.sales), "SyncRun", json!({"id": "999999"}))
        .await;
    assert_eq!(error_code(&response).as_deref(), Some("NOT_FOUND"));
    // No token text reaches a client.
    assert!(
        profile_row(&env.app, &profile)
            .await
            .access_token_enc
            .is_some()
    );
    let everything = env
        .app
        .op_ok(&env.sales, "LinkedInUserProfiles", json!({}))
        .await
        .to_string();
    assert!(!everything.contains("v1:"));
}

#[tokio::test]
async fn two_instances_sync_an_account_once() {
    let env = env().await;
    if !env.app.test_db.is_postgres() {
        eprintln!("two instances need PostgreSQL: skipped on SQLite");
        return;
    }
    let profile = authorized_profile(&env).await;
    // A second instance on the same database.
    let second =
        leadsync::AppState::with_db(env.app.db.clone(), (*env.app.state.config).clone()).unwrap();
    let id: i64 = profile.parse().unwrap();
    // Forget the cursors so that both instances want the whole year.
    linkedin_account::Entity::update_many()
        .col_expr(
            linkedin_account::Column::SyncCursorMs,
            Expr::value(Option::<i64>::None),
        )
        .exec(&env.app.db)
        .await
        .unwrap();
    let before_calls = env.sandbox.stats().rest_calls;
    let (a, b) = tokio::join!(
        env.app.state.connector.sync_now(id, Trigger::Manual),
        second.connector.sync_now(id, Trigger::Manual)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.status, "SUCCEEDED");
    assert_eq!(b.status, "SUCCEEDED");
    // Each account's leads were read by one instance only: together they fetched LinkedIn's
    // responses once.
    assert_eq!(
        (a.submissions_fetched + b.submissions_fetched) as usize,
        truth(&env.sandbox).len()
    );
    assert!(env.sandbox.stats().rest_calls > before_calls);
    assert_equal_to_truth(&env).await;
}

/// Every log line of the process while it lives (the suite's one subscriber, `pii_watch`:
/// leadsync at TRACE, the rest at DEBUG, the sandbox not at all), lines of tests running beside
/// this one included: what must appear in no line may be asserted on it, what must appear is
/// this test's own doing.
pub(crate) struct LogCapture {
    captured: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl LogCapture {
    pub(crate) fn start() -> Self {
        crate::pii_watch::install();
        let captured = std::sync::Arc::default();
        crate::pii_watch::tap(&captured);
        Self { captured }
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.captured.lock().unwrap().clone()).unwrap()
    }
}

#[tokio::test]
async fn no_token_text_reaches_a_log_line_or_a_response() {
    let captured = LogCapture::start();

    let env = env().await;
    let profile = authorized_profile(&env).await;
    env.sandbox.expire_access_tokens();
    let run = sync(&env, &profile).await;
    assert_eq!(run.status, "SUCCEEDED", "{:?}", run.error);

    let row = profile_row(&env.app, &profile).await;
    let key: [u8; 32] = hex::decode(env.app.state.config.secret_key.as_ref().unwrap().expose())
        .unwrap()
        .try_into()
        .unwrap();
    let cipher = leadsync::crypto::TokenCipher::new(&key);
    let access = cipher
        .decrypt(row.access_token_enc.as_deref().unwrap())
        .unwrap();
    let refresh = cipher
        .decrypt(row.refresh_token_enc.as_deref().unwrap())
        .unwrap();

    let logs = captured.text();
    assert!(
        logs.contains("refreshed the LinkedIn access token"),
        "the logs were captured"
    );
    for secret in [
        access.as_str(),
        refresh.as_str(),
        &env.sandbox.config().client_secret,
    ] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
    let everything = env
        .app
        .query(
            Some(&env.sales),
            "{ linkedInUserProfiles { id name authorizationStatus statusDetails tokenExpiresAt refreshTokenExpiresAt accounts { id name statusDetails } } }",
            json!({}),
        )
        .await
        .to_string();
    assert!(!everything.contains(&access) && !everything.contains(&refresh));
}

#[tokio::test]
async fn shutdown_lets_running_syncs_finish_and_starts_none() {
    let env = env().await;
    let profile = authorized_profile(&env).await;
    let id: i64 = profile.parse().unwrap();
    env.sandbox.set_faults(Faults {
        rate: 1.0,
        kinds: vec![FaultKind::Slow(Duration::from_millis(20))],
        seed: 3,
    });
    let run = env.app.state.connector.reset(id).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    env.app.state.connector.drain(Duration::from_secs(60)).await;
    let finished = leadsync::service::connector::get_run(&env.app.db, run.id)
        .await
        .unwrap();
    assert_eq!(
        finished.status, "SUCCEEDED",
        "the in-flight sync finished before shutdown"
    );
    let refused = env
        .app
        .op(
            Some(&env.sales),
            "SyncSubmissions",
            json!({"profileId": profile}),
        )
        .await;
    assert_eq!(error_code(&refused).as_deref(), Some("CONFLICT"));
}

/// A LinkedIn whose campaigns have no leads yet.
async fn lead_less_env() -> Env {
    env_with(
        SandboxConfig {
            leads_per_account: 0,
            ..Default::default()
        },
        |_| {},
    )
    .await
}

#[tokio::test]
async fn every_synced_campaign_gets_its_journey_before_any_lead_arrives() {
    // No leads at all: the campaigns (active, paused, completed) still sync, each with a journey.
    let env = lead_less_env().await;
    authorized_profile(&env).await;
    let campaigns = entity::linkedin_campaign::Entity::find()
        .all(&env.app.db)
        .await
        .unwrap();
    assert!(campaigns.len() >= 2, "discovery stored no campaigns");
    assert_eq!(stored(&env.app).await.len(), 0);
    let journeys = env
        .app
        .op_ok(&env.sales, "CustomerJourneys", json!({}))
        .await["customerJourneys"]
        .clone();
    let mut journey_campaigns: Vec<i64> = entity::customer_journey::Entity::find()
        .all(&env.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.campaign_id)
        .collect();
    journey_campaigns.sort_unstable();
    let mut campaign_ids: Vec<i64> = campaigns.iter().map(|c| c.id).collect();
    campaign_ids.sort_unstable();
    assert_eq!(journey_campaigns, campaign_ids, "one journey per campaign");
    assert_eq!(journeys.as_array().unwrap().len(), campaigns.len());
    let first = &campaigns[0];
    assert!(
        journeys
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["name"] == format!("LinkedIn: {}", first.name)),
        "journeys are named after their campaign: {journeys:#}"
    );

    // A second sync creates none twice.
    let profile = linkedin_profile::Entity::find()
        .one(&env.app.db)
        .await
        .unwrap()
        .unwrap();
    sync(&env, &profile.id.to_string()).await;
    let again = entity::customer_journey::Entity::find()
        .count(&env.app.db)
        .await
        .unwrap();
    assert_eq!(again as usize, campaigns.len());
}

#[tokio::test]
async fn campaigns_sync_without_journeys_when_the_configuration_turns_them_off() {
    let env = lead_less_env().await;
    let admin = env.app.admin().await;
    env.app
        .op_ok(
            &admin,
            "UpdateIntegrationConfiguration",
            json!({"input": {"createJourneysForCampaigns": false}}),
        )
        .await;
    authorized_profile(&env).await;
    let campaigns = entity::linkedin_campaign::Entity::find()
        .count(&env.app.db)
        .await
        .unwrap();
    assert!(campaigns >= 2);
    let journeys = entity::customer_journey::Entity::find()
        .count(&env.app.db)
        .await
        .unwrap();
    assert_eq!(journeys, 0);
}
