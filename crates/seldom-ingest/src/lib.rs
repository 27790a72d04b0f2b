//! Ingest: the *sources → decode → normalize* half of seldom.
//!
//! [`Ingestor`] takes files, folders, archives or a stream, recognizes each
//! container and record layout from its content, and hands every event it
//! understands to a sink, counting what it ignored and what it skipped in
//! [`IngestStats`]. A malformed record costs that record only.
//!
//! Readers, one module each: EVTX (`evtx_file`), JSON layouts (`json`, a
//! one-pass field walk), `<Event>` XML (`xml`), Linux audit and auoms
//! (`audit`), Zeek (`zeek`), ECS and OCSF (`ecs`, `ocsf`, read by schema path
//! through `value_path`); `normalize` gives Sysmon and Security fields their
//! meaning per event id; `source` recognizes containers and drives them all.
//!
//! Text is cut into bounded lines by `lines` ([`LineFramer`]) and decoded by
//! `text_stream` ([`TextDecoder`], which keeps a stream's state from line to
//! line). These and the record-level decoders ([`JsonDecoder`],
//! [`decode_xml`]) are public so that other transports (HTTP ingest, a
//! followed file, a log bus) frame and decode exactly as files are;
//! [`file_records`] gives a file's records to transports that carry records.

#![forbid(unsafe_code)]

mod audit;
mod binxml_tokens;
mod decode;
mod decode_order;
mod ecs;
mod evtx_file;
mod evtx_template;
mod fields;
pub mod file_records;
mod input;
mod json;
mod json_scan;
mod limits;
mod lines;
mod normalize;
mod ocsf;
mod options;
mod parallel;
mod prefilter;
mod source;
mod stats;
mod template_store;
#[cfg(test)]
mod test_corpus;
mod text_stream;
mod utf8;
mod value_path;
mod xml;
mod zeek;
mod zone;

pub use decode::{JsonDecoder, decode_xml};
pub use input::{
    Batches, BytesSource, PathSource, ReadSummary, Source, StdinSource, decode_in_background,
    source_for,
};
pub use lines::{Line, LineFramer};
pub use normalize::{Decoded, NormalizeOptions, parse_ip, query_results};
pub use options::IngestOptions;
pub use source::{Ingestor, OpenError};
pub use stats::{IgnoreReason, IngestStats, Malformed, SkipCount, SkipExample, SkipReason};
pub use text_stream::TextDecoder;
