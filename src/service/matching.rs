//! Matching, as pure functions: which lead fields a submission's answers map to, how values
//! compare, and what the active strategy decides. The ingest pipeline and the strategy preview
//! both use it; neither this module nor its callers' decisions touch the database.

use std::collections::BTreeMap;

use entity::{field_mapping, lead};
use serde_json::Value as Json;

use crate::service::leads::{CUSTOM_PREFIX, normalize_email, normalize_phone};

/// The keys a question can be mapped by: its `predefinedField`, or for custom questions its name
/// and its text as the form shows it.
pub fn question_keys<'a>(
    predefined_field: Option<&'a str>,
    name: Option<&'a str>,
    text: &'a str,
) -> Vec<&'a str> {
    match predefined_field {
        Some(field) => vec![field],
        None => name.into_iter().chain(Some(text)).collect(),
    }
}

/// The mapping that covers a question, if any (custom keys compare trimmed, case-insensitively).
pub fn mapping_for<'m>(
    mappings: &'m [field_mapping::Model],
    predefined_field: Option<&str>,
    name: Option<&str>,
    text: &str,
) -> Option<&'m field_mapping::Model> {
    let keys = question_keys(predefined_field, name, text);
    mappings.iter().find(|m| {
        keys.iter().any(|k| {
            if predefined_field.is_some() {
                m.linkedin_field == *k
            } else {
                m.linkedin_field.trim().eq_ignore_ascii_case(k.trim())
            }
        })
    })
}

/// One answer as matching sees it.
pub struct AnswerRef<'a> {
    pub predefined_field: Option<&'a str>,
    pub name: Option<&'a str>,
    pub text: &'a str,
    pub value: &'a str,
}

/// Lead field (`email`, `custom.budget`, ...) to the answer's value, for every mapped non-empty
/// answer. Also records which LinkedIn fields the form carried at all.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MappedValues {
    pub values: BTreeMap<String, String>,
    /// LinkedIn fields (mapping keys) the form asked, answered or not.
    pub asked: Vec<String>,
}

pub fn map_answers(answers: &[AnswerRef<'_>], mappings: &[field_mapping::Model]) -> MappedValues {
    let mut out = MappedValues::default();
    for a in answers {
        if let Some(m) = mapping_for(mappings, a.predefined_field, a.name, a.text) {
            out.asked.push(m.linkedin_field.clone());
            let v = a.value.trim();
            if !v.is_empty() {
                out.values.insert(m.lead_field.clone(), v.to_owned());
            }
        }
    }
    out
}

/// The comparable form of a value of `lead_field`.
pub fn normalize(lead_field: &str, value: &str) -> Option<String> {
    match lead_field {
        "email" | "workEmail" => normalize_email(value),
        "phone" | "workPhone" => normalize_phone(value),
        _ => {
            let v = value.trim().to_lowercase();
            (!v.is_empty()).then_some(v)
        }
    }
}

/// A lead's stored value of `lead_field` (raw, as the user sees it).
pub fn lead_value<'a>(lead: &'a lead::Model, lead_field: &str) -> Option<&'a str> {
    let v = match lead_field {
        "firstName" => &lead.first_name,
        "lastName" => &lead.last_name,
        "email" => &lead.email,
        "workEmail" => &lead.work_email,
        "phone" => &lead.phone,
        "workPhone" => &lead.work_phone,
        "company" => &lead.company,
        "jobTitle" => &lead.job_title,
        "jobFunction" => &lead.job_function,
        "seniority" => &lead.seniority,
        "industry" => &lead.industry,
        "companySize" => &lead.company_size,
        "country" => &lead.country,
        "state" => &lead.state,
        "city" => &lead.city,
        "zipCode" => &lead.zip_code,
        custom => {
            return custom
                .strip_prefix(CUSTOM_PREFIX)
                .and_then(|k| lead.custom_fields.get(k))
                .and_then(Json::as_str);
        }
    };
    v.as_deref()
}

/// The comparable value of a lead's field (normalized columns where the lead has them).
pub fn lead_key(lead: &lead::Model, lead_field: &str) -> Option<String> {
    match lead_field {
        "email" => lead.email_normalized.clone(),
        "workEmail" => lead.work_email_normalized.clone(),
        "phone" => lead.phone_normalized.clone(),
        other => lead_value(lead, other).and_then(|v| normalize(other, v)),
    }
}

/// Writes mapped values into a lead. An empty answer never blanks a field; with `fill_only` (an
/// older submission than the lead's latest) only empty fields are filled. Returns whether any
/// value changed.
pub fn apply_values(
    lead: &mut lead::Model,
    values: &BTreeMap<String, String>,
    fill_only: bool,
) -> bool {
    let mut changed = false;
    for (field, value) in values {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let current = lead_value(lead, field);
        // Emails and phones equal once normalized are the same value: keep the stored spelling.
        let same = match field.as_str() {
            "email" | "workEmail" | "phone" | "workPhone" => {
                current.and_then(|c| normalize(field, c)) == normalize(field, value)
            }
            _ => current == Some(value),
        };
        if same || (fill_only && current.is_some_and(|c| !c.trim().is_empty())) {
            continue;
        }
        changed = true;
        let v = Some(value.to_owned());
        match field.as_str() {
            "firstName" => lead.first_name = v,
            "lastName" => lead.last_name = v,
            "email" => {
                lead.email_normalized = normalize_email(value);
                lead.email = v;
            }
            "workEmail" => {
                lead.work_email_normalized = normalize_email(value);
                lead.work_email = v;
            }
            "phone" => {
                lead.phone_normalized = normalize_phone(value);
                lead.phone = v;
            }
            "workPhone" => lead.work_phone = v,
            "company" => lead.company = v,
            "jobTitle" => lead.job_title = v,
            "jobFunction" => lead.job_function = v,
            "seniority" => lead.seniority = v,
            "industry" => lead.industry = v,
            "companySize" => lead.company_size = v,
            "country" => lead.country = v,
            "state" => lead.state = v,
            "city" => lead.city = v,
            "zipCode" => lead.zip_code = v,
            custom => {
                if let Some(key) = custom.strip_prefix(CUSTOM_PREFIX) {
                    if !lead.custom_fields.is_object() {
                        lead.custom_fields = Json::Object(Default::default());
                    }
                    if let Some(map) = lead.custom_fields.as_object_mut() {
                        map.insert(key.to_owned(), Json::String(value.to_owned()));
                    }
                } else {
                    changed = false;
                }
            }
        }
    }
    changed
}

/// A human name for a lead field in explanations: `email`, `phone`, `custom.budget`.
fn describe(fields: &[String]) -> String {
    match fields {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// What the active strategy decides for one submission.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Update this lead; `matched` leads matched in all (the most recently updated wins).
    Update { lead_id: i64, matched: usize },
    /// Create a lead (no match and the fallback creates, or the strategy always creates).
    Create,
    /// Keep the submission only (fallback IGNORE).
    Ignore,
}

pub struct Strategy<'a> {
    pub always_create_lead: bool,
    /// The strategy's fields: (LinkedIn field, lead field).
    pub fields: &'a [(String, String)],
    /// The configuration's fallback: true creates a lead.
    pub fallback_creates: bool,
}

/// Decides with the strategy; `candidates` are leads that may match (any superset of the true
/// matches). Returns the decision and a one-line explanation without the lead id of a lead not
/// yet created (the caller appends it).
pub fn decide<'l>(
    strategy: &Strategy<'_>,
    mapped: &MappedValues,
    candidates: impl IntoIterator<Item = &'l lead::Model>,
) -> (Decision, String) {
    let fallback = |reason: String| {
        if strategy.fallback_creates {
            (Decision::Create, format!("{reason}: created"))
        } else {
            (Decision::Ignore, format!("{reason}: fallback IGNORE"))
        }
    };
    if strategy.always_create_lead {
        return (Decision::Create, "always create lead: created".into());
    }
    let mut wanted = Vec::new();
    for (linkedin_field, lead_field) in strategy.fields {
        if !mapped.asked.iter().any(|a| a == linkedin_field) {
            return fallback(format!("strategy field {lead_field} missing from the form"));
        }
        match mapped
            .values
            .get(lead_field)
            .and_then(|v| normalize(lead_field, v))
        {
            Some(v) => wanted.push((lead_field.clone(), v)),
            None => return fallback(format!("strategy field {lead_field} has no answer")),
        }
    }
    if wanted.is_empty() {
        return fallback("the active strategy has no fields".into());
    }
    let mut matches: Vec<&lead::Model> = candidates
        .into_iter()
        .filter(|lead| {
            wanted
                .iter()
                .all(|(field, v)| lead_key(lead, field).as_deref() == Some(v.as_str()))
        })
        .collect();
    let names: Vec<String> = wanted.iter().map(|(f, _)| f.clone()).collect();
    let on = describe(&names);
    // The most recently updated lead wins; ties go to the newest lead.
    matches.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
    match matches.as_slice() {
        [] => {
            let values: Vec<String> = wanted.iter().map(|(f, v)| format!("{f} {v}")).collect();
            fallback(format!("no lead with {}", describe(&values)))
        }
        [one] => (
            Decision::Update {
                lead_id: one.id,
                matched: 1,
            },
            format!("matched lead {} on {on}", one.id),
        ),
        [first, ..] => (
            Decision::Update {
                lead_id: first.id,
                matched: matches.len(),
            },
            format!(
                "matched {} leads on {on}: updated lead {}, the most recently updated",
                matches.len(),
                first.id
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};

    use super::*;

    fn mapping(linkedin: &str, lead: &str) -> field_mapping::Model {
        let now = Utc::now();
        field_mapping::Model {
            id: 0,
            linkedin_field: linkedin.into(),
            lead_field: lead.into(),
            is_default: true,
            created_at: now,
            updated_at: now,
        }
    }

    fn lead(id: i64, email: &str, phone: Option<&str>, age_minutes: i64) -> lead::Model {
        let at = Utc::now() - Duration::minutes(age_minutes);
        lead::Model {
            id,
            first_name: None,
            last_name: None,
            email: Some(email.into()),
            email_normalized: normalize_email(email),
            work_email: None,
            work_email_normalized: None,
            phone: phone.map(Into::into),
            phone_normalized: phone.and_then(normalize_phone),
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
            custom_fields: Json::Object(Default::default()),
            source: "MANUAL".into(),
            source_campaign_id: None,
            source_form_id: None,
            latest_submission_at: None,
            submission_count: 0,
            created_at: at,
            updated_at: at,
        }
    }

    fn mapped(pairs: &[(&str, &str, &str)]) -> MappedValues {
        let mappings = vec![
            mapping("EMAIL", "email"),
            mapping("PHONE_NUMBER", "phone"),
            mapping("Budget", "custom.budget"),
        ];
        let answers: Vec<AnswerRef> = pairs
            .iter()
            .map(|(field, name, value)| AnswerRef {
                predefined_field: (!field.is_empty()).then_some(*field),
                name: Some(*name),
                text: name,
                value,
            })
            .collect();
        map_answers(&answers, &mappings)
    }

    fn email_strategy(fields: &[(String, String)], creates: bool) -> Strategy<'_> {
        Strategy {
            always_create_lead: false,
            fields,
            fallback_creates: creates,
        }
    }

    #[test]
    fn custom_questions_map_by_name_case_insensitively() {
        let m = mapped(&[("", "budget ", "10k"), ("EMAIL", "Email", " A@B.co ")]);
        assert_eq!(
            m.values.get("custom.budget").map(String::as_str),
            Some("10k")
        );
        assert_eq!(m.values.get("email").map(String::as_str), Some("A@B.co"));
    }

    #[test]
    fn email_matches_case_insensitively() {
        let fields = vec![("EMAIL".to_owned(), "email".to_owned())];
        let leads = [lead(7, "ada@example.com", None, 5)];
        let (d, why) = decide(
            &email_strategy(&fields, true),
            &mapped(&[("EMAIL", "Email", "  ADA@Example.COM")]),
            &leads,
        );
        assert_eq!(
            d,
            Decision::Update {
                lead_id: 7,
                matched: 1
            }
        );
        assert_eq!(why, "matched lead 7 on email");
    }

    #[test]
    fn every_strategy_field_must_match() {
        let fields = vec![
            ("EMAIL".to_owned(), "email".to_owned()),
            ("PHONE_NUMBER".to_owned(), "phone".to_owned()),
        ];
        let leads = [lead(1, "a@b.co", Some("+1 415 555 0100"), 5)];
        let partial = mapped(&[("EMAIL", "e", "a@b.co"), ("PHONE_NUMBER", "p", "+1 999")]);
        let (d, why) = decide(&email_strategy(&fields, false), &partial, &leads);
        assert_eq!(d, Decision::Ignore);
        assert_eq!(
            why,
            "no lead with email a@b.co and phone +1999: fallback IGNORE"
        );
        let (d, _) = decide(&email_strategy(&fields, true), &partial, &leads);
        assert_eq!(d, Decision::Create);
        let full = mapped(&[
            ("EMAIL", "e", "a@b.co"),
            ("PHONE_NUMBER", "p", "+1 (415) 555-0100"),
        ]);
        let (d, why) = decide(&email_strategy(&fields, false), &full, &leads);
        assert_eq!(
            d,
            Decision::Update {
                lead_id: 1,
                matched: 1
            }
        );
        assert_eq!(why, "matched lead 1 on email and phone");
    }

    #[test]
    fn missing_strategy_field_falls_back() {
        let fields = vec![("PHONE_NUMBER".to_owned(), "phone".to_owned())];
        let (d, why) = decide(
            &email_strategy(&fields, false),
            &mapped(&[("EMAIL", "e", "a@b.co")]),
            [],
        );
        assert_eq!(d, Decision::Ignore);
        assert_eq!(
            why,
            "strategy field phone missing from the form: fallback IGNORE"
        );
    }

    #[test]
    fn most_recently_updated_of_several_wins() {
        let fields = vec![("EMAIL".to_owned(), "email".to_owned())];
        let leads = [
            lead(1, "a@b.co", None, 50),
            lead(2, "A@B.CO", None, 1),
            lead(3, "a@b.co", None, 20),
        ];
        let (d, why) = decide(
            &email_strategy(&fields, true),
            &mapped(&[("EMAIL", "e", "a@b.co")]),
            &leads,
        );
        assert_eq!(
            d,
            Decision::Update {
                lead_id: 2,
                matched: 3
            }
        );
        assert_eq!(
            why,
            "matched 3 leads on email: updated lead 2, the most recently updated"
        );
    }

    #[test]
    fn applying_never_blanks_and_fill_only_keeps_values() {
        let mut l = lead(1, "a@b.co", None, 5);
        l.company = Some("Old".into());
        let mut values = BTreeMap::new();
        values.insert("company".to_owned(), "New".to_owned());
        values.insert("city".to_owned(), "Lyon".to_owned());
        values.insert("custom.budget".to_owned(), "10k".to_owned());
        values.insert("jobTitle".to_owned(), "   ".to_owned());
        let mut older = l.clone();
        assert!(apply_values(&mut older, &values, true));
        assert_eq!(older.company.as_deref(), Some("Old"));
        assert_eq!(older.city.as_deref(), Some("Lyon"));
        assert!(apply_values(&mut l, &values, false));
        assert_eq!(l.company.as_deref(), Some("New"));
        assert_eq!(l.custom_fields["budget"], "10k");
        assert_eq!(l.job_title, None);
        assert!(
            !apply_values(&mut l, &values, false),
            "a second application changes nothing"
        );
    }
}
