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
            let db = leadsync::db::connect(&config.database_url).await?;
            leadsync::db::migrate(&db, &config.database_url).await?;
            tracing::info!("database is up to date");
        }
        Command::Users {
            command: UsersCommand::Create { name, roles },
        } => {
            let db = leadsync::db::connect(&config.database_url).await?;
            leadsync::db::migrate(&db, &config.database_url).await?;
            let created = users::create_user(&db, &name, &roles)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
            let roles: Vec<&str> = created.roles.iter().map(|r| r.as_str()).collect();
            println!(
                "created user {} ({}) with roles {}",
                created.user.id,
                created.user.name,
                roles.join(", ")
            );
            println!("{}", created.token);
        }
        Command::Serve => serve(config).await?,
    }
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    config.resolve_secret_key()?;
    let listen = config.listen;
    let public_url = config.public_url();
    let state = AppState::start(config).await?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(%listen, graphiql = %format!("{public_url}/graphql"), "leadsync is listening");
    axum::serve(listener, leadsync::app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
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
