//! `/metrics`: a [`StatusSnapshot`] in Prometheus's text exposition format
//! (0.0.4), one family per figure, labelled by format, reason, variation,
//! platform or followed file. The encoding (names, types, label escaping)
//! is the Prometheus project's own client's (`prometheus-client`); this
//! module only says which figure is which family. The snapshot is taken
//! per scrape, so the families are written by a [`Collector`] over it rather
//! than kept as live metric objects beside the service's own counters.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::status::{StatusSnapshot, TailedFile};

/// The `Content-Type` of the exposition.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The exposition of one snapshot.
pub fn render(snapshot: StatusSnapshot) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Families(snapshot)));
    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)?;
    Ok(text)
}

/// The families of one snapshot. Counter names are given without `_total`:
/// the encoder adds it (`seldom_events_in` is `seldom_events_in_total`).
#[derive(Debug)]
struct Families(StatusSnapshot);

type Labels<'a> = Vec<(&'static str, &'a str)>;

/// A counter family: `samples` are label sets and values (one unlabelled
/// sample for a plain counter).
fn counters<'a>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (Labels<'a>, u64)>,
) -> std::fmt::Result {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, value) in samples {
        // An empty label set writes no braces: `seldom_late_events_total 0`.
        ConstCounter::new(value).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

fn gauges<'a, N>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (Labels<'a>, N)>,
) -> std::fmt::Result
where
    ConstGauge<N>: EncodeMetric,
{
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in samples {
        ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

/// One unlabelled sample.
fn single<N>(value: N) -> [(Labels<'static>, N); 1] {
    [(Vec::new(), value)]
}

/// A followed file's labels.
fn file(f: &TailedFile) -> Labels<'_> {
    vec![("path", f.path.as_str()), ("identity", f.identity.as_str())]
}

/// One label per key of a map of figures.
fn by<'a>(
    label: &'static str,
    map: &'a std::collections::BTreeMap<String, u64>,
) -> impl Iterator<Item = (Labels<'a>, u64)> {
    map.iter()
        .map(move |(k, v)| (vec![(label, k.as_str())], *v))
}

impl Collector for Families {
    fn encode(&self, mut e: DescriptorEncoder) -> std::fmt::Result {
        let s = &self.0;
        let u = |n: usize| n as u64;
        counters(
            &mut e,
            "seldom_events_in",
            "Events decoded from ingest and tailed files, by source format.",
            by("format", &s.events_in),
        )?;
        counters(
            &mut e,
            "seldom_records_skipped",
            "Malformed records skipped, by reason.",
            by("reason", &s.skipped),
        )?;
        counters(
            &mut e,
            "seldom_alerts",
            "Alerts raised, by variation.",
            by("variation", &s.alerts_by_variation),
        )?;
        counters(
            &mut e,
            "seldom_alerts_suppressed",
            "New alerts covered by an allowlist entry.",
            single(s.suppressed_by_allowlist),
        )?;
        counters(
            &mut e,
            "seldom_events_detected",
            "Events the detector has processed.",
            single(s.events_detected),
        )?;
        gauges(
            &mut e,
            "seldom_queue_depth",
            "Batches waiting for the detection thread.",
            single(u(s.queue_depth)),
        )?;
        gauges(
            &mut e,
            "seldom_queue_capacity",
            "Batches accepted before ingest answers 429.",
            single(u(s.queue_capacity)),
        )?;
        counters(
            &mut e,
            "seldom_ingest_refused",
            "Ingest requests refused because the queue was full.",
            single(s.ingest_refused_full),
        )?;
        // Before the first checkpoint there is no age: 0, as before.
        gauges(
            &mut e,
            "seldom_checkpoint_age_seconds",
            "Seconds since the last committed checkpoint.",
            single(s.checkpoint_age_seconds.unwrap_or(0.0)),
        )?;
        counters(
            &mut e,
            "seldom_checkpoint_failures",
            "Checkpoints that failed to commit.",
            single(s.checkpoint_failures),
        )?;
        counters(
            &mut e,
            "seldom_future_events",
            "Records stamped too far ahead of the wall clock, refused.",
            single(s.future_events),
        )?;
        gauges(
            &mut e,
            "seldom_reorder_buffered_events",
            "Events waiting in the reorder buffer.",
            single(u(s.buffered_events)),
        )?;
        gauges(
            &mut e,
            "seldom_reorder_buffered_bytes",
            "About how many bytes the reorder buffer holds.",
            single(u(s.buffered_bytes)),
        )?;
        counters(
            &mut e,
            "seldom_reorder_overflow",
            "Events released early because the reorder buffer was full.",
            single(s.reorder_overflow),
        )?;
        counters(
            &mut e,
            "seldom_late_events",
            "Records that arrived after the organization's clock had passed them.",
            single(s.late_events),
        )?;
        gauges(
            &mut e,
            "seldom_baseline_keys",
            "Destination keys in the prevalence baseline.",
            single(u(s.baseline_keys)),
        )?;
        gauges(
            &mut e,
            "seldom_activation_days_seen",
            "Days of event time seen per platform (alerts start at the activation period).",
            s.activation.iter().map(|a| {
                (
                    vec![("platform", a.platform.as_str())],
                    u64::from(a.days_seen),
                )
            }),
        )?;
        gauges(
            &mut e,
            "seldom_tail_offset_bytes",
            "Bytes of each followed file read and handed to detection.",
            s.tail.files.iter().map(|f| (file(f), f.offset)),
        )?;
        gauges(
            &mut e,
            "seldom_tail_lag_bytes",
            "Bytes of each followed file not yet read.",
            s.tail.files.iter().map(|f| (file(f), f.lag_bytes)),
        )?;
        counters(
            &mut e,
            "seldom_tail_vanished_files",
            "Followed files that disappeared with bytes never read.",
            single(s.tail.vanished_files),
        )?;
        counters(
            &mut e,
            "seldom_tail_vanished_unread_bytes",
            "Bytes never read of followed files that disappeared (at least).",
            single(s.tail.vanished_unread_bytes),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::status::{Activation, TailedFile};

    #[test]
    fn each_figure_is_its_family_with_its_labels_escaped() {
        let dir = tempfile::tempdir().unwrap();
        let mut snapshot = crate::service::tests::service(dir.path(), 4).status();
        snapshot.events_in.insert("winlogbeat".into(), 3);
        snapshot.late_events = 2;
        snapshot.checkpoint_age_seconds = Some(1.5);
        snapshot.activation.push(Activation {
            platform: seldom_model::Platform::Windows,
            days_seen: 9,
            activation_days: 14,
            active: false,
        });
        snapshot.tail.files.push(TailedFile {
            identity: "1:2".into(),
            path: "/logs/a \"b\"\nc.json".into(),
            offset: 10,
            size: 12,
            lag_bytes: 2,
            last_read: None,
            rotated: false,
        });
        snapshot.tail.vanished_unread_bytes = 7;
        let text = render(snapshot).unwrap();
        for line in [
            "# TYPE seldom_events_in_total counter",
            "seldom_events_in_total{format=\"winlogbeat\"} 3",
            "seldom_late_events_total 2",
            "seldom_queue_capacity 4",
            "seldom_checkpoint_age_seconds 1.5",
            "seldom_activation_days_seen{platform=\"windows\"} 9",
            "seldom_tail_lag_bytes{path=\"/logs/a \\\"b\\\"\\nc.json\",identity=\"1:2\"} 2",
            "seldom_tail_vanished_unread_bytes_total 7",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
        // Every family the README and the tests name is there, even empty.
        for family in [
            "seldom_records_skipped_total",
            "seldom_alerts_total",
            "seldom_alerts_suppressed_total",
            "seldom_events_detected_total",
            "seldom_queue_depth",
            "seldom_ingest_refused_total",
            "seldom_checkpoint_failures_total",
            "seldom_future_events_total",
            "seldom_reorder_buffered_events",
            "seldom_reorder_buffered_bytes",
            "seldom_reorder_overflow_total",
            "seldom_baseline_keys",
            "seldom_tail_offset_bytes",
            "seldom_tail_vanished_files_total",
        ] {
            assert!(text.contains(&format!("# TYPE {family} ")), "no {family}");
        }
    }
}
