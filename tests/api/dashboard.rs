//! The dashboard at `/`: the page and its files are served from the binary, and in a real
//! browser (headless Chromium driven by playwright-core: tests/browser/dashboard.mjs) a
//! salesperson signs in, sees charts and the latest submissions, and watches a lead that
//! LinkedIn delivers by webhook appear in the live feed.
//!
//! The browser part is skipped (with a `skipped: ...` line on stderr) when node, playwright-core
//! (resolved through NODE_PATH) or Chromium (`$CHROMIUM`, default /usr/bin/chromium) is missing;
//! `LEADSYNC_BROWSER_TEST=require` turns the skip into a failure (CI sets it).

use std::{path::Path, process::Stdio, time::Duration};

use entity::{form_submission, lead};
use leadsync::domain::Role;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader},
    process::{Child, Command},
};

use crate::connector::{Env, authorized_profile, env};

/// The whole browser run: start, sign in, charts, the webhook lead, the feed item.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(200);

async fn get(url: &str, if_none_match: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    if let Some(tag) = if_none_match {
        request = request.header("if-none-match", tag);
    }
    request.send().await.unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("{} has no {name} header", response.url()))
        .to_str()
        .unwrap()
}

/// `GET /` and `/assets/{file}`: types, caching, and nothing else served.
async fn check_files(base: &str) {
    let page = get(&format!("{base}/"), None).await;
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&page, "cache-control"), "no-cache");
    assert!(header(&page, "content-security-policy").contains("script-src 'self'"));
    assert_eq!(header(&page, "referrer-policy"), "no-referrer");
    let etag = header(&page, "etag").to_owned();
    let html = page.text().await.unwrap();
    assert!(html.contains("<title>leadsync dashboard</title>"), "{html}");
    for file in [
        "dashboard.css",
        "dashboard.js",
        "chart.umd.min.js",
        "graphql-ws.min.js",
    ] {
        assert!(
            html.contains(&format!("/assets/{file}")),
            "the page loads {file}"
        );
    }
    let unchanged = get(&format!("{base}/"), Some(&etag)).await;
    assert_eq!(unchanged.status(), 304, "a known ETag revalidates");

    for (file, content_type, needle) in [
        ("dashboard.js", "text/javascript", "leadsyncDashboard"),
        ("dashboard.css", "text/css", "--blue: #0a66c2"),
        ("favicon.svg", "image/svg+xml", "<svg"),
        ("chart.umd.min.js", "text/javascript", "Chart.js v4"),
        ("graphql-ws.min.js", "text/javascript", "graphqlWs"),
        ("chart.js.LICENSE.md", "text/markdown", "MIT License"),
        ("graphql-ws.LICENSE.md", "text/markdown", "MIT License"),
    ] {
        let response = get(&format!("{base}/assets/{file}"), None).await;
        assert_eq!(response.status(), 200, "{file}");
        assert_eq!(
            header(&response, "content-type"),
            if content_type.starts_with("text/") {
                format!("{content_type}; charset=utf-8")
            } else {
                content_type.to_owned()
            },
            "{file}"
        );
        assert!(
            header(&response, "cache-control").contains("max-age="),
            "{file}"
        );
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        let body = response.text().await.unwrap();
        assert!(body.contains(needle), "{file} holds {needle}");
    }
    // Browsers ask for /favicon.ico on pages that link no icon (the OAuth callback, a bookmark).
    let icon = get(&format!("{base}/favicon.ico"), None).await;
    assert_eq!(icon.status(), 200, "/favicon.ico is served");
    assert_eq!(header(&icon, "content-type"), "image/svg+xml");
    assert!(icon.text().await.unwrap().contains("<svg"));
    for missing in [
        "/assets/nope.js",
        "/assets/index.html",
        "/assets/..%2FCargo.toml",
        "/assets/%2E%2E%2F%2E%2E%2FCargo.toml",
        "/assets/",
        "/assets/vendor/chart.umd.min.js",
        "/assets/../Cargo.toml",
    ] {
        let response = get(&format!("{base}{missing}"), None).await;
        assert_eq!(response.status(), 404, "{missing}");
    }
}

/// What the browser run needs, or None (and a `skipped:` line) when something is missing.
async fn browser_prerequisites() -> Option<String> {
    let required = std::env::var("LEADSYNC_BROWSER_TEST").is_ok_and(|v| v == "require");
    let skip = |what: String| {
        assert!(
            !required,
            "LEADSYNC_BROWSER_TEST=require, but the browser test cannot run: {what}"
        );
        eprintln!("skipped: the dashboard browser test needs {what}");
        None
    };
    let succeeds =
        |output: std::io::Result<std::process::Output>| output.is_ok_and(|o| o.status.success());
    if !succeeds(Command::new("node").arg("--version").output().await) {
        return skip("node on PATH".into());
    }
    let resolve = Command::new("node")
        .args(["-e", "require.resolve('playwright-core')"])
        .output()
        .await;
    if !succeeds(resolve) {
        return skip(format!(
            "playwright-core (NODE_PATH={}; install it with \
             `npm install --prefix /tmp/leadsync-browser playwright-core@1` and set \
             NODE_PATH=/tmp/leadsync-browser/node_modules)",
            std::env::var("NODE_PATH").unwrap_or_default()
        ));
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

/// Adds a lead to the sandbox (which tells our webhook) and returns the email of the lead it
/// produced. A LinkedIn test lead makes no lead (and no event): then another one is added.
async fn deliver_lead(env: &Env) -> String {
    let account = env
        .sandbox
        .accounts()
        .into_iter()
        .find(|a| !a.forbidden)
        .expect("an account the member may read");
    for _ in 0..5 {
        let id = env.sandbox.add_leads(&account.id, 1).remove(0);
        let mut submission = None;
        for _ in 0..400 {
            submission = form_submission::Entity::find()
                .filter(form_submission::Column::LinkedinId.eq(&id))
                .one(&env.app.db)
                .await
                .unwrap();
            if submission.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let submission =
            submission.unwrap_or_else(|| panic!("the webhook did not bring lead {id} in"));
        let Some(lead_id) = submission.lead_id else {
            continue;
        };
        let lead = lead::Entity::find_by_id(lead_id)
            .one(&env.app.db)
            .await
            .unwrap()
            .expect("the submission's lead");
        return lead.email.expect("the new lead has an email");
    }
    panic!("five new LinkedIn leads in a row made no lead");
}

/// Stops the browser script: SIGTERM first (playwright closes Chromium), then SIGKILL.
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

#[tokio::test]
async fn dashboard_is_served_and_shows_synced_and_live_leads_in_a_browser() {
    let env = env().await;
    check_files(&env.base).await;
    let Some(chromium) = browser_prerequisites().await else {
        return;
    };

    authorized_profile(&env).await;
    let token = env.app.token(&[Role::LeadgenSalesperson]).await;
    let mut child = Command::new("node")
        .arg("tests/browser/dashboard.mjs")
        .arg(format!("{}/", env.base))
        .arg(&token)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CHROMIUM", &chromium)
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
        let mut email = None;
        loop {
            let Some(line) = lines.next_line().await.unwrap_or(None) else {
                return Err("the browser script ended before printing FEED");
            };
            transcript.push(line.clone());
            if line == "READY" {
                email = Some(deliver_lead(&env).await);
            } else if let Some(item) = line.strip_prefix("FEED ") {
                let Some(email) = email else {
                    return Err("FEED came before READY");
                };
                return Ok((email, item.to_owned()));
            }
        }
    })
    .await;
    let status = match &run {
        Ok(Ok(_)) => tokio::time::timeout(Duration::from_secs(30), child.wait())
            .await
            .ok()
            .and_then(Result::ok),
        _ => None,
    };
    if status.is_none() {
        stop(&mut child).await;
    }
    let stderr = tokio::time::timeout(Duration::from_secs(10), stderr)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let report = format!("stdout:\n{}\nstderr:\n{stderr}", transcript.join("\n"));
    let (email, item) = match run {
        Err(_) => panic!("the browser run took over {BROWSER_TIMEOUT:?}\n{report}"),
        Ok(Err(why)) => panic!("{why}\n{report}"),
        Ok(Ok(found)) => found,
    };
    assert!(
        item.to_lowercase().contains(&email.to_lowercase()),
        "the live feed item names the new lead {email}: {item}\n{report}"
    );
    let status = status.unwrap_or_else(|| panic!("the browser script did not exit\n{report}"));
    assert!(
        status.success(),
        "the browser script failed: {status}\n{report}"
    );
    eprintln!("live feed item: {item}");
}
