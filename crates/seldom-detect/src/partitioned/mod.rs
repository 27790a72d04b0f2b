//! The detector split by partition, for a deployment of many workers (Kafka):
//! the same decisions as one [`crate::Detector`], made by tasks that each own
//! one partition and talk only through ordered channels (topic partitions).
//! Nothing here does I/O; a transport moves the tasks' messages.
//!
//! Three stages, each keyed so that its state is local:
//! 1. a [`SourceTask`] per input partition (any partitioning): it routes each
//!    event to the host partition of its host ([`host_partition`]);
//! 2. a [`HostTask`] per host partition: process tables, DNS attribution and
//!    destination keys for its hosts. Every external connection leaves it as
//!    a [`Contact`] (its process and chain attached) for the key partition
//!    of its destination key ([`key_partition`]);
//! 3. a [`KeyTask`] per key partition: the baseline, the rare decision,
//!    activation, the catalog and dedup for its keys (the dedup key holds
//!    the destination key, so it lives here too), and the alerts.
//!
//! **Event time across partitions.** Every task sends, after its data, a
//! [`Progress`] mark to every partition downstream of it, in the same
//! channel, so a mark always follows the data it speaks for. A mark says how
//! far its sender has come (`through`), whether it is caught up with nothing
//! held (`idle`), and its highest host clocks; a host task's mark adds its
//! platforms' telemetry spans and its hosts' activity. From the marks of all
//! its upstream partitions a task knows:
//! - the organization's clock: the latest time `clock_quorum` hosts have
//!   reached, over the union of the leaders every upstream reports, which is
//!   exactly the clock of one detector (the quorum-th highest host clock);
//! - when it may go on: the lowest `through` of the upstream partitions that
//!   are not idle. A host task releases its reorder buffer through that
//!   (less the reorder window, and never past the organization's clock less
//!   the window); a key task releases its contacts through it, in the order
//!   one detector would count them (time, then host). A slow partition holds
//!   the others back; an idle one (caught up, nothing held) holds no one,
//!   and when every upstream is idle the task releases everything, as a
//!   scan does at its end and a service on a quiet feed;
//! - when each platform's telemetry began (the earliest start among the
//!   upstream spans still current), for activation.
//!
//! A host task's `through` stays below every contact it still holds (waiting
//! for a late process start, or a network sensor's hold), so a key task
//! never counts a contact before an earlier one of another host. On input in
//! time order the alerts equal one detector's; a record behind its source's
//! clock by more than the reorder window is late here as it is there.

mod host_task;
mod key_task;
mod progress;
mod source_task;

pub use host_task::{HostTask, HostTaskSnapshot, HostTaskState};
pub use key_task::{KeyTask, KeyTaskState};
pub use progress::Progress;
pub use source_task::SourceTask;

use seldom_model::HostName;

use crate::Contact;
use crate::destination::DestinationKey;

/// The host partition that owns `host`, of `partitions`.
pub fn host_partition(host: &HostName, partitions: u32) -> u32 {
    bucket(host.as_str().as_bytes(), partitions)
}

/// The key partition that owns `key`, of `partitions`.
pub fn key_partition(key: &DestinationKey, partitions: u32) -> u32 {
    match key {
        DestinationKey::Domain(domain) => bucket(domain.as_bytes(), partitions),
        DestinationKey::Ip(ip) => bucket(ip.to_string().as_bytes(), partitions),
    }
}

/// The key partition of a contact.
pub fn contact_partition(contact: &Contact, partitions: u32) -> u32 {
    key_partition(&contact.key, partitions)
}

/// A stable bucket: the same bytes land in the same partition on every
/// worker, release and platform.
fn bucket(bytes: &[u8], partitions: u32) -> u32 {
    (xxhash_rust::xxh3::xxh3_64(bytes) % u64::from(partitions.max(1))) as u32
}
