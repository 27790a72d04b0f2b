//! One record in, one decision out: which layout it is, and what it becomes.
//!
//! The layout is read from the record itself, never from a file name: a
//! Winlogbeat line, a flat NXLog line and an Azure row can sit in the same file.

use std::borrow::Cow;

use seldom_model::{Location, SourceFormat, Timestamp};

use crate::audit;
use crate::decode_order::FirstLook;
use crate::fields::{Field, RawRecord};
use crate::json::{self, JsonRecord};
use crate::json_scan;
use crate::normalize::{Decoded, NormalizeOptions, normalize};
use crate::stats::{IgnoreReason, Malformed, SkipReason};
use crate::xml;
use crate::zeek::{ZeekLog, zeek_record};

/// Decodes the JSON lines of one stream. It remembers, per stream, the offset
/// between a host's local clock and UTC when a record shows both (Sysmon's
/// `UtcTime` beside a zone-less `TimeCreated`), so that records carrying only
/// local time can be placed in UTC.
#[derive(Debug, Default)]
pub struct JsonDecoder {
    options: NormalizeOptions,
    local_offset_micros: Option<i64>,
    /// A record read its time as local time before this decoder had learned
    /// an offset of its own: its outcome depended on what came before.
    needed_earlier_offset: bool,
    /// Whether the prefilter or the scanner looks at a line first.
    first_look: FirstLook,
}

/// Local-time offsets are whole quarter hours; the two clocks of one record
/// differ by a few milliseconds of logging delay, which rounding removes.
const QUARTER_HOUR_MICROS: i64 = 15 * 60 * 1_000_000;

impl JsonDecoder {
    pub fn new(options: NormalizeOptions) -> Self {
        JsonDecoder {
            options,
            local_offset_micros: None,
            needed_earlier_offset: false,
            first_look: FirstLook::default(),
        }
    }

    /// A decoder that continues a stream whose earlier records taught `offset`.
    pub fn continuing(options: NormalizeOptions, offset: Option<i64>) -> Self {
        JsonDecoder {
            local_offset_micros: offset,
            ..JsonDecoder::new(options)
        }
    }

    /// The local-time offset learned so far (the decoder's only state).
    pub fn local_offset(&self) -> Option<i64> {
        self.local_offset_micros
    }

    /// Whether some record's outcome depended on an offset learned before
    /// this decoder started: decoded apart from its stream's beginning, such
    /// a part must be decoded again, in order (see `parallel`).
    pub fn needed_earlier_offset(&self) -> bool {
        self.needed_earlier_offset
    }

    /// Decodes one JSON document (one line of a JSON-lines file).
    pub fn decode(&mut self, text: &str, origin: Location) -> Result<Decoded, Malformed> {
        let decoded = self.decode_line(text, origin);
        let dropped = matches!(decoded, Ok(Decoded::Ignored(IgnoreReason::OtherEventId)));
        self.first_look.count(dropped);
        decoded
    }

    fn decode_line(&mut self, text: &str, origin: Location) -> Result<Decoded, Malformed> {
        let unread = || crate::prefilter::is_unread_event(text.as_bytes());
        // Either order gives the same outcome (see `decode_order`).
        let prefilter_first = self.options.prefilter
            && (self.first_look.prefilter_first() || !self.options.json_scanner);
        if prefilter_first && unread() {
            return Ok(Decoded::Ignored(IgnoreReason::OtherEventId));
        }
        // One record, filled in place: it is over a kilobyte of field slots,
        // and each move of it by value was a copy.
        let mut record = JsonRecord::default();
        let scanned = self.options.json_scanner && json_scan::walk_into(text, &mut record);
        if !scanned && self.options.prefilter && !prefilter_first && unread() {
            return Ok(Decoded::Ignored(IgnoreReason::OtherEventId));
        }
        if !scanned {
            // The scanner declined (or is off): serde's walk reads it (into
            // the record emptied again), or names what is wrong with it.
            json::walk_into(text, &mut record)
                .map_err(|e| Malformed::new(SkipReason::BadJson, e.to_string()))?;
        }
        let fields = &mut record.fields;
        let format = if let Some(message) = record.syslog_message.take() {
            if message.trim_start().starts_with("type=AUOMS_") {
                return auoms_row(&message, fields.get(Field::Computer), origin);
            }
            if !message.trim_start().starts_with("<Event") {
                // Syslog rows of other daemons.
                return Ok(Decoded::Ignored(IgnoreReason::UnknownLayout));
            }
            let message = repair_sysmon_linux_entities(message);
            let embedded = xml::walk(&message)
                .map_err(|e| Malformed::new(SkipReason::BadXml, format!("SyslogMessage: {e}")))?;
            fields.merge_owned(embedded);
            SourceFormat::SyslogSysmonXml
        } else if let Some(event_data) = record.embedded_event_data.take() {
            let trimmed = event_data.trim_start();
            if trimmed.starts_with('{') {
                let scanned = self
                    .options
                    .json_scanner
                    .then(|| json_scan::walk_event_data(&event_data));
                let embedded = match scanned.flatten() {
                    Some(embedded) => embedded,
                    None => json::walk_event_data(&event_data).map_err(|e| {
                        Malformed::new(SkipReason::BadJson, format!("EventData: {e}"))
                    })?,
                };
                fields.merge_owned(embedded);
            } else if trimmed.starts_with('<') {
                let embedded = xml::walk(&event_data)
                    .map_err(|e| Malformed::new(SkipReason::BadXml, format!("EventData: {e}")))?;
                fields.merge_owned(embedded);
            }
            SourceFormat::AzureWindowsEvent
        } else if record.shape.zeek && !record.shape.root_event_id {
            let path = fields.get(Field::ZeekPath);
            let log = ZeekLog::detect(path, |name| {
                Field::zeek(name).is_some_and(|f| fields.has(f))
            });
            return zeek_record(
                log,
                |name| Field::zeek(name).and_then(|f| fields.get(f)),
                origin,
            );
        } else if record.shape.winlogbeat {
            SourceFormat::Winlogbeat
        } else if record.shape.evtx_dump {
            SourceFormat::EvtxJson
        } else if record.shape.root_event_id {
            SourceFormat::FlatJson
        } else {
            return self.decode_schema(text, origin);
        };
        self.learn_local_offset(fields);
        if self.local_offset_micros.is_none()
            && fields
                .get(Field::TimeCreatedText)
                .is_some_and(|t| !crate::zone::has_zone(t))
        {
            self.needed_earlier_offset = true;
        }
        normalize(
            fields,
            format,
            origin,
            &self.options,
            self.local_offset_micros,
        )
    }

    /// ECS and OCSF documents name their fields by schema paths, nested or
    /// dotted; they are read from a parsed tree (a slower path than the walk,
    /// taken only by documents no walked layout claimed).
    fn decode_schema(&self, text: &str, origin: Location) -> Result<Decoded, Malformed> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Malformed::new(SkipReason::BadJson, e.to_string()))?;
        if crate::ocsf::is_ocsf(&value) {
            crate::ocsf::decode(&value, origin, &self.options)
        } else if crate::ecs::is_ecs(&value) {
            crate::ecs::decode(&value, origin, &self.options)
        } else {
            Ok(Decoded::Ignored(IgnoreReason::UnknownLayout))
        }
    }

    fn learn_local_offset(&mut self, fields: &crate::fields::RawRecord<'_>) {
        let (Some(utc), Some(local)) = (
            fields.get(Field::UtcTime),
            fields.get(Field::TimeCreatedText),
        ) else {
            return;
        };
        if crate::zone::has_zone(local) {
            return;
        }
        if let (Some(utc), Some(local)) = (Timestamp::parse(utc), Timestamp::parse(local)) {
            let delta = local.as_micros() - utc.as_micros();
            let rounded =
                (delta as f64 / QUARTER_HOUR_MICROS as f64).round() as i64 * QUARTER_HOUR_MICROS;
            self.local_offset_micros = Some(rounded);
        }
    }
}

/// An auoms record carried in a Syslog row: a whole event on one line.
fn auoms_row(
    message: &str,
    computer: Option<&str>,
    origin: Location,
) -> Result<Decoded, Malformed> {
    let record = audit::parse_record(message)?;
    let mut assembler =
        audit::AuditAssembler::new(computer.unwrap_or("unknown"), SourceFormat::Auoms);
    assembler
        .push(record, origin)
        .into_iter()
        .next()
        .unwrap_or(Ok(Decoded::Ignored(IgnoreReason::OtherEventId)))
}

/// Sysmon for Linux writes its escapes with a space where the `;` belongs
/// (`&lt unknown process&gt `, `'2030'&quot  | grep`), which no XML reader
/// accepts. Only the five predefined references broken that way are mended;
/// anything else malformed stays malformed.
fn repair_sysmon_linux_entities(message: Cow<'_, str>) -> Cow<'_, str> {
    const BROKEN: [(&str, &str); 5] = [
        ("&lt ", "&lt;"),
        ("&gt ", "&gt;"),
        ("&quot ", "&quot;"),
        ("&apos ", "&apos;"),
        ("&amp ", "&amp;"),
    ];
    if !BROKEN.iter().any(|(broken, _)| message.contains(broken)) {
        return message;
    }
    let mut repaired = message.into_owned();
    for (broken, fixed) in BROKEN {
        repaired = repaired.replace(broken, fixed);
    }
    Cow::Owned(repaired)
}

/// Decodes one `<Event>` XML document (an EVTX record, or a line of XML events).
pub fn decode_xml(
    text: &str,
    format: SourceFormat,
    origin: Location,
    options: &NormalizeOptions,
) -> Result<Decoded, Malformed> {
    let fields: RawRecord<'_> =
        xml::walk(text).map_err(|e| Malformed::new(SkipReason::BadXml, e.to_string()))?;
    normalize(&fields, format, origin, options, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One fast decoder (prefilter and scanner, either looking first) and
    /// one plain one over a stream whose share of unread lines swings, so
    /// that the fast one changes its first look several times: the same
    /// outcome for every line, but a malformed line of an unread id, which
    /// the fast one counts as ignored whichever look comes first.
    #[test]
    fn the_first_look_changes_no_outcome() {
        use std::sync::Arc;
        let read = r#"{"EventID":3,"Hostname":"WS1","UtcTime":"2024-01-01 00:00:00.000","ProcessGuid":"{1}","ProcessId":"4","Image":"C:\\a.exe","Protocol":"tcp","Initiated":"true","SourceIp":"10.0.0.1","SourcePort":"5000","DestinationIp":"8.8.8.8","DestinationPort":"443"}"#;
        let unread = r#"{"EventID":10,"Hostname":"WS1","UtcTime":"2024-01-01 00:00:00.000"}"#;
        let malformed_unread = r#"{"EventID":10,"Hostname":"WS1","x":tru}"#;
        let malformed_read = r#"{"EventID":3,"Hostname":"WS1","x":tru}"#;
        let mut fast = JsonDecoder::new(NormalizeOptions::default());
        let mut plain = JsonDecoder::new(NormalizeOptions {
            prefilter: false,
            json_scanner: false,
            ..NormalizeOptions::default()
        });
        let (mut looks, mut number) = ([0usize; 2], 0u64);
        for block in 0..6 {
            for index in 0..300 {
                let line = match index % 10 {
                    3 => malformed_unread,
                    7 => malformed_read,
                    _ if block % 2 == 0 => read,
                    _ => unread,
                };
                number += 1;
                looks[usize::from(fast.first_look.prefilter_first())] += 1;
                let at = Location::at_line(Arc::from("t"), number);
                let a = plain.decode(line, at.clone());
                let b = fast.decode(line, at);
                match (&a, &b) {
                    (Ok(Decoded::Event(x)), Ok(Decoded::Event(y))) => assert!(x == y, "{line}"),
                    (Ok(Decoded::Ignored(x)), Ok(Decoded::Ignored(y))) => assert_eq!(x, y),
                    (Err(x), Err(y)) => assert_eq!(x, y, "{line}"),
                    (Err(_), Ok(Decoded::Ignored(IgnoreReason::OtherEventId)))
                        if line == malformed_unread => {}
                    _ => panic!("{line}: {a:?} against {b:?}"),
                }
                if line == malformed_unread {
                    assert!(matches!(
                        b,
                        Ok(Decoded::Ignored(IgnoreReason::OtherEventId))
                    ));
                }
            }
        }
        assert!(
            looks[0] > 300 && looks[1] > 300,
            "both looks went first: {looks:?}"
        );
    }

    #[test]
    fn sysmon_linux_broken_escapes_are_mended() {
        let fixed = repair_sysmon_linux_entities(Cow::Borrowed(
            "&lt unknown process&gt  and &quot x&quot ",
        ));
        assert_eq!(fixed, "&lt;unknown process&gt; and &quot;x&quot;");
        assert!(matches!(
            repair_sysmon_linux_entities(Cow::Borrowed("&lt;ok&gt;")),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn zones_are_recognized() {
        assert!(crate::zone::has_zone("2020-10-22T02:21:38.485Z"));
        assert!(crate::zone::has_zone("2020-10-22T02:21:38+02:00"));
        assert!(!crate::zone::has_zone("2020-10-18 02:17:12.527"));
    }
}
