//! Which look a JSON line gets first: the byte prefilter or the scanner.
//!
//! The prefilter (`prefilter/`) drops a line whose event id no source
//! reads, from its bytes; a line it keeps is then walked by the
//! scanner (`json_scan.rs`), which reads its first bytes again. On a raw
//! export, where nearly every line is dropped, that is cheap; on a stream of
//! Sysmon 1, 3 and 22 records, where nearly every line is kept, the
//! prefilter's look is spent for nothing (a tenth of the decode on a
//! simulated organization).
//!
//! The order does not change any outcome. A line the prefilter would drop is
//! one whose full decode certainly says `other_event_id` and changes no
//! decoder state (the prefilter's contract, tested on the whole corpus), so
//! walking it first gives that same answer; a line the scanner declines (a
//! malformed one among them) still goes to the prefilter before serde, so a
//! malformed line of an unread id is counted as ignored in both orders. The
//! order only moves the cost, and is chosen from the last window of lines:
//! the prefilter first while more than a quarter of them were dropped.

/// Lines per window.
const WINDOW: u32 = 128;

/// Above this share of dropped lines (in quarters of a window) the
/// prefilter looks first. A dropped line costs the scanner about twice what
/// it costs the prefilter; a kept one costs the prefilter's look up to its
/// event id, about a third of a line: they balance near a quarter.
const PREFILTER_FIRST_ABOVE: u32 = WINDOW / 4;

#[derive(Debug, Clone, Copy)]
pub(crate) struct FirstLook {
    prefilter_first: bool,
    lines: u32,
    dropped: u32,
}

impl Default for FirstLook {
    /// The prefilter first: a stream's first lines are read as a raw export
    /// is, until a window shows otherwise.
    fn default() -> Self {
        FirstLook {
            prefilter_first: true,
            lines: 0,
            dropped: 0,
        }
    }
}

impl FirstLook {
    pub(crate) fn prefilter_first(&self) -> bool {
        self.prefilter_first
    }

    /// Counts one line's outcome: whether it was an unread event id.
    pub(crate) fn count(&mut self, dropped: bool) {
        self.lines += 1;
        self.dropped += u32::from(dropped);
        if self.lines == WINDOW {
            self.prefilter_first = self.dropped > PREFILTER_FIRST_ABOVE;
            self.lines = 0;
            self.dropped = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_share_of_dropped_lines_window_by_window() {
        let mut look = FirstLook::default();
        assert!(look.prefilter_first());
        for _ in 0..WINDOW {
            look.count(false);
        }
        assert!(!look.prefilter_first(), "a window of kept lines");
        for line in 0..WINDOW {
            look.count(line < PREFILTER_FIRST_ABOVE);
        }
        assert!(!look.prefilter_first(), "a quarter dropped");
        for line in 0..WINDOW {
            look.count(line <= PREFILTER_FIRST_ABOVE);
        }
        assert!(look.prefilter_first(), "more than a quarter dropped");
    }
}
