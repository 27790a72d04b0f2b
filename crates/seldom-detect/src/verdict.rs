//! What `seldom explain` asks and gets: the connections to explain
//! ([`ExplainTarget`]), each one's steps ([`Verdict`]), and the probe a
//! detector carries while it gathers them. The steps themselves are worked
//! out in [`crate::explain`].

use std::net::IpAddr;

use seldom_model::{Event, Timestamp};
use serde::Serialize;

use crate::catalog::RowCheck;

/// Which connections to explain. Every given condition must hold.
#[derive(Debug, Clone, Default)]
pub struct ExplainTarget {
    /// The host's name (case-insensitive).
    pub host: Option<String>,
    /// An address, a name the host asked DNS for, or a destination key
    /// (registered domain or address).
    pub destination: Option<String>,
    /// Connections at or after this time.
    pub from: Option<Timestamp>,
    /// Connections at or before this time.
    pub to: Option<Timestamp>,
    /// Verdicts kept at most (the first ones).
    pub limit: usize,
}

/// How one step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    /// The connection goes on.
    Pass,
    /// The decision ends here: no alert.
    Stop,
    /// What the detector found, deciding nothing by itself.
    Note,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub check: &'static str,
    pub outcome: StepOutcome,
    pub detail: String,
}

/// One connection, explained.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub time: Timestamp,
    pub host: String,
    pub image: Option<String>,
    pub destination_ip: IpAddr,
    pub destination_port: Option<u16>,
    pub forward_name: Option<String>,
    /// The destination key, once the connection got that far.
    pub key: Option<String>,
    pub steps: Vec<Step>,
    /// Every catalog row, matched or not (empty when the decision stopped
    /// before the catalog).
    pub catalog: Vec<RowCheck>,
    /// What the steps lead to; the caller replaces it with what the run
    /// raised (an alert's id, a repeat).
    pub outcome: String,
}

/// The target and what it has gathered.
#[derive(Debug, Default)]
pub(crate) struct Probe {
    pub target: ExplainTarget,
    pub verdicts: Vec<Verdict>,
}

impl ExplainTarget {
    pub(crate) fn names_host(&self, event: &Event) -> bool {
        self.host
            .as_deref()
            .is_none_or(|h| event.host.as_str().eq_ignore_ascii_case(h))
    }

    pub(crate) fn names_time(&self, time: Timestamp) -> bool {
        self.from.is_none_or(|f| time >= f) && self.to.is_none_or(|t| time <= t)
    }

    /// Whether `destination` names this connection: its address, the name
    /// asked for, or its key.
    pub(crate) fn names_destination(
        &self,
        ip: IpAddr,
        forward: Option<&str>,
        key: Option<&str>,
    ) -> bool {
        let Some(wanted) = self.destination.as_deref() else {
            return true;
        };
        let wanted = wanted.trim().trim_end_matches('.').to_ascii_lowercase();
        ip.to_string() == wanted
            || forward.is_some_and(|f| f.trim_end_matches('.').eq_ignore_ascii_case(&wanted))
            || key.is_some_and(|k| k.eq_ignore_ascii_case(&wanted))
    }
}
