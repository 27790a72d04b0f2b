//! A template's BinXML (MS-EVEN6 2.2.12) as a sequence of tokens.
//!
//! The template reader builds its element tree from these tokens, and the
//! template store files a finished map under a key written from the same
//! tokens. One tokenizer serves both, so the key cannot describe a template
//! differently from how the tree reader reads it: two templates with equal
//! token sequences give equal maps.
//!
//! A token holds what the tree reader reads and nothing of where it sat:
//! a name is its UTF-16 text, whether it was written inline or referenced
//! from the chunk's string table. That is what lets a template be recognized
//! in another chunk, or another file, where its names sit elsewhere.

/// A template's bytes in a chunk: a 24-byte header (next offset, GUID, data
/// size), then its BinXML.
pub(crate) const TEMPLATE_HEADER_BYTES: usize = 24;
/// BinXML value type of a UTF-16 string.
pub(crate) const STRING_TYPE: u8 = 0x01;

/// One token of a template body, as the tree reader reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Token<'c> {
    /// The body's end-of-stream token, or the end of its bytes.
    End,
    /// An element's start (0x01, 0x41): the value it depends on (0xffff:
    /// none) and its name's UTF-16 text.
    OpenStart { dependency: u16, name: &'c [u8] },
    /// An attribute (0x06, 0x46) and its name's UTF-16 text.
    Attribute { name: &'c [u8] },
    /// The end of a start tag whose element has content (0x02).
    CloseStart,
    /// The end of an empty element's tag (0x03).
    CloseEmpty,
    /// An end tag (0x04).
    EndElement,
    /// Static text (0x05, 0x45): its UTF-16 text as stored, NULs and all.
    Text(&'c [u8]),
    /// A substitution (0x0d, or 0x0e when optional) of value `index`.
    Substitution { index: u16, optional: bool },
}

impl Token<'_> {
    /// Appends this token to a key, unambiguously: a tag byte, then each
    /// field, variable-length ones after their length.
    pub(crate) fn write_key(&self, key: &mut Vec<u8>) {
        fn counted(key: &mut Vec<u8>, bytes: &[u8]) {
            // A name or a text is at most 2 * 65,535 bytes (a u16 length).
            key.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            key.extend_from_slice(bytes);
        }
        match *self {
            Token::End => key.push(0),
            Token::OpenStart { dependency, name } => {
                key.push(1);
                key.extend_from_slice(&dependency.to_le_bytes());
                counted(key, name);
            }
            Token::Attribute { name } => {
                key.push(2);
                counted(key, name);
            }
            Token::CloseStart => key.push(3),
            Token::CloseEmpty => key.push(4),
            Token::EndElement => key.push(5),
            Token::Text(text) => {
                key.push(6);
                counted(key, text);
            }
            Token::Substitution { index, optional } => {
                key.push(if optional { 8 } else { 7 });
                key.extend_from_slice(&index.to_le_bytes());
            }
        }
    }
}

/// The tokens of one template body, read from its chunk.
pub(crate) struct Tokens<'c> {
    at: Cursor<'c>,
    end: usize,
}

impl<'c> Tokens<'c> {
    /// The tokens of the template at `offset` of `chunk`, after the body's
    /// fragment header; `None` when the template's bytes do not fit the chunk
    /// or its body does not start with a fragment header.
    pub(crate) fn of_template(chunk: &'c [u8], offset: u32) -> Option<Tokens<'c>> {
        let bytes = template_bytes(chunk, offset)?;
        let body_start = offset as usize + TEMPLATE_HEADER_BYTES;
        let mut at = Cursor {
            chunk,
            pos: body_start,
        };
        if at.byte()? != 0x0f {
            return None;
        }
        at.pos += 3; // major and minor version, flags
        Some(Tokens {
            at,
            end: body_start + bytes.len() - TEMPLATE_HEADER_BYTES,
        })
    }

    /// The next token; `None` for bytes that end inside a token and for the
    /// tokens the reader does not model: CDATA, character and entity
    /// references, processing instructions, nested template instances, text
    /// of another type than a UTF-16 string.
    pub(crate) fn next_token(&mut self) -> Option<Token<'c>> {
        let at = &mut self.at;
        if at.pos >= self.end {
            return Some(Token::End);
        }
        let token = at.byte()?;
        Some(match token {
            0x00 => Token::End,
            0x01 | 0x41 => {
                let dependency = at.u16()?;
                at.u32()?; // data size
                let name = at.name()?;
                if token == 0x41 {
                    at.u32()?; // attribute list size
                }
                Token::OpenStart { dependency, name }
            }
            0x06 | 0x46 => Token::Attribute { name: at.name()? },
            0x02 => Token::CloseStart,
            0x03 => Token::CloseEmpty,
            0x04 => Token::EndElement,
            0x05 | 0x45 => {
                if at.byte()? != STRING_TYPE {
                    return None;
                }
                let units = usize::from(at.u16()?);
                let text = at.chunk.get(at.pos..at.pos + 2 * units)?;
                at.pos += 2 * units;
                Token::Text(text)
            }
            0x0d | 0x0e => {
                let index = at.u16()?;
                at.byte()?; // the value type: the record's value says it again
                Token::Substitution {
                    index,
                    optional: token == 0x0e,
                }
            }
            _ => return None,
        })
    }
}

/// A read position in a chunk: the little-endian reads BinXML is made of.
pub(crate) struct Cursor<'c> {
    pub(crate) chunk: &'c [u8],
    pub(crate) pos: usize,
}

impl<'c> Cursor<'c> {
    pub(crate) fn byte(&mut self) -> Option<u8> {
        let value = *self.chunk.get(self.pos)?;
        self.pos += 1;
        Some(value)
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        let value = u16::from_le_bytes(self.chunk.get(self.pos..self.pos + 2)?.try_into().ok()?);
        self.pos += 2;
        Some(value)
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        let value = u32::from_le_bytes(self.chunk.get(self.pos..self.pos + 4)?.try_into().ok()?);
        self.pos += 4;
        Some(value)
    }

    /// A name reference: an offset into the chunk's string table, where the
    /// name may sit right here (then it is skipped).
    fn name(&mut self) -> Option<&'c [u8]> {
        let offset = self.u32()? as usize;
        let name = name_units(self.chunk, offset)?;
        if offset == self.pos {
            // next-string link (4), hash (2), length (2), characters, NUL (2)
            self.pos += 10 + name.len();
        }
        Some(name)
    }
}

/// The UTF-16 text of the name at `offset` of the chunk's string table:
/// link (4), hash (2), length in units (2), the units.
fn name_units(chunk: &[u8], offset: usize) -> Option<&[u8]> {
    let len_at = offset.checked_add(6)?;
    let units = usize::from(u16::from_le_bytes(
        chunk.get(len_at..len_at.checked_add(2)?)?.try_into().ok()?,
    ));
    let start = len_at + 2;
    chunk.get(start..start.checked_add(2 * units)?)
}

/// The header and BinXML of the template at `offset`, bounds-checked.
pub(crate) fn template_bytes(chunk: &[u8], offset: u32) -> Option<&[u8]> {
    let start = offset as usize;
    let size_at = start.checked_add(20)?;
    let size = u32::from_le_bytes(
        chunk
            .get(size_at..size_at.checked_add(4)?)?
            .try_into()
            .ok()?,
    ) as usize;
    chunk.get(
        start
            ..start
                .checked_add(TEMPLATE_HEADER_BYTES)?
                .checked_add(size)?,
    )
}
