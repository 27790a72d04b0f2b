//! What stops a worker's session: the cluster refusing setup, a
//! transaction that cannot commit, or a state that does not restore. A
//! session that fails is torn down and started afresh from what was
//! committed; only setup errors and a stop request end the worker.

use rdkafka::error::KafkaError;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    #[error("setup: {0}")]
    Setup(String),
    #[error("restoring partition {partition} of {topic}: {problem}")]
    Restore {
        topic: String,
        partition: i32,
        problem: String,
    },
}

impl WorkerError {
    /// The deployment cannot work as configured (a topic's partitions
    /// disagree, the cluster refuses a topic): retrying will not help.
    pub fn is_setup(&self) -> bool {
        matches!(self, WorkerError::Setup(_))
    }
}
