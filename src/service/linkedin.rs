//! What leadsync holds of LinkedIn: user profiles, ad accounts, campaigns, forms, journeys and form
//! submissions. The connector fills these tables; this module reads them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    customer_journey, form_submission, lead, linkedin_account, linkedin_campaign, linkedin_form,
    linkedin_profile, linkedin_profile_account, submission_answer,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, IdenStatic, Iterable, QueryFilter, QueryOrder, QueryResult, QuerySelect,
    QueryTrait, Select, Set,
    sea_query::{Alias, Expr, ExprTrait, SelectStatement},
};

use crate::{
    domain::{AuthorizationStatus, MatchingStatus, ProfileSyncStatus},
    error::{AppError, AppResult},
    service::{
        batch,
        paging::{
            COUNT_LIMIT, Page, add_total_column, bounded_count, count_of, counted,
            decode_time_cursor, encode_cursor, into_page, total_of,
        },
    },
};

pub async fn list_profiles(db: &DatabaseConnection) -> AppResult<Vec<linkedin_profile::Model>> {
    Ok(linkedin_profile::Entity::find()
        .order_by_asc(linkedin_profile::Column::Id)
        .all(db)
        .await?)
}

pub async fn get_profile(db: &DatabaseConnection, id: i64) -> AppResult<linkedin_profile::Model> {
    linkedin_profile::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("LinkedIn user profile", id))
}

pub async fn get_submission(db: &DatabaseConnection, id: i64) -> AppResult<form_submission::Model> {
    form_submission::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("form submission", id))
}

pub async fn create_profile(
    db: &impl ConnectionTrait,
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
    pub processing_state: Option<crate::domain::ProcessingState>,
    pub lead_type: Option<crate::domain::LeadType>,
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
    if let Some(v) = filter.processing_state {
        cond = cond.add(C::ProcessingState.eq(v.as_str()));
    }
    if let Some(v) = filter.lead_type {
        cond = cond.add(C::LeadType.eq(v.as_str()));
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

/// The list counter whose value is the size of the list `filter` selects, when there is one:
/// every submission, or those of one campaign (`list_counts`, kept in step by triggers).
fn counter_of(filter: &SubmissionFilter) -> Option<String> {
    let SubmissionFilter {
        campaign_id,
        form_id: None,
        account_id: None,
        lead_id: None,
        matching_status: None,
        processing_state: None,
        lead_type: None,
        submitted_after: None,
        submitted_before: None,
        test_lead: None,
    } = filter
    else {
        return None;
    };
    Some(match campaign_id {
        None => "submissions".to_owned(),
        Some(campaign) => format!("submissions:campaign:{campaign}"),
    })
}

/// What `totalCount` is for `filter`: a list counter's value, or a count bounded at
/// `COUNT_LIMIT + 1`.
fn total_expr(filter: &SubmissionFilter) -> Expr {
    match counter_of(filter) {
        Some(list) => counted(&list),
        None => bounded_count(filtered_submissions(filter), COUNT_LIMIT),
    }
}

/// The number of submissions `filter` matches, as `totalCount` reports it (see `COUNT_LIMIT`).
pub async fn count_submissions(
    db: &DatabaseConnection,
    filter: &SubmissionFilter,
) -> AppResult<i64> {
    count_of(db, total_expr(filter)).await
}

/// The to-one relations a submissions page fetches with its rows (a LEFT JOIN each), so that
/// resolving them costs no further statement.
#[derive(Clone, Copy, Debug, Default)]
pub struct SubmissionJoins {
    pub lead: bool,
    pub form: bool,
    pub campaign: bool,
    pub account: bool,
    /// The answers (and consents), fetched for the whole page in a second statement.
    pub answers: bool,
}

/// A submission with the relations its page joined (`None` also when not asked for).
pub struct SubmissionRow {
    pub submission: form_submission::Model,
    pub lead: Option<lead::Model>,
    pub form: Option<linkedin_form::Model>,
    pub campaign: Option<linkedin_campaign::Model>,
    pub account: Option<linkedin_account::Model>,
    pub answers: Option<Vec<submission_answer::Model>>,
}

/// The answers and consents of each submission, in form order: one statement.
pub async fn answers_of(
    db: &impl ConnectionTrait,
    submission_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<submission_answer::Model>>> {
    batch::grouped_by::<submission_answer::Entity>(
        db,
        submission_answer::Column::SubmissionId,
        submission_ids,
        submission_answer::Column::Position,
        false,
    )
    .await
}

/// Selects every column of `E` as `{prefix}{column}`.
fn select_prefixed<E: EntityTrait>(statement: &mut SelectStatement, prefix: &str) {
    for column in E::Column::iter() {
        statement.expr_as(
            Expr::col((E::default(), column)),
            Alias::new(format!("{prefix}{}", column.as_str())),
        );
    }
}

/// The `E` a LEFT JOIN selected with `select_prefixed`, if the row had one.
fn joined<E: EntityTrait>(row: &QueryResult, prefix: &str) -> AppResult<Option<E::Model>> {
    if row
        .try_get::<Option<i64>>("", &format!("{prefix}id"))?
        .is_none()
    {
        return Ok(None);
    }
    Ok(Some(E::Model::from_query_result(row, prefix)?))
}

/// Submissions, newest first, keyset-paged on (submitted_at, id), with the relations in `joins`
/// and, with `with_total`, the number the filter matches: one statement for all of it, and one
/// more for the answers when `joins.answers`.
pub async fn list_submissions(
    db: &DatabaseConnection,
    filter: &SubmissionFilter,
    first: u64,
    after: Option<&str>,
    joins: SubmissionJoins,
    with_total: bool,
) -> AppResult<(Page<SubmissionRow>, Option<i64>)> {
    use form_submission::Column as C;
    let mut query = filtered_submissions(filter);
    if let Some(after) = after {
        let (at, id) = decode_time_cursor(after)?;
        // A row-value comparison: a range of the (submitted_at, id) index.
        query = query.filter(
            Expr::tuple([
                Expr::col((form_submission::Entity, C::SubmittedAt)),
                Expr::col((form_submission::Entity, C::Id)),
            ])
            .lt(Expr::tuple([Expr::val(at), Expr::val(id)])),
        );
    }
    let mut statement = query
        .order_by_desc(C::SubmittedAt)
        .order_by_desc(C::Id)
        .limit(first + 1)
        .into_query();
    // Every column but the stored LinkedIn JSON, which no page shows and is the bulk of a row.
    statement.clear_selects();
    for column in C::iter() {
        let value = if matches!(column, C::Raw) {
            Expr::cust("NULL")
        } else {
            Expr::col((form_submission::Entity, column))
        };
        statement.expr_as(value, Alias::new(column.as_str()));
    }
    let on = |table: Alias, id: Alias, key: C| {
        Expr::col((table, id)).equals((form_submission::Entity, key))
    };
    if joins.lead {
        statement.left_join(
            lead::Entity,
            on(Alias::new("leads"), Alias::new("id"), C::LeadId),
        );
        select_prefixed::<lead::Entity>(&mut statement, "lead_");
    }
    if joins.form {
        statement.left_join(
            linkedin_form::Entity,
            on(Alias::new("linkedin_forms"), Alias::new("id"), C::FormId),
        );
        select_prefixed::<linkedin_form::Entity>(&mut statement, "form_");
    }
    if joins.campaign {
        statement.left_join(
            linkedin_campaign::Entity,
            on(
                Alias::new("linkedin_campaigns"),
                Alias::new("id"),
                C::CampaignId,
            ),
        );
        select_prefixed::<linkedin_campaign::Entity>(&mut statement, "campaign_");
    }
    if joins.account {
        statement.left_join(
            linkedin_account::Entity,
            on(
                Alias::new("linkedin_accounts"),
                Alias::new("id"),
                C::AccountId,
            ),
        );
        select_prefixed::<linkedin_account::Entity>(&mut statement, "account_");
    }
    if with_total {
        add_total_column(&mut statement, total_expr(filter));
    }
    let rows = db
        .query_all_raw(db.get_database_backend().build(&statement))
        .await?;
    // The total column exists only when the page asked for it.
    let total = if with_total {
        match total_of(&rows, after)? {
            Some(total) => Some(total),
            None => Some(count_submissions(db, filter).await?),
        }
    } else {
        None
    };
    let rows = rows
        .iter()
        .map(|row| {
            Ok(SubmissionRow {
                submission: form_submission::Model::from_query_result(row, "")?,
                lead: if joins.lead {
                    joined::<lead::Entity>(row, "lead_")?
                } else {
                    None
                },
                form: if joins.form {
                    joined::<linkedin_form::Entity>(row, "form_")?
                } else {
                    None
                },
                campaign: if joins.campaign {
                    joined::<linkedin_campaign::Entity>(row, "campaign_")?
                } else {
                    None
                },
                account: if joins.account {
                    joined::<linkedin_account::Entity>(row, "account_")?
                } else {
                    None
                },
                answers: None,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let mut rows = rows;
    // The page's rows, not the one fetched past it to tell whether there is a next page.
    let shown = rows.len().min(first as usize);
    if joins.answers && shown > 0 {
        let ids: Vec<i64> = rows[..shown].iter().map(|r| r.submission.id).collect();
        let mut answers = answers_of(db, &ids).await?;
        for row in &mut rows[..shown] {
            row.answers = Some(answers.remove(&row.submission.id).unwrap_or_default());
        }
    }
    let page = into_page(rows, first, after, |r| {
        encode_cursor(
            Some(r.submission.submitted_at.to_rfc3339()),
            r.submission.id,
        )
    });
    Ok((page, total))
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
