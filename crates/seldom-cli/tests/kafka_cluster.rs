//! `seldom worker` on a real three-broker Kafka cluster (scripts/kafka-cluster:
//! replication factor 3, `min.insync.replicas` 2): a simulated organization
//! sent with `seldom kafka produce` through two workers gives exactly the
//! alerts of one detector on the same file, read from the alerts topic with
//! `read_committed` (every id, none extra, each id's last record the alert's
//! final state); and the same when a worker is SIGKILLed mid-stream and
//! restarted, and when a broker is SIGKILLed mid-stream and restarted.
//!
//! A `seldom serve --kafka` beside the workers reads their alerts into its
//! store and publishes an allowlist entry that every worker applies: the
//! alerts topic and the service's API then hold exactly the detector's
//! alerts minus the ones the entry covers, and a restart keeps triage.
//!
//! The cluster is started by the test if it is not running (`.ci/run`
//! starts it first). Each scenario has topics and a group of its own.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::serve;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use seldom_detect::{AlertBook, Catalog, DetectConfig, Order};
use seldom_ingest::{IngestOptions, PathSource, Source, decode_in_background};
use serde_json::{Value, json};

const SEED_HOSTS: &str = "40";
const SEED_DAYS: &str = "17";
const PARTITIONS: u32 = 4;
/// How long a scenario may take to give every alert.
const PATIENCE: Duration = Duration::from_secs(300);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn script(args: &[&str]) -> (bool, String) {
    let output = Command::new("bash")
        .arg(repo().join("scripts/kafka-cluster"))
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .expect("running scripts/kafka-cluster");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// The cluster's bootstrap list, started if need be.
fn bootstrap() -> &'static str {
    static BOOTSTRAP: OnceLock<String> = OnceLock::new();
    BOOTSTRAP.get_or_init(|| {
        if !script(&["status"]).0 {
            let (ok, out) = script(&["up"]);
            assert!(ok, "scripts/kafka-cluster up failed");
            return out.lines().last().unwrap_or_default().trim().to_owned();
        }
        script(&["bootstrap"]).1.trim().to_owned()
    })
}

/// Scenarios run one at a time: one of them kills a broker.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The simulated organization's telemetry, and one detector's alerts on it
/// (repeats applied): written once, shared by the scenarios.
struct Expected {
    telemetry: PathBuf,
    alerts: BTreeMap<String, Value>,
    _dir: tempfile::TempDir,
}

fn expected() -> &'static Expected {
    static EXPECTED: OnceLock<Expected> = OnceLock::new();
    EXPECTED.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let status = Command::new(env!("CARGO_BIN_EXE_seldom"))
            .args(["simulate", "--hosts", SEED_HOSTS, "--days", SEED_DAYS])
            .args(["--seed", "5", "--out"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .expect("seldom simulate");
        assert!(status.success());
        let telemetry = dir.path().join("telemetry.jsonl");
        let source: Box<dyn Source> = Box::new(PathSource::new(&telemetry));
        let mut batches =
            decode_in_background(vec![source], IngestOptions::default(), None).expect("decoding");
        let events: Vec<_> = batches.by_ref().flatten().collect();
        batches.finish();
        let catalog = Catalog::builtin().expect("the built-in catalog");
        let mut detector = DetectConfig::default().build(catalog).expect("defaults");
        let mut alerts = AlertBook::default();
        seldom_detect::run(&mut detector, [events], Order::Presort, &mut alerts)
            .expect("no sink error");
        assert!(alerts.0.len() > 100, "the simulation raises alerts");
        let alerts = alerts
            .0
            .into_iter()
            .map(|(id, alert)| (id, comparable(serde_json::to_value(alert).expect("json"))))
            .collect();
        Expected {
            telemetry,
            alerts,
            _dir: dir,
        }
    })
}

/// An alert without what differs by deployment: where its source records
/// were read (a file's line, a topic's offset), and the count of hosts
/// active in the window, which partitions take as of their progress.
fn comparable(mut alert: Value) -> Value {
    if let Some(object) = alert.as_object_mut() {
        object.remove("source_events");
        object.remove("explanation");
        if let Some(prevalence) = object.get_mut("prevalence").and_then(Value::as_object_mut) {
            prevalence.remove("active_hosts");
        }
    }
    alert
}

/// One deployment: its own topics and group, its workers.
struct Deployment {
    name: String,
    config: PathBuf,
    workers: Vec<Option<Child>>,
    restarts: usize,
    _dir: tempfile::TempDir,
}

impl Deployment {
    fn new(scenario: &str) -> Deployment {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!("t{nanos}-{scenario}");
        let dir = tempfile::tempdir().expect("a temporary folder");
        let config = dir.path().join("seldom.toml");
        let topics = [
            "input",
            "by_host",
            "by_key",
            "alerts",
            "host_state",
            "key_state",
            "allowlist",
        ]
        .iter()
        .map(|t| format!("{t} = \"{name}.{t}\"\n"))
        .collect::<String>();
        std::fs::write(
            &config,
            format!(
                "[kafka]\ngroup_id = \"{name}\"\npartitions = {PARTITIONS}\n\
                 commit_interval = \"300ms\"\n[kafka.topics]\n{topics}"
            ),
        )
        .expect("writing the config");
        Deployment {
            name,
            config,
            workers: Vec::new(),
            restarts: 0,
            _dir: dir,
        }
    }

    fn seldom(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_seldom"));
        command.env("RUST_BACKTRACE", "1");
        command
    }

    fn produce(&self, path: &Path) {
        let status = self
            .seldom()
            .args(["kafka", "produce", "--kafka", bootstrap(), "--config"])
            .arg(&self.config)
            .arg(path)
            .status()
            .expect("seldom kafka produce");
        assert!(status.success(), "seldom kafka produce failed");
    }

    fn start_worker(&mut self, i: usize) {
        self.start_worker_with(i, &[]);
    }

    fn start_worker_with(&mut self, i: usize, args: &[&str]) {
        let child = self
            .seldom()
            .args(["worker", "--kafka", bootstrap(), "--config"])
            .arg(&self.config)
            .args(["--id", &format!("w{i}")])
            .args(args)
            .stdout(Stdio::null())
            .spawn()
            .expect("seldom worker");
        if self.workers.len() <= i {
            self.workers.resize_with(i + 1, || None);
        }
        self.workers[i] = Some(child);
    }

    fn kill_worker(&mut self, i: usize) {
        if let Some(mut child) = self.workers[i].take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
        }
    }

    /// Restarts any worker that exited on its own, as a supervisor would
    /// (the watchdog ends a worker whose transaction call hangs).
    fn supervise(&mut self) {
        for i in 0..self.workers.len() {
            let exited = match &mut self.workers[i] {
                Some(child) => child.try_wait().expect("a worker's status").is_some(),
                None => false,
            };
            if exited {
                self.restarts += 1;
                self.start_worker(i);
            }
        }
    }

    /// Reads the alerts topic (`read_committed`) until every expected id has
    /// come and nothing new for a few seconds; returns each id's last record.
    fn alerts(&mut self, want: &BTreeSet<String>) -> BTreeMap<String, Value> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap())
            .set("group.id", format!("{}-reader", self.name))
            .set("isolation.level", "read_committed")
            .set("enable.auto.commit", "false")
            .create()
            .expect("a consumer");
        let topic = format!("{}.alerts", self.name);
        let mut assignment = TopicPartitionList::new();
        for p in 0..PARTITIONS as i32 {
            assignment
                .add_partition_offset(&topic, p, Offset::Beginning)
                .expect("a partition");
        }
        consumer.assign(&assignment).expect("assigning");
        let started = Instant::now();
        let mut last_new = Instant::now();
        let mut got: BTreeMap<String, Value> = BTreeMap::new();
        while started.elapsed() < PATIENCE {
            self.supervise();
            // Transient consumer errors (a broker down) are librdkafka's to retry.
            if let Some(Ok(message)) = consumer.poll(Duration::from_millis(500)) {
                let key = String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned();
                let value: Value = serde_json::from_slice(message.payload().unwrap_or_default())
                    .expect("an alert in JSON");
                assert_eq!(
                    value["id"].as_str(),
                    Some(key.as_str()),
                    "keyed by alert id"
                );
                got.insert(key, comparable(value));
                last_new = Instant::now();
            }
            let complete = want.iter().all(|id| got.contains_key(id));
            if complete && last_new.elapsed() > Duration::from_secs(8) {
                break;
            }
        }
        got
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for i in 0..self.workers.len() {
            self.kill_worker(i);
        }
    }
}

fn assert_same(got: &BTreeMap<String, Value>, scenario: &str) {
    assert_same_as(got, &expected().alerts, scenario);
}

fn assert_same_as(got: &BTreeMap<String, Value>, want: &BTreeMap<String, Value>, scenario: &str) {
    let missing: Vec<&String> = want.keys().filter(|id| !got.contains_key(*id)).collect();
    let extra: Vec<&String> = got.keys().filter(|id| !want.contains_key(*id)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{scenario}: {} of {} alert ids missing (first {:?}), {} extra (first {:?})",
        missing.len(),
        want.len(),
        missing.first(),
        extra.len(),
        extra.first()
    );
    for (id, alert) in want {
        assert_eq!(
            &got[id], alert,
            "{scenario}: alert {id}, last record against its final state"
        );
    }
}

fn scenario(name: &str, disturb: impl FnOnce(&mut Deployment)) {
    let _serial = serial();
    let expected = expected();
    let mut deployment = Deployment::new(name);
    deployment.produce(&expected.telemetry);
    deployment.start_worker(0);
    deployment.start_worker(1);
    disturb(&mut deployment);
    let want: BTreeSet<String> = expected.alerts.keys().cloned().collect();
    let got = deployment.alerts(&want);
    assert_same(&got, name);
}

#[test]
fn two_workers_raise_the_alerts_of_one_detector() {
    scenario("plain", |_| {});
}

#[test]
fn a_worker_killed_mid_stream_and_restarted_changes_nothing() {
    scenario("worker-kill", |deployment| {
        std::thread::sleep(Duration::from_secs(6));
        deployment.kill_worker(1);
        std::thread::sleep(Duration::from_secs(2));
        deployment.start_worker(1);
    });
}

#[test]
fn a_broker_killed_mid_stream_changes_nothing() {
    scenario("broker-kill", |_| {
        std::thread::sleep(Duration::from_secs(5));
        assert!(script(&["kill-broker", "2"]).0, "kill-broker 2");
        std::thread::sleep(Duration::from_secs(8));
        assert!(script(&["start-broker", "2"]).0, "start-broker 2");
    });
}

/// Alert ids the service's API lists.
/// A partition's new owner restores while its previous owner's last
/// transaction is still open (Kafka answers a commit before its markers
/// reach the partitions, so a restore can begin inside that window). The
/// restore waits for the transaction to end: it takes the snapshot that
/// transaction wrote when it commits, the one before when it aborts, and
/// never the older snapshot beside input offsets that moved past it.
#[test]
fn a_restore_waits_for_the_transaction_open_on_its_changelog() {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    use seldom_kafka::restore::latest_snapshots;

    let _serial = serial();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let name = format!("t{nanos}-restore");
    let mut kafka = seldom_kafka::KafkaConfig {
        bootstrap: bootstrap().to_owned(),
        group_id: name.clone(),
        partitions: 1,
        ..Default::default()
    };
    kafka.topics.host_state = format!("{name}.host_state");
    kafka.topics.key_state = format!("{name}.key_state");
    kafka.topics.by_host = format!("{name}.by_host");
    kafka.topics.by_key = format!("{name}.by_key");
    kafka.topics.input = format!("{name}.input");
    kafka.topics.alerts = format!("{name}.alerts");
    kafka.topics.allowlist = format!("{name}.allowlist");
    let client = seldom_kafka::worker::client_config(&kafka);
    seldom_kafka::topics::ensure(&kafka, &client).expect("the topics");
    let topic = kafka.topics.host_state.clone();

    let producer: BaseProducer = client
        .clone()
        .set("transactional.id", format!("{name}.owner"))
        .create()
        .expect("a transactional producer");
    let timeout = Duration::from_secs(30);
    producer.init_transactions(timeout).expect("init");
    let snapshot = |payload: &str| {
        producer.begin_transaction().expect("begin");
        producer
            .send(
                BaseRecord::to(&topic)
                    .partition(0)
                    .key("0")
                    .payload(payload),
            )
            .map_err(|(e, _)| e)
            .expect("sent");
        producer.flush(timeout).expect("flushed");
    };
    let restore_in_background = || {
        let (client, topic) = (client.clone(), topic.clone());
        std::thread::spawn(move || latest_snapshots(&client, &topic, &[0], None))
    };
    type Restoring =
        std::thread::JoinHandle<Result<seldom_kafka::restore::Restored, seldom_kafka::WorkerError>>;
    let restored = |handle: Restoring| -> Option<Vec<u8>> {
        let restored = handle
            .join()
            .expect("the restore thread")
            .expect("a restore");
        restored.snapshots[&0].clone()
    };

    snapshot("first");
    producer.commit_transaction(timeout).expect("commit");

    // Committed while the restore waits: the restore takes it.
    snapshot("second");
    let restoring = restore_in_background();
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !restoring.is_finished(),
        "the restore waits while a transaction is open on the changelog"
    );
    producer.commit_transaction(timeout).expect("commit");
    assert_eq!(restored(restoring).as_deref(), Some(&b"second"[..]));

    // Aborted while the restore waits: the snapshot before it stands.
    snapshot("aborted");
    let restoring = restore_in_background();
    std::thread::sleep(Duration::from_secs(2));
    producer.abort_transaction(timeout).expect("abort");
    assert_eq!(restored(restoring).as_deref(), Some(&b"second"[..]));
}

fn listed(server: &serve::Server) -> BTreeSet<String> {
    let (status, page) = server.get("/api/v1/alerts?limit=1000");
    assert_eq!(status, 200, "{page}");
    page["alerts"]
        .as_array()
        .map(|alerts| {
            alerts
                .iter()
                .filter_map(|a| a["alert"]["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until the service lists exactly `want`.
fn until_listed(server: &serve::Server, want: &BTreeSet<String>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = listed(server);
        if &got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the service lists {} alerts, the cluster raised {}",
            got.len(),
            want.len()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A worker's probe or metrics at `addr`: the status (0 when it does not
/// answer) and the body.
fn worker_get(addr: &str, path: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    match agent.get(format!("http://{addr}{path}")).call() {
        Ok(mut response) => (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap_or_default(),
        ),
        Err(_) => (0, String::new()),
    }
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn a_service_follows_the_cluster_and_its_allowlist_holds_for_every_worker() {
    let _serial = serial();
    let expected = expected();
    let mut deployment = Deployment::new("serve");
    let state = deployment._dir.path().join("serve-state");
    let config = deployment.config.to_str().expect("a UTF-8 path").to_owned();
    let args = ["--kafka", bootstrap(), "--config", config.as_str()];
    let server = serve::start_within(&state, None, &args, Duration::from_secs(120));

    // Telemetry goes to the cluster, not to this service.
    let (status, refused) = server.send("POST", "/api/v1/ingest", b"{}\n", &[]);
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap_or_default()
            .contains(".input")
    );

    // An entry for the host with the fewest alerts, published before any
    // worker starts: every worker reads it before its first record.
    let mut per_host: BTreeMap<&str, usize> = BTreeMap::new();
    for alert in expected.alerts.values() {
        *per_host
            .entry(alert["host"].as_str().unwrap_or_default())
            .or_default() += 1;
    }
    let (host, _) = per_host
        .iter()
        .min_by_key(|(_, n)| **n)
        .expect("alerts to allowlist");
    let host = (*host).to_owned();
    let entry = json!({"kind": "host", "value": host, "reason": "test: the lab's scanner"});
    let (status, added) = server.send(
        "POST",
        "/api/v1/allowlist",
        entry.to_string().as_bytes(),
        &[("Content-Type", "application/json")],
    );
    assert_eq!(status, 201, "{added}");
    let want: BTreeMap<String, Value> = expected
        .alerts
        .iter()
        .filter(|(_, a)| a["host"].as_str() != Some(host.as_str()))
        .map(|(id, a)| (id.clone(), a.clone()))
        .collect();
    assert!(want.len() < expected.alerts.len() && !want.is_empty());

    let metrics_port = free_port();
    let metrics = format!("127.0.0.1:{metrics_port}");
    deployment.produce(&expected.telemetry);
    let local = deployment._dir.path().join("w0-state");
    let local = local.to_str().expect("a UTF-8 path").to_owned();
    let w0 = ["--metrics", metrics.as_str(), "--state", local.as_str()];
    deployment.start_worker_with(0, &w0);
    deployment.start_worker(1);
    let ids: BTreeSet<String> = want.keys().cloned().collect();
    let got = deployment.alerts(&ids);
    assert_same_as(&got, &want, "serve");

    // The worker says it is ready, and how many alerts the entry withheld.
    assert_eq!(worker_get(&metrics, "/readyz").0, 200);
    let text = worker_get(&metrics, "/metrics").1;
    assert!(text.contains("seldom_worker_allowlist_entries 1"), "{text}");

    // The service holds exactly those alerts; triage survives a restart,
    // which reads the topic again without doubling anything.
    until_listed(&server, &ids);
    let first = ids.first().expect("an alert").clone();
    let (status, patched) = server.send(
        "PATCH",
        &format!("/api/v1/alerts/{first}"),
        br#"{"status": "acknowledged", "by": "ana"}"#,
        &[("Content-Type", "application/json")],
    );
    assert_eq!(status, 200, "{patched}");
    assert_eq!(server.stop(), Some(0));
    let server = serve::start_within(&state, None, &args, Duration::from_secs(120));
    until_listed(&server, &ids);
    let (_, again) = server.get(&format!("/api/v1/alerts/{first}"));
    assert_eq!(again["triage"]["status"], "acknowledged", "{again}");
    let (_, entries) = server.get("/api/v1/allowlist");
    assert_eq!(
        entries["entries"].as_array().map(Vec::len),
        Some(1),
        "{entries}"
    );
    assert_eq!(server.stop(), Some(0));

    // Both workers gone, the first back alone: it takes every partition,
    // and those whose last snapshot it wrote come from its local copies.
    deployment.kill_worker(0);
    deployment.kill_worker(1);
    deployment.start_worker_with(0, &w0);
    let deadline = Instant::now() + Duration::from_secs(60);
    let restored = loop {
        let ready = worker_get(&metrics, "/readyz").0 == 200;
        let text = worker_get(&metrics, "/metrics").1;
        let copies = text
            .lines()
            .find_map(|l| l.strip_prefix("seldom_worker_restored_from_local_copy_total "))
            .and_then(|n| n.trim().parse::<u64>().ok());
        if ready && copies.is_some_and(|n| n > 0) {
            break copies;
        }
        assert!(
            Instant::now() < deadline,
            "no restore from the local copies: {text}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    eprintln!("restored from local copies: {restored:?} partitions");
    // Nothing changed on the way: the same alerts, none new.
    let again = deployment.alerts(&ids);
    assert_same_as(&again, &want, "serve, after a restart from local copies");
}
