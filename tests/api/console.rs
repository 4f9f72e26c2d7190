//! The console at `/console/`: the page and every module it loads are served from the binary,
//! and in a real browser (headless Chromium driven by playwright-core: tests/browser/console.mjs)
//! the retired connector's procedures are walked in order by the people they are for, an
//! administrator, a salesperson and a system administrator, against the LinkedIn sandbox's sign-in
//! and permissions pages; axe-core checks every page. Then the database shows what the clicks did.
//! The outbound webhooks go to a receiver the script runs on 127.0.0.1, through a dispatcher this
//! test runs (http and loopback URLs allowed, an endpoint disabled after 1 s of failing).
//!
//! The browser part is skipped (with a `skipped: ...` line on stderr) when node, playwright-core
//! or axe-core (resolved through NODE_PATH) or Chromium (`$CHROMIUM`, default /usr/bin/chromium)
//! is missing; `LEADSYNC_BROWSER_TEST=require` turns the skip into a failure (CI sets it).
//! Screenshots of every page go to `target/console-screenshots/` (under `CARGO_TARGET_DIR` when
//! it is set).

use std::{
    collections::{BTreeSet, HashMap, VecDeque},
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    http::{HeaderMap, Request},
};
use entity::{
    api_token, api_user, api_user_role, field_mapping, form_submission, integration_configuration,
    lead, linkedin_profile, linkedin_profile_account, matching_strategy, matching_strategy_field,
    webhook_delivery, webhook_endpoint,
};
use http_body_util::BodyExt;
use leadsync::{
    domain::Role,
    linkedin::sandbox::SandboxConfig,
    service::{outbound::Dispatcher, users},
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader},
    process::{Child, Command},
};
use tower::ServiceExt;

use crate::{common::TestApp, connector::env_with};

/// The whole browser run, from starting node to its exit (the script gives up at 210 s).
const BROWSER_TIMEOUT: Duration = Duration::from_secs(240);

/// The procedures console.mjs walks, in order: each must print `PASS <name>`.
const PROCEDURES: &[&str] = &[
    "Sign in",
    "Create a field mapping",
    "Create a lead matching strategy",
    "Preview a lead matching strategy",
    "Activate a lead matching strategy",
    "Delete a lead matching strategy",
    "Create a LinkedIn user profile",
    "Authorize a LinkedIn user profile",
    "Sync submissions",
    "View a lead's LinkedIn Lead Info",
    "Download leads",
    "Download a lead's personal data",
    "Drill into form submissions",
    "Register an outbound webhook",
    "Turn off customer journeys",
    "Salesperson sees no administrator menus",
    "Create a user and revoke its token",
    "Read the audit log",
];

/// The fields console.mjs adds to the strategy it creates.
const STRATEGY_FIELDS: [&str; 2] = ["COMPANY_NAME", "EMAIL"];

/// Sends a GET through the router: status, headers, body.
async fn get(app: &TestApp, uri: &str) -> (u16, HeaderMap, Vec<u8>) {
    let response = app
        .router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, body.to_vec())
}

fn header<'a>(headers: &'a HeaderMap, name: &str, uri: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("{uri} has no {name} header"))
        .to_str()
        .unwrap()
}

/// The module specifiers of a JavaScript module: `import ... from '…'`, `export ... from '…'`,
/// `import '…'` and `import('…')`.
fn module_specifiers(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for keyword in ["import", "from"] {
        let mut start = 0;
        while let Some(offset) = source[start..].find(keyword) {
            let at = start + offset;
            start = at + keyword.len();
            let before = source[..at].chars().next_back();
            let after = source[start..].chars().next();
            let part_of_word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
            if before.is_some_and(|c| part_of_word(c) || c == '.')
                || after.is_some_and(part_of_word)
            {
                continue;
            }
            let mut rest = source[start..].trim_start();
            if keyword == "import" {
                rest = rest.strip_prefix('(').unwrap_or(rest).trim_start();
            }
            let Some(quote) = rest.chars().next().filter(|c| matches!(c, '\'' | '"')) else {
                continue;
            };
            if let Some(end) = rest[1..].find(quote) {
                found.push(rest[1..1 + end].to_owned());
            }
        }
    }
    found
}

/// Where a specifier found in `/assets/{file}` points: `Some("/assets/x.js")`, or None for text
/// that only looked like an import (it has spaces, say). Panics on a bare specifier, which no
/// browser resolves without an import map (and the CSP allows none).
fn resolve(specifier: &str, importer: &str) -> Option<String> {
    if let Some(name) = specifier.strip_prefix("./") {
        return Some(format!("/assets/{name}"));
    }
    if specifier.starts_with('/') {
        return Some(specifier.to_owned());
    }
    let bare = !specifier.is_empty()
        && specifier
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@/._-".contains(c));
    assert!(
        !bare,
        "{importer} imports the bare specifier {specifier:?}, which a browser cannot resolve"
    );
    None
}

/// The values of `attribute="…"` in an HTML text.
fn attribute_values(html: &str, attribute: &str) -> Vec<String> {
    let needle = format!(" {attribute}=\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest.find('"').map(|end| rest[..end].to_owned())
        })
        .collect()
}

fn content_type_for(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("md") => "text/markdown; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => panic!("{path}: no expected content type for this kind of file"),
    }
}

#[tokio::test]
async fn console_page_and_every_module_it_loads_are_served() {
    let app = TestApp::new().await;

    let (status, headers, _) = get(&app, "/console").await;
    assert!(matches!(status, 301 | 308), "GET /console answers {status}");
    assert_eq!(header(&headers, "location", "/console"), "/console/");

    let (status, headers, body) = get(&app, "/console/").await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "content-type", "/console/"),
        "text/html; charset=utf-8"
    );
    let csp = header(&headers, "content-security-policy", "/console/");
    for directive in [
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "the CSP has {directive}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(
        header(&headers, "referrer-policy", "/console/"),
        "no-referrer"
    );
    assert_eq!(header(&headers, "x-frame-options", "/console/"), "DENY");
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("<title>leadsync console</title>"), "{html}");
    assert!(
        html.contains("<script type=\"module\" src=\"/assets/console-app.js\"></script>"),
        "the page starts the console as a module: {html}"
    );
    assert!(
        !html.contains(" style=\"") && !html.contains("<style"),
        "no inline styles (the CSP refuses them)"
    );

    // Everything the page links to under /assets, and every module reachable by imports.
    let linked: Vec<String> = attribute_values(&html, "src")
        .into_iter()
        .chain(attribute_values(&html, "href"))
        .filter(|v| v.starts_with("/assets/"))
        .collect();
    let mut modules = VecDeque::from([String::from("/assets/console-app.js")]);
    let mut seen: BTreeSet<String> = linked.iter().cloned().collect();
    seen.insert("/assets/console-app.js".into());
    let mut imported = BTreeSet::new();
    while let Some(module) = modules.pop_front() {
        let (status, headers, body) = get(&app, &module).await;
        assert_eq!(status, 200, "{module} is imported but not served");
        assert_eq!(
            header(&headers, "content-type", &module),
            "text/javascript; charset=utf-8",
            "{module}"
        );
        let source = String::from_utf8(body).unwrap();
        for specifier in module_specifiers(&source) {
            let Some(target) = resolve(&specifier, &module) else {
                continue;
            };
            assert!(
                target.starts_with("/assets/"),
                "{module} imports {specifier}, outside /assets/"
            );
            imported.insert(target.clone());
            if seen.insert(target.clone()) {
                modules.push_back(target);
            }
        }
    }
    for page in [
        "console-lib.js",
        "console-strategies.js",
        "console-mappings.js",
        "console-profiles.js",
        "console-leads.js",
        "console-submissions.js",
        "console-settings.js",
        "console-users.js",
        "console-webhooks.js",
        "preact.module.js",
        "preact-hooks.module.js",
        "htm.module.js",
    ] {
        assert!(
            imported.contains(&format!("/assets/{page}")),
            "the console imports {page} (found {imported:?})"
        );
    }
    for path in &seen {
        let (status, headers, _) = get(&app, path).await;
        assert_eq!(
            status, 200,
            "{path} is loaded by the console but not served"
        );
        assert_eq!(
            header(&headers, "content-type", path),
            content_type_for(path),
            "{path}"
        );
        assert_eq!(header(&headers, "x-content-type-options", path), "nosniff");
    }

    // The licenses of what is vendored, linked from the page's footer.
    for (file, needle) in [
        ("preact.LICENSE.md", "MIT License"),
        ("htm.LICENSE.md", "Apache License"),
        ("graphql-ws.LICENSE.md", "MIT License"),
    ] {
        let path = format!("/assets/{file}");
        assert!(linked.contains(&path), "the page links to {file}");
        let (status, headers, body) = get(&app, &path).await;
        assert_eq!(status, 200, "{file}");
        assert_eq!(
            header(&headers, "content-type", &path),
            "text/markdown; charset=utf-8"
        );
        assert!(
            String::from_utf8_lossy(&body).contains(needle),
            "{file} holds {needle}"
        );
    }
}

#[test]
fn module_specifiers_are_found_in_every_form() {
    let source = r#"import { a, b } from '/assets/one.js';
import*as c from"/assets/two.js";export { d } from './three.js';
import '/assets/four.js'; const e = import("/assets/five.js");
const f = Array.from('xyz'); const imported = "x"; // from nothing
"#;
    let found: Vec<Option<String>> = module_specifiers(source)
        .iter()
        .map(|s| resolve(s, "test"))
        .collect();
    let mut found: Vec<String> = found.into_iter().flatten().collect();
    found.sort();
    assert_eq!(
        found,
        [
            "/assets/five.js",
            "/assets/four.js",
            "/assets/one.js",
            "/assets/three.js",
            "/assets/two.js"
        ]
    );
}

/// What the browser run needs (Chromium's path), or None (and a `skipped:` line) when something
/// is missing.
async fn browser_prerequisites() -> Option<String> {
    let required = std::env::var("LEADSYNC_BROWSER_TEST").is_ok_and(|v| v == "require");
    let skip = |what: String| {
        assert!(
            !required,
            "LEADSYNC_BROWSER_TEST=require, but the console browser test cannot run: {what}"
        );
        eprintln!("skipped: the console browser test needs {what}");
        None
    };
    let succeeds =
        |output: std::io::Result<std::process::Output>| output.is_ok_and(|o| o.status.success());
    if !succeeds(Command::new("node").arg("--version").output().await) {
        return skip("node on PATH".into());
    }
    for (module, package) in [
        ("playwright-core", "playwright-core@1"),
        ("axe-core/axe.min.js", "axe-core@4"),
    ] {
        let resolve = Command::new("node")
            .args(["-e", &format!("require.resolve('{module}')")])
            .output()
            .await;
        if !succeeds(resolve) {
            return skip(format!(
                "{module} (NODE_PATH={}; install it with \
                 `npm install --prefix /tmp/leadsync-browser {package}` and set \
                 NODE_PATH=/tmp/leadsync-browser/node_modules)",
                std::env::var("NODE_PATH").unwrap_or_default()
            ));
        }
    }
    let chromium = std::env::var("CHROMIUM")
        .ok()
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return skip(format!(
            "Chromium at {chromium} (`apt-get install chromium`, or set CHROMIUM)"
        ));
    }
    Some(chromium)
}

/// Stops the browser script: SIGTERM first (it closes Chromium), then SIGKILL.
async fn stop(child: &mut Child) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .is_ok()
        {
            return;
        }
    }
    let _ = child.kill().await;
}

/// `target/console-screenshots`, under CARGO_TARGET_DIR when it is set; emptied.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("console-screenshots");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the screenshot directory");
    dir
}

async fn create_user(app: &TestApp, name: &str, role: Role) -> (i64, String) {
    let created = users::create_user(&app.db, name, &[role])
        .await
        .expect("create user");
    (created.user.id, created.token)
}

#[tokio::test]
async fn console_procedures_pass_in_a_browser() {
    let Some(chromium) = browser_prerequisites().await else {
        return;
    };
    let started = Instant::now();
    let env = env_with(
        SandboxConfig {
            leads_per_account: 40,
            interactive_sign_in: true,
            ..Default::default()
        },
        |config| {
            // The script's receiver is http://127.0.0.1:<port>; its failing endpoint is disabled
            // after failing for a second, so the console's warning shows within the run.
            let w = &mut config.webhooks;
            w.webhooks_allow_http = true;
            w.webhooks_allow_private = true;
            w.webhooks_timeout_secs = 5;
            w.webhooks_retry_base_ms = 200;
            w.webhooks_retry_cap_secs = 1;
            w.webhooks_disable_after_secs = 1;
            w.webhooks_poll_ms = 100;
        },
    )
    .await;
    let db = &env.app.db;
    // The server's own dispatcher (`leadsync serve` runs one): sends what the console registers.
    let dispatcher = Dispatcher::of(&env.app.state).spawn();
    let (_, admin) = create_user(&env.app, "Morgan Marketing", Role::LeadgenAdministrator).await;
    let (sales_id, sales) = create_user(&env.app, "Sam Sales", Role::LeadgenSalesperson).await;
    let (_, system) = create_user(&env.app, "Sys Admin", Role::SystemAdministrator).await;
    let shots = screenshot_dir();

    let mut child = Command::new("node")
        .arg("tests/browser/console.mjs")
        .arg(&env.base)
        .args([&admin, &sales, &system])
        .arg(&shots)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CHROMIUM", &chromium)
        .env_remove("CONSOLE_TEST_RUN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start node");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stderr = child.stderr.take().unwrap();
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });

    let mut transcript = Vec::new();
    let run = tokio::time::timeout(BROWSER_TIMEOUT, async {
        while let Some(line) = lines.next_line().await.unwrap_or(None) {
            eprintln!("console.mjs: {line}");
            transcript.push(line);
        }
        child.wait().await.ok()
    })
    .await;
    let status = match run {
        Ok(status) => status,
        Err(_) => {
            stop(&mut child).await;
            None
        }
    };
    let stderr = tokio::time::timeout(Duration::from_secs(10), stderr)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let browser_time = started.elapsed();
    let report = format!("stdout:\n{}\nstderr:\n{stderr}", transcript.join("\n"));
    let status = status.unwrap_or_else(|| {
        panic!("the browser run did not end within {BROWSER_TIMEOUT:?}\n{report}")
    });

    let failed: Vec<&String> = transcript
        .iter()
        .filter(|l| l.starts_with("FAIL "))
        .collect();
    assert!(
        failed.is_empty(),
        "procedures failed: {failed:#?}\n{report}"
    );
    let passed: BTreeSet<&str> = transcript
        .iter()
        .filter_map(|l| l.strip_prefix("PASS "))
        .map(|l| l.rsplit_once(" (").map_or(l, |(name, _)| name))
        .collect();
    let missing: Vec<&&str> = PROCEDURES
        .iter()
        .filter(|p| !passed.contains(**p))
        .collect();
    assert!(missing.is_empty(), "no PASS line for {missing:?}\n{report}");
    assert!(
        status.success(),
        "the browser script failed: {status}\n{report}"
    );
    let names: HashMap<&str, &str> = transcript
        .iter()
        .filter_map(|l| l.strip_prefix("NAME "))
        .filter_map(|l| l.split_once(' '))
        .collect();
    let name = |kind: &str| {
        *names
            .get(kind)
            .unwrap_or_else(|| panic!("no NAME {kind} line\n{report}"))
    };

    // What the clicks did, as the database has it.
    // The field mapping was added and deleted again.
    let mapping = field_mapping::Entity::find()
        .filter(field_mapping::Column::LinkedinField.eq(name("mapping")))
        .count(db)
        .await
        .unwrap();
    assert_eq!(mapping, 0, "the browser-made field mapping was deleted");

    // The strategy made in the browser is the one active strategy, with the fields added; the
    // throwaway is gone.
    let strategies = matching_strategy::Entity::find().all(db).await.unwrap();
    let active: Vec<_> = strategies.iter().filter(|s| s.is_active).collect();
    assert_eq!(active.len(), 1, "{strategies:?}");
    assert_eq!(active[0].name, name("strategy"));
    assert!(
        !strategies.iter().any(|s| s.name == name("throwaway")),
        "the throwaway strategy was deleted: {strategies:?}"
    );
    let field_ids: Vec<i64> = matching_strategy_field::Entity::find()
        .filter(matching_strategy_field::Column::StrategyId.eq(active[0].id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.field_mapping_id)
        .collect();
    let fields: BTreeSet<String> = field_mapping::Entity::find()
        .filter(field_mapping::Column::Id.is_in(field_ids))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.linkedin_field)
        .collect();
    assert_eq!(
        fields,
        STRATEGY_FIELDS.iter().map(|f| f.to_string()).collect()
    );

    // The salesperson's profile is authorized, with its accounts, and its syncs brought leads.
    let profile = linkedin_profile::Entity::find()
        .filter(linkedin_profile::Column::Name.eq(name("profile")))
        .one(db)
        .await
        .unwrap()
        .expect("the profile made in the browser");
    assert_eq!(profile.authorization_status, "AUTHORIZED");
    assert_eq!(
        profile.owner_user_id,
        Some(sales_id),
        "the salesperson owns it"
    );
    let accounts = linkedin_profile_account::Entity::find()
        .filter(linkedin_profile_account::Column::ProfileId.eq(profile.id))
        .count(db)
        .await
        .unwrap();
    assert!(accounts > 0, "the profile has associated accounts");
    let submissions = form_submission::Entity::find()
        .filter(form_submission::Column::ProfileId.eq(profile.id))
        .filter(form_submission::Column::LeadId.is_not_null())
        .count(db)
        .await
        .unwrap();
    assert!(submissions > 0, "the profile's syncs made leads");
    assert!(lead::Entity::find().count(db).await.unwrap() > 0);

    // The salesperson's download (through a signed link) is an export audited as them, with the
    // search (not recorded) and as CSV.
    let downloads = entity::audit_entry::Entity::find()
        .filter(entity::audit_entry::Column::Operation.eq("exportLeads"))
        .all(db)
        .await
        .unwrap();
    assert!(
        downloads.iter().any(|e| {
            let details = e.details.as_ref().unwrap();
            e.actor_user_id == Some(sales_id)
                && details["format"] == "csv"
                && details["filter"]["search"] == "[not recorded]"
                && details["complete"] == true
        }),
        "the browser's download is audited as the salesperson: {downloads:?}"
    );

    // Journeys are off.
    let configuration = integration_configuration::Entity::find()
        .one(db)
        .await
        .unwrap()
        .expect("the configuration row");
    assert!(
        !configuration.create_journeys_for_campaigns,
        "the journeys switch is off"
    );

    // The user made in the browser is a salesperson whose every token is revoked.
    let user = api_user::Entity::find()
        .filter(api_user::Column::Name.eq(name("user")))
        .one(db)
        .await
        .unwrap()
        .expect("the user made in the browser");
    let roles: Vec<String> = api_user_role::Entity::find()
        .filter(api_user_role::Column::UserId.eq(user.id))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.role)
        .collect();
    assert_eq!(roles, [Role::LeadgenSalesperson.as_str()]);
    let tokens = api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user.id))
        .all(db)
        .await
        .unwrap();
    assert!(!tokens.is_empty(), "the user was issued a token");
    assert!(
        tokens.iter().all(|t| t.revoked_at.is_some()),
        "every token of the user is revoked: {tokens:?}"
    );

    // The webhook endpoint registered in the browser is there, enabled (disabled and enabled
    // again), and its deliveries reached the script's receiver, one of them twice (replayed); the
    // failing one was deleted with its deliveries. The tests went through the API.
    dispatcher.abort();
    let endpoints = webhook_endpoint::Entity::find().all(db).await.unwrap();
    let endpoint = endpoints
        .iter()
        .find(|e| e.description == name("webhook"))
        .unwrap_or_else(|| panic!("the endpoint made in the browser: {endpoints:?}"));
    assert!(
        endpoint.url.starts_with("http://127.0.0.1:") && endpoint.url.ends_with("/hooks/ok"),
        "{endpoint:?}"
    );
    assert!(endpoint.enabled, "enabled again: {endpoint:?}");
    assert_eq!(endpoint.event_kinds, "lead.created,lead.updated");
    assert!(
        !endpoints
            .iter()
            .any(|e| e.description == name("failingWebhook")),
        "the failing endpoint was deleted: {endpoints:?}"
    );
    assert_eq!(endpoints.len(), 1, "{endpoints:?}");
    let deliveries = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
        .all(db)
        .await
        .unwrap();
    assert!(
        deliveries
            .iter()
            .any(|d| d.event_type == "lead.updated" && d.status == "SUCCEEDED"),
        "the edit's lead.updated was delivered: {deliveries:?}"
    );
    assert!(
        deliveries
            .iter()
            .any(|d| d.status == "SUCCEEDED" && d.attempts >= 2 && d.last_status_code == Some(200)),
        "the replayed delivery succeeded again: {deliveries:?}"
    );
    assert!(
        deliveries.iter().all(|d| d.status != "FAILED"),
        "{deliveries:?}"
    );
    let orphans = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.ne(endpoint.id))
        .count(db)
        .await
        .unwrap();
    assert_eq!(orphans, 0, "the failing endpoint's deliveries went with it");
    let tests = entity::audit_entry::Entity::find()
        .filter(entity::audit_entry::Column::Operation.eq("sendTestWebhook"))
        .all(db)
        .await
        .unwrap();
    assert!(
        tests.len() >= 2,
        "Send test, before and after rotating the secret, is audited: {tests:?}"
    );

    let screenshots = std::fs::read_dir(&shots)
        .map(|d| d.filter_map(Result::ok).count())
        .unwrap_or(0);
    assert!(screenshots >= PROCEDURES.len(), "{screenshots} screenshots");
    eprintln!(
        "console: {} procedures passed in {:.1} s; {screenshots} screenshots in {}",
        PROCEDURES.len(),
        browser_time.as_secs_f64(),
        shots.display()
    );
}
