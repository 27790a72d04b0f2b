//! The configuration's durations as event-time spans, converted once when
//! the detector is built: the engine adds and compares [`Micros`], never
//! converting a `Duration` or multiplying days on the way.

use seldom_model::Micros;

use crate::config::DetectConfig;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Spans {
    /// How long an event waits for the clock to pass it (`reorder_window`).
    pub reorder: Micros,
    /// How far ahead a record may be before it counts as a future event.
    pub future: Micros,
    /// How long an ended process stays in its host's table.
    pub process_retention: Micros,
    /// The sliding window of the baseline, and the silence after which a
    /// platform's activation starts anew.
    pub training: Micros,
    pub dedup: Micros,
    pub activation: Micros,
    /// How long an incident gathers alerts and spread after its first alert.
    pub incident: Micros,
}

impl Spans {
    pub(crate) fn of(config: &DetectConfig) -> Spans {
        Spans {
            reorder: Micros::of(config.reorder_window),
            future: Micros::of(config.future_tolerance),
            process_retention: Micros::of(config.process_retention),
            training: Micros::days(config.training_days),
            dedup: Micros::days(config.dedup_days),
            activation: Micros::days(config.activation_days),
            incident: Micros::of(config.incident_window),
        }
    }
}
