//! The hash map of the detector's state.
//!
//! Every event touches several maps keyed by host, address, domain or pid, so
//! the hasher is on the hot path: foldhash is several times faster than the
//! standard SipHash on these short keys. It is seeded per process, so a domain
//! chosen by an attacker cannot be crafted to collide in every deployment.

pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
