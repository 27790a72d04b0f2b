//! JSON lines in every layout the corpus holds, read in one pass.
//!
//! A serde visitor walks the document and keeps only the fields seldom reads,
//! borrowing strings from the line where they hold no escapes. Which container
//! a key sits in decides what it means:
//!
//! | layout | envelope | event data |
//! |---|---|---|
//! | Winlogbeat 7+ | `winlog.event_id`, `winlog.computer_name`, `winlog.channel` | `winlog.event_data.*` |
//! | Winlogbeat 6 | `event_id`, `computer_name`, `log_name`, `source_name` | `event_data.*` |
//! | flat (NXLog) | `EventID`, `Hostname`, `Channel`, `SourceName` | top level |
//! | Azure `WindowsEvent` | `EventID`, `Computer`, `TimeGenerated` | `EventData`, a JSON string |
//! | Azure `SecurityEvent` | `EventID`, `Computer`, `EventSourceName` | `EventData`, an XML string |
//! | Azure `Syslog` | `Computer`, `SyslogMessage` | a Sysmon for Linux `<Event>` XML string |
//! | `evtx_dump` JSON | `Event.System.*` | `Event.EventData.*` |
//! | Zeek JSON | `ts`, `id.orig_h` (or `id_orig_h`), `_path` or `@stream` | top level |
//!
//! Flat layouts put the collector's name in a top-level `host` string and the
//! real host in `Hostname`; Winlogbeat puts the collector in `host.name` and the
//! real host in `computer_name`. Both are kept apart on purpose.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::fields::{Field, RawRecord};

/// What the walk learned about the layout, besides the fields.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JsonShape {
    pub winlogbeat: bool,
    pub evtx_dump: bool,
    pub azure_event_data: bool,
    pub syslog_message: bool,
    pub root_event_id: bool,
    pub zeek: bool,
}

/// A JSON document walked into fields; strings it held in escaped form (the
/// Azure `EventData` and `SyslogMessage`) are returned for a second decoder.
#[derive(Debug, Default, PartialEq)]
pub struct JsonRecord<'a> {
    pub fields: RawRecord<'a>,
    pub shape: JsonShape,
    pub embedded_event_data: Option<Cow<'a, str>>,
    pub syslog_message: Option<Cow<'a, str>>,
}

/// Walks one JSON document. Errors are serde_json's, with line and column.
#[cfg(test)]
pub fn walk(text: &str) -> Result<JsonRecord<'_>, serde_json::Error> {
    let mut record = JsonRecord::default();
    walk_into(text, &mut record)?;
    Ok(record)
}

/// `walk` into a record the caller holds: a record is over a kilobyte of
/// field slots, and returning one by value copies it. The record is emptied
/// first (the scanner may have filled part of it before declining the line).
pub fn walk_into<'a>(text: &'a str, record: &mut JsonRecord<'a>) -> Result<(), serde_json::Error> {
    *record = JsonRecord::default();
    let mut deserializer = serde_json::Deserializer::from_str(text);
    Walker {
        ctx: Ctx::Root,
        out: record,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()
}

/// Walks a JSON object whose keys are event-data names (Azure's `EventData` string).
pub fn walk_event_data(text: &str) -> Result<RawRecord<'_>, serde_json::Error> {
    let mut record = JsonRecord {
        fields: RawRecord::new(),
        ..JsonRecord::default()
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    Walker {
        ctx: Ctx::EventData,
        out: &mut record,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(record.fields)
}

/// The container a key is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ctx {
    Root,
    Winlog,
    EventData,
    BeatHost,
    EvtxEvent,
    EvtxSystem,
    Attributes(AttrOwner),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttrOwner {
    Provider,
    TimeCreated,
}

/// What to do with the value under a key.
pub(crate) enum Target {
    Field(Field),
    Enter(Ctx),
    /// An object holding `#attributes` (evtx_dump's rendering of XML attributes).
    AttributesOf(AttrOwner),
    RootEventData,
    SyslogMessage,
    Ignore,
}

/// What a key means in its container: the one table of both walks, this
/// module's and `json_scan`'s.
pub(crate) fn target(ctx: Ctx, key: &str, shape: &mut JsonShape) -> Target {
    match ctx {
        Ctx::Root => match key {
            "EventID" => {
                shape.root_event_id = true;
                Target::Field(Field::EventId)
            }
            "event_id" => {
                shape.winlogbeat = true;
                Target::Field(Field::EventId)
            }
            "Hostname" | "computer_name" | "Computer" | "HostName" => {
                Target::Field(Field::Computer)
            }
            "Channel" | "log_name" => Target::Field(Field::Channel),
            "SourceName" | "source_name" | "Provider" | "EventSourceName" => {
                Target::Field(Field::Provider)
            }
            "TimeCreated" => Target::Field(Field::TimeCreatedText),
            "@timestamp" => Target::Field(Field::AtTimestamp),
            "TimeGenerated" => Target::Field(Field::TimeGenerated),
            "RecordNumber" | "record_number" => Target::Field(Field::RecordId),
            "winlog" => {
                shape.winlogbeat = true;
                Target::Enter(Ctx::Winlog)
            }
            "event_data" => {
                shape.winlogbeat = true;
                Target::Enter(Ctx::EventData)
            }
            "host" => Target::Enter(Ctx::BeatHost),
            "Event" => {
                shape.evtx_dump = true;
                Target::Enter(Ctx::EvtxEvent)
            }
            "EventData" => Target::RootEventData,
            "SyslogMessage" => Target::SyslogMessage,
            other => match Field::event_data(other) {
                Some(field) => Target::Field(field),
                None => match Field::zeek(other) {
                    Some(field) => {
                        if field == Field::ZeekOrigH {
                            shape.zeek = true;
                        }
                        Target::Field(field)
                    }
                    None => Target::Ignore,
                },
            },
        },
        Ctx::Winlog => match key {
            "event_id" => Target::Field(Field::EventId),
            "computer_name" => Target::Field(Field::Computer),
            "channel" => Target::Field(Field::Channel),
            "provider_name" => Target::Field(Field::Provider),
            "record_id" => Target::Field(Field::RecordId),
            "event_data" => Target::Enter(Ctx::EventData),
            _ => Target::Ignore,
        },
        Ctx::EventData => Field::event_data(key).map_or(Target::Ignore, Target::Field),
        Ctx::BeatHost => match key {
            "name" => Target::Field(Field::BeatHostName),
            _ => Target::Ignore,
        },
        Ctx::EvtxEvent => match key {
            "System" => Target::Enter(Ctx::EvtxSystem),
            "EventData" => Target::Enter(Ctx::EventData),
            _ => Target::Ignore,
        },
        Ctx::EvtxSystem => match key {
            "EventID" => Target::Field(Field::EventId),
            "Computer" => Target::Field(Field::Computer),
            "Channel" => Target::Field(Field::Channel),
            "EventRecordID" => Target::Field(Field::RecordId),
            "Provider" => Target::AttributesOf(AttrOwner::Provider),
            "TimeCreated" => Target::AttributesOf(AttrOwner::TimeCreated),
            _ => Target::Ignore,
        },
        Ctx::Attributes(owner) => match (owner, key) {
            (AttrOwner::Provider, "Name") => Target::Field(Field::Provider),
            (AttrOwner::TimeCreated, "SystemTime") => Target::Field(Field::SystemTime),
            _ => Target::Ignore,
        },
    }
}

struct Walker<'r, 'a> {
    ctx: Ctx,
    out: &'r mut JsonRecord<'a>,
}

impl<'de> DeserializeSeed<'de> for Walker<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walker<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match target(self.ctx, &key.0, &mut self.out.shape) {
                Target::Field(field) => {
                    if let Some(value) = map.next_value::<Scalar<'de>>()?.0 {
                        self.out.fields.set(field, value);
                    }
                }
                Target::Enter(ctx) => map.next_value_seed(Walker { ctx, out: self.out })?,
                Target::AttributesOf(owner) => map.next_value_seed(AttributesHolder {
                    owner,
                    out: self.out,
                })?,
                Target::RootEventData => {
                    // Azure carries event data as a string; the evtx_dump object form
                    // is read under `Event`, and any other object form has no known owner.
                    if let Scalar(Some(text)) = map.next_value::<Scalar<'de>>()? {
                        self.out.shape.azure_event_data = true;
                        self.out.embedded_event_data = Some(text);
                    }
                }
                Target::SyslogMessage => {
                    if let Scalar(Some(text)) = map.next_value::<Scalar<'de>>()? {
                        self.out.shape.syslog_message = true;
                        self.out.syslog_message = Some(text);
                    }
                }
                Target::Ignore => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    // A non-object where an object was expected (a top-level array, a string
    // `host`): nothing of ours is in it.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// `{"#attributes": {...}}` as evtx_dump renders `<Provider Name="..."/>`.
struct AttributesHolder<'r, 'a> {
    owner: AttrOwner,
    out: &'r mut JsonRecord<'a>,
}

impl<'de> DeserializeSeed<'de> for AttributesHolder<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AttributesHolder<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object with #attributes")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Text<'de>>()? {
            if key.0 == "#attributes" {
                map.next_value_seed(Walker {
                    ctx: Ctx::Attributes(self.owner),
                    out: self.out,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// A key, borrowed from the input when it holds no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// A scalar value as text: strings as they are, numbers and booleans printed,
/// `null` as absent. An object stands for its `#text` member (evtx_dump writes
/// `{"#attributes": {"Qualifiers": ...}, "#text": 4688}` for some event ids).
struct Scalar<'a>(Option<Cow<'a, str>>);

impl<'de> de::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar<'de>, E> {
                Ok(Scalar(Some(Cow::Owned(v))))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar(Some(Cow::Borrowed(if v {
                    "true"
                } else {
                    "false"
                }))))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar<'de>, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar<'de>, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar<'de>, E> {
                Ok(Scalar(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_unit<E>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar(None))
            }
            fn visit_none<E>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar(None))
            }
            /// A list (Zeek's `answers`) as its items joined by commas.
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar<'de>, A::Error> {
                let mut items: Vec<Cow<'de, str>> = Vec::new();
                while let Some(Scalar(item)) = seq.next_element::<Scalar<'de>>()? {
                    items.extend(item);
                }
                Ok(Scalar(
                    (!items.is_empty()).then(|| Cow::Owned(items.join(","))),
                ))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<'de>, A::Error> {
                let mut text = None;
                while let Some(key) = map.next_key::<Text<'de>>()? {
                    if key.0 == "#text" && text.is_none() {
                        text = map.next_value::<Scalar<'de>>()?.0;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Scalar(text))
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winlogbeat7_reads_nested_event_data_and_real_host() {
        let line = r#"{"@timestamp":"2024-01-01T00:00:00Z","host":{"name":"wec"},"winlog":{"event_id":3,"computer_name":"WS1.corp.local","channel":"Microsoft-Windows-Sysmon/Operational","event_data":{"Image":"C:\\x.exe","DestinationIp":"1.2.3.4"}}}"#;
        let r = walk(line).unwrap();
        assert!(r.shape.winlogbeat);
        assert_eq!(r.fields.get(Field::EventId), Some("3"));
        assert_eq!(r.fields.get(Field::Computer), Some("WS1.corp.local"));
        assert_eq!(r.fields.get(Field::BeatHostName), Some("wec"));
        assert_eq!(r.fields.get(Field::Image), Some("C:\\x.exe"));
        assert_eq!(r.fields.get(Field::DestinationIp), Some("1.2.3.4"));
    }

    #[test]
    fn flat_collector_host_string_is_not_the_host() {
        let r = walk(r#"{"EventID":3,"host":"wec.internal","Hostname":"WS5"}"#).unwrap();
        assert_eq!(r.fields.get(Field::Computer), Some("WS5"));
        assert_eq!(r.fields.get(Field::BeatHostName), None);
    }

    #[test]
    fn evtx_dump_event_id_with_qualifiers_reads_its_text() {
        let r = walk(r##"{"Event":{"System":{"EventID":{"#attributes":{"Qualifiers":0},"#text":4688},"Provider":{"#attributes":{"Name":"P"}},"TimeCreated":{"#attributes":{"SystemTime":"2020-01-01T00:00:00Z"}}}}}"##).unwrap();
        assert!(r.shape.evtx_dump);
        assert_eq!(r.fields.get(Field::EventId), Some("4688"));
        assert_eq!(r.fields.get(Field::Provider), Some("P"));
        assert_eq!(
            r.fields.get(Field::SystemTime),
            Some("2020-01-01T00:00:00Z")
        );
    }

    #[test]
    fn unescaped_strings_are_borrowed() {
        let line = r#"{"EventID":1,"Image":"plain"}"#;
        let r = walk(line).unwrap();
        let image = r.fields.get(Field::Image).unwrap();
        let range = line.as_bytes().as_ptr_range();
        assert!(
            range.contains(&image.as_ptr()),
            "value should point into the line"
        );
    }

    #[test]
    fn trailing_garbage_is_an_error() {
        assert!(walk(r#"{"EventID":1} x"#).is_err());
        assert!(walk(r#"{"EventID":1"#).is_err());
    }

    #[test]
    fn walk_into_starts_from_an_empty_record() {
        // As a scan the scanner declined can leave it.
        let mut record = JsonRecord::default();
        record.fields.set(Field::Image, Cow::Borrowed("left over"));
        record.syslog_message = Some(Cow::Borrowed("left over"));
        walk_into(r#"{"EventID":3}"#, &mut record).expect("reads");
        assert_eq!(record.fields.get(Field::Image), None);
        assert_eq!(record.syslog_message, None);
        assert_eq!(record.fields.get(Field::EventId), Some("3"));
    }
}
