//! `leadsync demo`: the whole product on the embedded defaults — SQLite in a data directory, the
//! LinkedIn sandbox in-process, an administrator, a LinkedIn profile authorized through the real
//! OAuth round trip, a first sync with a progress bar, and a new lead every few seconds: sponsored
//! (ads) and organic (company page, product page, event) leads alike.

use std::{path::PathBuf, time::Duration};

use anyhow::Context as _;

use crate::{
    AppState, Config,
    domain::{LeadType, Role},
    linkedin::sandbox::{Sandbox, SandboxConfig},
    service::{configuration, linkedin, users},
};

pub struct DemoOptions {
    pub data_dir: PathBuf,
    pub seed: u64,
    /// How often the sandbox submits a new lead.
    pub lead_every: Duration,
    /// Once the demo's own round trip has authorized its profile, the sandbox asks for LinkedIn's
    /// sign-in and permissions pages on every later authorization (from the console).
    pub interactive_sign_in: bool,
}

const PROFILE_NAME: &str = "Demo LinkedIn profile";
/// Organic leads per organization and type in the demo's LinkedIn (company page, product page,
/// event), beside the sponsored ones.
const DEMO_ORGANIC_LEADS_PER_TYPE: usize = 40;

pub async fn run(
    mut config: Config,
    options: DemoOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&options.data_dir)
        .with_context(|| format!("creating {}", options.data_dir.display()))?;
    let sandbox = Sandbox::new(SandboxConfig {
        seed: options.seed,
        organic_leads_per_type: DEMO_ORGANIC_LEADS_PER_TYPE,
        ..Default::default()
    });
    sandbox.start("127.0.0.1:0").await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");

    let db_path = options.data_dir.join("leadsync.db");
    config.database_url = format!("sqlite://{}?mode=rwc", db_path.display());
    config.listen = addr;
    config.public_url = Some(base.clone());
    config.data_dir = options.data_dir.clone();
    let sc = sandbox.config().clone();
    config.linkedin.linkedin_client_id = sc.client_id.clone();
    config.linkedin.linkedin_client_secret =
        Some(crate::config::Secret::new(sc.client_secret.clone()));
    config.linkedin.linkedin_auth_url = sandbox.auth_url();
    config.linkedin.linkedin_token_url = sandbox.token_url();
    config.linkedin.linkedin_api_url = sandbox.api_url();

    let state = AppState::start(config).await?;
    let router = crate::app(state.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
    });
    state.connector.spawn_scheduler();

    let (user_id, token) = admin_token(&state, &options.data_dir).await?;
    let profile = match linkedin::list_profiles(&state.db)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?
        .into_iter()
        .find(|p| p.name == PROFILE_NAME)
    {
        Some(p) => p,
        None => {
            // The demo shows every lead type: the organic ones are opt-in in a deployment, so
            // the demo turns them on once, on its first run (an operator's later choice stays).
            let organic = [
                LeadType::Company,
                LeadType::OrganizationProduct,
                LeadType::Event,
            ]
            .map(|lead_type| configuration::LeadTypeChange {
                lead_type,
                enabled: Some(true),
                backfill_days: None,
            });
            configuration::update_lead_types(&state.db, &organic)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
            linkedin::create_profile(&state.db, PROFILE_NAME, user_id)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message()))?
        }
    };

    // The sandbox starts afresh each run: webhook subscriptions of an earlier run are gone.
    {
        use sea_orm::{EntityTrait, sea_query::Expr};
        entity::linkedin_account::Entity::update_many()
            .col_expr(
                entity::linkedin_account::Column::WebhookSubscriptionId,
                Expr::value(Option::<String>::None),
            )
            .exec(&state.db)
            .await?;
    }

    // The real OAuth round trip: LinkedIn's (the sandbox's) page, then our callback.
    let mut runs = state.bus.subscribe_runs();
    let url = state
        .connector
        .authorization_url(profile.id, Some(user_id))
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let redirect = browser.get(&url).send().await?;
    let callback = redirect
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .context("the LinkedIn sandbox did not redirect back")?
        .to_owned();
    let page = browser.get(&callback).send().await?;
    anyhow::ensure!(
        page.status().is_success(),
        "the OAuth callback failed: {}",
        page.text().await?
    );
    println!("Authorized \"{PROFILE_NAME}\" with the LinkedIn sandbox (OAuth 2.0 + PKCE).");
    // The demo's own round trip is done; people authorizing from now on see LinkedIn's pages.
    sandbox.interactive_sign_in(options.interactive_sign_in);

    // The first sync, with a progress bar over what LinkedIn holds.
    let total = sandbox.readable_response_count()
        + organic_within_window(&state, &sandbox)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "Syncing LinkedIn leads {bar:40.cyan/blue} {pos}/{len} {msg}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    loop {
        let update = tokio::time::timeout(Duration::from_secs(60), runs.recv())
            .await
            .context("the first sync made no progress for a minute")?;
        let Ok(update) = update else { continue };
        let run = crate::service::connector::get_run(&state.db, update.run_id)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
        bar.set_position(run.submissions_fetched.max(0) as u64);
        bar.set_message(format!(
            "{} leads created, {} updated",
            run.leads_created, run.leads_updated
        ));
        match run.status.as_str() {
            "SUCCEEDED" => {
                bar.finish();
                break;
            }
            "FAILED" => {
                bar.abandon();
                anyhow::bail!("the first sync failed: {}", run.error.unwrap_or_default());
            }
            _ => {}
        }
    }

    // New leads keep arriving, through LinkedIn's webhooks, so the dashboard moves.
    let accounts: Vec<String> = sandbox
        .accounts()
        .into_iter()
        .filter(|a| !a.forbidden)
        .map(|a| a.id)
        .collect();
    let organizations: Vec<i64> = sandbox
        .organizations()
        .into_iter()
        .filter(|o| !o.forbidden)
        .map(|o| o.id)
        .collect();
    let feeder = sandbox.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(options.lead_every);
        tick.tick().await;
        for i in 0.. {
            tick.tick().await;
            // Every fourth lead is organic, each type in turn.
            if i % 4 == 3 && !organizations.is_empty() {
                let lead_type = ["COMPANY", "ORGANIZATION_PRODUCT", "EVENT"][(i / 4) % 3];
                feeder.add_organic_leads(organizations[i % organizations.len()], lead_type, 1);
            } else {
                let account = &accounts[i % accounts.len()];
                feeder.add_leads(account, 1);
            }
        }
    });

    println!();
    println!(
        "leadsync demo is running (data in {}).",
        options.data_dir.display()
    );
    println!("Console:   {base}/console/");
    println!("Dashboard: {base}/");
    println!("GraphiQL:  {base}/graphql");
    println!("Sign in with this administrator token (send it as Authorization: Bearer <token>):");
    println!("{token}");
    if options.interactive_sign_in {
        println!(
            "Authorizing a LinkedIn profile signs in to the sandbox as {} (any non-empty \
             password) and asks to allow {}.",
            sandbox.config().member_name,
            sandbox.config().app_name
        );
    }
    println!(
        "A new LinkedIn lead arrives every {} s. Press Ctrl-C to stop.",
        options.lead_every.as_secs()
    );

    server.await??;
    println!("leadsync demo stopped; run it again to continue with the same data.");
    Ok(())
}

/// How many organic leads the first sync pulls: those of each enabled organic type inside its
/// backfill window.
async fn organic_within_window(
    state: &AppState,
    sandbox: &Sandbox,
) -> crate::error::AppResult<usize> {
    let settings = configuration::lead_types(&state.db).await?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut total = 0;
    for org in sandbox.organizations().iter().filter(|o| !o.forbidden) {
        for lead_type in [
            LeadType::Company,
            LeadType::OrganizationProduct,
            LeadType::Event,
        ] {
            let Some(setting) = configuration::lead_type_setting(&settings, lead_type) else {
                continue;
            };
            let since = now - i64::from(setting.backfill_days) * 24 * 3600 * 1000;
            total += sandbox
                .organic_responses(&org.urn, lead_type.as_str())
                .iter()
                .filter(|r| r["submittedAt"].as_i64().is_some_and(|at| at >= since))
                .count();
        }
    }
    Ok(total)
}

/// The demo administrator's token, kept in the data directory so a second run reuses it.
async fn admin_token(state: &AppState, dir: &std::path::Path) -> anyhow::Result<(i64, String)> {
    let path = dir.join("demo-admin-token");
    if let Ok(token) = std::fs::read_to_string(&path) {
        let token = token.trim().to_owned();
        if let Ok(Some(viewer)) = users::authenticate(&state.db, &token).await {
            return Ok((viewer.user_id, token));
        }
    }
    let created = users::create_user(
        &state.db,
        "Demo administrator",
        &[Role::SystemAdministrator],
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    std::fs::write(&path, &created.token)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok((created.user.id, created.token))
}
