//! SeaORM entities for the leadsync lead store (see `docs/data-model.md`).

pub mod api_token;
pub mod api_user;
pub mod api_user_role;
pub mod audit_entry;
pub mod consent_record;
pub mod customer_journey;
pub mod erased_response;
pub mod erased_subject;
pub mod field_mapping;
pub mod form_submission;
pub mod integration_configuration;
pub mod lead;
pub mod lead_type_setting;
pub mod linkedin_account;
pub mod linkedin_campaign;
pub mod linkedin_form;
pub mod linkedin_form_question;
pub mod linkedin_form_version;
pub mod linkedin_profile;
pub mod linkedin_profile_account;
pub mod matching_strategy;
pub mod matching_strategy_field;
pub mod oauth_state;
pub mod submission_answer;
pub mod sync_run;
pub mod webhook_notification;
pub mod webhook_validation;

pub mod prelude {
    pub use super::api_token::Entity as ApiToken;
    pub use super::api_user::Entity as ApiUser;
    pub use super::api_user_role::Entity as ApiUserRole;
    pub use super::audit_entry::Entity as AuditEntry;
    pub use super::consent_record::Entity as ConsentRecord;
    pub use super::customer_journey::Entity as CustomerJourney;
    pub use super::erased_response::Entity as ErasedResponse;
    pub use super::erased_subject::Entity as ErasedSubject;
    pub use super::field_mapping::Entity as FieldMapping;
    pub use super::form_submission::Entity as FormSubmission;
    pub use super::integration_configuration::Entity as IntegrationConfiguration;
    pub use super::lead::Entity as Lead;
    pub use super::lead_type_setting::Entity as LeadTypeSetting;
    pub use super::linkedin_account::Entity as LinkedinAccount;
    pub use super::linkedin_campaign::Entity as LinkedinCampaign;
    pub use super::linkedin_form::Entity as LinkedinForm;
    pub use super::linkedin_form_question::Entity as LinkedinFormQuestion;
    pub use super::linkedin_form_version::Entity as LinkedinFormVersion;
    pub use super::linkedin_profile::Entity as LinkedinProfile;
    pub use super::linkedin_profile_account::Entity as LinkedinProfileAccount;
    pub use super::matching_strategy::Entity as MatchingStrategy;
    pub use super::matching_strategy_field::Entity as MatchingStrategyField;
    pub use super::oauth_state::Entity as OauthState;
    pub use super::submission_answer::Entity as SubmissionAnswer;
    pub use super::sync_run::Entity as SyncRun;
    pub use super::webhook_notification::Entity as WebhookNotification;
    pub use super::webhook_validation::Entity as WebhookValidation;
}
