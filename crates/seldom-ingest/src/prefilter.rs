//! Records no source reads, recognised from their bytes before any parse.
//!
//! Most lines of a real export are events seldom never reads (Sysmon 10,
//! Security 4624, ...): 98 % of the OTRF recordings. Parsing each one only to
//! learn its event id costs most of a scan. This module walks a line's
//! structure without building anything (strings are skipped with `memchr`,
//! values are not decoded), finds the event id where the walker in `json.rs`
//! would read it, and says whether the full decode would certainly answer
//! `other_event_id`. The decoder then counts the line as exactly that.
//!
//! It answers "drop" only when sure, and "decode it" otherwise:
//! - the event id must sit where the walker reads it (top-level `EventID` or
//!   `event_id`, `winlog.event_id`, evtx_dump's `Event.System.EventID`) and be
//!   plain digits, quoted or not; an id some source reads (1, 3, 5, 22, 4688,
//!   5156) keeps the line, as does any other form (`" 3"`, `3.0`, an object);
//! - anything that sends the walker down another path keeps the line:
//!   `SyslogMessage`, a string `EventData` (Azure), Zeek's `id.orig_h`, a
//!   top-level `TimeCreated` without a zone (the decoder learns the local-time
//!   offset from such records, read or not);
//! - so does a key written with an escape (`"Event\u0049D"` is `EventID` to
//!   serde, not to a byte search), and a line whose structure does not close
//!   (a truncated line is left to the parser, which counts it as malformed).
//!
//! Up to the first unread id the line is walked; after it, it is searched
//! (`tail_decides_nothing`): on the real recordings the id comes early and
//! the long `Message` after it, and one SIMD search for the keys that could
//! still matter costs a third of walking the keys that follow. Where the
//! search finds one, the walk goes on, exact as before.
//!
//! What is walked has its structure checked (strings closed, brackets
//! balanced and matched, nothing after the end); values are not checked, nor
//! the structure after a decisive id: a line with an id no source reads and,
//! say, a bare control character inside a string, or a bracket left open
//! after the id, is counted as ignored rather than as malformed. Either way
//! no event is lost. A line that does not end with `}` (cut short) is always
//! left to the parser, which reports it.

use std::sync::LazyLock;

use aho_corasick::packed;
use memchr::memchr;

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

/// Every key named here is one `WORTH_A_WALK` searches for.
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

/// Whether the full decode of this JSON line would certainly count it as
/// `other_event_id` (an event id no source reads). `false` means "decode it".
pub(crate) fn is_unread_event(line: &[u8]) -> bool {
    scan(line).unwrap_or(false)
}

/// How much of a line is searched rather than walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterTheId {
    /// The search first (`searched_verdict`); where it cannot tell, the walk,
    /// which searches the rest of the line after an unread id.
    Searched,
    /// Walked to the end (the reference the search is tested against).
    #[cfg(test)]
    Walked,
}

/// `Some(true)`: drop; `Some(false)` or `None`: decode (not sure, or not a
/// line this module understands).
fn scan(line: &[u8]) -> Option<bool> {
    searched_verdict(line).or_else(|| scan_with(line, AfterTheId::Searched))
}

fn scan_with(line: &[u8], after_the_id: AfterTheId) -> Option<bool> {
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

/// Every key `role` names, written as the bytes a line holds when the key is
/// written without an escape; and `\u0`, the start of every `\u00XX`
/// escape, the only escape that writes an ASCII letter, `.` or `_`, so the
/// only other way to write one of those keys. Measured on an OTRF recording:
/// with `\u0` the search costs 49.9 M instructions in all, with `\u` 51.2 M
/// (more stops at a path's `\\u`), with `\u00` 54.1 M (the search then
/// compares four leading bytes instead of three).
const WORTH_A_WALK: [&str; 10] = [
    "\"EventID\"",
    "\"event_id\"",
    "\"winlog\"",
    "\"Event\"",
    "\"EventData\"",
    "\"TimeCreated\"",
    "\"SyslogMessage\"",
    "\"id.orig_h\"",
    "\"id_orig_h\"",
    "\\u0",
];

/// The searcher of all ten at once (Teddy, SIMD where the CPU has it).
static WORTH_A_WALK_SEARCH: LazyLock<Option<packed::Searcher>> =
    LazyLock::new(|| packed::Config::new().builder().extend(WORTH_A_WALK).build());

/// The verdict on a flat line found by the search alone, or `None` where
/// only the walk can tell. The matches are taken in order; while nothing
/// since the line's opening brace may have opened a container (`may_open`),
/// a matched key followed by `:` is a key of the
/// top-level object. (In valid JSON an
/// unescaped quote opens or closes a string; one that closed a string could
/// not be followed by a key's letters. In a line that is not JSON, the
/// verdict does not matter: the parser would not read it either.) So:
/// - no match at all: no id where the walker reads one, decode it;
/// - a top-level `EventID` or `event_id`: a read id (or any other form) is
///   decoded, an unread one is dropped if the rest decides nothing;
/// - a top-level `TimeCreated` with a zone changes nothing, go on;
/// - anything else (an escape that could write a key, a key in a nested
///   object, a key that opens a container or takes another path): walk.
fn searched_verdict(line: &[u8]) -> Option<bool> {
    let search = WORTH_A_WALK_SEARCH.as_ref()?;
    let open = skip_whitespace(line, 0);
    if line.get(open) != Some(&b'{') {
        return None;
    }
    let mut flat_until = open + 1; // line[open + 1..flat_until] opens nothing
    let mut from = open + 1;
    loop {
        let Some(found) = line.get(from..).and_then(|rest| search.find(rest)) else {
            return Some(false);
        };
        let (start, end) = (from + found.start(), from + found.end());
        if line[start] == b'\\' {
            if is_escape(line, start) {
                return None;
            }
            from = start + 1;
            continue;
        }
        if may_open(line, flat_until, start)
            || (line[start - 1] == b'\\' && is_escape(line, start - 1))
        {
            return None;
        }
        flat_until = start;
        let colon = skip_whitespace(line, end);
        if line.get(colon) != Some(&b':') {
            return None;
        }
        let value = skip_whitespace(line, colon + 1);
        match &line[start + 1..end - 1] {
            b"EventID" | b"event_id" => {
                let Some(id) = plain_event_id(line, value) else {
                    return Some(false);
                };
                if is_read_event_id(id) {
                    return Some(false);
                }
                return tail_decides_nothing(line, value).then_some(true);
            }
            b"TimeCreated" if is_zoned_string(line, value) => from = value,
            _ => return None,
        }
    }
}

/// Whether `line[from..to]` may open a container. A `{` or `[` right after
/// a quote sits inside a string in any valid JSON (a container opened there
/// would need a comma or a colon before it): the braces of a GUID
/// (`"ProviderGuid":"{5770...}"`, before the id on every Windows record)
/// open nothing. Closers need no look: one closes a container some opener
/// opened, or the top-level object, after which nothing is valid JSON.
fn may_open(line: &[u8], from: usize, to: usize) -> bool {
    memchr::memchr2_iter(b'{', b'[', &line[from..to])
        .any(|at| from + at == 0 || line[from + at - 1] != b'"')
}

/// Whether nothing after an unread id (from `at` on) can change the line's
/// verdict, found by searching instead of walking: the rest of the line
/// holds none of the keys that matter written plainly, and no `\u00` escape
/// that could write one otherwise. A string value that merely reads like
/// such a key sends the line on to the walk, which is exact.
///
/// The structure after the id is not checked: a line broken there is counted
/// as an unread id rather than as malformed, which loses no event. A line
/// must still end with `}`: a truncated one (the usual broken line, a file
/// cut short) is left to the parser, which reports it.
fn tail_decides_nothing(line: &[u8], at: usize) -> bool {
    let (Some(tail), Some(search)) = (line.get(at..), WORTH_A_WALK_SEARCH.as_ref()) else {
        return false;
    };
    if tail.trim_ascii_end().last() != Some(&b'}') {
        return false;
    }
    let mut from = 0;
    while let Some(found) = tail.get(from..).and_then(|rest| search.find(rest)) {
        let start = from + found.start();
        if tail[start] != b'\\' || is_escape(line, at + start) {
            return false;
        }
        from = start + 1; // a backslash ending an even run: `C:\\users`
    }
    true
}

/// Whether the backslash at `at` starts an escape: it ends an odd run of
/// backslashes (in a run, each escapes the next).
fn is_escape(line: &[u8], at: usize) -> bool {
    let run = line[..=at]
        .iter()
        .rev()
        .take_while(|&&b| b == b'\\')
        .count();
    run % 2 == 1
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

fn skip_whitespace(line: &[u8], mut at: usize) -> usize {
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
fn plain_event_id(line: &[u8], at: usize) -> Option<u32> {
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
fn is_zoned_string(line: &[u8], at: usize) -> bool {
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

    fn drops(line: &str) -> bool {
        is_unread_event(line.as_bytes())
    }

    #[test]
    fn unread_ids_in_every_place_the_walker_reads_are_dropped() {
        assert!(drops(r#"{"EventID":10,"Hostname":"ws1"}"#));
        assert!(drops(r#"{"EventID": "4624" , "Channel":"Security"}"#));
        assert!(drops(r#"{"event_id":7,"event_data":{"x":"y"}}"#));
        assert!(drops(
            r#"{"@timestamp":"t","host":{"name":"h"},"winlog":{"channel":"c","event_id":"13"}}"#
        ));
        assert!(drops(
            r#"{"Event":{"System":{"EventID":4689,"Computer":"h"},"EventData":{"a":1}}}"#
        ));
        assert!(drops("  {\"EventID\":\t12 }  "));
    }

    #[test]
    fn read_ids_and_other_forms_are_kept() {
        for id in ["1", "3", "5", "22", "4688", "5156", "\"3\"", "\"22\""] {
            assert!(!drops(&format!(r#"{{"EventID":{id}}}"#)), "{id}");
        }
        for form in [
            "\" 10\"",
            "10.0",
            "1e1",
            "-10",
            "010",
            "\"010\"",
            "true",
            "null",
            "{\"#text\":10}",
            "\"10 \"",
            "99999999999",
        ] {
            assert!(!drops(&format!(r#"{{"EventID":{form}}}"#)), "{form}");
        }
    }

    #[test]
    fn a_read_id_anywhere_the_walker_looks_keeps_the_line() {
        // The walker keeps the first id it meets; any read id keeps the line.
        assert!(!drops(r#"{"EventID":10,"winlog":{"event_id":3}}"#));
        assert!(!drops(r#"{"winlog":{"event_id":3},"event_id":10}"#));
    }

    #[test]
    fn ids_where_the_walker_does_not_look_decide_nothing() {
        // No id where it is read: the full decode decides (ECS, OCSF, unknown).
        assert!(!drops(r#"{"data":{"EventID":10}}"#));
        assert!(!drops(r#"{"list":[{"EventID":10}]}"#));
        assert!(!drops(r#"{"winlog":{"EventID":10}}"#));
        assert!(!drops(r#"{"Event":{"EventID":10}}"#));
        assert!(!drops(r#"{"event":{"code":"10"}}"#));
        // ... and do not spoil one that is.
        assert!(drops(r#"{"data":{"EventID":3},"EventID":10}"#));
        // A string value that reads "EventID" is no key, nor one that ends so.
        assert!(!drops(r#"{"name":"EventID","x":10}"#));
        assert!(!drops(r#"{"x\"EventID":10}"#));
    }

    #[test]
    fn lines_the_walker_reads_another_way_are_kept() {
        assert!(!drops(r#"{"EventID":10,"SyslogMessage":"<Event/>"}"#));
        assert!(!drops(r#"{"EventID":10,"EventData":"{\"Image\":\"x\"}"}"#));
        assert!(drops(r#"{"EventID":10,"EventData":{"Image":"x"}}"#));
        assert!(!drops(r#"{"EventID":10,"id.orig_h":"10.0.0.1"}"#));
        assert!(!drops(
            r#"{"EventID":10,"TimeCreated":"2020-10-21 12:19:01.088"}"#
        ));
        assert!(drops(
            r#"{"EventID":10,"TimeCreated":"2020-10-21T12:19:01.088Z"}"#
        ));
    }

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

    #[test]
    fn escaped_keys_and_broken_structure_are_left_to_the_parser() {
        assert!(!drops(r#"{"Event\u0049D":3,"EventID":10}"#));
        // Broken before the id, or cut short anywhere: the parser says so.
        assert!(!drops(r#"{"a":["b"},"EventID":10}"#));
        assert!(!drops(r#"{"EventID":10,"a":"b"#));
        assert!(!drops(r#"{"EventID":10,"a":{"b":1"#));
        assert!(!drops(r#"{"EventID":10} {"EventID":3}"#));
        assert!(!drops(r#"["EventID",10]"#));
        assert!(!drops(""));
        // Escapes inside values are fine, a quote among them included.
        assert!(drops(r#"{"CommandLine":"a \"b\" c:\\x\\","EventID":10}"#));
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

    #[test]
    fn brackets_inside_strings_before_the_id_leave_a_line_flat() {
        let guid = r#""ProviderGuid":"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}""#;
        let flat = format!(r#"{{{guid},"EventID":10,"Message":"m"}}"#);
        assert_eq!(searched_verdict(flat.as_bytes()), Some(true));
        // A bracket that may be structure sends the line to the walk, which
        // tells a nested id from a top-level one.
        for line in [
            r#"{"a":{"EventID":10}}"#,
            r#"{"a":["x"],"EventID":10}"#,
            r#"{"a":"x{","EventID":10}"#,
        ] {
            assert_eq!(searched_verdict(line.as_bytes()), None, "{line}");
        }
        assert!(!drops(r#"{"a":{"EventID":10}}"#));
        assert!(drops(r#"{"a":["x"],"EventID":10}"#));
    }

    #[test]
    fn after_an_unread_id_the_rest_is_searched_then_walked() {
        // Nothing that matters after the id: dropped unwalked, a bracket
        // left open there included (counted as the unread id it holds).
        assert!(drops(r#"{"EventID":10,"Message":"long","Image":"x"}"#));
        assert!(drops(r#"{"EventID":10,"a":["b"}"#));
        // A key that matters, plainly or escaped, is walked to as before.
        assert!(!drops(r#"{"EventID":10,"a":"x","EventID":3}"#));
        assert!(!drops(r#"{"EventID":10,"a":1,"Event\u0049D":3}"#));
        assert!(!drops(
            r#"{"EventID":10,"a":{"b":[1]},"SyslogMessage":"<Event/>"}"#
        ));
        // Text that only reads like one is walked, and dropped by the walk.
        assert!(drops(r#"{"EventID":10,"Message":"its \"EventID\": 3"}"#));
    }

    #[test]
    fn the_search_stops_at_what_could_still_matter() {
        let decides_nothing = |line: &str| {
            assert!(line.starts_with(r#"{"EventID":"#));
            tail_decides_nothing(line.as_bytes(), r#"{"EventID":"#.len())
        };
        assert!(decides_nothing(r#"{"EventID":10,"Image":"x"}  "#));
        assert!(!decides_nothing(r#"{"EventID":10,"Image":"x""#));
        for key in WORTH_A_WALK.iter().filter(|key| key.starts_with('"')) {
            assert!(
                !decides_nothing(&format!(r#"{{"EventID":10,{key}:1}}"#)),
                "{key}"
            );
            // A key that only begins like one is none of them.
            let longer = format!("{}x\"", &key[..key.len() - 1]);
            assert!(
                decides_nothing(&format!(r#"{{"EventID":10,{longer}:1}}"#)),
                "{longer}"
            );
        }
        // `\u0` is an escape after an odd run of backslashes only.
        assert!(!decides_nothing(r#"{"EventID":10,"Image":"\u0041"}"#));
        assert!(!decides_nothing(r#"{"EventID":10,"Image":"\\\u0041"}"#));
        assert!(decides_nothing(r#"{"EventID":10,"Image":"C:\\u0x"}"#));
        assert!(decides_nothing(r#"{"EventID":10,"Image":"\\\\u0041 \n"}"#));
    }

    /// Raw JSON texts of keys: those the walker reads or turns on, the two
    /// clocks a local-time offset is learned from, escaped forms, plain keys.
    const KEYS: &[&str] = &[
        "EventID",
        "event_id",
        "winlog",
        "Event",
        "System",
        "EventData",
        "TimeCreated",
        "UtcTime",
        "SyslogMessage",
        "id.orig_h",
        "Message",
        "Image",
        "Event\\u0049D",
        "Time\\u0043reated",
        "a\\nb",
        "EventIDx",
        "x\\\"EventID",
        "\\\"TimeCreated",
    ];

    /// Raw JSON texts of scalar values: ids read and unread, in their forms,
    /// times with and without a zone, strings with escapes and key-like text.
    const SCALARS: &[&str] = &[
        "10",
        "3",
        "\"4624\"",
        "4688",
        "\"x\"",
        "\"C:\\\\u0x\"",
        "\"\\u0041\"",
        "\"its \\\"TimeCreated\\\": 3\"",
        "\"2020-10-21 12:19:01.088\"",
        "\"2020-10-21 10:19:01.088\"",
        "\"2020-10-21T12:19:01.088Z\"",
        "\"<Event/>\"",
        "\"{5770385F-C22A}\"",
        "\"[\"",
        "\"}\"",
        "\"a]\"",
        "null",
        "[1,\"a\"]",
    ];

    /// Whole members that change a decoder's outcome or state when at the
    /// top level, some written with escapes.
    const MEMBERS_THAT_MATTER: &[&str] = &[
        "\"EventID\":3",
        "\"event_id\":22",
        "\"winlog\":{\"event_id\":3}",
        "\"Event\":{\"System\":{\"EventID\":1}}",
        "\"EventData\":\"{\\\"Image\\\":\\\"x\\\"}\"",
        "\"TimeCreated\":\"2020-10-21 12:19:01.088\"",
        "\"Time\\u0043reated\":\"2020-10-21 12:19:01.088\"",
        "\"UtcTime\":\"2020-10-21 10:19:01.088\"",
        "\"SyslogMessage\":\"<Event/>\"",
        "\"id.orig_h\":\"10.0.0.1\"",
        "\"Event\\u0049D\":3",
        "\"\\u0065vent_id\":22",
    ];

    fn json_value() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let scalar = proptest::sample::select(SCALARS).prop_map(str::to_owned);
        scalar.prop_recursive(3, 24, 6, |inner| json_object(inner.boxed(), 0..6))
    }

    fn json_members(
        value: proptest::strategy::BoxedStrategy<String>,
        count: std::ops::Range<usize>,
    ) -> impl proptest::strategy::Strategy<Value = Vec<String>> {
        use proptest::prelude::*;
        let any_member = (proptest::sample::select(KEYS), value)
            .prop_map(|(key, value)| format!("\"{key}\":{value}"));
        let member_that_matters =
            proptest::sample::select(MEMBERS_THAT_MATTER).prop_map(str::to_owned);
        proptest::collection::vec(prop_oneof![any_member, member_that_matters], count)
    }

    fn json_object(
        value: proptest::strategy::BoxedStrategy<String>,
        count: std::ops::Range<usize>,
    ) -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        json_members(value, count).prop_map(|members| format!("{{{}}}", members.join(",")))
    }

    /// A line with (mostly) an event id at its top level, members before and
    /// after it; as it is, or broken (cut short, or one byte removed).
    fn json_line() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let before = json_members(json_value().boxed(), 0..3);
        let id = proptest::sample::select(&["10", "\"4624\"", "3", "7", "none"][..]);
        let after = json_members(json_value().boxed(), 0..6);
        (before, id, after, 0usize..5, any::<usize>()).prop_map(
            |(mut members, id, after, damage, at)| {
                if id != "none" {
                    members.push(format!("\"EventID\":{id}"));
                }
                members.extend(after);
                let line = format!("{{{}}}", members.join(","));
                let at = at % line.len();
                match damage {
                    1 => line[..at].to_owned(),
                    2 => format!("{}{}", &line[..at], &line[at + 1..]),
                    _ => line,
                }
            },
        )
    }

    fn decoder(prefilter: bool) -> crate::JsonDecoder {
        crate::JsonDecoder::new(crate::NormalizeOptions {
            prefilter,
            ..crate::NormalizeOptions::default()
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16_384))]
        /// The search changes nothing a decoder would say: lines decoded in
        /// turn give the same outcomes and teach the same local-time offset
        /// with the prefilter as without it, except that a line the decoder
        /// cannot read may be counted as an unread id; and whatever the walk
        /// drops, the search drops too.
        #[test]
        fn searching_after_the_id_changes_no_outcome(
            lines in proptest::collection::vec(json_line(), 1..4)
        ) {
            let mut plain = decoder(false);
            let mut filtered = decoder(true);
            for (number, line) in lines.iter().enumerate() {
                let searched = scan_with(line.as_bytes(), AfterTheId::Searched) == Some(true);
                let walked = scan_with(line.as_bytes(), AfterTheId::Walked) == Some(true);
                proptest::prop_assert!(searched || !walked, "{line}");
                let at = || seldom_model::Location::at_line(std::sync::Arc::from("t"), number as u64 + 1);
                let a = plain.decode(line, at());
                let b = filtered.decode(line, at());
                use crate::{Decoded, IgnoreReason};
                let same = match (&a, &b) {
                    (Ok(Decoded::Event(x)), Ok(Decoded::Event(y))) => x == y,
                    (Ok(Decoded::Ignored(x)), Ok(Decoded::Ignored(y))) => x == y,
                    (Err(x), Err(y)) => x == y,
                    (Err(_), Ok(Decoded::Ignored(IgnoreReason::OtherEventId))) => true,
                    _ => false,
                };
                proptest::prop_assert!(same, "{line}: {a:?} against {b:?}");
                proptest::prop_assert_eq!(plain.local_offset(), filtered.local_offset(), "{}", line);
            }
        }
    }
}
