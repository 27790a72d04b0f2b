//! What goes through the queue to the detection thread: a [`Work`] item, the
//! [`QueueSlot`] an ingest batch holds from before it is stored until it is
//! detected, and how a batch's bytes become its events. The queue is bounded
//! by slots, not by the channel: ingest answers 429 when none is free, so
//! memory stays bounded when detection lags.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use seldom_detect::DestinationView;
use seldom_detect::explain::Verdict;
use seldom_ingest::{BytesSource, IngestOptions, IngestStats, Ingestor, NormalizeOptions, Source};
use seldom_model::{Event, HostNaming};

use crate::store::TailOffset;

/// A place in the detection queue. It travels with its batch to the
/// detection thread and is given back when dropped: after detection, or on
/// any path that returns before the batch was queued (a refusal, a failed
/// write, a panic, a detection thread that has stopped).
#[derive(Debug)]
pub struct QueueSlot(Arc<AtomicUsize>);

impl QueueSlot {
    /// A slot counted whatever the queue holds: for work that must not be
    /// lost and that its sender already waited for (see `Service::queue_full`).
    pub(crate) fn counted(held: &Arc<AtomicUsize>) -> QueueSlot {
        held.fetch_add(1, Ordering::AcqRel);
        QueueSlot(held.clone())
    }

    /// A slot, if fewer than `capacity` of `held` are taken.
    pub(crate) fn take(held: &Arc<AtomicUsize>, capacity: usize) -> Option<QueueSlot> {
        // Counted before the check, so that concurrent callers cannot all
        // pass a check that none of them has yet counted against.
        let waiting = held.fetch_add(1, Ordering::AcqRel);
        let slot = QueueSlot(held.clone());
        // Dropped at once when the queue is full: the count is given back.
        (waiting < capacity).then_some(slot)
    }
}

impl Drop for QueueSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One unit of work for the detection thread.
pub enum Work {
    /// An acknowledged ingest batch (already in the store's inbox), with
    /// the queue slot it holds until it is detected.
    Http {
        seq: u64,
        events: Vec<Event>,
        slot: QueueSlot,
    },
    /// Lines of a tailed file, up to `offset`; `key` is the file's identity
    /// ([`crate::file_identity::FileId::key`]).
    Tail {
        key: String,
        offset: TailOffset,
        events: Vec<Event>,
        slot: QueueSlot,
    },
    /// A tailed file is done with (read to its end and gone from the
    /// patterns, continued under another identity, or vanished): its
    /// offset is no longer kept.
    TailDone { key: String, slot: QueueSlot },
    /// An analyst asks what the baseline knows of a destination.
    Destination {
        key: String,
        reply: tokio::sync::oneshot::Sender<Option<DestinationView>>,
    },
    /// An analyst asks why something did or did not alert.
    Explain {
        question: Question,
        reply: tokio::sync::oneshot::Sender<Verdict>,
    },
    /// Checkpoint and stop.
    Shutdown,
}

/// What `/api/v1/explain` asks the detector.
pub enum Question {
    /// A stored alert, from its evidence.
    Alert(Box<seldom_detect::Alert>),
    /// A connection that may not have happened: what it would meet now.
    WhatIf {
        host: seldom_model::HostName,
        destination: String,
        image: Option<String>,
        platform: seldom_model::Platform,
        at: Option<seldom_model::Timestamp>,
    },
}

/// The most events [`decode_bytes`] reserves room for at once.
const MAX_RESERVED_EVENTS: usize = 16_384;

/// Decodes bytes of any format `scan` reads (gzip is recognized), naming
/// their events' source `name` (`http/SEQ` for an ingest batch). Tailed
/// files are decoded by `tail`, which keeps a decoder per file.
pub fn decode_bytes(
    bytes: &[u8],
    name: &str,
    host_naming: HostNaming,
) -> (Vec<Event>, IngestStats) {
    let mut ingestor = Ingestor::new(IngestOptions {
        normalize: NormalizeOptions {
            host_naming,
            ..NormalizeOptions::default()
        },
        // A batch is small: decoding it on the calling thread is enough.
        decode_threads: 1,
        ..IngestOptions::default()
    });
    // One reservation for the batch's events, bounded by its lines: a
    // vector grown by doubling asks the allocator for fresh memory at every
    // step, and under load those page faults were a third of the service's
    // kernel time (`perf record` on `bench/serve`). The cap keeps a body of
    // many short lines from reserving for records it will not give.
    let lines = bytes.iter().filter(|b| **b == b'\n').count() + 1;
    let mut events = Vec::with_capacity(lines.min(MAX_RESERVED_EVENTS));
    // In-memory bytes never fail to open: whatever is wrong in them is
    // counted in the stats.
    let _ = BytesSource { name, bytes }.read(&mut ingestor, &mut |e| events.push(e));
    (events, ingestor.into_stats())
}

/// Names a decoded ingest batch's events after its sequence number
/// (`http/SEQ`), the same whether it is detected live or replayed.
pub fn name_batch(events: &mut [Event], seq: u64) {
    let source: std::sync::Arc<str> = std::sync::Arc::from(format!("http/{seq}"));
    for event in events {
        event.origin.source = source.clone();
    }
}
