//! Template maps kept across chunks and files, by what they were read from.
//!
//! Windows writes the same few hundred templates into every chunk of every
//! log: a chunk holds its own copy of each template it uses, so reading a
//! folder of EVTX files reads the same templates again and again. Building a
//! [`TemplateMap`] (the element tree, the walk's steps, the output bounds)
//! costs far more than reading its tokens, so a map is kept here under a key
//! written from the template's tokens ([`crate::binxml_tokens`]): the same
//! tokens the tree reader builds the map from, names resolved to their text.
//! Equal keys are equal token sequences, which give equal maps; a template
//! is never taken for another one that only hashes alike, since the map
//! compares whole keys.
//!
//! Each decoding thread keeps its own store (no lock on the record path),
//! bounded in entries and key bytes: a full store is emptied and fills
//! again. A template whose key would pass [`MAX_KEY_BYTES`] is not read from
//! its template at all: no Windows template comes near it, and its names,
//! referenced again and again from a crafted body, would otherwise make
//! the tree reader copy a 64 KB chunk's names thousands of times.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use crate::binxml_tokens::{Token, Tokens};
use crate::evtx_template::TemplateMap;

/// A key past this declines its template (its records are rendered).
const MAX_KEY_BYTES: usize = 256 << 10;
/// The store is emptied when it holds more maps than this...
const MAX_ENTRIES: usize = 4_096;
/// ... or keys of more bytes than this.
const MAX_STORED_KEY_BYTES: usize = 8 << 20;

/// The maps one thread has read, by their templates' keys. `None`: a
/// template the reader declines, kept too so it is not read again. Keys
/// are hashed by foldhash, seeded per process: SipHash cost more than
/// reading the key's tokens (3.8 M instructions on evtx-attack-samples).
#[derive(Default)]
struct TemplateStore {
    maps: HashMap<Box<[u8]>, Option<Arc<TemplateMap>>, foldhash::fast::RandomState>,
    key_bytes: usize,
}

thread_local! {
    static STORE: RefCell<TemplateStore> = RefCell::default();
}

/// The map of the template at `offset` of `chunk`: from this thread's store
/// when a template with the same tokens was read before, else read and kept.
/// `None` when the template cannot be read or is one the reader declines.
pub(crate) fn map_of(chunk: &[u8], offset: u32) -> Option<Arc<TemplateMap>> {
    let key = template_key(Tokens::of_template(chunk, offset)?)?;
    STORE.with_borrow_mut(|store| store.get_or_read(key, || TemplateMap::read(chunk, offset)))
}

/// The key of a template: its tokens, each written out, up to and including
/// the end. `None` for a template the tokenizer cannot read (the tree reader
/// could not either) or whose key passes [`MAX_KEY_BYTES`].
pub(crate) fn template_key(mut tokens: Tokens<'_>) -> Option<Vec<u8>> {
    let mut key = Vec::with_capacity(1024);
    loop {
        let token = tokens.next_token()?;
        token.write_key(&mut key);
        if key.len() > MAX_KEY_BYTES {
            return None;
        }
        if token == Token::End {
            return Some(key);
        }
    }
}

impl TemplateStore {
    fn get_or_read(
        &mut self,
        key: Vec<u8>,
        read: impl FnOnce() -> Option<TemplateMap>,
    ) -> Option<Arc<TemplateMap>> {
        if let Some(map) = self.maps.get(key.as_slice()) {
            return map.clone();
        }
        let map = read().map(Arc::new);
        if self.maps.len() >= MAX_ENTRIES || self.key_bytes + key.len() > MAX_STORED_KEY_BYTES {
            self.maps.clear();
            self.key_bytes = 0;
        }
        self.key_bytes += key.len();
        self.maps.insert(key.into_boxed_slice(), map.clone());
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_store_empties_itself_and_keeps_the_newest() {
        let mut store = TemplateStore::default();
        let mut reads = 0;
        for n in 0..MAX_ENTRIES + 10 {
            let key = (n as u32).to_le_bytes().to_vec();
            store.get_or_read(key, || {
                reads += 1;
                None
            });
            assert!(store.maps.len() <= MAX_ENTRIES);
        }
        assert_eq!(reads, MAX_ENTRIES + 10);
        assert_eq!(store.maps.len(), 10);
        assert_eq!(store.key_bytes, 40);
        // A kept key is answered without reading.
        let kept = ((MAX_ENTRIES + 9) as u32).to_le_bytes().to_vec();
        store.get_or_read(kept, || panic!("read again"));
        // Keys' bytes bound it too.
        let big = vec![7u8; MAX_STORED_KEY_BYTES / 2 + 1];
        store.get_or_read(big.clone(), || None);
        let mut other = big;
        other[0] = 8;
        store.get_or_read(other, || None);
        assert_eq!(store.maps.len(), 1);
        assert!(store.key_bytes <= MAX_STORED_KEY_BYTES);
    }
}
