//! A `seldom serve` started for a test, on an ephemeral port, killed when
//! dropped; with a small HTTP client for its API.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Server {
    child: Option<Child>,
    /// The server's API, with the server's token.
    pub api: Client,
    pub state: PathBuf,
    /// What the server wrote to stderr, line by line.
    pub log: mpsc::Receiver<String>,
}

/// Requests to `seldom serve`, with a bearer token or without.
pub struct Client {
    pub base: String,
    token: Option<String>,
}

/// The server's API is used as the server: `server.get(...)`.
impl std::ops::Deref for Server {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.api
    }
}

/// Starts `seldom serve --state STATE --listen 127.0.0.1:0 ARGS...` and waits
/// for the line naming its port.
pub fn start(state: &Path, token: Option<&str>, args: &[&str]) -> Server {
    start_within(state, token, args, Duration::from_secs(30))
}

/// [`start`], allowing `patience` for the address and for readiness: a
/// service on Kafka creates its topics and reads its allowlist first, which
/// takes longer while the cluster elects leaders after a broker restart.
pub fn start_within(
    state: &Path,
    token: Option<&str>,
    args: &[&str],
    patience: Duration,
) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_seldom"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--state"])
        .arg(state)
        .args(args)
        .env_remove("SELDOM_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(token) = token {
        command.args(["--token", token]);
    }
    let mut child = command.spawn().expect("seldom serve starts");
    let stderr = child.stderr.take().expect("stderr piped");
    let (tx, log) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + patience;
    // What the service said before its address, shown if it never gives one.
    let mut said = Vec::new();
    let base = loop {
        let line = match log.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => line,
            Err(e) => panic!(
                "seldom serve printed no address ({e}: {}); it said:\n{}",
                match child.try_wait() {
                    Ok(Some(status)) => format!("exited, {status}"),
                    _ => format!("still running after {patience:?}"),
                },
                said.join("\n")
            ),
        };
        if let Some(addr) = line.strip_prefix("seldom serve: listening on ") {
            break addr.trim().to_owned();
        }
        said.push(line);
    };
    let server = Server {
        child: Some(child),
        api: Client {
            base,
            token: token.map(str::to_owned),
        },
        state: state.to_owned(),
        log,
    };
    // The listener binds before the inbox is replayed and answers 503 until
    // then: wait for readiness, as a load balancer would. (This client speaks
    // plain HTTP only: a TLS test waits with its own.)
    if server.base.starts_with("https://") {
        return server;
    }
    loop {
        if server.get_text("/readyz").0 == 200 {
            break server;
        }
        assert!(Instant::now() < deadline, "seldom serve never became ready");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

impl Client {
    fn auth(&self) -> Option<String> {
        self.token.as_ref().map(|t| format!("Bearer {t}"))
    }

    /// GET; returns the status and the body as JSON (Null when not JSON).
    pub fn get(&self, path: &str) -> (u16, Value) {
        let (status, text) = self.get_text(path);
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub fn get_text(&self, path: &str) -> (u16, String) {
        let mut request = agent().get(format!("{}{path}", self.base));
        if let Some(auth) = self.auth() {
            request = request.header("Authorization", auth);
        }
        let mut response = request.call().expect("request sent");
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    }

    /// POST / PATCH / DELETE with a body (JSON or raw bytes).
    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let request = ureq::http::Request::builder().method(method).uri(url);
        let mut request = match self.auth() {
            Some(auth) => request.header("Authorization", auth),
            None => request,
        };
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body.to_vec()).expect("request built");
        let mut response = agent().run(request).expect("request sent");
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub fn ingest(&self, lines: &[&str]) -> Value {
        let mut body = lines.join("\n");
        body.push('\n');
        let (status, answer) = self.send("POST", "/api/v1/ingest", body.as_bytes(), &[]);
        assert_eq!(status, 200, "ingest: {answer}");
        answer
    }

    /// Polls `path` until `done` accepts its JSON (30 s at most).
    pub fn wait_for(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (status, value) = self.get(path);
            if status == 200 && done(&value) {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting on {path}: {value}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Server {
    /// A client of the same server that sends no token.
    pub fn unauthenticated(server: &Server) -> Client {
        Client {
            base: server.base.clone(),
            token: None,
        }
    }

    /// The next line of the server's log that contains `needle`, waiting up
    /// to `timeout`.
    pub fn log_line(&self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        while let Ok(line) = self
            .log
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            if line.contains(needle) {
                return Some(line);
            }
        }
        None
    }

    /// The server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(std::process::Child::id)
    }

    /// SIGTERM, then waits for a clean exit; returns the exit status code.
    pub fn stop(mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        child.wait().ok()?.code()
    }

    /// SIGKILL: the crash a checkpoint must survive.
    pub fn crash(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
