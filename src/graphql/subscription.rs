//! Subscriptions over `graphql-transport-ws`: newly synced leads and sync progress, from the
//! event bus. Relations resolve through the loaders like everywhere else.

use async_graphql::{Context, Enum, ID, Object, Result, Subscription};
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
};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum LeadSyncOutcome {
    Created,
    Updated,
    /// Matched an existing lead that the submission did not change.
    Unchanged,
}

pub struct LeadSyncedPayload(events::LeadSynced);

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
        Ok(loaders(ctx).lead.load_one(self.0.lead_id).await?.map(Lead))
    }
    async fn submission(&self, ctx: &Context<'_>) -> Result<Option<FormSubmission>> {
        Ok(loaders(ctx)
            .submission
            .load_one(self.0.submission_id)
            .await?
            .map(FormSubmission))
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
