//! Trying a matching strategy before activating it: what it would do with recent submissions,
//! computed from stored answers against the current leads, writing nothing.

use std::collections::HashSet;

use entity::{form_submission, lead, linkedin_form_question};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder, QuerySelect};

use crate::{
    domain::OnMatchFail,
    error::{AppError, AppResult},
    service::{
        batch, configuration, ingest, linkedin, mappings,
        matching::{self, AnswerRef, Decision, Strategy},
        strategies,
    },
};

pub const MAX_PREVIEW: u64 = 200;

pub struct PreviewRow {
    pub submission: form_submission::Model,
    pub decision: Decision,
    pub explanation: String,
}

pub async fn preview_strategy(
    db: &DatabaseConnection,
    strategy_id: i64,
    limit: i32,
) -> AppResult<Vec<PreviewRow>> {
    if limit < 1 || limit as u64 > MAX_PREVIEW {
        return Err(AppError::bad_input(format!(
            "limit must be between 1 and {MAX_PREVIEW}"
        )));
    }
    let strategy = strategies::get(db, strategy_id).await?;
    let fields: Vec<(String, String)> = strategies::fields_by_strategy(db, &[strategy.id])
        .await?
        .remove(&strategy.id)
        .unwrap_or_default()
        .into_iter()
        .map(|m| (m.linkedin_field, m.lead_field))
        .collect();
    let config = configuration::get(db).await?;
    let all_mappings = mappings::list_mappings(db).await?;
    let submissions = form_submission::Entity::find()
        .order_by_desc(form_submission::Column::SubmittedAt)
        .order_by_desc(form_submission::Column::Id)
        .limit(limit as u64)
        .all(db)
        .await?;
    let ids: Vec<i64> = submissions.iter().map(|s| s.id).collect();
    let answers = linkedin::answers_of(db, &ids).await?;
    let question_ids: Vec<i64> = answers
        .values()
        .flatten()
        .filter_map(|a| a.question_id)
        .collect();
    let questions = batch::by_ids::<linkedin_form_question::Entity>(db, &question_ids).await?;
    let form_ids: Vec<i64> = submissions.iter().filter_map(|s| s.form_id).collect();
    let form_questions = batch::grouped_by::<linkedin_form_question::Entity>(
        db,
        linkedin_form_question::Column::FormId,
        &form_ids,
        linkedin_form_question::Column::Position,
        false,
    )
    .await?;

    let mapped: Vec<_> = submissions
        .iter()
        .map(|s| {
            let rows = answers.get(&s.id).map(Vec::as_slice).unwrap_or_default();
            let mut refs: Vec<AnswerRef> = rows
                .iter()
                .filter(|a| !a.is_consent)
                .map(|a| AnswerRef {
                    predefined_field: a.predefined_field.as_deref(),
                    name: a
                        .question_id
                        .and_then(|q| questions.get(&q))
                        .and_then(|q| q.name.as_deref()),
                    text: &a.question_text,
                    value: &a.value,
                })
                .collect();
            // Questions of the form left unanswered still count as asked.
            let asked = s.form_id.and_then(|f| form_questions.get(&f));
            for q in asked.into_iter().flatten().filter(|q| !q.is_consent) {
                if !rows.iter().any(|a| a.question_id == Some(q.id)) {
                    refs.push(AnswerRef {
                        predefined_field: q.predefined_field.as_deref(),
                        name: q.name.as_deref(),
                        text: &q.text,
                        value: "",
                    });
                }
            }
            matching::map_answers(&refs, &all_mappings)
        })
        .collect();

    // Candidate leads: those sharing the first strategy field's value with a submission.
    let candidates: Vec<lead::Model> = match fields.first() {
        Some((_, lead_field)) => {
            let keys: HashSet<String> = mapped
                .iter()
                .filter_map(|m| m.values.get(lead_field))
                .filter_map(|v| matching::normalize(lead_field, v))
                .collect();
            ingest::find_leads_by(db, lead_field, keys.into_iter().collect()).await?
        }
        None => Vec::new(),
    };
    let strategy = Strategy {
        always_create_lead: strategy.always_create_lead,
        fields: &fields,
        fallback_creates: config.on_match_fail == OnMatchFail::CreateNewLead.as_str(),
    };
    Ok(submissions
        .into_iter()
        .zip(mapped)
        .map(|(submission, values)| {
            let (decision, explanation) = matching::decide(&strategy, &values, &candidates);
            PreviewRow {
                submission,
                decision,
                explanation,
            }
        })
        .collect())
}
