//! Where results go: standard output or a file, buffered, with a closed pipe
//! (`seldom scan ... | head`) treated as the reader having had enough.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};

pub struct Output {
    writer: BufWriter<Box<dyn Write>>,
    closed: bool,
}

impl Output {
    pub fn open(path: Option<&Path>) -> Result<Output> {
        let inner: Box<dyn Write> = match path {
            Some(path) => Box::new(
                File::create(path).with_context(|| format!("creating {}", path.display()))?,
            ),
            None => Box::new(io::stdout().lock()),
        };
        Ok(Output {
            writer: BufWriter::with_capacity(256 << 10, inner),
            closed: false,
        })
    }

    /// Writes one value as a JSON line. A closed pipe ends output silently.
    pub fn json_line<T: serde::Serialize>(&mut self, value: &T) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        let written = serde_json::to_writer(&mut self.writer, value)
            .map_err(io::Error::from)
            .and_then(|()| self.writer.write_all(b"\n"));
        self.check(written)
    }

    /// Writes text as it is (already made printable by the caller).
    pub fn text(&mut self, text: &str) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        let written = self
            .writer
            .write_all(text.as_bytes())
            .and_then(|()| self.writer.write_all(b"\n"));
        self.check(written)
    }

    pub fn finish(&mut self) -> Result<()> {
        let flushed = self.writer.flush();
        self.check(flushed)
    }

    fn check(&mut self, result: io::Result<()>) -> Result<()> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other.context("writing output"),
        }
    }
}
