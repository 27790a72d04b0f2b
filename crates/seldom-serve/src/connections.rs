//! Slow and idle clients: a cap on open connections and a deadline for a
//! connection's first bytes, so that a few hundred clients that connect and
//! say nothing (or trickle a header byte at a time) cannot hold the server,
//! and twenty thousand cannot starve the API of file descriptors.
//!
//! - [`ConnectionGuard`] wraps the acceptor (plain TCP, or TLS around it): a
//!   connection past `serve.max_connections` is closed at once; the others
//!   hold a slot until they close.
//! - A connection must send its first [`PROTOCOL_BYTES`] within
//!   `serve.header_timeout`. Until then hyper is still deciding between
//!   HTTP/1 and HTTP/2 and applies no timer of its own; from there on, its
//!   HTTP/1 `header_read_timeout` (set to the same value in [`crate::serve`])
//!   bounds the rest of each request head and every idle keep-alive wait.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;

/// The bytes that decide the protocol: the length of the HTTP/2 preface.
pub const PROTOCOL_BYTES: usize = 24;

/// An acceptor that caps open connections and gives each a deadline for its
/// first bytes; `inner` does the rest (TLS, or nothing).
#[derive(Clone)]
pub struct ConnectionGuard<A> {
    inner: A,
    slots: Arc<Semaphore>,
    first_bytes_within: Duration,
}

impl<A> ConnectionGuard<A> {
    pub fn new(inner: A, max_connections: usize, first_bytes_within: Duration) -> Self {
        ConnectionGuard {
            inner,
            slots: Arc::new(Semaphore::new(max_connections)),
            first_bytes_within,
        }
    }
}

type Accepted<S, V> = Pin<Box<dyn Future<Output = io::Result<(Guarded<S>, V)>> + Send>>;

impl<A, I, S> Accept<I, S> for ConnectionGuard<A>
where
    A: Accept<I, S>,
    A::Future: Send + 'static,
    A::Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = Guarded<A::Stream>;
    type Service = A::Service;
    type Future = Accepted<A::Stream, A::Service>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let Ok(slot) = self.slots.clone().try_acquire_owned() else {
            // Dropping the stream closes the connection now, before a TLS
            // handshake or a byte of HTTP costs anything.
            drop(stream);
            return Box::pin(std::future::ready(Err(io::Error::other(
                "serve.max_connections reached",
            ))));
        };
        // The slot is held through the TLS handshake too: a flood of
        // handshakes is a flood of connections.
        let accepting = self.inner.accept(stream, service);
        let within = self.first_bytes_within;
        Box::pin(async move {
            let (stream, service) = accepting.await?;
            Ok((Guarded::new(stream, slot, within), service))
        })
    }
}

/// A connection holding its slot, with its first-bytes deadline.
pub struct Guarded<S> {
    inner: S,
    _slot: OwnedSemaphorePermit,
    /// Armed until [`PROTOCOL_BYTES`] have been read.
    deadline: Option<Pin<Box<Sleep>>>,
    read: usize,
}

impl<S> Guarded<S> {
    fn new(inner: S, slot: OwnedSemaphorePermit, within: Duration) -> Self {
        Guarded {
            inner,
            _slot: slot,
            deadline: Some(Box::pin(tokio::time::sleep(within))),
            read: 0,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.read += buf.filled().len() - before;
                if this.read >= PROTOCOL_BYTES {
                    this.deadline = None;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                // Polling the timer registers its waker too, so the task
                // wakes at the deadline even if the client never writes.
                let expired = this
                    .deadline
                    .as_mut()
                    .is_some_and(|deadline| deadline.as_mut().poll(cx).is_ready());
                if expired {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "no request within serve.header_timeout",
                    )));
                }
                Poll::Pending
            }
            failed => failed,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
