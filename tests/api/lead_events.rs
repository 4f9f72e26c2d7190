//! The lead event log (issue 16): every change to a lead, and every submission a lead received,
//! appended in the changing transaction, numbered in commit order, holding no personal data, and
//! reduced to one LEAD_ERASED by an erasure.

use std::collections::{HashMap, HashSet};

use entity::{form_submission, lead, lead_event};
use leadsync::domain::Role;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::{
    common::TestApp,
    connector::{authorized_profile, env, sync},
};

async fn events(app: &TestApp) -> Vec<lead_event::Model> {
    lead_event::Entity::find()
        .order_by_asc(lead_event::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_sync_logs_each_submission_and_each_lead_it_created_or_changed_once() {
    let env = env().await;
    let profile = authorized_profile(&env).await;
    let app = &env.app;
    let logged = events(app).await;
    let submissions = form_submission::Entity::find()
        .filter(form_submission::Column::LeadId.is_not_null())
        .all(&app.db)
        .await
        .unwrap();
    assert!(
        !submissions.is_empty(),
        "the sandbox sync stored submissions"
    );

    // One SUBMISSION_RECEIVED per submission with a lead, naming that lead.
    let received: HashMap<i64, &lead_event::Model> = logged
        .iter()
        .filter(|e| e.kind == "SUBMISSION_RECEIVED")
        .map(|e| (e.submission_id.expect("a submission event names it"), e))
        .collect();
    assert_eq!(
        received.len(),
        logged
            .iter()
            .filter(|e| e.kind == "SUBMISSION_RECEIVED")
            .count(),
        "no submission logged twice"
    );
    for s in &submissions {
        let event = received
            .get(&s.id)
            .unwrap_or_else(|| panic!("submission {} has no event", s.id));
        assert_eq!(Some(event.lead_id), s.lead_id);
        assert_eq!(event.form_id, s.form_id);
        assert_eq!(event.campaign_id, s.campaign_id);
        assert_eq!(event.lead_type.as_deref(), Some(s.lead_type.as_str()));
        let expected = match s.matching_status.as_str() {
            "NEW_LEAD_CREATED" => "CREATED",
            "UPDATED_EXISTING_LEAD" => "UPDATED",
            "MATCHED_NOT_UPDATED" => "UNCHANGED",
            other => panic!("submission with a lead has status {other}"),
        };
        assert_eq!(event.outcome.as_deref(), Some(expected));
    }

    // One LEAD_CREATED per lead the sync created; LEAD_UPDATED per change, before its submission.
    let leads = lead::Entity::find().all(&app.db).await.unwrap();
    let created: Vec<i64> = logged
        .iter()
        .filter(|e| e.kind == "LEAD_CREATED")
        .map(|e| e.lead_id)
        .collect();
    assert_eq!(
        created.iter().copied().collect::<HashSet<_>>(),
        leads.iter().map(|l| l.id).collect::<HashSet<_>>()
    );
    assert_eq!(created.len(), leads.len(), "each lead created once");
    for (i, e) in logged.iter().enumerate() {
        if e.kind == "LEAD_CREATED" || e.kind == "LEAD_UPDATED" {
            let next = &logged[i + 1];
            assert_eq!(
                (next.kind.as_str(), next.submission_id),
                ("SUBMISSION_RECEIVED", e.submission_id),
                "a lead change is followed by the submission that made it"
            );
        }
    }
    // Positions grow.
    assert!(logged.windows(2).all(|w| w[0].id < w[1].id));

    // A second sync stores nothing, and logs nothing.
    sync(&env, &profile).await;
    assert_eq!(events(app).await.len(), logged.len());
}

#[tokio::test]
async fn api_writes_log_created_updated_deleted_and_erasure_leaves_only_the_erasure() {
    let app = TestApp::new().await;
    let admin = app.token(&[Role::LeadgenAdministrator]).await;
    let create = |email: &'static str| {
        let app = &app;
        let admin = &admin;
        async move {
            app.op_ok(
                admin,
                "CreateLead",
                json!({ "input": { "email": email, "firstName": "Ada" } }),
            )
            .await["createLead"]["id"]
                .as_str()
                .unwrap()
                .parse::<i64>()
                .unwrap()
        }
    };
    let kept = create("kept@example.com").await;
    let erased = create("erased@example.com").await;
    let deleted = create("deleted@example.com").await;
    for id in [kept, erased] {
        let updated = app
            .query(
                Some(&admin),
                "mutation($id: ID!) { updateLead(id: $id, input: { company: \"Analytical\" }) { id } }",
                json!({ "id": id.to_string() }),
            )
            .await;
        assert!(updated["errors"].is_null(), "{updated}");
    }
    let deleted_reply = app
        .query(
            Some(&admin),
            "mutation($id: ID!) { deleteLead(id: $id) { id } }",
            json!({ "id": deleted.to_string() }),
        )
        .await;
    assert!(deleted_reply["errors"].is_null(), "{deleted_reply}");
    let kinds = |events: &[lead_event::Model], lead: i64| -> Vec<String> {
        events
            .iter()
            .filter(|e| e.lead_id == lead)
            .map(|e| e.kind.clone())
            .collect()
    };
    let before = events(&app).await;
    assert_eq!(kinds(&before, kept), ["LEAD_CREATED", "LEAD_UPDATED"]);
    assert_eq!(kinds(&before, erased), ["LEAD_CREATED", "LEAD_UPDATED"]);
    assert_eq!(kinds(&before, deleted), ["LEAD_CREATED", "LEAD_DELETED"]);

    let reply = app
        .query(
            Some(&admin),
            "mutation($id: ID!) { eraseLead(id: $id) { id } }",
            json!({ "id": erased.to_string() }),
        )
        .await;
    assert!(reply["errors"].is_null(), "{reply}");
    let after = events(&app).await;
    assert_eq!(kinds(&after, erased), ["LEAD_ERASED"]);
    let erasure = after.iter().find(|e| e.lead_id == erased).unwrap();
    assert!(
        erasure.campaign_id.is_none()
            && erasure.form_id.is_none()
            && erasure.submission_id.is_none()
    );
    assert_eq!(kinds(&after, kept), ["LEAD_CREATED", "LEAD_UPDATED"]);
    assert!(
        erasure.id > before.last().unwrap().id,
        "the erasure is the newest position"
    );
}
