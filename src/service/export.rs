//! Exports of the lead store as files: leads and form submissions, as CSV (RFC 4180, as
//! spreadsheets read it) or NDJSON, with the filters of the GraphQL lists.
//!
//! An export is streamed: it reads the list in its keyset order (the GraphQL list's own order and
//! page query), `BATCH` rows at a time, and hands each batch on encoded, so memory stays flat
//! however many rows there are, and nothing is counted first. The first batch is read before the
//! export is returned, so a filter the database refuses (or a database that is down) is an error
//! before any byte is sent; a failure after that ends the stream with an error (logged), which the
//! HTTP layer turns into a cut chunked body and the CLI into a failed command, never into a file
//! that looks complete.
//!
//! Each export writes one audit entry as its requester, when it ends (or is cut off): the filter
//! (a search term is not kept: it may be a name or an address), the format, the rows sent and
//! whether it completed; never a value of the data.

pub mod links;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{lead, linkedin_campaign, linkedin_form, linkedin_form_question, submission_answer};
use futures::stream::BoxStream;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Map, Value, json};

use crate::{
    domain::{LeadSource, LeadType, MatchingStatus, ProcessingState},
    error::{AppError, AppResult},
    service::{
        audit::{self, Actor, Entry},
        batch,
        leads::{self, LeadFilter, LeadSort},
        linkedin::{self, SubmissionFilter, SubmissionJoins, SubmissionRow},
    },
};

/// Rows read (and sent) per statement.
pub const BATCH: u64 = 1_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dataset {
    Leads,
    Submissions,
}

impl Dataset {
    fn name(self) -> &'static str {
        match self {
            Dataset::Leads => "leads",
            Dataset::Submissions => "submissions",
        }
    }

    fn operation(self) -> &'static str {
        match self {
            Dataset::Leads => "exportLeads",
            Dataset::Submissions => "exportSubmissions",
        }
    }

    fn object_type(self) -> &'static str {
        match self {
            Dataset::Leads => "Lead",
            Dataset::Submissions => "FormSubmission",
        }
    }

    /// The query parameters this dataset takes (its GraphQL list's filter, and `bom`).
    fn parameters(self) -> &'static [&'static str] {
        match self {
            Dataset::Leads => &[
                "source",
                "campaignId",
                "formId",
                "createdAfter",
                "createdBefore",
                "search",
                "bom",
            ],
            Dataset::Submissions => &[
                "campaignId",
                "formId",
                "accountId",
                "leadId",
                "matchingStatus",
                "processingState",
                "leadType",
                "submittedAfter",
                "submittedBefore",
                "testLead",
                "bom",
            ],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Ndjson => "application/x-ndjson",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "ndjson" => Ok(Format::Ndjson),
            other => Err(format!("format {other:?} is not csv or ndjson")),
        }
    }
}

#[derive(Clone, Debug)]
enum Filter {
    Leads(LeadFilter),
    Submissions(SubmissionFilter),
}

/// A parsed export request: what, in which format, filtered how.
#[derive(Clone, Debug)]
pub struct ExportRequest {
    pub dataset: Dataset,
    pub format: Format,
    /// CSV only: start with a UTF-8 byte order mark (Excel reads the file as UTF-8 then).
    pub bom: bool,
    filter: Filter,
    /// The filter as the audit entry records it (a search term is not kept).
    recorded: Map<String, Value>,
}

fn id_param(name: &str, what: &str, value: &str) -> AppResult<i64> {
    // The words of the GraphQL lists' id check, with the parameter named.
    value.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| {
        AppError::bad_input(format!("{name}: {what} id {value:?} is not a valid id"))
    })
}

fn time_param(name: &str, value: &str) -> AppResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.to_utc())
        .map_err(|_| {
            AppError::bad_input(format!(
                "{name}: {value:?} is not a date-time (RFC 3339, e.g. 2026-01-31T00:00:00Z)"
            ))
        })
}

fn bool_param(name: &str, value: &str) -> AppResult<bool> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(AppError::bad_input(format!(
            "{name}: {value:?} is not true or false"
        ))),
    }
}

fn enum_param<T: std::str::FromStr + Copy + std::fmt::Display>(
    name: &str,
    kind: &str,
    all: &[T],
    value: &str,
) -> AppResult<T> {
    value.parse::<T>().map_err(|_| {
        let names: Vec<String> = all.iter().map(ToString::to_string).collect();
        AppError::bad_input(format!(
            "{name}: {value:?} is not a {kind} (one of {})",
            names.join(", ")
        ))
    })
}

/// Reads the query parameters of an export (the same names as the GraphQL list's filter fields),
/// checking them as the GraphQL list does; an unknown or repeated parameter is refused too (a
/// misspelt filter must not export everything).
pub fn parse(
    dataset: Dataset,
    format: Format,
    params: &[(String, String)],
) -> AppResult<ExportRequest> {
    let allowed = dataset.parameters();
    let mut seen: Vec<&str> = Vec::new();
    for (key, value) in params {
        if !allowed.contains(&key.as_str()) {
            return Err(AppError::bad_input(format!(
                "{key:?} is not a parameter of this export (one of {})",
                allowed.join(", ")
            )));
        }
        if seen.contains(&key.as_str()) {
            return Err(AppError::bad_input(format!("{key} is given twice")));
        }
        seen.push(key);
        if value.contains('\0') {
            return Err(AppError::bad_input(format!(
                "{key} must not contain NUL characters"
            )));
        }
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let bom = get("bom").map(|v| bool_param("bom", v)).transpose()?;
    if bom.is_some() && format != Format::Csv {
        return Err(AppError::bad_input("bom: applies to CSV exports only"));
    }
    let mut recorded = Map::new();
    for (key, value) in params {
        if key == "bom" {
            continue;
        }
        let kept = if key == "search" {
            Value::String("[not recorded]".into())
        } else {
            Value::String(value.clone())
        };
        recorded.insert(key.clone(), kept);
    }
    let id = |name: &str, what: &str| get(name).map(|v| id_param(name, what, v)).transpose();
    let time = |name: &str| get(name).map(|v| time_param(name, v)).transpose();
    let filter = match dataset {
        Dataset::Leads => Filter::Leads(LeadFilter {
            source: get("source")
                .map(|v| enum_param("source", "LeadSource", LeadSource::ALL, v))
                .transpose()?,
            campaign_id: id("campaignId", "campaign")?,
            form_id: id("formId", "form")?,
            created_after: time("createdAfter")?,
            created_before: time("createdBefore")?,
            search: match get("search") {
                Some(s) if s.chars().count() > 200 => {
                    return Err(AppError::bad_input(
                        "search: search is longer than 200 characters",
                    ));
                }
                other => other.map(str::to_owned),
            },
        }),
        Dataset::Submissions => Filter::Submissions(SubmissionFilter {
            campaign_id: id("campaignId", "campaign")?,
            form_id: id("formId", "form")?,
            account_id: id("accountId", "account")?,
            lead_id: id("leadId", "lead")?,
            matching_status: get("matchingStatus")
                .map(|v| enum_param("matchingStatus", "MatchingStatus", MatchingStatus::ALL, v))
                .transpose()?,
            processing_state: get("processingState")
                .map(|v| {
                    enum_param(
                        "processingState",
                        "ProcessingState",
                        ProcessingState::ALL,
                        v,
                    )
                })
                .transpose()?,
            lead_type: get("leadType")
                .map(|v| enum_param("leadType", "LeadType", LeadType::ALL, v))
                .transpose()?,
            submitted_after: time("submittedAfter")?,
            submitted_before: time("submittedBefore")?,
            test_lead: get("testLead")
                .map(|v| bool_param("testLead", v))
                .transpose()?,
        }),
    };
    Ok(ExportRequest {
        dataset,
        format,
        bom: bom.unwrap_or(false),
        filter,
        recorded,
    })
}

// ------------------------------------------------------------------ CSV

/// Appends one CSV field: formula injection neutralized (OWASP: a cell starting with `=`, `+`,
/// `-`, `@`, tab or CR gets a leading `'`, so a spreadsheet shows it as text instead of running
/// it), then quoted as RFC 4180 says when it holds `"`, `,`, CR or LF (quotes doubled).
pub fn push_field(out: &mut Vec<u8>, value: &str) {
    let neutralize = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = value.contains(['"', ',', '\r', '\n']);
    if quote {
        out.push(b'"');
    }
    if neutralize {
        out.push(b'\'');
    }
    if quote {
        for b in value.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(value.as_bytes());
    }
}

/// Appends one CSV record (CRLF-terminated).
pub fn push_record<S: AsRef<str>>(out: &mut Vec<u8>, fields: impl IntoIterator<Item = S>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_field(out, field.as_ref());
    }
    out.extend_from_slice(b"\r\n");
}

/// A value as a CSV cell: text as it is, null as empty, anything else as compact JSON.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn push_ndjson(out: &mut Vec<u8>, record: &Value) {
    serde_json::to_writer(&mut *out, record).expect("JSON values serialize");
    out.push(b'\n');
}

// ------------------------------------------------------------------ leads

const LEAD_TEXT: &[&str] = &[
    "firstName",
    "lastName",
    "email",
    "workEmail",
    "phone",
    "workPhone",
    "company",
    "jobTitle",
    "jobFunction",
    "seniority",
    "industry",
    "companySize",
    "country",
    "state",
    "city",
    "zipCode",
];

fn lead_header() -> Vec<String> {
    let mut header = vec!["id".to_owned()];
    header.extend(LEAD_TEXT.iter().map(|s| (*s).to_owned()));
    header.extend(
        [
            "customFields",
            "source",
            "sourceCampaignId",
            "sourceCampaign",
            "sourceFormId",
            "sourceForm",
            "submissionCount",
            "latestSubmissionAt",
            "createdAt",
            "updatedAt",
        ]
        .map(str::to_owned),
    );
    header
}

fn lead_text(l: &lead::Model) -> [&Option<String>; 16] {
    [
        &l.first_name,
        &l.last_name,
        &l.email,
        &l.work_email,
        &l.phone,
        &l.work_phone,
        &l.company,
        &l.job_title,
        &l.job_function,
        &l.seniority,
        &l.industry,
        &l.company_size,
        &l.country,
        &l.state,
        &l.city,
        &l.zip_code,
    ]
}

fn named(id: Option<i64>, name: Option<&str>) -> Value {
    match id {
        Some(id) => json!({ "id": id.to_string(), "name": name }),
        None => Value::Null,
    }
}

async fn lead_batch(
    db: &DatabaseConnection,
    filter: &LeadFilter,
    format: Format,
    after: Option<&str>,
    out: &mut Vec<u8>,
) -> AppResult<(u64, Option<String>)> {
    let (page, _) = leads::list_leads(db, filter, LeadSort::default(), BATCH, after, false).await?;
    let rows: Vec<&lead::Model> = page.items.iter().map(|(_, l)| l).collect();
    let campaign_ids: Vec<i64> = rows.iter().filter_map(|l| l.source_campaign_id).collect();
    let form_ids: Vec<i64> = rows.iter().filter_map(|l| l.source_form_id).collect();
    let campaigns = if campaign_ids.is_empty() {
        HashMap::new()
    } else {
        batch::by_ids::<linkedin_campaign::Entity>(db, &campaign_ids).await?
    };
    let forms = if form_ids.is_empty() {
        HashMap::new()
    } else {
        batch::by_ids::<linkedin_form::Entity>(db, &form_ids).await?
    };
    for l in &rows {
        let campaign = l
            .source_campaign_id
            .and_then(|id| campaigns.get(&id))
            .map(|c| c.name.as_str());
        let form = l
            .source_form_id
            .and_then(|id| forms.get(&id))
            .map(|f| f.name.as_str());
        let latest = l.latest_submission_at.map(|t| t.to_rfc3339());
        match format {
            Format::Csv => {
                let mut fields = vec![l.id.to_string()];
                fields.extend(
                    lead_text(l)
                        .iter()
                        .map(|v| v.as_deref().unwrap_or_default().to_owned()),
                );
                fields.extend([
                    cell(&l.custom_fields),
                    l.source.clone(),
                    l.source_campaign_id
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                    campaign.unwrap_or_default().to_owned(),
                    l.source_form_id.map(|v| v.to_string()).unwrap_or_default(),
                    form.unwrap_or_default().to_owned(),
                    l.submission_count.to_string(),
                    latest.unwrap_or_default(),
                    l.created_at.to_rfc3339(),
                    l.updated_at.to_rfc3339(),
                ]);
                push_record(out, fields);
            }
            Format::Ndjson => {
                let mut record = Map::new();
                record.insert("id".into(), Value::String(l.id.to_string()));
                for (name, value) in LEAD_TEXT.iter().zip(lead_text(l)) {
                    record.insert((*name).into(), json!(value));
                }
                record.insert("customFields".into(), l.custom_fields.clone());
                record.insert("source".into(), Value::String(l.source.clone()));
                record.insert(
                    "sourceCampaign".into(),
                    named(l.source_campaign_id, campaign),
                );
                record.insert("sourceForm".into(), named(l.source_form_id, form));
                record.insert("submissionCount".into(), json!(l.submission_count));
                record.insert("latestSubmissionAt".into(), json!(latest));
                record.insert("createdAt".into(), json!(l.created_at.to_rfc3339()));
                record.insert("updatedAt".into(), json!(l.updated_at.to_rfc3339()));
                push_ndjson(out, &Value::Object(record));
            }
        }
    }
    let next = page
        .has_next_page
        .then(|| page.items.last().map(|(cursor, _)| cursor.clone()))
        .flatten();
    Ok((rows.len() as u64, next))
}

// ------------------------------------------------------------------ submissions

const SUBMISSION_COLUMNS: &[&str] = &[
    "id",
    "linkedInId",
    "submittedAt",
    "leadType",
    "testLead",
    "matchingStatus",
    "processingState",
    "matchExplanation",
    "error",
    "submitterUrn",
    "creativeUrn",
    "formVersion",
    "hiddenFields",
    "createdAt",
    "leadId",
    "leadEmail",
    "formId",
    "form",
    "campaignId",
    "campaign",
    "accountId",
    "account",
];

/// The scalar fields of a submission and the names of its relations, as (column, value).
fn submission_fields(row: &SubmissionRow) -> Vec<(&'static str, Value)> {
    let s = &row.submission;
    let id = |v: Option<i64>| json!(v.map(|v| v.to_string()));
    vec![
        ("id", json!(s.id.to_string())),
        ("linkedInId", json!(s.linkedin_id)),
        ("submittedAt", json!(s.submitted_at.to_rfc3339())),
        ("leadType", json!(s.lead_type)),
        ("testLead", json!(s.test_lead)),
        ("matchingStatus", json!(s.matching_status)),
        ("processingState", json!(s.processing_state)),
        ("matchExplanation", json!(s.match_explanation)),
        ("error", json!(s.error)),
        ("submitterUrn", json!(s.submitter_urn)),
        ("creativeUrn", json!(s.creative_urn)),
        ("formVersion", json!(s.form_version)),
        (
            "hiddenFields",
            s.hidden_fields.clone().unwrap_or(Value::Null),
        ),
        ("createdAt", json!(s.created_at.to_rfc3339())),
        ("leadId", id(s.lead_id)),
        (
            "leadEmail",
            json!(row.lead.as_ref().and_then(|l| l.email.clone())),
        ),
        ("formId", id(s.form_id)),
        ("form", json!(row.form.as_ref().map(|f| f.name.clone()))),
        ("campaignId", id(s.campaign_id)),
        (
            "campaign",
            json!(row.campaign.as_ref().map(|c| c.name.clone())),
        ),
        ("accountId", id(s.account_id)),
        (
            "account",
            json!(row.account.as_ref().map(|a| a.name.clone())),
        ),
    ]
}

fn answers_json(answers: &[submission_answer::Model]) -> Value {
    Value::Array(
        answers
            .iter()
            .filter(|a| !a.is_consent)
            .map(|a| {
                json!({
                    "questionId": a.linkedin_question_id,
                    "questionText": a.question_text,
                    "predefinedField": a.predefined_field,
                    "value": a.value,
                })
            })
            .collect(),
    )
}

fn consents_json(answers: &[submission_answer::Model]) -> Value {
    Value::Array(
        answers
            .iter()
            .filter(|a| a.is_consent)
            .map(|a| {
                json!({
                    "consentId": a.linkedin_question_id,
                    "text": a.question_text,
                    "accepted": a.accepted.unwrap_or(false),
                })
            })
            .collect(),
    )
}

/// The questions of one form (not its consents), in form order: the answer columns of a
/// submissions CSV filtered by that form.
async fn form_questions(
    db: &DatabaseConnection,
    form_id: i64,
) -> AppResult<Vec<linkedin_form_question::Model>> {
    Ok(linkedin_form_question::Entity::find()
        .filter(linkedin_form_question::Column::FormId.eq(form_id))
        .filter(linkedin_form_question::Column::IsConsent.eq(false))
        .order_by_asc(linkedin_form_question::Column::Position)
        .order_by_asc(linkedin_form_question::Column::Id)
        .all(db)
        .await?)
}

fn submission_header(questions: Option<&[linkedin_form_question::Model]>) -> Vec<String> {
    let mut header: Vec<String> = SUBMISSION_COLUMNS.iter().map(|s| (*s).to_owned()).collect();
    match questions {
        Some(questions) => {
            header.extend(questions.iter().map(|q| q.text.clone()));
            header.push("otherAnswers".into());
        }
        None => header.push("answers".into()),
    }
    header.push("consents".into());
    header
}

async fn submission_batch(
    db: &DatabaseConnection,
    filter: &SubmissionFilter,
    format: Format,
    questions: Option<&[linkedin_form_question::Model]>,
    after: Option<&str>,
    out: &mut Vec<u8>,
) -> AppResult<(u64, Option<String>)> {
    let joins = SubmissionJoins {
        lead: true,
        form: true,
        campaign: true,
        account: true,
        answers: true,
    };
    // One statement for the rows and their relations, one for the batch's answers.
    let (page, _) = linkedin::list_submissions(db, filter, BATCH, after, joins, false).await?;
    for (_, row) in &page.items {
        let answers = row.answers.as_deref().unwrap_or_default();
        let fields = submission_fields(row);
        match format {
            Format::Csv => {
                let mut cells: Vec<String> = fields.iter().map(|(_, v)| cell(v)).collect();
                match questions {
                    Some(questions) => {
                        let by_question: HashMap<&str, &str> = answers
                            .iter()
                            .filter(|a| !a.is_consent)
                            .map(|a| (a.linkedin_question_id.as_str(), a.value.as_str()))
                            .collect();
                        cells.extend(questions.iter().map(|q| {
                            by_question
                                .get(q.linkedin_question_id.as_str())
                                .map(|v| (*v).to_owned())
                                .unwrap_or_default()
                        }));
                        // Answers to questions the form no longer asks: kept, not lost.
                        let other: Vec<submission_answer::Model> = answers
                            .iter()
                            .filter(|a| {
                                !a.is_consent
                                    && !questions
                                        .iter()
                                        .any(|q| q.linkedin_question_id == a.linkedin_question_id)
                            })
                            .cloned()
                            .collect();
                        cells.push(if other.is_empty() {
                            String::new()
                        } else {
                            answers_json(&other).to_string()
                        });
                    }
                    None => cells.push(answers_json(answers).to_string()),
                }
                cells.push(consents_json(answers).to_string());
                push_record(out, cells);
            }
            Format::Ndjson => {
                let mut record: Map<String, Value> = fields
                    .into_iter()
                    .filter(|(name, _)| {
                        !matches!(
                            *name,
                            "leadId"
                                | "leadEmail"
                                | "formId"
                                | "form"
                                | "campaignId"
                                | "campaign"
                                | "accountId"
                                | "account"
                        )
                    })
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect();
                let s = &row.submission;
                record.insert(
                    "lead".into(),
                    match s.lead_id {
                        Some(id) => json!({
                            "id": id.to_string(),
                            "email": row.lead.as_ref().and_then(|l| l.email.clone()),
                        }),
                        None => Value::Null,
                    },
                );
                record.insert(
                    "form".into(),
                    named(s.form_id, row.form.as_ref().map(|f| f.name.as_str())),
                );
                record.insert(
                    "campaign".into(),
                    named(
                        s.campaign_id,
                        row.campaign.as_ref().map(|c| c.name.as_str()),
                    ),
                );
                record.insert(
                    "account".into(),
                    named(s.account_id, row.account.as_ref().map(|a| a.name.as_str())),
                );
                record.insert("answers".into(), answers_json(answers));
                record.insert("consents".into(), consents_json(answers));
                push_ndjson(out, &Value::Object(record));
            }
        }
    }
    let next = page
        .has_next_page
        .then(|| page.items.last().map(|(cursor, _)| cursor.clone()))
        .flatten();
    Ok((page.items.len() as u64, next))
}

// ------------------------------------------------------------------ the stream

/// A started export: its file name, media type, and body (chunks of bytes, one per batch; an
/// `Err` item means the export failed there and the body is incomplete).
pub struct Export {
    pub filename: String,
    pub content_type: &'static str,
    pub body: BoxStream<'static, AppResult<Vec<u8>>>,
}

/// The export's audit entry, written once: when the stream ends, fails, or is dropped early (a
/// client that went away).
struct Audit {
    db: DatabaseConnection,
    actor: Actor,
    dataset: Dataset,
    details: Map<String, Value>,
    rows: u64,
    written: bool,
}

impl Audit {
    fn entry(&mut self, complete: bool) -> Option<Entry> {
        if self.written {
            return None;
        }
        self.written = true;
        let mut details = std::mem::take(&mut self.details);
        details.insert("rows".into(), json!(self.rows));
        details.insert("complete".into(), json!(complete));
        Some(
            Entry::new(
                self.actor,
                self.dataset.operation(),
                self.dataset.object_type(),
            )
            .details(Value::Object(details)),
        )
    }

    async fn finish(&mut self, complete: bool) {
        if let Some(entry) = self.entry(complete) {
            audit::record_or_log(&self.db, entry).await;
        }
    }
}

impl Drop for Audit {
    fn drop(&mut self) {
        if let Some(entry) = self.entry(false)
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let db = self.db.clone();
            runtime.spawn(async move { audit::record_or_log(&db, entry).await });
        }
    }
}

enum Next {
    After(String),
    Done,
    Failed,
}

struct Run {
    db: DatabaseConnection,
    request: ExportRequest,
    questions: Option<Vec<linkedin_form_question::Model>>,
    pending: Option<Vec<u8>>,
    next: Next,
    audit: Audit,
}

impl Run {
    async fn batch(
        &self,
        after: Option<&str>,
        out: &mut Vec<u8>,
    ) -> AppResult<(u64, Option<String>)> {
        match &self.request.filter {
            Filter::Leads(filter) => {
                lead_batch(&self.db, filter, self.request.format, after, out).await
            }
            Filter::Submissions(filter) => {
                submission_batch(
                    &self.db,
                    filter,
                    self.request.format,
                    self.questions.as_deref(),
                    after,
                    out,
                )
                .await
            }
        }
    }
}

/// Starts an export as `actor`: reads the first batch (so that an error is known before anything
/// is sent) and returns the rest as a stream.
pub async fn start(
    db: &DatabaseConnection,
    request: ExportRequest,
    actor: Actor,
) -> AppResult<Export> {
    let questions = match (&request.filter, request.format) {
        (
            Filter::Submissions(SubmissionFilter {
                form_id: Some(form),
                ..
            }),
            Format::Csv,
        ) => Some(form_questions(db, *form).await?),
        _ => None,
    };
    let dataset = request.dataset;
    let mut details = Map::new();
    details.insert("format".into(), json!(request.format.extension()));
    details.insert("filter".into(), Value::Object(request.recorded.clone()));
    let mut run = Run {
        db: db.clone(),
        request,
        questions,
        pending: None,
        next: Next::Done,
        audit: Audit {
            db: db.clone(),
            actor,
            dataset,
            details,
            rows: 0,
            written: false,
        },
    };
    let mut first = Vec::with_capacity(64 * 1024);
    if run.request.format == Format::Csv {
        if run.request.bom {
            first.extend_from_slice(b"\xEF\xBB\xBF");
        }
        let header = match run.request.dataset {
            Dataset::Leads => lead_header(),
            Dataset::Submissions => submission_header(run.questions.as_deref()),
        };
        push_record(&mut first, header);
    }
    let result = run.batch(None, &mut first).await;
    let (rows, next) = match result {
        Ok(batch) => batch,
        Err(e) => {
            // Nothing was exported: no audit entry.
            run.audit.written = true;
            return Err(e);
        }
    };
    run.audit.rows = rows;
    run.pending = Some(first);
    run.next = next.map_or(Next::Done, Next::After);
    let filename = format!(
        "{}-{}.{}",
        run.request.dataset.name(),
        Utc::now().format("%Y%m%d"),
        run.request.format.extension()
    );
    let content_type = run.request.format.content_type();
    let body = futures::stream::unfold(run, |mut run| async move {
        if let Some(bytes) = run.pending.take() {
            return Some((Ok(bytes), run));
        }
        match std::mem::replace(&mut run.next, Next::Failed) {
            Next::Failed => None,
            Next::Done => {
                run.audit.finish(true).await;
                None
            }
            Next::After(after) => {
                let mut out = Vec::with_capacity(64 * 1024);
                match run.batch(Some(&after), &mut out).await {
                    Ok((rows, next)) => {
                        run.audit.rows += rows;
                        run.next = next.map_or(Next::Done, Next::After);
                        Some((Ok(out), run))
                    }
                    Err(e) => {
                        tracing::error!(
                            dataset = run.request.dataset.name(),
                            rows = run.audit.rows,
                            "an export failed midway; its body is cut off"
                        );
                        run.audit.finish(false).await;
                        Some((Err(e), run))
                    }
                }
            }
        }
    });
    Ok(Export {
        filename,
        content_type,
        body: Box::pin(body),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(fields: &[&str]) -> String {
        let mut out = Vec::new();
        push_record(&mut out, fields);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(csv(&["a", "b c", ""]), "a,b c,\r\n");
        assert_eq!(
            csv(&["a,b", "say \"hi\""]),
            "\"a,b\",\"say \"\"hi\"\"\"\r\n"
        );
        assert_eq!(
            csv(&["line\nbreak", "cr\rx"]),
            "\"line\nbreak\",\"cr\rx\"\r\n"
        );
    }

    #[test]
    fn formulas_are_neutralized() {
        assert_eq!(csv(&["=1+1"]), "'=1+1\r\n");
        assert_eq!(csv(&["+1", "-2", "@SUM(A1)"]), "'+1,'-2,'@SUM(A1)\r\n");
        assert_eq!(csv(&["\tx"]), "'\tx\r\n");
        assert_eq!(
            csv(&["=HYPERLINK(\"http://x\")"]),
            "\"'=HYPERLINK(\"\"http://x\"\")\"\r\n"
        );
        assert_eq!(csv(&["\r=x"]), "\"'\r=x\"\r\n");
        assert_eq!(csv(&["a=b"]), "a=b\r\n");
    }

    #[test]
    fn parameters_are_checked_and_named() {
        let p = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let err = |dataset, pairs: &[(&str, &str)]| {
            parse(dataset, Format::Csv, &p(pairs))
                .unwrap_err()
                .message()
                .to_owned()
        };
        assert!(err(Dataset::Leads, &[("campaignId", "x")]).starts_with("campaignId:"));
        assert!(err(Dataset::Leads, &[("createdAfter", "yesterday")]).starts_with("createdAfter:"));
        assert!(err(Dataset::Leads, &[("source", "FAX")]).starts_with("source:"));
        assert!(err(Dataset::Leads, &[("campaign_id", "1")]).contains("campaign_id"));
        assert!(err(Dataset::Submissions, &[("testLead", "yes")]).starts_with("testLead:"));
        assert!(err(Dataset::Submissions, &[("leadType", "x")]).starts_with("leadType:"));
        assert!(err(Dataset::Submissions, &[("bom", "1")]).starts_with("bom:"));
        assert!(parse(Dataset::Leads, Format::Ndjson, &p(&[("bom", "true")])).is_err());
        let ok = parse(
            Dataset::Leads,
            Format::Csv,
            &p(&[("source", "MANUAL"), ("search", "ada"), ("bom", "true")]),
        )
        .unwrap();
        assert!(ok.bom);
        assert_eq!(ok.recorded["search"], "[not recorded]");
    }
}
