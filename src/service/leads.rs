//! Leads: create, update, delete, read, and the filtered, ordered, keyset-paged list.

use chrono::{DateTime, Utc};
use entity::{form_submission, lead};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    EntityTrait, IdenStatic, ModelTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select, Set,
    sea_query::{
        Alias, Asterisk, Expr, ExprTrait, LikeExpr, Order, Query, SelectStatement, UnionType,
    },
};
use serde_json::{Map, Value as Json};

use crate::{
    domain::{LeadEventKind, LeadSource},
    error::{AppError, AppResult},
    service::{
        lead_events::{self, NewEvent},
        paging::{
            COUNT_LIMIT, Page, add_total_column, bounded_count, count_of, counted, decode_cursor,
            encode_cursor, fetch_rows, into_page,
        },
    },
};

/// The lead fields a field mapping may target, by their API name. `custom.<key>` targets a key of
/// `customFields`.
pub const LEAD_FIELDS: &[&str] = &[
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

pub const CUSTOM_PREFIX: &str = "custom.";

pub fn is_valid_lead_field(name: &str) -> bool {
    if let Some(key) = name.strip_prefix(CUSTOM_PREFIX) {
        return !key.is_empty()
            && key.len() <= 100
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    }
    LEAD_FIELDS.contains(&name)
}

/// Emails compare trimmed and case-insensitively.
pub fn normalize_email(value: &str) -> Option<String> {
    let v = value.trim().to_lowercase();
    (!v.is_empty()).then_some(v)
}

/// Phones compare as their digits, with a leading `+` when the number gives a country code.
pub fn normalize_phone(value: &str) -> Option<String> {
    let trimmed = value.trim();
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    if trimmed.starts_with('+') {
        Some(format!("+{digits}"))
    } else if let Some(rest) = digits.strip_prefix("00").filter(|r| !r.is_empty()) {
        Some(format!("+{rest}"))
    } else {
        Some(digits)
    }
}

fn looks_like_email(value: &str) -> bool {
    let mut parts = value.split('@');
    matches!((parts.next(), parts.next(), parts.next()),
        (Some(local), Some(domain), None)
            if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'))
        && !value.chars().any(char::is_whitespace)
}

/// The editable values of a lead. `None` leaves a field as it is; `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct LeadChanges {
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub work_email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub work_phone: Option<Option<String>>,
    pub company: Option<Option<String>>,
    pub job_title: Option<Option<String>>,
    pub job_function: Option<Option<String>>,
    pub seniority: Option<Option<String>>,
    pub industry: Option<Option<String>>,
    pub company_size: Option<Option<String>>,
    pub country: Option<Option<String>>,
    pub state: Option<Option<String>>,
    pub city: Option<Option<String>>,
    pub zip_code: Option<Option<String>>,
    /// Replaces the custom fields object.
    pub custom_fields: Option<Map<String, Json>>,
}

const MAX_FIELD_LEN: usize = 1000;

fn clean(field: &str, value: Option<String>) -> AppResult<Option<String>> {
    let Some(v) = value else { return Ok(None) };
    let v = v.trim();
    if v.chars().count() > MAX_FIELD_LEN {
        return Err(AppError::bad_input(format!(
            "{field} is longer than {MAX_FIELD_LEN} characters"
        )));
    }
    Ok((!v.is_empty()).then(|| v.to_owned()))
}

fn apply(model: &mut lead::ActiveModel, changes: LeadChanges) -> AppResult<()> {
    macro_rules! text {
        ($field:ident, $name:literal) => {
            if let Some(value) = changes.$field {
                model.$field = Set(clean($name, value)?);
            }
        };
    }
    text!(first_name, "firstName");
    text!(last_name, "lastName");
    text!(work_phone, "workPhone");
    text!(company, "company");
    text!(job_title, "jobTitle");
    text!(job_function, "jobFunction");
    text!(seniority, "seniority");
    text!(industry, "industry");
    text!(company_size, "companySize");
    text!(country, "country");
    text!(state, "state");
    text!(city, "city");
    text!(zip_code, "zipCode");
    if let Some(value) = changes.email {
        let value = clean("email", value)?;
        if let Some(v) = &value
            && !looks_like_email(v)
        {
            // The value is not echoed: errors reach clients and logs, personal data must not.
            return Err(AppError::bad_input(
                "email is not an email address (name@domain.tld)",
            ));
        }
        model.email_normalized = Set(value.as_deref().and_then(normalize_email));
        model.email = Set(value);
    }
    if let Some(value) = changes.work_email {
        let value = clean("workEmail", value)?;
        if let Some(v) = &value
            && !looks_like_email(v)
        {
            return Err(AppError::bad_input(
                "workEmail is not an email address (name@domain.tld)",
            ));
        }
        model.work_email_normalized = Set(value.as_deref().and_then(normalize_email));
        model.work_email = Set(value);
    }
    if let Some(value) = changes.phone {
        let value = clean("phone", value)?;
        model.phone_normalized = Set(value.as_deref().and_then(normalize_phone));
        model.phone = Set(value);
    }
    if let Some(custom) = changes.custom_fields {
        if serde_json::to_string(&custom).map_or(0, |s| s.len()) > 64 * 1024 {
            return Err(AppError::bad_input("customFields is larger than 64 KiB"));
        }
        model.custom_fields = Set(Json::Object(custom));
    }
    Ok(())
}

pub async fn create_lead(
    db: &impl crate::service::Db,
    changes: LeadChanges,
    source: LeadSource,
) -> AppResult<lead::Model> {
    let now = Utc::now();
    let mut model = lead::ActiveModel {
        first_name: Set(None),
        last_name: Set(None),
        email: Set(None),
        email_normalized: Set(None),
        work_email: Set(None),
        work_email_normalized: Set(None),
        phone: Set(None),
        phone_normalized: Set(None),
        work_phone: Set(None),
        company: Set(None),
        job_title: Set(None),
        job_function: Set(None),
        seniority: Set(None),
        industry: Set(None),
        company_size: Set(None),
        country: Set(None),
        state: Set(None),
        city: Set(None),
        zip_code: Set(None),
        custom_fields: Set(Json::Object(Map::new())),
        source: Set(source.as_str().to_owned()),
        source_campaign_id: Set(None),
        source_form_id: Set(None),
        latest_submission_at: Set(None),
        submission_count: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    apply(&mut model, changes)?;
    let txn = lead_events::begin(db).await?;
    let created = model.insert(&txn).await?;
    lead_events::append(
        &txn,
        &[NewEvent::lead(LeadEventKind::LeadCreated, &created)],
        now,
    )
    .await?;
    lead_events::commit(txn).await?;
    Ok(created)
}

pub async fn get_lead(db: &DatabaseConnection, id: i64) -> AppResult<lead::Model> {
    get_lead_in(db, id).await
}

async fn get_lead_in(db: &impl ConnectionTrait, id: i64) -> AppResult<lead::Model> {
    lead::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("lead", id))
}

pub async fn update_lead(
    db: &impl crate::service::Db,
    id: i64,
    changes: LeadChanges,
) -> AppResult<lead::Model> {
    let txn = lead_events::begin(db).await?;
    let existing = get_lead_in(&txn, id).await?;
    let mut model: lead::ActiveModel = existing.into();
    apply(&mut model, changes)?;
    let now = Utc::now();
    model.updated_at = Set(now);
    let updated = model.update(&txn).await?;
    lead_events::append(
        &txn,
        &[NewEvent::lead(LeadEventKind::LeadUpdated, &updated)],
        now,
    )
    .await?;
    lead_events::commit(txn).await?;
    Ok(updated)
}

/// Deletes the lead; its submissions stay, unlinked (the database sets their lead to null).
pub async fn delete_lead(db: &impl crate::service::Db, id: i64) -> AppResult<lead::Model> {
    let txn = lead_events::begin(db).await?;
    let existing = get_lead_in(&txn, id).await?;
    existing.clone().delete(&txn).await?;
    lead_events::append(
        &txn,
        &[NewEvent::lead(LeadEventKind::LeadDeleted, &existing)],
        Utc::now(),
    )
    .await?;
    lead_events::commit(txn).await?;
    tracing::info!(lead_id = id, "deleted lead");
    Ok(existing)
}

#[derive(Clone, Debug, Default)]
pub struct LeadFilter {
    pub source: Option<LeadSource>,
    pub campaign_id: Option<i64>,
    pub form_id: Option<i64>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub search: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeadSortField {
    CreatedAt,
    UpdatedAt,
    LatestSubmissionAt,
    Email,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeadSort {
    pub field: LeadSortField,
    pub descending: bool,
}

impl Default for LeadSort {
    fn default() -> Self {
        Self {
            field: LeadSortField::CreatedAt,
            descending: true,
        }
    }
}

fn escape_like(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 2);
    out.push('%');
    for c in term.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn filtered(filter: &LeadFilter, backend: DatabaseBackend) -> AppResult<Select<lead::Entity>> {
    let mut query = lead::Entity::find();
    if let Some(source) = filter.source {
        query = query.filter(lead::Column::Source.eq(source.as_str()));
    }
    if let Some(after) = filter.created_after {
        query = query.filter(lead::Column::CreatedAt.gte(after));
    }
    if let Some(before) = filter.created_before {
        query = query.filter(lead::Column::CreatedAt.lt(before));
    }
    // A lead of a campaign (or form) came from it or has a submission to it: the membership
    // tables hold exactly those pairs (kept by triggers), so a page reads leads in its order and
    // probes each one's row by primary key instead of collecting every member first.
    let member = |table: &str, column: &str, id: i64| {
        Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(Alias::new(table))
                .and_where(
                    Expr::col((Alias::new(table), Alias::new("lead_id")))
                        .equals((lead::Entity, lead::Column::Id)),
                )
                .and_where(Expr::col((Alias::new(table), Alias::new(column))).eq(id))
                .to_owned(),
        )
    };
    if let Some(campaign) = filter.campaign_id {
        query = query.filter(member("lead_campaigns", "campaign_id", campaign));
    }
    if let Some(form) = filter.form_id {
        query = query.filter(member("lead_forms", "form_id", form));
    }
    if let Some(search) = &filter.search {
        if search.chars().count() > 200 {
            return Err(AppError::bad_input("search is longer than 200 characters"));
        }
        // One expression over the four fields (the PostgreSQL trigram index's): a term, which
        // has no whitespace, is in it exactly when it is in one of the fields.
        for term in search.split_whitespace() {
            let pattern = escape_like(term);
            // SQLite answers a LIKE of three characters or more from the trigram FTS5 table
            // (`leads_search`), which holds the same text; it takes no ESCAPE, so a term with a
            // wildcard character reads the leads instead.
            let indexed = backend == DatabaseBackend::Sqlite
                && term.chars().count() >= 3
                && !term.contains(['%', '_', '\\']);
            query = query.filter(if indexed {
                lead::Column::Id.in_subquery(
                    Query::select()
                        .column(Alias::new("rowid"))
                        .from(Alias::new("leads_search"))
                        .and_where(Expr::col(Alias::new("text")).like(pattern))
                        .to_owned(),
                )
            } else {
                Expr::cust(migration::SEARCH_TEXT).like(LikeExpr::new(pattern).escape('\\'))
            });
        }
    }
    Ok(query)
}

/// The list counter whose value is the size of the list `filter` selects, when there is one:
/// every lead, the leads of one source, of one campaign or of one form (`list_counts`, kept in
/// step by triggers).
fn counter_of(filter: &LeadFilter) -> Option<String> {
    let LeadFilter {
        source,
        campaign_id,
        form_id,
        created_after: None,
        created_before: None,
        search: None,
    } = filter
    else {
        return None;
    };
    Some(match (source, campaign_id, form_id) {
        (None, None, None) => "leads".to_owned(),
        (Some(source), None, None) => format!("leads:source:{}", source.as_str()),
        (None, Some(campaign), None) => format!("leads:campaign:{campaign}"),
        (None, None, Some(form)) => format!("leads:form:{form}"),
        _ => return None,
    })
}

/// What `totalCount` is for `filter`: a list counter's value, or a count bounded at
/// `COUNT_LIMIT + 1`.
fn total_expr(filter: &LeadFilter, backend: DatabaseBackend) -> AppResult<Expr> {
    Ok(match counter_of(filter) {
        Some(list) => counted(&list),
        None => bounded_count(filtered(filter, backend)?, COUNT_LIMIT),
    })
}

/// The number of leads `filter` matches, as `totalCount` reports it (see `COUNT_LIMIT`).
pub async fn count_leads(db: &DatabaseConnection, filter: &LeadFilter) -> AppResult<i64> {
    count_of(db, total_expr(filter, db.get_database_backend())?).await
}

impl LeadSortField {
    fn column(self) -> lead::Column {
        match self {
            LeadSortField::CreatedAt => lead::Column::CreatedAt,
            LeadSortField::UpdatedAt => lead::Column::UpdatedAt,
            LeadSortField::LatestSubmissionAt => lead::Column::LatestSubmissionAt,
            LeadSortField::Email => lead::Column::EmailNormalized,
        }
    }

    fn nullable(self) -> bool {
        matches!(
            self,
            LeadSortField::LatestSubmissionAt | LeadSortField::Email
        )
    }

    fn value_of(self, model: &lead::Model) -> Option<String> {
        match self {
            LeadSortField::CreatedAt => Some(model.created_at.to_rfc3339()),
            LeadSortField::UpdatedAt => Some(model.updated_at.to_rfc3339()),
            LeadSortField::LatestSubmissionAt => model.latest_submission_at.map(|t| t.to_rfc3339()),
            LeadSortField::Email => model.email_normalized.clone(),
        }
    }

    fn bind(self, value: &str) -> AppResult<sea_orm::Value> {
        if self == LeadSortField::Email {
            return Ok(value.to_owned().into());
        }
        let time = DateTime::parse_from_rfc3339(value)
            .map_err(|_| AppError::bad_input("after is not a cursor of this list"))?;
        Ok(time.with_timezone(&Utc).into())
    }
}

/// `(col, id)` beyond the cursor's `(value, id)` in the sort direction: a row-value comparison,
/// which both databases read as a range of the `(col, id)` index.
fn beyond(sort: LeadSort, value: sea_orm::Value, id: i64) -> Expr {
    let row = Expr::tuple([
        Expr::col((lead::Entity, sort.field.column())),
        Expr::col((lead::Entity, lead::Column::Id)),
    ]);
    let cursor = Expr::tuple([Expr::val(value), Expr::val(id)]);
    if sort.descending {
        row.lt(cursor)
    } else {
        row.gt(cursor)
    }
}

/// The page query: `first + 1` leads in `ORDER BY col NULLS LAST, id` (both in the sort's
/// direction) after the cursor. A nullable order reads its two parts separately, each from the
/// `(col, id)` index: the leads with a value (`col IS NOT NULL`, by `(col, id)`), then those
/// without (`col IS NULL`, by `id`); a cursor in the second part skips the first. The two parts
/// are one statement (`UNION ALL` of at most `first + 1` rows each, ordered by part).
fn page_statement(
    filter: &LeadFilter,
    backend: DatabaseBackend,
    sort: LeadSort,
    first: u64,
    cursor: Option<(Option<String>, i64)>,
) -> AppResult<SelectStatement> {
    let order = if sort.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    let col = sort.field.column();
    let limit = first + 1;
    // The part with values, after the cursor's value (when the cursor is in it).
    let valued = |value: Option<(sea_orm::Value, i64)>| -> AppResult<SelectStatement> {
        let mut query = filtered(filter, backend)?;
        if sort.field.nullable() {
            query = query.filter(col.is_not_null());
        }
        if let Some((v, id)) = value {
            query = query.filter(beyond(sort, v, id));
        }
        Ok(query
            .order_by(col, order.clone())
            .order_by(lead::Column::Id, order.clone())
            .limit(limit)
            .into_query())
    };
    let cursor = match cursor {
        Some((Some(v), id)) => Some((Some(sort.field.bind(&v)?), id)),
        Some((None, id)) => Some((None, id)),
        None => None,
    };
    if !sort.field.nullable() {
        let value = match cursor {
            Some((Some(v), id)) => Some((v, id)),
            // A null sort value cannot come from this list.
            Some((None, _)) => {
                return Err(AppError::bad_input("after is not a cursor of this list"));
            }
            None => None,
        };
        return valued(value);
    }
    let nulls = |after_id: Option<i64>| -> AppResult<SelectStatement> {
        let mut query = filtered(filter, backend)?.filter(col.is_null());
        if let Some(id) = after_id {
            query = query.filter(if sort.descending {
                lead::Column::Id.lt(id)
            } else {
                lead::Column::Id.gt(id)
            });
        }
        Ok(query
            .order_by(lead::Column::Id, order.clone())
            .limit(limit)
            .into_query())
    };
    let (valued_part, null_part) = match cursor {
        // Past every lead with a value: the null part only.
        Some((None, id)) => (None, nulls(Some(id))?),
        Some((Some(v), id)) => (Some(valued(Some((v, id)))?), nulls(None)?),
        None => (Some(valued(None)?), nulls(None)?),
    };
    let part = |statement: SelectStatement, n: i32, alias: &str| {
        Query::select()
            .column(Asterisk)
            .expr_as(Expr::val(n), Alias::new("page_part"))
            .from_subquery(statement, Alias::new(alias))
            .to_owned()
    };
    let mut union = part(null_part, 1, "page_nulls");
    if let Some(valued_part) = valued_part {
        let mut both = part(valued_part, 0, "page_values");
        both.union(UnionType::All, union);
        union = both;
    }
    Ok(Query::select()
        .column(Asterisk)
        .from_subquery(union, Alias::new("page"))
        .order_by(Alias::new("page_part"), Order::Asc)
        .order_by(Alias::new(col.as_str()), order.clone())
        .order_by(Alias::new("id"), order)
        .limit(limit)
        .to_owned())
}

/// A page of leads and, with `with_total`, `totalCount` (see `COUNT_LIMIT`), in the page's own
/// statement.
pub async fn list_leads(
    db: &DatabaseConnection,
    filter: &LeadFilter,
    sort: LeadSort,
    first: u64,
    after: Option<&str>,
    with_total: bool,
) -> AppResult<(Page<lead::Model>, Option<i64>)> {
    let cursor = after.map(decode_cursor).transpose()?;
    let backend = db.get_database_backend();
    let mut statement = page_statement(filter, backend, sort, first, cursor)?;
    if with_total {
        add_total_column(&mut statement, total_expr(filter, backend)?);
    }
    let (rows, total) = fetch_rows::<lead::Entity>(db, &statement, with_total, after).await?;
    let total = match total {
        None if with_total => Some(count_leads(db, filter).await?),
        total => total,
    };
    let page = into_page(rows, first, after, |m| {
        encode_cursor(sort.field.value_of(m), m.id)
    });
    Ok((page, total))
}

/// What remains of an erased lead in the event log: its id, nothing of the person.
fn erased_event(lead_id: i64) -> NewEvent {
    NewEvent {
        kind: LeadEventKind::LeadErased,
        lead_id,
        submission_id: None,
        outcome: None,
        campaign_id: None,
        form_id: None,
        lead_type: None,
    }
}

/// Erases a lead: deletes it with its submissions and answers, and keeps a tombstone of each
/// LinkedIn response id so that no later sync brings the person back.
/// `secret_key` keys the hash of the person's email kept to say, on a later export, that they
/// were erased (`service::privacy`).
pub async fn erase_lead(
    db: &impl crate::service::Db,
    secret_key: &[u8; 32],
    id: i64,
    by_user: Option<i64>,
) -> AppResult<(lead::Model, usize)> {
    let txn = lead_events::begin(db).await?;
    let existing = get_lead_in(&txn, id).await?;
    let submissions = form_submission::Entity::find()
        .filter(form_submission::Column::LeadId.eq(id))
        .all(&txn)
        .await?;
    let now = Utc::now();
    if !submissions.is_empty() {
        entity::erased_response::Entity::insert_many(submissions.iter().map(|s| {
            entity::erased_response::ActiveModel {
                id: sea_orm::ActiveValue::NotSet,
                linkedin_response_id: Set(s.linkedin_id.clone()),
                erased_at: Set(now),
                erased_by_user_id: Set(by_user),
            }
        }))
        .on_conflict_do_nothing_on([entity::erased_response::Column::LinkedinResponseId])
        .exec_without_returning(&txn)
        .await?;
        form_submission::Entity::delete_many()
            .filter(form_submission::Column::LeadId.eq(id))
            .exec(&txn)
            .await?;
    }
    lead::Entity::delete_by_id(id).exec(&txn).await?;
    crate::service::privacy::record_erasure(&txn, secret_key, &existing, by_user, now).await?;
    lead_events::forget_lead(&txn, id).await?;
    lead_events::append(&txn, &[erased_event(id)], now).await?;
    lead_events::commit(txn).await?;
    tracing::info!(lead_id = id, submissions = submissions.len(), "erased lead");
    Ok((existing, submissions.len()))
}

/// Erases what leadsync holds of one LinkedIn response (LinkedIn said it was deleted): the
/// submission and its answers, remembered by a tombstone; its lead too when nothing else is left
/// of it, otherwise the lead's submission count drops.
pub async fn erase_response(db: &DatabaseConnection, linkedin_id: &str) -> AppResult<bool> {
    let txn = lead_events::begin(db).await?;
    let now = Utc::now();
    entity::erased_response::Entity::insert(entity::erased_response::ActiveModel {
        id: sea_orm::ActiveValue::NotSet,
        linkedin_response_id: Set(linkedin_id.to_owned()),
        erased_at: Set(Utc::now()),
        erased_by_user_id: Set(None),
    })
    .on_conflict_do_nothing_on([entity::erased_response::Column::LinkedinResponseId])
    .exec_without_returning(&txn)
    .await?;
    // LinkedIn deleted the response: its consent records go too.
    entity::consent_record::Entity::delete_many()
        .filter(entity::consent_record::Column::LinkedinResponseId.eq(linkedin_id))
        .exec(&txn)
        .await?;
    let Some(submission) = form_submission::Entity::find()
        .filter(form_submission::Column::LinkedinId.eq(linkedin_id))
        .one(&txn)
        .await?
    else {
        txn.commit().await?;
        return Ok(false);
    };
    form_submission::Entity::delete_by_id(submission.id)
        .exec(&txn)
        .await?;
    if let Some(lead_id) = submission.lead_id
        && let Some(lead) = lead::Entity::find_by_id(lead_id).one(&txn).await?
    {
        let others = form_submission::Entity::find()
            .filter(form_submission::Column::LeadId.eq(lead_id))
            .count(&txn)
            .await?;
        let from_linkedin = lead
            .source
            .parse::<LeadSource>()
            .is_ok_and(LeadSource::is_linkedin);
        if others == 0 && from_linkedin {
            lead::Entity::delete_by_id(lead_id).exec(&txn).await?;
            lead_events::forget_lead(&txn, lead_id).await?;
            lead_events::append(&txn, &[erased_event(lead_id)], now).await?;
        } else {
            let mut active: lead::ActiveModel = lead.into();
            active.submission_count = Set(others as i32);
            let updated = active.update(&txn).await?;
            lead_events::append(
                &txn,
                &[NewEvent::lead(LeadEventKind::LeadUpdated, &updated)],
                now,
            )
            .await?;
        }
    }
    lead_events::commit(txn).await?;
    tracing::info!(response = linkedin_id, "erased a response LinkedIn deleted");
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_normalize_case_and_space() {
        assert_eq!(
            normalize_email("  Ada.Lovelace@Example.COM "),
            Some("ada.lovelace@example.com".into())
        );
        assert_eq!(normalize_email("   "), None);
    }

    #[test]
    fn phones_normalize_to_digits_with_country() {
        assert_eq!(
            normalize_phone("+1 (415) 555-0100"),
            Some("+14155550100".into())
        );
        assert_eq!(
            normalize_phone("0044 20 7946 0958"),
            Some("+442079460958".into())
        );
        assert_eq!(normalize_phone("415.555.0100"), Some("4155550100".into()));
        assert_eq!(normalize_phone("n/a"), None);
    }

    #[test]
    fn email_shape_is_checked() {
        assert!(looks_like_email("a@b.co"));
        assert!(!looks_like_email("a@b"));
        assert!(!looks_like_email("a b@c.de"));
        assert!(!looks_like_email("@c.de"));
        assert!(!looks_like_email("a@@c.de"));
    }

    #[test]
    fn lead_fields_validate() {
        assert!(is_valid_lead_field("email"));
        assert!(is_valid_lead_field("custom.favouriteColour"));
        assert!(!is_valid_lead_field("custom."));
        assert!(!is_valid_lead_field("custom.a b"));
        assert!(!is_valid_lead_field("password"));
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(escape_like("50%_A"), "%50\\%\\_a%");
    }
}
