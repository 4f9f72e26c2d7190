//! A person's data on request (GDPR articles 15 and 20): everything leadsync holds about one
//! email address or one lead, as one JSON document in a versioned shape, and, for a person who
//! was erased, an export that says so and when without holding any of their data.
//!
//! Shape `leadsync.personal-data/1` (documented in `docs/personal-data-export.md`): additions
//! keep the version; a renamed or removed field raises it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{
    customer_journey, erased_subject, form_submission, lead, linkedin_campaign, linkedin_form,
    linkedin_form_version,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
};
use serde::Serialize;
use serde_json::Value;

use crate::{
    error::{AppError, AppResult},
    service::{leads::normalize_email, linkedin::answers_of},
};

pub const EXPORT_FORMAT: &str = "leadsync.personal-data/1";

/// The keyed hash an erasure leaves of a normalized email: HMAC-SHA256 under a key derived from
/// the deployment's secret key, so the table tells nothing to someone without that key.
pub fn subject_hash(secret_key: &[u8; 32], email: &str) -> Option<String> {
    use hmac::{Hmac, Mac};
    let email = normalize_email(email)?;
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret_key).expect("any key length");
    mac.update(b"leadsync erased subject v1\0");
    mac.update(email.as_bytes());
    Some(hex::encode(mac.finalize().into_bytes()))
}

/// Who an export is about.
#[derive(Debug, Clone)]
pub enum Subject {
    Email(String),
    Lead(i64),
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonalDataExport {
    pub format: &'static str,
    pub generated_at: DateTime<Utc>,
    /// What was asked for: `{"by": "email"}` or `{"by": "leadId", "leadId": ..}`.
    pub subject: Value,
    /// Set when the person was erased: their data is gone, this says when.
    pub erasure: Option<Erasure>,
    pub leads: Vec<ExportedLead>,
    /// The audit trail's entries about these leads (who created, changed, exported them),
    /// oldest first.
    pub audit: Vec<ExportedAuditEntry>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedAuditEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub operation: String,
    pub lead_id: Option<String>,
    pub details: Option<Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Erasure {
    pub erased_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedLead {
    pub id: i64,
    /// The lead's fields, null ones left out; custom fields under `custom`.
    pub fields: serde_json::Map<String, Value>,
    pub source: String,
    pub source_campaign: Option<NamedRecord>,
    pub source_form: Option<NamedRecord>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submissions: Vec<ExportedSubmission>,
    /// Every consent the person answered, kept as proof after the submissions' own retention.
    pub consent_records: Vec<ExportedConsentRecord>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedConsentRecord {
    pub linked_in_response_id: String,
    pub form: Option<NamedRecord>,
    pub form_version: Option<i64>,
    pub consent_id: String,
    pub text: String,
    pub accepted: bool,
    pub submitted_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct NamedRecord {
    pub id: i64,
    pub linked_in_id: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedSubmission {
    pub linked_in_response_id: String,
    pub submitted_at: DateTime<Utc>,
    pub lead_type: String,
    pub test_lead: bool,
    pub campaign: Option<NamedRecord>,
    pub customer_journey: Option<NamedRecord>,
    pub form: Option<NamedRecord>,
    pub form_version: Option<i64>,
    /// The privacy policy the form version showed.
    pub privacy_policy_url: Option<String>,
    pub matching_status: String,
    pub match_explanation: Option<String>,
    pub answers: Vec<ExportedAnswer>,
    pub consents: Vec<ExportedConsent>,
    pub hidden_fields: Option<Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedAnswer {
    pub question: String,
    pub predefined_field: Option<String>,
    pub answer: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedConsent {
    /// The consent's text as the form showed it, in the form's language.
    pub text: String,
    pub accepted: bool,
}

/// Everything held about `subject`. An email matches a lead's email or work email under the
/// normalization matching uses (trimmed, case-insensitive).
pub async fn export(
    db: &impl ConnectionTrait,
    secret_key: &[u8; 32],
    subject: &Subject,
) -> AppResult<PersonalDataExport> {
    let (leads, described, hash) = match subject {
        Subject::Email(email) => {
            let normalized = normalize_email(email)
                .ok_or_else(|| AppError::bad_input("email must not be empty"))?;
            let leads = lead::Entity::find()
                .filter(
                    Condition::any()
                        .add(lead::Column::EmailNormalized.eq(&normalized))
                        .add(lead::Column::WorkEmailNormalized.eq(&normalized)),
                )
                .order_by_asc(lead::Column::Id)
                .all(db)
                .await?;
            (
                leads,
                // The address itself is not echoed: an erased person's export holds none of them.
                serde_json::json!({ "by": "email" }),
                subject_hash(secret_key, &normalized),
            )
        }
        Subject::Lead(id) => {
            let leads = lead::Entity::find_by_id(*id).all(db).await?;
            if leads.is_empty() {
                return Err(AppError::not_found("lead", *id));
            }
            (
                leads,
                serde_json::json!({ "by": "leadId", "leadId": id.to_string() }),
                None,
            )
        }
    };
    let erasure = match &hash {
        Some(hash) if leads.is_empty() => erased_subject::Entity::find()
            .filter(erased_subject::Column::SubjectHash.eq(hash))
            .order_by_desc(erased_subject::Column::ErasedAt)
            .one(db)
            .await?
            .map(|e| Erasure {
                erased_at: e.erased_at,
            }),
        _ => None,
    };

    let lead_ids: Vec<i64> = leads.iter().map(|l| l.id).collect();
    let audit = crate::service::audit::about_leads(db, &lead_ids)
        .await?
        .into_iter()
        .map(|e| ExportedAuditEntry {
            at: e.at,
            actor: e.actor,
            operation: e.operation,
            lead_id: e.object_id,
            details: e.details,
        })
        .collect();
    let submissions = form_submission::Entity::find()
        .filter(form_submission::Column::LeadId.is_in(lead_ids.clone()))
        .order_by_asc(form_submission::Column::SubmittedAt)
        .order_by_asc(form_submission::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = submissions.iter().map(|s| s.id).collect();
    let records = entity::consent_record::Entity::find()
        .filter(entity::consent_record::Column::LeadId.is_in(lead_ids.clone()))
        .order_by_asc(entity::consent_record::Column::SubmittedAt)
        .order_by_asc(entity::consent_record::Column::Id)
        .all(db)
        .await?;
    let mut answers = answers_of(db, &ids).await?;

    let campaign_ids: HashSet<i64> = submissions
        .iter()
        .filter_map(|s| s.campaign_id)
        .chain(leads.iter().filter_map(|l| l.source_campaign_id))
        .collect();
    let form_ids: HashSet<i64> = submissions
        .iter()
        .filter_map(|s| s.form_id)
        .chain(leads.iter().filter_map(|l| l.source_form_id))
        .chain(records.iter().filter_map(|r| r.form_id))
        .collect();
    let journey_ids: HashSet<i64> = submissions
        .iter()
        .filter_map(|s| s.customer_journey_id)
        .collect();
    let campaigns: HashMap<i64, NamedRecord> = linkedin_campaign::Entity::find()
        .filter(linkedin_campaign::Column::Id.is_in(campaign_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| {
            let record = NamedRecord {
                id: c.id,
                linked_in_id: c.linkedin_id,
                name: c.name,
            };
            (c.id, record)
        })
        .collect();
    let forms: HashMap<i64, NamedRecord> = linkedin_form::Entity::find()
        .filter(linkedin_form::Column::Id.is_in(form_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|f| {
            let record = NamedRecord {
                id: f.id,
                linked_in_id: f.linkedin_id,
                name: f.name,
            };
            (f.id, record)
        })
        .collect();
    let journeys: HashMap<i64, NamedRecord> = customer_journey::Entity::find()
        .filter(customer_journey::Column::Id.is_in(journey_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|j| {
            let record = NamedRecord {
                id: j.id,
                linked_in_id: j.campaign_id.to_string(),
                name: j.name,
            };
            (j.id, record)
        })
        .collect();
    let versions: HashMap<(i64, i64), Option<String>> = linkedin_form_version::Entity::find()
        .filter(linkedin_form_version::Column::FormId.is_in(form_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|v| ((v.form_id, v.version_id), v.privacy_policy_url))
        .collect();

    let mut by_lead: HashMap<i64, Vec<ExportedSubmission>> = HashMap::new();
    for s in submissions {
        let (mut given, mut consents) = (Vec::new(), Vec::new());
        for a in answers.remove(&s.id).unwrap_or_default() {
            if a.is_consent {
                consents.push(ExportedConsent {
                    text: a.question_text,
                    accepted: a.accepted.unwrap_or(false),
                });
            } else {
                given.push(ExportedAnswer {
                    question: a.question_text,
                    predefined_field: a.predefined_field,
                    answer: a.value,
                });
            }
        }
        let privacy_policy_url = s
            .form_id
            .zip(s.form_version)
            .and_then(|key| versions.get(&key).cloned().flatten());
        let exported = ExportedSubmission {
            linked_in_response_id: s.linkedin_id,
            submitted_at: s.submitted_at,
            lead_type: s.lead_type,
            test_lead: s.test_lead,
            campaign: s.campaign_id.and_then(|id| campaigns.get(&id).cloned()),
            customer_journey: s
                .customer_journey_id
                .and_then(|id| journeys.get(&id).cloned()),
            form: s.form_id.and_then(|id| forms.get(&id).cloned()),
            form_version: s.form_version,
            privacy_policy_url,
            matching_status: s.matching_status,
            match_explanation: s.match_explanation,
            answers: given,
            consents,
            hidden_fields: s.hidden_fields,
        };
        if let Some(lead_id) = s.lead_id {
            by_lead.entry(lead_id).or_default().push(exported);
        }
    }

    let mut records_by_lead: HashMap<i64, Vec<ExportedConsentRecord>> = HashMap::new();
    for r in records {
        records_by_lead
            .entry(r.lead_id)
            .or_default()
            .push(ExportedConsentRecord {
                linked_in_response_id: r.linkedin_response_id,
                form: r.form_id.and_then(|id| forms.get(&id).cloned()),
                form_version: r.form_version,
                consent_id: r.consent_id,
                text: r.consent_text,
                accepted: r.accepted,
                submitted_at: r.submitted_at,
            });
    }
    let leads = leads
        .into_iter()
        .map(|l| ExportedLead {
            id: l.id,
            fields: lead_fields(&l),
            source: l.source.clone(),
            source_campaign: l
                .source_campaign_id
                .and_then(|id| campaigns.get(&id).cloned()),
            source_form: l.source_form_id.and_then(|id| forms.get(&id).cloned()),
            created_at: l.created_at,
            updated_at: l.updated_at,
            submissions: by_lead.remove(&l.id).unwrap_or_default(),
            consent_records: records_by_lead.remove(&l.id).unwrap_or_default(),
        })
        .collect();
    Ok(PersonalDataExport {
        format: EXPORT_FORMAT,
        generated_at: Utc::now(),
        subject: described,
        erasure,
        leads,
        audit,
    })
}

/// The lead's own fields under their GraphQL names, null ones left out.
fn lead_fields(l: &lead::Model) -> serde_json::Map<String, Value> {
    let pairs: [(&str, &Option<String>); 16] = [
        ("firstName", &l.first_name),
        ("lastName", &l.last_name),
        ("email", &l.email),
        ("workEmail", &l.work_email),
        ("phone", &l.phone),
        ("workPhone", &l.work_phone),
        ("company", &l.company),
        ("jobTitle", &l.job_title),
        ("jobFunction", &l.job_function),
        ("seniority", &l.seniority),
        ("industry", &l.industry),
        ("companySize", &l.company_size),
        ("country", &l.country),
        ("state", &l.state),
        ("city", &l.city),
        ("zipCode", &l.zip_code),
    ];
    let mut fields: serde_json::Map<String, Value> = pairs
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_owned(), Value::String(v.clone()))))
        .collect();
    if l.custom_fields.as_object().is_some_and(|o| !o.is_empty()) {
        fields.insert("custom".into(), l.custom_fields.clone());
    }
    fields
}

/// `export`, recorded on the audit trail as a look at personal data: one entry per lead it
/// held (or one without an object when it held none), never the address asked for.
pub async fn export_recorded(
    db: &impl ConnectionTrait,
    secret_key: &[u8; 32],
    subject: &Subject,
    actor: crate::service::audit::Actor,
    operation: &str,
) -> AppResult<PersonalDataExport> {
    use crate::service::audit::{Entry, record_or_log};
    let export = export(db, secret_key, subject).await?;
    let by = match subject {
        Subject::Email(_) => "email",
        Subject::Lead(_) => "leadId",
    };
    let entry = Entry::new(actor, operation, "Lead")
        .details(serde_json::json!({ "by": by, "erased": export.erasure.is_some() }));
    if export.leads.is_empty() {
        record_or_log(db, entry).await;
    } else {
        for lead in &export.leads {
            record_or_log(db, entry.clone().object(lead.id)).await;
        }
    }
    Ok(export)
}

/// Accepted and declined answers per consent of each form (or of one form).
#[derive(Debug, Clone, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct ConsentCount {
    pub form_id: Option<i64>,
    pub consent_id: String,
    pub consent_text: String,
    pub accepted: i64,
    pub declined: i64,
}

pub async fn consent_counts(
    db: &impl ConnectionTrait,
    form_id: Option<i64>,
) -> AppResult<Vec<ConsentCount>> {
    let backend = db.get_database_backend();
    let (filter, values) = match form_id {
        Some(id) => (
            match backend {
                sea_orm::DbBackend::Postgres => "WHERE form_id = $1",
                _ => "WHERE form_id = ?",
            },
            vec![id.into()],
        ),
        None => ("", vec![]),
    };
    let sql = format!(
        "SELECT form_id, consent_id, consent_text, \
         CAST(SUM(CASE WHEN accepted THEN 1 ELSE 0 END) AS BIGINT) AS accepted, \
         CAST(SUM(CASE WHEN accepted THEN 0 ELSE 1 END) AS BIGINT) AS declined \
         FROM consent_records {filter} \
         GROUP BY form_id, consent_id, consent_text ORDER BY form_id, consent_id, consent_text"
    );
    Ok(
        ConsentCount::find_by_statement(sea_orm::Statement::from_sql_and_values(
            backend, sql, values,
        ))
        .all(db)
        .await?,
    )
}

/// Records the erasure of a lead's email addresses (keyed hashes only).
pub async fn record_erasure(
    db: &impl ConnectionTrait,
    secret_key: &[u8; 32],
    erased: &lead::Model,
    by_user: Option<i64>,
    at: DateTime<Utc>,
) -> AppResult<()> {
    let hashes: HashSet<String> = [&erased.email, &erased.work_email]
        .into_iter()
        .flatten()
        .filter_map(|e| subject_hash(secret_key, e))
        .collect();
    if hashes.is_empty() {
        return Ok(());
    }
    erased_subject::Entity::insert_many(hashes.into_iter().map(|h| erased_subject::ActiveModel {
        id: sea_orm::ActiveValue::NotSet,
        subject_hash: sea_orm::Set(h),
        erased_at: sea_orm::Set(at),
        erased_by_user_id: sea_orm::Set(by_user),
    }))
    .exec_without_returning(db)
    .await?;
    Ok(())
}
