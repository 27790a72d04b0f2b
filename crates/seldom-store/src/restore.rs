//! Reading what a store holds, at open.

use anyhow::{Context, Result, bail};
use redb::{ReadableDatabase, ReadableTable};
use seldom_model::Event;

use crate::codec::{Encoded, decode, reorder_key, state_digest};
use crate::open::Store;
use crate::restored::Restored;
use crate::tables::{ALERTS, ALLOWLIST, INBOX, META, REORDER, STATE};

impl Store {
    pub(crate) fn restore(&self) -> Result<Restored> {
        let db = self.db()?;
        let read = db.begin_read()?;
        let state_table = read.open_table(STATE)?;
        let meta = read.open_table(META)?;
        let mut restored = Restored::default();
        if let Some(bytes) = state_table.get("detector")? {
            let saved_digest = meta.get("checksum")?.map(|v| v.value().to_owned());
            if saved_digest.is_some_and(|saved| saved != state_digest(bytes.value())) {
                bail!(
                    "store {} is corrupt: its state does not match the checksum saved with it (a changed or damaged byte); use a new state folder, or a backup",
                    self.path().display()
                );
            }
            restored.state = Some(
                ciborium::from_reader(bytes.value())
                    .with_context(|| format!("store {} is corrupt", self.path().display()))?,
            );
        }
        if let Some(bytes) = state_table.get("offsets")? {
            restored.offsets = Some(Encoded(bytes.value().to_vec()));
        }
        if let Some(bytes) = state_table.get("inbox_done")? {
            restored.inbox_done = decode(bytes.value(), "inbox position")?;
        }
        for row in read.open_table(INBOX)?.range((restored.inbox_done + 1)..)? {
            let (seq, body) = row?;
            restored.inbox.push((seq.value(), body.value().to_vec()));
        }
        for row in read.open_table(ALERTS)?.iter()? {
            restored.alerts.push(Encoded(row?.1.value().to_vec()));
        }
        for row in read.open_table(ALLOWLIST)?.iter()? {
            restored.allowlist.push(Encoded(row?.1.value().to_vec()));
        }
        for row in read.open_table(REORDER)?.iter()? {
            let (key, bytes) = row?;
            let event: Event = decode(bytes.value(), "reorder buffer")?;
            restored.reorder.push((reorder_key(key.value()), event));
        }
        Ok(restored)
    }
}
