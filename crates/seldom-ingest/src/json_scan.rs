//! The JSON walk of `json.rs`, done by a scanner of its own instead of serde.
//!
//! `json::walk` drives serde_json's deserializer with visitors: every key and
//! every value goes through the visitor protocol, and every string holding an
//! escape (every Windows path does) is unescaped into serde_json's scratch
//! buffer and copied again. On records where nearly every field is read, that
//! walk cost twice a bare serde_json parse of the same bytes. This scanner
//! reads the same document in one pass over its bytes: strings are found
//! eight bytes at a time, values nobody reads are checked and stepped over,
//! and the keys go through the very same `json::target` table, so a key means
//! here exactly what it means there.
//!
//! **It accepts a subset of what serde_json accepts, and declines the rest.**
//! Whatever it does not model exactly — a `\u` escape of a surrogate, a read
//! number serde_json would turn into a float it cannot hold exactly (see
//! `number_text`) or refuse as out of range, nesting near serde_json's depth
//! limit, a value of a type the serde walk refuses, and every malformed
//! document — makes it return `None`, and the caller walks the line with
//! serde (which then gives the same record, or serde_json's own error with
//! its line and column). So a document it reads is one serde reads too, into
//! the same fields, in the same order, and a malformed one is reported
//! exactly as before. This module's corpus test (every JSON line of the
//! corpus, both ways) and the `json_line` fuzz target hold it to that.

use std::borrow::Cow;

use crate::fields::RawRecord;
use crate::json::{AttrOwner, Ctx, JsonRecord, Target, target};

/// Walks one JSON document as `json::walk` does; `None` where it declines.
#[cfg(test)]
pub fn walk(text: &str) -> Option<JsonRecord<'_>> {
    let mut record = JsonRecord::default();
    walk_into(text, &mut record).then_some(record)
}

/// `walk` into a record the caller holds (which must be empty), as
/// `json::walk_into`; false where it declines, the record then holding part
/// of the walk (`json::walk_into` empties it before serde walks the line).
pub fn walk_into<'a>(text: &'a str, record: &mut JsonRecord<'a>) -> bool {
    debug_assert!(
        *record == JsonRecord::default(),
        "walk_into needs an empty record"
    );
    let mut scanner = Scanner::new(text);
    scanner.walk_value(Ctx::Root, record).is_ok() && scanner.end().is_ok()
}

/// Walks a JSON object of event-data names as `json::walk_event_data` does.
pub fn walk_event_data(text: &str) -> Option<RawRecord<'_>> {
    let mut record = JsonRecord {
        fields: RawRecord::new(),
        ..JsonRecord::default()
    };
    let mut scanner = Scanner::new(text);
    scanner.walk_value(Ctx::EventData, &mut record).ok()?;
    scanner.end().ok()?;
    Some(record.fields)
}

/// The scanner met something it leaves to serde.
#[derive(Debug)]
struct Decline;

type Step<T> = Result<T, Decline>;

/// Containers deeper than this are declined: serde_json refuses documents
/// nested past 128 levels, and this stays well inside that.
const MAX_DEPTH: u32 = 100;

/// Numbers longer than this are declined: serde_json reads very long ones as
/// floats and refuses those out of a float's range; no field seldom reads,
/// and no value in the corpus, comes near it.
const MAX_NUMBER_BYTES: usize = 40;

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: u32,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            depth: 0,
        }
    }

    // ---- the walk: what `json::Walker` and its helpers do with a value ----

    /// `Walker`: an object's entries are read in `ctx`; any other value is
    /// stepped over (the serde walk accepts every type here).
    fn walk_value(&mut self, ctx: Ctx, out: &mut JsonRecord<'a>) -> Step<()> {
        self.skip_whitespace();
        if self.peek() != Some(b'{') {
            return self.skip_value();
        }
        self.object(|scanner, key| scanner.entry(ctx, &key, out))
    }

    /// One entry of an object walked in `ctx`, the scanner at its value.
    fn entry(&mut self, ctx: Ctx, key: &str, out: &mut JsonRecord<'a>) -> Step<()> {
        match target(ctx, key, &mut out.shape) {
            Target::Field(field) => {
                if let Some(value) = self.scalar()? {
                    out.fields.set(field, value);
                }
                Ok(())
            }
            Target::Enter(ctx) => self.walk_value(ctx, out),
            Target::AttributesOf(owner) => self.attributes_holder(owner, out),
            Target::RootEventData => {
                if let Some(text) = self.scalar()? {
                    out.shape.azure_event_data = true;
                    out.embedded_event_data = Some(text);
                }
                Ok(())
            }
            Target::SyslogMessage => {
                if let Some(text) = self.scalar()? {
                    out.shape.syslog_message = true;
                    out.syslog_message = Some(text);
                }
                Ok(())
            }
            Target::Ignore => self.skip_value(),
        }
    }

    /// `AttributesHolder`: `{"#attributes": {...}}`, a string or null; serde
    /// refuses the other types, so they are declined.
    fn attributes_holder(&mut self, owner: AttrOwner, out: &mut JsonRecord<'a>) -> Step<()> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => self.object(|scanner, key| {
                if key == "#attributes" {
                    scanner.walk_value(Ctx::Attributes(owner), out)
                } else {
                    scanner.skip_value()
                }
            }),
            Some(b'"') | Some(b'n') => self.skip_value(),
            _ => Err(Decline),
        }
    }

    /// `json::Scalar`: strings as they are, integers as their digits, booleans
    /// as words, null as absent, a list as its items joined by commas, an
    /// object as its first non-null `#text`.
    fn scalar(&mut self) -> Step<Option<Cow<'a, str>>> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'"') => self.string().map(Some),
            Some(b't') => self.literal(b"true").map(|()| Some(Cow::Borrowed("true"))),
            Some(b'f') => self
                .literal(b"false")
                .map(|()| Some(Cow::Borrowed("false"))),
            Some(b'n') => self.literal(b"null").map(|()| None),
            Some(b'-' | b'0'..=b'9') => {
                let number = self.number()?;
                number_text(number).map(Some)
            }
            Some(b'[') => {
                let mut items: Vec<Cow<'a, str>> = Vec::new();
                self.array(|scanner| {
                    items.extend(scanner.scalar()?);
                    Ok(())
                })?;
                Ok((!items.is_empty()).then(|| Cow::Owned(items.join(","))))
            }
            Some(b'{') => {
                let mut text = None;
                self.object(|scanner, key| {
                    if key == "#text" && text.is_none() {
                        text = scanner.scalar()?;
                        Ok(())
                    } else {
                        scanner.skip_value()
                    }
                })?;
                Ok(text)
            }
            _ => Err(Decline),
        }
    }

    // ---- the grammar ----

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Only whitespace may follow the document.
    fn end(&mut self) -> Step<()> {
        self.skip_whitespace();
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(Decline)
        }
    }

    fn eat(&mut self, byte: u8) -> Step<()> {
        self.skip_whitespace();
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Decline)
        }
    }

    fn enter(&mut self) -> Step<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Decline);
        }
        Ok(())
    }

    /// An object, the scanner at its `{`: `on_entry` is called with each key,
    /// the scanner at the key's value, and must consume that value.
    fn object(
        &mut self,
        mut on_entry: impl FnMut(&mut Self, Cow<'a, str>) -> Step<()>,
    ) -> Step<()> {
        self.enter()?;
        self.eat(b'{')?;
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                self.skip_whitespace();
                if self.peek() != Some(b'"') {
                    return Err(Decline);
                }
                let key = self.string()?;
                self.eat(b':')?;
                on_entry(self, key)?;
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(Decline),
                }
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// An array, the scanner at its `[`: `on_item` consumes each item.
    fn array(&mut self, mut on_item: impl FnMut(&mut Self) -> Step<()>) -> Step<()> {
        self.enter()?;
        self.eat(b'[')?;
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
        } else {
            loop {
                on_item(self)?;
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b']') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(Decline),
                }
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// Steps over one value, checking it as serde_json would.
    fn skip_value(&mut self) -> Step<()> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'"') => self.skip_string(),
            Some(b'{') => self.object(|scanner, _| scanner.skip_value()),
            Some(b'[') => self.array(Self::skip_value),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number().map(drop),
            _ => Err(Decline),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Step<()> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Decline)
        }
    }

    /// A number in JSON's grammar, as its text. The exponent is limited to
    /// two digits and the whole to `MAX_NUMBER_BYTES`, inside which serde_json
    /// reads every number without refusing it.
    fn number(&mut self) -> Step<&'a str> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(Decline),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            let exponent = self.pos;
            self.some_digits()?;
            if self.pos - exponent > 2 {
                return Err(Decline);
            }
        }
        if self.pos - start > MAX_NUMBER_BYTES {
            return Err(Decline);
        }
        Ok(&self.text[start..self.pos])
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn some_digits(&mut self) -> Step<()> {
        let start = self.pos;
        self.digits();
        if self.pos == start {
            Err(Decline)
        } else {
            Ok(())
        }
    }

    /// A string, the scanner at its opening quote: borrowed from the line
    /// when it holds no escape, unescaped into a new one when it does.
    /// Inlined: most strings are keys and short values without an escape,
    /// for which the call itself cost a third of the work.
    #[inline(always)]
    fn string(&mut self) -> Step<Cow<'a, str>> {
        self.pos += 1;
        let start = self.pos;
        let stop = special_byte(self.bytes, self.pos);
        if self.bytes.get(stop) == Some(&b'"') {
            self.pos = stop + 1;
            return Ok(Cow::Borrowed(&self.text[start..stop]));
        }
        self.string_with_escapes(start, stop)
    }

    /// The rest of `string`: `stop` is the first byte after `start` that is
    /// no plain string byte, and not the closing quote.
    #[inline(never)]
    fn string_with_escapes(&mut self, start: usize, stop: usize) -> Step<Cow<'a, str>> {
        match self.bytes.get(stop) {
            Some(b'\\') => {
                // Sized once to the escaped text (unescaping only shortens
                // it): grown as it filled, nearly every Windows path cost a
                // reallocation or two.
                let end = self.string_end(stop)?;
                let mut owned = String::with_capacity(end - start);
                owned.push_str(&self.text[start..stop]);
                self.pos = stop;
                self.escaped_rest(&mut owned)?;
                Ok(Cow::Owned(owned))
            }
            // A control character, or the end of the line.
            _ => Err(Decline),
        }
    }

    /// Where the string with a backslash at `from` ends (its closing quote),
    /// stepping over escapes without reading them (`escaped_rest` checks
    /// them next).
    fn string_end(&self, mut from: usize) -> Step<usize> {
        loop {
            // At a backslash: its escaped byte can be a quote, so both go.
            from = special_byte(self.bytes, from + 2);
            match self.bytes.get(from) {
                Some(b'"') => return Ok(from),
                Some(b'\\') => {}
                _ => return Err(Decline),
            }
        }
    }

    /// The rest of a string from its first backslash, unescaped into `out`.
    fn escaped_rest(&mut self, out: &mut String) -> Step<()> {
        loop {
            match self.bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let escape = self.escape()?;
                    out.push(escape);
                }
                _ => return Err(Decline),
            }
            let stop = special_byte(self.bytes, self.pos);
            out.push_str(&self.text[self.pos..stop]);
            self.pos = stop;
        }
    }

    /// Steps over a string, checking its escapes, without building it.
    fn skip_string(&mut self) -> Step<()> {
        self.pos += 1;
        loop {
            self.pos = special_byte(self.bytes, self.pos);
            match self.bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.escape()?;
                }
                _ => return Err(Decline),
            }
        }
    }

    /// One escape, the scanner at its backslash. A `\u` escape of a surrogate
    /// (half of a character outside the basic plane, or a lone half, which
    /// serde_json treats in ways of its own) is declined.
    fn escape(&mut self) -> Step<char> {
        let kind = *self.bytes.get(self.pos + 1).ok_or(Decline)?;
        self.pos += 2;
        Ok(match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hex = self.bytes.get(self.pos..self.pos + 4).ok_or(Decline)?;
                let mut unit = 0u32;
                for &digit in hex {
                    unit = unit * 16 + char::from(digit).to_digit(16).ok_or(Decline)?;
                }
                self.pos += 4;
                char::from_u32(unit).ok_or(Decline)?
            }
            _ => return Err(Decline),
        })
    }
}

/// The largest integer every smaller one of which an `f64` holds exactly.
const EXACT_SIGNIFICAND: u64 = 1 << 53;

/// The largest power of ten an `f64` holds exactly (serde_json's table is
/// exact up to here).
const EXACT_POWER_OF_TEN: usize = 22;

/// A number's text as serde's walk prints it: `u64`/`i64`/`f64`'s
/// `to_string` of the value serde_json reads.
///
/// An integer in range is its own text. A decimal fraction without an
/// exponent whose digits make an integer up to 2^53, with at most 22 of them
/// after the point, is one exactly held integer divided by one exactly held
/// power of ten: serde_json (without its `float_roundtrip` feature) does that
/// one division, correctly rounded, and Rust's parser rounds the same decimal
/// correctly, so both read the same `f64` (Zeek's `ts` is such a number).
/// `-0` (a float to serde_json), exponents, longer fractions and integers out
/// of range are declined.
fn number_text(number: &str) -> Step<Cow<'_, str>> {
    let fraction = number.contains('.');
    if !fraction {
        let in_range = if let Some(magnitude) = number.strip_prefix('-') {
            magnitude != "0" && number.parse::<i64>().is_ok()
        } else {
            number.parse::<u64>().is_ok()
        };
        return if in_range {
            Ok(Cow::Borrowed(number))
        } else {
            Err(Decline)
        };
    }
    if number.contains(['e', 'E']) {
        return Err(Decline);
    }
    let (whole, decimals) = number.split_once('.').ok_or(Decline)?;
    let digits = whole
        .trim_start_matches('-')
        .bytes()
        .chain(decimals.bytes());
    let mut significand: u64 = 0;
    for digit in digits {
        significand = significand
            .checked_mul(10)
            .and_then(|s| s.checked_add(u64::from(digit - b'0')))
            .ok_or(Decline)?;
    }
    if significand > EXACT_SIGNIFICAND || decimals.len() > EXACT_POWER_OF_TEN {
        return Err(Decline);
    }
    let value: f64 = number.parse().map_err(|_| Decline)?;
    Ok(Cow::Owned(value.to_string()))
}

/// The index of the first byte at or after `from` that ends a string's plain
/// run: a quote, a backslash or a control character (which JSON forbids in
/// strings); the length of `bytes` if there is none. Eight bytes at a time.
fn special_byte(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const QUOTES: u64 = u64::from_ne_bytes([b'"'; 8]);
    const BACKSLASHES: u64 = u64::from_ne_bytes([b'\\'; 8]);
    const SPACES: u64 = u64::from_ne_bytes([0x20; 8]);
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        // A byte is zero in `x` where it is set below; the lowest flagged byte
        // is exact (the flags above it may not be, and are not used).
        let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
        let below_space = word.wrapping_sub(SPACES) & !word & HIGHS;
        let flags = zero_byte(word ^ QUOTES) | zero_byte(word ^ BACKSLASHES) | below_space;
        if flags != 0 {
            return at + (flags.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while let Some(&byte) = bytes.get(at) {
        if byte == b'"' || byte == b'\\' || byte < 0x20 {
            return at;
        }
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::Field;

    /// The scanner's record and serde's, compared field by field.
    fn same_as_serde(text: &str) {
        let scanned = walk(text).unwrap_or_else(|| panic!("the scanner declined {text}"));
        let walked = crate::json::walk(text).expect("serde reads it");
        assert_eq!(scanned, walked, "{text}");
    }

    #[test]
    fn reads_every_layout_as_the_serde_walk_does() {
        for line in [
            r#"{"@timestamp":"2024-01-01T00:00:00Z","host":{"name":"wec"},"winlog":{"event_id":3,"computer_name":"WS1","channel":"Microsoft-Windows-Sysmon/Operational","record_id":18446744073709551615,"event_data":{"Image":"C:\\x.exe","DestinationIp":"1.2.3.4"}}}"#,
            r#"{"EventID":3,"host":"wec.internal","Hostname":"WS5","Keywords":-9214364837600034816,"Image":"C:\\Windows\\a b\u00e9.exe"}"#,
            r##"{"Event":{"System":{"EventID":{"#attributes":{"Qualifiers":0},"#text":4688},"Provider":{"#attributes":{"Name":"P"}},"TimeCreated":{"#attributes":{"SystemTime":"2020-01-01T00:00:00Z"}}}}}"##,
            r#"{"EventID":4688,"Computer":"DC","EventData":"<EventData><Data Name=\"NewProcessName\">C:\\a.exe</Data></EventData>"}"#,
            r#"{"Computer":"lnx","SyslogMessage":"<Event>\t\n</Event>","x":[1,2.5e-3,{"a":[true,false,null]}]}"#,
            r#"{"ts":1588207363.253782,"id_orig_h":"10.0.1.6","duration":0.009981870651245117}"#,
            r#"{"EventID":-0.0,"Image":1.50,"CommandLine":-12.5}"#,
            r##"{"ts":1.5,"id.orig_h":"10.0.0.1","answers":["a.example",1,["b",null],{"#text":"c"}],"_path":"dns"}"##,
            r##"{"EventID":1,"Image":{"#text":null,"x":1,"#text":"second"}}"##,
            r#"  {"EventID" : 1 , "Image" : "\"quoted\"\/\b\f\n\r\t" }  "#,
            r#"[1,2,3]"#,
            r#""a string""#,
            r#"{"event_data":"not an object","winlog":[1]}"#,
        ] {
            same_as_serde(line);
        }
    }

    #[test]
    fn declines_what_it_does_not_model_and_serde_decides() {
        for line in [
            r#"{"EventID":1,"Image":"\ud83d\ude00"}"#,
            r#"{"EventID":-0}"#,
            r#"{"EventID":1.5e3}"#,
            r#"{"EventID":1.2345678901234567}"#,
            r#"{"ts":0.12345678901234567890123}"#,
            r#"{"EventID":1e400}"#,
            r#"{"EventID":123456789012345678901234567890}"#,
            r#"{"Event":{"System":{"Provider":5}}}"#,
        ] {
            assert!(walk(line).is_none(), "{line}");
        }
        let deep = format!("{}{}", "[".repeat(101), "]".repeat(101));
        assert!(walk(&deep).is_none());
        let shallow = format!("{}{}", "[".repeat(99), "]".repeat(99));
        assert!(walk(&shallow).is_some());
    }

    #[test]
    fn declines_every_malformed_document() {
        for line in [
            "",
            "{",
            r#"{"EventID":1} x"#,
            r#"{"EventID":1,}"#,
            r#"{"EventID" 1}"#,
            r#"{EventID:1}"#,
            r#"{"a":[1,]}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":-}"#,
            r#"{"a":tru}"#,
            "{\"a\":\"tab\there\"}",
            r#"{"a":"\x"}"#,
            r#"{"a":"\u12G4"}"#,
            r#"{"a":"unterminated}"#,
            // A backslash, or an escaped quote, where the line ends: the
            // unescaped string's size is found by stepping past both.
            r#"{"a":"x\"#,
            r##"{"a":"x\""##,
            r#"{"a":"x\\"#,
            r#"{"a":"x\ty"#,
        ] {
            assert!(walk(line).is_none(), "{line}");
            assert!(crate::json::walk(line).is_err(), "serde too: {line}");
        }
    }

    #[test]
    fn unescaped_strings_are_borrowed() {
        let line = r#"{"EventID":1,"Image":"plain","CommandLine":"a\\b"}"#;
        let record = walk(line).expect("reads");
        let range = line.as_bytes().as_ptr_range();
        let image = record.fields.get(Field::Image).expect("image");
        assert!(range.contains(&image.as_ptr()));
        assert_eq!(record.fields.get(Field::CommandLine), Some("a\\b"));
    }

    /// Every line of the corpus's zips, walked both ways: the same record, or
    /// declined; never read where serde refuses it; and nearly every JSON line
    /// read by the scanner itself.
    #[test]
    fn every_corpus_json_line_walks_as_serde_does() {
        use std::io::{BufRead, BufReader};
        let Some(dir) = crate::test_corpus::corpus() else {
            return;
        };
        let (mut lines, mut declined) = (0usize, 0usize);
        let mut line = Vec::new();
        for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
            let path = entry.expect("the corpus is readable").into_path();
            if !path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
            {
                continue;
            }
            let file = std::fs::File::open(&path).expect("opens");
            let mut archive = zip::ZipArchive::new(file).expect("a zip");
            for index in 0..archive.len() {
                let member = archive.by_index(index).expect("a member");
                if member.is_dir() || member.name().is_ok_and(|name| name.starts_with("__MACOSX")) {
                    continue;
                }
                let mut reader = BufReader::new(member);
                loop {
                    line.clear();
                    if reader.read_until(b'\n', &mut line).expect("reads") == 0 {
                        break;
                    }
                    let Ok(text) = std::str::from_utf8(&line) else {
                        continue;
                    };
                    let text = text.trim_end_matches(['\n', '\r']);
                    if text.is_empty() {
                        continue;
                    }
                    match (walk(text), crate::json::walk(text)) {
                        (Some(scanned), Ok(walked)) => {
                            lines += 1;
                            assert!(scanned == walked, "{}: {text}", path.display());
                        }
                        (Some(_), Err(e)) => {
                            panic!(
                                "{}: serde refuses ({e}) what the scanner read: {text}",
                                path.display()
                            )
                        }
                        (None, Ok(_)) => {
                            lines += 1;
                            declined += 1;
                        }
                        // Not JSON (the Zeek TSV and CSV files of the zips).
                        (None, Err(_)) => {}
                    }
                }
            }
        }
        assert!(lines > 1_000_000, "only {lines} JSON lines in the corpus");
        assert!(
            declined * 1000 < lines,
            "the scanner declined {declined} of {lines} lines"
        );
    }

    #[test]
    fn special_byte_finds_the_first_in_every_position() {
        for length in 0..24 {
            for at in 0..length {
                for special in [b'"', b'\\', 0x01, 0x1f] {
                    let mut bytes = vec![b'a'; length];
                    bytes[at] = special;
                    if at + 1 < length {
                        bytes[at + 1] = b'"';
                    }
                    assert_eq!(special_byte(&bytes, 0), at, "{length} {at} {special}");
                }
            }
            assert_eq!(special_byte(&vec![0xc3; length], 0), length);
        }
    }
}
