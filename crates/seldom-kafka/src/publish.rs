//! One record at a time, confirmed: what `seldom serve --kafka` writes to
//! the allowlist topic. An analyst's entry is answered only once every
//! in-sync replica has it (`acks=all`, idempotent), so an entry the API
//! confirms is one every worker will read.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::message::DeliveryResult;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};

use crate::error::WorkerError;

/// Hands each delivery report to the publisher waiting for it.
struct Deliveries(Mutex<Sender<Result<(), String>>>);

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let outcome = result.as_ref().map(|_| ()).map_err(|(e, _)| e.to_string());
        if let Ok(tx) = self.0.lock() {
            let _ = tx.send(outcome);
        }
    }
}

pub struct Publisher {
    producer: BaseProducer<Deliveries>,
    reports: Mutex<Receiver<Result<(), String>>>,
    timeout: Duration,
}

impl Publisher {
    pub fn new(client: &ClientConfig, timeout: Duration) -> Result<Publisher, WorkerError> {
        let (tx, rx) = channel();
        let mut config = client.clone();
        config
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("message.timeout.ms", timeout.as_millis().to_string());
        let producer = config.create_with_context(Deliveries(Mutex::new(tx)))?;
        Ok(Publisher {
            producer,
            reports: Mutex::new(rx),
            timeout,
        })
    }

    /// Writes `payload` under `key` (`None`: a tombstone) and waits until
    /// the cluster has it, or says why not.
    pub fn publish(&self, topic: &str, key: &[u8], payload: Option<&[u8]>) -> Result<(), String> {
        // One publication at a time: the next report is this record's.
        let reports = self
            .reports
            .lock()
            .map_err(|_| "the publisher's lock is poisoned".to_owned())?;
        while reports.try_recv().is_ok() {}
        let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic).key(key);
        if let Some(payload) = payload {
            record = record.payload(payload);
        }
        self.producer
            .send(record)
            .map_err(|(e, _)| format!("producing to {topic}: {e}"))?;
        let deadline = Instant::now() + self.timeout + Duration::from_secs(1);
        loop {
            self.producer.poll(Duration::from_millis(50));
            match reports.try_recv() {
                Ok(outcome) => return outcome.map_err(|e| format!("producing to {topic}: {e}")),
                Err(_) if Instant::now() > deadline => {
                    return Err(format!(
                        "producing to {topic}: no answer in {:?}",
                        self.timeout
                    ));
                }
                Err(_) => {}
            }
        }
    }

    /// Waits for anything still in flight (at shutdown).
    pub fn flush(&self) {
        let _ = self.producer.flush(self.timeout);
    }
}
