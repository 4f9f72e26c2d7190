//! The lead-processing pipeline: LinkedIn form responses (with their forms) in LinkedIn's own
//! JSON become form submissions and matched or new leads. The sync, the webhooks and the inbound
//! door all feed it; nothing else writes submissions.
//!
//! Idempotence rests on the unique LinkedIn response id: submissions are claimed with
//! `INSERT .. ON CONFLICT DO NOTHING` and only claimed ones touch leads. A batch's lead changes
//! are decided in memory and written with multi-row statements in one savepoint; should the
//! database refuse any of them, the batch is written again with each submission's lead change in
//! its own savepoint, so a failure marks that submission FAILED and leaves no half-written lead.
//! Lookups, inserts and outcomes are batched; on PostgreSQL a transaction-scoped advisory lock
//! serializes ingests across instances so one person's responses never race into two leads.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{
    customer_journey, erased_response, form_submission, lead, linkedin_account, linkedin_campaign,
    linkedin_form, linkedin_form_question, submission_answer,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::NotSet,
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QuerySelect, QueryTrait, Set, Statement, TransactionTrait,
    sea_query::{Expr, ExprTrait, Func, OnConflict, Query},
};
use serde_json::{Value as Json, json};

use crate::{
    domain::{LeadEventKind, LeadSource, MatchingStatus, OnMatchFail, ProcessingState},
    error::{AppError, AppResult},
    events::{EventBus, LeadOutcome, LeadSynced},
    linkedin::model::{self, AnswerValue, LeadForm, LeadResponse},
    service::{
        configuration,
        lead_events::{self, NewEvent},
        mappings,
        matching::{self, AnswerRef, Decision, MappedValues, Strategy},
        strategies,
    },
};

pub const MAX_RESPONSES: usize = 1000;
pub const MAX_FORMS: usize = 200;
/// Rows per multi-row INSERT (SQLite allows 32766 bound values per statement).
const INSERT_CHUNK: usize = 500;
/// Lead rows per multi-row statement (29 values a row).
const LEAD_CHUNK: usize = 250;

#[derive(Debug, Default, Clone)]
pub struct IngestRequest {
    pub forms: Vec<Json>,
    pub responses: Vec<Json>,
    /// The LinkedIn user profile whose sync pulled these responses.
    pub profile_id: Option<i64>,
    /// The sync cursor this batch completes: (ad account row id, epoch ms). It advances in the
    /// same transaction that stores the batch, so a crash never skips or doubles a lead.
    pub cursor: Option<(i64, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestFailure {
    /// Which input element: `responses[3]`, `forms[0]`.
    pub element: String,
    pub linkedin_id: Option<String>,
    pub reason: String,
}

#[derive(Debug, Default, Clone)]
pub struct IngestReport {
    pub submissions_created: i32,
    pub duplicates_skipped: i32,
    /// Responses of erased leads, never brought back.
    pub erased_skipped: i32,
    pub leads_created: i32,
    pub leads_updated: i32,
    pub leads_unchanged: i32,
    /// Submissions kept without a lead (fallback IGNORE, or test leads).
    pub ignored: i32,
    pub failed: i32,
    pub failures: Vec<IngestFailure>,
    /// Submissions this call stored, in input order.
    pub submission_ids: Vec<i64>,
}

/// A response ready to store: parsed, joined to its form, mapped.
struct Prepared {
    response: LeadResponse,
    raw: Json,
    form: Option<FormRefs>,
    answers: Vec<submission_answer::ActiveModel>,
    mapped: MappedValues,
    account_id: Option<i64>,
    campaign_id: Option<i64>,
    journey_id: Option<i64>,
}

#[derive(Clone)]
struct FormRefs {
    id: i64,
    hidden_fields: Option<Json>,
}

/// How many ingests are writing in this process now (the outbound dispatcher yields to them).
static WRITING: std::sync::LazyLock<tokio::sync::watch::Sender<usize>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::channel(0).0);

/// Changes when an ingest starts or stops writing: the number writing.
pub fn writing() -> tokio::sync::watch::Receiver<usize> {
    WRITING.subscribe()
}

/// Counts an ingest as writing while it lives.
pub struct Writing(());

impl Writing {
    pub fn start() -> Self {
        WRITING.send_modify(|n| *n += 1);
        Writing(())
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        WRITING.send_modify(|n| *n = n.saturating_sub(1));
    }
}

pub async fn ingest(
    db: &DatabaseConnection,
    bus: &EventBus,
    mut request: IngestRequest,
) -> AppResult<IngestReport> {
    let _writing = Writing::start();
    if request.responses.len() > MAX_RESPONSES {
        return Err(AppError::bad_input(format!(
            "at most {MAX_RESPONSES} responses per call, got {}",
            request.responses.len()
        )));
    }
    if request.forms.len() > MAX_FORMS {
        return Err(AppError::bad_input(format!(
            "at most {MAX_FORMS} forms per call, got {}",
            request.forms.len()
        )));
    }
    let mut report = IngestReport::default();
    let stripped = request
        .forms
        .iter_mut()
        .chain(request.responses.iter_mut())
        .map(strip_nul)
        .filter(|s| *s)
        .count();
    if stripped > 0 {
        tracing::warn!(
            elements = stripped,
            "removed NUL characters from LinkedIn data"
        );
    }

    // Forms first: responses join to them.
    let mut forms = Vec::new();
    for (i, value) in request.forms.iter().enumerate() {
        match model::parse_form(value) {
            Ok(form) => forms.push(form),
            Err(reason) => report.failures.push(IngestFailure {
                element: format!("forms[{i}]"),
                linkedin_id: value.get("id").map(|v| v.to_string()),
                reason,
            }),
        }
    }
    store_forms(db, &forms).await?;

    // Parse every response; a malformed one is reported and skipped, never the batch.
    let mut parsed: Vec<(usize, LeadResponse)> = Vec::new();
    let mut seen = HashSet::new();
    for (i, value) in request.responses.iter().enumerate() {
        match model::parse_response(value) {
            Ok(r) => {
                if seen.insert(r.linkedin_id.clone()) {
                    parsed.push((i, r));
                } else {
                    report.duplicates_skipped += 1;
                }
            }
            Err(reason) => {
                report.failed += 1;
                report.failures.push(IngestFailure {
                    element: format!("responses[{i}]"),
                    linkedin_id: value.get("id").and_then(Json::as_str).map(str::to_owned),
                    reason,
                });
            }
        }
    }
    if parsed.is_empty() {
        if let Some((account, ms)) = request.cursor {
            advance_cursor(db, account, ms).await?;
        }
        return Ok(report);
    }

    let ids: Vec<String> = parsed.iter().map(|(_, r)| r.linkedin_id.clone()).collect();
    let erased: HashSet<String> = erased_response::Entity::find()
        .filter(erased_response::Column::LinkedinResponseId.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.linkedin_response_id)
        .collect();
    let existing: HashMap<String, form_submission::Model> = form_submission::Entity::find()
        .filter(form_submission::Column::LinkedinId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.linkedin_id.clone(), s))
        .collect();
    let mut retry_ids = Vec::new();
    parsed.retain(|(_, r)| {
        if erased.contains(&r.linkedin_id) {
            report.erased_skipped += 1;
            return false;
        }
        match existing.get(&r.linkedin_id) {
            // A submission that failed before is processed again.
            Some(s) if s.processing_state == ProcessingState::Failed.as_str() => {
                retry_ids.push(s.id);
                true
            }
            Some(_) => {
                report.duplicates_skipped += 1;
                false
            }
            None => true,
        }
    });
    if parsed.is_empty() {
        if let Some((account, ms)) = request.cursor {
            advance_cursor(db, account, ms).await?;
        }
        return Ok(report);
    }

    let config = configuration::get(db).await?;
    let create_journeys = config.create_journeys_for_campaigns;
    let fallback_creates = config.on_match_fail == OnMatchFail::CreateNewLead.as_str();
    let leads_from_tests = config.create_leads_from_test_leads;
    let strategy = strategies::active(db).await?;
    let strategy_fields: Vec<(String, String)> = strategies::fields_by_strategy(db, &[strategy.id])
        .await?
        .remove(&strategy.id)
        .unwrap_or_default()
        .into_iter()
        .map(|m| (m.linkedin_field, m.lead_field))
        .collect();
    let all_mappings = mappings::list_mappings(db).await?;

    let account_ids = ensure_accounts(
        db,
        parsed
            .iter()
            .filter_map(|(_, r)| r.account_id.clone())
            .collect(),
    )
    .await?;
    let campaign_ids = ensure_campaigns(
        db,
        parsed
            .iter()
            .filter_map(|(_, r)| r.campaign_id.clone().map(|c| (c, r.account_id.clone())))
            .collect(),
        &account_ids,
    )
    .await?;
    let journeys = if create_journeys {
        ensure_journeys(db, campaign_ids.values().copied().collect()).await?
    } else {
        journeys_of(db, campaign_ids.values().copied().collect()).await?
    };
    let form_ids: Vec<String> = parsed.iter().map(|(_, r)| r.form_id.clone()).collect();
    let (form_rows, questions) = load_forms(db, form_ids).await?;

    // Join answers to questions, map them, and order by submission time so that later answers win.
    parsed.sort_by_key(|(i, r)| (r.submitted_at, *i));
    let mut prepared = Vec::with_capacity(parsed.len());
    let mut order: HashMap<String, usize> = HashMap::new();
    for (i, response) in parsed {
        order.insert(response.linkedin_id.clone(), i);
        let form = form_rows.get(&response.form_id);
        let form_questions = form
            .and_then(|f| questions.get(&f.id))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let (answers, mapped) = join_answers(&response, form_questions, &all_mappings);
        prepared.push(Prepared {
            account_id: response
                .account_id
                .as_ref()
                .and_then(|a| account_ids.get(a).copied()),
            campaign_id: response
                .campaign_id
                .as_ref()
                .and_then(|c| campaign_ids.get(c).copied()),
            journey_id: response
                .campaign_id
                .as_ref()
                .and_then(|c| campaign_ids.get(c))
                .and_then(|c| journeys.get(c).copied()),
            form: form.map(|f| FormRefs {
                id: f.id,
                hidden_fields: f.hidden_fields.clone(),
            }),
            raw: request.responses[i].clone(),
            response,
            answers,
            mapped,
        });
    }

    // One writer at a time (PostgreSQL): claims, matching and the event log's positions.
    let txn = lead_events::begin(db).await?;
    if !retry_ids.is_empty() {
        form_submission::Entity::delete_many()
            .filter(form_submission::Column::Id.is_in(retry_ids))
            .filter(form_submission::Column::ProcessingState.eq(ProcessingState::Failed.as_str()))
            .exec(&txn)
            .await?;
    }
    let claimed = claim_submissions(&txn, &prepared, request.profile_id).await?;
    report.duplicates_skipped += (prepared.len() - claimed.len()) as i32;
    prepared.retain(|p| claimed.contains_key(&p.response.linkedin_id));
    insert_answers(&txn, &mut prepared, &claimed).await?;

    let mut index = LeadIndex::load(&txn, &strategy_fields, &prepared).await?;
    let strategy = Strategy {
        always_create_lead: strategy.always_create_lead,
        fields: &strategy_fields,
        fallback_creates,
    };
    let now = Utc::now();
    let outcomes = write_leads(
        &txn,
        &strategy,
        &prepared,
        &mut index,
        now,
        leads_from_tests,
    )
    .await?;
    let mut marks = Vec::with_capacity(prepared.len());
    let mut events = Vec::new();
    let mut logged = Vec::new();
    for (p, outcome) in prepared.iter().zip(outcomes) {
        let submission_id = claimed[&p.response.linkedin_id];
        report.submissions_created += 1;
        match outcome {
            Ok(outcome) => {
                let (status, explanation, lead_id, event) = match outcome {
                    Outcome::Created {
                        lead_id,
                        explanation,
                    } => {
                        report.leads_created += 1;
                        (
                            MatchingStatus::NewLeadCreated,
                            explanation,
                            Some(lead_id),
                            Some(LeadOutcome::Created),
                        )
                    }
                    Outcome::Updated {
                        lead_id,
                        explanation,
                    } => {
                        report.leads_updated += 1;
                        (
                            MatchingStatus::UpdatedExistingLead,
                            explanation,
                            Some(lead_id),
                            Some(LeadOutcome::Updated),
                        )
                    }
                    Outcome::Unchanged {
                        lead_id,
                        explanation,
                    } => {
                        report.leads_unchanged += 1;
                        (
                            MatchingStatus::MatchedNotUpdated,
                            explanation,
                            Some(lead_id),
                            Some(LeadOutcome::Unchanged),
                        )
                    }
                    Outcome::Ignored(explanation) => {
                        report.ignored += 1;
                        (MatchingStatus::MatchFailed, explanation, None, None)
                    }
                    Outcome::Kept(explanation) => {
                        report.ignored += 1;
                        (MatchingStatus::Pending, explanation, None, None)
                    }
                };
                marks.push(Mark {
                    submission_id,
                    status,
                    state: ProcessingState::Succeeded,
                    explanation,
                    error: None,
                    lead_id,
                });
                if let (Some(outcome), Some(lead_id)) = (event, lead_id) {
                    let logged_event = |kind| NewEvent {
                        kind,
                        lead_id,
                        submission_id: Some(submission_id),
                        outcome: None,
                        campaign_id: p.campaign_id,
                        form_id: p.form.as_ref().map(|f| f.id),
                        lead_type: Some(p.response.lead_type.clone()),
                    };
                    match outcome {
                        LeadOutcome::Created => {
                            logged.push(logged_event(LeadEventKind::LeadCreated))
                        }
                        LeadOutcome::Updated => {
                            logged.push(logged_event(LeadEventKind::LeadUpdated))
                        }
                        LeadOutcome::Unchanged => {}
                    }
                    logged.push(NewEvent {
                        outcome: Some(match outcome {
                            LeadOutcome::Created => "CREATED",
                            LeadOutcome::Updated => "UPDATED",
                            LeadOutcome::Unchanged => "UNCHANGED",
                        }),
                        ..logged_event(LeadEventKind::SubmissionReceived)
                    });
                    events.push(LeadSynced {
                        // Set below, from the position the SUBMISSION_RECEIVED entry gets.
                        position: 0,
                        outcome,
                        lead_id,
                        submission_id,
                        campaign_id: p.campaign_id,
                        form_id: p.form.as_ref().map(|f| f.id),
                        shared: Default::default(),
                    });
                }
            }
            Err(reason) => {
                report.failed += 1;
                report.failures.push(IngestFailure {
                    element: format!("responses[{}]", order[&p.response.linkedin_id]),
                    linkedin_id: Some(p.response.linkedin_id.clone()),
                    reason: reason.clone(),
                });
                let status = match index.failed_kind(p) {
                    FailedKind::Creation => MatchingStatus::LeadCreationFailed,
                    FailedKind::Update => MatchingStatus::LeadUpdateFailed,
                    FailedKind::BeforeMatching => MatchingStatus::Pending,
                };
                marks.push(Mark {
                    submission_id,
                    status,
                    state: ProcessingState::Failed,
                    explanation: reason.clone(),
                    error: Some(reason),
                    lead_id: None,
                });
            }
        }
    }
    mark_all(&txn, &prepared, &marks, now).await?;
    record_consents(&txn, &marks, now).await?;
    let positions = lead_events::append(&txn, &logged, now).await?;
    // One SUBMISSION_RECEIVED entry per published event, in the same order.
    let received = logged
        .iter()
        .zip(positions)
        .filter(|(e, _)| e.kind == LeadEventKind::SubmissionReceived)
        .map(|(_, position)| position);
    for (event, position) in events.iter_mut().zip(received) {
        event.position = position;
    }
    if let Some((account, ms)) = request.cursor {
        advance_cursor(&txn, account, ms).await?;
    }
    // Sent from inside the transaction: subscribers hear of batches in commit order, which is
    // position order, so a client that resumes after the last position it saw misses nothing.
    let staged = bus.stage_leads(&txn, events).await?;
    lead_events::commit(txn).await?;
    staged.deliver();

    let mut stored: Vec<(usize, i64)> = prepared
        .iter()
        .map(|p| {
            (
                order[&p.response.linkedin_id],
                claimed[&p.response.linkedin_id],
            )
        })
        .collect();
    stored.sort();
    report.submission_ids = stored.into_iter().map(|(_, id)| id).collect();
    tracing::info!(
        created = report.submissions_created,
        duplicates = report.duplicates_skipped,
        leads_created = report.leads_created,
        leads_updated = report.leads_updated,
        failed = report.failed,
        "ingested LinkedIn responses"
    );
    Ok(report)
}

/// Removes NUL characters from every string and key; true if there were any. PostgreSQL stores
/// none in text or jsonb, so a member's answer carrying one (the GraphQL door refuses them, but
/// LinkedIn's API passes what members typed) would fail its submission on every retry; without
/// the NUL, the rest of the answer is kept.
fn strip_nul(value: &mut Json) -> bool {
    match value {
        Json::String(s) if s.contains('\0') => {
            s.retain(|c| c != '\0');
            true
        }
        Json::Array(items) => items.iter_mut().fold(false, |any, v| strip_nul(v) | any),
        Json::Object(map) => {
            let mut any = false;
            if map.keys().any(|k| k.contains('\0')) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (k.replace('\0', ""), v))
                    .collect();
                any = true;
            }
            map.values_mut().fold(any, |any, v| strip_nul(v) | any)
        }
        _ => false,
    }
}

/// Moves an account's sync cursor forward (never back).
pub async fn advance_cursor(db: &impl ConnectionTrait, account_id: i64, ms: i64) -> AppResult<()> {
    use linkedin_account::Column as A;
    linkedin_account::Entity::update_many()
        .col_expr(A::SyncCursorMs, Expr::value(ms))
        .filter(A::Id.eq(account_id))
        .filter(
            sea_orm::Condition::any()
                .add(A::SyncCursorMs.is_null())
                .add(A::SyncCursorMs.lt(ms)),
        )
        .exec(db)
        .await?;
    Ok(())
}

enum Outcome {
    Created { lead_id: i64, explanation: String },
    Updated { lead_id: i64, explanation: String },
    Unchanged { lead_id: i64, explanation: String },
    Ignored(String),
    Kept(String),
}

#[derive(Clone, Copy)]
enum FailedKind {
    BeforeMatching,
    Creation,
    Update,
}

/// Answers joined to the form's questions by `questionId`, consents to their texts, and the lead
/// values they map to.
fn join_answers(
    response: &LeadResponse,
    questions: &[linkedin_form_question::Model],
    all_mappings: &[entity::field_mapping::Model],
) -> (Vec<submission_answer::ActiveModel>, MappedValues) {
    let by_id: HashMap<(&str, bool), &linkedin_form_question::Model> = questions
        .iter()
        .map(|q| ((q.linkedin_question_id.as_str(), q.is_consent), q))
        .collect();
    let mut rows: Vec<(i32, submission_answer::ActiveModel)> = Vec::new();
    let mut refs: Vec<(Option<String>, Option<String>, String, String)> = Vec::new();
    for answer in &response.answers {
        let question = by_id.get(&(answer.question_id.as_str(), false)).copied();
        let value = match &answer.value {
            AnswerValue::Text(t) => t.clone(),
            AnswerValue::Choices(ids) => {
                let options = question.and_then(|q| q.options.as_ref());
                ids.iter()
                    .map(|id| option_text(options, *id))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let text = question
            .map(|q| q.text.clone())
            .unwrap_or_else(|| format!("question {}", answer.question_id));
        let predefined = question.and_then(|q| q.predefined_field.clone());
        let position = question.map_or(i32::MAX / 2 + rows.len() as i32, |q| q.position);
        refs.push((
            predefined.clone(),
            question.and_then(|q| q.name.clone()),
            text.clone(),
            value.clone(),
        ));
        rows.push((
            position,
            submission_answer::ActiveModel {
                id: NotSet,
                submission_id: NotSet,
                question_id: Set(question.map(|q| q.id)),
                linkedin_question_id: Set(answer.question_id.clone()),
                question_text: Set(text),
                predefined_field: Set(predefined),
                value: Set(value),
                is_consent: Set(false),
                accepted: Set(None),
                position: Set(0),
            },
        ));
    }
    for (consent_id, accepted) in &response.consents {
        let question = by_id.get(&(consent_id.as_str(), true)).copied();
        let text = question
            .map(|q| q.text.clone())
            .unwrap_or_else(|| format!("consent {consent_id}"));
        let position = question.map_or(i32::MAX / 2 + rows.len() as i32, |q| q.position);
        rows.push((
            position,
            submission_answer::ActiveModel {
                id: NotSet,
                submission_id: NotSet,
                question_id: Set(question.map(|q| q.id)),
                linkedin_question_id: Set(consent_id.clone()),
                question_text: Set(text),
                predefined_field: Set(None),
                value: Set(if *accepted { "accepted" } else { "declined" }.into()),
                is_consent: Set(true),
                accepted: Set(Some(*accepted)),
                position: Set(0),
            },
        ));
    }
    // Questions the form asks but the member left empty still count as asked.
    for q in questions.iter().filter(|q| !q.is_consent) {
        if !response
            .answers
            .iter()
            .any(|a| a.question_id == q.linkedin_question_id)
        {
            refs.push((
                q.predefined_field.clone(),
                q.name.clone(),
                q.text.clone(),
                String::new(),
            ));
        }
    }
    // Answers arrive unordered: keep the form's question order.
    rows.sort_by_key(|(position, _)| *position);
    let answer_refs: Vec<AnswerRef> = refs
        .iter()
        .map(|(predefined, name, text, value)| AnswerRef {
            predefined_field: predefined.as_deref(),
            name: name.as_deref(),
            text,
            value,
        })
        .collect();
    let mapped = matching::map_answers(&answer_refs, all_mappings);
    let answers = rows
        .into_iter()
        .enumerate()
        .map(|(i, (_, mut row))| {
            row.position = Set(i as i32);
            row
        })
        .collect();
    (answers, mapped)
}

fn option_text(options: Option<&Json>, id: i64) -> String {
    options
        .and_then(Json::as_array)
        .and_then(|list| list.iter().find(|o| o["id"].as_i64() == Some(id)))
        .and_then(|o| o["text"].as_str())
        .map_or_else(|| format!("option {id}"), str::to_owned)
}

/// Inserts the submissions; returns LinkedIn id -> submission id for those this call inserted
/// (a concurrent ingest that got there first keeps its own).
async fn claim_submissions(
    txn: &DatabaseTransaction,
    prepared: &[Prepared],
    profile_id: Option<i64>,
) -> AppResult<HashMap<String, i64>> {
    let now = Utc::now();
    let mut claimed = HashMap::new();
    for chunk in prepared.chunks(INSERT_CHUNK / 2) {
        let rows = chunk.iter().map(|p| form_submission::ActiveModel {
            id: NotSet,
            linkedin_id: Set(p.response.linkedin_id.clone()),
            submitted_at: Set(p.response.submitted_at),
            lead_type: Set(p.response.lead_type.clone()),
            test_lead: Set(p.response.test_lead),
            submitter_urn: Set(p.response.submitter_urn.clone()),
            account_id: Set(p.account_id),
            campaign_id: Set(p.campaign_id),
            creative_urn: Set(p.response.creative_urn.clone()),
            form_id: Set(p.form.as_ref().map(|f| f.id)),
            form_version: Set(Some(p.response.form_version)),
            profile_id: Set(profile_id),
            lead_id: Set(None),
            customer_journey_id: Set(p.journey_id),
            matching_status: Set(MatchingStatus::Pending.as_str().into()),
            processing_state: Set(ProcessingState::Unprocessed.as_str().into()),
            match_explanation: Set(None),
            error: Set(None),
            hidden_fields: Set(p.form.as_ref().and_then(|f| f.hidden_fields.clone())),
            raw: Set(Some(p.raw.clone())),
            created_at: Set(now),
            updated_at: Set(now),
        });
        // Only the id and the LinkedIn id come back (not the stored raw JSON).
        let mut insert = form_submission::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(form_submission::Column::LinkedinId)
                    .do_nothing()
                    .to_owned(),
            )
            .into_query();
        insert.returning(Query::returning().columns([
            form_submission::Column::Id,
            form_submission::Column::LinkedinId,
        ]));
        let backend = txn.get_database_backend();
        for row in txn.query_all_raw(backend.build(&insert)).await? {
            claimed.insert(
                row.try_get::<String>("", "linkedin_id")?,
                row.try_get::<i64>("", "id")?,
            );
        }
    }
    Ok(claimed)
}

async fn insert_answers(
    txn: &DatabaseTransaction,
    prepared: &mut [Prepared],
    claimed: &HashMap<String, i64>,
) -> AppResult<()> {
    let mut rows = Vec::new();
    for p in prepared.iter_mut() {
        let submission_id = claimed[&p.response.linkedin_id];
        for mut row in std::mem::take(&mut p.answers) {
            row.submission_id = Set(submission_id);
            rows.push(row);
        }
    }
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(INSERT_CHUNK));
        submission_answer::Entity::insert_many(std::mem::replace(&mut rows, rest))
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// The consents of the submissions that reached a lead, as records (the proof of consent that
/// outlives the answers' retention): one statement from the answers just stored.
async fn record_consents(
    txn: &DatabaseTransaction,
    marks: &[Mark],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let ids: Vec<String> = marks
        .iter()
        .filter(|m| m.lead_id.is_some())
        .map(|m| m.submission_id.to_string())
        .collect();
    for chunk in ids.chunks(INSERT_CHUNK) {
        let backend = txn.get_database_backend();
        let placeholder = match backend {
            sea_orm::DbBackend::Postgres => "$1",
            _ => "?",
        };
        let sql = format!(
            "INSERT INTO consent_records (lead_id, linkedin_response_id, submitter_urn, form_id, \
             form_version, consent_id, consent_text, accepted, submitted_at, recorded_at) \
             SELECT s.lead_id, s.linkedin_id, s.submitter_urn, s.form_id, s.form_version, \
             a.linkedin_question_id, a.question_text, COALESCE(a.accepted, FALSE), s.submitted_at, {placeholder} \
             FROM submission_answers a JOIN form_submissions s ON s.id = a.submission_id \
             WHERE a.is_consent = TRUE AND s.lead_id IS NOT NULL AND s.id IN ({}) \
             ON CONFLICT (linkedin_response_id, consent_id) DO NOTHING",
            chunk.join(",")
        );
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [now.into()],
        ))
        .await?;
    }
    Ok(())
}

/// How one submission ends up: written by `mark_all`.
struct Mark {
    submission_id: i64,
    status: MatchingStatus,
    state: ProcessingState,
    explanation: String,
    error: Option<String>,
    lead_id: Option<i64>,
}

/// Records every submission's outcome: multi-row upserts on the primary key of the rows this
/// call inserted (one statement per chunk instead of one UPDATE per submission).
async fn mark_all(
    txn: &DatabaseTransaction,
    prepared: &[Prepared],
    marks: &[Mark],
    now: DateTime<Utc>,
) -> AppResult<()> {
    use form_submission::Column as C;
    let mut by_status: HashMap<&'static str, u64> = HashMap::new();
    for m in marks {
        *by_status.entry(m.status.as_str()).or_default() += 1;
    }
    for (status, n) in by_status {
        crate::metrics::count(
            "leadsync_submissions_processed_total",
            &[("status", status)],
            n,
        );
    }
    // 12 values a row: well under SQLite's bound-value limit.
    for chunk in marks
        .iter()
        .zip(prepared)
        .collect::<Vec<_>>()
        .chunks(INSERT_CHUNK)
    {
        let rows = chunk.iter().map(|(m, p)| form_submission::ActiveModel {
            id: Set(m.submission_id),
            linkedin_id: Set(p.response.linkedin_id.clone()),
            submitted_at: Set(p.response.submitted_at),
            lead_type: Set(p.response.lead_type.clone()),
            test_lead: Set(p.response.test_lead),
            matching_status: Set(m.status.as_str().into()),
            processing_state: Set(m.state.as_str().into()),
            match_explanation: Set(Some(m.explanation.clone())),
            error: Set(m.error.clone()),
            lead_id: Set(m.lead_id),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        form_submission::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(C::Id)
                    .update_columns([
                        C::MatchingStatus,
                        C::ProcessingState,
                        C::MatchExplanation,
                        C::Error,
                        C::LeadId,
                        C::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// The leads this batch may match, plus those it creates, indexed by the strategy's first field.
#[derive(Clone)]
struct LeadIndex {
    leads: HashMap<i64, lead::Model>,
    by_key: HashMap<String, Vec<i64>>,
    lookup_field: Option<String>,
    last_kind: HashMap<String, FailedKind>,
}

/// Leads whose `field` (compared normalized) is one of `keys`: through the normalized, indexed
/// columns for email, work email and phone; by `lower(column)` for the other lead fields.
pub async fn find_leads_by(
    db: &impl ConnectionTrait,
    field: &str,
    keys: Vec<String>,
) -> AppResult<Vec<lead::Model>> {
    find_leads(db, field, keys, false).await
}

/// `find_leads_by`; with `lock` on PostgreSQL the rows stay locked (`FOR UPDATE`) until the
/// transaction ends, so a lead the pipeline is about to write cannot be deleted meanwhile.
async fn find_leads(
    db: &impl ConnectionTrait,
    field: &str,
    keys: Vec<String>,
    lock: bool,
) -> AppResult<Vec<lead::Model>> {
    let Some(column) = lead_column(field) else {
        return Ok(Vec::new());
    };
    let lock = lock && db.get_database_backend() == DatabaseBackend::Postgres;
    if lock {
        // Until PostgreSQL has analyzed a growing leads table (a first backfill into a new
        // database), it plans `IN (..100 keys..)` as a sequential scan: every batch then reads
        // the whole table. The lookup is by an indexed key, always: say so for this statement.
        db.execute_unprepared("SET LOCAL enable_seqscan = off")
            .await?;
    }
    let mut out = Vec::new();
    for chunk in keys.chunks(INSERT_CHUNK) {
        let mut query = if matches!(field, "email" | "workEmail" | "phone") {
            lead::Entity::find().filter(column.is_in(chunk.to_vec()))
        } else {
            lead::Entity::find()
                .filter(Expr::expr(Func::lower(Expr::col(column))).is_in(chunk.to_vec()))
        };
        if lock {
            query = query.lock_exclusive();
        }
        out.extend(query.all(db).await?);
    }
    if lock {
        db.execute_unprepared("SET LOCAL enable_seqscan TO DEFAULT")
            .await?;
    }
    Ok(out)
}

fn lead_column(field: &str) -> Option<lead::Column> {
    use lead::Column as C;
    Some(match field {
        "email" => C::EmailNormalized,
        "workEmail" => C::WorkEmailNormalized,
        "phone" => C::PhoneNormalized,
        "firstName" => C::FirstName,
        "lastName" => C::LastName,
        "workPhone" => C::WorkPhone,
        "company" => C::Company,
        "jobTitle" => C::JobTitle,
        "jobFunction" => C::JobFunction,
        "seniority" => C::Seniority,
        "industry" => C::Industry,
        "companySize" => C::CompanySize,
        "country" => C::Country,
        "state" => C::State,
        "city" => C::City,
        "zipCode" => C::ZipCode,
        _ => return None,
    })
}

impl LeadIndex {
    async fn load(
        db: &impl ConnectionTrait,
        strategy_fields: &[(String, String)],
        prepared: &[Prepared],
    ) -> AppResult<Self> {
        let mut index = LeadIndex {
            leads: HashMap::new(),
            by_key: HashMap::new(),
            lookup_field: strategy_fields.first().map(|(_, f)| f.clone()),
            last_kind: HashMap::new(),
        };
        let Some(field) = index.lookup_field.clone() else {
            return Ok(index);
        };
        let keys: HashSet<String> = prepared
            .iter()
            .filter_map(|p| p.mapped.values.get(&field))
            .filter_map(|v| matching::normalize(&field, v))
            .collect();
        for l in find_leads(db, &field, keys.into_iter().collect(), true).await? {
            index.insert(l);
        }
        Ok(index)
    }

    fn insert(&mut self, lead: lead::Model) {
        if let Some(field) = &self.lookup_field
            && let Some(key) = matching::lead_key(&lead, field)
        {
            let ids = self.by_key.entry(key).or_default();
            if !ids.contains(&lead.id) {
                ids.push(lead.id);
            }
        }
        self.leads.insert(lead.id, lead);
    }

    /// Re-indexes a lead whose values changed.
    fn replace(&mut self, lead: lead::Model) {
        let old_key = self.lookup_field.as_ref().and_then(|field| {
            self.leads
                .get(&lead.id)
                .and_then(|old| matching::lead_key(old, field))
        });
        if let Some(ids) = old_key.and_then(|key| self.by_key.get_mut(&key)) {
            ids.retain(|id| *id != lead.id);
        }
        self.insert(lead);
    }

    fn candidates(&self, mapped: &MappedValues) -> Vec<&lead::Model> {
        let Some(field) = &self.lookup_field else {
            return Vec::new();
        };
        let Some(key) = mapped
            .values
            .get(field)
            .and_then(|v| matching::normalize(field, v))
        else {
            return Vec::new();
        };
        self.by_key
            .get(&key)
            .map(|ids| ids.iter().filter_map(|id| self.leads.get(id)).collect())
            .unwrap_or_default()
    }

    fn failed_kind(&mut self, p: &Prepared) -> FailedKind {
        self.last_kind
            .remove(&p.response.linkedin_id)
            .unwrap_or(FailedKind::BeforeMatching)
    }
}

/// What one submission does to the leads, decided in memory.
fn decide_one(
    strategy: &Strategy<'_>,
    p: &Prepared,
    index: &mut LeadIndex,
    leads_from_tests: bool,
) -> Result<(Decision, String), Result<Outcome, String>> {
    if p.form.is_none() {
        return Err(Err(format!(
            "form {} version {} is unknown: send its definition with the responses",
            p.response.form_id, p.response.form_version
        )));
    }
    if p.response.test_lead && !leads_from_tests {
        return Err(Ok(Outcome::Kept(
            "test lead: kept as a submission only (createLeadsFromTestLeads is off)".into(),
        )));
    }
    Ok(matching::decide(
        strategy,
        &p.mapped,
        index.candidates(&p.mapped),
    ))
}

/// The lead changes of a whole batch, decided in memory: every submission's outcome, the leads to
/// insert (in creation order) and the stored leads to rewrite. `next_id` names each new lead.
struct Plan {
    outcomes: Vec<Result<Outcome, String>>,
    created: Vec<i64>,
    rewritten: Vec<i64>,
}

fn plan(
    strategy: &Strategy<'_>,
    prepared: &[Prepared],
    index: &mut LeadIndex,
    now: DateTime<Utc>,
    leads_from_tests: bool,
    mut next_id: impl FnMut() -> i64,
) -> Plan {
    let mut plan = Plan {
        outcomes: Vec::with_capacity(prepared.len()),
        created: Vec::new(),
        rewritten: Vec::new(),
    };
    let mut created: HashSet<i64> = HashSet::new();
    let mut rewritten: HashSet<i64> = HashSet::new();
    for p in prepared {
        let (decision, explanation) = match decide_one(strategy, p, index, leads_from_tests) {
            Ok(decided) => decided,
            Err(outcome) => {
                plan.outcomes.push(outcome);
                continue;
            }
        };
        let outcome = match decision {
            Decision::Ignore => Outcome::Ignored(explanation),
            Decision::Create => {
                let mut lead = new_lead(p, now);
                lead.id = next_id();
                let lead_id = lead.id;
                index.insert(lead);
                created.insert(lead_id);
                plan.created.push(lead_id);
                Outcome::Created {
                    lead_id,
                    explanation: format!("{explanation} lead {lead_id}"),
                }
            }
            Decision::Update { lead_id, .. } => {
                let (lead, changed, older) = updated_lead(index.leads[&lead_id].clone(), p, now);
                index.replace(lead);
                if !created.contains(&lead_id) && rewritten.insert(lead_id) {
                    plan.rewritten.push(lead_id);
                }
                update_outcome(lead_id, explanation, changed, older)
            }
        };
        plan.outcomes.push(Ok(outcome));
    }
    plan
}

/// Ids for `n` new leads, ascending, as the database would have given them one by one. Called
/// inside the ingest transaction after its first write: on SQLite it holds the write lock, on
/// PostgreSQL the ids come from the table's own sequence.
async fn allocate_lead_ids(txn: &DatabaseTransaction, n: usize) -> AppResult<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let backend = txn.get_database_backend();
    if backend == DatabaseBackend::Postgres {
        let rows = txn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                "SELECT nextval(pg_get_serial_sequence('leads', 'id')) AS id \
                 FROM generate_series(1, $1)",
                [(n as i64).into()],
            ))
            .await?;
        let mut ids = rows
            .iter()
            .map(|r| r.try_get::<i64>("", "id"))
            .collect::<Result<Vec<_>, _>>()?;
        ids.sort_unstable();
        return Ok(ids);
    }
    // SQLite: past the largest id ever used (AUTOINCREMENT keeps it in sqlite_sequence).
    let row = txn
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT MAX(COALESCE((SELECT MAX(id) FROM leads), 0), \
             COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'leads'), 0)) AS id",
        ))
        .await?
        .ok_or_else(|| AppError::internal("no lead id row"))?;
    let last = row.try_get::<i64>("", "id")?;
    Ok((1..=n as i64).map(|k| last + k).collect())
}

/// Decides and writes the lead changes of the batch: the new leads in multi-row INSERTs and the
/// matched leads in multi-row upserts on their id, in one savepoint. Should the database refuse
/// any of it (a value it cannot store), the savepoint is rolled back and every submission is
/// written again in its own savepoint, so only the failing ones are marked FAILED.
async fn write_leads(
    txn: &DatabaseTransaction,
    strategy: &Strategy<'_>,
    prepared: &[Prepared],
    index: &mut LeadIndex,
    now: DateTime<Utc>,
    leads_from_tests: bool,
) -> AppResult<Vec<Result<Outcome, String>>> {
    let snapshot = index.clone();
    // A dry run counts the leads to create; provisional ids above every stored one keep the
    // order (and so every decision) that the real ids will have.
    let creations = {
        let mut trial = index.clone();
        let mut next = i64::MAX / 2;
        plan(
            strategy,
            prepared,
            &mut trial,
            now,
            leads_from_tests,
            || {
                next += 1;
                next
            },
        )
        .created
        .len()
    };
    let ids = allocate_lead_ids(txn, creations).await?;
    let mut ids = ids.into_iter();
    let mut exhausted = false;
    let plan = plan(strategy, prepared, index, now, leads_from_tests, || {
        ids.next().unwrap_or_else(|| {
            exhausted = true;
            0
        })
    });
    let batch = async {
        if exhausted {
            return Err(sea_orm::DbErr::Custom("lead ids ran out".into()));
        }
        let savepoint = txn.begin().await?;
        let written = async {
            let created: Vec<lead::ActiveModel> = plan
                .created
                .iter()
                .map(|id| lead::ActiveModel::from(index.leads[id].clone()).reset_all())
                .collect();
            for chunk in created.chunks(LEAD_CHUNK) {
                lead::Entity::insert_many(chunk.to_vec())
                    .exec_without_returning(&savepoint)
                    .await?;
            }
            let rewritten: Vec<lead::ActiveModel> = plan
                .rewritten
                .iter()
                .map(|id| lead::ActiveModel::from(index.leads[id].clone()).reset_all())
                .collect();
            for chunk in rewritten.chunks(LEAD_CHUNK) {
                lead::Entity::insert_many(chunk.to_vec())
                    .on_conflict(
                        OnConflict::column(lead::Column::Id)
                            .update_columns(
                                <lead::Column as sea_orm::Iterable>::iter()
                                    .filter(|c| !matches!(c, lead::Column::Id)),
                            )
                            .to_owned(),
                    )
                    .exec_without_returning(&savepoint)
                    .await?;
            }
            Ok::<_, sea_orm::DbErr>(())
        }
        .await;
        match written {
            Ok(()) => savepoint.commit().await,
            Err(e) => {
                savepoint.rollback().await?;
                Err(e)
            }
        }
    };
    match batch.await {
        Ok(()) => Ok(plan.outcomes),
        Err(error) => {
            tracing::warn!(%error, "batched lead writes refused; writing submission by submission");
            *index = snapshot;
            let mut outcomes = Vec::with_capacity(prepared.len());
            for p in prepared {
                outcomes.push(match decide_one(strategy, p, index, leads_from_tests) {
                    Err(outcome) => outcome,
                    Ok(_) => apply_decision(txn, strategy, p, index, now).await,
                });
            }
            Ok(outcomes)
        }
    }
}

/// What updating `lead_id` amounted to, with its explanation.
fn update_outcome(lead_id: i64, explanation: String, changed: bool, older: bool) -> Outcome {
    let explanation = if older {
        format!("{explanation} (an older submission: only empty fields filled)")
    } else {
        explanation
    };
    if changed {
        Outcome::Updated {
            lead_id,
            explanation,
        }
    } else {
        Outcome::Unchanged {
            lead_id,
            explanation: format!("{explanation}: nothing to update"),
        }
    }
}

/// Decides and writes the lead change of one submission inside a savepoint.
async fn apply_decision(
    txn: &DatabaseTransaction,
    strategy: &Strategy<'_>,
    p: &Prepared,
    index: &mut LeadIndex,
    now: DateTime<Utc>,
) -> Result<Outcome, String> {
    let (decision, explanation) =
        matching::decide(strategy, &p.mapped, index.candidates(&p.mapped));
    let savepoint = txn.begin().await.map_err(internal)?;
    let result = match decision {
        Decision::Ignore => Ok(Outcome::Ignored(explanation)),
        Decision::Create => {
            index
                .last_kind
                .insert(p.response.linkedin_id.clone(), FailedKind::Creation);
            create_lead(&savepoint, p, now).await.map(|lead| {
                let lead_id = lead.id;
                index.insert(lead);
                Outcome::Created {
                    lead_id,
                    explanation: format!("{explanation} lead {lead_id}"),
                }
            })
        }
        Decision::Update { lead_id, .. } => {
            index
                .last_kind
                .insert(p.response.linkedin_id.clone(), FailedKind::Update);
            let current = index.leads[&lead_id].clone();
            update_lead(&savepoint, current, p, now)
                .await
                .map(|(lead, changed, older)| {
                    index.replace(lead);
                    update_outcome(lead_id, explanation, changed, older)
                })
        }
    };
    match result {
        Ok(outcome) => {
            savepoint.commit().await.map_err(internal)?;
            index.last_kind.remove(&p.response.linkedin_id);
            Ok(outcome)
        }
        Err(reason) => {
            savepoint.rollback().await.map_err(internal)?;
            Err(reason)
        }
    }
}

fn internal(err: sea_orm::DbErr) -> String {
    tracing::error!(error = %err, "lead write failed");
    "the lead could not be written (see the server log)".into()
}

/// The lead a submission creates (id 0 until stored).
fn new_lead(p: &Prepared, now: DateTime<Utc>) -> lead::Model {
    let mut model = lead::Model {
        id: 0,
        first_name: None,
        last_name: None,
        email: None,
        email_normalized: None,
        work_email: None,
        work_email_normalized: None,
        phone: None,
        phone_normalized: None,
        work_phone: None,
        company: None,
        job_title: None,
        job_function: None,
        seniority: None,
        industry: None,
        company_size: None,
        country: None,
        state: None,
        city: None,
        zip_code: None,
        custom_fields: json!({}),
        source: LeadSource::of_lead_type(&p.response.lead_type)
            .as_str()
            .into(),
        source_campaign_id: p.campaign_id,
        source_form_id: p.form.as_ref().map(|f| f.id),
        latest_submission_at: Some(p.response.submitted_at),
        submission_count: 1,
        created_at: now,
        updated_at: now,
    };
    matching::apply_values(&mut model, &p.mapped.values, false);
    model
}

/// A lead after a submission: the lead, whether a value changed, and whether the submission was
/// older than the lead's latest.
fn updated_lead(
    mut lead: lead::Model,
    p: &Prepared,
    now: DateTime<Utc>,
) -> (lead::Model, bool, bool) {
    let older = lead
        .latest_submission_at
        .is_some_and(|latest| p.response.submitted_at < latest);
    let changed = matching::apply_values(&mut lead, &p.mapped.values, older);
    lead.submission_count += 1;
    lead.latest_submission_at = Some(
        lead.latest_submission_at
            .map_or(p.response.submitted_at, |l| {
                Ord::max(l, p.response.submitted_at)
            }),
    );
    if changed {
        lead.updated_at = now;
    }
    (lead, changed, older)
}

async fn create_lead(
    txn: &DatabaseTransaction,
    p: &Prepared,
    now: DateTime<Utc>,
) -> Result<lead::Model, String> {
    let mut active = lead::ActiveModel::from(new_lead(p, now)).reset_all();
    active.id = NotSet;
    active.insert(txn).await.map_err(internal)
}

/// Returns the updated lead, whether a value changed, and whether the submission was older.
async fn update_lead(
    txn: &DatabaseTransaction,
    lead: lead::Model,
    p: &Prepared,
    now: DateTime<Utc>,
) -> Result<(lead::Model, bool, bool), String> {
    let (lead, changed, older) = updated_lead(lead, p, now);
    let active = lead::ActiveModel::from(lead.clone()).reset_all();
    active.update(txn).await.map_err(internal)?;
    Ok((lead, changed, older))
}

/// Upserts forms and their questions (consents are questions flagged as consent).
pub async fn store_forms(db: &DatabaseConnection, forms: &[LeadForm]) -> AppResult<()> {
    if forms.is_empty() {
        return Ok(());
    }
    let accounts = ensure_accounts(
        db,
        forms.iter().filter_map(|f| f.account_id.clone()).collect(),
    )
    .await?;
    let now = Utc::now();
    let txn = db.begin().await?;
    for form in forms {
        use linkedin_form::Column as F;
        let hidden = (!form.hidden_fields.is_empty()).then(|| {
            Json::Object(
                form.hidden_fields
                    .iter()
                    .map(|(k, v)| (k.clone(), Json::String(v.clone())))
                    .collect(),
            )
        });
        linkedin_form::Entity::insert(linkedin_form::ActiveModel {
            id: NotSet,
            linkedin_id: Set(form.linkedin_id.clone()),
            account_id: Set(form
                .account_id
                .as_ref()
                .and_then(|a| accounts.get(a).copied())),
            name: Set(form.name.clone()),
            headline: Set(form.headline.clone()),
            description: Set(form.description.clone()),
            landing_page_url: Set(form.landing_page_url.clone()),
            privacy_policy_url: Set(form.privacy_policy_url.clone()),
            thank_you_message: Set(form.thank_you_message.clone()),
            locale: Set(form.locale.clone()),
            version_id: Set(Some(form.version_id)),
            status: Set(form.status.clone()),
            hidden_fields: Set(hidden),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(F::LinkedinId)
                .update_columns([
                    F::AccountId,
                    F::Name,
                    F::Headline,
                    F::Description,
                    F::LandingPageUrl,
                    F::PrivacyPolicyUrl,
                    F::ThankYouMessage,
                    F::Locale,
                    F::VersionId,
                    F::Status,
                    F::HiddenFields,
                    F::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        let form_id = linkedin_form::Entity::find()
            .filter(F::LinkedinId.eq(form.linkedin_id.clone()))
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::internal("stored form vanished"))?
            .id;
        let mut rows = Vec::new();
        for (position, q) in form.questions.iter().enumerate() {
            let options = (!q.options.is_empty()).then(|| {
                Json::Array(
                    q.options
                        .iter()
                        .map(|(id, text)| json!({"id": id, "text": text}))
                        .collect(),
                )
            });
            rows.push(question_row(
                form_id,
                &q.question_id,
                q.name.clone(),
                &q.text,
                q.kind.as_str(),
                q.predefined_field.is_none(),
                false,
                q.predefined_field.clone(),
                options,
                position,
                now,
            ));
        }
        for (i, c) in form.consents.iter().enumerate() {
            rows.push(question_row(
                form_id,
                &c.consent_id,
                None,
                &c.text,
                "CONSENT",
                false,
                true,
                None,
                None,
                form.questions.len() + i,
                now,
            ));
        }
        if !rows.is_empty() {
            use linkedin_form_question::Column as Q;
            linkedin_form_question::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([Q::FormId, Q::IsConsent, Q::LinkedinQuestionId])
                        .update_columns([
                            Q::Name,
                            Q::Text,
                            Q::Kind,
                            Q::IsCustom,
                            Q::PredefinedField,
                            Q::Options,
                            Q::Position,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        store_form_version(&txn, form_id, form, now).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The legal text and hidden fields of this form version as first seen: a later version never
/// rewrites what earlier submitters were shown.
async fn store_form_version(
    txn: &sea_orm::DatabaseTransaction,
    form_id: i64,
    form: &LeadForm,
    now: chrono::DateTime<Utc>,
) -> AppResult<()> {
    use entity::linkedin_form_version::{self as version, Column as V};
    let consents = Json::Array(
        form.consents
            .iter()
            .map(|c| json!({"consentId": c.consent_id, "text": c.text}))
            .collect(),
    );
    let hidden = Json::Array(
        form.hidden_fields
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect(),
    );
    version::Entity::insert(version::ActiveModel {
        id: NotSet,
        form_id: Set(form_id),
        version_id: Set(form.version_id),
        privacy_policy_url: Set(form.privacy_policy_url.clone()),
        consents: Set(Some(consents)),
        hidden_fields: Set(Some(hidden)),
        first_seen_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([V::FormId, V::VersionId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn question_row(
    form_id: i64,
    linkedin_id: &str,
    name: Option<String>,
    text: &str,
    kind: &str,
    is_custom: bool,
    is_consent: bool,
    predefined_field: Option<String>,
    options: Option<Json>,
    position: usize,
    now: DateTime<Utc>,
) -> linkedin_form_question::ActiveModel {
    linkedin_form_question::ActiveModel {
        id: NotSet,
        form_id: Set(form_id),
        linkedin_question_id: Set(linkedin_id.to_owned()),
        name: Set(name),
        text: Set(text.to_owned()),
        kind: Set(kind.to_owned()),
        is_custom: Set(is_custom),
        is_consent: Set(is_consent),
        predefined_field: Set(predefined_field),
        options: Set(options),
        position: Set(position as i32),
        created_at: Set(now),
    }
}

async fn load_forms(
    db: &DatabaseConnection,
    linkedin_ids: Vec<String>,
) -> AppResult<(
    HashMap<String, linkedin_form::Model>,
    HashMap<i64, Vec<linkedin_form_question::Model>>,
)> {
    let forms: HashMap<String, linkedin_form::Model> = linkedin_form::Entity::find()
        .filter(linkedin_form::Column::LinkedinId.is_in(linkedin_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.linkedin_id.clone(), f))
        .collect();
    let ids: Vec<i64> = forms.values().map(|f| f.id).collect();
    let questions = crate::service::batch::grouped_by::<linkedin_form_question::Entity>(
        db,
        linkedin_form_question::Column::FormId,
        &ids,
        linkedin_form_question::Column::Position,
        false,
    )
    .await?;
    Ok((forms, questions))
}

/// A lead source not synced yet: pending, enabled, named by its placeholder until discovery
/// (or the ad account's own fields) names it.
pub fn new_source_row(
    source: &model::LeadSourceId,
    now: DateTime<Utc>,
) -> linkedin_account::ActiveModel {
    linkedin_account::ActiveModel {
        id: NotSet,
        linkedin_id: Set(source.key()),
        name: Set(source.placeholder_name()),
        currency: Set(None),
        status: Set(None),
        is_test: Set(false),
        reference_urn: Set(None),
        enabled_for_sync: Set(true),
        sync_status: Set(crate::domain::AccountSyncStatus::Pending.as_str().into()),
        status_details: Set(None),
        last_sync_at: Set(None),
        sync_cursor_ms: Set(None),
        webhook_subscription_id: Set(None),
        lease_owner: Set(None),
        lease_expires_at: Set(None),
        lead_type: Set(source.lead_type().as_str().to_owned()),
        owner_urn: Set(Some(source.owner_urn())),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// LinkedIn account id -> row id; accounts seen first in a lead get a placeholder row that
/// discovery fills in later.
pub async fn ensure_accounts(
    db: &impl ConnectionTrait,
    linkedin_ids: HashSet<String>,
) -> AppResult<HashMap<String, i64>> {
    if linkedin_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let now = Utc::now();
    let rows = linkedin_ids
        .iter()
        .map(|id| new_source_row(&model::LeadSourceId::parse(id), now));
    linkedin_account::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([linkedin_account::Column::LinkedinId])
        .exec_without_returning(db)
        .await?;
    Ok(linkedin_account::Entity::find()
        .filter(linkedin_account::Column::LinkedinId.is_in(linkedin_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.linkedin_id, a.id))
        .collect())
}

/// LinkedIn campaign id -> row id, creating placeholders for campaigns not yet discovered;
/// `campaigns` maps each to its LinkedIn account id, if known (a key of `accounts`).
pub async fn ensure_campaigns(
    db: &impl ConnectionTrait,
    campaigns: HashMap<String, Option<String>>,
    accounts: &HashMap<String, i64>,
) -> AppResult<HashMap<String, i64>> {
    if campaigns.is_empty() {
        return Ok(HashMap::new());
    }
    let now = Utc::now();
    let rows = campaigns
        .iter()
        .map(|(id, account)| linkedin_campaign::ActiveModel {
            id: NotSet,
            linkedin_id: Set(id.clone()),
            account_id: Set(account.as_ref().and_then(|a| accounts.get(a).copied())),
            name: Set(format!("Campaign {id}")),
            campaign_type: Set(None),
            status: Set(None),
            start_at: Set(None),
            end_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        });
    linkedin_campaign::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([linkedin_campaign::Column::LinkedinId])
        .exec_without_returning(db)
        .await?;
    Ok(linkedin_campaign::Entity::find()
        .filter(linkedin_campaign::Column::LinkedinId.is_in(campaigns.into_keys()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.linkedin_id, c.id))
        .collect())
}

/// One customer journey per campaign, created the first time (never twice: unique campaign).
pub async fn ensure_journeys(
    db: &impl ConnectionTrait,
    campaign_ids: Vec<i64>,
) -> AppResult<HashMap<i64, i64>> {
    if campaign_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let names: HashMap<i64, String> = linkedin_campaign::Entity::find()
        .filter(linkedin_campaign::Column::Id.is_in(campaign_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let now = Utc::now();
    let rows = campaign_ids.iter().map(|id| customer_journey::ActiveModel {
        id: NotSet,
        campaign_id: Set(*id),
        name: Set(format!(
            "LinkedIn: {}",
            names.get(id).map_or("campaign", String::as_str)
        )),
        status: Set(crate::domain::JourneyStatus::Draft.as_str().into()),
        created_at: Set(now),
        updated_at: Set(now),
    });
    customer_journey::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([customer_journey::Column::CampaignId])
        .exec_without_returning(db)
        .await?;
    journeys_of(db, campaign_ids).await
}

async fn journeys_of(
    db: &impl ConnectionTrait,
    campaign_ids: Vec<i64>,
) -> AppResult<HashMap<i64, i64>> {
    if campaign_ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(customer_journey::Entity::find()
        .filter(customer_journey::Column::CampaignId.is_in(campaign_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|j| (j.campaign_id, j.id))
        .collect())
}
