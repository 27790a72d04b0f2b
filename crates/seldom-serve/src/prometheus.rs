//! `/metrics`: the status figures in Prometheus's text exposition format,
//! one family per figure, labelled by format, reason, variation, platform
//! or followed file.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::http::{App, status_value};

/// Prometheus text exposition of the status figures.
pub async fn metrics(State(app): State<App>) -> Response {
    let v = status_value(&app.shared);
    let mut out = String::new();
    let mut family = |name: &str, help: &str, kind: &str, samples: Vec<(String, f64)>| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        for (labels, value) in samples {
            out.push_str(&format!("{name}{labels} {value}\n"));
        }
    };
    let labelled = |field: &str, label: &str| -> Vec<(String, f64)> {
        v[field]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, n)| {
                        (
                            format!("{{{label}=\"{}\"}}", prometheus_escape(k)),
                            n.as_f64().unwrap_or(0.0),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let single = |field: &str| vec![(String::new(), v[field].as_f64().unwrap_or(0.0))];
    family(
        "seldom_events_in_total",
        "Events decoded from ingest and tailed files, by source format.",
        "counter",
        labelled("events_in", "format"),
    );
    family(
        "seldom_records_skipped_total",
        "Malformed records skipped, by reason.",
        "counter",
        labelled("skipped", "reason"),
    );
    family(
        "seldom_alerts_total",
        "Alerts raised, by variation.",
        "counter",
        labelled("alerts_by_variation", "variation"),
    );
    family(
        "seldom_alerts_suppressed_total",
        "New alerts covered by an allowlist entry.",
        "counter",
        single("suppressed_by_allowlist"),
    );
    family(
        "seldom_events_detected_total",
        "Events the detector has processed.",
        "counter",
        single("events_detected"),
    );
    family(
        "seldom_queue_depth",
        "Batches waiting for the detection thread.",
        "gauge",
        single("queue_depth"),
    );
    family(
        "seldom_queue_capacity",
        "Batches accepted before ingest answers 429.",
        "gauge",
        single("queue_capacity"),
    );
    family(
        "seldom_ingest_refused_total",
        "Ingest requests refused because the queue was full.",
        "counter",
        single("ingest_refused_full"),
    );
    family(
        "seldom_checkpoint_age_seconds",
        "Seconds since the last committed checkpoint.",
        "gauge",
        single("checkpoint_age_seconds"),
    );
    family(
        "seldom_checkpoint_failures_total",
        "Checkpoints that failed to commit.",
        "counter",
        single("checkpoint_failures"),
    );
    family(
        "seldom_future_events_total",
        "Records stamped too far ahead of the wall clock, refused.",
        "counter",
        single("future_events"),
    );
    family(
        "seldom_reorder_buffered_events",
        "Events waiting in the reorder buffer.",
        "gauge",
        single("buffered_events"),
    );
    family(
        "seldom_reorder_buffered_bytes",
        "About how many bytes the reorder buffer holds.",
        "gauge",
        single("buffered_bytes"),
    );
    family(
        "seldom_reorder_overflow_total",
        "Events released early because the reorder buffer was full.",
        "counter",
        single("reorder_overflow"),
    );
    family(
        "seldom_late_events_total",
        "Records that arrived after the organization's clock had passed them.",
        "counter",
        single("late_events"),
    );
    family(
        "seldom_baseline_keys",
        "Destination keys in the prevalence baseline.",
        "gauge",
        single("baseline_keys"),
    );
    let activation: Vec<(String, f64)> = v["activation"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        format!(
                            "{{platform=\"{}\"}}",
                            prometheus_escape(p["platform"].as_str().unwrap_or(""))
                        ),
                        p["days_seen"].as_f64().unwrap_or(0.0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    family(
        "seldom_activation_days_seen",
        "Days of event time seen per platform (alerts start at the activation period).",
        "gauge",
        activation,
    );
    let tail_files = |field: &str| -> Vec<(String, f64)> {
        v["tail"]["files"]
            .as_array()
            .map(|files| {
                files
                    .iter()
                    .map(|f| {
                        let labels = format!(
                            "{{path=\"{}\",identity=\"{}\"}}",
                            prometheus_escape(f["path"].as_str().unwrap_or("")),
                            prometheus_escape(f["identity"].as_str().unwrap_or(""))
                        );
                        (labels, f[field].as_f64().unwrap_or(0.0))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    family(
        "seldom_tail_offset_bytes",
        "Bytes of each followed file read and handed to detection.",
        "gauge",
        tail_files("offset"),
    );
    family(
        "seldom_tail_lag_bytes",
        "Bytes of each followed file not yet read.",
        "gauge",
        tail_files("lag_bytes"),
    );
    let tail_single = |field: &str| vec![(String::new(), v["tail"][field].as_f64().unwrap_or(0.0))];
    family(
        "seldom_tail_vanished_files_total",
        "Followed files that disappeared with bytes never read.",
        "counter",
        tail_single("vanished_files"),
    );
    family(
        "seldom_tail_vanished_unread_bytes_total",
        "Bytes never read of followed files that disappeared (at least).",
        "counter",
        tail_single("vanished_unread_bytes"),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

fn prometheus_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
