//! EVTX records read from their templates, without rendering them.
//!
//! A Windows event record is almost always one instance of a template: the
//! chunk holds the template's BinXML once (elements, attribute names, static
//! text, numbered substitutions), and each record holds only its substitution
//! values. Rendering every record to XML and parsing it back, as the plain
//! path does, spends most of the EVTX time on text seldom throws away.
//!
//! Here a template is read once into a [`TemplateMap`] (and kept for the
//! next chunk that holds the same template: `crate::template_store`): which
//! substitutions (and static text) land in the fields the XML walk of
//! [`crate::xml`] would read, with the same rules: `System`'s `EventID`,
//! `Computer`, `Channel`, `EventRecordID`, `Provider@Name` and
//! `TimeCreated@SystemTime`, and every `Data[@Name]`. A record's values then
//! fill a [`RawRecord`] directly. Values are escaped exactly as the renderer
//! escapes them (the `utf16-simd` crate the renderer uses) and unescaped as
//! the XML walk unescapes them, so the text is the walk's, byte for byte.
//!
//! Windows writes most records as two templates: the `System` part, whose
//! last substitution is a BinXML fragment holding a second template instance
//! for `EventData` (or `UserData`). A fragment that is one template instance
//! is read the same way, with its own values, where the walk would meet it.
//!
//! Whatever this reader does not model exactly declines, and the record takes
//! the plain path: a fragment that is not one template instance, or where a
//! field's text or an attribute should be; arrays, ANSI strings, SIDs and
//! other values it does not decode where a field reads them (elsewhere they
//! are only counted towards the record's output bounds); character and
//! entity references, CDATA, a mapped element with child elements, names the
//! walk would read differently; a record that is not one template instance;
//! and a record or chunk the renderer's output limits could stop (see
//! `MAX_RECORD_BYTES`). The one gap left: a chunk past those bounds has its
//! later records rendered here with less of the chunk's render budget spent
//! than on the plain path, so a record that budget would have stopped there
//! can be read here. No Windows log comes near it (a chunk is 64 KB).
//!
//! The equality test (`evtx_file::tests::every_corpus_evtx_file_reads_the_same_from_templates_as_rendered`)
//! holds the two paths to the same events and counts over every EVTX file
//! of the corpus; the `evtx_file` fuzz target compares them on every input.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use evtx::binxml::value_variant::BinXmlValue;

use crate::binxml_tokens::{Cursor, Token, Tokens, template_bytes};
#[cfg(test)]
use crate::binxml_tokens::{STRING_TYPE, TEMPLATE_HEADER_BYTES};
use crate::fields::{Field, RawRecord};

/// The DependencyId of an element that depends on no value.
const NO_DEPENDENCY: u16 = 0xffff;

/// Where one piece of an element's content or an attribute's value comes
/// from: the template's own text (already XML-escaped) or a substitution.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Value { index: u16, optional: bool },
}

/// One thing the XML walk would do, in document order.
#[derive(Debug, Clone, PartialEq)]
enum Action {
    /// The start of an element whose name begins with `EventID`, anywhere:
    /// the first one is where the rendered path's shortcut reads the event
    /// id (`quick_event_id`, the text up to the element's first child),
    /// before any walk. `None`: an empty element, which it reads past.
    QuickId(Option<Vec<Piece>>),
    /// The substitutions in an element's attributes: the renderer fails on
    /// a fragment there (and repeats the element for an array).
    AttributeValues(Vec<u16>),
    /// An `<Event>` or `<EventData>` start: the document is an event.
    SawEvent,
    /// Set a field from an element's content or an attribute's value.
    Set {
        field: Field,
        pieces: Vec<Piece>,
        attribute: bool,
    },
    /// A substitution among an element's children: when its value is a
    /// BinXML fragment, the fragment's elements are walked here.
    Fragment { index: u16, in_system: bool },
}

/// What the template reader made of a record.
#[derive(Debug)]
pub(crate) enum TemplateRead {
    /// Its first `EventID` names an id no source reads: ignored unread.
    UnreadId,
    /// The fields the XML walk would have read.
    Fields(Box<RawRecord<'static>>),
}

/// A substitution value: one this reader decoded (as the crate decodes it),
/// or one it does not decode (usable only where no field reads it). A
/// `Value` holds only the kinds `decode_value` decodes: kinds the renderer
/// fails on (EvtXml, handles, some arrays) decline the record there.
#[derive(Debug, Clone)]
pub(crate) enum Slot<'a> {
    Value(BinXmlValue<'a>),
    /// Its size, and how many times the renderer writes its element (the
    /// items of an array, which it expands; 1 otherwise).
    Undecoded {
        bytes: usize,
        repeats: usize,
    },
}

/// Fragments inside fragments this deep decline (Windows nests one).
const MAX_NESTING: usize = 2;
/// Arrays with more items decline: the renderer writes their element once
/// per item, which the output bounds below would have to follow.
const MAX_ARRAY_ITEMS: usize = 16;

// The renderer fails a record past 16 MiB of output or 2^18 nodes, and
// every later record of a chunk once the chunk has spent 64 MiB or 2^20
// nodes. A record read here is not rendered, so it must be one the renderer
// would have rendered: each record's output is bounded from its template
// (names, static text, six bytes per value byte at most) and one past these
// bounds declines, as does every record of a chunk past the chunk's bounds.
const MAX_RECORD_BYTES: usize = 1 << 20;
const MAX_RECORD_NODES: usize = 1 << 16;
const MAX_CHUNK_BYTES: usize = 32 << 20;
const MAX_CHUNK_NODES: usize = 1 << 19;

/// An action, done only when none of the values its enclosing elements
/// depend on is null (MS-EVEN6 2.2.12: such an element is not rendered).
#[derive(Debug, Clone, PartialEq)]
struct Step {
    action: Action,
    requires: Vec<u16>,
}

/// The fields one template gives, and where each comes from.
#[derive(Debug, PartialEq)]
pub(crate) struct TemplateMap {
    steps: Vec<Step>,
    /// At most what its elements, attributes and text render to, values aside.
    static_bytes: usize,
    /// Its elements, attributes and pieces: the renderer's nodes.
    nodes: usize,
    /// The value of each substitution, once per place it is written.
    placeholders: Vec<u16>,
}

/// The templates of one chunk by their offset. The crate clones the record
/// closure for each chunk, so a cache serves one chunk; it also empties
/// itself when handed another chunk's bytes.
#[derive(Default, Clone)]
pub(crate) struct TemplateCache {
    by_offset: HashMap<u32, Option<Arc<TemplateMap>>>,
    /// The chunk the entries are of: its address and length.
    chunk: (usize, usize),
    /// Output bounds spent by this chunk's records read here.
    chunk_bytes: usize,
    chunk_nodes: usize,
    /// Output bounds of the record being read.
    record_bytes: usize,
    record_nodes: usize,
    /// Whether the record's first `EventID` element has been met.
    quick_id_seen: bool,
    /// Set when that element names an event id no source reads: no field
    /// of the record is read after it, as on the rendered path, but the rest
    /// is still checked to be one the renderer renders.
    unread_id: bool,
    /// Escaped text of one value, reused.
    scratch: Vec<u8>,
}

impl TemplateCache {
    /// What a record whose BinXML (`binxml`, a slice of `chunk`) is one
    /// template instance gives; `None` when this reader declines it.
    pub(crate) fn read(&mut self, chunk: &[u8], binxml: &[u8]) -> Option<TemplateRead> {
        self.for_chunk(chunk);
        let (offset, values) = instance(chunk, binxml)?;
        self.read_instance(chunk, offset, &values)
    }

    /// Empties the cache when handed another chunk than its own.
    fn for_chunk(&mut self, chunk: &[u8]) {
        let this_chunk = (chunk.as_ptr() as usize, chunk.len());
        if self.chunk != this_chunk {
            *self = TemplateCache {
                chunk: this_chunk,
                scratch: std::mem::take(&mut self.scratch),
                ..TemplateCache::default()
            };
        }
    }

    /// [`Self::read`] of an instance whose values are read.
    fn read_instance(
        &mut self,
        chunk: &[u8],
        offset: u32,
        slots: &[Slot<'_>],
    ) -> Option<TemplateRead> {
        let mut record = RawRecord::new();
        self.quick_id_seen = false;
        self.unread_id = false;
        self.record_bytes = 0;
        self.record_nodes = 0;
        let saw_event = self.apply(chunk, offset, slots, &mut record, 0)?;
        // Within the renderer's bounds, with room to spare (see MAX_RECORD_BYTES).
        let chunk_bytes = self.chunk_bytes.saturating_add(self.record_bytes);
        let chunk_nodes = self.chunk_nodes.saturating_add(self.record_nodes);
        if self.record_bytes > MAX_RECORD_BYTES
            || self.record_nodes > MAX_RECORD_NODES
            || chunk_bytes > MAX_CHUNK_BYTES
            || chunk_nodes > MAX_CHUNK_NODES
        {
            return None;
        }
        (self.chunk_bytes, self.chunk_nodes) = (chunk_bytes, chunk_nodes);
        if self.unread_id {
            return Some(TemplateRead::UnreadId);
        }
        // A document without an event is an error the walk reports.
        saw_event.then(|| TemplateRead::Fields(Box::new(record)))
    }

    /// Applies one template instance to `record`; whether it held an event.
    fn apply(
        &mut self,
        chunk: &[u8],
        offset: u32,
        values: &[Slot<'_>],
        record: &mut RawRecord<'static>,
        depth: usize,
    ) -> Option<bool> {
        let map = self.get(chunk, offset)?;
        self.add_bounds(&map, values);
        let mut saw_event = false;
        let mut fragments_read = Vec::new();
        let mut text = String::new();
        for step in &map.steps {
            let left_out = step.requires.iter().any(|&d| {
                matches!(
                    values.get(usize::from(d)),
                    Some(Slot::Value(BinXmlValue::NullType))
                )
            });
            if left_out {
                continue;
            }
            match &step.action {
                Action::QuickId(_) if self.quick_id_seen => {}
                Action::QuickId(pieces) => {
                    self.quick_id_seen = true;
                    // An empty `<EventID/>`: the shortcut reads whatever
                    // text follows it; left to the rendered path.
                    let pieces = pieces.as_ref()?;
                    text.clear();
                    render(pieces, values, false, &mut text, &mut self.scratch)?;
                    let id = text.trim().parse().ok();
                    // An id no source reads: the rest of the record is only
                    // checked to render, as the rendered path renders it
                    // before its shortcut reads the id.
                    self.unread_id = id.is_some_and(|id| !crate::normalize::is_read_event_id(id));
                }
                Action::AttributeValues(indices) => {
                    let renders_as_text =
                        indices
                            .iter()
                            .all(|&index| match values.get(usize::from(index)) {
                                Some(Slot::Value(value)) => is_plain_scalar(value),
                                Some(Slot::Undecoded { .. }) | None => true,
                            });
                    if !renders_as_text {
                        return None;
                    }
                }
                Action::SawEvent => saw_event = true,
                Action::Set {
                    field,
                    pieces,
                    attribute,
                } => {
                    if record.has(*field) || self.unread_id {
                        // Not read (the walk keeps a field's first value),
                        // but a fragment there renders markup the shortcut
                        // could find an `<EventID` in.
                        if holds_fragment(pieces, values) {
                            return None;
                        }
                        continue;
                    }
                    text.clear();
                    render(pieces, values, *attribute, &mut text, &mut self.scratch)?;
                    if *attribute && text.is_empty() {
                        continue; // the renderer leaves an attribute with no text out
                    }
                    let value = crate::xml::unescape(Cow::Borrowed(text.as_str()));
                    if *attribute && value.contains(['\t', '\n', '\r']) {
                        return None; // attribute value normalization: left to the walk
                    }
                    record.set(*field, Cow::Owned(value.into_owned()));
                }
                Action::Fragment { index, in_system } => {
                    let Some(Slot::Value(BinXmlValue::BinXmlType(bytes))) =
                        values.get(usize::from(*index))
                    else {
                        continue; // text among elements: nothing the walk reads
                    };
                    if *in_system || depth + 1 >= MAX_NESTING {
                        return None;
                    }
                    let (inner_offset, inner_values) = instance(chunk, bytes)?;
                    saw_event |=
                        self.apply(chunk, inner_offset, &inner_values, record, depth + 1)?;
                    fragments_read.push(*index);
                }
            }
        }
        // A fragment no step read (unreferenced, or under a left-out
        // element) might still hold fields: leave the record to the walk.
        let unread_fragment = values.iter().enumerate().any(|(index, value)| {
            matches!(value, Slot::Value(BinXmlValue::BinXmlType(bytes)) if !bytes.is_empty())
                && !fragments_read
                    .iter()
                    .any(|&read| usize::from(read) == index)
        });
        if unread_fragment {
            return None;
        }
        Some(saw_event)
    }

    /// The map of the template at `offset` of `chunk`; `None` when it cannot
    /// be read or is one this reader declines. A template met before in
    /// another chunk is not read again (`crate::template_store`).
    fn get(&mut self, chunk: &[u8], offset: u32) -> Option<Arc<TemplateMap>> {
        self.by_offset
            .entry(offset)
            .or_insert_with(|| crate::template_store::map_of(chunk, offset))
            .clone()
    }

    /// Adds what one instance of `map` with `values` renders to, at most,
    /// to the record's bounds.
    fn add_bounds(&mut self, map: &TemplateMap, values: &[Slot<'_>]) {
        let value_bytes: usize = map
            .placeholders
            .iter()
            .map(|&index| values.get(usize::from(index)).map_or(0, slot_bytes))
            .fold(0, usize::saturating_add);
        let repeats = values
            .iter()
            .map(|value| match value {
                Slot::Undecoded { repeats, .. } => *repeats,
                Slot::Value(_) => 1,
            })
            .max()
            .unwrap_or(1);
        // Escaping writes at most six bytes (`&quot;`) for one.
        let bytes = map
            .static_bytes
            .saturating_add(value_bytes.saturating_mul(6))
            .saturating_mul(repeats);
        let nodes = map.nodes.saturating_mul(repeats);
        self.record_bytes = self.record_bytes.saturating_add(bytes);
        self.record_nodes = self.record_nodes.saturating_add(nodes);
    }
}

/// The size of a value's text at most, before escaping: its bytes, or 40 for
/// a number, a GUID or a time written out.
fn slot_bytes(value: &Slot<'_>) -> usize {
    match value {
        Slot::Undecoded { bytes, .. } => bytes.saturating_mul(2).max(40),
        Slot::Value(BinXmlValue::StringType(s)) => s.as_bytes().len(),
        // Hexadecimal: two characters a byte.
        Slot::Value(BinXmlValue::BinaryType(b)) => b.len().saturating_mul(2),
        // A fragment's own bounds are added when it is read.
        Slot::Value(_) => 40,
    }
}

/// Whether a piece is a non-empty BinXML fragment.
fn holds_fragment(pieces: &[Piece], values: &[Slot<'_>]) -> bool {
    pieces.iter().any(|piece| match piece {
        Piece::Value { index, .. } => matches!(
            values.get(usize::from(*index)),
            Some(Slot::Value(BinXmlValue::BinXmlType(bytes))) if !bytes.is_empty()
        ),
        Piece::Text(_) => false,
    })
}

impl TemplateMap {
    /// Reads the template at `offset` of `chunk` into the walk's actions.
    pub(crate) fn read(chunk: &[u8], offset: u32) -> Option<TemplateMap> {
        let root = read_tree(Tokens::of_template(chunk, offset)?)?;
        let mut steps = Vec::new();
        walk(&root, false, true, &mut Vec::new(), &mut steps)?;
        // A value placed twice among elements could be a fragment rendered
        // twice: its bounds would have to be counted twice; left to the walk.
        let mut fragment_places: Vec<u16> = steps
            .iter()
            .filter_map(|step| match step.action {
                Action::Fragment { index, .. } => Some(index),
                _ => None,
            })
            .collect();
        let places = fragment_places.len();
        fragment_places.sort_unstable();
        fragment_places.dedup();
        if fragment_places.len() != places {
            return None;
        }
        let mut map = TemplateMap {
            steps,
            static_bytes: 0,
            nodes: 0,
            placeholders: Vec::new(),
        };
        map.count(&root);
        Some(map)
    }

    /// Adds an element's static output, nodes and placeholders to the bounds.
    fn count(&mut self, element: &Element) {
        // `<name>`, `</name>` and a newline at most.
        self.static_bytes = self.static_bytes.saturating_add(2 * element.name.len() + 6);
        self.nodes += 1;
        let pieces = element.attributes.iter().flat_map(|(name, pieces)| {
            self.static_bytes = self.static_bytes.saturating_add(name.len() + 4);
            pieces.iter()
        });
        let mut all: Vec<&Piece> = pieces.collect();
        self.nodes += element.attributes.len();
        for child in &element.children {
            match child {
                Child::Piece(piece) => all.push(piece),
                Child::Element(child) => self.count(child),
            }
        }
        for piece in all {
            self.nodes += 1;
            match piece {
                Piece::Text(text) => {
                    self.static_bytes = self.static_bytes.saturating_add(text.len())
                }
                Piece::Value { index, .. } => self.placeholders.push(*index),
            }
        }
    }
}

/// Values rendered as text by a plain conversion: every kind `decode_value`
/// decodes but a fragment, which the renderer writes as elements.
fn is_plain_scalar(value: &BinXmlValue<'_>) -> bool {
    !matches!(value, BinXmlValue::BinXmlType(_))
}

/// Appends the escaped text of `pieces` as the renderer writes it (an
/// optional empty value writes nothing).
fn render(
    pieces: &[Piece],
    values: &[Slot<'_>],
    attribute: bool,
    out: &mut String,
    scratch: &mut Vec<u8>,
) -> Option<()> {
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Value { index, optional } => {
                let value = match values.get(usize::from(*index)) {
                    None => continue, // a substitution past the values renders nothing
                    Some(Slot::Undecoded { .. }) => return None,
                    Some(Slot::Value(value)) => value,
                };
                if *optional && is_optional_empty(value) {
                    continue;
                }
                if !is_plain_scalar(value) {
                    return None;
                }
                use std::fmt::Write;
                let mut digits = itoa::Buffer::new();
                match value {
                    BinXmlValue::NullType => {}
                    BinXmlValue::StringType(s) => {
                        let bytes = s.as_bytes();
                        if bytes.len() >= 2 {
                            utf16_simd::escape_xml_utf16le_into(
                                bytes,
                                bytes.len() / 2,
                                scratch,
                                attribute,
                            );
                            out.push_str(crate::utf8::text(scratch).ok()?);
                        }
                    }
                    // Integers as the renderer writes them: in decimal, as
                    // `Display` writes them (itoa's output is the same,
                    // without the formatting machinery: ten of these a
                    // record cost 5 % of reading the attack samples).
                    BinXmlValue::UInt8Type(v) => out.push_str(digits.format(*v)),
                    BinXmlValue::UInt16Type(v) => out.push_str(digits.format(*v)),
                    BinXmlValue::UInt32Type(v) => out.push_str(digits.format(*v)),
                    BinXmlValue::UInt64Type(v) => out.push_str(digits.format(*v)),
                    BinXmlValue::Int8Type(v) => out.push_str(digits.format(*v)),
                    BinXmlValue::Int16Type(v) => out.push_str(digits.format(*v)),
                    BinXmlValue::Int32Type(v) => out.push_str(digits.format(*v)),
                    BinXmlValue::Int64Type(v) => out.push_str(digits.format(*v)),
                    // Other scalars have one text form, the one `Display` writes.
                    other => write!(out, "{other}").ok()?,
                }
            }
        }
    }
    Some(())
}

/// The values an optional substitution leaves out, as the crate decides it.
fn is_optional_empty(value: &BinXmlValue<'_>) -> bool {
    match value {
        BinXmlValue::NullType => true,
        BinXmlValue::StringType(s) => s.is_empty(),
        BinXmlValue::BinaryType(bytes) => bytes.is_empty(),
        _ => false,
    }
}

/// UTF-16LE text XML-escaped by the function the crate's renderer calls.
fn escape_utf16(bytes: &[u8], attribute: bool) -> Option<String> {
    let units = bytes.len() / 2;
    if units == 0 {
        return Some(String::new());
    }
    let mut out = Vec::new();
    utf16_simd::escape_xml_utf16le_into(bytes, units, &mut out, attribute);
    String::from_utf8(out).ok()
}

/// UTF-16LE code units up to the first NUL, as the crate reads strings.
/// Four units at a time: a unit is zero in a word where its lane is flagged
/// below, and the lowest flagged lane is exact (the flags above it may not
/// be, and are not used). A trailing odd byte is no unit.
fn until_nul(bytes: &[u8]) -> &[u8] {
    const ONES: u64 = 0x0001_0001_0001_0001;
    const HIGHS: u64 = 0x8000_8000_8000_8000;
    let units = bytes.len() / 2;
    let mut unit = 0;
    for word in bytes.chunks_exact(8) {
        let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let zero_lanes = word.wrapping_sub(ONES) & !word & HIGHS;
        if zero_lanes != 0 {
            return &bytes[..2 * (unit + (zero_lanes.trailing_zeros() / 16) as usize)];
        }
        unit += 4;
    }
    while unit < units {
        if bytes[2 * unit] == 0 && bytes[2 * unit + 1] == 0 {
            break;
        }
        unit += 1;
    }
    &bytes[..2 * unit]
}

/// The template offset and values of BinXML that is one template instance
/// (a record's, or a fragment value's); `None` for any other BinXML.
///
/// Each value is exactly the bytes its descriptor sizes, as the renderer
/// reads them; a fixed-size value of another size declines (the crate's two
/// value readers disagree on such records, so only the renderer's word
/// counts).
fn instance<'c>(chunk: &'c [u8], fragment: &[u8]) -> Option<(u32, Vec<Slot<'c>>)> {
    // The fragment is a slice of the chunk; where it starts decides whether
    // its template definition is inline.
    let start = (fragment.as_ptr() as usize).checked_sub(chunk.as_ptr() as usize)?;
    let end = start.checked_add(fragment.len())?;
    if chunk.get(start..end)?.as_ptr() != fragment.as_ptr() {
        return None;
    }
    // A fragment header is optional: Windows writes the instance bare.
    let instance_at = if fragment.first() == Some(&0x0f) {
        4
    } else {
        0
    };
    if fragment.get(instance_at) != Some(&0x0c) {
        return None;
    }
    let mut reader = Cursor {
        chunk,
        pos: start + instance_at + 1,
    };
    reader.byte()?;
    reader.u32()?; // template id
    let offset = reader.u32()?;
    if reader.pos == offset as usize {
        let inline = template_bytes(chunk, offset)?;
        reader.pos += inline.len();
    }
    let count = reader.u32()? as usize;
    if count > end.saturating_sub(reader.pos) / 4 {
        return None;
    }
    // Descriptors (size u16, kind u8, padding u8), then the values in order.
    let descriptors = chunk.get(reader.pos..reader.pos + 4 * count)?;
    let mut at = reader.pos + 4 * count;
    let mut values = Vec::with_capacity(count);
    for descriptor in descriptors.chunks_exact(4) {
        let size = usize::from(u16::from_le_bytes([descriptor[0], descriptor[1]]));
        let next = at.checked_add(size).filter(|&next| next <= end)?;
        values.push(decode_value(descriptor[2], &chunk[at..next])?);
        at = next;
    }
    // Anything after the instance but its end would be rendered too.
    if at < end && chunk[at] != 0x00 {
        return None;
    }
    Some((offset, values))
}

/// One substitution value of `kind` (MS-EVEN6 2.2.18) from exactly its
/// bytes, as the crate decodes it; `Undecoded` for kinds the renderer
/// writes but this reader does not; `None` when the size is not the kind's
/// or the kind is one to leave to the renderer.
fn decode_value(kind: u8, bytes: &[u8]) -> Option<Slot<'_>> {
    fn fixed<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
        bytes.try_into().ok()
    }
    let value = match kind {
        0x00 => BinXmlValue::NullType,
        0x01 => {
            if bytes.len() % 2 != 0 {
                return None;
            }
            let text = until_nul(bytes);
            BinXmlValue::StringType(evtx::Utf16LeSlice::new(text, text.len() / 2))
        }
        0x03 => BinXmlValue::Int8Type(i8::from_le_bytes(fixed(bytes)?)),
        0x04 => BinXmlValue::UInt8Type(u8::from_le_bytes(fixed(bytes)?)),
        0x05 => BinXmlValue::Int16Type(i16::from_le_bytes(fixed(bytes)?)),
        0x06 => BinXmlValue::UInt16Type(u16::from_le_bytes(fixed(bytes)?)),
        0x07 => BinXmlValue::Int32Type(i32::from_le_bytes(fixed(bytes)?)),
        0x08 => BinXmlValue::UInt32Type(u32::from_le_bytes(fixed(bytes)?)),
        0x09 => BinXmlValue::Int64Type(i64::from_le_bytes(fixed(bytes)?)),
        0x0a => BinXmlValue::UInt64Type(u64::from_le_bytes(fixed(bytes)?)),
        // Windows writes bitmasks in some bool slots: the crate keeps them as integers.
        0x0d => match i32::from_le_bytes(fixed(bytes)?) {
            0 => BinXmlValue::BoolType(false),
            1 => BinXmlValue::BoolType(true),
            raw => BinXmlValue::Int32Type(raw),
        },
        0x0e => BinXmlValue::BinaryType(bytes),
        0x0f => BinXmlValue::GuidType(fixed(bytes)?),
        0x10 if bytes.len() == 4 => BinXmlValue::HexInt32Type(u32::from_le_bytes(fixed(bytes)?)),
        0x10 => BinXmlValue::HexInt64Type(u64::from_le_bytes(fixed(bytes)?)),
        0x11 => BinXmlValue::FileTimeType(evtx::binxml::value_variant::FileTime(
            u64::from_le_bytes(fixed(bytes)?),
        )),
        0x14 => BinXmlValue::HexInt32Type(u32::from_le_bytes(fixed(bytes)?)),
        0x15 => BinXmlValue::HexInt64Type(u64::from_le_bytes(fixed(bytes)?)),
        // An empty fragment is null to the crate (it leaves out what depends on it).
        0x21 if bytes.is_empty() => BinXmlValue::NullType,
        0x21 => BinXmlValue::BinXmlType(bytes),
        // ANSI strings, reals, SYSTEMTIME: any size the crate reads as it is.
        0x02 => return Some(undecoded(bytes, 1)),
        0x0b if bytes.len() == 4 => return Some(undecoded(bytes, 1)),
        0x0c if bytes.len() == 8 => return Some(undecoded(bytes, 1)),
        0x12 if bytes.len() == 16 => return Some(undecoded(bytes, 1)),
        // Arrays the renderer writes (it repeats their element): kept
        // undecoded, whole items only. The crate reads a string array as
        // NUL-terminated strings, past its size when the last one is not
        // terminated (shifting every value after it): that one is left to
        // it, as are ANSI, binary and size arrays.
        0x81 if bytes.is_empty() || bytes.len() % 2 == 0 && bytes.ends_with(&[0, 0]) => {
            let items = bytes.chunks_exact(2).filter(|unit| unit == &[0, 0]).count();
            return (items <= MAX_ARRAY_ITEMS).then(|| undecoded(bytes, items.max(1)));
        }
        0x83..=0x8d | 0x8f | 0x91 | 0x92 | 0x94 | 0x95
            if bytes.len() % array_item_bytes(kind) == 0 =>
        {
            let items = bytes.len() / array_item_bytes(kind);
            return (items <= MAX_ARRAY_ITEMS).then(|| undecoded(bytes, items.max(1)));
        }
        // A SID of exactly its own length: revision, count, authority, sub-authorities.
        0x13 if bytes.len() >= 8 && bytes.len() == 8 + 4 * usize::from(bytes[1]) => {
            return Some(undecoded(bytes, 1));
        }
        _ => return None,
    };
    Some(Slot::Value(value))
}

fn undecoded(bytes: &[u8], repeats: usize) -> Slot<'_> {
    Slot::Undecoded {
        bytes: bytes.len(),
        repeats,
    }
}

/// The size of one item of a fixed-size array kind.
fn array_item_bytes(kind: u8) -> usize {
    match kind {
        0x83 | 0x84 => 1,
        0x85 | 0x86 => 2,
        0x87 | 0x88 | 0x8b | 0x8d | 0x94 => 4,
        0x89 | 0x8a | 0x8c | 0x91 | 0x95 => 8,
        _ => 16, // GUIDs, SYSTEMTIMEs
    }
}

/// One element of a template, with its content in order.
#[derive(Debug)]
struct Element {
    name: String,
    dependency: Option<u16>,
    attributes: Vec<(String, Vec<Piece>)>,
    children: Vec<Child>,
    self_closing: bool,
}

#[derive(Debug)]
enum Child {
    Element(Element),
    Piece(Piece),
}

/// A template's element tree, from its tokens; `None` for a body that is
/// not one element or holds what this reader does not model.
fn read_tree(mut tokens: Tokens<'_>) -> Option<Element> {
    let mut stack: Vec<Element> = Vec::new();
    let mut attribute: Option<(String, Vec<Piece>)> = None;
    let mut in_start = false;
    let mut root = None;
    loop {
        match tokens.next_token()? {
            Token::End => break,
            Token::OpenStart { dependency, name } => {
                if in_start || root.is_some() {
                    return None;
                }
                stack.push(Element {
                    name: element_name(name)?,
                    dependency: Some(dependency).filter(|&d| d != NO_DEPENDENCY),
                    attributes: Vec::new(),
                    children: Vec::new(),
                    self_closing: false,
                });
                in_start = true;
            }
            Token::Attribute { name } => {
                if !in_start {
                    return None;
                }
                close_attribute(&mut stack, &mut attribute)?;
                attribute = Some((element_name(name)?, Vec::new()));
            }
            Token::CloseStart => {
                close_attribute(&mut stack, &mut attribute)?;
                in_start = false;
            }
            token @ (Token::CloseEmpty | Token::EndElement) => {
                let self_closing = token == Token::CloseEmpty;
                if self_closing != in_start {
                    return None;
                }
                close_attribute(&mut stack, &mut attribute)?;
                in_start = false;
                let mut element = stack.pop()?;
                element.self_closing = self_closing;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Child::Element(element)),
                    None => root = Some(element),
                }
            }
            Token::Text(bytes) => {
                let text = escape_utf16(until_nul(bytes), attribute.is_some())?;
                add_piece(&mut stack, &mut attribute, in_start, Piece::Text(text))?;
            }
            Token::Substitution { index, optional } => {
                let piece = Piece::Value { index, optional };
                add_piece(&mut stack, &mut attribute, in_start, piece)?;
            }
        }
    }
    if !stack.is_empty() {
        return None;
    }
    root
}

/// An element's or attribute's name from its UTF-16 text; `None` for one
/// that is not UTF-16 or that the walk would read differently.
fn element_name(units: &[u8]) -> Option<String> {
    // Names are ASCII but for the odd one: those in one pass, the rest decoded.
    let ascii: Option<Vec<u8>> = units
        .chunks_exact(2)
        .map(|pair| (pair[1] == 0 && pair[0].is_ascii()).then_some(pair[0]))
        .collect();
    let name = match ascii {
        Some(ascii) => String::from_utf8(ascii).ok()?,
        None => char::decode_utf16(
            units
                .chunks_exact(2)
                .map(|pair| u16::from_le_bytes([pair[0], pair[1]])),
        )
        .collect::<Result<String, _>>()
        .ok()?,
    };
    is_plain_name(&name).then_some(name)
}

/// A name the renderer writes as a well-formed XML name. Others (empty,
/// with spaces, markup or control characters) render as markup the walk
/// reads differently or rejects: the record is left to the walk.
fn is_plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':' || !c.is_ascii());
    starts_well
        && chars.all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-' | '.') || !c.is_ascii()
        })
}

fn close_attribute(
    stack: &mut [Element],
    attribute: &mut Option<(String, Vec<Piece>)>,
) -> Option<()> {
    if let Some(done) = attribute.take() {
        let element = stack.last_mut()?;
        if element.attributes.iter().any(|(name, _)| *name == done.0) {
            return None; // a repeated attribute: which one the walk reads is its business
        }
        element.attributes.push(done);
    }
    Some(())
}

fn add_piece(
    stack: &mut [Element],
    attribute: &mut Option<(String, Vec<Piece>)>,
    in_start: bool,
    piece: Piece,
) -> Option<()> {
    match (attribute.as_mut(), in_start) {
        (Some((_, pieces)), true) => pieces.push(piece),
        (None, false) => stack.last_mut()?.children.push(Child::Piece(piece)),
        _ => return None,
    }
    Some(())
}

/// The actions the XML walk (`crate::xml::walk`) takes on an element and its
/// content, in its order; `None` where the walk would read something this
/// reader does not model.
fn walk(
    element: &Element,
    in_system: bool,
    is_root: bool,
    requires: &mut Vec<u16>,
    steps: &mut Vec<Step>,
) -> Option<()> {
    // A template's root is always rendered; any other element is left out
    // when the value it depends on is null.
    let depends = element.dependency.filter(|_| !is_root);
    if let Some(dependency) = depends {
        requires.push(dependency);
    }
    let name = local_name(&element.name);
    let mut step = |action| {
        steps.push(Step {
            action,
            requires: requires.clone(),
        })
    };
    let in_attributes: Vec<u16> = element
        .attributes
        .iter()
        .flat_map(|(_, pieces)| pieces)
        .filter_map(|piece| match piece {
            Piece::Value { index, .. } => Some(*index),
            Piece::Text(_) => None,
        })
        .collect();
    if !in_attributes.is_empty() {
        step(Action::AttributeValues(in_attributes));
    }
    // The rendered path's shortcut looks for the bytes `<EventID`: any name
    // that starts so, without a prefix.
    // Its text runs to its first child element, or past it when that one is
    // left out: read only when it has no child element.
    if element.name.starts_with("EventID") {
        let pieces = text_content(element).filter(|_| !element.self_closing);
        step(Action::QuickId(pieces));
    }
    if element.self_closing {
        // An empty element: the walk reads only `System` attributes of it.
        if in_system {
            attributes_of(element, name, &mut step);
        }
    } else {
        match name {
            "Event" | "EventData" => {
                step(Action::SawEvent);
                walk_children(element, in_system, requires, steps)?;
            }
            // The walk leaves `System` at the first `</System>`, a nested
            // one's too: not modelled.
            "System" if in_system => return None,
            "System" => walk_children(element, true, requires, steps)?,
            "Data" => {
                let field = match element.attributes.iter().find(|(n, _)| n == "Name") {
                    Some((_, pieces)) => match pieces.as_slice() {
                        // The walk reads the name as written, escapes and all.
                        [Piece::Text(text)] => Field::event_data(text),
                        [] => None,
                        _ => return None, // a computed name
                    },
                    None => None,
                };
                let pieces = text_content(element)?;
                if let Some(field) = field {
                    step(Action::Set {
                        field,
                        pieces,
                        attribute: false,
                    });
                }
            }
            _ if in_system => {
                attributes_of(element, name, &mut step);
                match Field::system(name) {
                    Some(field) => step(Action::Set {
                        field,
                        pieces: text_content(element)?,
                        attribute: false,
                    }),
                    None => walk_children(element, in_system, requires, steps)?,
                }
            }
            _ => walk_children(element, in_system, requires, steps)?,
        }
    }
    if depends.is_some() {
        requires.pop();
    }
    Some(())
}

fn walk_children(
    element: &Element,
    in_system: bool,
    requires: &mut Vec<u16>,
    steps: &mut Vec<Step>,
) -> Option<()> {
    for child in &element.children {
        match child {
            Child::Element(child) => walk(child, in_system, false, requires, steps)?,
            Child::Piece(Piece::Value { index, .. }) => steps.push(Step {
                action: Action::Fragment {
                    index: *index,
                    in_system,
                },
                requires: requires.clone(),
            }),
            Child::Piece(Piece::Text(_)) => {}
        }
    }
    Some(())
}

/// An element's content as the walk reads it (`read_text`): text and values
/// only; an element inside would be read as markup, so it declines.
fn text_content(element: &Element) -> Option<Vec<Piece>> {
    element
        .children
        .iter()
        .map(|child| match child {
            Child::Piece(piece) => Some(piece.clone()),
            Child::Element(_) => None,
        })
        .collect()
}

/// `<Provider Name=".."/>` and `<TimeCreated SystemTime=".."/>`, as
/// `crate::xml` reads them.
fn attributes_of(element: &Element, name: &str, step: &mut impl FnMut(Action)) {
    let Some((field, wanted)) = Field::system_attribute(name) else {
        return;
    };
    if let Some((_, pieces)) = element.attributes.iter().find(|(n, _)| n == wanted) {
        step(Action::Set {
            field,
            pieces: pieces.clone(),
            attribute: true,
        });
    }
}

/// The name after its prefix, as quick-xml takes it (after the first colon).
fn local_name(name: &str) -> &str {
    name.split_once(':').map_or(name, |(_, local)| local)
}

#[cfg(test)]
mod tests {
    #[test]
    fn until_nul_stops_at_the_first_zero_unit_in_every_position() {
        for units in 0..14 {
            let text: Vec<u8> = (0..units).flat_map(|_| [0x41, 0x00]).collect();
            assert_eq!(super::until_nul(&text).len(), 2 * units);
            let mut odd = text.clone();
            odd.push(0);
            assert_eq!(super::until_nul(&odd).len(), 2 * units, "odd byte");
            for at in 0..units {
                let mut bytes = text.clone();
                bytes[2 * at] = 0;
                // A unit whose low byte is zero and high byte is not is no NUL.
                bytes[2 * at + 1] = 0x01;
                assert_eq!(
                    super::until_nul(&bytes).len(),
                    2 * units,
                    "{units} {at} U+0100"
                );
                bytes[2 * at + 1] = 0;
                if at + 1 < units {
                    bytes[2 * at + 2] = 0;
                    bytes[2 * at + 3] = 0;
                }
                assert_eq!(super::until_nul(&bytes).len(), 2 * at, "{units} {at}");
            }
        }
    }

    use super::*;

    /// A chunk holding one template at offset 0x200: `<Event><System>
    /// <Provider Name="P" Guid="%3?"/><EventID>%0</EventID></System><EventData>
    /// <Data Name="Image">%1</Data><Data Name="CommandLine">%2?</Data>
    /// </EventData></Event>`, names inline.
    fn chunk_with_template() -> (Vec<u8>, u32) {
        chunk_with_template_at(0x200, true)
    }

    /// The same template at `offset`, its names inline (as where a chunk
    /// first uses them) or referenced from a string table at the chunk's
    /// start (as where the chunk has used them before).
    fn chunk_with_template_at(offset: usize, names_inline: bool) -> (Vec<u8>, u32) {
        let mut chunk = vec![0u8; 0x10];
        let mut table = HashMap::new();
        // A string table entry: next-string link, hash, length, text, NUL.
        let entry = |chunk: &mut Vec<u8>, text: &str| {
            chunk.extend_from_slice(&[0; 6]);
            let units: Vec<u16> = text.encode_utf16().collect();
            chunk.extend_from_slice(&(units.len() as u16).to_le_bytes());
            for unit in units {
                chunk.extend_from_slice(&unit.to_le_bytes());
            }
            chunk.extend_from_slice(&[0, 0]);
        };
        if !names_inline {
            for text in [
                "Event",
                "System",
                "Provider",
                "Name",
                "Guid",
                "EventID",
                "EventData",
                "Data",
            ] {
                table.insert(text, chunk.len() as u32);
                entry(&mut chunk, text);
            }
        }
        assert!(chunk.len() <= offset);
        chunk.resize(offset, 0);
        let offset = chunk.len() as u32;
        chunk.extend_from_slice(&[0; TEMPLATE_HEADER_BYTES]);
        let body_start = chunk.len();
        chunk.extend_from_slice(&[0x0f, 1, 1, 0]);
        let name = |chunk: &mut Vec<u8>, text: &str| match table.get(text) {
            Some(at) => chunk.extend_from_slice(&at.to_le_bytes()),
            None => {
                let at = chunk.len() as u32 + 4;
                chunk.extend_from_slice(&at.to_le_bytes());
                entry(chunk, text);
            }
        };
        let open = |chunk: &mut Vec<u8>, text: &str, attributes: bool| {
            chunk.push(if attributes { 0x41 } else { 0x01 });
            chunk.extend_from_slice(&NO_DEPENDENCY.to_le_bytes());
            chunk.extend_from_slice(&[0; 4]);
            name(chunk, text);
            if attributes {
                chunk.extend_from_slice(&[0; 4]);
            }
        };
        let text = |chunk: &mut Vec<u8>, value: &str| {
            chunk.extend_from_slice(&[0x05, STRING_TYPE]);
            let units: Vec<u16> = value.encode_utf16().collect();
            chunk.extend_from_slice(&(units.len() as u16).to_le_bytes());
            for unit in units {
                chunk.extend_from_slice(&unit.to_le_bytes());
            }
        };
        open(&mut chunk, "Event", false);
        chunk.push(0x02);
        open(&mut chunk, "System", false);
        chunk.push(0x02);
        open(&mut chunk, "Provider", true);
        chunk.push(0x46);
        name(&mut chunk, "Name");
        text(&mut chunk, "P");
        chunk.push(0x06);
        name(&mut chunk, "Guid");
        chunk.extend_from_slice(&[0x0e, 3, 0, 0x0f]);
        chunk.push(0x03);
        open(&mut chunk, "EventID", false);
        chunk.push(0x02);
        chunk.extend_from_slice(&[0x0d, 0, 0, 0x06]);
        chunk.push(0x04);
        chunk.push(0x04); // </System>
        open(&mut chunk, "EventData", false);
        chunk.push(0x02);
        for (field, index, token) in [("Image", 1u8, 0x0d), ("CommandLine", 2, 0x0e)] {
            open(&mut chunk, "Data", true);
            chunk.push(0x06);
            name(&mut chunk, "Name");
            text(&mut chunk, field);
            chunk.push(0x02);
            chunk.extend_from_slice(&[token, index, 0, STRING_TYPE]);
            chunk.push(0x04);
        }
        chunk.push(0x04); // </EventData>
        chunk.push(0x04); // </Event>
        chunk.push(0x00);
        let size = (chunk.len() - body_start) as u32;
        let size_at = offset as usize + 20;
        chunk[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
        (chunk, offset)
    }

    /// An instance of the template at `offset` with these values.
    fn read_values(
        cache: &mut TemplateCache,
        chunk: &[u8],
        offset: u32,
        values: &[BinXmlValue<'_>],
    ) -> Option<TemplateRead> {
        // As `decode_value` gives them: arrays undecoded.
        let slots: Vec<Slot<'_>> = values
            .iter()
            .map(|value| match value {
                BinXmlValue::UInt16ArrayType(items) => Slot::Undecoded {
                    bytes: 2 * items.len(),
                    repeats: items.len(),
                },
                other => Slot::Value(other.clone()),
            })
            .collect();
        cache.read_instance(chunk, offset, &slots)
    }

    fn utf16(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn a_template_maps_its_values_to_the_fields_the_walk_reads() {
        let (chunk, offset) = chunk_with_template();
        let image = utf16("C:\\a&b.exe");
        let values = [
            BinXmlValue::UInt16Type(3),
            BinXmlValue::StringType(evtx::Utf16LeSlice::new(&image, 10)),
            BinXmlValue::NullType,
        ];
        let Some(TemplateRead::Fields(record)) =
            read_values(&mut TemplateCache::default(), &chunk, offset, &values)
        else {
            panic!("plain values, a read id: the fields");
        };
        assert_eq!(record.get(Field::EventId), Some("3"));
        assert_eq!(record.get(Field::Provider), Some("P"));
        assert_eq!(record.get(Field::Image), Some("C:\\a&b.exe"));
        // An optional null leaves `<Data Name="CommandLine"></Data>`: present, empty.
        assert!(record.has(Field::CommandLine));
        assert_eq!(record.get(Field::CommandLine), None);
    }

    #[test]
    fn values_the_renderer_expands_decline_the_record() {
        let (chunk, offset) = chunk_with_template();
        let mut cache = TemplateCache::default();
        // A fragment where a field's text should be.
        let fragment = [
            BinXmlValue::UInt16Type(3),
            BinXmlValue::BinXmlType(&[0x0f, 1, 1, 0, 0]),
            BinXmlValue::NullType,
        ];
        assert!(read_values(&mut cache, &chunk, offset, &fragment).is_none());
        // An array: the renderer repeats its element.
        let array = [
            BinXmlValue::UInt16Type(3),
            BinXmlValue::UInt16ArrayType(&[1, 2]),
            BinXmlValue::NullType,
        ];
        assert!(read_values(&mut cache, &chunk, offset, &array).is_none());
    }

    /// Same-length names patched into the template's inline names.
    fn renamed(chunk: &[u8], from: &str, to: &str) -> Vec<u8> {
        let (from, to) = (utf16(from), utf16(to));
        assert_eq!(from.len(), to.len());
        let mut out = chunk.to_vec();
        let at = out
            .windows(from.len())
            .position(|w| w == from.as_slice())
            .expect("the name is in the template");
        out[at..at + to.len()].copy_from_slice(&to);
        out
    }

    // Found by the `evtx_file` fuzz target (its rendered-path comparison).
    #[test]
    fn an_event_id_outside_system_is_still_the_shortcut_id() {
        // The rendered path finds `<EventID>` by its bytes wherever it is;
        // the walk reads it only inside `System`.
        let (chunk, offset) = chunk_with_template();
        let chunk = renamed(&chunk, "System", "Sys\u{2173}em");
        let mut cache = TemplateCache::default();
        let values = |id| {
            [
                BinXmlValue::UInt16Type(id),
                BinXmlValue::NullType,
                BinXmlValue::NullType,
            ]
        };
        assert!(matches!(
            read_values(&mut cache, &chunk, offset, &values(4624)),
            Some(TemplateRead::UnreadId)
        ));
        let Some(TemplateRead::Fields(record)) =
            read_values(&mut cache, &chunk, offset, &values(3))
        else {
            panic!("a read id: the walk's fields");
        };
        assert!(!record.has(Field::EventId), "no System, no EventID field");
    }

    // Found by the `evtx_file` fuzz target.
    #[test]
    fn a_fragment_in_an_attribute_is_left_to_the_renderer() {
        // The renderer fails on an element inside an attribute value.
        let (chunk, offset) = chunk_with_template();
        let mut cache = TemplateCache::default();
        let mut values = vec![
            BinXmlValue::UInt16Type(3),
            BinXmlValue::NullType,
            BinXmlValue::NullType,
            BinXmlValue::GuidType([7; 16]),
        ];
        assert!(read_values(&mut cache, &chunk, offset, &values).is_some());
        values[3] = BinXmlValue::BinXmlType(&[0x0f, 1, 1, 0, 0]);
        assert!(read_values(&mut cache, &chunk, offset, &values).is_none());
    }

    // Found by the `evtx_file` fuzz target: an empty element name renders
    // as `</>`, which the walk rejects.
    #[test]
    fn names_the_walk_would_misread_decline_the_template() {
        let (chunk, offset) = chunk_with_template();
        let chunk = renamed(&chunk, "EventData", "Event Dat");
        assert!(TemplateMap::read(&chunk, offset).is_none());
    }

    #[test]
    fn an_id_no_source_reads_ends_the_record_early() {
        let (chunk, offset) = chunk_with_template();
        // The Image value would decline the record, were it read.
        let values = [
            BinXmlValue::UInt16Type(4624),
            BinXmlValue::UInt16ArrayType(&[1, 2]),
            BinXmlValue::NullType,
        ];
        assert!(matches!(
            read_values(&mut TemplateCache::default(), &chunk, offset, &values),
            Some(TemplateRead::UnreadId)
        ));
    }

    #[test]
    fn nested_values_decode_as_the_crate_reads_them() {
        let string = utf16("ab\0junk");
        assert!(matches!(
            decode_value(0x01, &string),
            Some(Slot::Value(BinXmlValue::StringType(s))) if s.as_bytes() == utf16("ab")
        ));
        assert!(decode_value(0x01, &[0x61]).is_none(), "odd UTF-16");
        assert!(
            decode_value(0x06, &[1, 0, 0]).is_none(),
            "a u16 of three bytes"
        );
        assert!(matches!(
            decode_value(0x0d, &[2, 0, 0, 0]),
            Some(Slot::Value(BinXmlValue::Int32Type(2)))
        ));
        assert!(matches!(
            decode_value(0x13, &[1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]),
            Some(Slot::Undecoded { .. })
        ));
        assert!(
            decode_value(0x13, &[1, 2, 0, 0, 0, 0, 0, 5]).is_none(),
            "a SID of the wrong length"
        );
        assert!(
            decode_value(0x23, &[]).is_none(),
            "EvtXml: left to the renderer"
        );
        // Found by the `evtx_file` fuzz target: an unterminated string
        // array, which the crate reads past its size.
        assert!(decode_value(0x81, &utf16("a\0b")).is_none());
        assert!(matches!(
            decode_value(0x81, &utf16("a\0b\0")),
            Some(Slot::Undecoded { .. })
        ));
    }

    #[test]
    fn a_cut_or_strange_template_declines_instead_of_failing() {
        let (chunk, offset) = chunk_with_template();
        for cut in (0x200..chunk.len()).step_by(7) {
            let mut short = chunk[..cut].to_vec();
            short.resize(chunk.len(), 0);
            let _ = TemplateMap::read(&short, offset);
        }
        // The first token after the fragment header made a CDATA section.
        let mut cdata = chunk.clone();
        cdata[offset as usize + TEMPLATE_HEADER_BYTES + 4] = 0x07;
        assert!(TemplateMap::read(&cdata, offset).is_none());
        assert!(TemplateMap::read(&chunk, u32::MAX).is_none());
        assert!(!is_plain_name(""));
        assert!(!is_plain_name("a b"));
        assert!(!is_plain_name("?x"));
        assert!(is_plain_name("Syⅳtem"));
        // A fragment that is not a slice of the chunk is not read.
        let elsewhere = [0x0f, 1, 1, 0, 0x0c, 0, 0, 0, 0, 0];
        assert!(instance(&chunk, &elsewhere).is_none());
    }

    #[test]
    fn a_template_is_known_again_wherever_its_names_sit() {
        let (first, first_offset) = chunk_with_template_at(0x200, true);
        let (second, second_offset) = chunk_with_template_at(0x300, false);
        assert_ne!(
            first[0x200..],
            second[0x300..],
            "the bodies differ in bytes"
        );
        let key = |chunk: &[u8], offset| {
            crate::template_store::template_key(Tokens::of_template(chunk, offset).unwrap())
        };
        assert_eq!(key(&first, first_offset), key(&second, second_offset));
        let read = TemplateMap::read(&second, second_offset).unwrap();
        assert_eq!(TemplateMap::read(&first, first_offset).unwrap(), read);
        // The second chunk is answered from what the first left in the store.
        let kept = crate::template_store::map_of(&first, first_offset).unwrap();
        let again = crate::template_store::map_of(&second, second_offset).unwrap();
        assert!(Arc::ptr_eq(&kept, &again));
        // One letter of a name in the string table, or of a text, or one
        // substitution's index: another template.
        for (from, to) in [("Provider", "Providex"), ("Image", "Imagf")] {
            let changed = renamed(&second, from, to);
            assert_ne!(key(&changed, second_offset), key(&second, second_offset));
        }
        let mut reindexed = second.clone();
        // `%2?` of the last `<Data>`, before three end tags and the end.
        let at = reindexed.len() - 8;
        assert_eq!(reindexed[at..at + 2], [0x0e, 2]);
        reindexed[at + 1] = 3;
        assert_ne!(key(&reindexed, second_offset), key(&second, second_offset));
        let other = crate::template_store::map_of(&reindexed, second_offset).unwrap();
        assert!(!Arc::ptr_eq(&kept, &other));
        assert_ne!(*other, *kept);
    }

    #[test]
    fn a_template_whose_names_would_copy_too_much_declines() {
        // A body that references one long name again and again: small in
        // the chunk, huge once its names are copied out.
        let mut chunk = vec![0u8; 0x10];
        let long = "N".repeat(30_000);
        chunk.extend_from_slice(&[0; 6]);
        chunk.extend_from_slice(&30_000u16.to_le_bytes());
        chunk.extend(utf16(&long));
        chunk.extend_from_slice(&[0, 0]);
        let offset = chunk.len() as u32;
        chunk.extend_from_slice(&[0; TEMPLATE_HEADER_BYTES]);
        let body_start = chunk.len();
        chunk.extend_from_slice(&[0x0f, 1, 1, 0]);
        chunk.push(0x41);
        chunk.extend_from_slice(&NO_DEPENDENCY.to_le_bytes());
        chunk.extend_from_slice(&[0; 4]);
        chunk.extend_from_slice(&0x10u32.to_le_bytes());
        chunk.extend_from_slice(&[0; 4]);
        for _ in 0..10 {
            chunk.push(0x46);
            chunk.extend_from_slice(&0x10u32.to_le_bytes());
            chunk.extend_from_slice(&[0x05, STRING_TYPE, 1, 0, 0x41, 0]);
        }
        chunk.extend_from_slice(&[0x03, 0x00]);
        let size = (chunk.len() - body_start) as u32;
        let size_at = offset as usize + 20;
        chunk[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
        let key = |chunk: &[u8]| {
            crate::template_store::template_key(Tokens::of_template(chunk, offset).unwrap())
        };
        assert!(key(&chunk).is_none());
        assert!(crate::template_store::map_of(&chunk, offset).is_none());
        // Cut to three of its ten attributes, under the bound, its key is read.
        chunk[size_at..size_at + 4].copy_from_slice(&(size - 2 - 7 * 11).to_le_bytes());
        assert!(key(&chunk).is_some());
    }

    #[test]
    fn a_cache_answers_for_one_chunk_only() {
        let (chunk, offset) = chunk_with_template();
        let mut cache = TemplateCache::default();
        cache.for_chunk(&chunk);
        assert!(cache.get(&chunk, offset).is_some());
        // Another chunk, its template at the same offset unreadable (no
        // fragment header): the cache must not answer for it.
        let mut other = chunk.clone();
        other[offset as usize + TEMPLATE_HEADER_BYTES] = 0x00;
        cache.for_chunk(&other);
        assert!(cache.get(&other, offset).is_none());
    }

    #[test]
    fn records_past_the_renderers_output_bounds_decline() {
        let (chunk, offset) = chunk_with_template();
        let mut cache = TemplateCache::default();
        cache.for_chunk(&chunk);
        let image = utf16(&"x".repeat(20_000));
        let values = [
            BinXmlValue::UInt16Type(3),
            BinXmlValue::StringType(evtx::Utf16LeSlice::new(&image, 20_000)),
            BinXmlValue::NullType,
        ];
        // 40 KB of text escapes to 240 KB at most: read, and counted.
        assert!(read_values(&mut cache, &chunk, offset, &values).is_some());
        assert!(cache.chunk_bytes > 200_000);
        // Until the chunk's bound: then every record of it is rendered.
        let mut read = 0;
        while read_values(&mut cache, &chunk, offset, &values).is_some() {
            read += 1;
            assert!(read < 1_000, "the chunk's bound never stopped it");
        }
        assert!(cache.chunk_bytes <= MAX_CHUNK_BYTES);
    }
}
