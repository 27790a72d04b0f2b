//! Detection: the *enrich → detect* half of seldom, synchronous and free of I/O.
//!
//! [`DetectConfig`] (TOML) builds a [`Detector`], which takes normalized
//! events and gives [`AlertUpdate`]s. Inside: per-host process tables and DNS
//! attribution ([`process_table`], [`dns`]), destination classification and
//! keys ([`destination`]), the org-wide prevalence baseline ([`baseline`]), the
//! variation catalog ([`catalog`]) and the alert with its evidence ([`alert`]),
//! rendered for SIEMs as ECS or OCSF by [`formats`]; what an allowlist entry
//! covers is [`allow`].

#![forbid(unsafe_code)]

pub mod alert;
pub mod allow;
pub mod baseline;
pub mod beacon;
pub mod budget;
pub mod catalog;
pub mod clock;
pub mod config;
mod contact;
pub mod dedup;
pub mod destination;
pub mod dns;
mod emit;
mod engine;
mod enriched;
pub mod explain;
mod fast_map;
pub mod formats;
pub mod image;
pub mod incident;
mod judge;
mod live;
pub mod partitioned;
mod pending;
pub mod presort;
pub mod process_table;
mod raise;
mod rarity;
pub mod reorder;
mod report;
pub mod run;
mod spans;
pub mod tune;
mod verdict;
mod views;

pub use alert::Alert;
pub use catalog::Catalog;
pub use config::{ConfigError, DetectConfig};
pub use contact::Contact;
pub use engine::{Detector, DetectorState};
pub use incident::{Incident, IncidentRef};
pub use presort::{PresortStats, SortBuffer};
pub use report::{ActivationProgress, AlertUpdate, DestinationView, DetectStats};
pub use run::{AlertBook, Fanout, Order, Sink, SinkError, run, run_presorted};
