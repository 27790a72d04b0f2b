//! Detection: the *enrich → detect* half of seldom, synchronous and free of I/O.
//!
//! Building blocks so far: destination classification and keys
//! ([`destination`]), image-name folding ([`image`]), the variation catalog
//! ([`catalog`]) and the org-wide prevalence baseline ([`baseline`]).

#![forbid(unsafe_code)]

pub mod baseline;
pub mod catalog;
pub mod destination;
pub mod image;
