//! GraphQL object types: thin wrappers over entity models; relations resolve through loaders.

use async_graphql::{Context, Enum, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{
    api_token, api_user, customer_journey, field_mapping, form_submission,
    integration_configuration, lead, linkedin_account, linkedin_campaign, linkedin_form,
    linkedin_form_question, linkedin_profile, matching_strategy, submission_answer,
};

use crate::{
    domain::{self, parse_stored},
    error::AppError,
    graphql::loaders::Loaders,
    service::{
        linkedin::{SubmissionJoins, SubmissionRow},
        matching::mapping_for,
        paging::encode_cursor,
    },
};

pub fn loaders<'a>(ctx: &Context<'a>) -> &'a Loaders {
    ctx.data_unchecked::<Loaders>()
}

/// Parses an `ID` argument; ids are the decimal row ids.
pub fn parse_id(id: &ID, what: &str) -> Result<i64, AppError> {
    id.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| {
        AppError::bad_input(format!("{what} id {:?} is not a valid id", id.as_str()))
    })
}

fn id(value: i64) -> ID {
    ID(value.to_string())
}

// ------------------------------------------------------------------ enums

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::Role")]
pub enum Role {
    SystemAdministrator,
    LeadgenAdministrator,
    LeadgenSalesperson,
    #[graphql(name = "S2S_INBOUND")]
    S2sInbound,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::LeadSource")]
pub enum LeadSource {
    /// "LinkedIn Sponsored Content": a lead gen form on an ad (lead type SPONSORED).
    LinkedinSponsoredContent,
    /// A lead gen form on a LinkedIn company page (lead type COMPANY).
    LinkedinCompanyPage,
    /// A lead gen form on a LinkedIn product page (lead type ORGANIZATION_PRODUCT).
    LinkedinProductPage,
    /// A lead gen form of a LinkedIn event (lead type EVENT).
    LinkedinEvent,
    Manual,
    Import,
    Web,
    Other,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::LeadType")]
pub enum LeadType {
    /// A form on an ad of an ad account.
    Sponsored,
    /// A form on an organization's company page.
    Company,
    /// A form on an organization's product page.
    OrganizationProduct,
    /// A form of an organization's LinkedIn event.
    Event,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::MatchingStatus")]
pub enum MatchingStatus {
    Pending,
    NewLeadCreated,
    UpdatedExistingLead,
    MatchFailed,
    LeadCreationFailed,
    LeadUpdateFailed,
    MatchedNotUpdated,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::ProcessingState")]
pub enum ProcessingState {
    Unprocessed,
    Succeeded,
    Failed,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::OnMatchFail")]
pub enum OnMatchFail {
    CreateNewLead,
    Ignore,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::AuthorizationStatus")]
pub enum AuthorizationStatus {
    NotAuthorized,
    Authorized,
    Expired,
    Reauthorizing,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::ProfileSyncStatus")]
pub enum ProfileSyncStatus {
    NotSyncing,
    SyncingAccounts,
    Active,
    NoAccountsAvailable,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::AccountSyncStatus")]
pub enum AccountSyncStatus {
    Pending,
    Active,
    NotSyncing,
    NoFormsAvailable,
    Forbidden,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::JourneyStatus")]
pub enum JourneyStatus {
    Draft,
    Live,
    Stopped,
}

fn stored<T, G>(value: &str) -> Result<G, AppError>
where
    T: std::str::FromStr<Err = String>,
    G: From<T>,
{
    parse_stored::<T>(value).map(G::from)
}

// ------------------------------------------------------------------ paging

#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

/// Declares a Relay connection and its edge for one node type.
macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ident) => {
        #[derive(SimpleObject)]
        pub struct $edge {
            pub cursor: String,
            pub node: $node,
        }

        #[derive(SimpleObject)]
        pub struct $connection {
            /// Rows matching the filter, over all pages. Exact for `leads` unfiltered or filtered by
            /// one of `source`, `campaignId` or `formId` alone, for `formSubmissions` unfiltered or
            /// filtered by `campaignId` alone, and for a lead's `submissions`. With any other filter
            /// it is counted up to 1,000: a value up to 1,000 is exact, and 1,001 means more than
            /// 1,000.
            pub total_count: i64,
            pub page_info: PageInfo,
            pub edges: Vec<$edge>,
        }

        impl $connection {
            pub fn from_page<M>(
                page: crate::service::paging::Page<M>,
                total_count: i64,
                wrap: impl Fn(M) -> $node,
            ) -> Self {
                let edges: Vec<$edge> = page
                    .items
                    .into_iter()
                    .map(|(cursor, m)| $edge {
                        cursor,
                        node: wrap(m),
                    })
                    .collect();
                Self {
                    total_count,
                    page_info: PageInfo {
                        has_next_page: page.has_next_page,
                        has_previous_page: page.has_previous_page,
                        start_cursor: edges.first().map(|e| e.cursor.clone()),
                        end_cursor: edges.last().map(|e| e.cursor.clone()),
                    },
                    edges,
                }
            }
        }
    };
}

connection!(LeadConnection, LeadEdge, Lead);
connection!(FormSubmissionConnection, FormSubmissionEdge, FormSubmission);
connection!(AuditEntryConnection, AuditEntryEdge, AuditEntry);

/// A consent a person answered: what the form said, in its language, and the answer.
pub struct ConsentRecord(pub entity::consent_record::Model);

#[Object]
impl ConsentRecord {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn lead_id(&self) -> ID {
        id(self.0.lead_id)
    }
    /// The LinkedIn response the answer came with.
    async fn linked_in_response_id(&self) -> &str {
        &self.0.linkedin_response_id
    }
    async fn form(&self, ctx: &Context<'_>) -> Result<Option<Form>> {
        let Some(form_id) = self.0.form_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).form.load_one(form_id).await?.map(Form))
    }
    async fn form_version(&self) -> Option<i64> {
        self.0.form_version
    }
    /// LinkedIn's id of the consent on the form.
    async fn consent_id(&self) -> &str {
        &self.0.consent_id
    }
    /// The consent exactly as the form showed it, in the form's language.
    async fn text(&self) -> &str {
        &self.0.consent_text
    }
    async fn accepted(&self) -> bool {
        self.0.accepted
    }
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.0.submitted_at
    }
}

/// How people answered one consent of one form.
#[derive(SimpleObject)]
pub struct ConsentCount {
    pub form_id: Option<ID>,
    pub consent_id: String,
    pub text: String,
    pub accepted: i64,
    pub declined: i64,
}

/// One audit trail entry.
pub struct AuditEntry(pub entity::audit_entry::Model);

#[Object]
impl AuditEntry {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// `USER` (an API user), `S2S` (the sync worker and LinkedIn's webhooks) or `CLI`.
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// The API user who wrote, for `USER` entries.
    async fn actor_user_id(&self) -> Option<ID> {
        self.0.actor_user_id.map(id)
    }
    /// The mutation or CLI command (`updateLead`, `eraseLead`, ...), `syncRun` or
    /// `webhookNotification`.
    async fn operation(&self) -> &str {
        &self.0.operation
    }
    async fn object_type(&self) -> &str {
        &self.0.object_type
    }
    async fn object_id(&self) -> Option<&str> {
        self.0.object_id.as_deref()
    }
    /// What changed, without personal data: a lead's fields are named, not valued.
    async fn details(&self) -> Option<Json<serde_json::Value>> {
        self.0.details.clone().map(Json)
    }
    /// The sync run or webhook notification a system write belongs to.
    async fn context(&self) -> Option<&str> {
        self.0.context.as_deref()
    }
}

/// Whether the selection asks for `totalCount` (it costs a COUNT query).
pub fn wants_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

// ------------------------------------------------------------------ identity

pub struct User(pub api_user::Model);

#[Object]
impl User {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn roles(&self, ctx: &Context<'_>) -> Result<Vec<Role>> {
        let rows = loaders(ctx)
            .roles_by_user
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        Ok(rows
            .iter()
            .map(|r| stored::<domain::Role, Role>(&r.role))
            .collect::<Result<_, _>>()?)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the user was disabled (its tokens do not work); null while enabled.
    async fn disabled_at(&self) -> Option<DateTime<Utc>> {
        self.0.disabled_at
    }
    /// Every token the user was issued, revoked ones too, newest first (never the token).
    async fn tokens(&self, ctx: &Context<'_>) -> Result<Vec<ApiToken>> {
        Ok(loaders(ctx)
            .tokens_by_user
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(ApiToken)
            .collect())
    }
}

/// An API token, without its value: that is shown once, when issued, and only its hash is
/// stored.
pub struct ApiToken(pub api_token::Model);

#[Object]
impl ApiToken {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the token last authenticated a request, to within a minute; null if never.
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    /// When it was revoked (it no longer works); null while live.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

pub struct Viewer(pub crate::service::users::Viewer);

#[Object]
impl Viewer {
    async fn id(&self) -> ID {
        id(self.0.user_id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn roles(&self) -> Vec<Role> {
        self.0.roles.iter().copied().map(Role::from).collect()
    }
}

/// A user and a token just issued to it (`createUser`, `rotateUserToken`).
#[derive(SimpleObject)]
pub struct CreateUserPayload {
    pub user: User,
    /// The API token: shown once, only its hash is stored.
    pub token: String,
}

// ------------------------------------------------------------------ leads

pub struct Lead(pub lead::Model);

#[Object]
impl Lead {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn first_name(&self) -> Option<&str> {
        self.0.first_name.as_deref()
    }
    async fn last_name(&self) -> Option<&str> {
        self.0.last_name.as_deref()
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn work_email(&self) -> Option<&str> {
        self.0.work_email.as_deref()
    }
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    async fn work_phone(&self) -> Option<&str> {
        self.0.work_phone.as_deref()
    }
    async fn company(&self) -> Option<&str> {
        self.0.company.as_deref()
    }
    async fn job_title(&self) -> Option<&str> {
        self.0.job_title.as_deref()
    }
    async fn job_function(&self) -> Option<&str> {
        self.0.job_function.as_deref()
    }
    async fn seniority(&self) -> Option<&str> {
        self.0.seniority.as_deref()
    }
    async fn industry(&self) -> Option<&str> {
        self.0.industry.as_deref()
    }
    async fn company_size(&self) -> Option<&str> {
        self.0.company_size.as_deref()
    }
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }
    async fn state(&self) -> Option<&str> {
        self.0.state.as_deref()
    }
    async fn city(&self) -> Option<&str> {
        self.0.city.as_deref()
    }
    async fn zip_code(&self) -> Option<&str> {
        self.0.zip_code.as_deref()
    }
    /// Values of mapped custom questions, by key.
    async fn custom_fields(&self) -> Json<serde_json::Value> {
        Json(self.0.custom_fields.clone())
    }
    async fn source(&self) -> Result<LeadSource> {
        Ok(stored::<domain::LeadSource, LeadSource>(&self.0.source)?)
    }
    async fn source_campaign(&self, ctx: &Context<'_>) -> Result<Option<Campaign>> {
        let Some(key) = self.0.source_campaign_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).campaign.load_one(key).await?.map(Campaign))
    }
    async fn source_form(&self, ctx: &Context<'_>) -> Result<Option<Form>> {
        let Some(key) = self.0.source_form_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).form.load_one(key).await?.map(Form))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn latest_submission_at(&self) -> Option<DateTime<Utc>> {
        self.0.latest_submission_at
    }
    async fn submission_count(&self) -> i32 {
        self.0.submission_count
    }
    /// Every consent the person answered on a LinkedIn form, newest first: the proof, kept
    /// after a retention rule removes the submissions' answers.
    async fn consents(&self, ctx: &Context<'_>) -> Result<Vec<ConsentRecord>> {
        Ok(loaders(ctx)
            .consents_by_lead
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(ConsentRecord)
            .collect())
    }
    /// The lead's LinkedIn form submissions with their answers ("LinkedIn Lead Info"), newest first.
    async fn submissions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> Result<FormSubmissionConnection> {
        let first = crate::service::paging::page_size(Some(first))?;
        let mut all = loaders(ctx)
            .submissions_by_lead
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        // Newest first, ties by id as in the submissions list.
        all.sort_by(|a, b| b.submitted_at.cmp(&a.submitted_at).then(b.id.cmp(&a.id)));
        let total = all.len() as i64;
        if let Some(after) = after.as_deref() {
            let cursor = crate::service::paging::decode_time_cursor(after)?;
            all.retain(|s| (s.submitted_at, s.id) < cursor);
        }
        let page = crate::service::paging::into_page(all, first, after.as_deref(), |s| {
            encode_cursor(Some(s.submitted_at.to_rfc3339()), s.id)
        });
        Ok(FormSubmissionConnection::from_page(
            page,
            total,
            FormSubmission::new,
        ))
    }
}

// ------------------------------------------------------------------ submissions

pub struct FormSubmission {
    pub row: form_submission::Model,
    /// To-one relations its page fetched with it (an inner `None`: the row has none); `None`:
    /// not fetched, resolve through the DataLoaders.
    lead: Option<Option<lead::Model>>,
    form: Option<Option<linkedin_form::Model>>,
    campaign: Option<Option<linkedin_campaign::Model>>,
    account: Option<Option<linkedin_account::Model>>,
    answers: Option<Vec<submission_answer::Model>>,
}

impl FormSubmission {
    pub fn new(row: form_submission::Model) -> Self {
        Self {
            row,
            lead: None,
            form: None,
            campaign: None,
            account: None,
            answers: None,
        }
    }

    /// A row of a page that joined the relations in `joins`.
    pub fn joined(row: SubmissionRow, joins: SubmissionJoins) -> Self {
        Self {
            row: row.submission,
            lead: joins.lead.then_some(row.lead),
            form: joins.form.then_some(row.form),
            campaign: joins.campaign.then_some(row.campaign),
            account: joins.account.then_some(row.account),
            answers: row.answers,
        }
    }
}

#[derive(SimpleObject)]
pub struct Answer {
    /// LinkedIn's `questionId`.
    pub question_id: String,
    pub question_text: String,
    pub predefined_field: Option<String>,
    pub value: String,
}

#[derive(SimpleObject)]
pub struct Consent {
    pub consent_id: String,
    pub text: String,
    pub accepted: bool,
}

impl FormSubmission {
    async fn answer_rows(&self, ctx: &Context<'_>) -> Result<Vec<submission_answer::Model>> {
        if let Some(answers) = &self.answers {
            return Ok(answers.clone());
        }
        Ok(loaders(ctx)
            .answers_by_submission
            .load_one(self.row.id)
            .await?
            .unwrap_or_default())
    }
}

#[Object]
impl FormSubmission {
    async fn id(&self) -> ID {
        id(self.row.id)
    }
    /// LinkedIn's lead (form response) id.
    async fn linked_in_id(&self) -> &str {
        &self.row.linkedin_id
    }
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.row.submitted_at
    }
    async fn lead_type(&self) -> &str {
        &self.row.lead_type
    }
    async fn test_lead(&self) -> bool {
        self.row.test_lead
    }
    async fn submitter_urn(&self) -> Option<&str> {
        self.row.submitter_urn.as_deref()
    }
    async fn creative_urn(&self) -> Option<&str> {
        self.row.creative_urn.as_deref()
    }
    async fn form_version(&self) -> Option<i64> {
        self.row.form_version
    }
    async fn matching_status(&self) -> Result<MatchingStatus> {
        Ok(stored::<domain::MatchingStatus, MatchingStatus>(
            &self.row.matching_status,
        )?)
    }
    async fn processing_state(&self) -> Result<ProcessingState> {
        Ok(stored::<domain::ProcessingState, ProcessingState>(
            &self.row.processing_state,
        )?)
    }
    /// One line saying what matching did and why.
    async fn match_explanation(&self) -> Option<&str> {
        self.row.match_explanation.as_deref()
    }
    /// Why processing failed, when it did.
    async fn error(&self) -> Option<&str> {
        self.row.error.as_deref()
    }
    async fn hidden_fields(&self) -> Option<Json<serde_json::Value>> {
        self.row.hidden_fields.clone().map(Json)
    }
    /// The form version this submitter was shown: its privacy policy, consent texts and hidden
    /// fields as LinkedIn served them, kept when the form changes.
    async fn shown_form_version(&self, ctx: &Context<'_>) -> Result<Option<FormVersion>> {
        let (Some(form), Some(version)) = (self.row.form_id, self.row.form_version) else {
            return Ok(None);
        };
        Ok(loaders(ctx)
            .versions_by_form
            .load_one(form)
            .await?
            .unwrap_or_default()
            .into_iter()
            .find(|v| v.version_id == version)
            .map(FormVersion))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    async fn lead(&self, ctx: &Context<'_>) -> Result<Option<Lead>> {
        if let Some(lead) = &self.lead {
            return Ok(lead.clone().map(Lead));
        }
        let Some(key) = self.row.lead_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).lead.load_one(key).await?.map(Lead))
    }
    async fn form(&self, ctx: &Context<'_>) -> Result<Option<Form>> {
        if let Some(form) = &self.form {
            return Ok(form.clone().map(Form));
        }
        let Some(key) = self.row.form_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).form.load_one(key).await?.map(Form))
    }
    async fn campaign(&self, ctx: &Context<'_>) -> Result<Option<Campaign>> {
        if let Some(campaign) = &self.campaign {
            return Ok(campaign.clone().map(Campaign));
        }
        let Some(key) = self.row.campaign_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).campaign.load_one(key).await?.map(Campaign))
    }
    async fn account(&self, ctx: &Context<'_>) -> Result<Option<Account>> {
        if let Some(account) = &self.account {
            return Ok(account.clone().map(Account));
        }
        let Some(key) = self.row.account_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).account.load_one(key).await?.map(Account))
    }
    /// The LinkedIn user profile whose sync pulled this submission.
    async fn profile(&self, ctx: &Context<'_>) -> Result<Option<LinkedInUserProfile>> {
        let Some(key) = self.row.profile_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)
            .profile
            .load_one(key)
            .await?
            .map(LinkedInUserProfile))
    }
    async fn customer_journey(&self, ctx: &Context<'_>) -> Result<Option<CustomerJourney>> {
        let Some(key) = self.row.customer_journey_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)
            .journey
            .load_one(key)
            .await?
            .map(CustomerJourney))
    }
    /// Every answer, in the form's question order.
    async fn answers(&self, ctx: &Context<'_>) -> Result<Vec<Answer>> {
        Ok(self
            .answer_rows(ctx)
            .await?
            .into_iter()
            .filter(|a| !a.is_consent)
            .map(|a| Answer {
                question_id: a.linkedin_question_id,
                question_text: a.question_text,
                predefined_field: a.predefined_field,
                value: a.value,
            })
            .collect())
    }
    async fn consents(&self, ctx: &Context<'_>) -> Result<Vec<Consent>> {
        Ok(self
            .answer_rows(ctx)
            .await?
            .into_iter()
            .filter(|a| a.is_consent)
            .map(|a| Consent {
                consent_id: a.linkedin_question_id,
                text: a.question_text,
                accepted: a.accepted.unwrap_or(false),
            })
            .collect())
    }
}

// ------------------------------------------------------------------ LinkedIn

pub struct Campaign(pub linkedin_campaign::Model);

#[Object(name = "LinkedInCampaign")]
impl Campaign {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn linked_in_id(&self) -> &str {
        &self.0.linkedin_id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    #[graphql(name = "type")]
    async fn campaign_type(&self) -> Option<&str> {
        self.0.campaign_type.as_deref()
    }
    async fn status(&self) -> Option<&str> {
        self.0.status.as_deref()
    }
    async fn start_at(&self) -> Option<DateTime<Utc>> {
        self.0.start_at
    }
    async fn end_at(&self) -> Option<DateTime<Utc>> {
        self.0.end_at
    }
    async fn account(&self, ctx: &Context<'_>) -> Result<Option<Account>> {
        let Some(key) = self.0.account_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).account.load_one(key).await?.map(Account))
    }
    async fn customer_journey(&self, ctx: &Context<'_>) -> Result<Option<CustomerJourney>> {
        Ok(loaders(ctx)
            .journey_by_campaign
            .load_one(self.0.id)
            .await?
            .and_then(|mut v| v.pop())
            .map(CustomerJourney))
    }
}

pub struct Account(pub linkedin_account::Model);

#[Object(name = "LinkedInAccount")]
impl Account {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The ad account's id, or `{organization id}:{TYPE}` for an organization's organic leads.
    async fn linked_in_id(&self) -> &str {
        &self.0.linkedin_id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// SPONSORED for an ad account; an organic type for one organization's leads of that type.
    async fn lead_type(&self) -> Result<LeadType> {
        Ok(stored::<domain::LeadType, LeadType>(&self.0.lead_type)?)
    }
    /// Whose leads these are at LinkedIn: `urn:li:sponsoredAccount:..` or
    /// `urn:li:organization:..`.
    async fn owner_urn(&self) -> String {
        self.0.owner_urn.clone().unwrap_or_else(|| {
            crate::linkedin::model::LeadSourceId::parse(&self.0.linkedin_id).owner_urn()
        })
    }
    async fn currency(&self) -> Option<&str> {
        self.0.currency.as_deref()
    }
    /// LinkedIn's status of the ad account (ACTIVE, ...).
    async fn status(&self) -> Option<&str> {
        self.0.status.as_deref()
    }
    async fn is_test(&self) -> bool {
        self.0.is_test
    }
    async fn enabled_for_sync(&self) -> bool {
        self.0.enabled_for_sync
    }
    async fn sync_status(&self) -> Result<AccountSyncStatus> {
        Ok(stored::<domain::AccountSyncStatus, AccountSyncStatus>(
            &self.0.sync_status,
        )?)
    }
    async fn status_details(&self) -> Option<&str> {
        self.0.status_details.as_deref()
    }
    async fn last_sync_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_sync_at
    }
}

pub struct Form(pub linkedin_form::Model);

pub struct FormQuestion(pub linkedin_form_question::Model);

#[Object]
impl FormQuestion {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// LinkedIn's `questionId` (or consent id).
    async fn linked_in_id(&self) -> &str {
        &self.0.linkedin_question_id
    }
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    /// The question as the form shows it, in the form's locale.
    async fn text(&self) -> &str {
        &self.0.text
    }
    /// TEXT, MULTIPLE_CHOICE or CONSENT.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn predefined_field(&self) -> Option<&str> {
        self.0.predefined_field.as_deref()
    }
    async fn is_custom(&self) -> bool {
        self.0.is_custom
    }
    async fn is_consent(&self) -> bool {
        self.0.is_consent
    }
    /// Multiple-choice options as LinkedIn lists them.
    async fn options(&self) -> Option<Json<serde_json::Value>> {
        self.0.options.clone().map(Json)
    }
}

/// One version of a LinkedIn form as its submitters saw it.
pub struct FormVersion(pub entity::linkedin_form_version::Model);

#[derive(SimpleObject)]
pub struct ConsentText {
    pub consent_id: String,
    pub text: String,
}

#[derive(SimpleObject)]
pub struct HiddenField {
    pub name: String,
    pub value: String,
}

fn json_list<T>(
    value: &Option<serde_json::Value>,
    read: impl Fn(&serde_json::Value) -> Option<T>,
) -> Vec<T> {
    value
        .as_ref()
        .and_then(serde_json::Value::as_array)
        .map(|items| items.iter().filter_map(read).collect())
        .unwrap_or_default()
}

fn text_of(v: &serde_json::Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

#[Object(name = "LinkedInFormVersion")]
impl FormVersion {
    /// LinkedIn's version number of the form.
    async fn version_id(&self) -> i64 {
        self.0.version_id
    }
    async fn privacy_policy_url(&self) -> Option<&str> {
        self.0.privacy_policy_url.as_deref()
    }
    /// The consent texts (`legalInfo.consents`) this version asked to accept.
    async fn consents(&self) -> Vec<ConsentText> {
        json_list(&self.0.consents, |c| {
            Some(ConsentText {
                consent_id: text_of(c, "consentId")?,
                text: text_of(c, "text").unwrap_or_default(),
            })
        })
    }
    /// Static name/value tracking pairs of this version.
    async fn hidden_fields(&self) -> Vec<HiddenField> {
        json_list(&self.0.hidden_fields, |h| {
            Some(HiddenField {
                name: text_of(h, "name")?,
                value: text_of(h, "value").unwrap_or_default(),
            })
        })
    }
    /// When leadsync first read this version from LinkedIn.
    async fn first_seen_at(&self) -> DateTime<Utc> {
        self.0.first_seen_at
    }
}

#[Object(name = "LinkedInForm")]
impl Form {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn linked_in_id(&self) -> &str {
        &self.0.linkedin_id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn headline(&self) -> Option<&str> {
        self.0.headline.as_deref()
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn landing_page_url(&self) -> Option<&str> {
        self.0.landing_page_url.as_deref()
    }
    async fn privacy_policy_url(&self) -> Option<&str> {
        self.0.privacy_policy_url.as_deref()
    }
    /// Every version leadsync has seen, oldest first, with the legal text each showed.
    async fn versions(&self, ctx: &Context<'_>) -> Result<Vec<FormVersion>> {
        Ok(loaders(ctx)
            .versions_by_form
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(FormVersion)
            .collect())
    }
    async fn thank_you_message(&self) -> Option<&str> {
        self.0.thank_you_message.as_deref()
    }
    async fn locale(&self) -> Option<&str> {
        self.0.locale.as_deref()
    }
    async fn version_id(&self) -> Option<i64> {
        self.0.version_id
    }
    async fn status(&self) -> Option<&str> {
        self.0.status.as_deref()
    }
    async fn account(&self, ctx: &Context<'_>) -> Result<Option<Account>> {
        let Some(key) = self.0.account_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).account.load_one(key).await?.map(Account))
    }
    /// Questions and consents, in form order.
    async fn questions(&self, ctx: &Context<'_>) -> Result<Vec<FormQuestion>> {
        Ok(loaders(ctx)
            .questions_by_form
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(FormQuestion)
            .collect())
    }
    /// Questions (not consents) that no field mapping covers: their answers stay on the
    /// submission only.
    async fn unmapped_questions(&self, ctx: &Context<'_>) -> Result<Vec<FormQuestion>> {
        let l = loaders(ctx);
        let mappings = l.mappings.load_one(()).await?.unwrap_or_default();
        let questions = l
            .questions_by_form
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        Ok(questions
            .into_iter()
            .filter(|q| !q.is_consent)
            .filter(|q| {
                mapping_for(
                    &mappings,
                    q.predefined_field.as_deref(),
                    q.name.as_deref(),
                    &q.text,
                )
                .is_none()
            })
            .map(FormQuestion)
            .collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct LinkedInUserProfile(pub linkedin_profile::Model);

#[Object]
impl LinkedInUserProfile {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn authorization_status(&self) -> Result<AuthorizationStatus> {
        Ok(stored::<domain::AuthorizationStatus, AuthorizationStatus>(
            &self.0.authorization_status,
        )?)
    }
    async fn linked_in_member_name(&self) -> Option<&str> {
        self.0.linkedin_member_name.as_deref()
    }
    /// When the access token expires (it is refreshed before then).
    async fn token_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.token_expires_at
    }
    /// When the refresh token ends: the member must authorize again before then.
    async fn refresh_token_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.refresh_token_expires_at
    }
    /// When the member must authorize again: the access token's end when LinkedIn gives this app
    /// no refresh token (60 days), else the refresh token's (365 days from the first consent).
    /// Null while not authorized.
    async fn reauthorize_by(&self) -> Option<DateTime<Utc>> {
        crate::service::health::reauthorization(&self.0).map(|r| r.by)
    }
    /// When LinkedIn last validated the lead webhook this profile's leads arrive through (one
    /// webhook per deployment; LinkedIn validates every 2 hours); null when not in 30 days.
    async fn webhook_last_validated_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(loaders(ctx).last_webhook_validation.load_one(()).await?)
    }
    /// Whether LinkedIn gave this app a refresh token (programmatic refresh).
    async fn has_refresh_token(&self) -> bool {
        self.0.refresh_token_enc.is_some()
    }
    /// Set within 14 days of `reauthorizeBy`, or once the authorization has ended: what to do
    /// (`authorizeLinkedInUserProfile` gives the LinkedIn URL).
    async fn reauthorization_warning(&self) -> Option<String> {
        crate::service::health::profile_warning(&self.0, Utc::now())
    }
    async fn last_sync_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_sync_at
    }
    async fn sync_status(&self) -> Result<ProfileSyncStatus> {
        Ok(stored::<domain::ProfileSyncStatus, ProfileSyncStatus>(
            &self.0.sync_status,
        )?)
    }
    async fn status_details(&self) -> Option<&str> {
        self.0.status_details.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn accounts(&self, ctx: &Context<'_>) -> Result<Vec<Account>> {
        Ok(loaders(ctx)
            .accounts_by_profile
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Account)
            .collect())
    }
}

pub struct CustomerJourney(pub customer_journey::Model);

#[Object]
impl CustomerJourney {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn status(&self) -> Result<JourneyStatus> {
        Ok(stored::<domain::JourneyStatus, JourneyStatus>(
            &self.0.status,
        )?)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn campaign(&self, ctx: &Context<'_>) -> Result<Option<Campaign>> {
        Ok(loaders(ctx)
            .campaign
            .load_one(self.0.campaign_id)
            .await?
            .map(Campaign))
    }
}

// ------------------------------------------------------------------ matching

pub struct FieldMapping(pub field_mapping::Model);

#[Object]
impl FieldMapping {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// A LinkedIn `predefinedField` (EMAIL, ...) or a custom question's name.
    async fn linked_in_field(&self) -> &str {
        &self.0.linkedin_field
    }
    /// The lead field written: `email`, `firstName`, ... or `custom.<key>`.
    async fn lead_field(&self) -> &str {
        &self.0.lead_field
    }
    /// Whether leadsync seeded this mapping.
    async fn is_default(&self) -> bool {
        self.0.is_default
    }
}

/// A question of the synced forms that no field mapping covers: its answers stay on the
/// submissions only.
pub struct UnmappedQuestion(pub crate::service::mappings::UnmappedQuestion);

#[Object]
impl UnmappedQuestion {
    /// What `createFieldMapping`'s `linkedInField` takes to map it: the question's name (its
    /// text when it has none), or its `predefinedField`.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The question as one of the forms shows it (forms in other languages word it their way).
    async fn question_text(&self) -> &str {
        &self.0.question_text
    }
    /// How many forms ask it.
    async fn forms(&self) -> i32 {
        i32::try_from(self.0.forms).unwrap_or(i32::MAX)
    }
    /// How many stored answers it has, over all those forms.
    async fn answers(&self) -> i32 {
        i32::try_from(self.0.answers).unwrap_or(i32::MAX)
    }
}

pub struct LeadMatchingStrategy(pub matching_strategy::Model);

#[Object]
impl LeadMatchingStrategy {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn is_active(&self) -> bool {
        self.0.is_active
    }
    /// Every submission creates its own lead, once per LinkedIn response.
    async fn always_create_lead(&self) -> bool {
        self.0.always_create_lead
    }
    /// The mappings whose values must all match before an existing lead is updated.
    async fn fields(&self, ctx: &Context<'_>) -> Result<Vec<FieldMapping>> {
        Ok(loaders(ctx)
            .strategy_fields
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(FieldMapping)
            .collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub struct IntegrationConfiguration(pub integration_configuration::Model);

#[Object]
impl IntegrationConfiguration {
    /// "Create Journeys for LinkedIn Campaigns".
    async fn create_journeys_for_campaigns(&self) -> bool {
        self.0.create_journeys_for_campaigns
    }
    /// What happens when no lead matches every strategy field.
    async fn on_match_fail(&self) -> Result<OnMatchFail> {
        Ok(stored::<domain::OnMatchFail, OnMatchFail>(
            &self.0.on_match_fail,
        )?)
    }
    async fn sync_interval_seconds(&self) -> i32 {
        self.0.sync_interval_seconds
    }
    async fn create_leads_from_test_leads(&self) -> bool {
        self.0.create_leads_from_test_leads
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// How long leadsync keeps submissions, inactive leads and operational records (each off
    /// by default). The audit trail is kept.
    async fn retention(&self) -> RetentionPolicy {
        RetentionPolicy {
            submissions_days: self.0.retention_submissions_days,
            inactive_leads_days: self.0.retention_inactive_leads_days,
            operational_records_days: self.0.retention_operational_records_days,
        }
    }
    /// Which LinkedIn lead types sync. Sponsored (ads) is on by default; the organic types
    /// (company page, product page, event) are opt-in: they need an approved role on the
    /// organization and bring leads the connector never synced.
    async fn lead_types(&self, ctx: &Context<'_>) -> Result<Vec<LeadTypeSetting>> {
        Ok(
            crate::service::configuration::lead_types(&crate::graphql::state(ctx).db)
                .await?
                .into_iter()
                .filter_map(|s| {
                    Some(LeadTypeSetting {
                        lead_type: s.lead_type.parse::<domain::LeadType>().ok()?.into(),
                        enabled: s.enabled,
                        backfill_days: s.backfill_days,
                        updated_at: s.updated_at,
                    })
                })
                .collect(),
        )
    }
    /// The LinkedIn API version this deployment sends, and where it stands in LinkedIn's year of
    /// support (set by `LINKEDIN_API_VERSION`, not here).
    async fn linked_in_api_version(&self, ctx: &Context<'_>) -> LinkedInApiVersion {
        LinkedInApiVersion::of(&crate::graphql::state(ctx).config)
    }
}

/// The retention rules, in days; null is off.
#[derive(SimpleObject)]
pub struct RetentionPolicy {
    /// Submissions (answers, consents) submitted longer ago are removed; their leads stay.
    pub submissions_days: Option<i32>,
    /// Leads neither changed nor submitting for this long are removed with their submissions.
    pub inactive_leads_days: Option<i32>,
    /// Finished sync runs and handled webhook notifications older than this are removed.
    pub operational_records_days: Option<i32>,
}

/// What a retention purge removed (or, previewed, would remove).
#[derive(SimpleObject)]
pub struct RetentionReport {
    pub submissions: i64,
    pub leads: i64,
    pub sync_runs: i64,
    pub webhook_notifications: i64,
}

impl From<crate::service::retention::PurgeReport> for RetentionReport {
    fn from(r: crate::service::retention::PurgeReport) -> Self {
        Self {
            submissions: r.submissions as i64,
            leads: r.leads as i64,
            sync_runs: r.sync_runs as i64,
            webhook_notifications: r.webhook_notifications as i64,
        }
    }
}

/// Whether one LinkedIn lead type syncs.
#[derive(SimpleObject)]
pub struct LeadTypeSetting {
    pub lead_type: LeadType,
    pub enabled: bool,
    /// How far back a newly found source of this type backfills (LinkedIn keeps ad leads 365
    /// days, some organic ones 90).
    pub backfill_days: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::service::doctor::CheckStatus")]
pub enum DoctorCheckStatus {
    Ok,
    /// Works today, needs attention.
    Warn,
    /// Broken until fixed.
    Fail,
    /// Not checked: something it depends on is missing.
    Skipped,
}

/// One `leadsync doctor` finding.
#[derive(SimpleObject)]
pub struct DoctorCheck {
    /// Stable, for scripts: `linkedin.credentials`, `public_url.webhook`, `profile.3`, ...
    pub name: String,
    pub status: DoctorCheckStatus,
    /// What was found.
    pub detail: String,
    /// What to do about it; empty when nothing.
    pub fix: String,
}

impl From<crate::service::doctor::Check> for DoctorCheck {
    fn from(c: crate::service::doctor::Check) -> Self {
        Self {
            name: c.name,
            status: c.status.into(),
            detail: c.detail,
            fix: c.fix,
        }
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersionStanding {
    /// Supported, more than 60 days from its sunset.
    Active,
    /// Supported, with its sunset within 60 days: move to a newer version.
    SunsetSoon,
    /// Past its sunset: LinkedIn answers 426 to every call.
    Retired,
    /// Not a version LinkedIn has published (yet, or ever).
    Unknown,
}

pub struct LinkedInApiVersion {
    version: crate::linkedin::version::ApiVersion,
    today: chrono::NaiveDate,
}

impl LinkedInApiVersion {
    pub fn of(config: &crate::config::Config) -> Self {
        Self {
            version: config.linkedin.linkedin_api_version,
            today: Utc::now().date_naive(),
        }
    }
}

#[Object]
impl LinkedInApiVersion {
    /// The `LinkedIn-Version` header, YYYYMM.
    async fn version(&self) -> String {
        self.version.to_string()
    }
    /// Whether this is the release's default (checked against LinkedIn on `defaultCheckedOn`).
    async fn is_default(&self) -> bool {
        self.version == crate::linkedin::version::DEFAULT
    }
    /// When the release's default version was last checked against LinkedIn's migration guides.
    async fn default_checked_on(&self) -> chrono::NaiveDate {
        crate::linkedin::version::DEFAULT_CHECKED_ON
            .parse()
            .expect("a valid date")
    }
    /// LinkedIn's published sunset, or the policy's expectation (about a year after its month).
    async fn expected_sunset(&self) -> chrono::NaiveDate {
        self.version
            .sunset(crate::linkedin::version::SUPPORT_MONTHS)
    }
    /// Days from today (UTC) to the expected sunset; negative once past it.
    async fn days_to_sunset(&self) -> i64 {
        (self
            .version
            .sunset(crate::linkedin::version::SUPPORT_MONTHS)
            - self.today)
            .num_days()
    }
    async fn standing(&self) -> ApiVersionStanding {
        use crate::linkedin::version::Standing;
        match self.version.standing(self.today) {
            Standing::Active => ApiVersionStanding::Active,
            Standing::SunsetSoon => ApiVersionStanding::SunsetSoon,
            Standing::Retired => ApiVersionStanding::Retired,
            Standing::Unknown => ApiVersionStanding::Unknown,
        }
    }
    /// What an operator should do, from 60 days before the sunset; null while all is well.
    async fn warning(&self) -> Option<String> {
        crate::linkedin::version::warning(self.version, self.today)
    }
    /// Newer versions LinkedIn's policy has active today, newest first.
    async fn newer_versions(&self) -> Vec<String> {
        self.version
            .newer_active(self.today)
            .into_iter()
            .map(|v| v.to_string())
            .collect()
    }
}

// ------------------------------------------------------------------ lead processing

#[derive(SimpleObject)]
pub struct IngestFailure {
    /// The input element: `responses[3]`, `forms[0]`.
    pub element: String,
    pub linked_in_id: Option<String>,
    pub reason: String,
}

pub struct IngestLinkedInLeadsPayload(pub crate::service::ingest::IngestReport);

#[Object]
impl IngestLinkedInLeadsPayload {
    async fn submissions_created(&self) -> i32 {
        self.0.submissions_created
    }
    /// Responses already stored (by LinkedIn id), or repeated within the call.
    async fn duplicates_skipped(&self) -> i32 {
        self.0.duplicates_skipped
    }
    /// Responses of erased leads: never brought back.
    async fn erased_skipped(&self) -> i32 {
        self.0.erased_skipped
    }
    async fn leads_created(&self) -> i32 {
        self.0.leads_created
    }
    async fn leads_updated(&self) -> i32 {
        self.0.leads_updated
    }
    /// Matched a lead the submission did not change.
    async fn leads_unchanged(&self) -> i32 {
        self.0.leads_unchanged
    }
    /// Submissions kept without a lead (fallback IGNORE, or test leads).
    async fn ignored(&self) -> i32 {
        self.0.ignored
    }
    /// Malformed responses and submissions whose processing failed.
    async fn failed(&self) -> i32 {
        self.0.failed
    }
    async fn failures(&self) -> Vec<IngestFailure> {
        self.0
            .failures
            .iter()
            .map(|f| IngestFailure {
                element: f.element.clone(),
                linked_in_id: f.linkedin_id.clone(),
                reason: f.reason.clone(),
            })
            .collect()
    }
    /// The submissions this call stored, in input order.
    async fn submissions(&self, ctx: &Context<'_>) -> Result<Vec<FormSubmission>> {
        let found = loaders(ctx)
            .submission
            .load_many(self.0.submission_ids.iter().copied())
            .await?;
        Ok(self
            .0
            .submission_ids
            .iter()
            .filter_map(|id| found.get(id).cloned().map(FormSubmission::new))
            .collect())
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum PreviewOutcome {
    UpdateExistingLead,
    CreateNewLead,
    Ignore,
}

pub struct StrategyPreview(pub crate::service::preview::PreviewRow);

#[Object]
impl StrategyPreview {
    async fn submission(&self) -> FormSubmission {
        FormSubmission::new(self.0.submission.clone())
    }
    async fn outcome(&self) -> PreviewOutcome {
        use crate::service::matching::Decision;
        match self.0.decision {
            Decision::Update { .. } => PreviewOutcome::UpdateExistingLead,
            Decision::Create => PreviewOutcome::CreateNewLead,
            Decision::Ignore => PreviewOutcome::Ignore,
        }
    }
    /// The lead the strategy would update.
    async fn lead(&self, ctx: &Context<'_>) -> Result<Option<Lead>> {
        use crate::service::matching::Decision;
        let Decision::Update { lead_id, .. } = self.0.decision else {
            return Ok(None);
        };
        Ok(loaders(ctx).lead.load_one(lead_id).await?.map(Lead))
    }
    async fn explanation(&self) -> &str {
        &self.0.explanation
    }
}

// ------------------------------------------------------------------ sync

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "domain::SyncRunStatus")]
pub enum SyncRunStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

pub struct SyncRun(pub entity::sync_run::Model);

#[Object]
impl SyncRun {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn status(&self) -> Result<SyncRunStatus> {
        Ok(stored::<domain::SyncRunStatus, SyncRunStatus>(
            &self.0.status,
        )?)
    }
    /// MANUAL, SCHEDULED, RESET or AUTHORIZATION.
    async fn trigger(&self) -> &str {
        &self.0.trigger
    }
    async fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
    /// Lead responses read from LinkedIn.
    async fn submissions_fetched(&self) -> i32 {
        self.0.submissions_fetched
    }
    async fn submissions_created(&self) -> i32 {
        self.0.submissions_created
    }
    async fn duplicates_skipped(&self) -> i32 {
        self.0.duplicates_skipped
    }
    async fn leads_created(&self) -> i32 {
        self.0.leads_created
    }
    async fn leads_updated(&self) -> i32 {
        self.0.leads_updated
    }
    async fn failed(&self) -> i32 {
        self.0.failed
    }
    /// Why the run failed.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    async fn profile(&self, ctx: &Context<'_>) -> Result<Option<LinkedInUserProfile>> {
        let Some(key) = self.0.profile_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)
            .profile
            .load_one(key)
            .await?
            .map(LinkedInUserProfile))
    }
}

#[derive(SimpleObject)]
pub struct AuthorizationPayload {
    /// Open this LinkedIn URL; LinkedIn redirects back to leadsync's OAuth callback.
    pub authorization_url: String,
}
