//! `seldom serve`: the detection as a long-running service.
//!
//! Telemetry comes in over HTTP (`POST /api/v1/ingest`, any format `scan`
//! reads) and from files followed as they grow; one thread runs the same
//! synchronous detector as `scan`; alerts, the baseline, process tables,
//! pending connections, dedup table and input offsets are committed together
//! to a redb store at a checkpoint interval and on shutdown, so that a
//! restart after a crash loses no alert and raises none twice. Analysts work
//! in the REST API ([`http`]) or the embedded web UI. With a `[kafka]`
//! section (`serve --kafka`) the service detects nothing itself: it follows
//! a cluster of `seldom worker`s ([`cluster`]), reading their alerts into
//! its store and publishing allowlist entries to them.
//!
//! Modules: [`config`] (settings), [`service`] (what the edges and the
//! detection thread share, behind methods), [`store`] (durable state),
//! [`pipeline`] (the detection thread), [`tail`] (followed files, by
//! [`file_identity`]), [`alerts`] and [`allowlist`] (what analysts see and
//! decide), [`status`] (the figures, one snapshot), [`http`] (the edge, one
//! module per resource, and its OpenAPI document), [`schema`] (OpenAPI
//! schemas of other crates' types), [`prometheus`] (`/metrics`),
//! [`queue`] (work for the detection thread, queue slots), [`error_body`]
//! (every refusal's JSON), [`request_body`] (what a body must be before it
//! is read or stored), [`connections`] (slow and idle clients), [`guards`]
//! (token, origin), [`ui_assets`] (the web UI's embedded files).

#![forbid(unsafe_code)]

mod alert_groups;
mod alert_sink;
pub mod alerts;
pub mod allowlist;
pub mod cluster;
pub mod config;
pub mod connections;
pub mod error_body;
pub mod file_identity;
pub mod guards;
pub mod http;
pub mod incidents;
pub mod pipeline;
pub mod prometheus;
pub mod queue;
pub mod request_body;
pub mod schema;
pub mod service;
pub mod status;
pub mod store;
pub mod tail;
pub mod tail_status;
pub mod ui_assets;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use seldom_detect::Catalog;

pub use config::{ServeConfig, TlsFiles};

use crate::alerts::AlertIndex;
use crate::connections::ConnectionGuard;
use crate::pipeline::Detection;
use crate::queue::Work;
use crate::service::{Opened, Service};
use crate::store::Store;
use crate::tail::Tailer;

/// Runs the service until SIGTERM or Ctrl-C: then it stops accepting,
/// finishes the queued work, checkpoints and returns.
pub fn serve(config: ServeConfig, catalog: Catalog) -> Result<()> {
    config.validate()?;
    let (store, restored) = Store::open(&config.serve.state, &config.detect)?;
    let variations: Arc<[String]> = catalog.variations().iter().map(|v| v.id.clone()).collect();
    let mut detector = config.detect.build(catalog).context("in [detect]")?;
    let cluster = match &config.kafka {
        Some(kafka) => Some(connect(kafka)?),
        None => None,
    };
    if let Some(state) = restored.state {
        detector.restore(state);
        detector.restore_reorder(restored.reorder);
    }
    let mut index = AlertIndex::default();
    for record in restored.alerts {
        index.insert(record);
    }
    let (work_tx, work_rx) = std::sync::mpsc::channel::<Work>();
    let opened = Opened {
        store,
        alerts: index,
        allowlist: restored.allowlist,
        inputs: crate::tail_status::inputs(&restored.offsets),
    };
    let mut service = Service::new(
        opened,
        config.serve.queue_batches,
        config.detect.host_naming,
        variations,
        work_tx,
    );
    let follower = cluster.map(|(link, client)| {
        let topics = link.topics.clone();
        service.follow_cluster(link);
        (client, topics)
    });
    let shared = Arc::new(service);
    let mut detection = Detection::new(
        detector,
        restored.offsets.clone(),
        restored.inbox_done,
        config.serve.alert_retention,
        config.serve.checkpoint_interval,
    );
    detection.reorder_wall_timeout = config.serve.reorder_wall_timeout;
    // The listener binds at once: while the detection thread replays the
    // batches acknowledged after the last checkpoint (in order, before
    // anything new), `/readyz` and ingest answer 503 instead of refusing
    // connections.
    let detection_thread = match follower {
        // Following a cluster: its alerts and allowlist in place of detection.
        Some((client, topics)) => {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("seldom-cluster".into())
                .spawn(move || {
                    let _alive = shared.alive_guard();
                    cluster::follow(shared, client, topics, work_rx)
                })
                .context("starting the cluster follower")?
        }
        None => {
            let shared = shared.clone();
            let inbox = restored.inbox;
            std::thread::Builder::new()
                .name("seldom-detect".into())
                .spawn(move || {
                    let _alive = shared.alive_guard();
                    detection.replay(inbox, &shared);
                    shared.mark_replayed();
                    detection.run(shared, work_rx)
                })
                .context("starting the detection thread")?
        }
    };
    let stop_tail = Arc::new(AtomicBool::new(false));
    let patterns = config.tail_patterns();
    let tail_thread = if patterns.is_empty() {
        None
    } else {
        let tailer = Tailer::new(patterns, config.serve.tail_interval, restored.offsets);
        let shared = shared.clone();
        let stop = stop_tail.clone();
        Some(
            std::thread::Builder::new()
                .name("seldom-tail".into())
                .spawn(move || tailer.run(shared, stop))
                .context("starting the file tailer")?,
        )
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let app = http::App {
        service: shared.clone(),
        token: config.serve.token.as_deref().map(Arc::from),
        max_body_bytes: config.serve.max_body_bytes,
    };
    let router = http::router(app);
    let served = runtime.block_on(async {
        let handle = axum_server::Handle::new();
        let on_signal = handle.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            on_signal.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
        });
        // The bound address (the port, when 0 asked for any): scripts and
        // tests read it from this line.
        let tls = config.tls();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let on_listen = handle.clone();
        tokio::spawn(async move {
            if let Some(addr) = on_listen.listening().await {
                eprintln!("seldom serve: listening on {scheme}://{addr}");
            }
        });
        let service = router.into_make_service();
        let (max_connections, header_timeout) =
            (config.serve.max_connections, config.serve.header_timeout);
        let listen = config.serve.listen;
        match &tls {
            Some(tls) => {
                let _ = rustls::crypto::ring::default_provider().install_default();
                let tls_config =
                    axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                        .await
                        .with_context(|| {
                            format!(
                                "reading serve.tls_cert {} and serve.tls_key {}",
                                tls.cert.display(),
                                tls.key.display()
                            )
                        })?;
                let tls = axum_server::tls_rustls::RustlsAcceptor::new(tls_config)
                    .handshake_timeout(header_timeout);
                let mut server = axum_server::bind(listen).acceptor(ConnectionGuard::new(
                    tls,
                    max_connections,
                    header_timeout,
                ));
                bound_request_heads(server.http_builder(), header_timeout);
                server
                    .handle(handle)
                    .serve(service)
                    .await
                    .with_context(|| format!("serving on {}", listen))
            }
            None => {
                let mut server = axum_server::bind(listen).acceptor(ConnectionGuard::new(
                    axum_server::accept::DefaultAcceptor::new(),
                    max_connections,
                    header_timeout,
                ));
                bound_request_heads(server.http_builder(), header_timeout);
                server
                    .handle(handle)
                    .serve(service)
                    .await
                    .with_context(|| format!("serving on {}", listen))
            }
        }
    });
    // Stop taking input, let detection finish what was acknowledged, checkpoint.
    stop_tail.store(true, Ordering::Release);
    if let Some(thread) = tail_thread {
        let _ = thread.join();
    }
    shared.send(Work::Shutdown);
    match detection_thread.join() {
        Ok(true) => eprintln!("seldom serve: stopped after a final checkpoint"),
        Ok(false) if shared.cluster().is_some() => {
            eprintln!(
                "seldom serve: stopped with alerts not saved (the store could not write); the next start reads them from the cluster again"
            );
            served?;
            anyhow::bail!("alerts read from the cluster were not saved");
        }
        Ok(false) => {
            eprintln!(
                "seldom serve: stopped WITHOUT a final checkpoint (the store could not write); the next start replays from the last one"
            );
            served?;
            anyhow::bail!("the final checkpoint failed");
        }
        Err(_) => {
            eprintln!(
                "seldom serve: the detection thread had stopped; the next start replays from the last checkpoint"
            );
            served?;
            anyhow::bail!("the detection thread stopped");
        }
    }
    served
}

/// The cluster's topics (created if missing, as a worker would) and a
/// publisher for allowlist entries.
fn connect(
    kafka: &seldom_kafka::KafkaConfig,
) -> Result<(service::ClusterLink, rdkafka::config::ClientConfig)> {
    let client = seldom_kafka::worker::client_config(kafka);
    seldom_kafka::topics::ensure(kafka, &client)
        .with_context(|| format!("the Kafka cluster at {}", kafka.bootstrap))?;
    let publisher =
        seldom_kafka::publish::Publisher::new(&client, std::time::Duration::from_secs(15))
            .context("a producer for the allowlist topic")?;
    let link = service::ClusterLink {
        publisher,
        topics: kafka.topics.clone(),
    };
    Ok((link, client))
}

/// HTTP/1 request heads, and the idle wait for the next one on a kept-alive
/// connection, must complete within `timeout` (hyper closes the connection
/// otherwise); [`connections`] covers the bytes before hyper's own timer.
fn bound_request_heads(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    timeout: std::time::Duration,
) {
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(timeout);
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
