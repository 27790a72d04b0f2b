//! What a start finds in the store.

use seldom_detect::DetectorState;
use seldom_detect::reorder::ReorderKey;
use seldom_model::Event;

use crate::codec::Encoded;

/// Everything a store holds, read at open.
#[derive(Default)]
pub struct Restored {
    /// The detector's state as of the last checkpoint or scan.
    pub state: Option<DetectorState>,
    /// The service's tailed files' offsets, as it encoded them.
    pub offsets: Option<Encoded>,
    /// Every inbox batch up to this one has been detected.
    pub inbox_done: u64,
    /// Acknowledged batches after the last checkpoint, in order.
    pub inbox: Vec<(u64, Vec<u8>)>,
    /// The service's alert records, as it encoded them.
    pub alerts: Vec<Encoded>,
    /// The service's allowlist entries, as it encoded them.
    pub allowlist: Vec<Encoded>,
    /// The reorder buffer as of the last checkpoint.
    pub reorder: Vec<(ReorderKey, Event)>,
}
