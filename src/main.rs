use clap::{Parser, Subcommand};
use leadsync::{AppState, Config, config::LogFormat, domain::Role, service::users};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "leadsync",
    version,
    about = "LinkedIn Lead Gen Form leads into a CRM lead store, behind GraphQL"
)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run everything on the embedded defaults: SQLite, the LinkedIn sandbox, a synced profile,
    /// new leads every few seconds, the dashboard and GraphiQL.
    Demo {
        /// Where the demo keeps its database and keys (reused by the next run).
        #[arg(long = "demo-dir", default_value = "leadsync-demo")]
        demo_dir: std::path::PathBuf,
        /// Seed of the sandbox's generated LinkedIn data.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Seconds between new leads.
        #[arg(long, default_value_t = 5)]
        lead_every_secs: u64,
        /// After the demo's own authorization, the LinkedIn sandbox asks the person to sign in
        /// (any non-empty password) and to allow the app, as LinkedIn does, instead of approving
        /// at once.
        #[arg(long)]
        interactive_sign_in: bool,
    },
    /// Run the HTTP server (migrates the database first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Manage API users.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Sync one LinkedIn user profile now, in the foreground, and print a summary.
    Sync {
        /// The profile's id.
        #[arg(long)]
        profile: i64,
    },
    /// Print everything leadsync holds about one person as JSON (`leadsync.personal-data/1`, the
    /// same document as the `exportPersonalData` query), by email or by lead id; or, with
    /// `export leads` / `export submissions`, write the lead store as CSV or NDJSON (the same
    /// bytes as `GET /export/...`).
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Export {
        #[command(subcommand)]
        what: Option<Box<ExportCommand>>,
        /// Every lead whose email or work email is this address (trimmed, any case).
        #[arg(long, conflicts_with = "lead_id", required_unless_present = "lead_id")]
        email: Option<String>,
        #[arg(long = "lead-id")]
        lead_id: Option<i64>,
    },
    /// Check this deployment against its LinkedIn app and say what is wrong: credentials, public
    /// URL, callback and webhook, redirect URL, API version, secret key, database, each profile's
    /// token. Changes nothing; exits 1 when a check fails.
    Doctor,
    /// Run the LinkedIn sandbox (a local LinkedIn: OAuth and Lead Sync API with seeded data) on
    /// `--listen`, e.g. `leadsync sandbox --listen 127.0.0.1:9090`.
    Sandbox {
        /// Seed of the generated accounts, campaigns, forms and leads.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The authorization page asks the member to sign in (any non-empty password) and to
        /// allow the app, as LinkedIn does, instead of approving at once.
        #[arg(long)]
        interactive_sign_in: bool,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Leads, newest first (the `leads` list's order), with the `leads` list's filters.
    Leads {
        #[command(flatten)]
        file: ExportFile,
        #[arg(long)]
        source: Option<String>,
        #[arg(long = "campaign-id")]
        campaign_id: Option<String>,
        #[arg(long = "form-id")]
        form_id: Option<String>,
        /// RFC 3339, e.g. 2026-01-31T00:00:00Z.
        #[arg(long = "created-after")]
        created_after: Option<String>,
        #[arg(long = "created-before")]
        created_before: Option<String>,
        #[arg(long)]
        search: Option<String>,
    },
    /// Form submissions, newest first, with the `formSubmissions` list's filters; with
    /// `--form-id` and CSV, one column per question of that form.
    Submissions {
        #[command(flatten)]
        file: ExportFile,
        #[arg(long = "campaign-id")]
        campaign_id: Option<String>,
        #[arg(long = "form-id")]
        form_id: Option<String>,
        #[arg(long = "account-id")]
        account_id: Option<String>,
        #[arg(long = "lead-id")]
        lead_id: Option<String>,
        #[arg(long = "matching-status")]
        matching_status: Option<String>,
        #[arg(long = "processing-state")]
        processing_state: Option<String>,
        #[arg(long = "lead-type")]
        lead_type: Option<String>,
        #[arg(long = "submitted-after")]
        submitted_after: Option<String>,
        #[arg(long = "submitted-before")]
        submitted_before: Option<String>,
        /// true or false.
        #[arg(long = "test-lead")]
        test_lead: Option<String>,
    },
}

#[derive(clap::Args)]
struct ExportFile {
    /// csv or ndjson.
    #[arg(long, default_value = "csv")]
    format: leadsync::service::export::Format,
    /// CSV: start with a UTF-8 byte order mark (for Excel).
    #[arg(long)]
    bom: bool,
    /// Write here (complete or not at all: a failed export leaves no file); stdout without it.
    #[arg(long)]
    output: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create an API user; its token is printed as the last line of stdout.
    Create {
        #[arg(long)]
        name: String,
        /// SYSTEM_ADMINISTRATOR, LEADGEN_ADMINISTRATOR, LEADGEN_SALESPERSON or S2S_INBOUND.
        #[arg(long = "role", required = true, value_parser = parse_role)]
        roles: Vec<Role>,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.to_ascii_uppercase().parse()
}

fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_env("LEADSYNC_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Schema = cli.command {
        print!("{}", leadsync::graphql::sdl());
        return Ok(());
    }
    init_tracing(cli.config.log_format);
    let config = cli.config;
    match cli.command {
        Command::Schema => unreachable!("handled above"),
        Command::Migrate => {
            leadsync::db::open(&config.database_url)
                .await?
                .close()
                .await?;
            tracing::info!("database is up to date");
        }
        Command::Users {
            command: UsersCommand::Create { name, roles },
        } => {
            let db = leadsync::db::open(&config.database_url).await?;
            let failed = |e: leadsync::error::AppError| anyhow::anyhow!("{}", e.message());
            let write = leadsync::service::audit::AuditedWrite::begin(
                &db,
                leadsync::service::audit::Actor::Cli,
            )
            .await
            .map_err(failed)?;
            let created = users::create_user(write.db(), &name, &roles)
                .await
                .map_err(failed)?;
            let roles: Vec<&str> = created.roles.iter().map(|r| r.as_str()).collect();
            write
                .commit(
                    "users create",
                    "ApiUser",
                    Some(created.user.id),
                    serde_json::json!({ "roles": roles, "token": "issued" }),
                )
                .await
                .map_err(failed)?;
            println!(
                "created user {} ({}) with roles {}",
                created.user.id,
                created.user.name,
                roles.join(", ")
            );
            println!("{}", created.token);
        }
        Command::Serve => serve(config).await?,
        Command::Demo {
            demo_dir,
            seed,
            lead_every_secs,
            interactive_sign_in,
        } => {
            leadsync::demo::run(
                config,
                leadsync::demo::DemoOptions {
                    data_dir: demo_dir,
                    seed,
                    lead_every: std::time::Duration::from_secs(lead_every_secs.max(1)),
                    interactive_sign_in,
                },
                shutdown_signal(),
            )
            .await?
        }
        Command::Sync { profile } => sync(config, profile).await?,
        Command::Export {
            what: Some(what), ..
        } => export_file(config, *what).await?,
        Command::Export {
            what: None,
            email,
            lead_id,
        } => {
            let db = leadsync::db::open(&config.database_url).await?;
            let subject = match (email, lead_id) {
                (Some(email), _) => leadsync::service::privacy::Subject::Email(email),
                (None, Some(id)) => leadsync::service::privacy::Subject::Lead(id),
                (None, None) => anyhow::bail!("give --email or --lead-id"),
            };
            let key = config.resolve_secret_key()?;
            let export = leadsync::service::privacy::export_recorded(
                &db,
                &key,
                &subject,
                leadsync::service::audit::Actor::Cli,
                "export",
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
            println!("{}", serde_json::to_string_pretty(&export)?);
        }
        Command::Doctor => {
            // Not migrated here: an unmigrated database is one of the findings.
            let (db, db_error) = match leadsync::db::connect(&config.database_url).await {
                Ok(db) => (Some(db), None),
                Err(e) => (None, Some(e.to_string())),
            };
            let checks = leadsync::service::doctor::run(&config, db.as_ref(), db_error).await;
            print!("{}", leadsync::service::doctor::render(&checks));
            if leadsync::service::doctor::failed(&checks) {
                std::process::exit(1);
            }
        }
        Command::Sandbox {
            seed,
            interactive_sign_in,
        } => {
            let sandbox = leadsync::linkedin::sandbox::Sandbox::new(
                leadsync::linkedin::sandbox::SandboxConfig {
                    seed,
                    interactive_sign_in,
                    ..Default::default()
                },
            );
            let url = sandbox.start(&config.listen.to_string()).await?;
            let c = sandbox.config();
            println!("LinkedIn sandbox at {url}");
            println!("LINKEDIN_AUTH_URL={}", sandbox.auth_url());
            println!("LINKEDIN_TOKEN_URL={}", sandbox.token_url());
            println!("LINKEDIN_API_URL={}", sandbox.api_url());
            println!("LINKEDIN_CLIENT_ID={}", c.client_id);
            println!("LINKEDIN_CLIENT_SECRET={}", c.client_secret);
            if interactive_sign_in {
                println!(
                    "Authorizations ask to sign in as {} (any non-empty password), then to allow.",
                    c.member_name
                );
            }
            shutdown_signal().await;
        }
    }
    Ok(())
}

/// `leadsync export leads|submissions`: the bytes `GET /export/...` sends, to a file or stdout.
async fn export_file(config: Config, what: ExportCommand) -> anyhow::Result<()> {
    use futures::StreamExt;
    use leadsync::service::export::{self, Dataset};
    use tokio::io::AsyncWriteExt;
    let param = |name: &str, value: Option<String>| value.map(|v| (name.to_owned(), v));
    let (dataset, file, params) = match what {
        ExportCommand::Leads {
            file,
            source,
            campaign_id,
            form_id,
            created_after,
            created_before,
            search,
        } => (
            Dataset::Leads,
            file,
            vec![
                param("source", source),
                param("campaignId", campaign_id),
                param("formId", form_id),
                param("createdAfter", created_after),
                param("createdBefore", created_before),
                param("search", search),
            ],
        ),
        ExportCommand::Submissions {
            file,
            campaign_id,
            form_id,
            account_id,
            lead_id,
            matching_status,
            processing_state,
            lead_type,
            submitted_after,
            submitted_before,
            test_lead,
        } => (
            Dataset::Submissions,
            file,
            vec![
                param("campaignId", campaign_id),
                param("formId", form_id),
                param("accountId", account_id),
                param("leadId", lead_id),
                param("matchingStatus", matching_status),
                param("processingState", processing_state),
                param("leadType", lead_type),
                param("submittedAfter", submitted_after),
                param("submittedBefore", submitted_before),
                param("testLead", test_lead),
            ],
        ),
    };
    let mut params: Vec<(String, String)> = params.into_iter().flatten().collect();
    if file.bom {
        params.push(("bom".into(), "true".into()));
    }
    let fail = |e: leadsync::error::AppError| anyhow::anyhow!("{}", e.message());
    let request = export::parse(dataset, file.format, &params).map_err(fail)?;
    let db = leadsync::db::open(&config.database_url).await?;
    let mut started = export::start(&db, request, leadsync::service::audit::Actor::Cli)
        .await
        .map_err(fail)?;
    // A file is written beside its name and renamed when complete.
    let partial = file.output.as_ref().map(|path| {
        let mut name = path.as_os_str().to_owned();
        name.push(".partial");
        std::path::PathBuf::from(name)
    });
    let mut out: Box<dyn tokio::io::AsyncWrite + Unpin> = match &partial {
        Some(path) => Box::new(tokio::fs::File::create(path).await?),
        None => Box::new(tokio::io::stdout()),
    };
    let mut result = Ok(());
    while let Some(chunk) = started.body.next().await {
        match chunk {
            Ok(bytes) => {
                if let Err(e) = out.write_all(&bytes).await {
                    result = Err(anyhow::Error::from(e));
                    break;
                }
            }
            Err(e) => {
                result = Err(anyhow::anyhow!("the export failed: {}", e.message()));
                break;
            }
        }
    }
    if result.is_ok() {
        result = out.flush().await.map_err(Into::into);
    }
    drop(out);
    // The stream's end wrote its audit entry; a failure writes it when the stream goes.
    drop(started);
    match (result, partial, file.output) {
        (Ok(()), Some(partial), Some(path)) => tokio::fs::rename(partial, path).await?,
        (Err(e), Some(partial), _) => {
            let _ = tokio::fs::remove_file(partial).await;
            return Err(e);
        }
        (result, _, _) => result?,
    }
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    config.resolve_secret_key()?;
    let listen = config.listen;
    let public_url = config.public_url();
    let state = AppState::start(config).await?;
    if state.connector.is_configured() {
        let version = state.config.linkedin.linkedin_api_version;
        let today = chrono::Utc::now().date_naive();
        let sunset = version.sunset(leadsync::linkedin::version::SUPPORT_MONTHS);
        tracing::info!(%version, %sunset, "LinkedIn API version (expected sunset)");
        if let Some(warning) = leadsync::linkedin::version::warning(version, today) {
            tracing::warn!("{warning}");
        }
        state.connector.spawn_scheduler();
    } else {
        tracing::warn!(
            "LinkedIn is not configured (LINKEDIN_CLIENT_ID, LINKEDIN_CLIENT_SECRET): no sync"
        );
    }
    // Retention, the event log's purge and outbound webhooks need no LinkedIn app: leads also
    // arrive through the API and the inbound door.
    leadsync::service::retention::spawn_schedule(state.db.clone(), state.config.event_log_days);
    leadsync::service::outbound::Dispatcher::of(&state).spawn();
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(%listen, graphiql = %format!("{public_url}/graphql"), "leadsync is listening");
    axum::serve(listener, leadsync::app(state.clone()))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    // In-flight syncs get a moment to finish; cut off later, they lose nothing.
    state
        .connector
        .drain(std::time::Duration::from_secs(30))
        .await;
    Ok(())
}

async fn sync(config: Config, profile: i64) -> anyhow::Result<()> {
    let state = AppState::start(config).await?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .expect("a valid template"),
    );
    bar.set_message(format!("syncing LinkedIn profile {profile}"));
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    // The bar follows the run's progress events (one per stored page).
    let mut updates = state.bus.subscribe_runs();
    let db = state.db.clone();
    let follow = bar.clone();
    let watcher = tokio::spawn(async move {
        while let Ok(update) = updates.recv().await {
            if let Ok(run) = leadsync::service::connector::get_run(&db, update.run_id).await {
                follow.set_message(format!(
                    "fetched {} lead responses: {} new, {} leads created, {} updated",
                    run.submissions_fetched,
                    run.submissions_created,
                    run.leads_created,
                    run.leads_updated
                ));
            }
        }
    });
    let run = state
        .connector
        .sync_now(profile, leadsync::service::connector::Trigger::Manual)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    watcher.abort();
    bar.finish_and_clear();
    let entry = leadsync::service::audit::Entry::new(
        leadsync::service::audit::Actor::Cli,
        "sync",
        "LinkedInUserProfile",
    )
    .object(profile)
    .details(serde_json::json!({ "syncRunId": run.id.to_string(), "status": run.status }));
    leadsync::service::audit::record_or_log(&state.db, entry).await;
    println!(
        "sync run {}: {} — fetched {}, new submissions {}, duplicates {}, leads created {}, leads updated {}, failed {}",
        run.id,
        run.status,
        run.submissions_fetched,
        run.submissions_created,
        run.duplicates_skipped,
        run.leads_created,
        run.leads_updated,
        run.failed
    );
    if let Some(error) = run.error {
        anyhow::bail!("the sync failed: {error}");
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
