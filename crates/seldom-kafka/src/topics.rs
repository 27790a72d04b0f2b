//! The topics a deployment needs, created if missing (a cluster with
//! `auto.create.topics.enable=false` is the normal case), and their
//! partition counts checked: the internal topics and changelogs must agree,
//! since a task's state, its input and its changelog share one partition
//! number.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::BaseConsumer;
use rdkafka::types::RDKafkaErrorCode;

use crate::config::KafkaConfig;
use crate::error::WorkerError;
use crate::tasks::Layout;

const TIMEOUT: Duration = Duration::from_secs(30);

/// The largest record of a changelog (a partition's whole state).
pub const MAX_STATE_BYTES: usize = 64 << 20;

/// Creates what is missing and returns the partition counts.
pub fn ensure(config: &KafkaConfig, client: &ClientConfig) -> Result<Layout, WorkerError> {
    let t = &config.topics;
    let p = config.partitions as i32;
    let rf = i32::from(config.replication_factor);
    let max_state = MAX_STATE_BYTES.to_string();
    // A segment must hold the largest record (a cluster may default to
    // small segments).
    let segment = (2 * MAX_STATE_BYTES).to_string();
    let compacted = [
        ("cleanup.policy", "compact"),
        ("max.message.bytes", max_state.as_str()),
        ("segment.bytes", segment.as_str()),
    ];
    let topics = [
        NewTopic::new(&t.input, p, TopicReplication::Fixed(rf)),
        NewTopic::new(&t.by_host, p, TopicReplication::Fixed(rf)),
        NewTopic::new(&t.by_key, p, TopicReplication::Fixed(rf)),
        NewTopic::new(&t.alerts, p, TopicReplication::Fixed(rf)).set("cleanup.policy", "compact"),
        // One partition: every worker reads all of it, in the order it was
        // written.
        NewTopic::new(&t.allowlist, 1, TopicReplication::Fixed(rf))
            .set("cleanup.policy", "compact"),
        compacted.iter().fold(
            NewTopic::new(&t.host_state, p, TopicReplication::Fixed(rf)),
            |n, (k, v)| n.set(k, v),
        ),
        compacted.iter().fold(
            NewTopic::new(&t.key_state, p, TopicReplication::Fixed(rf)),
            |n, (k, v)| n.set(k, v),
        ),
    ];
    let admin: AdminClient<DefaultClientContext> = client.create()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| WorkerError::Setup(format!("a runtime for the admin client: {e}")))?;
    let results = runtime.block_on(admin.create_topics(
        &topics,
        &AdminOptions::new().operation_timeout(Some(TIMEOUT)),
    ))?;
    for result in results {
        match result {
            Ok(_) => {}
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(WorkerError::Setup(format!(
                    "creating topic {topic}: {code}"
                )));
            }
        }
    }
    let consumer: BaseConsumer = client.create()?;
    let count = |topic: &str| crate::reader::partition_count(&consumer, topic);
    let input = count(&t.input)?;
    let internal = count(&t.by_host)?;
    for topic in [&t.by_key, &t.host_state, &t.key_state] {
        let n = count(topic)?;
        if n != internal {
            return Err(WorkerError::Setup(format!(
                "topic {topic} has {n} partitions, {} has {internal}: the internal topics must agree",
                t.by_host
            )));
        }
    }
    Ok(Layout { input, internal })
}
