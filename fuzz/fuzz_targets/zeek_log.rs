//! Fuzzes the Zeek TSV reader (`conn.log`, `dns.log`): the `#fields` header
//! names the columns of every later line, `#separator` and `#set_separator`
//! change how they split, and `-` / `(empty)` stand for absent values.
//!
//! An input that does not start with a header line gets a `conn.log` header,
//! so that most runs exercise the rows. Property: does not panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use seldom_ingest::{IngestOptions, Ingestor};

const CONN_HEAD: &[u8] = b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\n";

fuzz_target!(|data: &[u8]| {
    let mut input = Vec::with_capacity(data.len() + CONN_HEAD.len());
    if !data.starts_with(b"#") {
        input.extend_from_slice(CONN_HEAD);
    }
    input.extend_from_slice(data);
    let options = IngestOptions {
        max_line_bytes: 64 << 10,
        decode_threads: 1,
        ..Default::default()
    };
    let mut ingestor = Ingestor::new(options);
    ingestor.read_reader(input.as_slice(), "conn.log", &mut |_event| {});
});
