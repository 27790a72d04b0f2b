//! `seldom serve` at its edges: requests that used to be accepted and lose
//! data or resolve everything (a /0 allowlist entry, a reused batch id, a
//! body in an encoding it cannot read, a huge declared length), each refused
//! with a status and a JSON answer that names the problem.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on broken fixtures

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::serve;
use serde_json::{Value, json};

const LINE: &str = r#"{"EventID":3,"Hostname":"WS1","Channel":"Microsoft-Windows-Sysmon/Operational","UtcTime":"2024-01-01 00:00:00.000","ProcessGuid":"{a}","ProcessId":"7","Image":"C:\\x.exe","Protocol":"tcp","Initiated":"true","SourceIp":"10.0.0.5","DestinationIp":"93.184.216.34","DestinationPort":"443"}"#;

/// Sends raw bytes and reads the answer until the server closes or 10 s pass.
fn raw_exchange(server: &serve::Server, request: &[u8]) -> String {
    let addr = server.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                // The whole JSON answer is in: no need to wait for the close.
                if answer.ends_with(b"}") {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

fn allow(server: &serve::Server, kind: &str, value: &str) -> (u16, Value) {
    let entry = json!({"kind": kind, "value": value, "reason": "test"});
    server.send(
        "POST",
        "/api/v1/allowlist",
        entry.to_string().as_bytes(),
        &[("Content-Type", "application/json")],
    )
}

#[test]
fn allowlist_entries_that_would_cover_everything_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let server = serve::start(&work.path().join("s"), None, &[]);
    for (kind, value) in [
        ("cidr", "0.0.0.0/0"),
        ("cidr", "::/0"),
        ("cidr", "0.0.0.0/1"),
        ("domain", "*"),
        ("domain", "com"),
        ("image", "*"),
        ("variation", "*"),
        ("variation", "no-such-variation"),
    ] {
        let (status, answer) = allow(&server, kind, value);
        assert_eq!(status, 400, "{kind} {value}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains("value"),
            "{answer}"
        );
    }
    assert_eq!(allow(&server, "cidr", "203.0.113.0/24").0, 201);
    assert_eq!(allow(&server, "variation", "curl").0, 201);
    let (_, list) = server.get("/api/v1/allowlist");
    assert_eq!(list["entries"].as_array().unwrap().len(), 2, "{list}");
}

#[test]
fn a_batch_id_given_to_another_body_is_refused_with_409() {
    let work = tempfile::tempdir().unwrap();
    let server = serve::start(&work.path().join("s"), None, &[]);
    let id = [("X-Seldom-Batch-Id", "batch-7")];
    let first = server.send("POST", "/api/v1/ingest", LINE.as_bytes(), &id);
    assert_eq!(first.0, 200, "{}", first.1);
    let other = LINE.replace("93.184.216.34", "198.51.100.77");
    let (status, answer) = server.send("POST", "/api/v1/ingest", other.as_bytes(), &id);
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["durable"], false);
    assert!(answer["error"].as_str().unwrap().contains("batch-7"));
    // The same bytes again are still a resend, acknowledged once.
    let (status, again) = server.send("POST", "/api/v1/ingest", LINE.as_bytes(), &id);
    assert_eq!(status, 200);
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["batch"], first.1["batch"]);
}

#[test]
fn bodies_in_an_encoding_it_cannot_read_are_refused_with_415() {
    let work = tempfile::tempdir().unwrap();
    let server = serve::start(&work.path().join("s"), None, &[]);
    let (status, answer) = server.send(
        "POST",
        "/api/v1/ingest",
        LINE.as_bytes(),
        &[("Content-Encoding", "deflate")],
    );
    assert_eq!(status, 415, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("gzip"),
        "{answer}"
    );
    // UTF-16 text, with its byte order mark and without.
    let utf16: Vec<u8> = LINE.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let with_bom = [&[0xff, 0xfe][..], &utf16].concat();
    for body in [&utf16, &with_bom] {
        let (status, answer) = server.send("POST", "/api/v1/ingest", body, &[]);
        assert_eq!(status, 415, "{answer}");
        assert!(
            answer["error"].as_str().unwrap().contains("UTF-16"),
            "{answer}"
        );
    }
    let (status, _) = server.send(
        "POST",
        "/api/v1/ingest",
        LINE.as_bytes(),
        &[("Content-Type", "application/x-ndjson; charset=utf-16")],
    );
    assert_eq!(status, 415);
    // What it reads is still taken: plain and gzip-encoded UTF-8.
    let (status, answer) = server.send(
        "POST",
        "/api/v1/ingest",
        LINE.as_bytes(),
        &[("Content-Type", "application/x-ndjson; charset=utf-8")],
    );
    assert_eq!((status, answer["accepted"].as_u64()), (200, Some(1)));
    let (status, _) = server.send(
        "POST",
        "/api/v1/ingest",
        LINE.as_bytes(),
        &[("Content-Encoding", "gzip")],
    );
    assert_eq!(status, 200);
}

#[test]
fn an_oversized_body_is_refused_from_its_declared_length_in_json() {
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("serve.toml");
    std::fs::write(&config, "[serve]\nmax_body_bytes = 512\n").unwrap();
    let server = serve::start(
        &work.path().join("s"),
        None,
        &["--config", config.to_str().unwrap()],
    );
    // A terabyte declared, a few bytes sent: the answer comes from the header.
    let answer = raw_exchange(
        &server,
        b"POST /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000000000\r\n\r\n{\"Event",
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    let body: Value =
        serde_json::from_str(&answer[answer.find("\r\n\r\n").unwrap() + 4..]).unwrap();
    assert_eq!(body["max_body_bytes"], 512, "{body}");
    assert!(body["error"].as_str().unwrap().contains("max_body_bytes"));
    // A chunked body passing the limit: refused as it passes, in JSON too.
    let mut chunked =
        b"POST /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n"
            .to_vec();
    chunked.extend_from_slice(&[b'{'; 0x400]);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let answer = raw_exchange(&server, &chunked);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"max_body_bytes\":512"), "{answer}");
    let (_, status) = server.get("/api/v1/status");
    assert_eq!(status["events_detected"], 0);
}

/// Whether the server closes `stream` within `within` (a read returns end
/// of stream or a reset), rather than holding it open.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            // An answer (408 or the like) before the close is fine.
            Ok(_) => continue,
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                );
            }
        }
    }
}

fn start_with(work: &std::path::Path, serve_section: &str) -> serve::Server {
    let config = work.join("serve.toml");
    std::fs::write(&config, format!("[serve]\n{serve_section}")).unwrap();
    serve::start(
        &work.join("s"),
        None,
        &["--config", config.to_str().unwrap()],
    )
}

#[test]
fn clients_that_never_finish_a_request_head_are_disconnected() {
    let work = tempfile::tempdir().unwrap();
    let server = start_with(work.path(), "header_timeout = \"1s\"\n");
    let addr = server.base.trim_start_matches("http://").to_owned();
    // Connects and says nothing.
    let mut silent = TcpStream::connect(&addr).unwrap();
    // Starts a request head and never ends it.
    let mut partial = TcpStream::connect(&addr).unwrap();
    partial
        .write_all(b"POST /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    // Sends the head a byte at a time, each well inside the timeout.
    let mut trickle = TcpStream::connect(&addr).unwrap();
    let head = b"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n\r\n";
    let started = std::time::Instant::now();
    let mut cut_off = false;
    for byte in head.iter().take(40) {
        if trickle.write_all(&[*byte]).is_err() {
            cut_off = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        cut_off || closed_within(&mut trickle, Duration::from_secs(5)),
        "a trickled head is cut off"
    );
    assert!(started.elapsed() < Duration::from_secs(8));
    assert!(
        closed_within(&mut silent, Duration::from_secs(5)),
        "a silent client is closed"
    );
    assert!(
        closed_within(&mut partial, Duration::from_secs(5)),
        "a half-sent head is closed"
    );
    // A client that does send its request is served as before.
    assert_eq!(server.get("/api/v1/status").0, 200);
}

#[test]
fn connections_past_the_cap_are_closed_and_the_api_answers_again_once_they_time_out() {
    let work = tempfile::tempdir().unwrap();
    let server = start_with(
        work.path(),
        "header_timeout = \"2s\"\nmax_connections = 8\n",
    );
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut held: Vec<TcpStream> = (0..8).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    // Give the server a moment to accept them all. On a loaded machine it
    // may not have yet, and the next connection then takes a slot still
    // free: it is held too, and another tried (a few at most).
    std::thread::sleep(Duration::from_millis(300));
    let closed_past_the_cap = (0..4).any(|_| {
        let mut one_more = TcpStream::connect(&addr).unwrap();
        let closed = closed_within(&mut one_more, Duration::from_secs(1));
        held.push(one_more);
        closed
    });
    assert!(
        closed_past_the_cap,
        "a connection past the cap is closed at once"
    );
    // The held ones time out, and their slots serve the API again.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(server.get("/api/v1/status").0, 200);
    drop(held);
}

#[test]
fn an_empty_body_and_values_the_document_excludes_are_refused_with_400() {
    let work = tempfile::tempdir().unwrap();
    let server = serve::start(&work.path().join("s"), None, &[]);
    for body in [&b""[..], b"\n \r\n\t"] {
        let (status, answer) = server.send("POST", "/api/v1/ingest", body, &[]);
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["durable"], false);
        assert!(
            answer["error"].as_str().unwrap().contains("empty"),
            "{answer}"
        );
    }
    let (_, status) = server.get("/api/v1/status");
    assert_eq!(status["events_detected"], 0);
    for (query, field) in [
        ("to=yesterday", "to"),
        ("offset=-1", "offset"),
        ("limit=-5", "limit"),
    ] {
        let (status, answer) = server.get(&format!("/api/v1/alerts?{query}"));
        assert_eq!(status, 400, "{query}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(field),
            "{answer}"
        );
    }
    // An empty filter is no filter; any RFC 3339 time is a bound.
    for query in ["to=&severity=&status=", "from=0001-01-01T00:00:00Z"] {
        assert_eq!(server.get(&format!("/api/v1/alerts?{query}")).0, 200);
    }
    let (status, answer) = allow(&server, "ip", "  ");
    assert_eq!(status, 400, "{answer}");
}

/// Batches posted at once share group commits (one inbox transaction for
/// whatever is waiting), which must change nothing an ingest client sees:
/// every distinct batch is stored once with a number of its own, the numbers
/// run without gaps, resends racing their original get its number, an id
/// raced with two bodies stores one of them and refuses the other, and
/// detection gets every stored batch.
#[test]
fn batches_posted_at_once_are_each_stored_once_and_detected() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 6;
    let work = tempfile::tempdir().unwrap();
    let server = serve::start(&work.path().join("s"), None, &[]);
    let body = |t: usize, i: usize| LINE.replace("93.184.216.34", &format!("93.184.{t}.{i}"));
    let answers: Vec<Vec<(String, u16, Value)>> = std::thread::scope(|scope| {
        // The client, without the server's log receiver (not shareable).
        let server = &*server;
        let posters: Vec<_> = (0..THREADS)
            .map(|t| {
                scope.spawn(move || {
                    let mut answers = Vec::new();
                    for i in 0..PER_THREAD {
                        // Every thread also posts "same" (one body, one id)
                        // and "raced" (its own body under one shared id).
                        let (id, text) = match i {
                            0 => ("same".to_owned(), body(200, 0)),
                            1 => ("raced".to_owned(), body(201, t)),
                            _ => (format!("b-{t}-{i}"), body(t, i)),
                        };
                        let headers = [("X-Seldom-Batch-Id", id.as_str())];
                        let (status, answer) =
                            server.send("POST", "/api/v1/ingest", text.as_bytes(), &headers);
                        answers.push((id, status, answer));
                    }
                    answers
                })
            })
            .collect();
        posters.into_iter().map(|p| p.join().unwrap()).collect()
    });
    let answers: Vec<(String, u16, Value)> = answers.into_iter().flatten().collect();

    let same: Vec<&Value> = answers
        .iter()
        .filter(|a| a.0 == "same")
        .map(|a| &a.2)
        .collect();
    assert!(answers.iter().filter(|a| a.0 == "same").all(|a| a.1 == 200));
    assert_eq!(
        same.iter().filter(|a| a["duplicate"] != true).count(),
        1,
        "{same:?}"
    );
    assert!(
        same.iter().all(|a| a["batch"] == same[0]["batch"]),
        "{same:?}"
    );

    let raced: Vec<&(String, u16, Value)> = answers.iter().filter(|a| a.0 == "raced").collect();
    let kept: Vec<_> = raced.iter().filter(|a| a.1 == 200).collect();
    assert_eq!(kept.len(), 1, "one body keeps the id: {raced:?}");
    assert!(
        raced
            .iter()
            .filter(|a| a.1 == 409)
            .all(|a| a.2["batch"] == kept[0].2["batch"]),
        "the others are refused naming its batch: {raced:?}"
    );
    assert_eq!(raced.iter().filter(|a| a.1 == 409).count(), THREADS - 1);

    let mut numbers: Vec<u64> = answers
        .iter()
        .filter(|a| a.1 == 200 && a.2["duplicate"] != true)
        .map(|a| a.2["batch"].as_u64().unwrap())
        .collect();
    numbers.sort_unstable();
    let stored = THREADS * (PER_THREAD - 2) + 2;
    assert_eq!(
        numbers,
        (1..=stored as u64).collect::<Vec<_>>(),
        "one number each, no gaps"
    );

    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, status) = server.get("/api/v1/status");
        if status["events_detected"].as_u64() == Some(stored as u64) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not all detected: {status}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
