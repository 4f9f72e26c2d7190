//! `leadsync doctor` against the sandbox: a good deployment passes, and each broken setting is
//! named with what to do about it.

use leadsync::{
    Config,
    config::{Environment, Secret},
    domain::Role,
    linkedin::sandbox::SandboxConfig,
    service::doctor::{self, Check, CheckStatus},
};
use serde_json::{Value, json};

use crate::connector::{Env, authorized_profile, env_with};

fn small() -> SandboxConfig {
    SandboxConfig {
        leads_per_account: 5,
        ..Default::default()
    }
}

fn find<'a>(checks: &'a [Check], name: &str) -> &'a Check {
    checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name} in {checks:#?}"))
}

fn assert_status(checks: &[Check], name: &str, status: CheckStatus) -> String {
    let c = find(checks, name);
    assert_eq!(c.status, status, "{name}: {c:#?}");
    if status == CheckStatus::Fail {
        assert!(!c.fix.is_empty(), "a failure says what to do: {c:#?}");
    }
    format!("{} {}", c.detail, c.fix)
}

async fn run_with(env: &Env, tweak: impl FnOnce(&mut Config)) -> Vec<Check> {
    let mut config = (*env.app.state.config).clone();
    tweak(&mut config);
    doctor::run(&config, Some(&env.app.db), None).await
}

#[tokio::test]
async fn a_good_deployment_passes_every_check_over_graphql() {
    let env = env_with(small(), |_| {}).await;
    let profile = authorized_profile(&env).await;
    let admin = env.app.token(&[Role::LeadgenAdministrator]).await;
    let answer = env
        .app
        .query(
            Some(&admin),
            "{ doctor { name status detail fix } }",
            json!({}),
        )
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let checks = answer["data"]["doctor"].as_array().unwrap();
    let status = |name: &str| -> Value {
        checks
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name}: {answer}"))["status"]
            .clone()
    };
    for name in [
        "linkedin.app",
        "linkedin.credentials",
        "public_url.callback",
        "public_url.webhook",
        "linkedin.redirect_url",
        "linkedin.api_version",
        "secret_key",
        "database",
        &format!("profile.{profile}"),
    ] {
        assert_eq!(status(name), "OK", "{name}: {answer}");
    }
    // Plain http is fine against the sandbox, and said.
    assert_eq!(status("public_url"), "OK");
    assert!(checks.iter().all(|c| c["status"] != "FAIL"), "{answer}");
    if env.app.test_db.is_postgres() {
        assert_ne!(status("database.postgresql"), "FAIL");
    }

    // Salespeople do not see the deployment's settings.
    let refused = env
        .app
        .query(Some(&env.sales), "{ doctor { name } }", json!({}))
        .await;
    assert_eq!(
        crate::common::error_code(&refused).as_deref(),
        Some("FORBIDDEN")
    );
}

#[tokio::test]
async fn each_broken_linkedin_setting_is_named_with_its_fix() {
    let env = env_with(small(), |_| {}).await;
    let profile = authorized_profile(&env).await;

    // A wrong secret: the token endpoint refuses it, and our webhook (answering with the right
    // one) no longer matches what LinkedIn would check.
    let checks = run_with(&env, |c| {
        c.linkedin.linkedin_client_secret = Some(Secret::new("not-the-secret"));
    })
    .await;
    assert!(doctor::failed(&checks));
    let text = assert_status(&checks, "linkedin.credentials", CheckStatus::Fail);
    assert!(text.contains("refused the client id and secret"), "{text}");
    assert_status(&checks, "public_url.webhook", CheckStatus::Fail);

    // No app at all.
    let checks = run_with(&env, |c| c.linkedin.linkedin_client_id.clear()).await;
    let text = assert_status(&checks, "linkedin.app", CheckStatus::Fail);
    assert!(text.contains("LINKEDIN_CLIENT_ID"), "{text}");

    // A public URL nothing listens on.
    let checks = run_with(&env, |c| c.public_url = Some("http://127.0.0.1:9".into())).await;
    let text = assert_status(&checks, "public_url.callback", CheckStatus::Fail);
    assert!(text.contains("cannot be reached"), "{text}");
    assert_status(&checks, "public_url.webhook", CheckStatus::Fail);

    // A retired API version: the setting and every profile's call fail, naming newer versions.
    let checks = run_with(&env, |c| {
        c.linkedin.linkedin_api_version = "202405".parse().unwrap()
    })
    .await;
    let text = assert_status(&checks, "linkedin.api_version", CheckStatus::Fail);
    assert!(text.contains("202405") && text.contains("try"), "{text}");
    let text = assert_status(&checks, &format!("profile.{profile}"), CheckStatus::Fail);
    assert!(text.contains("426"), "{text}");

    // Production without a secret key.
    let checks = run_with(&env, |c| {
        c.environment = Environment::Production;
        c.secret_key = None;
    })
    .await;
    let text = assert_status(&checks, "secret_key", CheckStatus::Fail);
    assert!(text.contains("LEADSYNC_SECRET_KEY"), "{text}");

    // Another key than the one the tokens were stored with.
    let checks = run_with(&env, |c| {
        c.secret_key = Some(Secret::new(hex::encode([7u8; 32])));
    })
    .await;
    let text = assert_status(&checks, &format!("profile.{profile}"), CheckStatus::Fail);
    assert!(text.contains("secret key"), "{text}");

    // Against the real LinkedIn a plain-http public URL cannot take webhooks. (No profile calls
    // reach LinkedIn: this database has no profiles.)
    let empty = crate::common::TestApp::new().await;
    let mut real = (*env.app.state.config).clone();
    real.linkedin.linkedin_api_url = "https://api.linkedin.com/rest".into();
    let checks = doctor::run(&real, Some(&empty.db), None).await;
    let text = assert_status(&checks, "public_url", CheckStatus::Fail);
    assert!(text.contains("https"), "{text}");
    assert_status(&checks, "profiles", CheckStatus::Warn);
}

#[tokio::test]
async fn an_unregistered_redirect_url_is_refused_by_linkedin_and_reported() {
    let env = env_with(
        SandboxConfig {
            redirect_uri: Some("https://crm.example.com/oauth/linkedin/callback".into()),
            ..small()
        },
        |_| {},
    )
    .await;
    let checks = run_with(&env, |_| {}).await;
    let text = assert_status(&checks, "linkedin.redirect_url", CheckStatus::Fail);
    assert!(
        text.contains(&format!("{}/oauth/linkedin/callback", env.base))
            && text.contains("does not match the registered value"),
        "{text}"
    );
}

#[tokio::test]
async fn a_token_linkedin_ended_without_a_refresh_token_fails_its_profile() {
    let env = env_with(
        SandboxConfig {
            programmatic_refresh: false,
            ..small()
        },
        |_| {},
    )
    .await;
    let profile = authorized_profile(&env).await;
    env.sandbox.expire_access_tokens();
    let checks = run_with(&env, |_| {}).await;
    let text = assert_status(&checks, &format!("profile.{profile}"), CheckStatus::Fail);
    assert!(text.contains("no refresh token"), "{text}");
}

#[tokio::test]
async fn an_unmigrated_or_unreachable_database_fails_the_database_check() {
    let env = env_with(small(), |_| {}).await;
    let fresh = crate::common::TestDb::new().await;
    let db = leadsync::db::connect(&fresh.url).await.unwrap();
    let checks = doctor::run(&env.app.state.config, Some(&db), None).await;
    let text = assert_status(&checks, "database", CheckStatus::Fail);
    assert!(text.contains("leadsync migrate"), "{text}");

    let checks = doctor::run(
        &env.app.state.config,
        None,
        Some("connection refused".into()),
    )
    .await;
    let text = assert_status(&checks, "database", CheckStatus::Fail);
    assert!(text.contains("DATABASE_URL"), "{text}");
}

#[tokio::test]
async fn the_command_exits_nonzero_on_a_failure_and_zero_when_all_pass() {
    let env = env_with(small(), |_| {}).await;
    authorized_profile(&env).await;
    let config = env.app.state.config.clone();
    let run = |secret: &str| {
        let l = &config.linkedin;
        tokio::process::Command::new(env!("CARGO_BIN_EXE_leadsync"))
            .arg("doctor")
            .env("DATABASE_URL", &config.database_url)
            .env("LEADSYNC_PUBLIC_URL", config.public_url())
            .env(
                "LEADSYNC_SECRET_KEY",
                config.secret_key.as_ref().unwrap().expose(),
            )
            .env("LINKEDIN_CLIENT_ID", &l.linkedin_client_id)
            .env("LINKEDIN_CLIENT_SECRET", secret)
            .env("LINKEDIN_AUTH_URL", &l.linkedin_auth_url)
            .env("LINKEDIN_TOKEN_URL", &l.linkedin_token_url)
            .env("LINKEDIN_API_URL", &l.linkedin_api_url)
            .env("LEADSYNC_LOG", "error")
            .output()
    };
    let secret = env.sandbox.config().client_secret.clone();
    let good = run(&secret).await.unwrap();
    let stdout = String::from_utf8_lossy(&good.stdout);
    assert!(good.status.success(), "{stdout}");
    assert!(!stdout.contains("[FAIL]"), "{stdout}");
    assert!(stdout.contains("[ ok ] linkedin.credentials"), "{stdout}");

    let bad = run("not-the-secret-4711").await.unwrap();
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("[FAIL] linkedin.credentials") && stdout.contains("fix: "),
        "{stdout}"
    );
    assert!(
        !stdout.contains("4711"),
        "the secret is not echoed: {stdout}"
    );
}
