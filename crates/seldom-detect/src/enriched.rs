//! One external connection, enriched once: the name the host asked DNS for,
//! its destination key, its prevalence, and its process when the process
//! table had it. It passes from the decision ([`crate::judge`]) to the alert
//! ([`crate::emit`]), and waits (bounded) in between when its process start
//! has not arrived yet, so the process is looked up again only then.

use seldom_model::{Event, Timestamp};
use serde::{Deserialize, Serialize};

use crate::baseline::Prevalence;
use crate::destination::DestinationKey;
use crate::process_table::ProcessRecord;
use crate::tune::WindowCounts;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EnrichedConnection {
    pub event: Event,
    /// The name the host asked DNS for, if any.
    pub forward_name: Option<String>,
    pub key: DestinationKey,
    /// The destination's prevalence at the connection's time, before it
    /// counted.
    pub prevalence: Prevalence,
    /// When it stops waiting for its process (its time plus the reorder
    /// window).
    pub deadline: Timestamp,
    /// When the baseline counted it (see [`crate::contact::Contact`]).
    pub judged_at: Timestamp,
    /// Its process as of the connection, found when it was judged; `None`
    /// while its start has not arrived (or for a network sensor's view).
    pub process: Option<ProcessRecord>,
    /// Its rarity in each window of a tuning grid (`seldom tune` only).
    #[serde(skip)]
    pub tune: Option<WindowCounts>,
}
