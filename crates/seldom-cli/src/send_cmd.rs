//! `seldom send PATH... --url URL`: files to a running `seldom serve`, in
//! batches under its body limit (a plain `curl` of a day's file gets a 413).
//!
//! Each file's records ([`seldom_ingest::file_records`]) are cut into
//! batches of at most `--batch-bytes` without breaking what belongs
//! together: every batch of a Zeek TSV log starts with the log's header
//! lines, and a Linux audit event's lines stay in one batch; an EVTX file's
//! records go as JSON lines. A batch is gzip-compressed and named by a hash
//! of its bytes (`X-Seldom-Batch-Id`), so sending a file again, or a batch
//! again after a lost answer, is acknowledged without being detected twice.
//! The service's pushback is obeyed: 429 and 503 are retried after their
//! `Retry-After`, a connection refused (a restart) after a pause, and a 413
//! splits the batch in two.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use seldom_ingest::file_records::{EvtxAs, Framing, audit_event_id, collect_files, each_record};
use serde_json::Value;

use crate::cli::SendArgs;

/// One body to post: whole records, with what they need to stand alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub body: Vec<u8>,
    /// Records in it (header lines not counted).
    pub records: u64,
    pub framing: Framing,
}

/// Cuts one file's records into batches of at most `limit` bytes (a single
/// record larger than that is a batch of its own).
pub struct Batcher {
    limit: usize,
    framing: Framing,
    /// A Zeek log's header lines, repeated at the start of every batch.
    header: Vec<u8>,
    body: Vec<u8>,
    records: u64,
    /// The audit event id of the last line: a cut falls only between events.
    last_event: Option<Vec<u8>>,
}

impl Batcher {
    pub fn new(limit: usize) -> Batcher {
        Batcher {
            limit: limit.max(1),
            framing: Framing::Lines,
            header: Vec::new(),
            body: Vec::new(),
            records: 0,
            last_event: None,
        }
    }

    /// Adds a record; a batch that is full goes to `out` first.
    pub fn push(&mut self, framing: Framing, record: &[u8], out: &mut dyn FnMut(Batch)) {
        self.framing = framing;
        if framing == Framing::ZeekTsv && record.starts_with(b"#") {
            if self.records == 0 {
                self.header.extend_from_slice(record);
                self.header.push(b'\n');
                return;
            }
            if record.starts_with(b"#separator") {
                // Another log's header: what follows needs it, not the old one.
                self.flush(out);
                self.header.clear();
                self.header.extend_from_slice(record);
                self.header.push(b'\n');
                return;
            }
        }
        let event = match framing {
            Framing::Audit => audit_event_id(record).map(<[u8]>::to_vec),
            _ => None,
        };
        let same_event = event.is_some() && event == self.last_event;
        let full = self.body.len() + record.len() + 1 > self.limit;
        if self.records > 0 && full && !same_event {
            self.flush(out);
        }
        if self.body.is_empty() {
            self.body.extend_from_slice(&self.header);
        }
        self.body.extend_from_slice(record);
        self.body.push(b'\n');
        self.records += 1;
        self.last_event = event;
    }

    /// The last batch, if anything is left.
    pub fn flush(&mut self, out: &mut dyn FnMut(Batch)) {
        if self.records > 0 {
            out(Batch {
                body: std::mem::take(&mut self.body),
                records: self.records,
                framing: self.framing,
            });
        }
        self.body.clear();
        self.records = 0;
        self.last_event = None;
    }
}

/// What was sent, summed over the answers.
#[derive(Debug, Default)]
struct Totals {
    files: u64,
    batches: u64,
    duplicates: u64,
    records: u64,
    accepted: u64,
    skipped: u64,
    ignored: u64,
    /// Records the service would not take (a record over its body limit).
    refused: u64,
    unreadable: u64,
}

/// How one post ended.
enum Posted {
    Taken(Value),
    /// Over the service's body limit.
    TooLarge,
}

struct Shipper {
    agent: ureq::Agent,
    url: String,
    token: Option<String>,
    patience: Duration,
}

impl Shipper {
    /// Posts one batch until the service takes it, refuses it for good, or
    /// `patience` runs out.
    fn post(&self, batch: &Batch) -> Result<Posted> {
        let id = format!("send-{:032x}", xxhash_rust::xxh3::xxh3_128(&batch.body));
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gzip.write_all(&batch.body)?;
        let body = gzip.finish()?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(200);
        loop {
            let mut request = self
                .agent
                .post(&self.url)
                .header("Content-Encoding", "gzip")
                .header("Content-Type", "application/x-ndjson")
                .header("X-Seldom-Batch-Id", &id);
            if let Some(token) = &self.token {
                request = request.header("Authorization", format!("Bearer {token}"));
            }
            let wait = match request.send(&body[..]) {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let text = response.body_mut().read_to_string().unwrap_or_default();
                    let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    match status {
                        200 => return Ok(Posted::Taken(answer)),
                        413 => return Ok(Posted::TooLarge),
                        429 | 503 => retry_after.unwrap_or(Duration::from_secs(1)),
                        _ => {
                            let why = answer["error"].as_str().unwrap_or(text.trim());
                            bail!("{} answered {status}: {why}", self.url);
                        }
                    }
                }
                // Refused or reset: a service restarting.
                Err(e) => {
                    if started.elapsed() > self.patience {
                        bail!("{}: {e}", self.url);
                    }
                    pause = (pause * 2).min(Duration::from_secs(5));
                    pause
                }
            };
            if started.elapsed() + wait > self.patience {
                bail!("{}: still not taken after {:?}", self.url, self.patience);
            }
            std::thread::sleep(wait);
        }
    }

    /// Posts a batch; one over the service's limit is split in two (by the
    /// same rules) until each part is taken or is a single record.
    fn ship(&self, batch: Batch, totals: &mut Totals) -> Result<()> {
        match self.post(&batch)? {
            Posted::Taken(answer) => {
                totals.batches += 1;
                if answer["duplicate"].as_bool() == Some(true) {
                    totals.duplicates += 1;
                    totals.records += batch.records;
                    return Ok(());
                }
                totals.records += answer["records"].as_u64().unwrap_or(0);
                totals.accepted += answer["accepted"].as_u64().unwrap_or(0);
                let sum = |v: &Value| {
                    v.as_object()
                        .map_or(0, |o| o.values().filter_map(Value::as_u64).sum::<u64>())
                };
                totals.skipped += sum(&answer["skipped"]);
                totals.ignored += sum(&answer["ignored"]);
                Ok(())
            }
            Posted::TooLarge if batch.records <= 1 => {
                eprintln!(
                    "seldom send: a record of {} bytes is over the service's body limit; not sent",
                    batch.body.len()
                );
                totals.refused += batch.records;
                Ok(())
            }
            Posted::TooLarge => {
                let mut halves = Vec::new();
                let mut batcher = Batcher::new(batch.body.len() / 2);
                for line in batch.body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                    batcher.push(batch.framing, line, &mut |b| halves.push(b));
                }
                batcher.flush(&mut |b| halves.push(b));
                if halves.len() < 2 {
                    // One audit event over the limit: it cannot be cut.
                    totals.refused += batch.records;
                    eprintln!(
                        "seldom send: {} records that belong together are over the service's body limit; not sent",
                        batch.records
                    );
                    return Ok(());
                }
                for half in halves {
                    self.ship(half, totals)?;
                }
                Ok(())
            }
        }
    }
}

pub fn run(args: &SendArgs) -> Result<ExitCode> {
    let url = format!("{}/api/v1/ingest", args.url.trim_end_matches('/'));
    let shipper = Shipper {
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(300)))
            .build()
            .into(),
        url,
        token: args.token.clone(),
        patience: args.patience,
    };
    let mut files = Vec::new();
    for path in &args.paths {
        collect_files(path, &mut files).with_context(|| format!("{}", path.display()))?;
    }
    let mut totals = Totals::default();
    for file in &files {
        totals.files += 1;
        let mut batcher = Batcher::new(args.batch_bytes);
        let mut full: Vec<Batch> = Vec::new();
        let mut failure: Option<anyhow::Error> = None;
        let unreadable = each_record(file, EvtxAs::JsonLine, &mut |framing, record| {
            batcher.push(framing, record, &mut |b| full.push(b));
            // Sent as soon as it is full: a large file is never all in memory.
            for batch in full.drain(..) {
                if let Err(e) = shipper.ship(batch, &mut totals) {
                    failure = Some(e);
                    return Err(std::io::Error::other("stopped"));
                }
            }
            Ok::<(), std::io::Error>(())
        });
        if let Some(e) = failure {
            report(&totals);
            return Err(e.context(format!("sending {}", file.display())));
        }
        totals.unreadable += unreadable.with_context(|| format!("reading {}", file.display()))?;
        batcher.flush(&mut |b| full.push(b));
        for batch in full {
            shipper
                .ship(batch, &mut totals)
                .with_context(|| format!("sending {}", file.display()))?;
        }
    }
    report(&totals);
    Ok(if totals.refused > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn report(t: &Totals) {
    eprintln!(
        "seldom send: {} files, {} batches taken ({} already stored before), {} records, {} events accepted, {} skipped as malformed, {} ignored; {} records refused, {} unreadable EVTX records not sent",
        t.files,
        t.batches,
        t.duplicates,
        t.records,
        t.accepted,
        t.skipped,
        t.ignored,
        t.refused,
        t.unreadable
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batches(limit: usize, framing: Framing, lines: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        let mut batcher = Batcher::new(limit);
        for line in lines {
            batcher.push(framing, line.as_bytes(), &mut |b| out.push(b));
        }
        batcher.flush(&mut |b| out.push(b));
        out.into_iter()
            .map(|b| String::from_utf8(b.body).expect("text"))
            .collect()
    }

    #[test]
    fn lines_are_cut_under_the_limit_and_a_long_one_goes_alone() {
        let long = "x".repeat(50);
        let got = batches(20, Framing::Lines, &["aaaa", "bbbb", "cccc", &long, "dddd"]);
        assert_eq!(
            got,
            vec![
                "aaaa\nbbbb\ncccc\n".to_owned(),
                format!("{long}\n"),
                "dddd\n".to_owned()
            ]
        );
    }

    #[test]
    fn every_zeek_batch_starts_with_the_header_of_its_log() {
        let got = batches(
            36,
            Framing::ZeekTsv,
            &[
                "#separator \\x09",
                "#fields\tts\tid",
                "1\ta",
                "2\tb",
                "3\tc",
                "#separator \\x09",
                "#fields\tts\tuid",
                "4\td",
            ],
        );
        let header = "#separator \\x09\n#fields\tts\tid\n";
        assert_eq!(
            got,
            vec![
                format!("{header}1\ta\n"),
                format!("{header}2\tb\n"),
                format!("{header}3\tc\n"),
                "#separator \\x09\n#fields\tts\tuid\n4\td\n".to_owned(),
            ]
        );
    }

    #[test]
    fn an_audit_event_is_never_cut() {
        let lines = [
            "type=SYSCALL msg=audit(1.0:10): pid=1",
            "type=EXECVE msg=audit(1.0:10): a0=\"curl\"",
            "type=EOE msg=audit(1.0:10):",
            "type=SYSCALL msg=audit(2.0:11): pid=2",
        ];
        let got = batches(50, Framing::Audit, &lines);
        assert_eq!(
            got,
            vec![
                format!("{}\n{}\n{}\n", lines[0], lines[1], lines[2]),
                format!("{}\n", lines[3]),
            ]
        );
    }
}
