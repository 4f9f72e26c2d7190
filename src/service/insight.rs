//! Dashboard aggregates over form submissions, leads and sync runs. Every number is computed by the
//! database (GROUP BY, COUNT, SUM CASE); Rust only fills the empty time buckets.
//!
//! On SQLite, SeaORM stores `DateTimeUtc` as RFC 3339 text with a `+00:00` offset and automatic
//! sub-second digits (`2025-10-09T08:53:20.123+00:00`): it sorts chronologically as text, so range
//! filters bind a `DateTime<Utc>` (encoded the same way) and compare, and buckets are cut with
//! `strftime`. On PostgreSQL the columns are `timestamptz` and buckets are cut with `date_trunc` in
//! UTC whatever the session time zone.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Days, Months, NaiveTime, TimeDelta, Timelike, Utc};
use entity::{form_submission, lead, linkedin_campaign, sync_run};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, JoinType, Order,
    QueryFilter, QueryOrder, QuerySelect, RelationDef,
    sea_query::{Expr, ExprTrait, Func},
};

use crate::{
    domain::{LeadSource, MatchingStatus, ProcessingState, SyncRunStatus, parse_stored},
    error::{AppError, AppResult},
};

/// The most buckets one `submissions_over_time` answer may hold.
pub const MAX_BUCKETS: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Interval {
    Hour,
    Day,
    /// Weeks start on Monday 00:00 UTC.
    Week,
    /// Months start on the 1st, 00:00 UTC.
    Month,
}

impl Interval {
    /// The start of the bucket holding `t`.
    pub fn truncate(self, t: DateTime<Utc>) -> DateTime<Utc> {
        let day = t.date_naive();
        let start = match self {
            Interval::Hour => day.and_hms_opt(t.hour(), 0, 0).expect("valid hour"),
            Interval::Day => day.and_time(NaiveTime::MIN),
            Interval::Week => (day - Days::new(u64::from(day.weekday().num_days_from_monday())))
                .and_time(NaiveTime::MIN),
            Interval::Month => day.with_day(1).expect("day 1").and_time(NaiveTime::MIN),
        };
        start.and_utc()
    }

    /// The start of the bucket after the one starting at `start` (`None` past chrono's range).
    pub fn next(self, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Interval::Hour => start.checked_add_signed(TimeDelta::hours(1)),
            Interval::Day => start.checked_add_days(Days::new(1)),
            Interval::Week => start.checked_add_days(Days::new(7)),
            Interval::Month => start.checked_add_months(Months::new(1)),
        }
    }

    /// The SQL expression of the bucket start of `form_submissions.submitted_at`: RFC 3339 text
    /// on SQLite, `timestamptz` on PostgreSQL. Constant text: nothing of the request is in it.
    fn bucket_sql(self, backend: DatabaseBackend) -> &'static str {
        match (backend, self) {
            (DatabaseBackend::Postgres, Interval::Hour) => {
                r#"date_trunc('hour', "form_submissions"."submitted_at" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"#
            }
            (DatabaseBackend::Postgres, Interval::Day) => {
                r#"date_trunc('day', "form_submissions"."submitted_at" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"#
            }
            (DatabaseBackend::Postgres, Interval::Week) => {
                r#"date_trunc('week', "form_submissions"."submitted_at" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"#
            }
            (DatabaseBackend::Postgres, Interval::Month) => {
                r#"date_trunc('month', "form_submissions"."submitted_at" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"#
            }
            (_, Interval::Hour) => {
                r#"strftime('%Y-%m-%dT%H:00:00Z', "form_submissions"."submitted_at")"#
            }
            (_, Interval::Day) => {
                r#"strftime('%Y-%m-%dT00:00:00Z', "form_submissions"."submitted_at")"#
            }
            // Back 6 days, then forward to the next Monday (or the same day if it is one).
            (_, Interval::Week) => {
                r#"strftime('%Y-%m-%dT00:00:00Z', "form_submissions"."submitted_at", '-6 days', 'weekday 1')"#
            }
            (_, Interval::Month) => {
                r#"strftime('%Y-%m-01T00:00:00Z', "form_submissions"."submitted_at")"#
            }
        }
    }
}

/// The bucket starts covering `[from, to)`: from the bucket holding `from` to the last one
/// starting before `to`. Refuses an empty or reversed range and more than `MAX_BUCKETS` buckets.
pub fn bucket_starts(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    interval: Interval,
) -> AppResult<Vec<DateTime<Utc>>> {
    if from >= to {
        return Err(AppError::bad_input("from must be before to"));
    }
    let mut starts = Vec::new();
    let mut next = Some(interval.truncate(from));
    while let Some(start) = next.filter(|s| *s < to) {
        if starts.len() == MAX_BUCKETS {
            return Err(AppError::bad_input(format!(
                "the range holds more than {MAX_BUCKETS} buckets: narrow it or use a longer interval"
            )));
        }
        starts.push(start);
        next = interval.next(start);
    }
    Ok(starts)
}

fn test_lead_filter(include_test_leads: bool) -> Condition {
    let mut cond = Condition::all();
    if !include_test_leads {
        cond = cond.add(form_submission::Column::TestLead.eq(false));
    }
    cond
}

fn range_filter(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Condition {
    let mut cond = Condition::all();
    if let Some(from) = from {
        cond = cond.add(form_submission::Column::SubmittedAt.gte(from));
    }
    if let Some(to) = to {
        cond = cond.add(form_submission::Column::SubmittedAt.lt(to));
    }
    cond
}

/// `SUM(CASE WHEN matching_status = <status> THEN 1 ELSE 0 END)`.
fn count_status(status: MatchingStatus) -> Expr {
    Expr::case(
        form_submission::Column::MatchingStatus.eq(status.as_str()),
        1,
    )
    .finally(0)
    .into()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncStatus {
    /// The latest `finished_at` of a succeeded sync run.
    pub last_sync_at: Option<DateTime<Utc>>,
    pub submissions_synced: i64,
    pub leads_created: i64,
    pub leads_updated: i64,
    pub failed_submissions: i64,
}

pub async fn sync_status(
    db: &impl ConnectionTrait,
    include_test_leads: bool,
) -> AppResult<SyncStatus> {
    use form_submission::Column as C;
    let last_sync_at: Option<Option<DateTime<Utc>>> = sync_run::Entity::find()
        .select_only()
        .column_as(sync_run::Column::FinishedAt.max(), "last_sync_at")
        .filter(sync_run::Column::Status.eq(SyncRunStatus::Succeeded.as_str()))
        .into_tuple()
        .one(db)
        .await?;
    let failed: Expr = Expr::case(C::ProcessingState.eq(ProcessingState::Failed.as_str()), 1)
        .finally(0)
        .into();
    let zero_if_none = |sum: Expr| Expr::from(Func::coalesce([sum, Expr::val(0)]));
    let counts: Option<(i64, i64, i64, i64)> = form_submission::Entity::find()
        .select_only()
        .column_as(Expr::col(C::Id).count(), "submissions")
        .column_as(
            zero_if_none(count_status(MatchingStatus::NewLeadCreated).sum()),
            "leads_created",
        )
        .column_as(
            zero_if_none(count_status(MatchingStatus::UpdatedExistingLead).sum()),
            "leads_updated",
        )
        .column_as(zero_if_none(failed.sum()), "failed")
        .filter(test_lead_filter(include_test_leads))
        .into_tuple()
        .one(db)
        .await?;
    let (submissions_synced, leads_created, leads_updated, failed_submissions) =
        counts.unwrap_or_default();
    Ok(SyncStatus {
        last_sync_at: last_sync_at.flatten(),
        submissions_synced,
        leads_created,
        leads_updated,
        failed_submissions,
    })
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceCount {
    pub source: LeadSource,
    pub count: i64,
}

/// Leads per source, most first (then by source, for a stable order).
pub async fn leads_by_source(db: &impl ConnectionTrait) -> AppResult<Vec<SourceCount>> {
    let count = Expr::col(lead::Column::Id).count();
    let rows: Vec<(String, i64)> = lead::Entity::find()
        .select_only()
        .column(lead::Column::Source)
        .column_as(count.clone(), "count")
        .group_by(lead::Column::Source)
        .order_by(count, Order::Desc)
        .order_by_asc(lead::Column::Source)
        .into_tuple()
        .all(db)
        .await?;
    rows.into_iter()
        .map(|(source, count)| {
            Ok(SourceCount {
                source: parse_stored(&source)?,
                count,
            })
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CampaignCounts {
    pub campaign_id: i64,
    pub submissions: i64,
    pub leads_created: i64,
    pub leads_updated: i64,
}

/// Submissions per campaign in `[from, to)` (either end optional), most first, then by campaign
/// name. Submissions without a campaign are left out.
pub async fn submissions_by_campaign(
    db: &impl ConnectionTrait,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    include_test_leads: bool,
) -> AppResult<Vec<CampaignCounts>> {
    use form_submission::Column as C;
    if let (Some(from), Some(to)) = (from, to)
        && from >= to
    {
        return Err(AppError::bad_input("from must be before to"));
    }
    let campaign: RelationDef = form_submission::Entity::belongs_to(linkedin_campaign::Entity)
        .from(C::CampaignId)
        .to(linkedin_campaign::Column::Id)
        .into();
    let submissions = Expr::col((form_submission::Entity, C::Id)).count();
    let rows: Vec<(i64, i64, i64, i64)> = form_submission::Entity::find()
        .select_only()
        .column(C::CampaignId)
        .column_as(submissions.clone(), "submissions")
        .column_as(
            count_status(MatchingStatus::NewLeadCreated).sum(),
            "leads_created",
        )
        .column_as(
            count_status(MatchingStatus::UpdatedExistingLead).sum(),
            "leads_updated",
        )
        .join(JoinType::InnerJoin, campaign)
        .filter(test_lead_filter(include_test_leads))
        .filter(range_filter(from, to))
        .group_by(C::CampaignId)
        .group_by(linkedin_campaign::Column::Name)
        .order_by(submissions, Order::Desc)
        .order_by_asc(linkedin_campaign::Column::Name)
        .order_by_asc(C::CampaignId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(campaign_id, submissions, leads_created, leads_updated)| CampaignCounts {
                campaign_id,
                submissions,
                leads_created,
                leads_updated,
            },
        )
        .collect())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub start: DateTime<Utc>,
    pub count: i64,
}

/// Submissions per time bucket over `[from, to)`: every bucket of the range, 0 when empty. The
/// first bucket starts at or before `from` but counts only submissions from `from` on.
pub async fn submissions_over_time(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    interval: Interval,
    campaign_id: Option<i64>,
    include_test_leads: bool,
) -> AppResult<Vec<Bucket>> {
    use form_submission::Column as C;
    let starts = bucket_starts(from, to, interval)?;
    let backend = db.get_database_backend();
    let bucket = Expr::cust(interval.bucket_sql(backend));
    let mut query = form_submission::Entity::find()
        .select_only()
        .column_as(bucket.clone(), "bucket_start")
        .column_as(Expr::col(C::Id).count(), "count")
        .filter(test_lead_filter(include_test_leads))
        .filter(range_filter(Some(from), Some(to)))
        .group_by(bucket);
    if let Some(campaign_id) = campaign_id {
        query = query.filter(C::CampaignId.eq(campaign_id));
    }
    let counts: HashMap<DateTime<Utc>, i64> = match backend {
        DatabaseBackend::Postgres => query
            .into_tuple::<(DateTime<Utc>, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect(),
        _ => query
            .into_tuple::<(Option<String>, i64)>()
            .all(db)
            .await?
            .into_iter()
            .filter_map(|(start, count)| Some((start?, count)))
            .map(|(start, count)| {
                DateTime::parse_from_rfc3339(&start)
                    .map(|s| (s.with_timezone(&Utc), count))
                    .map_err(|e| AppError::internal(format_args!("bucket {start:?}: {e}")))
            })
            .collect::<AppResult<_>>()?,
    };
    Ok(starts
        .into_iter()
        .map(|start| Bucket {
            start,
            count: counts.get(&start).copied().unwrap_or(0),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn buckets_truncate_in_utc() {
        let t = at("2025-10-12T23:59:59.999Z"); // a Sunday
        assert_eq!(Interval::Hour.truncate(t), at("2025-10-12T23:00:00Z"));
        assert_eq!(Interval::Day.truncate(t), at("2025-10-12T00:00:00Z"));
        assert_eq!(Interval::Week.truncate(t), at("2025-10-06T00:00:00Z"));
        assert_eq!(Interval::Month.truncate(t), at("2025-10-01T00:00:00Z"));
        let monday = at("2025-10-13T00:00:00Z");
        assert_eq!(Interval::Week.truncate(monday), monday);
        assert_eq!(
            Interval::Month.next(at("2025-01-01T00:00:00Z")),
            Some(at("2025-02-01T00:00:00Z"))
        );
    }

    #[test]
    fn bucket_starts_cover_the_range_and_are_bounded() {
        let starts = bucket_starts(
            at("2025-10-12T12:00:00Z"),
            at("2025-10-14T00:00:00Z"),
            Interval::Day,
        )
        .unwrap();
        assert_eq!(
            starts,
            [at("2025-10-12T00:00:00Z"), at("2025-10-13T00:00:00Z")]
        );
        let from = at("2025-01-01T00:00:00Z");
        let exactly = from + TimeDelta::hours(MAX_BUCKETS as i64);
        assert_eq!(
            bucket_starts(from, exactly, Interval::Hour).unwrap().len(),
            MAX_BUCKETS
        );
        let over = bucket_starts(from, exactly + TimeDelta::seconds(1), Interval::Hour);
        assert_eq!(over.unwrap_err().code(), "BAD_USER_INPUT");
        assert!(bucket_starts(from, from, Interval::Day).is_err());
    }
}
