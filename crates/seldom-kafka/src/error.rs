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
    /// The consumer could not be sent back to its committed offsets after an
    /// aborted transaction: the session starts afresh instead.
    #[error("rewinding: {0}")]
    Rewind(String),
    #[error("restoring partition {partition} of {topic}: {problem}")]
    Restore {
        topic: String,
        partition: i32,
        problem: String,
    },
}

/// An input that cannot be read ends a command, as a setup error does.
impl From<std::io::Error> for WorkerError {
    fn from(e: std::io::Error) -> Self {
        WorkerError::Setup(e.to_string())
    }
}

impl WorkerError {
    /// The deployment cannot work as configured (a topic's partitions
    /// disagree, the cluster refuses a topic): retrying will not help.
    pub fn is_setup(&self) -> bool {
        matches!(self, WorkerError::Setup(_))
    }

    /// The producer cannot go on (fenced by a newer one with the same
    /// transactional id, or a fatal librdkafka error): the session must
    /// start afresh. Any other failure of a transaction is abortable.
    pub fn is_fatal(&self) -> bool {
        match self {
            WorkerError::Kafka(KafkaError::Transaction(e)) => e.is_fatal(),
            WorkerError::Kafka(e) => e
                .rdkafka_error_code()
                .is_some_and(|c| c == rdkafka::types::RDKafkaErrorCode::Fatal),
            _ => true,
        }
    }
}
