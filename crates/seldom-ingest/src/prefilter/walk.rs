//! The walk: a line's keys in order, each known by the container it sits
//! in, as far as the decoder's walker (`json.rs`) tells them apart. Strings
//! are skipped with a word-at-a-time search for their closing quote, values
//! are not decoded. Exact, and the reference the search is tested against.

use memchr::memchr;

use super::search::tail_decides_nothing;
use crate::normalize::is_read_event_id;

/// The container a key sits in, as far as the walker tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Root,
    Winlog,
    Event,
    EventSystem,
    OtherObject,
    Array,
}

/// What a key means for the verdict.
enum Role {
    /// The walker reads the event id from this key.
    EventId,
    /// The value, if an object, is this container.
    Opens(Container),
    /// The walker takes another path for the line: decode it.
    OtherPath,
    /// A string `EventData` is Azure's embedded data: decode it.
    EventData,
    /// A zone-less `TimeCreated` teaches the decoder an offset: decode it.
    TimeCreated,
    Plain,
}

/// Every key named here is one `search::WORTH_A_WALK` searches for, but
/// `System`, which matters only inside an `Event` (searched for).
// Always inlined: called for every key of the walk, LLVM kept it a call
// (1.6 % of an OTRF recording's decoding).
#[inline(always)]
fn role(container: Container, key: &[u8]) -> Role {
    match (container, key) {
        (Container::Root, b"EventID" | b"event_id") => Role::EventId,
        (Container::Root, b"winlog") => Role::Opens(Container::Winlog),
        (Container::Root, b"Event") => Role::Opens(Container::Event),
        (Container::Root, b"SyslogMessage" | b"id.orig_h" | b"id_orig_h") => Role::OtherPath,
        (Container::Root, b"EventData") => Role::EventData,
        (Container::Root, b"TimeCreated") => Role::TimeCreated,
        (Container::Winlog, b"event_id") => Role::EventId,
        (Container::Event, b"System") => Role::Opens(Container::EventSystem),
        (Container::EventSystem, b"EventID") => Role::EventId,
        _ => Role::Plain,
    }
}

/// Nesting deeper than this is tracked by depth only: every container the
/// walker reads from is at most three deep.
const TRACKED_DEPTH: usize = 8;

/// How the walk reads the rest of a line after an unread id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AfterTheId {
    /// Searched (`tail_decides_nothing`), and walked on only if the search
    /// finds something that could matter.
    Searched,
    /// Walked to the end (the reference the search is tested against).
    #[cfg(test)]
    Walked,
}

/// The walk's verdict: `Some(true)` drop; `Some(false)` or `None` decode.
pub(super) fn scan_with(line: &[u8], after_the_id: AfterTheId) -> Option<bool> {
    let mut i = skip_whitespace(line, 0);
    if line.get(i) != Some(&b'{') {
        return None;
    }
    let mut stack = [Container::OtherObject; TRACKED_DEPTH];
    let mut depth = 0usize;
    let mut is_array = 0u64; // one bit per level, for the first 64 levels
    let mut opens = Container::Root; // what the next `{` is
    let mut found_id = false;
    while i < line.len() {
        match line[i] {
            b'"' => {
                let end = string_end(line, i + 1)?;
                let after = skip_whitespace(line, end + 1);
                if line.get(after) != Some(&b':') {
                    opens = Container::OtherObject;
                    i = end + 1;
                    continue;
                }
                if holds_backslash(&line[i + 1..end]) {
                    return None; // a key written with an escape
                }
                let container = if depth == 0 {
                    return None;
                } else if depth <= TRACKED_DEPTH {
                    stack[depth - 1]
                } else {
                    Container::OtherObject
                };
                let value = skip_whitespace(line, after + 1);
                opens = Container::OtherObject;
                match role(container, &line[i + 1..end]) {
                    Role::EventId => {
                        if is_read_event_id(plain_event_id(line, value)?) {
                            return Some(false);
                        }
                        if after_the_id == AfterTheId::Searched && tail_decides_nothing(line, value)
                        {
                            return Some(true);
                        }
                        found_id = true;
                    }
                    Role::Opens(next) => opens = next,
                    Role::OtherPath => return None,
                    Role::EventData if line.get(value) == Some(&b'"') => return None,
                    Role::TimeCreated if !is_zoned_string(line, value) => return None,
                    Role::EventData | Role::TimeCreated | Role::Plain => {}
                }
                i = value;
            }
            open @ (b'{' | b'[') => {
                let container = if open == b'[' {
                    Container::Array
                } else {
                    opens
                };
                if depth < TRACKED_DEPTH {
                    stack[depth] = container;
                }
                if depth < 64 {
                    is_array = (is_array & !(1 << depth)) | (u64::from(open == b'[') << depth);
                }
                depth += 1;
                opens = Container::OtherObject;
                i += 1;
            }
            close @ (b'}' | b']') => {
                depth = depth.checked_sub(1)?;
                if depth < 64 && ((is_array >> depth) & 1 == 1) != (close == b']') {
                    return None;
                }
                opens = Container::OtherObject;
                i += 1;
                if depth == 0 {
                    // The document ended: only whitespace may follow.
                    return (skip_whitespace(line, i) == line.len()).then_some(found_id);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// The index of the quote closing the string whose text starts at `start`:
/// the first quote not preceded by an odd run of backslashes (in a run, each
/// backslash escapes the next byte, so an even run escapes no quote). Only
/// quotes are searched for: stopping at every backslash cost most of the
/// prefilter on the real recordings, whose `Message` values hold an escape
/// (`\r\n\t`) every few bytes.
// Always inlined: a call per string (46 a line on the real recordings)
// cost a fifth of the search itself.
#[inline(always)]
fn string_end(line: &[u8], start: usize) -> Option<usize> {
    let mut at = start;
    loop {
        let quote = at + first_quote(line.get(at..)?)?;
        if quote == start || line[quote - 1] != b'\\' {
            return Some(quote); // the usual quote: no backslash before it
        }
        let backslashes = line[start..quote]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        if backslashes % 2 == 0 {
            return Some(quote);
        }
        at = quote + 1;
    }
}

/// The first `"` in `bytes`. Most keys and values are short, where a
/// `memchr` call costs more than it saves: the first 32 bytes are tested
/// eight at a time in a word (a byte equal to the one sought becomes zero;
/// the lowest zero byte is found exactly), the rest with `memchr`.
fn first_quote(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut offset = 0;
    for word in bytes.chunks_exact(8).take(4) {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(word);
        let word = u64::from_le_bytes(eight);
        let found = zero_bytes(word ^ (ONES * u64::from(b'"')));
        if found != 0 {
            return Some(offset + (found.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    memchr(b'"', &bytes[offset..]).map(|at| offset + at)
}

/// Whether a key holds a backslash. Keys are a few bytes, where the set-up
/// of a search (the memchr crate's, or `contains`'s) costs more than this
/// loop: 14.6 M and 2.9 M more of an OTRF recording's 78.5 M instructions.
#[allow(
    clippy::manual_contains,
    reason = "measured: the loop is cheaper than contains on keys"
)]
fn holds_backslash(key: &[u8]) -> bool {
    key.iter().any(|&b| b == b'\\')
}

pub(super) fn skip_whitespace(line: &[u8], mut at: usize) -> usize {
    while line
        .get(at)
        .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    {
        at += 1;
    }
    at
}

/// An event id written as plain digits (`4624` or `"4624"`), as the walker
/// would read and `normalize` parse it; `None` for any other form.
pub(super) fn plain_event_id(line: &[u8], at: usize) -> Option<u32> {
    let quoted = line.get(at) == Some(&b'"');
    let start = at + usize::from(quoted);
    let digits = line
        .get(start..)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    // A leading zero is not JSON for a number; quoted, it is left to the parser too.
    if digits == 0 || digits > 9 || (digits > 1 && line[start] == b'0') {
        return None;
    }
    let next = line.get(start + digits).copied();
    let ends_well = if quoted {
        next == Some(b'"')
    } else {
        matches!(next, Some(b',' | b'}' | b' ' | b'\t' | b'\r' | b'\n'))
    };
    if !ends_well {
        return None;
    }
    // At most nine digits: the value fits a u32 as `str::parse` reads it.
    Some(
        line[start..start + digits]
            .iter()
            .fold(0u32, |id, digit| id * 10 + u32::from(digit - b'0')),
    )
}

/// Whether the value at `at` is a string holding a time with a zone.
pub(super) fn is_zoned_string(line: &[u8], at: usize) -> bool {
    if line.get(at) != Some(&b'"') {
        return false;
    }
    match string_end(line, at + 1) {
        Some(end) if !holds_backslash(&line[at + 1..end]) => {
            let text = &line[at + 1..end];
            if text.is_ascii() {
                has_zone_ascii(text)
            } else {
                std::str::from_utf8(text).is_ok_and(crate::zone::has_zone)
            }
        }
        _ => false,
    }
}

/// `zone::has_zone` of an ASCII text, without making it a `str` first (the
/// check and the conversion cost more than the rest of a line's walk up to
/// its id). `str::trim` removes the ASCII bytes of Unicode's White_Space:
/// `u8::is_ascii_whitespace`'s and the vertical tab.
fn has_zone_ascii(text: &[u8]) -> bool {
    let is_space = |b: &u8| b.is_ascii_whitespace() || *b == 0x0B;
    let start = text.iter().position(|b| !is_space(b)).unwrap_or(text.len());
    let end = text
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |last| last + 1);
    let text = &text[start..end];
    matches!(text.last(), Some(b'Z' | b'z'))
        || text
            .get(19..)
            .is_some_and(|zone| zone.iter().any(|b| matches!(b, b'+' | b'-')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_search_finds_the_first_quote_anywhere() {
        for length in 0..80 {
            for at in 0..length {
                let mut bytes = vec![b'a'; length];
                bytes[at] = b'"';
                if at + 1 < length {
                    bytes[at + 1] = b'"'; // a later match must not win
                }
                // Bytes just below and above the sought one do not match.
                if at > 0 {
                    bytes[at - 1] = b'"' - 1;
                }
                if at + 2 < length {
                    bytes[at + 2] = b'"' + 1;
                }
                assert_eq!(first_quote(&bytes), Some(at), "{length} {at}");
                // A backslash is no quote.
                if at > 0 {
                    bytes[at - 1] = b'\\';
                    assert_eq!(first_quote(&bytes), Some(at), "{length} {at}");
                }
            }
            assert_eq!(first_quote(&vec![0xffu8; length]), None);
        }
    }

    /// `string_end` as it was: stopping at each quote or backslash, a
    /// backslash stepping over the byte after it.
    fn string_end_escape_by_escape(line: &[u8], start: usize) -> Option<usize> {
        let mut at = start;
        loop {
            let found = at
                + line
                    .get(at..)?
                    .iter()
                    .position(|&b| b == b'"' || b == b'\\')?;
            if line[found] == b'"' {
                return Some(found);
            }
            at = found + 2;
        }
    }

    proptest::proptest! {
        #[test]
        fn the_closing_quote_is_the_one_escape_by_escape_finds(
            line in proptest::collection::vec(proptest::sample::select(b"\"\\ab".to_vec()), 0..48),
            start in 0usize..8,
        ) {
            proptest::prop_assert_eq!(
                string_end(&line, start),
                string_end_escape_by_escape(&line, start)
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn the_ascii_zone_check_agrees_with_the_zone_module(
            text in proptest::collection::vec(
                proptest::sample::select(b"0123456789-+:.TZz \t\n\r\x0b\x0c\x1c".to_vec()),
                0..32,
            ),
        ) {
            let as_str = std::str::from_utf8(&text).expect("ASCII");
            proptest::prop_assert_eq!(has_zone_ascii(&text), crate::zone::has_zone(as_str.trim()));
        }
    }
}
