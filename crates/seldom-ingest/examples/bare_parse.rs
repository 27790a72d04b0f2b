//! The parse ceiling: read every line of every file under the given folders and
//! parse it with `serde_json` into `IgnoredAny`, doing nothing else. `seldom
//! scan` over the same bytes is measured against this in `bench/ingest`.

use std::io::{BufRead, BufReader};

use serde::de::IgnoredAny;

/// The allocator of `examples/decode_count` and the `seldom` binary, so that
/// the ceiling and what is measured against it allocate alike.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::io::Result<()> {
    let mut lines = 0u64;
    let mut parsed = 0u64;
    for root in std::env::args().skip(1) {
        for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
            let entry = entry?;
            if !entry.file_type().is_file() {
                continue;
            }
            let mut reader =
                BufReader::with_capacity(256 << 10, std::fs::File::open(entry.path())?);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                lines += 1;
                // from_slice checks UTF-8 inside strings, as seldom does per line.
                if serde_json::from_slice::<IgnoredAny>(line.trim_ascii_end()).is_ok() {
                    parsed += 1;
                }
            }
        }
    }
    eprintln!("bare_parse: {lines} lines, {parsed} JSON documents");
    Ok(())
}
