//! The raw fields of one record, by name, before any interpretation.
//!
//! Every layout seldom reads (EVTX, Winlogbeat, flat JSON, Azure rows, Sysmon
//! for Linux XML) names the same Sysmon and Security fields the same way; only
//! the envelope around them differs. Decoders walk their envelope and drop each
//! value they recognize into a [`RawRecord`], borrowing from the input where the
//! format allows; [`crate::normalize`] then reads one shape only.

use std::borrow::Cow;

/// A field seldom reads. Unknown names are never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Field {
    // Envelope: which event, where, when.
    EventId,
    Computer,
    /// Winlogbeat 7's `host.name`: the beat's host, a fallback for `computer_name`.
    BeatHostName,
    Channel,
    Provider,
    SystemTime,
    AtTimestamp,
    TimeGenerated,
    /// A top-level `TimeCreated` string (NXLog variants): UTC when it carries a
    /// zone, the host's local time when it does not.
    TimeCreatedText,
    RecordId,
    // Sysmon event data.
    UtcTime,
    ProcessGuid,
    ProcessId,
    Image,
    OriginalFileName,
    CommandLine,
    CurrentDirectory,
    User,
    ParentProcessGuid,
    ParentProcessId,
    ParentImage,
    ParentCommandLine,
    IntegrityLevel,
    Hashes,
    Protocol,
    Initiated,
    SourceIp,
    SourcePort,
    DestinationIp,
    DestinationPort,
    DestinationHostname,
    QueryName,
    QueryStatus,
    QueryResults,
    // Windows Security event data (4688, 5156).
    NewProcessId,
    NewProcessName,
    ParentProcessName,
    SubjectUserName,
    SubjectDomainName,
    TargetUserName,
    TargetDomainName,
    MandatoryLabel,
    Application,
    Direction,
    SourceAddress,
    DestAddress,
    DestPort,
    // Zeek (top level of its JSON logs).
    ZeekPath,
    ZeekTs,
    ZeekOrigH,
    ZeekOrigP,
    ZeekRespH,
    ZeekRespP,
    ZeekProto,
    ZeekConnState,
    ZeekQuery,
    ZeekAnswers,
    ZeekRcodeName,
    ZeekOrigBytes,
}

impl Field {
    pub const COUNT: usize = Field::ZeekOrigBytes as usize + 1;

    /// The field a top-level Zeek JSON key stands for.
    pub fn zeek(name: &str) -> Option<Field> {
        Some(match name {
            "_path" | "@stream" => Field::ZeekPath,
            "ts" => Field::ZeekTs,
            "id.orig_h" | "id_orig_h" => Field::ZeekOrigH,
            "id.orig_p" | "id_orig_p" => Field::ZeekOrigP,
            "id.resp_h" | "id_resp_h" => Field::ZeekRespH,
            "id.resp_p" | "id_resp_p" => Field::ZeekRespP,
            "proto" => Field::ZeekProto,
            "conn_state" => Field::ZeekConnState,
            "query" => Field::ZeekQuery,
            "answers" => Field::ZeekAnswers,
            "rcode_name" => Field::ZeekRcodeName,
            "orig_bytes" => Field::ZeekOrigBytes,
            _ => return None,
        })
    }

    /// The field a child element of `<System>` holds as its text.
    pub fn system(element: &str) -> Option<Field> {
        Some(match element {
            "EventID" => Field::EventId,
            "Computer" => Field::Computer,
            "Channel" => Field::Channel,
            "EventRecordID" => Field::RecordId,
            _ => return None,
        })
    }

    /// The field a child element of `<System>` holds in an attribute, and
    /// that attribute: `<Provider Name>` and `<TimeCreated SystemTime>`.
    pub fn system_attribute(element: &str) -> Option<(Field, &'static str)> {
        match element {
            "Provider" => Some((Field::Provider, "Name")),
            "TimeCreated" => Some((Field::SystemTime, "SystemTime")),
            _ => None,
        }
    }

    /// The field an event-data name stands for (Sysmon and Security share one namespace).
    pub fn event_data(name: &str) -> Option<Field> {
        Some(match name {
            "UtcTime" => Field::UtcTime,
            "ProcessGuid" => Field::ProcessGuid,
            // Sysmon writes `ProcessId`, Security 5156 `ProcessID`, 4688 `ProcessId` (the creator).
            "ProcessId" | "ProcessID" => Field::ProcessId,
            "Image" => Field::Image,
            "OriginalFileName" => Field::OriginalFileName,
            "CommandLine" => Field::CommandLine,
            "CurrentDirectory" => Field::CurrentDirectory,
            "User" => Field::User,
            "ParentProcessGuid" => Field::ParentProcessGuid,
            "ParentProcessId" => Field::ParentProcessId,
            "ParentImage" => Field::ParentImage,
            "ParentCommandLine" => Field::ParentCommandLine,
            "IntegrityLevel" => Field::IntegrityLevel,
            "Hashes" => Field::Hashes,
            "Protocol" => Field::Protocol,
            "Initiated" => Field::Initiated,
            "SourceIp" => Field::SourceIp,
            "SourcePort" => Field::SourcePort,
            "DestinationIp" => Field::DestinationIp,
            "DestinationPort" => Field::DestinationPort,
            "DestinationHostname" => Field::DestinationHostname,
            "QueryName" => Field::QueryName,
            "QueryStatus" => Field::QueryStatus,
            "QueryResults" => Field::QueryResults,
            "NewProcessId" => Field::NewProcessId,
            "NewProcessName" => Field::NewProcessName,
            "ParentProcessName" => Field::ParentProcessName,
            "SubjectUserName" => Field::SubjectUserName,
            "SubjectDomainName" => Field::SubjectDomainName,
            "TargetUserName" => Field::TargetUserName,
            "TargetDomainName" => Field::TargetDomainName,
            "MandatoryLabel" => Field::MandatoryLabel,
            "Application" => Field::Application,
            "Direction" => Field::Direction,
            "SourceAddress" => Field::SourceAddress,
            "DestAddress" => Field::DestAddress,
            "DestPort" => Field::DestPort,
            _ => return None,
        })
    }
}

/// `str::trim`, without its walk over characters for the common value that
/// starts and ends with a visible ASCII byte (every field is read this way,
/// several times a record).
fn trim(value: &str) -> &str {
    match (value.as_bytes().first(), value.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => value,
        _ => value.trim(),
    }
}

/// The recognized fields of one record; the first value given for a field wins.
#[derive(Debug, PartialEq)]
pub struct RawRecord<'a> {
    values: [Option<Cow<'a, str>>; Field::COUNT],
}

impl Default for RawRecord<'_> {
    fn default() -> Self {
        RawRecord::new()
    }
}

impl<'a> RawRecord<'a> {
    pub fn new() -> Self {
        RawRecord {
            values: std::array::from_fn(|_| None),
        }
    }

    pub fn set(&mut self, field: Field, value: Cow<'a, str>) {
        let slot = &mut self.values[field as usize];
        if slot.is_none() {
            *slot = Some(value);
        }
    }

    pub fn has(&self, field: Field) -> bool {
        self.values[field as usize].is_some()
    }

    /// The value, with surrounding space trimmed; `None` when absent or empty.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.values[field as usize]
            .as_deref()
            .map(trim)
            .filter(|v| !v.is_empty())
    }

    /// The value, treating the `-` placeholder that Windows writes for "none" as absent.
    pub fn get_present(&self, field: Field) -> Option<&str> {
        self.get(field).filter(|v| *v != "-")
    }

    /// Copies every value of `other` that this record lacks (used for envelopes
    /// that carry a second document in a string, such as Azure's `EventData`).
    pub fn merge_owned(&mut self, other: RawRecord<'_>) {
        for (slot, value) in self.values.iter_mut().zip(other.values) {
            if slot.is_none() {
                *slot = value.map(|v| Cow::Owned(v.into_owned()));
            }
        }
    }
}
