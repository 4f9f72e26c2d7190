//! DataLoaders: every relation is fetched in one statement per batch, never one per row.

use std::{collections::HashMap, marker::PhantomData};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{
    api_token, api_user_role, customer_journey, field_mapping, form_submission, lead,
    linkedin_account, linkedin_campaign, linkedin_form, linkedin_form_question, linkedin_profile,
    submission_answer,
};
use sea_orm::{DatabaseConnection, EntityTrait};

use crate::{
    error::AppError,
    service::{batch, linkedin, mappings, strategies},
};

/// Rows of `E` by primary key.
pub struct ById<E> {
    db: DatabaseConnection,
    _entity: PhantomData<fn() -> E>,
}

impl<E: EntityTrait> Loader<i64> for ById<E>
where
    E::Model: Sync,
{
    type Value = E::Model;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, E::Model>, AppError> {
        batch::by_ids::<E>(&self.db, keys).await
    }
}

/// Rows of `E` grouped by a foreign key column, each group ordered.
pub struct Grouped<E: EntityTrait> {
    db: DatabaseConnection,
    column: E::Column,
    order: E::Column,
    descending: bool,
}

impl<E: EntityTrait> Loader<i64> for Grouped<E>
where
    E::Model: Sync,
{
    type Value = Vec<E::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Vec<E::Model>>, AppError> {
        batch::grouped_by::<E>(&self.db, self.column, keys, self.order, self.descending).await
    }
}

pub struct AccountsByProfile(DatabaseConnection);

impl Loader<i64> for AccountsByProfile {
    type Value = Vec<linkedin_account::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, AppError> {
        linkedin::accounts_by_profile(&self.0, keys).await
    }
}

pub struct StrategyFields(DatabaseConnection);

impl Loader<i64> for StrategyFields {
    type Value = Vec<field_mapping::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, AppError> {
        strategies::fields_by_strategy(&self.0, keys).await
    }
}

/// All field mappings (a small configuration set), loaded once per batch.
pub struct AllMappings(DatabaseConnection);

impl Loader<()> for AllMappings {
    type Value = Vec<field_mapping::Model>;
    type Error = AppError;

    async fn load(&self, _: &[()]) -> Result<HashMap<(), Self::Value>, AppError> {
        Ok(HashMap::from([(
            (),
            mappings::list_mappings(&self.0).await?,
        )]))
    }
}

/// When LinkedIn last validated the webhook: one value for every profile of a page.
pub struct LastWebhookValidation(DatabaseConnection);

impl Loader<()> for LastWebhookValidation {
    type Value = chrono::DateTime<chrono::Utc>;
    type Error = AppError;

    async fn load(&self, _: &[()]) -> Result<HashMap<(), Self::Value>, AppError> {
        Ok(crate::service::webhooks::last_validated_at(&self.0)
            .await?
            .map(|at| ((), at))
            .into_iter()
            .collect())
    }
}

pub struct Loaders {
    pub lead: DataLoader<ById<lead::Entity>>,
    pub campaign: DataLoader<ById<linkedin_campaign::Entity>>,
    pub form: DataLoader<ById<linkedin_form::Entity>>,
    pub account: DataLoader<ById<linkedin_account::Entity>>,
    pub profile: DataLoader<ById<linkedin_profile::Entity>>,
    pub journey: DataLoader<ById<customer_journey::Entity>>,
    pub submission: DataLoader<ById<form_submission::Entity>>,
    pub submissions_by_lead: DataLoader<Grouped<form_submission::Entity>>,
    pub answers_by_submission: DataLoader<Grouped<submission_answer::Entity>>,
    pub questions_by_form: DataLoader<Grouped<linkedin_form_question::Entity>>,
    pub journey_by_campaign: DataLoader<Grouped<customer_journey::Entity>>,
    pub roles_by_user: DataLoader<Grouped<api_user_role::Entity>>,
    pub tokens_by_user: DataLoader<Grouped<api_token::Entity>>,
    pub accounts_by_profile: DataLoader<AccountsByProfile>,
    pub strategy_fields: DataLoader<StrategyFields>,
    pub mappings: DataLoader<AllMappings>,
    pub last_webhook_validation: DataLoader<LastWebhookValidation>,
    pub versions_by_form: DataLoader<Grouped<entity::linkedin_form_version::Entity>>,
    pub consents_by_lead: DataLoader<Grouped<entity::consent_record::Entity>>,
}

impl Loaders {
    pub fn new(db: &DatabaseConnection) -> Self {
        fn by_id<E: EntityTrait>(db: &DatabaseConnection) -> DataLoader<ById<E>>
        where
            E::Model: Sync,
        {
            let loader = ById {
                db: db.clone(),
                _entity: PhantomData,
            };
            DataLoader::new(loader, tokio::spawn)
        }
        fn grouped<E: EntityTrait>(
            db: &DatabaseConnection,
            column: E::Column,
            order: E::Column,
            descending: bool,
        ) -> DataLoader<Grouped<E>>
        where
            E::Model: Sync,
        {
            let loader = Grouped::<E> {
                db: db.clone(),
                column,
                order,
                descending,
            };
            DataLoader::new(loader, tokio::spawn)
        }
        Self {
            lead: by_id(db),
            campaign: by_id(db),
            form: by_id(db),
            account: by_id(db),
            profile: by_id(db),
            journey: by_id(db),
            submission: by_id(db),
            submissions_by_lead: grouped(
                db,
                form_submission::Column::LeadId,
                form_submission::Column::SubmittedAt,
                true,
            ),
            answers_by_submission: grouped(
                db,
                submission_answer::Column::SubmissionId,
                submission_answer::Column::Position,
                false,
            ),
            questions_by_form: grouped(
                db,
                linkedin_form_question::Column::FormId,
                linkedin_form_question::Column::Position,
                false,
            ),
            journey_by_campaign: grouped(
                db,
                customer_journey::Column::CampaignId,
                customer_journey::Column::Id,
                false,
            ),
            roles_by_user: grouped(
                db,
                api_user_role::Column::UserId,
                api_user_role::Column::Role,
                false,
            ),
            tokens_by_user: grouped(db, api_token::Column::UserId, api_token::Column::Id, true),
            accounts_by_profile: DataLoader::new(AccountsByProfile(db.clone()), tokio::spawn),
            strategy_fields: DataLoader::new(StrategyFields(db.clone()), tokio::spawn),
            mappings: DataLoader::new(AllMappings(db.clone()), tokio::spawn),
            versions_by_form: grouped(
                db,
                entity::linkedin_form_version::Column::FormId,
                entity::linkedin_form_version::Column::VersionId,
                false,
            ),
            consents_by_lead: grouped(
                db,
                entity::consent_record::Column::LeadId,
                entity::consent_record::Column::SubmittedAt,
                true,
            ),
            last_webhook_validation: DataLoader::new(
                LastWebhookValidation(db.clone()),
                tokio::spawn,
            ),
        }
    }
}
