//! seldom on Apache Kafka: N identical `seldom worker` processes in one
//! consumer group, the way a Kafka Streams application scales. Kafka assigns
//! the partitions and moves them when a worker dies; the state's changelogs
//! are compacted topics; each batch commits its output, its state and its
//! input offsets in one transaction. The detection itself is the
//! partitioned detector of `seldom-detect`, which knows nothing of Kafka.
//!
//! - [`config`]: the `[kafka]` section;
//! - [`topics`]: the topics, created if missing, and their partition counts;
//! - [`wire`]: what the internal topics carry, in CBOR;
//! - [`tasks`]: the partitions a worker owns, records in and out;
//! - [`restore`]: a partition's state from its changelog;
//! - [`state_cache`]: a local copy of it (`worker --state DIR`);
//! - [`worker`]: the consume-process-produce loop, exactly once;
//! - [`produce`]: files into the input topic (`seldom kafka produce`);
//! - [`alerts`]: each alert's latest record (`seldom kafka alerts`);
//! - [`allowlist`]: the entries that suppress new alerts, cluster-wide;
//! - [`publish`]: one record, confirmed (allowlist entries from `serve`);
//! - [`reader`]: a whole topic read outside any group (the allowlist, and
//!   the alerts for `serve --kafka`);
//! - [`metrics`]: a worker's counters for Prometheus.

#![forbid(unsafe_code)]

pub mod alerts;
pub mod allowlist;
pub mod config;
mod error;
pub mod metrics;
pub mod produce;
pub mod publish;
pub mod reader;
pub mod restore;
pub mod state_cache;
pub mod tasks;
pub mod topics;
pub mod wire;
pub mod worker;

pub use config::KafkaConfig;
pub use error::WorkerError;
pub use metrics::WorkerMetrics;
pub use worker::{WorkerOptions, run};
