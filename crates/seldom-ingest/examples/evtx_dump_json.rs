//! The EVTX ceiling: render every record of every `.evtx` file under the given
//! folders to JSON with the `evtx` crate, as its own `evtx_dump` does, and
//! discard it. `seldom scan` over the same files is measured against this.

use evtx::{EvtxParser, ParserSettings};

/// The allocator `examples/decode_count` and the `seldom` binary use, so the
/// two sides of the comparison allocate alike (the crate's own `evtx_dump`
/// runs on jemalloc under its `fast-alloc` feature).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut records = 0u64;
    let mut errors = 0u64;
    for root in std::env::args().skip(1) {
        for entry in walkdir::WalkDir::new(root)
            .sort_by_file_name()
            .into_iter()
            .flatten()
        {
            if !entry.file_type().is_file() || entry.path().extension().is_none_or(|e| e != "evtx")
            {
                continue;
            }
            let Ok(parser) = EvtxParser::from_path(entry.path()) else {
                errors += 1;
                continue;
            };
            let mut parser = parser.with_configuration(ParserSettings::new().indent(false));
            for record in parser.records_json() {
                match record {
                    Ok(r) => records += u64::from(std::hint::black_box(!r.data.is_empty())),
                    Err(_) => errors += 1,
                }
            }
        }
    }
    eprintln!("evtx_dump_json: {records} records, {errors} errors");
}
