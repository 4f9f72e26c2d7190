//! Query roots, one object per domain, merged in `graphql::Query`.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use crate::{
    graphql::{
        guard::{ANYONE, LEAD_USERS, LEADGEN_ADMIN, RoleGuard, SYSTEM},
        state,
        types::*,
    },
    service::{
        configuration, leads, linkedin, mappings, paging, preview, privacy, strategies,
        users::{self, Viewer as ViewerModel},
    },
};

#[derive(Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The caller.
    #[graphql(guard = "RoleGuard(ANYONE)")]
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer> {
        Ok(Viewer(ctx.data_unchecked::<ViewerModel>().clone()))
    }

    #[graphql(guard = "RoleGuard(SYSTEM)")]
    async fn users(&self, ctx: &Context<'_>) -> Result<Vec<User>> {
        Ok(users::list_users(&state(ctx).db)
            .await?
            .into_iter()
            .map(User)
            .collect())
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum LeadOrderField {
    CreatedAt,
    UpdatedAt,
    LatestSubmissionAt,
    Email,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum OrderDirection {
    Asc,
    Desc,
}

#[derive(InputObject)]
pub struct LeadOrder {
    pub field: LeadOrderField,
    #[graphql(default_with = "OrderDirection::Desc")]
    pub direction: OrderDirection,
}

#[derive(InputObject, Default)]
pub struct LeadFilter {
    pub source: Option<LeadSource>,
    /// Leads from this campaign (source campaign, or any submission of it).
    pub campaign_id: Option<ID>,
    /// Leads from this form (source form, or any submission of it).
    pub form_id: Option<ID>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// Words matched, case-insensitively, against name, email and company.
    pub search: Option<String>,
}

impl LeadFilter {
    fn into_service(self) -> Result<leads::LeadFilter, crate::error::AppError> {
        Ok(leads::LeadFilter {
            source: self.source.map(Into::into),
            campaign_id: self
                .campaign_id
                .as_ref()
                .map(|v| parse_id(v, "campaign"))
                .transpose()?,
            form_id: self
                .form_id
                .as_ref()
                .map(|v| parse_id(v, "form"))
                .transpose()?,
            created_after: self.created_after,
            created_before: self.created_before,
            search: self.search,
        })
    }
}

#[derive(Default)]
pub struct LeadsQuery;

#[Object]
impl LeadsQuery {
    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn leads(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, at most 100 (default 20).")] first: Option<i32>,
        after: Option<String>,
        filter: Option<LeadFilter>,
        order_by: Option<LeadOrder>,
    ) -> Result<LeadConnection> {
        let db = &state(ctx).db;
        let filter = filter.unwrap_or_default().into_service()?;
        let sort = order_by.map_or_else(leads::LeadSort::default, |o| leads::LeadSort {
            field: match o.field {
                LeadOrderField::CreatedAt => leads::LeadSortField::CreatedAt,
                LeadOrderField::UpdatedAt => leads::LeadSortField::UpdatedAt,
                LeadOrderField::LatestSubmissionAt => leads::LeadSortField::LatestSubmissionAt,
                LeadOrderField::Email => leads::LeadSortField::Email,
            },
            descending: o.direction == OrderDirection::Desc,
        });
        let first = paging::page_size(first)?;
        let (page, total) =
            leads::list_leads(db, &filter, sort, first, after.as_deref(), wants_total(ctx)).await?;
        Ok(LeadConnection::from_page(page, total.unwrap_or(-1), Lead))
    }

    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn lead(&self, ctx: &Context<'_>, id: ID) -> Result<Lead> {
        let id = parse_id(&id, "lead")?;
        Ok(Lead(leads::get_lead(&state(ctx).db, id).await?))
    }
}

#[derive(Default)]
pub struct MatchingQuery;

#[Object]
impl MatchingQuery {
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn field_mappings(&self, ctx: &Context<'_>) -> Result<Vec<FieldMapping>> {
        Ok(mappings::list_mappings(&state(ctx).db)
            .await?
            .into_iter()
            .map(FieldMapping)
            .collect())
    }

    /// Questions of the synced forms (consents aside) that no field mapping covers, each over
    /// every form that asks it, most answered first: what to map next.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn unmapped_questions(&self, ctx: &Context<'_>) -> Result<Vec<UnmappedQuestion>> {
        Ok(mappings::unmapped_questions(&state(ctx).db)
            .await?
            .into_iter()
            .map(UnmappedQuestion)
            .collect())
    }

    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn lead_matching_strategies(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<LeadMatchingStrategy>> {
        Ok(strategies::list(&state(ctx).db)
            .await?
            .into_iter()
            .map(LeadMatchingStrategy)
            .collect())
    }

    /// What this strategy would do with the latest `limit` submissions, against the current
    /// leads, without writing anything: try a strategy before activating it.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn preview_lead_matching_strategy(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(default = 20)] limit: i32,
    ) -> Result<Vec<StrategyPreview>> {
        let id = parse_id(&id, "matching strategy")?;
        Ok(preview::preview_strategy(&state(ctx).db, id, limit)
            .await?
            .into_iter()
            .map(StrategyPreview)
            .collect())
    }

    /// `leadsync doctor`: this deployment checked against its LinkedIn app (credentials, public
    /// URL, callback and webhook reachability, redirect URL, API version, secret key, database,
    /// each profile's token). Harmless: nothing is written, no token refreshed.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn doctor(&self, ctx: &Context<'_>) -> Vec<DoctorCheck> {
        let s = state(ctx);
        crate::service::doctor::run(&s.config, Some(&s.db), None)
            .await
            .into_iter()
            .map(DoctorCheck::from)
            .collect()
    }

    /// Everything leadsync holds about one person: every lead whose email or work email matches
    /// `email` under matching's normalization, with submissions and every answer, consents with
    /// their texts, hidden fields, campaigns, forms, journeys and match explanations, as one JSON
    /// document (`format: "leadsync.personal-data/1"`, see docs/personal-data-export.md). For an
    /// erased person it holds no data and says when they were erased.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn export_personal_data(
        &self,
        ctx: &Context<'_>,
        email: String,
    ) -> Result<async_graphql::Json<privacy::PersonalDataExport>> {
        export(ctx, privacy::Subject::Email(email)).await
    }

    /// `exportPersonalData` for one lead.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn export_lead_personal_data(
        &self,
        ctx: &Context<'_>,
        lead_id: ID,
    ) -> Result<async_graphql::Json<privacy::PersonalDataExport>> {
        export(ctx, privacy::Subject::Lead(parse_id(&lead_id, "lead")?)).await
    }

    /// The audit trail, newest first: every write through the API or the CLI, every sync run
    /// and webhook notification, and every personal data export. Entries cannot be changed or
    /// deleted; their details hold no personal data.
    #[graphql(guard = "RoleGuard(SYSTEM)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<AuditLogFilter>,
    ) -> Result<AuditEntryConnection> {
        let f = filter.unwrap_or_default();
        let filter = crate::service::audit::AuditFilter {
            operation: f.operation,
            actor_user_id: f.user_id.map(|id| parse_id(&id, "API user")).transpose()?,
            object_type: f.object_type,
            object_id: f.object_id,
            since: f.since,
            until: f.until,
        };
        let (page, total) =
            crate::service::audit::list(&state(ctx).db, &filter, first, after.as_deref()).await?;
        Ok(AuditEntryConnection::from_page(page, total, AuditEntry))
    }

    /// Accepted and declined answers per consent text of each form (or of `formId`), from the
    /// consent records.
    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn consent_counts(
        &self,
        ctx: &Context<'_>,
        form_id: Option<ID>,
    ) -> Result<Vec<ConsentCount>> {
        let form_id = form_id.map(|id| parse_id(&id, "form")).transpose()?;
        Ok(privacy::consent_counts(&state(ctx).db, form_id)
            .await?
            .into_iter()
            .map(|c| ConsentCount {
                form_id: c.form_id.map(|id| ID(id.to_string())),
                consent_id: c.consent_id,
                text: c.consent_text,
                accepted: c.accepted,
                declined: c.declined,
            })
            .collect())
    }

    /// What `purgeRetention` (or the hourly purge) would remove now under the configured
    /// retention rules.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn retention_preview(&self, ctx: &Context<'_>) -> Result<RetentionReport> {
        use crate::service::retention;
        let db = &state(ctx).db;
        let policy = retention::RetentionPolicy::of(&configuration::get(db).await?);
        Ok(retention::dry_run(db, policy, Utc::now()).await?.into())
    }

    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn integration_configuration(
        &self,
        ctx: &Context<'_>,
    ) -> Result<IntegrationConfiguration> {
        Ok(IntegrationConfiguration(
            configuration::get(&state(ctx).db).await?,
        ))
    }
}

#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// A mutation or CLI command name (`updateLead`), `syncRun` or `webhookNotification`.
    pub operation: Option<String>,
    /// Entries written by this API user.
    pub user_id: Option<ID>,
    /// `Lead`, `LeadMatchingStrategy`, `LinkedInUserProfile`, ...
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    /// Entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Entries before this time.
    pub until: Option<DateTime<Utc>>,
}

#[derive(InputObject, Default)]
pub struct FormSubmissionFilter {
    pub campaign_id: Option<ID>,
    pub form_id: Option<ID>,
    pub account_id: Option<ID>,
    pub lead_id: Option<ID>,
    pub matching_status: Option<MatchingStatus>,
    /// UNPROCESSED, SUCCEEDED or FAILED: find the submissions the pipeline could not process.
    pub processing_state: Option<ProcessingState>,
    /// Ads (SPONSORED) or one of the organic types.
    pub lead_type: Option<LeadType>,
    pub submitted_after: Option<DateTime<Utc>>,
    pub submitted_before: Option<DateTime<Utc>>,
    pub test_lead: Option<bool>,
}

impl FormSubmissionFilter {
    fn into_service(self) -> Result<linkedin::SubmissionFilter, crate::error::AppError> {
        let parse = |v: &Option<ID>, what| v.as_ref().map(|v| parse_id(v, what)).transpose();
        Ok(linkedin::SubmissionFilter {
            campaign_id: parse(&self.campaign_id, "campaign")?,
            form_id: parse(&self.form_id, "form")?,
            account_id: parse(&self.account_id, "account")?,
            lead_id: parse(&self.lead_id, "lead")?,
            matching_status: self.matching_status.map(Into::into),
            processing_state: self.processing_state.map(Into::into),
            lead_type: self.lead_type.map(Into::into),
            submitted_after: self.submitted_after,
            submitted_before: self.submitted_before,
            test_lead: self.test_lead,
        })
    }
}

#[derive(Default)]
pub struct LinkedInQuery;

#[Object]
impl LinkedInQuery {
    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn linked_in_user_profiles(&self, ctx: &Context<'_>) -> Result<Vec<LinkedInUserProfile>> {
        Ok(linkedin::list_profiles(&state(ctx).db)
            .await?
            .into_iter()
            .map(LinkedInUserProfile)
            .collect())
    }

    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn linked_in_user_profile(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<LinkedInUserProfile> {
        let id = parse_id(&id, "LinkedIn user profile")?;
        Ok(LinkedInUserProfile(
            linkedin::get_profile(&state(ctx).db, id).await?,
        ))
    }

    /// One synced form submission.
    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn form_submission(&self, ctx: &Context<'_>, id: ID) -> Result<FormSubmission> {
        let id = parse_id(&id, "form submission")?;
        Ok(FormSubmission::new(
            linkedin::get_submission(&state(ctx).db, id).await?,
        ))
    }

    /// Synced form submissions, newest first.
    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn form_submissions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, at most 100 (default 20).")] first: Option<i32>,
        after: Option<String>,
        filter: Option<FormSubmissionFilter>,
    ) -> Result<FormSubmissionConnection> {
        let db = &state(ctx).db;
        let filter = filter.unwrap_or_default().into_service()?;
        let first = paging::page_size(first)?;
        let node = ctx.look_ahead().field("edges").field("node");
        let joins = linkedin::SubmissionJoins {
            lead: node.field("lead").exists(),
            form: node.field("form").exists(),
            campaign: node.field("campaign").exists(),
            account: node.field("account").exists(),
            answers: node.field("answers").exists() || node.field("consents").exists(),
        };
        let (page, total) = linkedin::list_submissions(
            db,
            &filter,
            first,
            after.as_deref(),
            joins,
            wants_total(ctx),
        )
        .await?;
        Ok(FormSubmissionConnection::from_page(
            page,
            total.unwrap_or(-1),
            |row| FormSubmission::joined(row, joins),
        ))
    }

    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn sync_run(&self, ctx: &Context<'_>, id: ID) -> Result<SyncRun> {
        let id = parse_id(&id, "sync run")?;
        Ok(SyncRun(
            crate::service::connector::get_run(&state(ctx).db, id).await?,
        ))
    }

    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn linked_in_campaigns(&self, ctx: &Context<'_>) -> Result<Vec<Campaign>> {
        Ok(linkedin::list_campaigns(&state(ctx).db)
            .await?
            .into_iter()
            .map(Campaign)
            .collect())
    }

    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn linked_in_forms(&self, ctx: &Context<'_>) -> Result<Vec<Form>> {
        Ok(linkedin::list_forms(&state(ctx).db)
            .await?
            .into_iter()
            .map(Form)
            .collect())
    }

    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn customer_journeys(&self, ctx: &Context<'_>) -> Result<Vec<CustomerJourney>> {
        Ok(linkedin::list_journeys(&state(ctx).db)
            .await?
            .into_iter()
            .map(CustomerJourney)
            .collect())
    }
}

async fn export(
    ctx: &Context<'_>,
    subject: privacy::Subject,
) -> Result<async_graphql::Json<privacy::PersonalDataExport>> {
    let s = state(ctx);
    let key = s
        .config
        .resolve_secret_key()
        .map_err(|e| crate::error::AppError::internal(e.to_string()))?;
    let operation = match subject {
        privacy::Subject::Email(_) => "exportPersonalData",
        privacy::Subject::Lead(_) => "exportLeadPersonalData",
    };
    let viewer = ctx.data_unchecked::<ViewerModel>();
    let actor = crate::service::audit::Actor::User(viewer.user_id);
    Ok(async_graphql::Json(
        privacy::export_recorded(&s.db, &key, &subject, actor, operation).await?,
    ))
}
