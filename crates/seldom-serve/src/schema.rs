//! OpenAPI schemas of what the API shows but other crates define: the
//! detector's `Alert` and the model's `Event`. The core crates know nothing
//! of OpenAPI (ARCHITECTURE.md), so these are written out here rather than
//! derived; the API fuzz run (`scripts/api-fuzz`) checks real alerts
//! against them. Every other schema is derived from its type.

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat,
    SchemaType, Type,
};
use utoipa::{PartialSchema, ToSchema};

/// A string that is one of `values`.
pub fn choice(values: &[&str]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

/// An allowlist entry's kind ([`seldom_detect::allow::AllowKind`]).
pub fn allow_kind() -> Object {
    let mut kind = choice(&["domain", "ip", "cidr", "image", "host", "variation"]);
    kind.description = Some(
        "What the value names: a registered domain (covers its subdomains), an IP address, a network, a process image, a host, or a variation".into(),
    );
    kind
}

/// A query filter's time: an RFC 3339 date-time, or empty (no filter).
pub fn time_filter() -> Schema {
    let empty = ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(0))
        .build();
    AnyOfBuilder::new()
        .item(date_time())
        .item(empty)
        .build()
        .into()
}

fn string() -> Object {
    Object::with_type(Type::String)
}

fn nullable_string() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .build()
}

fn date_time() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .build()
}

fn object(description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .build()
}

/// `seldom_detect::Alert`, as `seldom scan --format jsonl` writes it.
pub struct AlertSchema;

impl PartialSchema for AlertSchema {
    fn schema() -> RefOr<Schema> {
        let strings = ArrayBuilder::new().items(string()).build();
        let objects = |what: &str| ArrayBuilder::new().items(object(what)).build();
        let destination = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "ip, port, protocol, hostname, forward_name, registered_domain, and the key prevalence is counted on",
            ))
            .property("ip", string())
            .property("forward_name", nullable_string())
            .property("registered_domain", nullable_string())
            .property("key", object("{type, value}: a registered domain or an IP"))
            .required("ip")
            .required("key")
            .build();
        let process = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("image", nullable_string())
            .property("command_line", nullable_string())
            .build();
        let required = [
            "id",
            "variation",
            "name",
            "severity",
            "first_seen",
            "last_seen",
            "count",
            "host",
            "platform",
            "process",
            "destination",
            "explanation",
        ];
        let mut alert = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "The alert of the detection (README, 'The alert'); the schema of `seldom scan --format jsonl`.",
            ))
            .property("id", string())
            .property("variation", string())
            .property("name", string())
            .property(
                "severity",
                choice(&["high", "medium", "low", "informational"]),
            )
            .property("attack", objects("an ATT&CK technique"))
            .property("first_seen", date_time())
            .property("last_seen", date_time())
            .property(
                "count",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .build(),
            )
            .property("host", string())
            .property("platform", string())
            .property("user", nullable_string())
            .property("process", process)
            .property("chain", objects("an ancestor, nearest first"))
            .property("destination", destination)
            .property("prevalence", object("what the baseline knew when it alerted"))
            .property("matched_because", string())
            .property("also_matched", strings.clone())
            .property("explanation", string())
            .property("description", string())
            .property("attacker_goals", string())
            .property("investigative_actions", string())
            .property("source_events", objects("where an event behind the alert came from"))
            .property(
                "incident",
                object("{id, hosts}: the incident of its destination, every host it reached (alerted or spread)"),
            )
            .property(
                "beacon",
                object("{contacts, median_interval_seconds, dispersion, first, last, base_severity, contact_times, bytes_median?, bytes_dispersion?}: its contacts are periodic"),
            )
            .property(
                "digest",
                object("{day, budget, alerts, top_destinations, top_hosts}: alerts past the daily budget, folded"),
            );
        for field in required {
            alert = alert.required(field);
        }
        alert.build().into()
    }
}

impl ToSchema for AlertSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Alert")
    }
}

/// `seldom_model::Event`: a normalized event (its kind, host, time, process
/// and connection fields).
pub struct EventSchema;

impl PartialSchema for EventSchema {
    fn schema() -> RefOr<Schema> {
        object("A normalized event the alert was raised on").into()
    }
}

impl ToSchema for EventSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Event")
    }
}

/// An ingest body as text: JSON lines (or any text format `scan` reads),
/// with something besides white space in it.
pub struct TextBatch;

impl PartialSchema for TextBatch {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .pattern(Some(r"\S"))
            .description(Some(
                "Records, one per line (or any text format `scan` reads)",
            ))
            .build()
            .into()
    }
}

impl ToSchema for TextBatch {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TextBatch")
    }
}

/// An ingest body as bytes: gzip, EVTX, an archive, or text.
pub struct BinaryBatch;

impl PartialSchema for BinaryBatch {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .min_length(Some(1))
            .pattern(Some(r"\S"))
            .description(Some(
                "gzip-compressed records, an EVTX file, an archive, or text; not empty, nor only white space",
            ))
            .build()
            .into()
    }
}

impl ToSchema for BinaryBatch {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("BinaryBatch")
    }
}
