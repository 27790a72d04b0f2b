//! The search: the keys that could change a line's verdict, and the escape
//! that could write one, found in one pass (aho-corasick's Teddy, SIMD
//! where the CPU has it) instead of walking key by key. Where it cannot
//! tell, it says so and the walk decides.

use std::sync::LazyLock;

use aho_corasick::packed;

use super::walk::{is_zoned_string, plain_event_id, skip_whitespace};
use crate::normalize::is_read_event_id;

/// Every key `role` names, written as the bytes a line holds when the key is
/// written without an escape; and `\u0`, the start of every `\u00XX`
/// escape, the only escape that writes an ASCII letter, `.` or `_`, so the
/// only other way to write one of those keys. Measured when only the rest
/// of a line after its id was searched, decoding an OTRF recording cost
/// 49.9 M instructions with `\u0`, 51.2 M with `\u` (more stops, at every
/// `\\u` of a path), 54.1 M with `\u00` (the search then compares four
/// leading bytes instead of three).
pub(super) const WORTH_A_WALK: [&str; 10] = [
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
/// a matched key followed by `:` is a key of the top-level object. (In valid
/// JSON an unescaped quote opens or closes a string; one that closed a
/// string could not be followed by a key's letters. In a line that is not
/// JSON, the verdict does not matter: the parser would not read it either.)
/// So:
/// - no match at all: no id where the walker reads one, decode it;
/// - a top-level `EventID` or `event_id`: a read id (or any other form) is
///   decoded, an unread one is dropped if the rest decides nothing;
/// - a top-level `TimeCreated` with a zone changes nothing, go on;
/// - anything else (an escape that could write a key, a key in a nested
///   object, a key that opens a container or takes another path): walk.
pub(super) fn searched_verdict(line: &[u8]) -> Option<bool> {
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
        .any(|at| (from + at).checked_sub(1).map(|before| line[before]) != Some(b'"'))
}

/// Whether nothing after an unread id (from `at` on) can change the line's
/// verdict, found by searching instead of walking: the rest of the line
/// holds none of the keys that matter written plainly, and no `\u0` escape
/// that could write one otherwise. A string value that merely reads like
/// such a key sends the line on to the walk, which is exact.
///
/// The structure after the id is not checked: a line broken there is counted
/// as an unread id rather than as malformed, which loses no event. A line
/// must still end with `}`: a truncated one (the usual broken line, a file
/// cut short) is left to the parser, which reports it.
pub(super) fn tail_decides_nothing(line: &[u8], at: usize) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefilter::is_unread_event;

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
        assert!(!is_unread_event(br#"{"a":{"EventID":10}}"#));
        assert!(is_unread_event(br#"{"a":["x"],"EventID":10}"#));
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
}
