//! `leadsync doctor`: checks a deployment against its LinkedIn app and says, in words an operator
//! can act on, what is wrong. Every check is harmless: nothing is written, no token is refreshed.

use std::time::Duration;

use chrono::Utc;
use migration::MigratorTrait;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, TransactionTrait};
use serde_json::{Value, json};

use crate::{
    config::{Config, Environment},
    crypto::TokenCipher,
    domain::{AuthorizationStatus, parse_stored},
    linkedin::{
        client::{ApiError, LinkedInClient, OAuthError, SCOPES},
        version::{self, Standing},
    },
    service::health,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    Ok,
    /// Works today, needs attention.
    Warn,
    /// Broken: leadsync cannot do its job until it is fixed.
    Fail,
    /// Not checked, because something it depends on failed or is not configured.
    Skipped,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "OK",
            CheckStatus::Warn => "WARN",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Skipped => "SKIPPED",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Check {
    /// Stable, for scripts: `linkedin.credentials`, `public_url.webhook`, ...
    pub name: String,
    pub status: CheckStatus,
    /// What was found.
    pub detail: String,
    /// What to do about it (empty when nothing).
    pub fix: String,
}

fn check(
    name: &str,
    status: CheckStatus,
    detail: impl Into<String>,
    fix: impl Into<String>,
) -> Check {
    Check {
        name: name.to_owned(),
        status,
        detail: detail.into(),
        fix: fix.into(),
    }
}

/// Whether any check failed (the command's exit status).
pub fn failed(checks: &[Check]) -> bool {
    checks.iter().any(|c| c.status == CheckStatus::Fail)
}

/// Runs every check. `db` is None when the database could not be opened (`db_error` says why).
pub async fn run(
    config: &Config,
    db: Option<&DatabaseConnection>,
    db_error: Option<String>,
) -> Vec<Check> {
    let mut out = Vec::new();
    let client = linkedin_app(config, &mut out);
    if let Some(client) = &client {
        out.push(credentials(client).await);
    }
    let public = config.public_url();
    out.push(public_url(config));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client");
    let redirect_uri = format!("{public}/oauth/linkedin/callback");
    out.push(callback_reachable(&http, &redirect_uri).await);
    out.push(webhook_reachable(&http, config).await);
    match &client {
        Some(c) => out.push(redirect_registered(&http, c).await),
        None => out.push(check(
            "linkedin.redirect_url",
            CheckStatus::Skipped,
            format!("register this exact redirect URL with the LinkedIn app: {redirect_uri}"),
            "",
        )),
    }
    out.push(api_version(config));
    out.push(secret_key(config));
    match db {
        Some(db) => {
            let usable = database(db).await;
            let migrated = usable.status == CheckStatus::Ok;
            out.push(usable);
            if db.get_database_backend() == DatabaseBackend::Postgres {
                out.push(postgres(db).await);
            }
            if migrated {
                out.extend(profiles(config, db, client.as_ref()).await);
            }
        }
        None => out.push(check(
            "database",
            CheckStatus::Fail,
            format!(
                "the database at DATABASE_URL cannot be opened: {}",
                db_error.unwrap_or_default()
            ),
            "check DATABASE_URL, that the server is up and that this user may connect",
        )),
    }
    out
}

fn linkedin_app(config: &Config, out: &mut Vec<Check>) -> Option<LinkedInClient> {
    let l = &config.linkedin;
    let missing: Vec<&str> = [
        ("LINKEDIN_CLIENT_ID", l.linkedin_client_id.is_empty()),
        (
            "LINKEDIN_CLIENT_SECRET",
            l.linkedin_client_secret
                .as_ref()
                .is_none_or(|s| s.expose().is_empty()),
        ),
    ]
    .into_iter()
    .filter_map(|(name, absent)| absent.then_some(name))
    .collect();
    if !missing.is_empty() {
        out.push(check(
            "linkedin.app",
            CheckStatus::Fail,
            format!("{} not set: nothing can sync", missing.join(" and ")),
            "create an app at https://www.linkedin.com/developers/apps with the Lead Sync API product, and set LINKEDIN_CLIENT_ID and LINKEDIN_CLIENT_SECRET from its Auth tab",
        ));
        return None;
    }
    match config.linkedin_client() {
        Ok(Some(client)) => {
            out.push(check(
                "linkedin.app",
                CheckStatus::Ok,
                format!(
                    "client id {} and a client secret are set",
                    l.linkedin_client_id
                ),
                "",
            ));
            Some(client)
        }
        Ok(None) => None,
        Err(e) => {
            out.push(check(
                "linkedin.app",
                CheckStatus::Fail,
                format!("the LinkedIn URLs are not usable: {e}"),
                "check LINKEDIN_AUTH_URL, LINKEDIN_TOKEN_URL and LEADSYNC_PUBLIC_URL",
            ));
            None
        }
    }
}

/// A refresh with a made-up token: LinkedIn checks the client first, so `invalid_client` means
/// the id or secret is wrong, and a refused grant means they were accepted.
async fn credentials(client: &LinkedInClient) -> Check {
    let url = &client.settings().token_url;
    match client.refresh("leadsync-doctor-probe").await {
        Err(OAuthError::Rejected { error, description }) if error == "invalid_client" => check(
            "linkedin.credentials",
            CheckStatus::Fail,
            format!("the token endpoint {url} refused the client id and secret ({description})"),
            "copy the Client ID and Primary Client Secret again from the app's Auth tab (a regenerated secret replaces the old one)",
        ),
        Err(OAuthError::Rejected { .. }) => check(
            "linkedin.credentials",
            CheckStatus::Ok,
            format!("the token endpoint {url} accepts the client id and secret"),
            "",
        ),
        Err(OAuthError::Unavailable(why)) => check(
            "linkedin.credentials",
            CheckStatus::Fail,
            format!("the token endpoint {url} could not be asked: {why}"),
            "check LINKEDIN_TOKEN_URL and that this host can reach it (proxy, firewall, DNS)",
        ),
        Ok(_) => check(
            "linkedin.credentials",
            CheckStatus::Warn,
            format!("the token endpoint {url} issued a token for a made-up refresh token"),
            "LINKEDIN_TOKEN_URL does not behave like LinkedIn's: check it",
        ),
    }
}

/// The real LinkedIn needs an https public URL; any other LinkedIn (the sandbox) takes http.
fn public_url(config: &Config) -> Check {
    let real_linkedin = config.is_real_linkedin();
    let Some(set) = &config.public_url else {
        return check(
            "public_url",
            if real_linkedin {
                CheckStatus::Fail
            } else {
                CheckStatus::Warn
            },
            format!(
                "LEADSYNC_PUBLIC_URL is not set: LinkedIn would be sent to {}",
                config.public_url()
            ),
            "set LEADSYNC_PUBLIC_URL to the https address people and LinkedIn reach this server at",
        );
    };
    match (set.starts_with("https://"), real_linkedin) {
        (true, _) => check(
            "public_url",
            CheckStatus::Ok,
            format!("LEADSYNC_PUBLIC_URL is {set}"),
            "",
        ),
        (false, false) => check(
            "public_url",
            CheckStatus::Ok,
            format!(
                "LEADSYNC_PUBLIC_URL is {set} (fine for this LinkedIn; the real one needs https)"
            ),
            "",
        ),
        (false, true) => check(
            "public_url",
            CheckStatus::Fail,
            format!("LEADSYNC_PUBLIC_URL {set} is not https: LinkedIn only calls https webhooks"),
            "serve leadsync behind TLS (a reverse proxy with a certificate) and set LEADSYNC_PUBLIC_URL to its https address; tunnels such as ngrok are refused",
        ),
    }
}

async fn callback_reachable(http: &reqwest::Client, redirect_uri: &str) -> Check {
    // Without a state our callback answers a page that says so: any answer from leadsync shows
    // the path reaches it.
    match http.get(redirect_uri).send().await {
        Ok(r) if r.status().is_server_error() || r.status() == reqwest::StatusCode::NOT_FOUND => {
            check(
                "public_url.callback",
                CheckStatus::Fail,
                format!("{redirect_uri} answered {}", r.status()),
                "route LEADSYNC_PUBLIC_URL to this server (a proxy may be sending /oauth elsewhere)",
            )
        }
        Ok(_) => check(
            "public_url.callback",
            CheckStatus::Ok,
            format!("{redirect_uri} reaches leadsync"),
            "",
        ),
        Err(e) => check(
            "public_url.callback",
            CheckStatus::Fail,
            format!("{redirect_uri} cannot be reached: {}", error_chain(&e)),
            "start `leadsync serve`, and make LEADSYNC_PUBLIC_URL reach it from browsers",
        ),
    }
}

/// LinkedIn's validation, done as LinkedIn does it: the answer must be our HMAC of the code.
async fn webhook_reachable(http: &reqwest::Client, config: &Config) -> Check {
    let url = format!("{}/webhooks/linkedin", config.public_url());
    let Some(secret) = config
        .linkedin
        .linkedin_client_secret
        .as_ref()
        .map(|s| s.expose().to_owned())
        .filter(|s| !s.is_empty())
    else {
        return check(
            "public_url.webhook",
            CheckStatus::Skipped,
            format!("{url} is not checked without a client secret"),
            "",
        );
    };
    let code = format!("leadsync-doctor-{}", rand::random::<u32>());
    let answer = match http
        .get(&url)
        .query(&[("challengeCode", &code)])
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => r.json::<Value>().await.ok(),
        Ok(r) => {
            return check(
                "public_url.webhook",
                CheckStatus::Fail,
                format!("{url} answered LinkedIn's validation with {}", r.status()),
                "route LEADSYNC_PUBLIC_URL/webhooks/linkedin to this server; LinkedIn blocks a webhook after 3 failed validations",
            );
        }
        Err(e) => {
            return check(
                "public_url.webhook",
                CheckStatus::Fail,
                format!("{url} cannot be reached: {}", error_chain(&e)),
                "start `leadsync serve`, and make LEADSYNC_PUBLIC_URL reach it from the internet (LinkedIn calls it within 3 seconds)",
            );
        }
    };
    let expected = crate::crypto::hmac_hex(&secret, code.as_bytes());
    let given = answer
        .as_ref()
        .and_then(|a| a.get("challengeResponse"))
        .and_then(Value::as_str);
    if given == Some(expected.as_str()) {
        check(
            "public_url.webhook",
            CheckStatus::Ok,
            format!("{url} answers LinkedIn's validation challenge"),
            "",
        )
    } else {
        check(
            "public_url.webhook",
            CheckStatus::Fail,
            format!("{url} answered the validation challenge wrongly"),
            "the server behind LEADSYNC_PUBLIC_URL runs with another LINKEDIN_CLIENT_SECRET (or is not leadsync): LinkedIn would refuse it",
        )
    }
}

/// LinkedIn shows an error page when the redirect URL is not registered, and its sign-in (or a
/// redirect) when it is.
async fn redirect_registered(http: &reqwest::Client, client: &LinkedInClient) -> Check {
    let redirect_uri = &client.settings().redirect_uri;
    let (challenge, _) = LinkedInClient::new_pkce();
    let url = client.authorization_url("leadsync-doctor", challenge);
    match http.get(&url).send().await {
        Ok(r) if r.status().is_client_error() => {
            let page = r.text().await.unwrap_or_default();
            check(
                "linkedin.redirect_url",
                CheckStatus::Fail,
                format!(
                    "LinkedIn refused the redirect URL {redirect_uri}: {}",
                    page_text(&page)
                ),
                format!(
                    "add exactly {redirect_uri} under Authorized redirect URLs in the app's Auth tab"
                ),
            )
        }
        Ok(r) if r.status().is_server_error() => check(
            "linkedin.redirect_url",
            CheckStatus::Warn,
            format!("the authorization page answered {}", r.status()),
            format!("make sure {redirect_uri} is registered exactly in the app's Auth tab"),
        ),
        Ok(_) => check(
            "linkedin.redirect_url",
            CheckStatus::Ok,
            format!(
                "LinkedIn accepts the redirect URL {redirect_uri} (registered exactly as it must be)"
            ),
            "",
        ),
        Err(e) => check(
            "linkedin.redirect_url",
            CheckStatus::Fail,
            format!(
                "the authorization URL cannot be reached: {}",
                error_chain(&e)
            ),
            "check LINKEDIN_AUTH_URL",
        ),
    }
}

fn api_version(config: &Config) -> Check {
    let v = config.linkedin.linkedin_api_version;
    let today = Utc::now().date_naive();
    let sunset = v.sunset(version::SUPPORT_MONTHS);
    let fix = version::warning(v, today).unwrap_or_default();
    match v.standing(today) {
        Standing::Active => check(
            "linkedin.api_version",
            CheckStatus::Ok,
            format!("LinkedIn-Version {v} is active (expected sunset {sunset})"),
            "",
        ),
        Standing::SunsetSoon => check(
            "linkedin.api_version",
            CheckStatus::Warn,
            format!("LinkedIn-Version {v} is expected to be retired on {sunset}"),
            fix,
        ),
        Standing::Retired => check(
            "linkedin.api_version",
            CheckStatus::Fail,
            format!(
                "LinkedIn-Version {v} was expected to be retired on {sunset}: every call answers 426"
            ),
            fix,
        ),
        Standing::Unknown => check(
            "linkedin.api_version",
            CheckStatus::Fail,
            format!("LinkedIn-Version {v} is not a version LinkedIn has published"),
            fix,
        ),
    }
}

fn secret_key(config: &Config) -> Check {
    let production = config.environment == Environment::Production;
    match &config.secret_key {
        Some(key) if hex::decode(key.expose()).is_ok_and(|b| b.len() == 32) => check(
            "secret_key",
            CheckStatus::Ok,
            "LEADSYNC_SECRET_KEY is set (tokens are stored encrypted with it)",
            "",
        ),
        Some(_) => check(
            "secret_key",
            CheckStatus::Fail,
            "LEADSYNC_SECRET_KEY is not 64 hex characters",
            "generate one with `openssl rand -hex 32`; keep it: stored LinkedIn tokens need it",
        ),
        None if production => check(
            "secret_key",
            CheckStatus::Fail,
            "LEADSYNC_SECRET_KEY is not set, and LEADSYNC_ENV=production refuses to start without it",
            "set LEADSYNC_SECRET_KEY (`openssl rand -hex 32`) from your secret store",
        ),
        None => check(
            "secret_key",
            CheckStatus::Warn,
            format!(
                "LEADSYNC_SECRET_KEY is not set: a development key in {} encrypts the tokens",
                config.data_dir.join("secret.key").display()
            ),
            "set LEADSYNC_SECRET_KEY before production (moving the key file loses stored tokens)",
        ),
    }
}

async fn database(db: &DatabaseConnection) -> Check {
    let pending = match migration::Migrator::get_pending_migrations(db).await {
        Ok(p) => p.len(),
        Err(e) => {
            tracing::warn!(error = %e, "doctor: reading the migrations failed");
            return check(
                "database",
                CheckStatus::Fail,
                "the database answers, but its migrations cannot be read",
                "run `leadsync migrate` with a user that may create tables",
            );
        }
    };
    if pending > 0 {
        return check(
            "database",
            CheckStatus::Fail,
            format!("{pending} migration(s) are not applied"),
            "run `leadsync migrate` (or start `leadsync serve`, which migrates first)",
        );
    }
    // Writable: a write in a transaction that is rolled back.
    let writable = async {
        let tx = db.begin().await?;
        tx.execute_raw(Statement::from_string(
            db.get_database_backend(),
            "UPDATE integration_configuration SET updated_at = updated_at",
        ))
        .await?;
        tx.rollback().await
    }
    .await;
    match writable {
        Ok(()) => check(
            "database",
            CheckStatus::Ok,
            "the database is migrated and writable",
            "",
        ),
        Err(e) => {
            tracing::warn!(error = %e, "doctor: the write probe failed");
            check(
                "database",
                CheckStatus::Fail,
                "the database is migrated but refuses writes",
                "give the DATABASE_URL user write access (and, for SQLite, a writable directory)",
            )
        }
    }
}

async fn postgres(db: &DatabaseConnection) -> Check {
    let sql = "SELECT current_setting('server_version_num')::int AS version, \
               current_setting('max_connections')::int AS max_connections, \
               EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') AS trgm";
    let row = db
        .query_one_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
        .await;
    let Ok(Some(row)) = row else {
        return check(
            "database.postgresql",
            CheckStatus::Warn,
            "PostgreSQL's settings cannot be read",
            "",
        );
    };
    let version: i32 = row.try_get("", "version").unwrap_or(0);
    let max_connections: i32 = row.try_get("", "max_connections").unwrap_or(0);
    let trgm: bool = row.try_get("", "trgm").unwrap_or(false);
    let mut problems = Vec::new();
    if version < 130_000 {
        problems.push(format!("PostgreSQL {} is older than 13", version / 10_000));
    }
    if !trgm {
        problems.push("the pg_trgm extension is missing, so lead search scans".to_owned());
    }
    // Each instance keeps up to 20 connections, plus one for migrations.
    if max_connections < 25 {
        problems.push(format!(
            "max_connections is {max_connections}: each leadsync instance uses up to 21"
        ));
    }
    if problems.is_empty() {
        check(
            "database.postgresql",
            CheckStatus::Ok,
            format!(
                "PostgreSQL {}, max_connections {max_connections}, pg_trgm installed",
                version / 10_000
            ),
            "",
        )
    } else {
        check(
            "database.postgresql",
            CheckStatus::Warn,
            problems.join("; "),
            "upgrade to PostgreSQL 13 or later, `CREATE EXTENSION pg_trgm` as a superuser, and allow 21 connections per instance",
        )
    }
}

/// Token health, scopes, and one harmless call per authorized profile.
async fn profiles(
    config: &Config,
    db: &DatabaseConnection,
    client: Option<&LinkedInClient>,
) -> Vec<Check> {
    let profiles = match crate::service::linkedin::list_profiles(db).await {
        Ok(p) => p,
        Err(_) => return Vec::new(),
    };
    if profiles.is_empty() {
        return vec![check(
            "profiles",
            CheckStatus::Warn,
            "no LinkedIn user profile exists yet: nothing syncs",
            "a salesperson creates one (createLinkedInUserProfile) and authorizes it on LinkedIn",
        )];
    }
    let cipher = read_key(config).map(|k| TokenCipher::new(&k));
    let now = Utc::now();
    let mut out = Vec::new();
    for p in profiles {
        let name = format!("profile.{}", p.id);
        let who = format!("profile {} \"{}\"", p.id, p.name);
        let status = parse_stored::<AuthorizationStatus>(&p.authorization_status).ok();
        if status != Some(AuthorizationStatus::Authorized) {
            out.push(check(
                &name,
                CheckStatus::Warn,
                format!("{who} is {}: it does not sync", p.authorization_status),
                "authorize it (authorizeLinkedInUserProfile gives the LinkedIn URL)",
            ));
            continue;
        }
        let granted: Vec<&str> = p
            .scopes
            .as_deref()
            .unwrap_or_default()
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .collect();
        let missing: Vec<&str> = SCOPES
            .iter()
            .copied()
            .filter(|s| !granted.contains(s))
            .collect();
        if !missing.is_empty() {
            out.push(check(
                &name,
                CheckStatus::Fail,
                format!("{who} was granted without {}", missing.join(", ")),
                "add the Lead Sync API (and Advertising API) products to the LinkedIn app, then authorize the profile again",
            ));
            continue;
        }
        let due = health::profile_warning(&p, now);
        let token = cipher.as_ref().and_then(|c| {
            p.access_token_enc
                .as_deref()
                .and_then(|t| c.decrypt(t).ok())
        });
        let (Some(client), Some(token)) = (client, token) else {
            out.push(check(
                &name,
                CheckStatus::Fail,
                format!("{who}'s stored token cannot be read with this deployment's secret key"),
                "run doctor with the LEADSYNC_SECRET_KEY the server uses; if the key changed, authorize the profile again",
            ));
            continue;
        };
        let probe = client
            .page(
                &token,
                "/adAccounts",
                &[
                    ("q", json!("search")),
                    ("search", json!({"status": {"values": ["ACTIVE"]}})),
                ],
                0,
                1,
            )
            .await;
        out.push(match probe {
            Ok(_) => check(
                &name,
                if due.is_some() {
                    CheckStatus::Warn
                } else {
                    CheckStatus::Ok
                },
                match &due {
                    Some(w) => format!("{who} reaches LinkedIn; {w}"),
                    None => format!(
                        "{who} reaches LinkedIn with every scope; authorize again by {}",
                        health::reauthorization(&p)
                            .map(|r| r.by.format("%Y-%m-%d").to_string())
                            .unwrap_or_else(|| "—".into())
                    ),
                },
                if due.is_some() {
                    "authorize it again (authorizeLinkedInUserProfile gives the LinkedIn URL)"
                } else {
                    ""
                },
            ),
            Err(ApiError::Unauthorized { .. }) if p.refresh_token_enc.is_some() => check(
                &name,
                CheckStatus::Warn,
                format!("{who}'s access token is no longer accepted; the next sync refreshes it"),
                "",
            ),
            Err(ApiError::Unauthorized { message, .. }) => check(
                &name,
                CheckStatus::Fail,
                format!("LinkedIn refuses {who}'s token ({message}) and there is no refresh token"),
                "authorize it again (authorizeLinkedInUserProfile gives the LinkedIn URL)",
            ),
            Err(ApiError::VersionInactive(m)) => check(
                &name,
                CheckStatus::Fail,
                version::inactive_message(
                    config.linkedin.linkedin_api_version,
                    &m,
                    now.date_naive(),
                ),
                "set LINKEDIN_API_VERSION to a newer version",
            ),
            Err(e) => check(
                &name,
                CheckStatus::Fail,
                format!("{who}: {e}"),
                "see LinkedIn's answer above",
            ),
        });
    }
    out
}

/// The key tokens are encrypted with, without creating one (doctor changes nothing).
fn read_key(config: &Config) -> Option<[u8; 32]> {
    let text = match &config.secret_key {
        Some(k) => k.expose().to_owned(),
        None => std::fs::read_to_string(config.data_dir.join("secret.key")).ok()?,
    };
    hex::decode(text.trim()).ok()?.try_into().ok()
}

/// The innermost cause ("Connection refused", "dns error"): what an operator can act on.
fn error_chain(e: &reqwest::Error) -> String {
    let mut deepest: &dyn std::error::Error = e;
    while let Some(s) = deepest.source() {
        deepest = s;
    }
    if e.is_timeout() {
        format!("no answer within 10 s ({deepest})")
    } else {
        deepest.to_string()
    }
}

/// The readable text of an error page, short: its body's words, without the head, styles or
/// scripts (LinkedIn's pages carry all three).
fn page_text(html: &str) -> String {
    let mut rest = html;
    let lower = html.to_ascii_lowercase();
    if let Some(start) = lower.find("<body") {
        rest = &html[start..];
    }
    let mut text = String::new();
    let mut skipping: Option<&'static str> = None;
    while let Some(open) = rest.find('<') {
        if skipping.is_none() {
            text.push_str(&rest[..open]);
        }
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let tag = rest[open + 1..open + close].to_ascii_lowercase();
        let name = tag
            .split(|c: char| c.is_whitespace() || c == '/')
            .find(|n| !n.is_empty());
        const SKIPPED: [&str; 3] = ["style", "script", "head"];
        let closing = tag.starts_with('/');
        match (
            skipping,
            name.and_then(|n| SKIPPED.into_iter().find(|s| *s == n)),
        ) {
            (None, Some(n)) if !closing => skipping = Some(n),
            (Some(n), Some(m)) if closing && n == m => skipping = None,
            _ => {}
        }
        text.push(' ');
        rest = &rest[open + close + 1..];
    }
    if skipping.is_none() {
        text.push_str(rest);
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let joined = words.join(" ");
    joined.chars().take(300).collect()
}

/// The report as the command prints it.
pub fn render(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        let mark = match c.status {
            CheckStatus::Ok => " ok ",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Skipped => "skip",
        };
        out.push_str(&format!("[{mark}] {}: {}\n", c.name, c.detail));
        if !c.fix.is_empty() {
            out.push_str(&format!("       fix: {}\n", c.fix));
        }
    }
    let failures = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .count();
    let warnings = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Warn)
        .count();
    out.push_str(&match (failures, warnings) {
        (0, 0) => "All checks passed.\n".to_owned(),
        (0, w) => format!("No failures; {w} warning(s).\n"),
        (f, w) => format!("{f} check(s) failed, {w} warning(s).\n"),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_pages_text_leaves_out_its_head_styles_and_scripts() {
        let page = "<!DOCTYPE html><html><head><title>LinkedIn: error</title>\
                    <style>body{margin:0}</style></head><body><main>\
                    <h1>Bummer, something went wrong.</h1><script>var x = 1;</script>\
                    <p>The redirect_uri does not match</p></main></body></html>";
        assert_eq!(
            page_text(page),
            "Bummer, something went wrong. The redirect_uri does not match"
        );
        assert_eq!(page_text("plain <b>text</b>"), "plain text");
    }
}
