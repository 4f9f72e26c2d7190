//! The leadsync benchmark suite (`cargo bench`; `BENCH_SCALE=small cargo bench` for CI).
//!
//! Every figure is measured against its own baseline in the same run, on the same database, so a
//! ratio holds on a noisy machine. The suite makes its own data: a temporary SQLite file always,
//! and a uniquely named PostgreSQL database (dropped at the end) when `BENCH_DATABASE_URL` names a
//! server. It prints a table per database and writes the same figures as JSON to
//! `target/bench/results-{sqlite,postgres}.json`. docs/benchmarks.md explains each figure.
//!
//! Settings (flags after `cargo bench --`, or environment variables):
//! - `--scale full|small` / `BENCH_SCALE`: the issue's sizes (default) or seconds-long CI sizes.
//! - `--only ingest,backfill,matching,reads,aggregates,fanout,scale` / `BENCH_ONLY`: a subset.
//! - `--runs N` / `BENCH_RUNS`: measured runs per figure (default 3; a warm-up always comes first).
//! - `BENCH_DATABASE_URL=postgres://user@127.0.0.1:5432/postgres`: also run on PostgreSQL
//!   (`BENCH_SQLITE=0`: on PostgreSQL only).
//!
//! The server side of the HTTP figures (reads, aggregates, fan-out, footprint) runs in a child
//! process (this same executable, re-executed), so its resident memory is the server's alone and
//! its SQL statements are counted by its own metric callback. All traffic stays on 127.0.0.1 and
//! every loop stops by count or by deadline.

use std::{
    collections::{BTreeMap, HashSet},
    io::{BufRead, BufReader, Write},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

#[path = "../tests/contract/operations.rs"]
mod contract;

use anyhow::{Context, bail};
use chrono::{DateTime, TimeZone, Utc};
use contract::contract_operation;
use entity::{form_submission, lead, linkedin_form, submission_answer};
use futures::{SinkExt, StreamExt, stream};
use leadsync::{
    AppState, Config,
    domain::Role,
    events::EventBus,
    linkedin::{
        model,
        sandbox::{Sandbox, SandboxConfig},
    },
    service::{
        ingest::{self, IngestReport, IngestRequest},
        insight,
        leads::normalize_email,
        users,
    },
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ConnectionTrait, Database, DatabaseConnection,
    EntityTrait, PaginatorTrait, Set, Statement, TransactionTrait,
};
use serde_json::{Value as Json, json};
use tokio_tungstenite::tungstenite::{
    Message, client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig,
};

const CHILD_ENV: &str = "LEADSYNC_BENCH_CHILD";
/// Rows per multi-row INSERT when seeding (well under SQLite's 32766 bound values).
const SEED_CHUNK: usize = 500;

// ------------------------------------------------------------------------------------------ scale

#[derive(Clone, Debug)]
struct Scale {
    name: &'static str,
    runs: usize,
    ingest_responses: usize,
    ingest_existing: usize,
    ingest_batch: usize,
    backfill_leads: usize,
    backfill_runs: usize,
    match_small: usize,
    match_large: usize,
    match_responses: usize,
    read_responses: usize,
    read_secs: f64,
    read_clients: usize,
    agg_submissions: usize,
    agg_samples: usize,
    fan_subscribers: usize,
    fan_interval_ms: u64,
    fan_secs: u64,
    idle_subscriptions: usize,
    /// The two lead counts of the scale group (three submissions per lead).
    scale_small: usize,
    scale_large: usize,
    /// Seconds of each measured window of the scale group.
    scale_secs: f64,
    /// Responses ingested per outbound run (each makes two events for each endpoint, all
    /// delivered before the next run).
    outbound_responses: usize,
}

impl Scale {
    fn full() -> Self {
        Self {
            name: "full",
            runs: 3,
            ingest_responses: 100_000,
            ingest_existing: 100_000,
            ingest_batch: ingest::MAX_RESPONSES,
            backfill_leads: 100_000,
            backfill_runs: 3,
            match_small: 10_000,
            match_large: 1_000_000,
            match_responses: 5_000,
            read_responses: 20_000,
            read_secs: 5.0,
            read_clients: 32,
            agg_submissions: 1_000_000,
            agg_samples: 15,
            fan_subscribers: 1_000,
            fan_interval_ms: 100,
            fan_secs: 30,
            idle_subscriptions: 10_000,
            scale_small: 10_000,
            scale_large: 1_000_000,
            scale_secs: 2.0,
            outbound_responses: 20_000,
        }
    }

    fn small() -> Self {
        Self {
            name: "small",
            runs: 2,
            ingest_responses: 2_000,
            ingest_existing: 2_000,
            ingest_batch: ingest::MAX_RESPONSES,
            backfill_leads: 1_000,
            backfill_runs: 1,
            match_small: 1_000,
            match_large: 10_000,
            match_responses: 500,
            read_responses: 500,
            read_secs: 0.5,
            read_clients: 32,
            agg_submissions: 10_000,
            agg_samples: 5,
            fan_subscribers: 20,
            fan_interval_ms: 100,
            fan_secs: 2,
            idle_subscriptions: 200,
            scale_small: 5_000,
            scale_large: 20_000,
            scale_secs: 0.2,
            outbound_responses: 2_000,
        }
    }
}

struct Settings {
    scale: Scale,
    only: Option<HashSet<String>>,
    postgres: Option<String>,
}

impl Settings {
    fn from_env_and_args() -> anyhow::Result<Self> {
        let mut scale = std::env::var("BENCH_SCALE").unwrap_or_else(|_| "full".into());
        let mut only = std::env::var("BENCH_ONLY").ok();
        let mut runs = std::env::var("BENCH_RUNS").ok();
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let (key, inline) = match arg.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (arg.clone(), None),
            };
            let mut value = || inline.clone().or_else(|| args.next());
            match key.as_str() {
                "--scale" => scale = value().context("--scale needs a value")?,
                "--only" => only = value(),
                "--runs" => runs = value(),
                // What cargo and test runners pass; nothing to do.
                _ => {}
            }
        }
        let mut scale = match scale.as_str() {
            "full" => Scale::full(),
            "small" => Scale::small(),
            other => bail!("unknown scale {other:?}: full or small"),
        };
        if let Some(runs) = runs {
            scale.runs = runs.parse().context("runs must be a number")?;
            scale.backfill_runs = scale.backfill_runs.min(scale.runs).max(1);
        }
        let only = only
            .filter(|o| !o.trim().is_empty())
            .map(|o| o.split(',').map(|s| s.trim().to_owned()).collect());
        let postgres = std::env::var("BENCH_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty());
        Ok(Self {
            scale,
            only,
            postgres,
        })
    }

    fn wants(&self, group: &str) -> bool {
        self.only.as_ref().is_none_or(|o| o.contains(group))
    }
}

// ---------------------------------------------------------------------------------------- figures

#[derive(Clone, Debug)]
struct Figure {
    group: &'static str,
    name: String,
    unit: &'static str,
    samples: Vec<f64>,
    target: Option<String>,
    pass: Option<bool>,
}

fn median(samples: &[f64]) -> f64 {
    percentile(samples, 50.0)
}

fn percentile(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = (p / 100.0 * (s.len() - 1) as f64).round() as usize;
    s[rank.min(s.len() - 1)]
}

#[derive(Default)]
struct Report {
    figures: Vec<Figure>,
}

impl Report {
    fn add(
        &mut self,
        group: &'static str,
        name: impl Into<String>,
        unit: &'static str,
        samples: Vec<f64>,
    ) {
        self.figures.push(Figure {
            group,
            name: name.into(),
            unit,
            samples,
            target: None,
            pass: None,
        });
    }

    /// A figure with a target: `pass` judges its median.
    fn check(
        &mut self,
        group: &'static str,
        name: impl Into<String>,
        unit: &'static str,
        samples: Vec<f64>,
        target: impl Into<String>,
        pass: impl Fn(f64) -> bool,
    ) {
        let m = median(&samples);
        self.figures.push(Figure {
            group,
            name: name.into(),
            unit,
            samples,
            target: Some(target.into()),
            pass: Some(pass(m)),
        });
    }

    fn print(&self, database: &str, scale: &str) {
        println!();
        println!("leadsync benchmarks on {database}, scale {scale} (median, min..max of the runs)");
        println!(
            "{:<11} {:<58} {:>12} {:>25} {:<8} {:<22} ok",
            "group", "figure", "median", "min..max", "unit", "target"
        );
        for f in &self.figures {
            let min = f.samples.iter().copied().fold(f64::INFINITY, f64::min);
            let max = f.samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            println!(
                "{:<11} {:<58} {:>12} {:>25} {:<8} {:<22} {}",
                f.group,
                f.name,
                fmt_num(median(&f.samples)),
                format!("{}..{}", fmt_num(min), fmt_num(max)),
                f.unit,
                f.target.as_deref().unwrap_or(""),
                match f.pass {
                    Some(true) => "yes",
                    Some(false) => "NO",
                    None => "",
                }
            );
        }
    }

    fn json(&self, database: &str, scale: &Scale, wall_secs: f64) -> Json {
        let figures: Vec<Json> = self
            .figures
            .iter()
            .map(|f| {
                let min = f.samples.iter().copied().fold(f64::INFINITY, f64::min);
                let max = f.samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                json!({
                    "group": f.group,
                    "name": f.name,
                    "unit": f.unit,
                    "median": finite(median(&f.samples)),
                    "min": finite(min),
                    "max": finite(max),
                    "samples": f.samples.iter().map(|s| finite(*s)).collect::<Vec<_>>(),
                    "target": f.target,
                    "pass": f.pass,
                })
            })
            .collect();
        json!({
            "database": database,
            "scale": scale.name,
            "sizes": format!("{scale:?}"),
            "measured_at": Utc::now().to_rfc3339(),
            "wall_seconds": wall_secs,
            "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "figures": figures,
        })
    }
}

fn finite(v: f64) -> Json {
    if v.is_finite() { json!(v) } else { Json::Null }
}

fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// -------------------------------------------------------------------------------------- databases

enum Kind {
    Sqlite { dir: PathBuf },
    Postgres { server: String, base: String },
}

/// The databases of one suite run: created under a unique prefix, all removed at the end.
struct Dbs {
    kind: Kind,
    prefix: String,
    made: Mutex<Vec<String>>,
}

impl Dbs {
    fn new(postgres: Option<&str>) -> anyhow::Result<Self> {
        let prefix = format!(
            "leadsync_bench_{}_{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        let kind = match postgres {
            Some(server) => Kind::Postgres {
                server: server.to_owned(),
                base: server
                    .rsplit_once('/')
                    .map(|(b, _)| b.to_owned())
                    .context("BENCH_DATABASE_URL needs a database part")?,
            },
            None => {
                let dir = std::env::temp_dir().join(&prefix);
                std::fs::create_dir_all(&dir)?;
                Kind::Sqlite { dir }
            }
        };
        Ok(Self {
            kind,
            prefix,
            made: Mutex::new(Vec::new()),
        })
    }

    fn label(&self) -> &'static str {
        match self.kind {
            Kind::Sqlite { .. } => "sqlite",
            Kind::Postgres { .. } => "postgres",
        }
    }

    fn url(&self, name: &str) -> String {
        match &self.kind {
            Kind::Sqlite { dir } => {
                format!(
                    "sqlite://{}?mode=rwc",
                    dir.join(format!("{name}.db")).display()
                )
            }
            Kind::Postgres { base, .. } => format!("{base}/{}_{name}", self.prefix),
        }
    }

    async fn admin(&self, sql: &str) -> anyhow::Result<()> {
        if let Kind::Postgres { server, .. } = &self.kind {
            let admin = Database::connect(server.as_str()).await?;
            admin.execute_unprepared(sql).await?;
            admin.close().await?;
        }
        Ok(())
    }

    /// An empty, migrated database; returns its URL.
    async fn create(&self, name: &str) -> anyhow::Result<String> {
        self.admin(&format!("CREATE DATABASE {}_{name}", self.prefix))
            .await?;
        self.made.lock().unwrap().push(name.to_owned());
        let url = self.url(name);
        let db = leadsync::db::open(&url).await?;
        close(db).await?;
        Ok(url)
    }

    /// A copy of `from` (closed) named `to`.
    async fn copy(&self, from: &str, to: &str) -> anyhow::Result<String> {
        match &self.kind {
            Kind::Sqlite { dir } => {
                for suffix in ["", "-wal"] {
                    let source = dir.join(format!("{from}.db{suffix}"));
                    if source.exists() {
                        std::fs::copy(&source, dir.join(format!("{to}.db{suffix}")))?;
                    }
                }
            }
            Kind::Postgres { .. } => {
                self.admin(&format!(
                    "CREATE DATABASE {p}_{to} TEMPLATE {p}_{from}",
                    p = self.prefix
                ))
                .await?;
            }
        }
        self.made.lock().unwrap().push(to.to_owned());
        Ok(self.url(to))
    }

    async fn drop_db(&self, name: &str) -> anyhow::Result<()> {
        match &self.kind {
            Kind::Sqlite { dir } => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(dir.join(format!("{name}.db{suffix}")));
                }
            }
            Kind::Postgres { .. } => {
                self.admin(&format!(
                    "DROP DATABASE IF EXISTS {}_{name} WITH (FORCE)",
                    self.prefix
                ))
                .await?;
            }
        }
        self.made.lock().unwrap().retain(|n| n != name);
        Ok(())
    }

    async fn drop_all(&self) {
        let names = self.made.lock().unwrap().clone();
        for name in names {
            if let Err(e) = self.drop_db(&name).await {
                eprintln!("could not drop benchmark database {name}: {e:#}");
            }
        }
        if let Kind::Sqlite { dir } = &self.kind {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Closes a pool; on SQLite first folds the WAL into the main file so the file can be copied.
async fn close(db: DatabaseConnection) -> anyhow::Result<()> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await?;
    }
    db.close().await?;
    Ok(())
}

// ------------------------------------------------------------------------------------------- data

/// LinkedIn's JSON for `n` responses of one ad account and its forms, from the sandbox's seeded
/// generator (repeat people with respelled emails, test leads, optional answers, consents).
struct LeadData {
    forms: Vec<Json>,
    responses: Vec<Json>,
    /// The normalized email of each response.
    emails: Vec<Option<String>>,
}

fn lead_data(n: usize, seed: u64) -> anyhow::Result<LeadData> {
    let sandbox = Sandbox::new(SandboxConfig {
        seed,
        accounts: 1,
        // Generated over 400 days, served over 365: some margin for the draw.
        leads_per_account: n * 400 / 365 + n / 10 + 20,
        ..Default::default()
    });
    let account = sandbox
        .accounts()
        .into_iter()
        .find(|a| !a.forbidden)
        .context("the sandbox has no readable account")?;
    let mut responses = sandbox.responses(&account.id);
    if responses.len() < n {
        bail!("the sandbox made {} responses, {n} wanted", responses.len());
    }
    responses.truncate(n);
    let emails = responses.iter().map(response_email).collect();
    Ok(LeadData {
        forms: sandbox.forms(&account.id),
        responses,
        emails,
    })
}

fn response_email(response: &Json) -> Option<String> {
    response["formResponse"]["answers"]
        .as_array()?
        .iter()
        .filter_map(|a| a["answerDetails"]["textQuestionAnswer"]["answer"].as_str())
        .find(|v| v.contains('@'))
        .and_then(normalize_email)
}

/// Half of the distinct emails of `data` (every other one): the people the CRM already knows.
fn known_emails(emails: &[Option<String>]) -> Vec<String> {
    let mut seen = HashSet::new();
    let distinct: Vec<&String> = emails
        .iter()
        .flatten()
        .filter(|e| seen.insert(e.as_str()))
        .collect();
    distinct.into_iter().step_by(2).cloned().collect()
}

/// Stores the forms through the pipeline's own upsert (the responses refer to them).
async fn store_forms(db: &DatabaseConnection, forms: &[Json]) -> anyhow::Result<()> {
    let parsed = forms
        .iter()
        .map(model::parse_form)
        .collect::<Result<Vec<_>, String>>()
        .map_err(|e| anyhow::anyhow!(e))?;
    ingest::store_forms(db, &parsed)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(())
}

fn lead_row(i: usize, email: &str, now: DateTime<Utc>) -> lead::ActiveModel {
    let phone = format!("+1 555 {:07}", i % 10_000_000);
    lead::ActiveModel {
        id: NotSet,
        first_name: Set(Some(format!("First{i}"))),
        last_name: Set(Some(format!("Last{i}"))),
        email: Set(Some(email.to_owned())),
        email_normalized: Set(normalize_email(email)),
        work_email: Set(None),
        work_email_normalized: Set(None),
        phone_normalized: Set(leadsync::service::leads::normalize_phone(&phone)),
        phone: Set(Some(phone)),
        work_phone: Set(None),
        company: Set(Some(format!("Company {}", i % 5000))),
        job_title: Set(Some("Engineer".into())),
        job_function: Set(None),
        seniority: Set(None),
        industry: Set(None),
        company_size: Set(None),
        country: Set(Some("US".into())),
        state: Set(None),
        city: Set(None),
        zip_code: Set(None),
        custom_fields: Set(json!({})),
        source: Set("MANUAL".into()),
        source_campaign_id: Set(None),
        source_form_id: Set(None),
        latest_submission_at: Set(Some(now - chrono::Duration::days(400))),
        submission_count: Set(0),
        created_at: Set(now - chrono::Duration::seconds(i as i64)),
        updated_at: Set(now - chrono::Duration::seconds(i as i64)),
    }
}

/// `total` existing leads: the `known` emails first, then made-up ones; multi-row INSERTs, one
/// transaction per 20 statements.
async fn seed_leads(db: &DatabaseConnection, known: &[String], total: usize) -> anyhow::Result<()> {
    let now = Utc::now();
    seed_rows(db, total, SEED_CHUNK, |j| match known.get(j) {
        Some(email) => lead_row(j, email, now),
        None => lead_row(j, &format!("crm{j}@known.example"), now),
    })
    .await
}

/// Inserts rows `row(0..total)`: `chunk` rows per multi-row INSERT, one transaction per 20.
async fn seed_rows<A>(
    db: &DatabaseConnection,
    total: usize,
    chunk: usize,
    row: impl Fn(usize) -> A,
) -> anyhow::Result<()>
where
    A: ActiveModelTrait + Send,
{
    let mut i = 0;
    while i < total {
        let txn = db.begin().await?;
        for _ in 0..20 {
            if i >= total {
                break;
            }
            let end = (i + chunk).min(total);
            A::Entity::insert_many((i..end).map(&row))
                .exec_without_returning(&txn)
                .await?;
            i = end;
        }
        txn.commit().await?;
    }
    Ok(())
}

fn batches(responses: &[Json], size: usize) -> Vec<Vec<Json>> {
    responses.chunks(size).map(<[Json]>::to_vec).collect()
}

/// Sends batches through the pipeline; returns the time and the summed report.
async fn run_pipeline(
    db: &DatabaseConnection,
    bus: &EventBus,
    batches: Vec<Vec<Json>>,
) -> anyhow::Result<(Duration, IngestReport)> {
    let mut total = IngestReport::default();
    let started = Instant::now();
    for responses in batches {
        let r = ingest::ingest(
            db,
            bus,
            IngestRequest {
                forms: Vec::new(),
                responses,
                profile_id: None,
                cursor: None,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("ingest failed: {e:?}"))?;
        total.submissions_created += r.submissions_created;
        total.duplicates_skipped += r.duplicates_skipped;
        total.leads_created += r.leads_created;
        total.leads_updated += r.leads_updated;
        total.leads_unchanged += r.leads_unchanged;
        total.ignored += r.ignored;
        total.failed += r.failed;
    }
    Ok((started.elapsed(), total))
}

// ---------------------------------------------------------------------------------- 1. ingest

/// The rows the pipeline stores for one response, built ahead (outside the timing).
struct RawRows {
    submission: form_submission::ActiveModel,
    answers: Vec<submission_answer::ActiveModel>,
    lead: lead::ActiveModel,
}

fn raw_rows(
    forms: &[Json],
    responses: &[Json],
    form_ids: &BTreeMap<String, i64>,
) -> anyhow::Result<Vec<RawRows>> {
    let forms: BTreeMap<String, model::LeadForm> = forms
        .iter()
        .map(|f| model::parse_form(f).map(|f| (f.linkedin_id.clone(), f)))
        .collect::<Result<_, String>>()
        .map_err(|e| anyhow::anyhow!(e))?;
    let now = Utc::now();
    let mut out = Vec::with_capacity(responses.len());
    for (i, json) in responses.iter().enumerate() {
        let r = model::parse_response(json).map_err(|e| anyhow::anyhow!(e))?;
        let form = forms.get(&r.form_id);
        let question =
            |id: &str| form.and_then(|f| f.questions.iter().find(|q| q.question_id == id));
        let mut lead = lead_row(i, "", now);
        lead.email = Set(None);
        lead.email_normalized = Set(None);
        lead.source = Set("LINKEDIN_SPONSORED_CONTENT".into());
        let mut answers = Vec::new();
        for (position, a) in r.answers.iter().enumerate() {
            let q = question(&a.question_id);
            let value = match &a.value {
                model::AnswerValue::Text(t) => t.clone(),
                model::AnswerValue::Choices(c) => format!("{c:?}"),
            };
            match q.and_then(|q| q.predefined_field.as_deref()) {
                Some("FIRST_NAME") => lead.first_name = Set(Some(value.clone())),
                Some("LAST_NAME") => lead.last_name = Set(Some(value.clone())),
                Some("EMAIL") => {
                    lead.email_normalized = Set(normalize_email(&value));
                    lead.email = Set(Some(value.clone()));
                }
                Some("COMPANY_NAME") => lead.company = Set(Some(value.clone())),
                Some("JOB_TITLE") => lead.job_title = Set(Some(value.clone())),
                Some("COUNTRY") => lead.country = Set(Some(value.clone())),
                _ => {}
            }
            answers.push(submission_answer::ActiveModel {
                id: NotSet,
                submission_id: NotSet,
                question_id: Set(None),
                linkedin_question_id: Set(a.question_id.clone()),
                question_text: Set(q.map_or_else(|| "question".into(), |q| q.text.clone())),
                predefined_field: Set(q.and_then(|q| q.predefined_field.clone())),
                value: Set(value),
                is_consent: Set(false),
                accepted: Set(None),
                position: Set(position as i32),
            });
        }
        for (consent, accepted) in &r.consents {
            answers.push(submission_answer::ActiveModel {
                id: NotSet,
                submission_id: NotSet,
                question_id: Set(None),
                linkedin_question_id: Set(consent.clone()),
                question_text: Set("consent".into()),
                predefined_field: Set(None),
                value: Set(if *accepted { "accepted" } else { "declined" }.into()),
                is_consent: Set(true),
                accepted: Set(Some(*accepted)),
                position: Set(answers.len() as i32),
            });
        }
        let submission = form_submission::ActiveModel {
            id: NotSet,
            linkedin_id: Set(r.linkedin_id.clone()),
            submitted_at: Set(r.submitted_at),
            lead_type: Set(r.lead_type.clone()),
            test_lead: Set(r.test_lead),
            submitter_urn: Set(r.submitter_urn.clone()),
            account_id: Set(None),
            campaign_id: Set(None),
            creative_urn: Set(r.creative_urn.clone()),
            form_id: Set(form_ids.get(&r.form_id).copied()),
            form_version: Set(Some(r.form_version)),
            profile_id: Set(None),
            lead_id: Set(None),
            customer_journey_id: Set(None),
            matching_status: Set("NEW_LEAD_CREATED".into()),
            processing_state: Set("SUCCEEDED".into()),
            match_explanation: Set(Some("no lead has this email: new lead".into())),
            error: Set(None),
            hidden_fields: Set(None),
            raw: Set(Some(json.clone())),
            created_at: Set(now),
            updated_at: Set(now),
        };
        out.push(RawRows {
            submission,
            answers,
            lead,
        });
    }
    Ok(out)
}

/// The baseline: the same submission, answer and lead rows as multi-row INSERTs, one transaction
/// per batch of `batch` responses, no reads, no matching.
async fn run_raw(
    db: &DatabaseConnection,
    rows: Vec<RawRows>,
    batch: usize,
) -> anyhow::Result<Duration> {
    let mut rows = rows.into_iter().peekable();
    let started = Instant::now();
    while rows.peek().is_some() {
        let chunk: Vec<RawRows> = rows.by_ref().take(batch).collect();
        let txn = db.begin().await?;
        let mut answers = Vec::new();
        let mut leads = Vec::with_capacity(chunk.len());
        let mut subs = Vec::with_capacity(chunk.len());
        let mut sub_answers = Vec::with_capacity(chunk.len());
        for r in chunk {
            subs.push(r.submission);
            sub_answers.push(r.answers);
            leads.push(r.lead);
        }
        let mut sub_answers = sub_answers.into_iter();
        let mut subs = subs.into_iter().peekable();
        while subs.peek().is_some() {
            let part: Vec<_> = subs.by_ref().take(SEED_CHUNK / 2).collect();
            let n = part.len();
            let ids = form_submission::Entity::insert_many(part)
                .exec_with_returning_keys(&txn)
                .await?;
            for (id, list) in ids.into_iter().zip(sub_answers.by_ref().take(n)) {
                for mut a in list {
                    a.submission_id = Set(id);
                    answers.push(a);
                }
            }
        }
        for part in answers.chunks(SEED_CHUNK) {
            submission_answer::Entity::insert_many(part.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        for part in leads.chunks(SEED_CHUNK) {
            lead::Entity::insert_many(part.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
    }
    Ok(started.elapsed())
}

async fn bench_ingest(dbs: &Dbs, scale: &Scale, report: &mut Report) -> anyhow::Result<()> {
    let n = scale.ingest_responses;
    eprintln!(
        "[ingest] {n} responses against {} leads",
        scale.ingest_existing
    );
    let data = lead_data(n + scale.ingest_batch, 7)?;
    // The first batch is the warm-up (each run's copy gets it first, untimed).
    let (warm, measured) = data.responses.split_at(scale.ingest_batch);
    let known = known_emails(&data.emails);
    let url = dbs.create("ingest_template").await?;
    let db = leadsync::db::connect(&url).await?;
    store_forms(&db, &data.forms).await?;
    seed_leads(&db, &known, scale.ingest_existing).await?;
    let form_ids: BTreeMap<String, i64> = linkedin_form::Entity::find()
        .all(&db)
        .await?
        .into_iter()
        .map(|f| (f.linkedin_id, f.id))
        .collect();
    close(db).await?;

    let mut pipeline_rates = Vec::new();
    let mut raw_rates = Vec::new();
    let mut ratios = Vec::new();
    let mut last = IngestReport::default();
    for run in 0..scale.runs {
        // The pipeline and the raw baseline each on its own copy of the template, batch by batch
        // in turn, so that whatever else the machine does meanwhile slows both alike.
        let (p_name, r_name) = (format!("ingest_p{run}"), format!("ingest_r{run}"));
        let p_url = dbs.copy("ingest_template", &p_name).await?;
        let r_url = dbs.copy("ingest_template", &r_name).await?;
        let p_db = leadsync::db::connect(&p_url).await?;
        let bus = EventBus::for_database(&p_db, &p_url);
        let r_db = leadsync::db::connect(&r_url).await?;
        run_pipeline(&p_db, &bus, vec![warm.to_vec()]).await?;
        run_raw(
            &r_db,
            raw_rows(&data.forms, warm, &form_ids)?,
            scale.ingest_batch,
        )
        .await?;
        let mut raw_batches = raw_rows(&data.forms, measured, &form_ids)?.into_iter();
        let (mut took, mut took_raw) = (Duration::ZERO, Duration::ZERO);
        let mut totals = IngestReport::default();
        for batch in batches(measured, scale.ingest_batch) {
            let n = batch.len();
            let (t, r) = run_pipeline(&p_db, &bus, vec![batch]).await?;
            took += t;
            totals.submissions_created += r.submissions_created;
            totals.leads_created += r.leads_created;
            totals.leads_updated += r.leads_updated;
            totals.leads_unchanged += r.leads_unchanged;
            totals.ignored += r.ignored;
            totals.failed += r.failed;
            let rows: Vec<RawRows> = raw_batches.by_ref().take(n).collect();
            took_raw += run_raw(&r_db, rows, scale.ingest_batch).await?;
        }
        last = totals;
        let pipeline = measured.len() as f64 / secs(took);
        let raw = measured.len() as f64 / secs(took_raw);
        p_db.close().await?;
        r_db.close().await?;
        dbs.drop_db(&p_name).await?;
        dbs.drop_db(&r_name).await?;
        eprintln!(
            "[ingest] run {run}: pipeline {pipeline:.0}/s ({:.1} s), raw {raw:.0}/s ({:.1} s)",
            secs(took),
            secs(took_raw)
        );
        pipeline_rates.push(pipeline);
        raw_rates.push(raw);
        ratios.push(pipeline / raw);
    }
    dbs.drop_db("ingest_template").await?;
    let target = if dbs.label() == "postgres" {
        0.25
    } else {
        0.30
    };
    report.add("ingest", "pipeline rate", "resp/s", pipeline_rates);
    report.add(
        "ingest",
        "raw batched INSERT rate (same rows)",
        "resp/s",
        raw_rates,
    );
    report.check(
        "ingest",
        "pipeline / raw",
        "ratio",
        ratios,
        format!(">= {target:.2}"),
        |m| m >= target,
    );
    report.add(
        "ingest",
        format!(
            "last run: created {} updated {} unchanged {} kept {} failed {}",
            last.leads_created, last.leads_updated, last.leads_unchanged, last.ignored, last.failed
        ),
        "subs",
        vec![last.submissions_created as f64],
    );
    Ok(())
}

// ------------------------------------------------------------------------- 1b. outbound webhooks

/// A fast local webhook receiver: answers 200 to everything, counts what it got.
async fn fast_receiver() -> anyhow::Result<(String, Arc<AtomicU64>)> {
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            async { "ok" }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((url, received))
}

fn bench_webhooks_config() -> leadsync::config::WebhooksConfig {
    leadsync::config::WebhooksConfig {
        webhooks_allow_http: true,
        webhooks_allow_private: true,
        webhooks_timeout_secs: 10,
        webhooks_retry_base_ms: 100,
        webhooks_retry_cap_secs: 5,
        webhooks_retry_window_secs: 3600,
        webhooks_disable_after_secs: 3600,
        webhooks_poll_ms: 1000,
        webhooks_yield_ms: 1000,
    }
}

/// Registers `n` endpoints for every event type at `url`; returns the dispatcher to run.
async fn outbound_endpoints(
    db: &DatabaseConnection,
    url: &str,
    n: usize,
) -> anyhow::Result<leadsync::service::outbound::Dispatcher> {
    use leadsync::service::outbound::{self, EndpointInput, Endpoints};
    let cipher = leadsync::crypto::TokenCipher::new(&rand::random());
    let config = bench_webhooks_config();
    let endpoints = Endpoints {
        db,
        cipher: &cipher,
        config: &config,
    };
    for i in 0..n {
        endpoints
            .create(EndpointInput {
                url: format!("{url}?endpoint={i}"),
                description: Some(format!("bench {i}")),
                event_types: outbound::EVENT_TYPES
                    .iter()
                    .map(|t| (*t).to_owned())
                    .collect(),
                campaign_id: None,
                form_id: None,
                lead_type: None,
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    Ok(outbound::Dispatcher::new(db.clone(), cipher, config))
}

async fn unfinished_deliveries(db: &DatabaseConnection) -> anyhow::Result<u64> {
    let q = leadsync::service::outbound::queue_depth(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok((q.pending + q.delivering) as u64)
}

/// Ingest with no endpoint and with 3 (their dispatcher delivering meanwhile to a fast local
/// receiver, as in production), and the outbox's own throughput: events logged with no
/// dispatcher running, then drained by one.
async fn bench_outbound(dbs: &Dbs, scale: &Scale, report: &mut Report) -> anyhow::Result<()> {
    let n = scale.outbound_responses;
    eprintln!("[outbound] {n} responses, 0 and 3 endpoints");
    let data = lead_data(n + scale.ingest_batch, 11)?;
    let (warm, measured) = data.responses.split_at(scale.ingest_batch);
    let url = dbs.create("outbound_template").await?;
    let db = leadsync::db::connect(&url).await?;
    store_forms(&db, &data.forms).await?;
    close(db).await?;
    let (receiver, received) = fast_receiver().await?;
    let (mut none_rates, mut three_rates, mut ratios, mut drain_rates) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..scale.runs {
        let mut rates = [0.0; 2];
        for (k, endpoints) in [0usize, 3].into_iter().enumerate() {
            let name = format!("outbound_{run}_{endpoints}");
            let db_url = dbs.copy("outbound_template", &name).await?;
            let db = leadsync::db::connect(&db_url).await?;
            let bus = EventBus::for_database(&db, &db_url);
            let dispatcher = if endpoints > 0 {
                Some(outbound_endpoints(&db, &receiver, endpoints).await?.spawn())
            } else {
                None
            };
            run_pipeline(&db, &bus, vec![warm.to_vec()]).await?;
            let (took, _) = run_pipeline(&db, &bus, batches(measured, scale.ingest_batch)).await?;
            rates[k] = measured.len() as f64 / secs(took);
            // Everything is delivered in the end.
            let deadline = Instant::now() + Duration::from_secs(1800);
            while endpoints > 0 && unfinished_deliveries(&db).await? > 0 {
                anyhow::ensure!(Instant::now() < deadline, "deliveries did not drain");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if let Some(task) = dispatcher {
                task.abort();
            }
            db.close().await?;
            dbs.drop_db(&name).await?;
        }
        eprintln!(
            "[outbound] run {run}: ingest {:.0}/s with no endpoint, {:.0}/s with 3",
            rates[0], rates[1]
        );
        none_rates.push(rates[0]);
        three_rates.push(rates[1]);
        ratios.push(rates[1] / rates[0]);

        // The outbox alone: the events wait in the log, then one dispatcher drains them.
        let name = format!("outbound_{run}_drain");
        let db_url = dbs.copy("outbound_template", &name).await?;
        let db = leadsync::db::connect(&db_url).await?;
        let bus = EventBus::for_database(&db, &db_url);
        let dispatcher = outbound_endpoints(&db, &receiver, 1).await?;
        run_pipeline(&db, &bus, batches(&data.responses, scale.ingest_batch)).await?;
        let before = received.load(Ordering::Relaxed);
        let started = Instant::now();
        let task = dispatcher.spawn();
        let deadline = started + Duration::from_secs(1800);
        loop {
            // Fanned out (nothing after the cursor) and nothing unfinished.
            let queued = entity::webhook_delivery::Entity::find().count(&db).await?;
            if queued > 0 && unfinished_deliveries(&db).await? == 0 {
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "the outbox did not drain");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let took = started.elapsed();
        task.abort();
        let sent = received.load(Ordering::Relaxed) - before;
        let delivered = entity::webhook_delivery::Entity::find().count(&db).await?;
        anyhow::ensure!(sent >= delivered, "{sent} received of {delivered}");
        eprintln!(
            "[outbound] run {run}: {delivered} deliveries drained in {:.1} s",
            secs(took)
        );
        drain_rates.push(delivered as f64 / secs(took));
        db.close().await?;
        dbs.drop_db(&name).await?;
    }
    dbs.drop_db("outbound_template").await?;
    report.add("outbound", "ingest rate, no endpoint", "resp/s", none_rates);
    report.add(
        "outbound",
        "ingest rate, 3 endpoints delivering",
        "resp/s",
        three_rates,
    );
    report.check(
        "outbound",
        "ingest with 3 endpoints / with none",
        "ratio",
        ratios,
        ">= 0.80",
        |m| m >= 0.80,
    );
    report.add(
        "outbound",
        "outbox throughput to a local receiver (1 dispatcher)",
        "events/s",
        drain_rates,
    );
    Ok(())
}

// -------------------------------------------------------------------------------- 2. backfill

async fn timed_sandbox(
    State(busy): axum::extract::State<Arc<AtomicU64>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = Instant::now();
    let response = next.run(request).await;
    busy.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
    response
}
use axum::extract::State;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

async fn graphql(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    operation: &str,
    variables: Json,
) -> anyhow::Result<Json> {
    let body = json!({"query": contract_operation(operation), "variables": variables});
    let response: Json = client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    if response.get("errors").is_some() {
        bail!("{operation} failed: {response}");
    }
    Ok(response["data"].clone())
}

struct BackfillRun {
    total: Duration,
    sandbox: Duration,
    stored: u64,
    expected: usize,
}

async fn backfill_once(
    dbs: &Dbs,
    name: &str,
    leads: usize,
    seed: u64,
) -> anyhow::Result<BackfillRun> {
    let sandbox = Sandbox::new(SandboxConfig {
        seed,
        accounts: 1,
        leads_per_account: leads * 400 / 365,
        ..Default::default()
    });
    // The sandbox on a port of ours (so that it stops with the run), behind a timer of its
    // handlers.
    let mut tasks = Vec::new();
    let busy = Arc::new(AtomicU64::new(0));
    let api = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let api_base = format!("http://{}", api.local_addr()?);
    let router = sandbox.router().layer(axum::middleware::from_fn_with_state(
        busy.clone(),
        timed_sandbox,
    ));
    tasks.push(tokio::spawn(async move {
        axum::serve(api, router).await.ok();
    }));
    let expected = sandbox.readable_response_count();

    let url = dbs.create(name).await?;
    let db = leadsync::db::connect(&url).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let mut config = Config::for_database(&url);
    config.secret_key = Some(leadsync::config::Secret::new(hex::encode(rand::random::<
        [u8; 32],
    >())));
    config.public_url = Some(base.clone());
    config.rate_limit_per_minute = u32::MAX;
    let c = sandbox.config().clone();
    let l = &mut config.linkedin;
    l.linkedin_client_id = c.client_id.clone();
    l.linkedin_client_secret = Some(leadsync::config::Secret::new(c.client_secret.clone()));
    l.linkedin_auth_url = format!("{api_base}/oauth/v2/authorization");
    l.linkedin_token_url = format!("{api_base}/oauth/v2/accessToken");
    l.linkedin_api_url = format!("{api_base}/rest");
    l.linkedin_retry_base_ms = 1;
    let state = AppState::with_db(db.clone(), config)?;
    let app = leadsync::app(state);
    tasks.push(tokio::spawn(async move {
        axum::serve(listener, app).await.ok();
    }));

    let sales = users::create_user(&db, "bench sales", &[Role::LeadgenSalesperson])
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .token;
    let client = no_redirects();
    let profile = graphql(
        &client,
        &base,
        &sales,
        "CreateLinkedInUserProfile",
        json!({"input": {"name": "Bench"}}),
    )
    .await?["createLinkedInUserProfile"]["id"]
        .as_str()
        .context("profile id")?
        .to_owned();
    let authorize = graphql(
        &client,
        &base,
        &sales,
        "AuthorizeLinkedInUserProfile",
        json!({"id": profile}),
    )
    .await?["authorizeLinkedInUserProfile"]["authorizationUrl"]
        .as_str()
        .context("authorization url")?
        .to_owned();
    let redirect = client.get(&authorize).send().await?;
    let location = redirect
        .headers()
        .get("location")
        .context("no redirect from the sandbox")?
        .to_str()?
        .to_owned();
    let callback = url::Url::parse(&location)?;
    let callback = format!(
        "{base}{}?{}",
        callback.path(),
        callback.query().unwrap_or_default()
    );

    // The backfill: from the OAuth callback (discovery, then the first sync of the 365-day
    // window) until every sync run has finished.
    busy.store(0, Ordering::Relaxed);
    let started = Instant::now();
    let page = client.get(&callback).send().await?;
    if !page.status().is_success() {
        bail!("OAuth callback answered {}", page.status());
    }
    let deadline = started + Duration::from_secs(900);
    loop {
        let runs = entity::sync_run::Entity::find().all(&db).await?;
        if !runs.is_empty()
            && runs
                .iter()
                .all(|r| r.status != "QUEUED" && r.status != "RUNNING")
        {
            if let Some(failed) = runs.iter().find(|r| r.status == "FAILED") {
                bail!("the sync failed: {failed:?}");
            }
            break;
        }
        if Instant::now() > deadline {
            bail!("the backfill did not finish in 900 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let total = started.elapsed();
    let sandbox_time = Duration::from_nanos(busy.load(Ordering::Relaxed));
    let stored = form_submission::Entity::find().count(&db).await?;
    for t in tasks {
        t.abort();
    }
    db.close().await?;
    dbs.drop_db(name).await?;
    Ok(BackfillRun {
        total,
        sandbox: sandbox_time,
        stored,
        expected,
    })
}

async fn bench_backfill(dbs: &Dbs, scale: &Scale, report: &mut Report) -> anyhow::Result<()> {
    eprintln!(
        "[backfill] {} leads over 365 days from the sandbox",
        scale.backfill_leads
    );
    // Warm-up at a tenth of the size.
    backfill_once(
        dbs,
        "backfill_warm",
        (scale.backfill_leads / 10).max(100),
        11,
    )
    .await?;
    let mut totals = Vec::new();
    let mut shares = Vec::new();
    let mut rates = Vec::new();
    for run in 0..scale.backfill_runs {
        let r = backfill_once(dbs, &format!("backfill_{run}"), scale.backfill_leads, 42).await?;
        if r.stored as usize != r.expected {
            bail!(
                "the backfill stored {} of {} responses",
                r.stored,
                r.expected
            );
        }
        eprintln!(
            "[backfill] run {run}: {} responses in {:.1} s, sandbox {:.1} s",
            r.stored,
            secs(r.total),
            secs(r.sandbox)
        );
        totals.push(secs(r.total));
        shares.push(secs(r.sandbox) / secs(r.total) * 100.0);
        rates.push(r.stored as f64 / secs(r.total));
    }
    report.check(
        "backfill",
        format!("{} leads, OAuth callback to synced", scale.backfill_leads),
        "s",
        totals,
        "<= 60",
        |m| m <= 60.0,
    );
    report.add("backfill", "rate", "resp/s", rates);
    report.add(
        "backfill",
        "sandbox share of the time (its handlers)",
        "%",
        shares,
    );
    Ok(())
}

// -------------------------------------------------------------------------------- 3. matching

async fn bench_matching(dbs: &Dbs, scale: &Scale, report: &mut Report) -> anyhow::Result<()> {
    let m = scale.match_responses;
    eprintln!(
        "[matching] {m} responses per run against {} vs {} leads",
        scale.match_small, scale.match_large
    );
    let data = lead_data(m * (scale.runs + 1), 23)?;
    let known = known_emails(&data.emails);
    let mut dbs_urls = Vec::new();
    for (name, size) in [
        ("match_small", scale.match_small),
        ("match_large", scale.match_large),
    ] {
        let url = dbs.create(name).await?;
        let db = leadsync::db::connect(&url).await?;
        store_forms(&db, &data.forms).await?;
        let started = Instant::now();
        seed_leads(&db, &known, size.max(known.len())).await?;
        eprintln!(
            "[matching] seeded {size} leads in {:.1} s",
            secs(started.elapsed())
        );
        if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            db.execute_unprepared("ANALYZE").await?;
        }
        let bus = EventBus::for_database(&db, &url);
        dbs_urls.push((name, db, bus));
    }
    let slices: Vec<&[Json]> = data.responses.chunks(m).collect();
    let mut per = [Vec::new(), Vec::new()];
    let mut ratios = Vec::new();
    for (run, slice) in slices.iter().enumerate() {
        let mut times = [0.0; 2];
        for (k, (_, db, bus)) in dbs_urls.iter().enumerate() {
            let (took, r) = run_pipeline(db, bus, batches(slice, scale.ingest_batch)).await?;
            if r.submissions_created as usize != slice.len() {
                bail!(
                    "matching run stored {} of {}",
                    r.submissions_created,
                    slice.len()
                );
            }
            times[k] = ms(took) * 1000.0 / slice.len() as f64;
        }
        if run == 0 {
            continue; // warm-up
        }
        eprintln!(
            "[matching] run {run}: {:.1} vs {:.1} us/response",
            times[0], times[1]
        );
        per[0].push(times[0]);
        per[1].push(times[1]);
        ratios.push(times[1] / times[0]);
    }
    for (name, db, _) in dbs_urls {
        db.close().await?;
        dbs.drop_db(name).await?;
    }
    let [small, large] = per;
    report.add(
        "matching",
        format!("per response, {} leads", scale.match_small),
        "us",
        small,
    );
    report.add(
        "matching",
        format!("per response, {} leads", scale.match_large),
        "us",
        large,
    );
    report.check(
        "matching",
        format!("{} / {} leads", scale.match_large, scale.match_small),
        "ratio",
        ratios,
        "<= 1.5",
        |m| m <= 1.5,
    );
    Ok(())
}

// --------------------------------------------------------------------------- the child server

/// In the child: serves the app on 127.0.0.1 with a statement counter at `/bench/statements`,
/// until its standard input closes (the parent ended or dropped it).
async fn child_main(url: String) -> anyhow::Result<()> {
    let mut db = leadsync::db::connect(&url).await?;
    let statements = Arc::new(AtomicU64::new(0));
    let counter = statements.clone();
    db.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    let mut config = Config::for_database(&url);
    config.secret_key = Some(leadsync::config::Secret::new(hex::encode(rand::random::<
        [u8; 32],
    >())));
    config.rate_limit_per_minute = u32::MAX;
    let state = AppState::with_db(db, config)?;
    let router = leadsync::app(state).route(
        "/bench/statements",
        axum::routing::get(move || {
            let n = statements.load(Ordering::Relaxed);
            async move { n.to_string() }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("READY {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    std::thread::spawn(|| {
        let mut sink = String::new();
        while std::io::stdin()
            .read_line(&mut sink)
            .map(|n| n > 0)
            .unwrap_or(false)
        {}
        std::process::exit(0);
    });
    axum::serve(listener, router).await?;
    Ok(())
}

struct Server {
    child: Child,
    base: String,
    addr: String,
}

impl Server {
    fn spawn(url: &str) -> anyhow::Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .env(CHILD_ENV, url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().context("child stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let addr = line
            .trim()
            .strip_prefix("READY ")
            .with_context(|| format!("the bench server did not start: {line:?}"))?
            .to_owned();
        Ok(Self {
            child,
            base: format!("http://{addr}"),
            addr,
        })
    }

    /// The server's resident memory, in KiB.
    fn rss_kib(&self) -> f64 {
        rss_kib(self.child.id())
    }

    async fn statements(&self, client: &reqwest::Client) -> anyhow::Result<u64> {
        Ok(client
            .get(format!("{}/bench/statements", self.base))
            .send()
            .await?
            .text()
            .await?
            .trim()
            .parse()?)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The CPU time (user and system, every thread) process `pid` has used, in seconds.
fn cpu_secs(pid: u32) -> anyhow::Result<f64> {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    let ticks = *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    });
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // After the command name: utime and stime are the 12th and 13th fields.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("/proc stat")?
        .1
        .split_whitespace()
        .collect();
    let field =
        |i: usize| -> anyhow::Result<f64> { Ok(fields.get(i).context("stat field")?.parse()?) };
    Ok((field(11)? + field(12)?) / ticks)
}

fn rss_kib(pid: u32) -> f64 {
    status_kib(pid, "VmRSS:")
}

/// The process's anonymous resident memory (its heap and stacks, not the SQLite file it maps),
/// in KiB.
fn anon_rss_kib(pid: u32) -> f64 {
    status_kib(pid, "RssAnon:")
}

fn status_kib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(f64::NAN)
}

// ----------------------------------------------------------------------- 4. reads, 7. footprint

async fn post_raw(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    body: &str,
) -> anyhow::Result<()> {
    let response = client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    if !status.is_success() || bytes.windows(9).any(|w| w == b"\"errors\":") {
        bail!(
            "{status}: {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(400)])
        );
    }
    Ok(())
}

/// `clients` concurrent loops of one request for `duration`; returns requests/s and latencies.
async fn load(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    body: &str,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<(f64, Vec<f64>)> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, base, token, body) = (
            client.clone(),
            base.to_owned(),
            token.to_owned(),
            body.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            // Bounded by time and by count.
            while Instant::now() < deadline && latencies.len() < 1_000_000 {
                let t = Instant::now();
                post_raw(&client, &base, &token, &body).await?;
                latencies.push(ms(t.elapsed()));
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let rate = all.len() as f64 / secs(started.elapsed());
    Ok((rate, all))
}

async fn bench_reads(
    dbs: &Dbs,
    scale: &Scale,
    report: &mut Report,
    fanout: bool,
    reads: bool,
) -> anyhow::Result<()> {
    eprintln!(
        "[reads] {} responses ingested for the read model",
        scale.read_responses
    );
    let data = lead_data(scale.read_responses, 31)?;
    let url = dbs.create("reads").await?;
    let db = leadsync::db::connect(&url).await?;
    store_forms(&db, &data.forms).await?;
    run_pipeline(
        &db,
        &EventBus::default(),
        batches(&data.responses, scale.ingest_batch),
    )
    .await?;
    let sales = users::create_user(&db, "bench sales", &[Role::LeadgenSalesperson])
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .token;
    let s2s = users::create_user(&db, "bench inbound", &[Role::S2sInbound])
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .token;
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // The steady state autovacuum keeps: statistics, and a visibility map for COUNTs.
        db.execute_unprepared("VACUUM ANALYZE").await?;
    }
    close(db).await?;

    let server = Server::spawn(&url)?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = server.rss_kib();
    report.add("footprint", "server RSS idle", "MiB", vec![idle / 1024.0]);

    if reads {
        reads_figures(&server, &client, scale, report, &sales).await?;
    }
    if fanout {
        bench_fanout(&server, &client, scale, report, &sales, &s2s).await?;
    }
    drop(server);
    dbs.drop_db("reads").await?;
    Ok(())
}

async fn reads_figures(
    server: &Server,
    client: &reqwest::Client,
    scale: &Scale,
    report: &mut Report,
    sales: &str,
) -> anyhow::Result<()> {
    let body = |op: &str, first: i64| {
        json!({"query": contract_operation(op), "operationName": op, "variables": {"first": first}})
            .to_string()
    };
    // SQL statements per request, counted by the server's metric callback, at two page sizes.
    let base = &server.base;
    let per_request = |n: u64, before: u64, after: u64| (after - before) as f64 / n as f64;
    let trivial = json!({"query": "{ __typename }"}).to_string();
    let n = 20;
    let before = server.statements(client).await?;
    for _ in 0..n {
        post_raw(client, base, sales, &trivial).await?;
    }
    let auth = per_request(n, before, server.statements(client).await?);
    report.add(
        "reads",
        "SQL statements of an empty query (auth)",
        "stmts",
        vec![auth],
    );
    for (op, levels) in [("Leads", 0), ("FormSubmissions", 1)] {
        for first in [5, 50] {
            let b = body(op, first);
            post_raw(client, base, sales, &b).await?;
            let before = server.statements(client).await?;
            for _ in 0..n {
                post_raw(client, base, sales, &b).await?;
            }
            let count = per_request(n, before, server.statements(client).await?);
            report.check(
                "reads",
                format!("{op} first {first}: SQL statements per request"),
                "stmts",
                vec![count],
                format!("<= {}", 1 + levels),
                |m| m <= (1 + levels) as f64 + 1e-9,
            );
        }
    }

    // The server's own CPU time per request, one client at a time (the same answers as above).
    for (op, limit) in [("Leads", 0.6), ("FormSubmissions", 2.0)] {
        let b = body(op, 50);
        let pid = server.child.id();
        let mut samples = Vec::new();
        for _ in 0..scale.runs {
            let (start, cpu_start) = (Instant::now(), cpu_secs(pid)?);
            let mut n = 0u32;
            while start.elapsed().as_secs_f64() < scale.read_secs {
                post_raw(client, base, sales, &b).await?;
                n += 1;
            }
            samples.push(1000.0 * (cpu_secs(pid)? - cpu_start) / f64::from(n));
        }
        report.check(
            "reads",
            format!("{op} first 50: server CPU per request (1 client)"),
            "ms",
            samples,
            format!("<= {limit}"),
            move |m| m <= limit,
        );
    }

    // Throughput and latency at 32 clients; the server's RSS sampled meanwhile.
    let peak = Arc::new(AtomicU64::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling, pid) = (peak.clone(), sampling.clone(), server.child.id());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid) as u64, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let duration = Duration::from_secs_f64(scale.read_secs);
    for op in ["Leads", "FormSubmissions"] {
        let b = body(op, 50);
        load(client, base, sales, &b, scale.read_clients, duration / 2).await?; // warm-up
        let mut rates = Vec::new();
        let mut p50 = Vec::new();
        let mut p99 = Vec::new();
        for _ in 0..scale.runs {
            let (rate, lat) = load(client, base, sales, &b, scale.read_clients, duration).await?;
            rates.push(rate);
            p50.push(percentile(&lat, 50.0));
            p99.push(percentile(&lat, 99.0));
        }
        let c = scale.read_clients;
        report.add(
            "reads",
            format!("{op} first 50, {c} clients: throughput"),
            "req/s",
            rates,
        );
        report.add(
            "reads",
            format!("{op} first 50, {c} clients: p50"),
            "ms",
            p50,
        );
        report.add(
            "reads",
            format!("{op} first 50, {c} clients: p99"),
            "ms",
            p99,
        );
    }
    sampling.store(false, Ordering::Relaxed);
    sampler.await?;
    report.add(
        "footprint",
        "server RSS peak under the read load",
        "MiB",
        vec![peak.load(Ordering::Relaxed) as f64 / 1024.0],
    );
    Ok(())
}

// ------------------------------------------------------------------------------ 6. fan-out

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws_subscribe(addr: &str, token: &str, small_buffers: bool) -> anyhow::Result<Ws> {
    let mut request = format!("ws://{addr}/graphql/ws").into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let config = small_buffers.then(|| {
        WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(0)
    });
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, config, true).await?;
    let init =
        json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}});
    ws.send(Message::Text(init.to_string().into())).await?;
    let ack = tokio::time::timeout(Duration::from_secs(30), ws.next())
        .await
        .context("no connection_ack in 30 s")?
        .context("closed before connection_ack")??;
    if !ack.to_text().unwrap_or_default().contains("connection_ack") {
        bail!("expected connection_ack, got {ack:?}");
    }
    let subscribe = json!({"id": "live", "type": "subscribe", "payload": {
        "query": contract_operation("LeadSynced"), "operationName": "LeadSynced", "variables": {}}});
    ws.send(Message::Text(subscribe.to_string().into())).await?;
    Ok(ws)
}

const FAN_FORM: i64 = 990_001;
/// submittedAt of commit i is FAN_BASE_MS + i: the subscriber finds the commit by it.
const FAN_BASE_MS: i64 = 1_760_000_000_000;

fn fan_response(i: usize) -> Json {
    json!({
        "id": format!("fan-{i}"), "owner": {"sponsoredAccount": "urn:li:sponsoredAccount:990001"},
        "leadMetadata": {"sponsoredLeadMetadata": {"campaign": "urn:li:sponsoredCampaign:990001"}},
        "versionedLeadGenFormUrn": format!("urn:li:versionedLeadGenForm:(urn:li:leadGenForm:{FAN_FORM},1)"),
        "submittedAt": FAN_BASE_MS + i as i64, "testLead": false,
        "formResponse": {"answers": [{"questionId": 1, "answerDetails": {"textQuestionAnswer": {"answer": format!("fan{i}@bench.example")}}}]}
    })
}

fn fan_form() -> Json {
    json!({
        "id": FAN_FORM, "versionId": 1, "name": "Fan-out form",
        "content": {"questions": [{"questionId": 1, "name": "Email",
            "question": {"localized": {"en_US": "Email"}}, "predefinedField": "EMAIL"}]}
    })
}

async fn bench_fanout(
    server: &Server,
    client: &reqwest::Client,
    scale: &Scale,
    report: &mut Report,
    sales: &str,
    s2s: &str,
) -> anyhow::Result<()> {
    let commits = (scale.fan_secs * 1000 / scale.fan_interval_ms) as usize;
    let subs = scale.fan_subscribers;
    eprintln!(
        "[fanout] {subs} subscribers, {commits} commits every {} ms",
        scale.fan_interval_ms
    );
    let commit = |i: usize, forms: Vec<Json>| {
        json!({"query": contract_operation("IngestLinkedInLeads"), "variables": {
            "input": {"forms": forms, "responses": [fan_response(i)]}}})
        .to_string()
    };
    // Warm-up commit (also stores the form); its index is past the measured ones.
    post_raw(
        client,
        &server.base,
        s2s,
        &commit(commits + 1, vec![fan_form()]),
    )
    .await?;

    let sent: Arc<Vec<Mutex<Option<Instant>>>> =
        Arc::new((0..commits).map(|_| Mutex::new(None)).collect());
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(subs * commits)));
    let received = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicUsize::new(0));
    let sockets: Vec<Ws> = stream::iter(0..subs)
        .map(|_| ws_subscribe(&server.addr, sales, false))
        .buffer_unordered(50)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let end = Instant::now() + Duration::from_secs(scale.fan_secs + 10);
    let mut readers = Vec::new();
    for mut ws in sockets {
        let (sent, latencies, received, closed) = (
            sent.clone(),
            latencies.clone(),
            received.clone(),
            closed.clone(),
        );
        readers.push(tokio::spawn(async move {
            let mut got = 0;
            let mut mine = Vec::with_capacity(commits);
            while got < commits {
                let Ok(Some(Ok(msg))) = tokio::time::timeout_at(end.into(), ws.next()).await else {
                    break;
                };
                let now = Instant::now();
                let Message::Text(text) = msg else { continue };
                let v: Json = serde_json::from_str(&text).unwrap_or_default();
                if v["type"] != "next" {
                    if v["type"] == "error" || v["type"] == "complete" {
                        closed.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    continue;
                }
                let at = v["payload"]["data"]["leadSynced"]["submission"]["submittedAt"]
                    .as_str()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.timestamp_millis() - FAN_BASE_MS);
                let Some(i) = at
                    .and_then(|i| usize::try_from(i).ok())
                    .filter(|i| *i < commits)
                else {
                    continue;
                };
                if let Some(t0) = *sent[i].lock().unwrap() {
                    mine.push(ms(now.duration_since(t0)));
                }
                got += 1;
            }
            received.fetch_add(got, Ordering::Relaxed);
            latencies.lock().unwrap().extend(mine);
            let _ = ws.close(None).await;
        }));
    }
    let mut round_trips = Vec::new();
    let mut ticker = tokio::time::interval(Duration::from_millis(scale.fan_interval_ms));
    for i in 0..commits {
        ticker.tick().await;
        let body = commit(i, Vec::new());
        let t0 = Instant::now();
        *sent[i].lock().unwrap() = Some(t0);
        post_raw(client, &server.base, s2s, &body).await?;
        round_trips.push(ms(t0.elapsed()));
    }
    for r in readers {
        r.await?;
    }
    let expected = subs * commits;
    let got = received.load(Ordering::Relaxed);
    let lat = latencies.lock().unwrap().clone();
    report.add(
        "fanout",
        "commit mutation round trip p50",
        "ms",
        vec![percentile(&round_trips, 50.0)],
    );
    report.add(
        "fanout",
        "send to delivery p50",
        "ms",
        vec![percentile(&lat, 50.0)],
    );
    report.check(
        "fanout",
        format!("{subs} subscribers, send to delivery p99"),
        "ms",
        vec![percentile(&lat, 99.0)],
        "<= 250",
        |m| m <= 250.0,
    );
    report.check(
        "fanout",
        format!(
            "dropped of {expected} deliveries ({} closed)",
            closed.load(Ordering::Relaxed)
        ),
        "events",
        vec![(expected - got.min(expected)) as f64],
        "= 0",
        |m| m == 0.0,
    );

    // Idle subscriptions: the server's RSS before and after opening them.
    let n = scale.idle_subscriptions;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server.rss_kib();
    let sockets: Vec<Ws> = stream::iter(0..n)
        .map(|_| ws_subscribe(&server.addr, sales, true))
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = server.rss_kib();
    let per = (after - before) / n as f64;
    report.check(
        "fanout",
        format!("server memory per idle subscription ({n} open)"),
        "KiB",
        vec![per],
        "<= 50",
        |m| m <= 50.0,
    );
    report.add(
        "footprint",
        format!("server RSS with {n} idle subscriptions"),
        "MiB",
        vec![after / 1024.0],
    );
    drop(sockets);
    Ok(())
}

// ---------------------------------------------------------------------------- 5. aggregates

/// One account (`{prefix}0001`) and 20 campaigns made by ingest's own placeholders: the account's
/// row id and the campaigns' row ids, in order.
async fn placeholder_campaigns(
    db: &DatabaseConnection,
    prefix: &str,
) -> anyhow::Result<(i64, Vec<i64>)> {
    let account_id = format!("{prefix}0001");
    let accounts = ingest::ensure_accounts(db, HashSet::from([account_id.clone()]))
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut campaigns: Vec<i64> = ingest::ensure_campaigns(
        db,
        (0..20)
            .map(|c| (format!("{prefix}{c:04}"), Some(account_id.clone())))
            .collect(),
        &accounts,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?
    .into_values()
    .collect();
    campaigns.sort();
    Ok((accounts[&account_id], campaigns))
}

async fn seed_submissions(
    db: &DatabaseConnection,
    n: usize,
    from: DateTime<Utc>,
) -> anyhow::Result<()> {
    let now = Utc::now();
    // The pipeline's own placeholders: one account and 20 campaigns.
    let (account, campaigns) = placeholder_campaigns(db, "88").await?;
    let statuses = [
        "NEW_LEAD_CREATED",
        "UPDATED_EXISTING_LEAD",
        "MATCHED_NOT_UPDATED",
        "MATCH_FAILED",
    ];
    let span_ms = 365 * 24 * 3600 * 1000_i64;
    seed_rows(db, n, SEED_CHUNK * 2, |j| {
        // Spread over the year, deterministic: a multiplicative hash of j.
        let offset = (j as i64).wrapping_mul(2_654_435_761).rem_euclid(span_ms);
        form_submission::ActiveModel {
            id: NotSet,
            linkedin_id: Set(format!("agg-{j}")),
            submitted_at: Set(from + chrono::Duration::milliseconds(offset)),
            lead_type: Set("SPONSORED".into()),
            test_lead: Set(j % 50 == 0),
            submitter_urn: Set(None),
            account_id: Set(Some(account)),
            campaign_id: Set(Some(campaigns[j % campaigns.len()])),
            creative_urn: Set(None),
            form_id: Set(None),
            form_version: Set(Some(1)),
            profile_id: Set(None),
            lead_id: Set(None),
            customer_journey_id: Set(None),
            matching_status: Set(statuses[j % statuses.len()].into()),
            processing_state: Set("SUCCEEDED".into()),
            match_explanation: Set(None),
            error: Set(None),
            hidden_fields: Set(None),
            raw: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
    })
    .await
}

async fn bench_aggregates(dbs: &Dbs, scale: &Scale, report: &mut Report) -> anyhow::Result<()> {
    let n = scale.agg_submissions;
    eprintln!("[aggregates] {n} submissions");
    let url = dbs.create("aggregates").await?;
    let db = leadsync::db::connect(&url).await?;
    let to = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .context("date")?;
    let from = to - chrono::Duration::days(365);
    let started = Instant::now();
    seed_submissions(&db, n, from).await?;
    eprintln!("[aggregates] seeded in {:.1} s", secs(started.elapsed()));
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_unprepared("ANALYZE").await?;
    }
    let sales = users::create_user(&db, "bench sales", &[Role::LeadgenSalesperson])
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .token;
    close(db).await?;

    // The exact SQL of each aggregate, as the service issues it, captured by a metric callback.
    let mut capture_db = leadsync::db::connect(&url).await?;
    let captured: Arc<Mutex<Vec<Statement>>> = Arc::default();
    let sink = captured.clone();
    capture_db.set_metric_callback(move |info| sink.lock().unwrap().push(info.statement.clone()));
    let take = |c: &Arc<Mutex<Vec<Statement>>>| std::mem::take(&mut *c.lock().unwrap());
    insight::submissions_by_campaign(&capture_db, None, None, false)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let by_campaign_sql = take(&captured);
    insight::submissions_over_time(&capture_db, from, to, insight::Interval::Day, None, false)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let over_time_sql = take(&captured);
    capture_db.close().await?;
    let raw_db = leadsync::db::connect(&url).await?;

    let server = Server::spawn(&url)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let operations = [
        ("SubmissionsByCampaign", json!({}), by_campaign_sql),
        (
            "SubmissionsOverTime",
            json!({"from": from.to_rfc3339(), "to": to.to_rfc3339(), "interval": "DAY"}),
            over_time_sql,
        ),
    ];
    for (op, variables, sql) in operations {
        let body =
            json!({"query": contract_operation(op), "operationName": op, "variables": variables})
                .to_string();
        let before = server.statements(&client).await?;
        post_raw(&client, &server.base, &sales, &body).await?;
        let statements = server.statements(&client).await? - before;
        report.add(
            "aggregates",
            format!("{op}: SQL statements through GraphQL (auth included)"),
            "stmts",
            vec![statements as f64],
        );
        let mut through = Vec::new();
        let mut raw = Vec::new();
        // A warm-up of each, then alternate so drift hits both alike.
        for k in 0..=scale.agg_samples {
            let t = Instant::now();
            post_raw(&client, &server.base, &sales, &body).await?;
            let g = ms(t.elapsed());
            let t = Instant::now();
            for s in &sql {
                raw_db.query_all_raw(s.clone()).await?;
            }
            let r = ms(t.elapsed());
            if k > 0 {
                through.push(g);
                raw.push(r);
            }
        }
        let limit = 1.2 * median(&raw) + 2.0;
        report.add(
            "aggregates",
            format!("{op}: raw SQL p50 ({} statement)", sql.len()),
            "ms",
            raw,
        );
        report.check(
            "aggregates",
            format!("{op}: through GraphQL p50"),
            "ms",
            through,
            format!("<= {limit:.1} (1.2x raw+2)"),
            |m| m <= limit,
        );
    }
    drop(server);
    raw_db.close().await?;
    dbs.drop_db("aggregates").await?;
    Ok(())
}

// ------------------------------------------------------------------------------------- 8. scale

/// splitmix64: the seeded generator of the scale data (deterministic, no allocation).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

const FIRST_NAMES: [&str; 32] = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "Ken",
    "Margaret",
    "Dennis",
    "Radia",
    "Linus",
    "Sophie",
    "Yukihiro",
    "Guido",
    "Hedy",
    "Katherine",
    "Tim",
    "Anita",
    "John",
    "Lynn",
    "Niklaus",
    "Shafi",
    "Leslie",
    "Jean",
    "Fei",
    "Vint",
    "Karen",
    "Bjarne",
    "Mary",
    "Robin",
    "Ivan",
];
/// Last names are three of these syllables: 4,096 names.
const SYLLABLES: [&str; 16] = [
    "na", "ka", "mu", "ra", "to", "ber", "gen", "son", "ley", "wood", "ford", "mann", "vik", "lo",
    "des", "tir",
];
const COMPANY_WORDS: [&str; 24] = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Aperture",
    "Gringotts",
    "Oscorp",
    "Massive",
    "Dynamic",
    "Blue",
    "North",
    "Bright",
    "Atlas",
    "Nimbus",
    "Vertex",
    "Quantum",
];
const COMPANY_KINDS: [&str; 8] = [
    "Labs",
    "Systems",
    "Logistics",
    "Foods",
    "Health",
    "Bank",
    "Media",
    "Works",
];

fn last_name(h: u64) -> String {
    let mut name = String::new();
    for k in 0..3 {
        name.push_str(SYLLABLES[((h >> (8 * k)) & 15) as usize]);
    }
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The search term the scale group uses: one of the 4,096 last names (a person looked up by
/// name), lower case as a user types it.
const SCALE_SEARCH: &str = "mulowood";

/// Submissions of a scale data set with answers (the newest), the same at every size.
const ANSWERED: usize = 20_000;

/// The ids a scale data set refers to.
struct ScaleIds {
    campaigns: Vec<i64>,
    forms: Vec<i64>,
    /// The lead with 50 submissions (LeadLinkedInInfo).
    busy_lead: i64,
}

/// `n` leads (8% without email, 30% without submissions, 75% from LinkedIn over 20 campaigns and
/// the sandbox account's forms, created over two years), three submissions per lead on average
/// (one lead with 50), two answers for each of the newest `ANSWERED` submissions and the busy
/// lead's: multi-row INSERTs in transactions.
async fn seed_scale(
    db: &DatabaseConnection,
    n: usize,
    now: DateTime<Utc>,
) -> anyhow::Result<ScaleIds> {
    store_forms(db, &lead_data(10, 41)?.forms).await?;
    let mut forms: Vec<i64> = linkedin_form::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|f| f.id)
        .collect();
    forms.sort();
    let (account, campaigns) = placeholder_campaigns(db, "87").await?;
    let two_years = 730 * 24 * 3600_i64;
    let year = two_years / 2;
    let created = |i: usize| {
        let base = two_years * (n - i) as i64 / n as i64;
        now - chrono::Duration::seconds(base + (mix(i as u64 ^ 0xC0FFEE) % 3600) as i64)
    };
    // Whether lead i has submissions: 70% do, lead 0 (the busy one) always.
    let submits = |i: usize| i == 0 || mix(i as u64 ^ 0x5AB) % 10 < 7;
    let sources = ["MANUAL", "IMPORT", "WEB"];
    seed_rows(db, n, SEED_CHUNK, |i| {
        let h = mix(i as u64);
        let first = FIRST_NAMES[(h % 32) as usize];
        let last = last_name(h >> 5);
        let company = format!(
            "{} {}",
            COMPANY_WORDS[((h >> 20) % 24) as usize],
            COMPANY_KINDS[((h >> 25) % 8) as usize]
        );
        let email = ((h >> 30) % 100 >= 8).then(|| {
            format!(
                "{}.{}{i}@{}.example",
                first.to_lowercase(),
                last.to_lowercase(),
                company.split(' ').next().unwrap_or("x").to_lowercase()
            )
        });
        let linkedin = !(h >> 40).is_multiple_of(4);
        let created_at = created(i);
        let updated_at =
            (created_at + chrono::Duration::seconds(((h >> 12) % year as u64) as i64)).min(now);
        let latest =
            submits(i).then(|| now - chrono::Duration::seconds((mix(h) % year as u64) as i64));
        lead::ActiveModel {
            id: NotSet,
            first_name: Set(Some(first.to_owned())),
            last_name: Set(Some(last)),
            email_normalized: Set(email.as_deref().and_then(normalize_email)),
            email: Set(email),
            work_email: Set(None),
            work_email_normalized: Set(None),
            phone: Set(None),
            phone_normalized: Set(None),
            work_phone: Set(None),
            company: Set(Some(company)),
            job_title: Set(Some("Engineer".into())),
            job_function: Set(None),
            seniority: Set(None),
            industry: Set(None),
            company_size: Set(None),
            country: Set(Some("US".into())),
            state: Set(None),
            city: Set(None),
            zip_code: Set(None),
            custom_fields: Set(json!({})),
            source: Set(if linkedin {
                "LINKEDIN_SPONSORED_CONTENT".into()
            } else {
                sources[(h % 3) as usize].into()
            }),
            source_campaign_id: Set(linkedin.then(|| campaigns[i % campaigns.len()])),
            source_form_id: Set(linkedin.then(|| forms[i % forms.len()])),
            latest_submission_at: Set(latest),
            submission_count: Set(0),
            created_at: Set(created_at),
            updated_at: Set(updated_at),
        }
    })
    .await?;
    let lead_base = min_id(db, "leads").await?;
    let submitting: Vec<usize> = (0..n).filter(|&i| submits(i)).collect();
    let subs = 3 * n;
    let statuses = [
        "NEW_LEAD_CREATED",
        "UPDATED_EXISTING_LEAD",
        "MATCHED_NOT_UPDATED",
    ];
    let lead_of = |j: usize| {
        if j < 50 {
            0
        } else {
            submitting[(mix(j as u64 ^ 0xABC) % submitting.len() as u64) as usize]
        }
    };
    seed_rows(db, subs, SEED_CHUNK, |j| {
        let i = lead_of(j);
        let h = mix(j as u64 ^ 0x5EED);
        form_submission::ActiveModel {
            id: NotSet,
            linkedin_id: Set(format!("scale-{j}")),
            // Newer submissions get larger ids, as a sync stores them; within an hour, shuffled.
            submitted_at: Set(now
                - chrono::Duration::seconds(
                    year * (subs - j) as i64 / subs as i64 + (h % 3600) as i64,
                )),
            lead_type: Set("SPONSORED".into()),
            test_lead: Set(j % 50 == 7),
            submitter_urn: Set(None),
            account_id: Set(Some(account)),
            campaign_id: Set(Some(
                campaigns[(i + (h >> 40) as usize % 2) % campaigns.len()],
            )),
            creative_urn: Set(None),
            form_id: Set(Some(forms[i % forms.len()])),
            form_version: Set(Some(1)),
            profile_id: Set(None),
            lead_id: Set(Some(lead_base + i as i64)),
            customer_journey_id: Set(None),
            matching_status: Set(statuses[(h >> 8) as usize % statuses.len()].into()),
            processing_state: Set("SUCCEEDED".into()),
            match_explanation: Set(Some("email matched".into())),
            error: Set(None),
            hidden_fields: Set(None),
            raw: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
    })
    .await?;
    let sub_base = min_id(db, "form_submissions").await?;
    // Answers for the busy lead's 50 submissions and the newest ANSWERED ones (the pages the
    // group reads), the same number at every size: two each.
    let answered: Vec<usize> = (0..50)
        .chain(subs.saturating_sub(ANSWERED).max(50)..subs)
        .collect();
    seed_rows(db, 2 * answered.len(), SEED_CHUNK, |k| {
        let (j, email) = (answered[k / 2], k % 2 == 0);
        submission_answer::ActiveModel {
            id: NotSet,
            submission_id: Set(sub_base + j as i64),
            question_id: Set(None),
            linkedin_question_id: Set(if email { "q-email" } else { "q-company" }.into()),
            question_text: Set(if email { "Email" } else { "Company name" }.into()),
            predefined_field: Set(Some(if email { "EMAIL" } else { "COMPANY_NAME" }.into())),
            value: Set(if email {
                format!("person{j}@example.com")
            } else {
                format!("Company {}", j % 5000)
            }),
            is_consent: Set(false),
            accepted: Set(None),
            position: Set(if email { 0 } else { 1 }),
        }
    })
    .await?;
    Ok(ScaleIds {
        campaigns,
        forms,
        busy_lead: lead_base,
    })
}

async fn min_id(db: &DatabaseConnection, table: &str) -> anyhow::Result<i64> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT MIN(id) AS m FROM {table}"),
        ))
        .await?
        .context("MIN(id)")?;
    Ok(row.try_get::<i64>("", "m")?)
}

/// One scale data set: its database, its server and its token.
struct ScaleSet {
    leads: usize,
    name: &'static str,
    server: Server,
    token: String,
    ids: ScaleIds,
}

/// The requests the scale group measures: (name, body).
fn scale_shapes(
    set: &ScaleSet,
    now: DateTime<Utc>,
    after2: &str,
    after100: &str,
) -> Vec<(String, String)> {
    let leads = |name: &str, variables: Json| {
        (
            name.to_owned(),
            json!({"query": contract_operation("Leads"), "operationName": "Leads", "variables": variables})
                .to_string(),
        )
    };
    let mut out = vec![leads(
        "Leads newest first (contract page)",
        json!({"first": 50}),
    )];
    for field in ["CREATED_AT", "UPDATED_AT", "LATEST_SUBMISSION_AT", "EMAIL"] {
        for direction in ["ASC", "DESC"] {
            out.push(leads(
                &format!("Leads by {field} {direction}"),
                json!({"first": 50, "orderBy": {"field": field, "direction": direction}}),
            ));
        }
    }
    let filters = [
        ("search", json!({"search": SCALE_SEARCH})),
        ("source", json!({"source": "LINKEDIN_SPONSORED_CONTENT"})),
        (
            "campaignId",
            json!({"campaignId": set.ids.campaigns[3].to_string()}),
        ),
        ("formId", json!({"formId": set.ids.forms[0].to_string()})),
        (
            "createdAfter (30 days)",
            json!({"createdAfter": (now - chrono::Duration::days(30)).to_rfc3339()}),
        ),
        (
            "createdBefore (1 year ago)",
            json!({"createdBefore": (now - chrono::Duration::days(365)).to_rfc3339()}),
        ),
    ];
    for (name, filter) in filters {
        out.push(leads(
            &format!("Leads with {name}"),
            json!({"first": 50, "filter": filter}),
        ));
    }
    out.push(leads(
        "Leads 2nd page (after)",
        json!({"first": 50, "after": after2}),
    ));
    out.push(leads(
        "Leads 100th page (after)",
        json!({"first": 50, "after": after100}),
    ));
    let with_answers = contract_operation("FormSubmissions");
    let without = with_answers.replace("answers { questionText predefinedField value }", "");
    assert_ne!(
        with_answers, without,
        "the contract's FormSubmissions asks for answers"
    );
    for (name, query) in [
        ("FormSubmissions with answers (contract)", with_answers),
        ("FormSubmissions without answers", without),
    ] {
        out.push((
            name.to_owned(),
            json!({"query": query, "operationName": "FormSubmissions", "variables": {"first": 50}})
                .to_string(),
        ));
    }
    out.push((
        "LeadLinkedInInfo, lead with 50 submissions".to_owned(),
        json!({"query": contract_operation("LeadLinkedInInfo"), "operationName": "LeadLinkedInInfo",
            "variables": {"id": set.ids.busy_lead.to_string()}})
        .to_string(),
    ));
    out
}

/// The cursor after `pages` pages of the default Leads order.
async fn cursor_after(
    set: &ScaleSet,
    client: &reqwest::Client,
    pages: usize,
) -> anyhow::Result<String> {
    let mut after: Option<String> = None;
    for _ in 0..pages {
        let data = graphql(
            client,
            &set.server.base,
            &set.token,
            "Leads",
            json!({"first": 50, "after": after}),
        )
        .await?;
        after = data["leads"]["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
        if after.is_none() {
            bail!("{} leads have fewer than {pages} pages", set.leads);
        }
    }
    after.context("no pages")
}

/// `load`, but a failed request (the server's pool timing out under a slow query) is counted,
/// not fatal: returns requests/s, the latencies of the successes and the number of failures.
async fn tolerant_load(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    body: &str,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<(f64, Vec<f64>, usize)> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, base, token, body) = (
            client.clone(),
            base.to_owned(),
            token.to_owned(),
            body.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0);
            while Instant::now() < deadline && latencies.len() + errors < 1_000_000 {
                let t = Instant::now();
                match post_raw(&client, &base, &token, &body).await {
                    Ok(()) => latencies.push(ms(t.elapsed())),
                    Err(_) => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (l, e) = t.await?;
        all.extend(l);
        errors += e;
    }
    let rate = all.len() as f64 / secs(started.elapsed());
    Ok((rate, all, errors))
}

/// Downloads an export, sampling the server's anonymous RSS every 20 ms (the heap: on SQLite the
/// mapped database file is resident too, and grows with the store, not with the export): (data
/// rows, time, RSS before, peak RSS), in KiB.
async fn export_rss(
    client: &reqwest::Client,
    set: &ScaleSet,
    path: &str,
) -> anyhow::Result<(usize, Duration, f64, f64)> {
    let pid = set.server.child.id();
    let idle = anon_rss_kib(pid);
    let started = Instant::now();
    let response = client
        .get(format!("{}{path}", set.server.base))
        .bearer_auth(&set.token)
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    let mut response = response;
    let (mut lines, mut peak) = (0usize, idle);
    let mut sampled = Instant::now();
    while let Some(chunk) = response.chunk().await? {
        lines += chunk.iter().filter(|b| **b == b'\n').count();
        if sampled.elapsed() >= Duration::from_millis(20) {
            peak = peak.max(anon_rss_kib(pid));
            sampled = Instant::now();
        }
    }
    let took = started.elapsed();
    peak = peak.max(anon_rss_kib(pid));
    // CSV has a header line; NDJSON none.
    let rows = if path.ends_with(".csv") {
        lines.saturating_sub(1)
    } else {
        lines
    };
    Ok((rows, took, idle, peak))
}

async fn bench_scale(dbs: &Dbs, scale: &Scale, report: &mut Report) -> anyhow::Result<()> {
    let now = Utc::now();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(120))
        .build()?;
    let mut sets = Vec::new();
    // BENCH_SCALE_LEADS=10000,200000 measures other sizes than the scale's.
    let (small, large): (usize, usize) = match std::env::var("BENCH_SCALE_LEADS") {
        Ok(v) => {
            let (a, b) = v
                .split_once(',')
                .context("BENCH_SCALE_LEADS is two counts: small,large")?;
            (a.trim().parse()?, b.trim().parse()?)
        }
        Err(_) => (scale.scale_small, scale.scale_large),
    };
    for (name, leads) in [("scale_small", small), ("scale_large", large)] {
        let url = dbs.create(name).await?;
        let db = leadsync::db::connect(&url).await?;
        let started = Instant::now();
        let ids = seed_scale(&db, leads, now).await?;
        eprintln!(
            "[scale] seeded {leads} leads, {} submissions, {} answers in {:.1} s",
            3 * leads,
            2 * (ANSWERED.min(3 * leads) + 50),
            secs(started.elapsed())
        );
        if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            db.execute_unprepared("VACUUM ANALYZE").await?;
        }
        let token = users::create_user(&db, "bench sales", &[Role::LeadgenSalesperson])
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?
            .token;
        close(db).await?;
        let server = Server::spawn(&url)?;
        sets.push(ScaleSet {
            leads,
            name,
            server,
            token,
            ids,
        });
    }
    let mut shapes = Vec::new();
    for set in &sets {
        let after2 = cursor_after(set, &client, 1).await?;
        let after100 = cursor_after(set, &client, 99).await?;
        shapes.push(scale_shapes(set, now, &after2, &after100));
    }
    let window = Duration::from_secs_f64(scale.scale_secs);
    for (k, (name, _)) in shapes[0].iter().enumerate() {
        let mut p50_one = [f64::NAN; 2];
        for clients in [1, scale.read_clients] {
            for (s, set) in sets.iter().enumerate() {
                let body = &shapes[s][k].1;
                let base = &set.server.base;
                // Warm-up, then the measured window.
                tolerant_load(&client, base, &set.token, body, clients, window / 5).await?;
                let (rate, lat, errors) =
                    tolerant_load(&client, base, &set.token, body, clients, window).await?;
                let label = format!(
                    "{name}, {} leads, {clients} client{}",
                    set.leads,
                    if clients == 1 { "" } else { "s" }
                );
                report.add(
                    "scale",
                    format!("{label}: p50"),
                    "ms",
                    vec![percentile(&lat, 50.0)],
                );
                report.add(
                    "scale",
                    format!("{label}: p99"),
                    "ms",
                    vec![percentile(&lat, 99.0)],
                );
                if clients > 1 {
                    report.add("scale", format!("{label}: throughput"), "req/s", vec![rate]);
                }
                if clients == 1 {
                    p50_one[s] = percentile(&lat, 50.0);
                }
                if errors > 0 {
                    eprintln!("[scale] {label}: {errors} requests failed");
                    report.add(
                        "scale",
                        format!("{label}: failed requests"),
                        "n",
                        vec![errors as f64],
                    );
                }
            }
        }
        let ratio = p50_one[1] / p50_one[0];
        eprintln!(
            "[scale] {name}: p50 {:.2} ms at {small}, {:.2} ms at {large} leads (1 client): {ratio:.2}",
            p50_one[0], p50_one[1]
        );
        report.check(
            "scale",
            format!("{name}: p50 1 client, {large} / {small} leads"),
            "ratio",
            vec![ratio],
            "<= 1.5",
            |m| m <= 1.5,
        );
    }
    // Streamed exports: the server's memory stays flat whatever the number of rows.
    let mut growth = [f64::NAN; 2];
    for (s, set) in sets.iter().enumerate() {
        // A warm-up: the pool's connections open and prepare their statements.
        export_rss(&client, set, "/export/leads.csv").await?;
        for path in ["/export/leads.csv", "/export/leads.ndjson"] {
            let (rows, took, idle, peak) = export_rss(&client, set, path).await?;
            let label = format!("GET {path}, {} leads", set.leads);
            eprintln!(
                "[scale] {label}: {rows} rows in {:.1} s, server heap RSS {:.0} MiB idle, {:.0} MiB peak",
                secs(took),
                idle / 1024.0,
                peak / 1024.0
            );
            anyhow::ensure!(rows >= set.leads, "{label}: {rows} rows");
            report.add(
                "scale",
                format!("{label}: rate"),
                "rows/s",
                vec![rows as f64 / secs(took)],
            );
            report.add(
                "scale",
                format!("{label}: server heap RSS peak"),
                "MiB",
                vec![peak / 1024.0],
            );
            if path.ends_with(".csv") {
                growth[s] = (peak - idle) / 1024.0;
                report.add(
                    "scale",
                    format!("{label}: RSS growth"),
                    "MiB",
                    vec![growth[s]],
                );
            }
        }
    }
    report.check(
        "scale",
        format!("leads.csv RSS growth, {large} leads minus {small}"),
        "MiB",
        vec![growth[1] - growth[0]],
        "<= 16",
        |m| m <= 16.0,
    );
    // BENCH_KEEP=1 keeps the two databases (to EXPLAIN their queries afterwards).
    let keep = std::env::var("BENCH_KEEP").is_ok_and(|v| v == "1");
    for set in sets {
        let name = set.name;
        drop(set.server);
        if keep {
            eprintln!("[scale] kept {}", dbs.url(name));
            dbs.made.lock().unwrap().retain(|n| n != name);
        } else {
            dbs.drop_db(name).await?;
        }
    }
    if keep && let Kind::Sqlite { dir } = &dbs.kind {
        // drop_all removes the directory; keep the files next to it.
        for name in ["scale_small", "scale_large"] {
            let from = dir.join(format!("{name}.db"));
            let to = std::env::temp_dir().join(format!("leadsync_{name}.db"));
            std::fs::rename(&from, &to)?;
            eprintln!("[scale] moved to {}", to.display());
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------------- driver

async fn suite(settings: &Settings, postgres: Option<&str>) -> anyhow::Result<()> {
    let dbs = Dbs::new(postgres)?;
    let scale = &settings.scale;
    let started = Instant::now();
    let mut report = Report::default();
    let result = async {
        if settings.wants("ingest") {
            bench_ingest(&dbs, scale, &mut report).await?;
        }
        if settings.wants("outbound") {
            bench_outbound(&dbs, scale, &mut report).await?;
        }
        if settings.wants("matching") {
            bench_matching(&dbs, scale, &mut report).await?;
        }
        if settings.wants("backfill") {
            bench_backfill(&dbs, scale, &mut report).await?;
        }
        let (reads, fanout) = (settings.wants("reads"), settings.wants("fanout"));
        if reads || fanout {
            bench_reads(&dbs, scale, &mut report, fanout, reads).await?;
        }
        if settings.wants("aggregates") {
            bench_aggregates(&dbs, scale, &mut report).await?;
        }
        if settings.wants("scale") {
            bench_scale(&dbs, scale, &mut report).await?;
        }
        anyhow::Ok(())
    }
    .await;
    dbs.drop_all().await;
    result?;
    report.print(dbs.label(), scale.name);
    let dir = std::env::current_exe()?
        .ancestors()
        .nth(3)
        .map(|t| t.join("bench"))
        .context("target directory")?;
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("results-{}.json", dbs.label()));
    let json = report.json(dbs.label(), scale, secs(started.elapsed()));
    std::fs::write(&path, serde_json::to_string_pretty(&json)?)?;
    println!("wrote {}", path.display());
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if let Ok(url) = std::env::var(CHILD_ENV) {
        return runtime.block_on(child_main(url));
    }
    let settings = Settings::from_env_and_args()?;
    eprintln!(
        "leadsync benchmarks, scale {} ({} runs after a warm-up){}",
        settings.scale.name,
        settings.scale.runs,
        if settings.postgres.is_some() {
            ", SQLite and PostgreSQL"
        } else {
            ", SQLite (set BENCH_DATABASE_URL for PostgreSQL too)"
        }
    );
    // BENCH_SQLITE=0 skips SQLite (to measure PostgreSQL alone).
    let sqlite = std::env::var("BENCH_SQLITE").map_or(true, |v| v != "0");
    runtime.block_on(async {
        if sqlite {
            suite(&settings, None).await?;
        }
        if let Some(pg) = settings.postgres.clone() {
            suite(&settings, Some(&pg)).await?;
        }
        anyhow::Ok(())
    })
}
