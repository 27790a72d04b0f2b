//! Windows `<Event>` XML, as the `evtx` crate renders a record and as Sysmon for
//! Linux writes to syslog.
//!
//! Only `System` (event id, computer, channel, provider, time, record id) and
//! `EventData/Data[@Name]` are read; text is unescaped and borrowed from the
//! document where it holds no entities.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event as XmlEvent};

use crate::fields::{Field, RawRecord};

#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    #[error("XML syntax at byte {position}: {message}")]
    Syntax { position: u64, message: String },
    #[error("not an <Event> document")]
    NotAnEvent,
}

/// Walks one `<Event>` (or bare `<EventData>`) document into fields.
pub fn walk(text: &str) -> Result<RawRecord<'_>, XmlError> {
    let mut reader = Reader::from_str(text);
    let mut record = RawRecord::new();
    let mut saw_event = false;
    let mut in_system = false;
    loop {
        let event = reader.read_event().map_err(|e| syntax(&reader, e))?;
        match event {
            XmlEvent::Start(start) => match start.local_name().as_ref() {
                // `<EventData>` alone is how Azure `SecurityEvent` rows carry their data.
                "Event" | "EventData" => saw_event = true,
                "System" => in_system = true,
                "Data" => {
                    let field = data_field(&start);
                    let end = start.to_end();
                    let raw = reader
                        .read_text(end.name())
                        .map_err(|e| syntax(&reader, e))?;
                    if let Some(field) = field {
                        record.set(field, unescape(raw.into_inner()));
                    }
                }
                name if in_system => {
                    let field = Field::system(name);
                    attributes_of(&start, &mut record);
                    if let Some(field) = field {
                        let end = start.to_end();
                        let raw = reader
                            .read_text(end.name())
                            .map_err(|e| syntax(&reader, e))?;
                        record.set(field, unescape(raw.into_inner()));
                    }
                }
                _ => {}
            },
            XmlEvent::Empty(start) if in_system => attributes_of(&start, &mut record),
            XmlEvent::End(end) if end.local_name().as_ref() == "System" => in_system = false,
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    if !saw_event {
        return Err(XmlError::NotAnEvent);
    }
    Ok(record)
}

fn syntax(reader: &Reader<&[u8]>, error: quick_xml::Error) -> XmlError {
    XmlError::Syntax {
        position: reader.buffer_position(),
        message: error.to_string(),
    }
}

/// `<Provider Name=".."/>` and `<TimeCreated SystemTime=".."/>`.
fn attributes_of(start: &BytesStart<'_>, record: &mut RawRecord<'_>) {
    let Some((field, attr)) = Field::system_attribute(start.local_name().as_ref()) else {
        return;
    };
    if let Some(a) = attribute(start, attr)
        && let Ok(value) = a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
    {
        record.set(field, Cow::Owned(value.into_owned()));
    }
}

fn data_field(start: &BytesStart<'_>) -> Option<Field> {
    let name = attribute(start, "Name")?;
    Field::event_data(name.value.as_ref())
}

/// An attribute by name, the first of that name: without the duplicate
/// check `try_get_attribute` runs on every attribute before it (a cost per
/// `<Data>` of every record, for documents a renderer wrote).
fn attribute<'a>(
    start: &'a BytesStart<'_>,
    name: &str,
) -> Option<quick_xml::events::attributes::Attribute<'a>> {
    start
        .attributes()
        .with_checks(false)
        .map_while(Result::ok)
        .find(|a| a.key.as_ref() == name)
}

pub(crate) fn unescape(raw: Cow<'_, str>) -> Cow<'_, str> {
    match raw {
        Cow::Borrowed(text) => quick_xml::escape::unescape(text).unwrap_or(Cow::Borrowed(text)),
        Cow::Owned(text) => match quick_xml::escape::unescape(&text) {
            Ok(Cow::Borrowed(_)) | Err(_) => Cow::Owned(text),
            Ok(Cow::Owned(unescaped)) => Cow::Owned(unescaped),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSMON_LINUX: &str = r#"<Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>3</EventID><TimeCreated SystemTime="2022-05-11T18:10:20.465735000Z"/><EventRecordID>245754</EventRecordID><Channel>Linux-Sysmon/Operational</Channel><Computer>UBUNTU5</Computer></System><EventData><Data Name="RuleName">-</Data><Data Name="Image">/usr/bin/a&amp;b</Data><Data Name="DestinationIp">104.46.127.225</Data><Data Name="DestinationHostname"/></EventData></Event>"#;

    #[test]
    fn reads_system_and_event_data() {
        let r = walk(SYSMON_LINUX).unwrap();
        assert_eq!(r.get(Field::EventId), Some("3"));
        assert_eq!(r.get(Field::Computer), Some("UBUNTU5"));
        assert_eq!(r.get(Field::Provider), Some("Linux-Sysmon"));
        assert_eq!(r.get(Field::Channel), Some("Linux-Sysmon/Operational"));
        assert_eq!(
            r.get(Field::SystemTime),
            Some("2022-05-11T18:10:20.465735000Z")
        );
        assert_eq!(r.get(Field::RecordId), Some("245754"));
        assert_eq!(r.get(Field::Image), Some("/usr/bin/a&b"));
        assert_eq!(r.get(Field::DestinationIp), Some("104.46.127.225"));
        assert_eq!(r.get(Field::DestinationHostname), None);
    }

    #[test]
    fn truncated_documents_are_errors_not_panics() {
        for cut in [10, 50, 200, SYSMON_LINUX.len() - 5] {
            let _ = walk(&SYSMON_LINUX[..cut]);
        }
        assert!(walk("<Other/>").is_err());
        assert!(walk("<Event><System><EventID>1</Event>").is_err());
    }
}
