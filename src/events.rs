//! The event bus behind subscriptions: a bounded in-process broadcast channel, published to after
//! commit. A subscriber that falls more than the capacity behind is told it lagged.

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LeadOutcome {
    Created,
    Updated,
    /// Matched an existing lead whose values the submission did not change.
    Unchanged,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadSynced {
    pub outcome: LeadOutcome,
    pub lead_id: i64,
    pub submission_id: i64,
    pub campaign_id: Option<i64>,
    pub form_id: Option<i64>,
}

/// A sync run changed (started, progressed by a page, finished).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRunUpdated {
    pub run_id: i64,
    pub profile_id: Option<i64>,
}

#[derive(Clone)]
pub struct EventBus {
    leads: broadcast::Sender<LeadSynced>,
    runs: broadcast::Sender<SyncRunUpdated>,
}

/// Events a subscriber may fall behind by before it is told it lagged.
pub const CAPACITY: usize = 1024;

impl Default for EventBus {
    fn default() -> Self {
        Self {
            leads: broadcast::channel(CAPACITY).0,
            runs: broadcast::channel(CAPACITY).0,
        }
    }
}

impl EventBus {
    pub fn publish(&self, event: LeadSynced) {
        // No subscriber is not an error.
        let _ = self.leads.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LeadSynced> {
        self.leads.subscribe()
    }

    pub fn publish_run(&self, event: SyncRunUpdated) {
        let _ = self.runs.send(event);
    }

    pub fn subscribe_runs(&self) -> broadcast::Receiver<SyncRunUpdated> {
        self.runs.subscribe()
    }
}
