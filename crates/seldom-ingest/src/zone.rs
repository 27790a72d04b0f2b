//! Whether a timestamp text carries its zone: such a time is UTC-correct as
//! written; one without is Sysmon's UTC, or local time to correct.

/// Whether a timestamp text names its zone (`Z` or `±hh:mm`).
pub(crate) fn has_zone(text: &str) -> bool {
    let text = text.trim();
    // Byte 19 follows the seconds of a well-formed timestamp; on anything else it
    // may fall inside a character, so it is looked at without slicing.
    text.ends_with(['Z', 'z']) || text.get(19..).is_some_and(|zone| zone.contains(['+', '-']))
}
