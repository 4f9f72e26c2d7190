//! LinkedIn's Lead Sync payloads, parsed strictly into typed structs.
//!
//! `Raw*` types mirror LinkedIn's JSON; `parse_form` and `parse_response` turn them into the
//! shapes the pipeline uses, with URNs resolved and texts picked in the form's locale. Unknown
//! JSON fields are ignored (LinkedIn adds fields); missing or mistyped required ones are errors.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::domain::LeadType;

#[derive(Debug, Clone, Deserialize, Default)]
pub struct Localized {
    #[serde(default)]
    pub localized: BTreeMap<String, String>,
}

impl Localized {
    /// The text in `locale` when present, else the first one.
    pub fn pick(&self, locale: Option<&str>) -> Option<String> {
        locale
            .and_then(|l| self.localized.get(l))
            .or_else(|| self.localized.values().next())
            .cloned()
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    pub sponsored_account: Option<String>,
    pub organization: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CreationLocale {
    pub country: Option<String>,
    pub language: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HiddenField {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawLeadForm {
    pub id: i64,
    pub name: Option<String>,
    pub version_id: Option<i64>,
    #[serde(default)]
    pub owner: Owner,
    pub state: Option<String>,
    pub creation_locale: Option<CreationLocale>,
    #[serde(default)]
    pub hidden_fields: Vec<HiddenField>,
    pub content: RawFormContent,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawFormContent {
    #[serde(default)]
    pub questions: Vec<RawQuestion>,
    pub description: Option<Localized>,
    pub headline: Option<Localized>,
    pub post_submission_info: Option<PostSubmissionInfo>,
    pub legal_info: Option<LegalInfo>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawQuestion {
    pub question_id: i64,
    pub name: Option<String>,
    pub question: Localized,
    pub question_details: Option<QuestionDetails>,
    pub predefined_field: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionDetails {
    pub text_question_details: Option<Value>,
    pub multiple_choice_question_details: Option<MultipleChoiceDetails>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MultipleChoiceDetails {
    #[serde(default)]
    pub options: Vec<RawOption>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawOption {
    pub id: i64,
    pub text: Localized,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostSubmissionInfo {
    pub message: Option<Localized>,
    pub call_to_action: Option<CallToAction>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToAction {
    pub call_to_action_target: Option<CallToActionTarget>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallToActionTarget {
    pub landing_page_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegalInfo {
    #[serde(default)]
    pub consents: Vec<RawConsent>,
    pub privacy_policy_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RawConsent {
    pub id: i64,
    pub consent: Localized,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawLeadResponse {
    pub id: String,
    #[serde(default)]
    pub owner: Owner,
    pub submitter: Option<String>,
    pub lead_type: Option<String>,
    pub lead_metadata: Option<LeadMetadata>,
    pub versioned_lead_gen_form_urn: String,
    pub submitted_at: i64,
    #[serde(default)]
    pub test_lead: bool,
    pub associated_entity: Option<AssociatedEntity>,
    pub form_response: RawFormResponse,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeadMetadata {
    pub sponsored_lead_metadata: Option<SponsoredLeadMetadata>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SponsoredLeadMetadata {
    pub campaign: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociatedEntity {
    pub associated_creative: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawFormResponse {
    #[serde(default)]
    pub answers: Vec<RawAnswer>,
    #[serde(default)]
    pub consent_responses: Vec<RawConsentResponse>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawAnswer {
    pub question_id: i64,
    pub answer_details: RawAnswerDetails,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawAnswerDetails {
    pub text_question_answer: Option<TextAnswer>,
    pub multiple_choice_answer: Option<MultipleChoiceAnswer>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TextAnswer {
    #[serde(default)]
    pub answer: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MultipleChoiceAnswer {
    #[serde(default)]
    pub options: Vec<i64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawConsentResponse {
    pub consent_id: i64,
    pub accepted: bool,
}

// ------------------------------------------------------------------ parsed shapes

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionKind {
    Text,
    MultipleChoice,
}

impl QuestionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionKind::Text => "TEXT",
            QuestionKind::MultipleChoice => "MULTIPLE_CHOICE",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub question_id: String,
    pub name: Option<String>,
    pub text: String,
    pub kind: QuestionKind,
    pub predefined_field: Option<String>,
    /// Option id and text in the form's locale.
    pub options: Vec<(i64, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConsentText {
    pub consent_id: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LeadForm {
    pub linkedin_id: String,
    pub version_id: i64,
    pub account_id: Option<String>,
    pub name: String,
    pub headline: Option<String>,
    pub description: Option<String>,
    pub landing_page_url: Option<String>,
    pub privacy_policy_url: Option<String>,
    pub thank_you_message: Option<String>,
    /// `language_COUNTRY`, e.g. `es_ES`.
    pub locale: Option<String>,
    pub status: Option<String>,
    pub hidden_fields: Vec<(String, String)>,
    pub questions: Vec<Question>,
    pub consents: Vec<ConsentText>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AnswerValue {
    Text(String),
    Choices(Vec<i64>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResponseAnswer {
    pub question_id: String,
    pub value: AnswerValue,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LeadResponse {
    pub linkedin_id: String,
    pub account_id: Option<String>,
    pub submitter_urn: Option<String>,
    pub lead_type: String,
    pub campaign_id: Option<String>,
    pub creative_urn: Option<String>,
    pub form_id: String,
    pub form_version: i64,
    pub submitted_at: DateTime<Utc>,
    pub test_lead: bool,
    pub answers: Vec<ResponseAnswer>,
    pub consents: Vec<(String, bool)>,
}

/// A lead source as leadsync keys it (`linkedin_accounts.linkedin_id`): an ad account by its
/// id, or one organization's organic leads of one type as `{organization id}:{TYPE}`. LinkedIn
/// pulls, pages and subscribes organic leads per organization and lead type, so each pair keeps
/// its own cursor, lease and webhook subscription.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LeadSourceId {
    AdAccount(String),
    Organic {
        organization: String,
        lead_type: LeadType,
    },
}

impl LeadSourceId {
    /// Reads a stored key; anything that is not `{id}:{organic type}` is an ad account.
    pub fn parse(key: &str) -> Self {
        match key.split_once(':') {
            Some((organization, t)) => match t.parse::<LeadType>() {
                Ok(lead_type) if lead_type != LeadType::Sponsored => LeadSourceId::Organic {
                    organization: organization.to_owned(),
                    lead_type,
                },
                _ => LeadSourceId::AdAccount(key.to_owned()),
            },
            None => LeadSourceId::AdAccount(key.to_owned()),
        }
    }

    /// The source of a lead response's `owner` and `leadType`; None when it names neither an ad
    /// account nor an organization.
    pub fn of_owner(owner: &Owner, lead_type: Option<&str>) -> Result<Option<Self>, String> {
        if let Some(urn) = owner.sponsored_account.as_deref() {
            return Ok(Some(LeadSourceId::AdAccount(urn_id(
                urn,
                "sponsoredAccount",
            )?)));
        }
        let Some(urn) = owner.organization.as_deref() else {
            return Ok(None);
        };
        let organization = urn_id(urn, "organization")?;
        let lead_type = match lead_type.map(str::parse::<LeadType>) {
            Some(Ok(t)) if t != LeadType::Sponsored => t,
            other => {
                return Err(format!(
                    "an organization's lead must have an organic leadType, not {other:?}"
                ));
            }
        };
        Ok(Some(LeadSourceId::Organic {
            organization,
            lead_type,
        }))
    }

    pub fn key(&self) -> String {
        match self {
            LeadSourceId::AdAccount(id) => id.clone(),
            LeadSourceId::Organic {
                organization,
                lead_type,
            } => format!("{organization}:{lead_type}"),
        }
    }

    pub fn lead_type(&self) -> LeadType {
        match self {
            LeadSourceId::AdAccount(_) => LeadType::Sponsored,
            LeadSourceId::Organic { lead_type, .. } => *lead_type,
        }
    }

    pub fn owner_urn(&self) -> String {
        match self {
            LeadSourceId::AdAccount(id) => format!("urn:li:sponsoredAccount:{id}"),
            LeadSourceId::Organic { organization, .. } => {
                format!("urn:li:organization:{organization}")
            }
        }
    }

    /// The `owner` of LinkedIn's finders and lead notification subscriptions.
    pub fn owner(&self) -> Value {
        match self {
            LeadSourceId::AdAccount(_) => {
                serde_json::json!({ "sponsoredAccount": self.owner_urn() })
            }
            LeadSourceId::Organic { .. } => serde_json::json!({ "organization": self.owner_urn() }),
        }
    }

    /// How a source reads before discovery names it.
    pub fn placeholder_name(&self) -> String {
        match self {
            LeadSourceId::AdAccount(id) => format!("Ad account {id}"),
            LeadSourceId::Organic {
                organization,
                lead_type,
            } => organic_source_name(&format!("Organization {organization}"), *lead_type),
        }
    }
}

/// "Northwind Traders · company page leads".
pub fn organic_source_name(organization_name: &str, lead_type: LeadType) -> String {
    let what = match lead_type {
        LeadType::Company => "company page leads",
        LeadType::OrganizationProduct => "product page leads",
        LeadType::Event => "event leads",
        LeadType::Sponsored => "ad leads",
    };
    format!("{organization_name} · {what}")
}

/// A payload's shape error without the values it quotes (serde names the offending value, which
/// may be an answer: these messages reach logs and the inbound door's callers).
fn shape_error(e: serde_json::Error) -> String {
    let text = e.to_string();
    let mut out = String::with_capacity(text.len());
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' if !quoted => {
                quoted = true;
                out.push_str("\"…");
            }
            '"' => {
                quoted = false;
                out.push('"');
            }
            _ if quoted => {}
            _ => out.push(c),
        }
    }
    out
}

/// The id inside `urn:li:{kind}:{id}`.
pub fn urn_id(urn: &str, kind: &str) -> Result<String, String> {
    let prefix = format!("urn:li:{kind}:");
    match urn.strip_prefix(&prefix) {
        Some(id) if !id.is_empty() && !id.contains(char::is_whitespace) => Ok(id.to_owned()),
        _ => Err(format!("{urn:?} is not a urn:li:{kind} URN")),
    }
}

/// `(form id, version)` of `urn:li:versionedLeadGenForm:(urn:li:leadGenForm:{id},{version})`.
pub fn versioned_form(urn: &str) -> Result<(String, i64), String> {
    let bad = || format!("{urn:?} is not a urn:li:versionedLeadGenForm URN");
    let inner = urn
        .strip_prefix("urn:li:versionedLeadGenForm:(")
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or_else(bad)?;
    let (form, version) = inner.rsplit_once(',').ok_or_else(bad)?;
    let form = urn_id(form, "leadGenForm").map_err(|_| bad())?;
    let version = version.trim().parse::<i64>().map_err(|_| bad())?;
    Ok((form, version))
}

fn millis(ms: i64, field: &str) -> Result<DateTime<Utc>, String> {
    // LinkedIn sends epoch milliseconds; anything before 2000 or far in the future is an error.
    const YEAR_2000: i64 = 946_684_800_000;
    const YEAR_2200: i64 = 7_258_118_400_000;
    if !(YEAR_2000..YEAR_2200).contains(&ms) {
        return Err(format!("{field} {ms} is not epoch milliseconds"));
    }
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| format!("{field} {ms} is not a time"))
}

/// Parses a `leadForms` element.
pub fn parse_form(value: &Value) -> Result<LeadForm, String> {
    let raw: RawLeadForm = serde_json::from_value(value.clone()).map_err(shape_error)?;
    let locale = raw
        .creation_locale
        .as_ref()
        .and_then(|l| match (&l.language, &l.country) {
            (Some(lang), Some(country)) => Some(format!("{lang}_{country}")),
            (Some(lang), None) => Some(lang.clone()),
            _ => None,
        });
    let loc = locale.as_deref();
    let account_id = raw
        .owner
        .sponsored_account
        .as_deref()
        .map(|u| urn_id(u, "sponsoredAccount"))
        .transpose()?;
    let mut questions = Vec::with_capacity(raw.content.questions.len());
    for q in &raw.content.questions {
        let text = q
            .question
            .pick(loc)
            .or_else(|| q.name.clone())
            .ok_or_else(|| format!("question {} has no text", q.question_id))?;
        let choice = q
            .question_details
            .as_ref()
            .and_then(|d| d.multiple_choice_question_details.as_ref());
        let options = choice
            .map(|c| {
                c.options
                    .iter()
                    .map(|o| (o.id, o.text.pick(loc).unwrap_or_else(|| o.id.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        questions.push(Question {
            question_id: q.question_id.to_string(),
            name: q.name.clone(),
            text,
            kind: if choice.is_some() {
                QuestionKind::MultipleChoice
            } else {
                QuestionKind::Text
            },
            predefined_field: q.predefined_field.clone(),
            options,
        });
    }
    let legal = raw.content.legal_info.as_ref();
    let consents = legal
        .map(|l| {
            l.consents
                .iter()
                .map(|c| ConsentText {
                    consent_id: c.id.to_string(),
                    text: c.consent.pick(loc).unwrap_or_default().trim().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let post = raw.content.post_submission_info.as_ref();
    Ok(LeadForm {
        linkedin_id: raw.id.to_string(),
        version_id: raw.version_id.unwrap_or(1),
        account_id,
        name: raw
            .name
            .clone()
            .unwrap_or_else(|| format!("Form {}", raw.id)),
        headline: raw.content.headline.as_ref().and_then(|h| h.pick(loc)),
        description: raw.content.description.as_ref().and_then(|h| h.pick(loc)),
        landing_page_url: post
            .and_then(|p| p.call_to_action.as_ref())
            .and_then(|c| c.call_to_action_target.as_ref())
            .and_then(|t| t.landing_page_url.clone()),
        privacy_policy_url: legal.and_then(|l| l.privacy_policy_url.clone()),
        thank_you_message: post
            .and_then(|p| p.message.as_ref())
            .and_then(|m| m.pick(loc)),
        locale,
        status: raw.state.clone(),
        hidden_fields: raw
            .hidden_fields
            .iter()
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect(),
        questions,
        consents,
    })
}

/// Parses a `leadFormResponses` element.
pub fn parse_response(value: &Value) -> Result<LeadResponse, String> {
    let raw: RawLeadResponse = serde_json::from_value(value.clone()).map_err(shape_error)?;
    let id = raw.id.trim();
    if id.is_empty() || id.len() > 200 {
        return Err("id must be 1 to 200 characters".into());
    }
    let (form_id, form_version) = versioned_form(&raw.versioned_lead_gen_form_urn)?;
    let account_id =
        LeadSourceId::of_owner(&raw.owner, raw.lead_type.as_deref())?.map(|source| source.key());
    let campaign_id = raw
        .lead_metadata
        .as_ref()
        .and_then(|m| m.sponsored_lead_metadata.as_ref())
        .and_then(|m| m.campaign.as_deref())
        .map(|u| urn_id(u, "sponsoredCampaign"))
        .transpose()?;
    let mut answers = Vec::with_capacity(raw.form_response.answers.len());
    for a in &raw.form_response.answers {
        let d = &a.answer_details;
        let value = match (&d.text_question_answer, &d.multiple_choice_answer) {
            (Some(t), None) => AnswerValue::Text(t.answer.clone()),
            (None, Some(m)) => AnswerValue::Choices(m.options.clone()),
            _ => {
                return Err(format!(
                    "answer to question {} must have exactly one of textQuestionAnswer and multipleChoiceAnswer",
                    a.question_id
                ));
            }
        };
        answers.push(ResponseAnswer {
            question_id: a.question_id.to_string(),
            value,
        });
    }
    Ok(LeadResponse {
        linkedin_id: id.to_owned(),
        account_id,
        submitter_urn: raw.submitter.clone(),
        lead_type: raw.lead_type.clone().unwrap_or_else(|| "SPONSORED".into()),
        campaign_id,
        creative_urn: raw
            .associated_entity
            .as_ref()
            .and_then(|e| e.associated_creative.clone()),
        form_id,
        form_version,
        submitted_at: millis(raw.submitted_at, "submittedAt")?,
        test_lead: raw.test_lead,
        answers,
        consents: raw
            .form_response
            .consent_responses
            .iter()
            .map(|c| (c.consent_id.to_string(), c.accepted))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urns_parse() {
        assert_eq!(
            urn_id("urn:li:sponsoredAccount:123", "sponsoredAccount").unwrap(),
            "123"
        );
        assert!(urn_id("urn:li:sponsoredCampaign:123", "sponsoredAccount").is_err());
        assert!(urn_id("urn:li:sponsoredAccount:", "sponsoredAccount").is_err());
        assert_eq!(
            versioned_form("urn:li:versionedLeadGenForm:(urn:li:leadGenForm:7234246,3)").unwrap(),
            ("7234246".to_owned(), 3)
        );
        assert!(versioned_form("urn:li:leadGenForm:7234246").is_err());
        assert!(versioned_form("urn:li:versionedLeadGenForm:(urn:li:leadGenForm:1,x)").is_err());
    }

    #[test]
    fn lead_sources_key_ad_accounts_and_organic_types_apart() {
        let ad = LeadSourceId::parse("508915158");
        assert_eq!(ad, LeadSourceId::AdAccount("508915158".into()));
        assert_eq!(
            ad.owner(),
            serde_json::json!({"sponsoredAccount": "urn:li:sponsoredAccount:508915158"})
        );
        let event = LeadSourceId::parse("2414183:EVENT");
        assert_eq!(event.lead_type(), LeadType::Event);
        assert_eq!(
            event.owner(),
            serde_json::json!({"organization": "urn:li:organization:2414183"})
        );
        assert_eq!(LeadSourceId::parse(&event.key()), event, "keys round-trip");
        // A colon without an organic type is not an organic source.
        assert!(matches!(
            LeadSourceId::parse("1:SPONSORED"),
            LeadSourceId::AdAccount(_)
        ));

        let owner = Owner {
            sponsored_account: None,
            organization: Some("urn:li:organization:7".into()),
        };
        assert_eq!(
            LeadSourceId::of_owner(&owner, Some("COMPANY"))
                .unwrap()
                .unwrap()
                .key(),
            "7:COMPANY"
        );
        assert!(LeadSourceId::of_owner(&owner, Some("SPONSORED")).is_err());
        assert!(LeadSourceId::of_owner(&owner, None).is_err());
        assert_eq!(
            LeadSourceId::of_owner(&Owner::default(), None).unwrap(),
            None
        );
    }

    #[test]
    fn shape_errors_do_not_quote_the_payload() {
        let mut bad = serde_json::json!({
            "id": "r-1",
            "versionedLeadGenFormUrn": "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:1,1)",
            "submittedAt": "ada.lovelace@example.com",
            "formResponse": {}
        });
        let e = parse_response(&bad).unwrap_err();
        assert!(e.contains("invalid type"), "{e}");
        assert!(!e.contains("ada.lovelace"), "{e}");
        bad["submittedAt"] = serde_json::json!(1_689_894_599_288_i64);
        assert!(parse_response(&bad).is_ok());
    }

    #[test]
    fn times_must_be_milliseconds() {
        assert!(millis(1_689_894_599_288, "t").is_ok());
        assert!(millis(1_689_894_599, "t").is_err(), "seconds are refused");
    }
}
