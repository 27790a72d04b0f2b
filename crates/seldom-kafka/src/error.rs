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
    /// A transaction failed and so did its abort: this producer no longer
    /// knows what the brokers hold of it, so the session starts afresh (the
    /// next producer of the transactional id fences this one and aborts
    /// whatever it left open).
    #[error("{failure}; aborting that transaction failed too: {abort}")]
    AbortFailed { failure: String, abort: String },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_abort_ends_the_session_and_names_both_failures() {
        let error = WorkerError::AbortFailed {
            failure: "kafka: commit timed out".to_owned(),
            abort: "kafka: abort timed out".to_owned(),
        };
        assert!(error.is_fatal());
        assert!(!error.is_setup());
        let text = error.to_string();
        assert!(text.contains("commit timed out") && text.contains("abort timed out"));
    }
}
