//! What leadsync holds of LinkedIn: user profiles, ad accounts, campaigns, forms, journeys and form
//! submissions. The connector fills these tables; this module reads them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    customer_journey, form_submission, linkedin_account, linkedin_campaign, linkedin_form,
    linkedin_profile, linkedin_profile_account,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select, Set,
};

use crate::{
    domain::{AuthorizationStatus, MatchingStatus, ProfileSyncStatus},
    error::{AppError, AppResult},
    service::{
        batch,
        paging::{Page, decode_cursor, encode_cursor, into_page},
    },
};

pub async fn list_profiles(db: &DatabaseConnection) -> AppResult<Vec<linkedin_profile::Model>> {
    Ok(linkedin_profile::Entity::find()
        .order_by_asc(linkedin_profile::Column::Id)
        .all(db)
        .await?)
}

pub async fn create_profile(
    db: &DatabaseConnection,
    name: &str,
    owner_user_id: i64,
) -> AppResult<linkedin_profile::Model> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::bad_input("name must be 1 to 200 characters"));
    }
    let now = Utc::now();
    Ok(linkedin_profile::ActiveModel {
        name: Set(name.to_owned()),
        owner_user_id: Set(Some(owner_user_id)),
        authorization_status: Set(AuthorizationStatus::NotAuthorized.as_str().to_owned()),
        linkedin_member_urn: Set(None),
        linkedin_member_name: Set(None),
        access_token_enc: Set(None),
        refresh_token_enc: Set(None),
        token_expires_at: Set(None),
        refresh_token_expires_at: Set(None),
        scopes: Set(None),
        last_sync_at: Set(None),
        sync_status: Set(ProfileSyncStatus::NotSyncing.as_str().to_owned()),
        status_details: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// The ad accounts each profile can reach (many-to-many).
pub async fn accounts_by_profile(
    db: &impl ConnectionTrait,
    profile_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<linkedin_account::Model>>> {
    let links = batch::grouped_by::<linkedin_profile_account::Entity>(
        db,
        linkedin_profile_account::Column::ProfileId,
        profile_ids,
        linkedin_profile_account::Column::AccountId,
        false,
    )
    .await?;
    let account_ids: Vec<i64> = links.values().flatten().map(|l| l.account_id).collect();
    let accounts = batch::by_ids::<linkedin_account::Entity>(db, &account_ids).await?;
    Ok(links
        .into_iter()
        .map(|(profile, links)| {
            let list = links
                .iter()
                .filter_map(|l| accounts.get(&l.account_id).cloned())
                .collect();
            (profile, list)
        })
        .collect())
}

pub async fn list_campaigns(db: &DatabaseConnection) -> AppResult<Vec<linkedin_campaign::Model>> {
    Ok(linkedin_campaign::Entity::find()
        .order_by_asc(linkedin_campaign::Column::Name)
        .order_by_asc(linkedin_campaign::Column::Id)
        .all(db)
        .await?)
}

pub async fn list_forms(db: &DatabaseConnection) -> AppResult<Vec<linkedin_form::Model>> {
    Ok(linkedin_form::Entity::find()
        .order_by_asc(linkedin_form::Column::Name)
        .order_by_asc(linkedin_form::Column::Id)
        .all(db)
        .await?)
}

pub async fn list_journeys(db: &DatabaseConnection) -> AppResult<Vec<customer_journey::Model>> {
    Ok(customer_journey::Entity::find()
        .order_by_desc(customer_journey::Column::CreatedAt)
        .order_by_desc(customer_journey::Column::Id)
        .all(db)
        .await?)
}

#[derive(Clone, Debug, Default)]
pub struct SubmissionFilter {
    pub campaign_id: Option<i64>,
    pub form_id: Option<i64>,
    pub account_id: Option<i64>,
    pub lead_id: Option<i64>,
    pub matching_status: Option<MatchingStatus>,
    pub submitted_after: Option<DateTime<Utc>>,
    pub submitted_before: Option<DateTime<Utc>>,
    pub test_lead: Option<bool>,
}

fn filtered_submissions(filter: &SubmissionFilter) -> Select<form_submission::Entity> {
    use form_submission::Column as C;
    let mut cond = Condition::all();
    if let Some(v) = filter.campaign_id {
        cond = cond.add(C::CampaignId.eq(v));
    }
    if let Some(v) = filter.form_id {
        cond = cond.add(C::FormId.eq(v));
    }
    if let Some(v) = filter.account_id {
        cond = cond.add(C::AccountId.eq(v));
    }
    if let Some(v) = filter.lead_id {
        cond = cond.add(C::LeadId.eq(v));
    }
    if let Some(v) = filter.matching_status {
        cond = cond.add(C::MatchingStatus.eq(v.as_str()));
    }
    if let Some(v) = filter.submitted_after {
        cond = cond.add(C::SubmittedAt.gte(v));
    }
    if let Some(v) = filter.submitted_before {
        cond = cond.add(C::SubmittedAt.lt(v));
    }
    if let Some(v) = filter.test_lead {
        cond = cond.add(C::TestLead.eq(v));
    }
    form_submission::Entity::find().filter(cond)
}

pub async fn count_submissions(
    db: &DatabaseConnection,
    filter: &SubmissionFilter,
) -> AppResult<i64> {
    Ok(filtered_submissions(filter).count(db).await? as i64)
}

/// Submissions, newest first, keyset-paged on (submitted_at, id).
pub async fn list_submissions(
    db: &DatabaseConnection,
    filter: &SubmissionFilter,
    first: u64,
    after: Option<&str>,
) -> AppResult<Page<form_submission::Model>> {
    use form_submission::Column as C;
    let mut query = filtered_submissions(filter);
    if let Some(after) = after {
        let (value, id) = decode_cursor(after)?;
        let at = value
            .as_deref()
            .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
            .ok_or_else(|| AppError::bad_input("after is not a cursor of this list"))?
            .with_timezone(&Utc);
        query = query.filter(
            Condition::any().add(C::SubmittedAt.lt(at)).add(
                Condition::all()
                    .add(C::SubmittedAt.eq(at))
                    .add(C::Id.lt(id)),
            ),
        );
    }
    let rows = query
        .order_by_desc(C::SubmittedAt)
        .order_by_desc(C::Id)
        .limit(first + 1)
        .all(db)
        .await?;
    Ok(into_page(rows, first, after, |s| {
        encode_cursor(Some(s.submitted_at.to_rfc3339()), s.id)
    }))
}

pub async fn update_account(
    db: &DatabaseConnection,
    id: i64,
    enabled_for_sync: Option<bool>,
) -> AppResult<linkedin_account::Model> {
    let account = linkedin_account::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("LinkedIn account", id))?;
    let mut model: linkedin_account::ActiveModel = account.into();
    if let Some(enabled) = enabled_for_sync {
        model.enabled_for_sync = Set(enabled);
        if !enabled {
            model.sync_status = Set(crate::domain::AccountSyncStatus::NotSyncing.as_str().into());
        } else {
            model.sync_status = Set(crate::domain::AccountSyncStatus::Pending.as_str().into());
        }
    }
    model.updated_at = Set(Utc::now());
    Ok(model.update(db).await?)
}

pub async fn get_account(db: &DatabaseConnection, id: i64) -> AppResult<linkedin_account::Model> {
    linkedin_account::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("LinkedIn account", id))
}
