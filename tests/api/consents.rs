//! Consents as records: each consent answer of a synced submission becomes a record (the form's
//! exact text, accepted or not, when, the response), queryable per lead and counted per form,
//! kept when retention removes the answers, gone with the person.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use entity::{consent_record, form_submission, submission_answer};
use leadsync::{
    domain::Role,
    linkedin::sandbox::SandboxConfig,
    service::retention::{self, RetentionPolicy},
};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::connector::{Env, authorized_profile, env_with};

async fn synced() -> Env {
    let env = env_with(
        SandboxConfig {
            leads_per_account: 30,
            ..Default::default()
        },
        |_| {},
    )
    .await;
    authorized_profile(&env).await;
    env
}

/// (lead id, response id, consent id) -> (text, accepted) of every consent answer of a lead.
async fn answered(env: &Env) -> BTreeMap<(i64, String, String), (String, bool)> {
    let mut out = BTreeMap::new();
    for a in submission_answer::Entity::find()
        .filter(submission_answer::Column::IsConsent.eq(true))
        .all(&env.app.db)
        .await
        .unwrap()
    {
        let s = form_submission::Entity::find_by_id(a.submission_id)
            .one(&env.app.db)
            .await
            .unwrap()
            .unwrap();
        if let Some(lead) = s.lead_id {
            out.insert(
                (lead, s.linkedin_id, a.linkedin_question_id),
                (a.question_text, a.accepted.unwrap()),
            );
        }
    }
    out
}

/// The same, as `Lead.consents` shows it through the API.
async fn shown(
    env: &Env,
    leads: impl Iterator<Item = i64>,
) -> BTreeMap<(i64, String, String), (String, bool)> {
    let mut out = BTreeMap::new();
    for lead in leads {
        let answer = env
            .app
            .query(
                Some(&env.sales),
                "query($id: ID!) { lead(id: $id) { consents { leadId linkedInResponseId consentId text accepted submittedAt form { id } } } }",
                json!({ "id": lead.to_string() }),
            )
            .await;
        assert!(answer.get("errors").is_none(), "{answer}");
        for c in answer["data"]["lead"]["consents"].as_array().unwrap() {
            assert_eq!(c["leadId"], lead.to_string());
            assert!(c["form"]["id"].is_string(), "{c}");
            out.insert(
                (
                    lead,
                    c["linkedInResponseId"].as_str().unwrap().to_owned(),
                    c["consentId"].as_str().unwrap().to_owned(),
                ),
                (
                    c["text"].as_str().unwrap().to_owned(),
                    c["accepted"].as_bool().unwrap(),
                ),
            );
        }
    }
    out
}

async fn counts(env: &Env) -> Vec<Value> {
    let answer = env
        .app
        .query(
            Some(&env.sales),
            "{ consentCounts { formId consentId text accepted declined } }",
            json!({}),
        )
        .await;
    answer["data"]["consentCounts"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_consent_answer_is_a_record_shown_on_its_lead_and_counted() {
    let env = synced().await;
    let expected = answered(&env).await;
    assert!(expected.len() > 10, "the sandbox's forms ask for consents");
    assert!(
        expected.values().any(|(_, a)| *a) && expected.values().any(|(_, a)| !*a),
        "both answers occur"
    );
    let leads: std::collections::BTreeSet<i64> = expected.keys().map(|k| k.0).collect();
    assert_eq!(shown(&env, leads.iter().copied()).await, expected);

    let counted = counts(&env).await;
    let total: i64 = counted
        .iter()
        .map(|c| c["accepted"].as_i64().unwrap() + c["declined"].as_i64().unwrap())
        .sum();
    assert_eq!(total as usize, expected.len());
    let accepted: i64 = counted
        .iter()
        .map(|c| c["accepted"].as_i64().unwrap())
        .sum();
    assert_eq!(
        accepted as usize,
        expected.values().filter(|(_, a)| *a).count()
    );
    // One form's counts are that form's share.
    let form = counted[0]["formId"].as_str().unwrap().to_owned();
    let answer = env
        .app
        .query(
            Some(&env.sales),
            "query($f: ID) { consentCounts(formId: $f) { formId accepted declined } }",
            json!({ "f": form }),
        )
        .await;
    let one = answer["data"]["consentCounts"].as_array().unwrap();
    assert!(!one.is_empty() && one.iter().all(|c| c["formId"] == form.as_str()));
    assert_eq!(
        one.len(),
        counted
            .iter()
            .filter(|c| c["formId"] == form.as_str())
            .count()
    );
}

#[tokio::test]
async fn consent_records_outlive_the_answers_retention_and_go_with_the_person() {
    let env = synced().await;
    let expected = answered(&env).await;
    let leads: std::collections::BTreeSet<i64> = expected.keys().map(|k| k.0).collect();
    let before = counts(&env).await;

    // Every submission goes (a one-day rule, two days on): the proofs stay.
    let policy = RetentionPolicy {
        submissions_days: Some(1),
        ..Default::default()
    };
    retention::purge(&env.app.db, policy, Utc::now() + Duration::days(2))
        .await
        .unwrap();
    assert_eq!(
        form_submission::Entity::find()
            .count(&env.app.db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(shown(&env, leads.iter().copied()).await, expected);
    assert_eq!(counts(&env).await, before);

    // A person's export carries them; erasing the person removes them.
    let lead = *leads.iter().next().unwrap();
    let admin = env.app.token(&[Role::LeadgenAdministrator]).await;
    let export = env
        .app
        .query(
            Some(&admin),
            "query($id: ID!) { exportLeadPersonalData(leadId: $id) }",
            json!({ "id": lead.to_string() }),
        )
        .await;
    let records = export["data"]["exportLeadPersonalData"]["leads"][0]["consentRecords"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(records, expected.keys().filter(|k| k.0 == lead).count());
    let erased = env
        .app
        .query(
            Some(&admin),
            "mutation($id: ID!) { eraseLead(id: $id) { id } }",
            json!({ "id": lead.to_string() }),
        )
        .await;
    assert!(erased.get("errors").is_none(), "{erased}");
    assert_eq!(
        consent_record::Entity::find()
            .filter(consent_record::Column::LeadId.eq(lead))
            .count(&env.app.db)
            .await
            .unwrap(),
        0
    );

    // LinkedIn's DELETED for a response removes its records, even after its answers went.
    let (other, response, _) = expected.keys().find(|k| k.0 != lead).unwrap().clone();
    leadsync::service::leads::erase_response(&env.app.db, &response)
        .await
        .unwrap();
    let left = consent_record::Entity::find()
        .filter(consent_record::Column::LinkedinResponseId.eq(&response))
        .count(&env.app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert!(
        consent_record::Entity::find()
            .filter(consent_record::Column::LeadId.ne(other))
            .count(&env.app.db)
            .await
            .unwrap()
            > 0,
        "other people's records stay"
    );
}
