//! `leadsync demo` starts everything, serves the dashboard and GraphQL, and a second run reuses
//! its data.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use serde_json::{Value, json};

struct Demo {
    child: Child,
    base: String,
    token: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the demo and reads its banner: the dashboard URL and the token (within a bound).
fn start(dir: &std::path::Path) -> Demo {
    let mut child = Command::new(env!("CARGO_BIN_EXE_leadsync"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "demo",
            "--lead-every-secs",
            "1",
            "--demo-dir",
        ])
        .arg(dir)
        .env("LEADSYNC_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start leadsync demo");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut base = None;
    let mut token = None;
    while token.is_none() {
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the demo printed its banner within two minutes");
        if let Some(url) = line.strip_prefix("Dashboard: ") {
            base = Some(url.trim_end_matches('/').to_owned());
        }
        if line.starts_with("lsk_") {
            token = Some(line.trim().to_owned());
        }
    }
    Demo {
        child,
        base: base.expect("a dashboard URL"),
        token: token.unwrap(),
    }
}

async fn graphql(demo: &Demo, query: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{}/graphql", demo.base))
        .bearer_auth(&demo.token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The sandbox adds a lead every second: the count of synced submissions grows.
async fn assert_leads_keep_arriving(demo: &Demo, from: i64) {
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = graphql(demo, "{ syncStatus { submissionsSynced } }").await;
        if now["data"]["syncStatus"]["submissionsSynced"]
            .as_i64()
            .unwrap()
            > from
        {
            return;
        }
    }
    panic!("no new lead arrived within 10 s");
}

#[tokio::test]
async fn the_demo_serves_the_dashboard_and_graphql_and_restarts_on_its_data() {
    let dir = std::env::temp_dir().join(format!("leadsync-demo-{}", rand::random::<u32>()));
    let first = start(&dir);
    let page = reqwest::get(format!("{}/", first.base)).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().to_lowercase().contains("<html"));
    let data = graphql(&first, "{ viewer { name roles } syncStatus { submissionsSynced leadsCreated } linkedInUserProfiles { authorizationStatus } }").await;
    assert!(data.get("errors").is_none(), "{data}");
    assert_eq!(
        data["data"]["viewer"]["roles"],
        json!(["SYSTEM_ADMINISTRATOR"])
    );
    assert_eq!(
        data["data"]["linkedInUserProfiles"][0]["authorizationStatus"],
        "AUTHORIZED"
    );
    // Sponsored and organic leads alike.
    let sources = graphql(&first, "{ leadsBySource { source count } }").await;
    for source in [
        "LINKEDIN_SPONSORED_CONTENT",
        "LINKEDIN_COMPANY_PAGE",
        "LINKEDIN_PRODUCT_PAGE",
        "LINKEDIN_EVENT",
    ] {
        assert!(
            sources["data"]["leadsBySource"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["source"] == source && c["count"].as_i64().unwrap() > 0),
            "the demo shows {source} leads: {sources}"
        );
    }
    let synced = data["data"]["syncStatus"]["submissionsSynced"]
        .as_i64()
        .unwrap();
    assert!(synced > 0, "the first sync brought leads in");
    assert_leads_keep_arriving(&first, synced).await;
    let token = first.token.clone();
    drop(first);

    let second = start(&dir);
    assert_eq!(
        second.token, token,
        "the second run reuses the data and its administrator"
    );
    let data = graphql(&second, "{ linkedInUserProfiles { id } }").await;
    assert_eq!(
        data["data"]["linkedInUserProfiles"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    drop(second);
    std::fs::remove_dir_all(&dir).ok();
}
