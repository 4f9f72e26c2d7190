//! Dashboard aggregates: sync status, leads by source, submissions by campaign and over time.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::{
    error::AppError,
    graphql::{
        guard::{LEAD_USERS, RoleGuard},
        state,
        types::{Campaign, LeadSource, loaders, parse_id},
    },
    service::insight,
};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "insight::Interval")]
pub enum TimeInterval {
    Hour,
    Day,
    /// Weeks start on Monday 00:00 UTC.
    Week,
    /// Months start on the 1st, 00:00 UTC.
    Month,
}

#[derive(SimpleObject)]
pub struct SyncStatus {
    /// When the latest successful sync run finished; null before the first.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Form submissions stored.
    pub submissions_synced: i64,
    /// Submissions that created a lead.
    pub leads_created: i64,
    /// Submissions that updated an existing lead.
    pub leads_updated: i64,
    /// Submissions whose processing failed.
    pub failed_submissions: i64,
    /// What to act on before LinkedIn stops answering: the API version within 60 days of its
    /// sunset, profiles to authorize again within 14 days (or already expired).
    pub warnings: Vec<String>,
    /// When LinkedIn last validated the lead webhook (it does every 2 hours); null when it has
    /// not in the last 30 days.
    pub webhook_last_validated_at: Option<DateTime<Utc>>,
}

#[derive(SimpleObject)]
pub struct LeadSourceCount {
    pub source: LeadSource,
    pub count: i64,
}

pub struct CampaignSubmissions(insight::CampaignCounts);

#[Object]
impl CampaignSubmissions {
    async fn campaign(&self, ctx: &Context<'_>) -> Result<Campaign> {
        let id = self.0.campaign_id;
        Ok(loaders(ctx)
            .campaign
            .load_one(id)
            .await?
            .map(Campaign)
            .ok_or_else(|| AppError::not_found("campaign", id))?)
    }
    async fn submissions(&self) -> i64 {
        self.0.submissions
    }
    /// Submissions that created a lead.
    async fn leads_created(&self) -> i64 {
        self.0.leads_created
    }
    /// Submissions that updated an existing lead.
    async fn leads_updated(&self) -> i64 {
        self.0.leads_updated
    }
}

#[derive(SimpleObject)]
pub struct TimeBucket {
    /// The bucket's first instant (UTC); the bucket runs to the next one.
    pub bucket_start: DateTime<Utc>,
    pub count: i64,
}

#[derive(Default)]
pub struct InsightQuery;

#[Object]
impl InsightQuery {
    /// Totals over every profile's synced submissions, and the latest successful sync.
    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn sync_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(false)", desc = "Count LinkedIn test leads too.")]
        include_test_leads: Option<bool>,
    ) -> Result<SyncStatus> {
        let s = insight::sync_status(&state(ctx).db, include_test_leads.unwrap_or(false)).await?;
        Ok(SyncStatus {
            last_sync_at: s.last_sync_at,
            submissions_synced: s.submissions_synced,
            leads_created: s.leads_created,
            leads_updated: s.leads_updated,
            failed_submissions: s.failed_submissions,
            warnings: crate::service::health::warnings(&state(ctx).db, &state(ctx).config).await?,
            webhook_last_validated_at: crate::service::webhooks::last_validated_at(&state(ctx).db)
                .await?,
        })
    }

    /// Leads per source, most first.
    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn leads_by_source(&self, ctx: &Context<'_>) -> Result<Vec<LeadSourceCount>> {
        Ok(insight::leads_by_source(&state(ctx).db)
            .await?
            .into_iter()
            .map(|c| LeadSourceCount {
                source: c.source.into(),
                count: c.count,
            })
            .collect())
    }

    /// Submissions per campaign, submitted in [from, to) (either end optional), most first, then
    /// by campaign name. Submissions without a campaign are left out.
    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn submissions_by_campaign(
        &self,
        ctx: &Context<'_>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        #[graphql(default_with = "Some(false)", desc = "Count LinkedIn test leads too.")]
        include_test_leads: Option<bool>,
    ) -> Result<Vec<CampaignSubmissions>> {
        Ok(insight::submissions_by_campaign(
            &state(ctx).db,
            from,
            to,
            include_test_leads.unwrap_or(false),
        )
        .await?
        .into_iter()
        .map(CampaignSubmissions)
        .collect())
    }

    /// Submissions per UTC time bucket over [from, to): every bucket of the range, 0 when empty,
    /// at most 10000 buckets. The first bucket starts at or before `from` and counts from `from`.
    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn submissions_over_time(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        interval: TimeInterval,
        campaign_id: Option<ID>,
        #[graphql(default_with = "Some(false)", desc = "Count LinkedIn test leads too.")]
        include_test_leads: Option<bool>,
    ) -> Result<Vec<TimeBucket>> {
        let campaign_id = campaign_id
            .as_ref()
            .map(|v| parse_id(v, "campaign"))
            .transpose()?;
        Ok(insight::submissions_over_time(
            &state(ctx).db,
            from,
            to,
            interval.into(),
            campaign_id,
            include_test_leads.unwrap_or(false),
        )
        .await?
        .into_iter()
        .map(|b| TimeBucket {
            bucket_start: b.start,
            count: b.count,
        })
        .collect())
    }
}
