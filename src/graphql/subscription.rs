//! Subscriptions over `graphql-transport-ws`: newly synced leads and sync progress, from the
//! event bus. An event's rows are loaded once (through the loaders) and shared by every
//! subscriber that receives it.

use std::{any::Any, sync::Arc};

use async_graphql::{Context, Enum, ID, Object, Result, Subscription};
use entity::{form_submission, lead, linkedin_campaign, linkedin_form};
use futures::{Stream, StreamExt, stream};
use tokio::sync::broadcast::{Receiver, error::RecvError};

use crate::{
    error::AppError,
    events::{self, LeadOutcome},
    graphql::{
        guard::{LEAD_USERS, RoleGuard},
        state,
        types::{FormSubmission, Lead, SyncRun, loaders, parse_id},
    },
    service::linkedin::{SubmissionJoins, SubmissionRow},
};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum LeadSyncOutcome {
    Created,
    Updated,
    /// Matched an existing lead that the submission did not change.
    Unchanged,
}

pub struct LeadSyncedPayload(events::LeadSynced);

/// The rows an event's payload shows, loaded once per event for all of its subscribers.
struct EventRows {
    lead: Option<lead::Model>,
    submission: Option<form_submission::Model>,
    form: Option<linkedin_form::Model>,
    campaign: Option<linkedin_campaign::Model>,
}

impl LeadSyncedPayload {
    async fn rows(&self, ctx: &Context<'_>) -> Result<Arc<EventRows>> {
        let event = &self.0;
        let loaded = event
            .shared
            .0
            .get_or_try_init(|| async {
                let loaders = loaders(ctx);
                let (lead, submission, form, campaign) = futures::try_join!(
                    loaders.lead.load_one(event.lead_id),
                    loaders.submission.load_one(event.submission_id),
                    async {
                        match event.form_id {
                            Some(id) => loaders.form.load_one(id).await,
                            None => Ok(None),
                        }
                    },
                    async {
                        match event.campaign_id {
                            Some(id) => loaders.campaign.load_one(id).await,
                            None => Ok(None),
                        }
                    },
                )?;
                let rows: Arc<dyn Any + Send + Sync> = Arc::new(EventRows {
                    lead,
                    submission,
                    form,
                    campaign,
                });
                Ok::<_, AppError>(rows)
            })
            .await?;
        loaded
            .clone()
            .downcast::<EventRows>()
            .map_err(|_| AppError::internal("an event's shared rows have another type").into())
    }
}

#[Object]
impl LeadSyncedPayload {
    async fn outcome(&self) -> LeadSyncOutcome {
        match self.0.outcome {
            LeadOutcome::Created => LeadSyncOutcome::Created,
            LeadOutcome::Updated => LeadSyncOutcome::Updated,
            LeadOutcome::Unchanged => LeadSyncOutcome::Unchanged,
        }
    }
    async fn lead(&self, ctx: &Context<'_>) -> Result<Option<Lead>> {
        Ok(self.rows(ctx).await?.lead.clone().map(Lead))
    }
    async fn submission(&self, ctx: &Context<'_>) -> Result<Option<FormSubmission>> {
        let rows = self.rows(ctx).await?;
        let Some(submission) = rows.submission.clone() else {
            return Ok(None);
        };
        // Its form and campaign come with the event's rows; the rest resolve through the loaders.
        let row = SubmissionRow {
            submission,
            lead: None,
            form: rows.form.clone(),
            campaign: rows.campaign.clone(),
            account: None,
            answers: None,
        };
        let joins = SubmissionJoins {
            form: true,
            campaign: true,
            ..Default::default()
        };
        Ok(Some(FormSubmission::joined(row, joins)))
    }
}

/// Events from a receiver that pass `keep`; a subscriber that lagged gets one error and the
/// stream ends (it must subscribe again), so nothing is skipped silently.
fn events<T, P>(
    receiver: Receiver<T>,
    keep: impl Fn(&T) -> bool + Send + 'static,
    wrap: impl Fn(T) -> P + Send + 'static,
) -> impl Stream<Item = Result<P>>
where
    T: Clone + Send + 'static,
    P: Send + 'static,
{
    let open = crate::metrics::SubscriptionGuard::open();
    stream::unfold(Some((receiver, keep, wrap, open)), |state| async move {
        let (mut receiver, keep, wrap, open) = state?;
        loop {
            match receiver.recv().await {
                Ok(event) if keep(&event) => {
                    let item = wrap(event);
                    return Some((Ok(item), Some((receiver, keep, wrap, open))));
                }
                Ok(_) => continue,
                Err(RecvError::Lagged(missed)) => {
                    let error = AppError::Conflict(format!(
                        "this subscriber fell {missed} events behind and was closed; subscribe again and refetch"
                    ));
                    return Some((Err(error.into()), None));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
}

#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// Every lead the pipeline commits (sync, webhook or inbound door), optionally only those
    /// of one campaign and/or form.
    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn lead_synced(
        &self,
        ctx: &Context<'_>,
        campaign_id: Option<ID>,
        form_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<LeadSyncedPayload>> + use<>> {
        let campaign = campaign_id
            .as_ref()
            .map(|id| parse_id(id, "campaign"))
            .transpose()?;
        let form = form_id
            .as_ref()
            .map(|id| parse_id(id, "form"))
            .transpose()?;
        let receiver = state(ctx).bus.subscribe();
        Ok(events(
            receiver,
            move |e: &events::LeadSynced| {
                campaign.is_none_or(|c| e.campaign_id == Some(c))
                    && form.is_none_or(|f| e.form_id == Some(f))
            },
            LeadSyncedPayload,
        ))
    }

    /// Progress of the sync runs of one profile (or of all), as they start, store pages and end.
    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn sync_run_updated(
        &self,
        ctx: &Context<'_>,
        profile_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<SyncRun>> + use<>> {
        let profile = profile_id
            .as_ref()
            .map(|id| parse_id(id, "LinkedIn user profile"))
            .transpose()?;
        let db = state(ctx).db.clone();
        let receiver = state(ctx).bus.subscribe_runs();
        Ok(events(
            receiver,
            move |e: &events::SyncRunUpdated| profile.is_none_or(|p| e.profile_id == Some(p)),
            |e| e.run_id,
        )
        .then(move |run| {
            let db = db.clone();
            async move {
                let id = run?;
                Ok(SyncRun(crate::service::connector::get_run(&db, id).await?))
            }
        }))
    }
}
