//! A progress bar on stderr over the bytes of the inputs, drawn only when stderr
//! is a terminal (indicatif hides it otherwise), updated from a shared counter
//! by a small thread so the decoding loop never waits on the terminal.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    counter: Arc<AtomicU64>,
    /// Dropped to stop the drawing thread at once (no sleep to wait out).
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    bar: ProgressBar,
}

impl Progress {
    pub fn start(total_bytes: u64, visible: bool) -> Progress {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total_bytes), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} {wide_bar} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let counter = Arc::new(AtomicU64::new(0));
        let (stop, stopped) = channel::<()>();
        let thread = {
            let (counter, bar) = (counter.clone(), bar.clone());
            std::thread::spawn(move || {
                while let Err(RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(Duration::from_millis(100))
                {
                    bar.set_position(counter.load(Ordering::Relaxed));
                }
            })
        };
        Progress {
            counter,
            stop: Some(stop),
            thread: Some(thread),
            bar,
        }
    }

    pub fn counter(&self) -> Arc<AtomicU64> {
        self.counter.clone()
    }

    pub fn finish(mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.bar.finish_and_clear();
    }
}
