//! Simulate an organization's endpoint telemetry, with ground truth.
//!
//! Real lab recordings hold minutes of a few hosts; this detection only means
//! something over weeks of a whole organization. [`Simulator`] produces one
//! day at a time (memory stays one day's worth, whatever the size), each
//! behaviour a small named model in [`behaviour`], attacks in [`attacks`];
//! [`render`] writes the same layouts the decoders read (Winlogbeat JSON for
//! Windows, Azure Syslog rows with Sysmon for Linux XML); [`evaluate`] scores
//! alerts against the truth.

#![forbid(unsafe_code)]

pub mod attacks;
pub mod behaviour;
mod day;
pub mod evaluate;
mod internet;
pub mod org;
pub mod render;
mod sim;
pub mod stories;

pub use day::{SimEvent, SimKind, TruthRecord};
pub use evaluate::{Evaluation, evaluate};
pub use org::{Organization, SimConfig};
pub use sim::Simulator;
pub use stories::StoryRecord;
