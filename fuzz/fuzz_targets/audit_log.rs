//! Fuzzes the Linux audit reader (`audit.log` and auoms records): records are
//! reassembled by their serial across lines, then turned into process starts
//! and connections (`SYSCALL` with `EXECVE`, `SOCKADDR`, `PROCTITLE`).
//!
//! The input is read as an audit log: a line that does not start like an
//! audit record gets one prepended, so that the fuzzer spends its time inside
//! the reader rather than in format sniffing. Property: does not panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use seldom_ingest::{IngestOptions, Ingestor};

const HEAD: &[u8] = b"type=SYSCALL msg=audit(1652292620.465:245754): ";

fuzz_target!(|data: &[u8]| {
    let mut input = Vec::with_capacity(data.len() + HEAD.len());
    if !(data.starts_with(b"type=") || data.starts_with(b"node=")) {
        input.extend_from_slice(HEAD);
    }
    input.extend_from_slice(data);
    let options = IngestOptions {
        max_line_bytes: 64 << 10,
        decode_threads: 1,
        ..Default::default()
    };
    let mut ingestor = Ingestor::new(options);
    ingestor.read_reader(input.as_slice(), "audit.log", &mut |_event| {});
});
