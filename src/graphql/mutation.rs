//! Mutation roots, one object per domain, merged in `graphql::Mutation`.

use async_graphql::{Context, ID, InputObject, Json, MaybeUndefined, Object, Result};

use crate::{
    domain,
    error::AppError,
    graphql::{
        guard::{INBOUND, LEAD_USERS, LEADGEN_ADMIN, RoleGuard, SALESPERSON, SYSTEM},
        state,
        types::*,
    },
    service::{
        audit, configuration, connector, ingest, leads, linkedin, mappings, strategies,
        users::{self, Viewer as ViewerModel},
    },
};
use serde_json::{Value, json};

/// Appends the audit entry of a write the caller just made, after it committed: for work that is
/// not one transaction (syncs, batches, calls to LinkedIn). Other writes use `audited_write`.
/// `details` must hold no personal data (a lead's fields are named, not valued).
pub(crate) async fn audited(
    ctx: &Context<'_>,
    operation: &str,
    object_type: &'static str,
    object_id: Option<i64>,
    details: Value,
) {
    let viewer = ctx.data_unchecked::<ViewerModel>();
    let mut entry = audit::Entry::new(audit::Actor::User(viewer.user_id), operation, object_type);
    if let Some(id) = object_id {
        entry = entry.object(id);
    }
    if !details.is_null() {
        entry = entry.details(details);
    }
    audit::record_or_log(&state(ctx).db, entry).await;
}

/// Begins a write by the viewer whose audit entry commits with it (`AuditedWrite::commit`):
/// the change and its entry are one transaction.
pub(crate) async fn audited_write(ctx: &Context<'_>) -> Result<audit::AuditedWrite> {
    let viewer = ctx.data_unchecked::<ViewerModel>();
    Ok(audit::AuditedWrite::begin(&state(ctx).db, audit::Actor::User(viewer.user_id)).await?)
}

#[derive(InputObject)]
pub struct CreateUserInput {
    pub name: String,
    pub roles: Vec<Role>,
}

#[derive(Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
    /// Creates an API user; the payload carries its token, shown this once.
    #[graphql(guard = "RoleGuard(SYSTEM)")]
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> Result<CreateUserPayload> {
        let roles: Vec<domain::Role> = input.roles.into_iter().map(Into::into).collect();
        let write = audited_write(ctx).await?;
        let created = users::create_user(write.db(), &input.name, &roles).await?;
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        write
            .commit(
                "createUser",
                "ApiUser",
                Some(created.user.id),
                json!({ "roles": names, "token": "issued" }),
            )
            .await?;
        Ok(CreateUserPayload {
            user: User(created.user),
            token: created.token,
        })
    }

    /// Replaces a user's roles (at least one). Nobody removes their own SYSTEM_ADMINISTRATOR
    /// role, and the last enabled system administrator keeps it (CONFLICT). Takes effect at
    /// the user's next request.
    #[graphql(guard = "RoleGuard(SYSTEM)")]
    async fn update_user_roles(&self, ctx: &Context<'_>, id: ID, roles: Vec<Role>) -> Result<User> {
        let id = parse_id(&id, "API user")?;
        let roles: Vec<domain::Role> = roles.into_iter().map(Into::into).collect();
        let write = audited_write(ctx).await?;
        let changed = users::update_roles(write.db(), viewer_id(ctx), id, &roles).await?;
        let names = |roles: &[domain::Role]| roles.iter().map(|r| r.as_str()).collect::<Vec<_>>();
        let details =
            json!({ "roles": names(&changed.after), "previousRoles": names(&changed.before) });
        write
            .commit("updateUserRoles", "ApiUser", Some(id), details)
            .await?;
        state(ctx).viewers.clear();
        Ok(User(changed.user))
    }

    /// Disables a user: its tokens stop working at once. Nobody disables themself, and the
    /// last enabled system administrator stays enabled (CONFLICT).
    #[graphql(guard = "RoleGuard(SYSTEM)")]
    async fn disable_user(&self, ctx: &Context<'_>, id: ID) -> Result<User> {
        let id = parse_id(&id, "API user")?;
        let write = audited_write(ctx).await?;
        let user = users::disable_user(write.db(), viewer_id(ctx), id).await?;
        write
            .commit("disableUser", "ApiUser", Some(id), Value::Null)
            .await?;
        state(ctx).viewers.clear();
        Ok(User(user))
    }

    /// Enables a disabled user: its live (unrevoked) tokens work again.
    #[graphql(guard = "RoleGuard(SYSTEM)")]
    async fn enable_user(&self, ctx: &Context<'_>, id: ID) -> Result<User> {
        let id = parse_id(&id, "API user")?;
        let write = audited_write(ctx).await?;
        let user = users::enable_user(write.db(), id).await?;
        write
            .commit("enableUser", "ApiUser", Some(id), Value::Null)
            .await?;
        state(ctx).viewers.clear();
        Ok(User(user))
    }

    /// Revokes a token for good: it stops working at once. The last live token of the last
    /// enabled system administrator is kept (CONFLICT; rotate it instead).
    #[graphql(guard = "RoleGuard(SYSTEM)")]
    async fn revoke_api_token(&self, ctx: &Context<'_>, id: ID) -> Result<ApiToken> {
        let id = parse_id(&id, "API token")?;
        let write = audited_write(ctx).await?;
        let token = users::revoke_token(write.db(), id).await?;
        let details = json!({ "userId": token.user_id });
        write
            .commit("revokeApiToken", "ApiToken", Some(id), details)
            .await?;
        state(ctx).viewers.clear();
        Ok(ApiToken(token))
    }

    /// Revokes every live token of the user and issues one new token, shown this once in the
    /// payload.
    #[graphql(guard = "RoleGuard(SYSTEM)")]
    async fn rotate_user_token(&self, ctx: &Context<'_>, user_id: ID) -> Result<CreateUserPayload> {
        let id = parse_id(&user_id, "API user")?;
        let write = audited_write(ctx).await?;
        let rotated = users::rotate_token(write.db(), id).await?;
        let details = json!({ "tokensRevoked": rotated.revoked, "token": "issued" });
        write
            .commit("rotateUserToken", "ApiUser", Some(id), details)
            .await?;
        state(ctx).viewers.clear();
        Ok(CreateUserPayload {
            user: User(rotated.user),
            token: rotated.token,
        })
    }
}

/// The caller's API user id.
fn viewer_id(ctx: &Context<'_>) -> i64 {
    ctx.data_unchecked::<ViewerModel>().user_id
}

/// Lead values. On update, an omitted field stays as it is and `null` clears it.
#[derive(InputObject, Default)]
pub struct LeadFields {
    pub first_name: MaybeUndefined<String>,
    pub last_name: MaybeUndefined<String>,
    pub email: MaybeUndefined<String>,
    pub work_email: MaybeUndefined<String>,
    pub phone: MaybeUndefined<String>,
    pub work_phone: MaybeUndefined<String>,
    pub company: MaybeUndefined<String>,
    pub job_title: MaybeUndefined<String>,
    pub job_function: MaybeUndefined<String>,
    pub seniority: MaybeUndefined<String>,
    pub industry: MaybeUndefined<String>,
    pub company_size: MaybeUndefined<String>,
    pub country: MaybeUndefined<String>,
    pub state: MaybeUndefined<String>,
    pub city: MaybeUndefined<String>,
    pub zip_code: MaybeUndefined<String>,
    /// A JSON object that replaces the custom fields.
    pub custom_fields: MaybeUndefined<Json<serde_json::Value>>,
}

fn change(v: MaybeUndefined<String>) -> Option<Option<String>> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(s) => Some(Some(s)),
    }
}

impl LeadFields {
    /// The fields this input sets or clears, by GraphQL name (for the audit trail: which
    /// personal fields changed, never their values).
    fn named(&self) -> Vec<&'static str> {
        let set = |v: &MaybeUndefined<String>| !v.is_undefined();
        [
            ("firstName", set(&self.first_name)),
            ("lastName", set(&self.last_name)),
            ("email", set(&self.email)),
            ("workEmail", set(&self.work_email)),
            ("phone", set(&self.phone)),
            ("workPhone", set(&self.work_phone)),
            ("company", set(&self.company)),
            ("jobTitle", set(&self.job_title)),
            ("jobFunction", set(&self.job_function)),
            ("seniority", set(&self.seniority)),
            ("industry", set(&self.industry)),
            ("companySize", set(&self.company_size)),
            ("country", set(&self.country)),
            ("state", set(&self.state)),
            ("city", set(&self.city)),
            ("zipCode", set(&self.zip_code)),
            ("customFields", !self.custom_fields.is_undefined()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    fn into_changes(self) -> Result<leads::LeadChanges, AppError> {
        let custom_fields = match self.custom_fields {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(serde_json::Map::new()),
            MaybeUndefined::Value(Json(serde_json::Value::Object(map))) => Some(map),
            MaybeUndefined::Value(_) => {
                return Err(AppError::bad_input("customFields must be a JSON object"));
            }
        };
        Ok(leads::LeadChanges {
            first_name: change(self.first_name),
            last_name: change(self.last_name),
            email: change(self.email),
            work_email: change(self.work_email),
            phone: change(self.phone),
            work_phone: change(self.work_phone),
            company: change(self.company),
            job_title: change(self.job_title),
            job_function: change(self.job_function),
            seniority: change(self.seniority),
            industry: change(self.industry),
            company_size: change(self.company_size),
            country: change(self.country),
            state: change(self.state),
            city: change(self.city),
            zip_code: change(self.zip_code),
            custom_fields,
        })
    }
}

#[derive(InputObject)]
pub struct CreateLeadInput {
    #[graphql(flatten)]
    pub fields: LeadFields,
    /// Where the lead came from; MANUAL when omitted.
    pub source: Option<LeadSource>,
}

#[derive(InputObject)]
pub struct UpdateLeadInput {
    #[graphql(flatten)]
    pub fields: LeadFields,
}

#[derive(Default)]
pub struct LeadsMutation;

#[Object]
impl LeadsMutation {
    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn create_lead(&self, ctx: &Context<'_>, input: CreateLeadInput) -> Result<Lead> {
        let source = input.source.map_or(domain::LeadSource::Manual, Into::into);
        let fields = input.fields.named();
        let changes = input.fields.into_changes()?;
        let write = audited_write(ctx).await?;
        let lead = leads::create_lead(write.db(), changes, source).await?;
        let details = json!({ "fieldsSet": fields, "source": source.as_str() });
        write
            .commit("createLead", "Lead", Some(lead.id), details)
            .await?;
        Ok(Lead(lead))
    }

    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn update_lead(&self, ctx: &Context<'_>, id: ID, input: UpdateLeadInput) -> Result<Lead> {
        let id = parse_id(&id, "lead")?;
        let fields = input.fields.named();
        let changes = input.fields.into_changes()?;
        let write = audited_write(ctx).await?;
        let lead = leads::update_lead(write.db(), id, changes).await?;
        let details = json!({ "fieldsChanged": fields });
        write
            .commit("updateLead", "Lead", Some(id), details)
            .await?;
        Ok(Lead(lead))
    }

    /// Deletes the lead and returns it; its submissions stay, unlinked.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn delete_lead(&self, ctx: &Context<'_>, id: ID) -> Result<Lead> {
        let id = parse_id(&id, "lead")?;
        let write = audited_write(ctx).await?;
        let lead = leads::delete_lead(write.db(), id).await?;
        write
            .commit("deleteLead", "Lead", Some(id), Value::Null)
            .await?;
        Ok(Lead(lead))
    }
}

#[derive(InputObject)]
pub struct CreateFieldMappingInput {
    /// A LinkedIn `predefinedField` or a custom question's name as the form shows it.
    pub linked_in_field: String,
    /// A lead field (`email`, `jobTitle`, ...) or `custom.<key>`.
    pub lead_field: String,
}

#[derive(InputObject)]
pub struct CreateLeadMatchingStrategyInput {
    pub name: String,
    #[graphql(default = false)]
    pub always_create_lead: bool,
}

/// What to change on a strategy; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateLeadMatchingStrategyInput {
    /// 1 to 200 characters, unique among strategies.
    pub name: Option<String>,
    /// Every submission creates its own lead. The active strategy turns it off only if it has
    /// a field to match on.
    pub always_create_lead: Option<bool>,
}

#[derive(InputObject)]
pub struct UpdateIntegrationConfigurationInput {
    pub create_journeys_for_campaigns: Option<bool>,
    pub on_match_fail: Option<OnMatchFail>,
    pub sync_interval_seconds: Option<i32>,
    pub create_leads_from_test_leads: Option<bool>,
    /// Lead types to turn on or off, or whose backfill window to change; the others stay.
    pub lead_types: Option<Vec<LeadTypeSettingInput>>,
    /// Retention rules to set (days) or turn off (null); omitted ones stay.
    pub retention: Option<RetentionPolicyInput>,
}

/// Retention rules, in days (1 to 3650); null turns a rule off, an omitted one stays.
#[derive(InputObject, Default)]
pub struct RetentionPolicyInput {
    /// Remove submissions (answers, consents) submitted longer ago; their leads stay.
    pub submissions_days: MaybeUndefined<i32>,
    /// Remove leads neither changed nor submitting for this long, with their submissions.
    pub inactive_leads_days: MaybeUndefined<i32>,
    /// Remove finished sync runs and handled webhook notifications older than this.
    pub operational_records_days: MaybeUndefined<i32>,
}

fn rule(v: MaybeUndefined<i32>) -> Option<Option<i32>> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(d) => Some(Some(d)),
    }
}

#[derive(InputObject)]
pub struct LeadTypeSettingInput {
    pub lead_type: LeadType,
    pub enabled: Option<bool>,
    /// How far back a newly found source of this type backfills, 1 to 365 days.
    pub backfill_days: Option<i32>,
}

#[derive(Default)]
pub struct MatchingMutation;

#[Object]
impl MatchingMutation {
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn create_field_mapping(
        &self,
        ctx: &Context<'_>,
        input: CreateFieldMappingInput,
    ) -> Result<FieldMapping> {
        let write = audited_write(ctx).await?;
        let m =
            mappings::create_mapping(write.db(), &input.linked_in_field, &input.lead_field).await?;
        let details = json!({ "linkedInField": m.linkedin_field, "leadField": m.lead_field });
        write
            .commit("createFieldMapping", "FieldMapping", Some(m.id), details)
            .await?;
        Ok(FieldMapping(m))
    }

    /// Deletes a mapping no strategy uses and returns it.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn delete_field_mapping(&self, ctx: &Context<'_>, id: ID) -> Result<FieldMapping> {
        let id = parse_id(&id, "field mapping")?;
        let write = audited_write(ctx).await?;
        let m = mappings::delete_mapping(write.db(), id).await?;
        let details = json!({ "linkedInField": m.linkedin_field, "leadField": m.lead_field });
        write
            .commit("deleteFieldMapping", "FieldMapping", Some(id), details)
            .await?;
        Ok(FieldMapping(m))
    }

    /// Creates an inactive strategy; add fields, then activate it.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn create_lead_matching_strategy(
        &self,
        ctx: &Context<'_>,
        input: CreateLeadMatchingStrategyInput,
    ) -> Result<LeadMatchingStrategy> {
        let write = audited_write(ctx).await?;
        let s = strategies::create(write.db(), &input.name, input.always_create_lead).await?;
        let details = json!({ "name": s.name, "alwaysCreateLead": s.always_create_lead });
        write
            .commit(
                "createLeadMatchingStrategy",
                "LeadMatchingStrategy",
                Some(s.id),
                details,
            )
            .await?;
        Ok(LeadMatchingStrategy(s))
    }

    /// Renames a strategy or changes `alwaysCreateLead`.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn update_lead_matching_strategy(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateLeadMatchingStrategyInput,
    ) -> Result<LeadMatchingStrategy> {
        let id = parse_id(&id, "matching strategy")?;
        let changes = strategies::StrategyChanges {
            name: input.name,
            always_create_lead: input.always_create_lead,
        };
        let write = audited_write(ctx).await?;
        let s = strategies::update(write.db(), id, &changes).await?;
        let mut details = serde_json::Map::new();
        if changes.name.is_some() {
            details.insert("name".into(), json!(s.name));
        }
        if let Some(always) = changes.always_create_lead {
            details.insert("alwaysCreateLead".into(), json!(always));
        }
        write
            .commit(
                "updateLeadMatchingStrategy",
                "LeadMatchingStrategy",
                Some(id),
                Value::Object(details),
            )
            .await?;
        Ok(LeadMatchingStrategy(s))
    }

    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn add_strategy_field(
        &self,
        ctx: &Context<'_>,
        strategy_id: ID,
        linked_in_field: String,
    ) -> Result<LeadMatchingStrategy> {
        let id = parse_id(&strategy_id, "matching strategy")?;
        let write = audited_write(ctx).await?;
        let s = strategies::add_field(write.db(), id, &linked_in_field).await?;
        let details = json!({ "linkedInField": linked_in_field });
        write
            .commit(
                "addStrategyField",
                "LeadMatchingStrategy",
                Some(id),
                details,
            )
            .await?;
        Ok(LeadMatchingStrategy(s))
    }

    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn remove_strategy_field(
        &self,
        ctx: &Context<'_>,
        strategy_id: ID,
        linked_in_field: String,
    ) -> Result<LeadMatchingStrategy> {
        let id = parse_id(&strategy_id, "matching strategy")?;
        let write = audited_write(ctx).await?;
        let s = strategies::remove_field(write.db(), id, &linked_in_field).await?;
        let details = json!({ "linkedInField": linked_in_field });
        write
            .commit(
                "removeStrategyField",
                "LeadMatchingStrategy",
                Some(id),
                details,
            )
            .await?;
        Ok(LeadMatchingStrategy(s))
    }

    /// Makes this the active strategy; the previously active one is deactivated.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn activate_strategy(&self, ctx: &Context<'_>, id: ID) -> Result<LeadMatchingStrategy> {
        let id = parse_id(&id, "matching strategy")?;
        let write = audited_write(ctx).await?;
        let s = strategies::activate(write.db(), id).await?;
        write
            .commit(
                "activateStrategy",
                "LeadMatchingStrategy",
                Some(id),
                Value::Null,
            )
            .await?;
        Ok(LeadMatchingStrategy(s))
    }

    /// Deletes an inactive strategy and returns it.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn delete_lead_matching_strategy(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<LeadMatchingStrategy> {
        let id = parse_id(&id, "matching strategy")?;
        let write = audited_write(ctx).await?;
        let s = strategies::delete(write.db(), id).await?;
        let details = json!({ "name": s.name });
        write
            .commit(
                "deleteLeadMatchingStrategy",
                "LeadMatchingStrategy",
                Some(id),
                details,
            )
            .await?;
        Ok(LeadMatchingStrategy(s))
    }

    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn update_integration_configuration(
        &self,
        ctx: &Context<'_>,
        input: UpdateIntegrationConfigurationInput,
    ) -> Result<IntegrationConfiguration> {
        let retention = input.retention.unwrap_or_default();
        let changes = configuration::ConfigurationChanges {
            retention_submissions_days: rule(retention.submissions_days),
            retention_inactive_leads_days: rule(retention.inactive_leads_days),
            retention_operational_records_days: rule(retention.operational_records_days),
            create_journeys_for_campaigns: input.create_journeys_for_campaigns,
            on_match_fail: input.on_match_fail.map(Into::into),
            sync_interval_seconds: input.sync_interval_seconds,
            create_leads_from_test_leads: input.create_leads_from_test_leads,
            lead_types: input
                .lead_types
                .unwrap_or_default()
                .into_iter()
                .map(|t| configuration::LeadTypeChange {
                    lead_type: t.lead_type.into(),
                    enabled: t.enabled,
                    backfill_days: t.backfill_days,
                })
                .collect(),
        };
        let details = json!({
            "createJourneysForCampaigns": changes.create_journeys_for_campaigns,
            "onMatchFail": changes.on_match_fail.map(|v| v.as_str()),
            "syncIntervalSeconds": changes.sync_interval_seconds,
            "createLeadsFromTestLeads": changes.create_leads_from_test_leads,
            "retention": {
                "submissionsDays": changes.retention_submissions_days,
                "inactiveLeadsDays": changes.retention_inactive_leads_days,
                "operationalRecordsDays": changes.retention_operational_records_days,
            },
            "leadTypes": changes.lead_types.iter().map(|t| json!({
                "leadType": t.lead_type.as_str(),
                "enabled": t.enabled,
                "backfillDays": t.backfill_days,
            })).collect::<Vec<_>>(),
        });
        let write = audited_write(ctx).await?;
        let updated = configuration::update(write.db(), changes).await?;
        write
            .commit(
                "updateIntegrationConfiguration",
                "IntegrationConfiguration",
                Some(updated.id),
                details,
            )
            .await?;
        Ok(IntegrationConfiguration(updated))
    }
}

#[derive(InputObject)]
pub struct CreateLinkedInUserProfileInput {
    pub name: String,
}

#[derive(Default)]
pub struct LinkedInMutation;

#[Object]
impl LinkedInMutation {
    /// Creates a LinkedIn user profile, not yet authorized.
    #[graphql(guard = "RoleGuard(SALESPERSON)")]
    async fn create_linked_in_user_profile(
        &self,
        ctx: &Context<'_>,
        input: CreateLinkedInUserProfileInput,
    ) -> Result<LinkedInUserProfile> {
        let viewer = ctx.data_unchecked::<ViewerModel>();
        let write = audited_write(ctx).await?;
        let p = linkedin::create_profile(write.db(), &input.name, viewer.user_id).await?;
        let details = json!({ "name": p.name });
        write
            .commit(
                "createLinkedInUserProfile",
                "LinkedInUserProfile",
                Some(p.id),
                details,
            )
            .await?;
        Ok(LinkedInUserProfile(p))
    }
}

#[derive(InputObject)]
pub struct IngestLinkedInLeadsInput {
    /// `leadForms` elements, as LinkedIn returns them (at most 200).
    #[graphql(default)]
    pub forms: Vec<Json<serde_json::Value>>,
    /// `leadFormResponses` elements, as LinkedIn returns them (at most 1,000).
    pub responses: Vec<Json<serde_json::Value>>,
}

#[derive(Default)]
pub struct ProcessingMutation;

#[Object]
impl ProcessingMutation {
    /// The server-to-server inbound door: LinkedIn leads in LinkedIn's own JSON go through the
    /// same pipeline as synced ones. Malformed elements are reported in `failures`; the rest of
    /// the batch is processed.
    #[graphql(guard = "RoleGuard(INBOUND)")]
    async fn ingest_linked_in_leads(
        &self,
        ctx: &Context<'_>,
        input: IngestLinkedInLeadsInput,
    ) -> Result<IngestLinkedInLeadsPayload> {
        let s = state(ctx);
        let request = ingest::IngestRequest {
            forms: input.forms.into_iter().map(|j| j.0).collect(),
            responses: input.responses.into_iter().map(|j| j.0).collect(),
            profile_id: None,
            cursor: None,
        };
        let (forms, responses) = (request.forms.len(), request.responses.len());
        let report = ingest::ingest(&s.db, &s.bus, request).await?;
        let details = json!({
            "forms": forms,
            "responses": responses,
            "submissionsCreated": report.submissions_created,
            "leadsCreated": report.leads_created,
            "leadsUpdated": report.leads_updated,
        });
        audited(ctx, "ingestLinkedInLeads", "FormSubmission", None, details).await;
        Ok(IngestLinkedInLeadsPayload(report))
    }

    /// Applies the retention rules of the integration configuration now (they also run hourly)
    /// and returns what went; `retentionPreview` says the same beforehand.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn purge_retention(&self, ctx: &Context<'_>) -> Result<RetentionReport> {
        let viewer = ctx.data_unchecked::<ViewerModel>();
        let actor = audit::Actor::User(viewer.user_id);
        let report = crate::service::retention::run_configured(
            &state(ctx).db,
            chrono::Utc::now(),
            actor,
            "purgeRetention",
        )
        .await?;
        Ok(report.into())
    }

    /// Erases a lead with its submissions and answers; its LinkedIn responses are remembered so
    /// that no later sync brings the person back. Returns the erased lead.
    #[graphql(guard = "RoleGuard(LEADGEN_ADMIN)")]
    async fn erase_lead(&self, ctx: &Context<'_>, id: ID) -> Result<Lead> {
        let id = parse_id(&id, "lead")?;
        let viewer = ctx.data_unchecked::<ViewerModel>();
        let s = state(ctx);
        let key = s
            .config
            .resolve_secret_key()
            .map_err(|e| AppError::internal(e.to_string()))?;
        let write = audited_write(ctx).await?;
        let (lead, submissions) =
            leads::erase_lead(write.db(), &key, id, Some(viewer.user_id)).await?;
        // The fact, not the person: the lead id and how many submissions went with it.
        let details = json!({ "submissionsErased": submissions });
        write.commit("eraseLead", "Lead", Some(id), details).await?;
        Ok(Lead(lead))
    }
}

#[derive(InputObject)]
pub struct UpdateLinkedInAccountInput {
    pub enabled_for_sync: Option<bool>,
}

#[derive(Default)]
pub struct ConnectorMutation;

#[Object]
impl ConnectorMutation {
    /// The LinkedIn URL that authorizes this profile (OAuth 2.0 with PKCE; the state is single
    /// use, bound to the profile, and expires in 30 minutes).
    #[graphql(guard = "RoleGuard(SALESPERSON)")]
    async fn authorize_linked_in_user_profile(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<AuthorizationPayload> {
        let id = parse_id(&id, "LinkedIn user profile")?;
        let viewer = ctx.data_unchecked::<ViewerModel>();
        let url = state(ctx)
            .connector
            .authorization_url(id, Some(viewer.user_id))
            .await?;
        audited(
            ctx,
            "authorizeLinkedInUserProfile",
            "LinkedInUserProfile",
            Some(id),
            Value::Null,
        )
        .await;
        Ok(AuthorizationPayload {
            authorization_url: url,
        })
    }

    #[graphql(guard = "RoleGuard(SALESPERSON)")]
    async fn update_linked_in_account(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateLinkedInAccountInput,
    ) -> Result<Account> {
        let id = parse_id(&id, "LinkedIn account")?;
        let account = state(ctx)
            .connector
            .set_account_enabled(id, input.enabled_for_sync)
            .await?;
        let details = json!({ "enabledForSync": input.enabled_for_sync });
        audited(
            ctx,
            "updateLinkedInAccount",
            "LinkedInAccount",
            Some(id),
            details,
        )
        .await;
        Ok(Account(account))
    }

    /// Syncs the profile now; returns the run at once (it may finish later: read `syncRun`).
    #[graphql(guard = "RoleGuard(SALESPERSON)")]
    async fn sync_submissions(&self, ctx: &Context<'_>, profile_id: ID) -> Result<SyncRun> {
        let id = parse_id(&profile_id, "LinkedIn user profile")?;
        let run = state(ctx)
            .connector
            .queue_sync(id, connector::Trigger::Manual)
            .await?;
        let details = json!({ "syncRunId": run.id.to_string() });
        audited(
            ctx,
            "syncSubmissions",
            "LinkedInUserProfile",
            Some(id),
            details,
        )
        .await;
        Ok(SyncRun(run))
    }

    /// Re-reads the whole 365-day retention window of the profile's accounts; earlier
    /// submissions and their matches stay (duplicates are skipped by LinkedIn id).
    #[graphql(guard = "RoleGuard(SALESPERSON)")]
    async fn reset_synchronization(&self, ctx: &Context<'_>, profile_id: ID) -> Result<SyncRun> {
        let id = parse_id(&profile_id, "LinkedIn user profile")?;
        let run = state(ctx).connector.reset(id).await?;
        let details = json!({ "syncRunId": run.id.to_string() });
        audited(
            ctx,
            "resetSynchronization",
            "LinkedInUserProfile",
            Some(id),
            details,
        )
        .await;
        Ok(SyncRun(run))
    }
}
