//! Opening a state folder: creating it, refusing what is not a store of this
//! format and configuration, and reopening after a write error.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{RwLock, RwLockReadGuard};

use anyhow::{Context, Result, bail};
use redb::{Database, ReadableTable};
use seldom_detect::DetectConfig;

use crate::restored::Restored;
use crate::tables::{
    ALERTS, ALLOWLIST, BATCH_DIGESTS, BATCH_IDS, FORMAT, INBOX, META, REORDER, STATE, STORE_FILE,
};

/// An open store. Shared by the threads of a service: redb serializes its
/// write transactions.
pub struct Store {
    path: PathBuf,
    /// `None` between a failed reopen and the next attempt. After a failed
    /// write (a full disk), redb refuses every later one until the database
    /// is closed and opened again: [`Store::reopen`].
    db: RwLock<Option<Database>>,
}

/// The open database, borrowed for one operation.
pub(crate) struct DbGuard<'a>(RwLockReadGuard<'a, Option<Database>>);

impl Deref for DbGuard<'_> {
    type Target = Database;
    fn deref(&self) -> &Database {
        match &*self.0 {
            Some(db) => db,
            None => unreachable!("a guard is only made over an open database"),
        }
    }
}

fn open_database(path: &Path) -> Result<Database> {
    // redb caches up to 1 GiB of pages by default; the store is read only at
    // start, so a small cache keeps the memory for detection.
    Database::builder()
        .set_cache_size(32 << 20)
        .create(path)
        .with_context(|| {
            format!(
                "opening the store {} (is it a seldom store?)",
                path.display()
            )
        })
}

impl Store {
    /// Opens (or creates) `folder/seldom.redb` and reads what it holds.
    ///
    /// Refused: a `folder` that is a file (a state file of an older seldom,
    /// or a typo), an existing empty store file (what a truncation, a full
    /// disk or a script's `> file` leaves: starting afresh would forget the
    /// baseline and raise every alert again), a store of another format, and
    /// one written with another detection configuration.
    pub fn open(folder: &Path, config: &DetectConfig) -> Result<(Store, Restored)> {
        if folder.is_file() {
            bail!(
                "--state {} is a file; it names a folder (the store is FOLDER/{STORE_FILE}, shared by scan and serve)",
                folder.display()
            );
        }
        std::fs::create_dir_all(folder)
            .with_context(|| format!("creating the state folder {}", folder.display()))?;
        let path = folder.join(STORE_FILE);
        if std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() == 0) {
            bail!(
                "store {} is empty (0 bytes): it is not a saved state, and starting afresh would forget the baseline; remove it to start a new state",
                path.display()
            );
        }
        let store = Store {
            db: RwLock::new(Some(open_database(&path)?)),
            path,
        };
        store.check_format(config)?;
        let restored = store.restore()?;
        Ok((store, restored))
    }

    /// Stamps a new store with the format and fingerprint; checks an
    /// existing one's, and creates every table so readers need not.
    fn check_format(&self, config: &DetectConfig) -> Result<()> {
        let expected = config.state_fingerprint();
        let path = self.path.display();
        let db = self.db()?;
        let write = db.begin_write()?;
        {
            let mut meta = write.open_table(META)?;
            let format = meta.get("format")?.map(|v| v.value().to_owned());
            let fingerprint = meta.get("fingerprint")?.map(|v| v.value().to_owned());
            match (format, fingerprint) {
                (None, _) => {
                    meta.insert("format", FORMAT)?;
                    meta.insert("fingerprint", expected.as_str())?;
                }
                (Some(f), _) if f != FORMAT => {
                    bail!("store {path} has format {f:?}; this seldom reads {FORMAT:?}")
                }
                (Some(_), Some(saved)) if saved != expected => bail!(
                    "store {path} was written with another configuration of the detection:\n  saved:   {saved}\n  current: {expected}\nuse a new state folder, or the configuration it was written with"
                ),
                _ => {}
            }
            write.open_table(STATE)?;
            write.open_table(INBOX)?;
            write.open_table(ALERTS)?;
            write.open_table(ALLOWLIST)?;
            write.open_table(BATCH_IDS)?;
            write.open_table(REORDER)?;
            write.open_table(BATCH_DIGESTS)?;
        }
        write.commit()?;
        Ok(())
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn db(&self) -> Result<DbGuard<'_>> {
        let guard = self
            .db
            .read()
            .map_err(|_| anyhow::anyhow!("the store's lock is poisoned"))?;
        if guard.is_none() {
            bail!(
                "the store {} is closed after a write error",
                self.path.display()
            );
        }
        Ok(DbGuard(guard))
    }

    /// Closes the database and opens it again (redb repairs it on open):
    /// after a write error, the only way it takes writes again.
    pub fn reopen(&self) -> Result<()> {
        let mut slot = self
            .db
            .write()
            .map_err(|_| anyhow::anyhow!("the store's lock is poisoned"))?;
        *slot = None; // closed first: redb holds a lock on the file
        *slot = Some(open_database(&self.path)?);
        Ok(())
    }
}
