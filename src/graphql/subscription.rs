//! Subscriptions over `graphql-transport-ws`: newly synced leads and sync progress, from the
//! event bus. An event's rows are loaded once (through the loaders) and shared by every
//! subscriber that receives it.
//!
//! `leadSynced(after:)` resumes: it subscribes to the bus first, replays from the lead event log
//! every submission after that position (in pages), then forwards the live events after the
//! last position it replayed, so a client that reconnects misses nothing and sees nothing twice.

use std::{
    any::Any,
    collections::{HashSet, VecDeque},
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
};

use async_graphql::{Context, Enum, ErrorExtensions, ID, Object, Result, Subscription};
use entity::{form_submission, lead, linkedin_campaign, linkedin_form};
use futures::{Stream, StreamExt, stream};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use tokio::sync::broadcast::{Receiver, error::RecvError};

use crate::{
    error::AppError,
    events::{self, LeadOutcome},
    graphql::{
        guard::{LEAD_USERS, RoleGuard},
        state,
        types::{FormSubmission, Lead, SyncRun, loaders, parse_id},
    },
    service::{
        lead_events,
        linkedin::{SubmissionJoins, SubmissionRow},
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
    /// The event's position in the lead event log: opaque (do not compute with it) but ordered
    /// (later events have greater positions in their string's numeric order). Keep the last one
    /// shown and pass it as `leadSynced(after:)` when subscribing again.
    async fn position(&self) -> String {
        self.0.position.to_string()
    }
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
                        "this subscriber fell {missed} events behind and was closed; subscribe again (leadSynced: with `after` set to the last position received) or refetch"
                    ));
                    return Some((Err(error.into()), None));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
}

/// Events replayed from the log per statement.
const REPLAY_PAGE: u64 = 200;

/// Parses `leadSynced(after:)`: a position, the decimal id of a lead event.
fn parse_position(after: &str) -> Result<i64, AppError> {
    after
        .parse::<i64>()
        .ok()
        .filter(|p| *p >= 0 && !after.starts_with('+'))
        .ok_or_else(|| {
            AppError::bad_input(format!(
                "`after` must be a `position` this subscription delivered, not {after:?}"
            ))
        })
}

type LiveEvents = Pin<Box<dyn Stream<Item = Result<LeadSyncedPayload>> + Send>>;

/// A resuming `leadSynced`: the log's events after `cursor`, page by page, then the live ones
/// after the last position replayed.
struct Replay {
    db: DatabaseConnection,
    days: u32,
    campaign: Option<i64>,
    form: Option<i64>,
    /// The last position replayed (or `after`).
    cursor: i64,
    pending: VecDeque<events::LeadSynced>,
    replaying: bool,
    /// Live events at or below it were replayed (or filtered out of the replay): dropped.
    floor: Arc<AtomicI64>,
    live: LiveEvents,
}

impl Replay {
    async fn next(&mut self) -> Option<Result<LeadSyncedPayload>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(LeadSyncedPayload(event)));
            }
            if !self.replaying {
                return self.live.next().await;
            }
            if let Err(e) = self.page().await {
                return Some(Err(e));
            }
        }
    }

    /// Reads the next page into `pending`; the last one hands over to live.
    async fn page(&mut self) -> Result<()> {
        let rows = lead_events::submissions_after(
            &self.db,
            self.cursor,
            self.campaign,
            self.form,
            REPLAY_PAGE,
        )
        .await?;
        // Read after the page: the purge moves the horizon before deleting, so a horizon still
        // at or below the cursor means nothing after it was purged when the page was read.
        if lead_events::horizon(&self.db).await? > self.cursor {
            return Err(replay_unavailable(self.cursor, self.days));
        }
        if (rows.len() as u64) < REPLAY_PAGE {
            self.replaying = false;
        }
        let Some(last) = rows.last() else {
            self.floor.store(self.cursor, Ordering::Release);
            return Ok(());
        };
        self.cursor = last.id;
        // Those whose lead or submission is gone (erased, purged) are not shown.
        let leads: HashSet<i64> = lead::Entity::find()
            .select_only()
            .column(lead::Column::Id)
            .filter(lead::Column::Id.is_in(crate::service::batch::padded(
                rows.iter().map(|r| r.lead_id),
            )))
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .collect();
        let submissions: HashSet<i64> = form_submission::Entity::find()
            .select_only()
            .column(form_submission::Column::Id)
            .filter(
                form_submission::Column::Id.is_in(crate::service::batch::padded(
                    rows.iter().filter_map(|r| r.submission_id),
                )),
            )
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .collect();
        for row in rows {
            let Some(submission_id) = row.submission_id.filter(|s| submissions.contains(s)) else {
                continue;
            };
            if !leads.contains(&row.lead_id) {
                continue;
            }
            let outcome = match row.outcome.as_deref() {
                Some("CREATED") => LeadOutcome::Created,
                Some("UPDATED") => LeadOutcome::Updated,
                _ => LeadOutcome::Unchanged,
            };
            self.pending.push_back(events::LeadSynced {
                position: row.id,
                outcome,
                lead_id: row.lead_id,
                submission_id,
                campaign_id: row.campaign_id,
                form_id: row.form_id,
                shared: Default::default(),
            });
        }
        if !self.replaying {
            self.floor.store(self.cursor, Ordering::Release);
        }
        Ok(())
    }
}

/// The log no longer holds every event after `after`.
fn replay_unavailable(after: i64, days: u32) -> async_graphql::Error {
    async_graphql::Error::new(format!(
        "the lead event log no longer holds every event after position {after} (it keeps {days} days); reload the data, then subscribe again without `after`"
    ))
    .extend_with(|_, ext| ext.set("code", "REPLAY_UNAVAILABLE"))
}

#[derive(Default)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// Every lead the pipeline commits (sync, webhook or inbound door), optionally only those
    /// of one campaign and/or form. With `after` (a `position` this subscription delivered),
    /// first replays from the lead event log every submission after it, with the same filters
    /// and payload (those whose lead or submission has since been erased or purged are left
    /// out), then goes on live: nothing missed in between, nothing twice. An `after` older than
    /// the log keeps (`LEADSYNC_EVENT_LOG_DAYS`) is answered with one error, code
    /// REPLAY_UNAVAILABLE: reload, then subscribe without `after`. A subscriber told it lagged
    /// resumes the same way, from the last position it received.
    #[graphql(guard = "RoleGuard(LEAD_USERS)")]
    async fn lead_synced(
        &self,
        ctx: &Context<'_>,
        campaign_id: Option<ID>,
        form_id: Option<ID>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<LeadSyncedPayload>> + use<>> {
        let campaign = campaign_id
            .as_ref()
            .map(|id| parse_id(id, "campaign"))
            .transpose()?;
        let form = form_id
            .as_ref()
            .map(|id| parse_id(id, "form"))
            .transpose()?;
        let after = after.as_deref().map(parse_position).transpose()?;
        // Subscribe before replaying: what commits during the replay waits in the channel.
        let receiver = state(ctx).bus.subscribe();
        let floor = Arc::new(AtomicI64::new(after.unwrap_or(i64::MIN)));
        let live_floor = floor.clone();
        let live = events(
            receiver,
            move |e: &events::LeadSynced| {
                campaign.is_none_or(|c| e.campaign_id == Some(c))
                    && form.is_none_or(|f| e.form_id == Some(f))
                    && (after.is_none() || e.position > live_floor.load(Ordering::Acquire))
            },
            LeadSyncedPayload,
        );
        let Some(after) = after else {
            return Ok(live.boxed());
        };
        let replay = Replay {
            db: state(ctx).db.clone(),
            days: state(ctx).config.event_log_days,
            campaign,
            form,
            cursor: after,
            pending: VecDeque::new(),
            replaying: true,
            floor,
            live: live.boxed(),
        };
        Ok(stream::unfold(Some(replay), |state| async move {
            let mut replay = state?;
            match replay.next().await {
                Some(Ok(item)) => Some((Ok(item), Some(replay))),
                // An error ends the subscription.
                Some(Err(e)) => Some((Err(e), None)),
                None => None,
            }
        })
        .boxed())
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
