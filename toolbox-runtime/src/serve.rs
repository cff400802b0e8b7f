//! The HTTP accept loop: each connection served by hyper's HTTP/1 over the [`router`], closed when
//! it overstays a timeout, and a graceful shutdown that ends at a deadline.
//!
//! A connection is in one of three phases:
//! - *head*: a request is arriving. From its first byte (on a new connection, from the accept)
//!   the whole head must arrive within `header_read`, or the connection is closed;
//! - *busy*: a request is being served; its body is read under the body-read timeout, in
//!   [`crate::http`] where the body is read;
//! - *idle*: a kept-alive connection waits for its next request, at most `idle`.
//!
//! hyper's own `header_read_timeout` is not used: its clock starts when the connection becomes
//! ready for a request (the accept, or the end of the previous response), so on a kept-alive
//! connection the idle wait and the next head share one budget, and an idle connection is cut at
//! the header timeout (pinned by a test below). Here the head's clock starts at its first byte.
//!
//! With TLS ([`crate::tls`]) the handshake runs in the connection's task, in the head phase that
//! began at the accept, so a client that connects and stalls its handshake is closed at the
//! header-read timeout like one that stalls its head, and the accept loop never waits on it. The
//! clocks watch the socket beneath TLS; the peer address, the phases and the graceful shutdown
//! are those of a plain connection, which is served by the same code over the bare socket.
//!
//! [`router`]: crate::http::router

use axum::Router;
use axum::body::Body;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

/// How long a connection may hold the server without a request being served.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionTimeouts {
    /// A request's head (request line and headers), from its first byte; on a new connection,
    /// from the accept.
    pub header_read: Duration,
    /// A kept-alive connection waiting for its next request.
    pub idle: Duration,
}

/// How the server stopped.
#[derive(Debug)]
pub struct Stopped {
    /// Connections still open at the deadline, and closed then.
    pub cut: usize,
    /// The shutdown deadline: the shutdown signal plus the shutdown timeout.
    pub deadline: Instant,
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting, lets the
/// connections finish (an idle one is closed at once, a busy one after its response) and closes
/// whatever is left when `shutdown_timeout` has passed. With `tls`, every connection is HTTPS.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    timeouts: ConnectionTimeouts,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
    shutdown_timeout: Duration,
) -> Stopped {
    let graceful = GracefulShutdown::new();
    // Tells the connections still in their TLS handshake that the server is stopping (hyper's
    // graceful shutdown only reaches connections it serves).
    let (closing, _) = tokio::sync::watch::channel(());
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    // A response may leave in several writes (headers, then the body or an event
                    // stream's events): none waits for the client's delayed ACK.
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!("TCP_NODELAY on an accepted connection: {e}");
                    }
                    let activity = Arc::new(Activity::new());
                    let io = Tracked { io: stream, activity: activity.clone() };
                    let connection = Connection {
                        app: app.clone(),
                        peer,
                        watchdog: Watchdog::new(activity.clone(), timeouts),
                        activity,
                        // Taken now, so that a shutdown during the handshake reaches it too.
                        watcher: graceful.watcher(),
                    };
                    match &tls {
                        None => connections.spawn(connection.serve(io)),
                        Some(acceptor) => {
                            connections.spawn(connection.serve_tls(io, acceptor.clone(), closing.subscribe()))
                        }
                    };
                }
                Err(e) => accept_error(e).await,
            },
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    let deadline = Instant::now() + shutdown_timeout;
    drop(listener);
    let _ = closing.send(());
    let open = graceful.count();
    if open > 0 {
        tracing::info!("waiting up to {} ms for {open} connections to finish", shutdown_timeout.as_millis());
    }
    if tokio::time::timeout_at(deadline, graceful.shutdown()).await.is_ok() {
        return Stopped { cut: 0, deadline };
    }
    // The tasks of connections that ended are still in the set until joined.
    while connections.try_join_next().is_some() {}
    let cut = connections.len();
    // Aborting a connection's task drops it, which closes its socket.
    connections.shutdown().await;
    Stopped { cut, deadline }
}

/// An accepted connection, before its first byte is read.
struct Connection {
    app: Router,
    peer: SocketAddr,
    activity: Arc<Activity>,
    watchdog: Watchdog,
    watcher: Watcher,
}

impl Connection {
    /// Serves HTTP/1 over `io` (the socket, or TLS over it) until the connection ends or the
    /// watchdog closes it. Generic, so that the plain socket is served without any indirection.
    async fn serve<I>(self, io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Connection { app, peer, activity, watchdog, watcher } = self;
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            activity.set(Phase::Busy);
            // The peer's address, for what keys on the caller (rate limits).
            request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            let activity = activity.clone();
            let response = app.clone().oneshot(request.map(Body::new));
            async move {
                let response = response.await?;
                Ok::<_, std::convert::Infallible>(response.map(|body| ResponseBody { body, activity: Some(activity) }))
            }
        });
        // No hyper timer: the timeouts are the watchdog's (see the module comment).
        let connection = hyper::server::conn::http1::Builder::new()
            .header_read_timeout(None)
            .serve_connection(TokioIo::new(io), service);
        let connection = watcher.watch(connection);
        // The connection first: whatever it did in this poll (a request's first byte, a response
        // sent) is seen by the watchdog in the same poll.
        tokio::select! {
            biased;
            result = connection => {
                if let Err(e) = result {
                    tracing::debug!("connection ended: {e}");
                }
            }
            expired = watchdog => tracing::debug!("connection closed: {expired}"),
        }
    }

    /// The TLS handshake, then [`Connection::serve`] over TLS. The handshake is on the clock of
    /// the request head, which started at the accept: the handshake and the first head together
    /// must arrive within the header-read timeout. A stopping server closes it at once. A
    /// handshake that fails is logged at debug level only: scanners and clients that distrust
    /// the certificate are not the server's errors.
    async fn serve_tls(mut self, io: Tracked, acceptor: TlsAcceptor, mut closing: tokio::sync::watch::Receiver<()>) {
        let stream = tokio::select! {
            biased;
            stream = handshake(io, acceptor) => match stream {
                Some(stream) => stream,
                None => return,
            },
            expired = &mut self.watchdog => {
                tracing::debug!("connection closed during the TLS handshake: {expired}");
                return;
            }
            _ = closing.changed() => return,
        };
        self.serve(stream).await
    }
}

/// The first byte of a TLS connection: a handshake record (RFC 8446 §5.1).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// The server's side of the TLS handshake; `None` when it failed (logged at debug level). A
/// plain HTTP request (an `http://` URL for an HTTPS server) is answered `400` saying so, rather
/// than with a TLS alert the client would print as noise.
async fn handshake(io: Tracked, acceptor: TlsAcceptor) -> Option<tokio_rustls::server::TlsStream<Tracked>> {
    let mut first = [0u8; 1];
    match io.io.peek(&mut first).await {
        Ok(1) if first[0] == TLS_HANDSHAKE_RECORD => {}
        Ok(1) if first[0].is_ascii_uppercase() => {
            tracing::debug!("a plain HTTP request on the TLS port, answered 400");
            refuse_plain_http(io.io).await;
            return None;
        }
        Ok(_) => {
            tracing::debug!("TLS handshake failed: not a TLS connection");
            return None;
        }
        Err(e) => {
            tracing::debug!("TLS handshake failed: {e}");
            return None;
        }
    }
    match acceptor.accept(io).await {
        Ok(stream) => Some(stream),
        Err(e) => {
            tracing::debug!("TLS handshake failed: {e}");
            None
        }
    }
}

/// Answers a plain HTTP request `400` and closes. What the client sent is read and dropped until
/// it closes (on the caller's clock), so the close does not reset the connection before the
/// client has read the answer.
async fn refuse_plain_http(mut stream: TcpStream) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    const BODY: &str = "This server speaks HTTPS: use an https:// URL.\n";
    let response = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    if stream.write_all(response.as_bytes()).await.is_err() || stream.shutdown().await.is_err() {
        return;
    }
    let mut buf = [0u8; 4096];
    let mut left: usize = 64 * 1024;
    while left > 0 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => left = left.saturating_sub(n),
        }
    }
}

/// A failed accept: one connection's own failure is skipped; anything else (too many open
/// files) is waited out for a moment rather than spun on.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted) {
        return;
    }
    tracing::warn!("cannot accept a connection: {e}");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Head = 0,
    Busy = 1,
    Idle = 2,
}

/// A connection's phase and when it began, shared by its socket, its service and its watchdog.
/// One word (the phase in the low two bits, microseconds since `origin` above them), so a reader
/// never sees the phase of one transition with the time of another. Every access is from the
/// connection's own task, so relaxed ordering suffices.
struct Activity {
    origin: Instant,
    state: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Activity { origin: Instant::now(), state: AtomicU64::new(Phase::Head as u64) }
    }

    fn set(&self, phase: Phase) {
        let micros = self.origin.elapsed().as_micros() as u64;
        self.state.store(micros << 2 | phase as u64, Ordering::Relaxed);
    }

    fn get(&self) -> (Phase, Instant) {
        let state = self.state.load(Ordering::Relaxed);
        let phase = match state & 3 {
            0 => Phase::Head,
            1 => Phase::Busy,
            _ => Phase::Idle,
        };
        (phase, self.origin + Duration::from_micros(state >> 2))
    }

    /// Bytes arrived: on an idle connection, they are the next request's first.
    fn bytes_arrived(&self) {
        if self.state.load(Ordering::Relaxed) & 3 == Phase::Idle as u64 {
            self.set(Phase::Head);
        }
    }
}

/// The socket, noting when bytes arrive.
struct Tracked {
    io: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.bytes_arrived();
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// A response body that marks its connection idle once hyper is done with it (hyper drops a
/// body when it has been written, or when the connection ends).
struct ResponseBody {
    body: Body,
    activity: Option<Arc<Activity>>,
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        if let Some(activity) = self.activity.take() {
            activity.set(Phase::Idle);
        }
    }
}

impl HttpBody for ResponseBody {
    type Data = <Body as HttpBody>::Data;
    type Error = <Body as HttpBody>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Resolves when the connection has overstayed the timeout of its phase. Its sleep is moved
/// earlier as soon as a phase with an earlier deadline begins; a later deadline is taken up when
/// the sleep fires, so a busy connection costs one timer reset per request.
struct Watchdog {
    activity: Arc<Activity>,
    timeouts: ConnectionTimeouts,
    sleep: Pin<Box<Sleep>>,
    armed: Instant,
}

impl Watchdog {
    fn new(activity: Arc<Activity>, timeouts: ConnectionTimeouts) -> Self {
        let armed = activity.origin + timeouts.header_read;
        Watchdog { activity, timeouts, sleep: Box::pin(tokio::time::sleep_until(armed)), armed }
    }

    fn deadline(&self) -> (Phase, Option<Instant>) {
        let (phase, since) = self.activity.get();
        let limit = match phase {
            Phase::Head => Some(self.timeouts.header_read),
            Phase::Idle => Some(self.timeouts.idle),
            Phase::Busy => None,
        };
        (phase, limit.map(|limit| since + limit))
    }

    fn arm(&mut self, at: Instant) {
        self.armed = at;
        self.sleep.as_mut().reset(at);
    }
}

impl Future for Watchdog {
    type Output = &'static str;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        loop {
            let (phase, deadline) = self.deadline();
            if let Some(deadline) = deadline.filter(|d| *d < self.armed) {
                self.arm(deadline);
            }
            if self.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let now = Instant::now();
            match deadline {
                Some(deadline) if deadline <= now => {
                    return Poll::Ready(match phase {
                        Phase::Head => "the request head did not arrive within the header read timeout",
                        _ => "idle longer than the idle timeout",
                    });
                }
                Some(deadline) => self.arm(deadline),
                // Serving: look again later; the end of the response brings an earlier deadline.
                None => {
                    let later = now + self.timeouts.idle.max(self.timeouts.header_read);
                    self.arm(later);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

    /// Reads one response (its head ends the read: the tests' bodies are empty).
    async fn read_response(client: &mut TcpStream) -> String {
        let mut response = Vec::new();
        let mut buf = [0u8; 1024];
        while !response.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = client.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed before a response");
            response.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&response).into_owned()
    }

    /// Waits for the server to close `client`; returns how long that took.
    async fn closed_after(client: &mut TcpStream, limit: Duration) -> Duration {
        let started = Instant::now();
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(limit, client.read(&mut buf)).await;
        assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "still open after {limit:?}: {read:?}");
        started.elapsed()
    }

    /// Why hyper's `header_read_timeout` is not used: its clock starts when the connection is
    /// ready for a request, so it also closes a kept-alive connection that is merely idle.
    #[tokio::test]
    async fn hypers_header_read_timeout_also_cuts_an_idle_keep_alive_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let service = hyper::service::service_fn(|_| async {
                Ok::<_, std::convert::Infallible>(hyper::Response::new(
                    http_body_util::Empty::<axum::body::Bytes>::new(),
                ))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_millis(300))
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        let mut client = TcpStream::connect(address).await.unwrap();
        client.write_all(REQUEST).await.unwrap();
        assert!(read_response(&mut client).await.starts_with("HTTP/1.1 200"));
        // Nothing half-sent: the connection is idle, and still it is closed at the header timeout.
        let idle = closed_after(&mut client, Duration::from_secs(5)).await;
        assert!(idle < Duration::from_secs(2), "closed after {idle:?}");
    }

    async fn server(timeouts: ConnectionTimeouts) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = Router::new().route("/", axum::routing::get(|| async { "" }));
        tokio::spawn(serve(listener, app, timeouts, None, std::future::pending(), Duration::from_secs(1)));
        address
    }

    /// Accepted connections send without Nagle's delay: the server's end of a connection has
    /// TCP_NODELAY set (the client's end here does not, so it tells nothing).
    #[tokio::test]
    async fn accepted_connections_have_nagle_off() {
        let timeouts = ConnectionTimeouts { header_read: Duration::from_secs(5), idle: Duration::from_secs(5) };
        let address = server(timeouts).await;
        let mut client = TcpStream::connect(address).await.unwrap();
        client.write_all(REQUEST).await.unwrap();
        assert!(read_response(&mut client).await.starts_with("HTTP/1.1 200"));
        let client_end = client.local_addr().unwrap();
        let server_end: Vec<_> =
            crate::testing::tcp_sockets(address.port()).into_iter().filter(|s| s.peer == client_end).collect();
        assert_eq!(server_end.len(), 1, "the accepted socket of {client_end} among this process's sockets");
        assert!(server_end[0].nodelay, "TCP_NODELAY is off on the accepted connection {:?}", server_end[0]);
    }

    /// Here the idle wait and the head have clocks of their own: an idle connection outlives the
    /// header timeout and is closed at the idle one; a head is timed from its first byte.
    #[tokio::test]
    async fn idle_and_head_are_timed_separately() {
        let timeouts =
            ConnectionTimeouts { header_read: Duration::from_millis(400), idle: Duration::from_millis(1500) };
        let address = server(timeouts).await;

        let mut client = TcpStream::connect(address).await.unwrap();
        client.write_all(REQUEST).await.unwrap();
        assert!(read_response(&mut client).await.starts_with("HTTP/1.1 200"));
        let idle = closed_after(&mut client, Duration::from_secs(5)).await;
        assert!(idle > Duration::from_millis(1200), "an idle connection was cut at {idle:?}");

        // Idle for longer than the header timeout, then a head sent slowly but within its own
        // timeout: answered.
        let mut client = TcpStream::connect(address).await.unwrap();
        client.write_all(REQUEST).await.unwrap();
        read_response(&mut client).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        client.write_all(&REQUEST[..10]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        client.write_all(&REQUEST[10..]).await.unwrap();
        assert!(read_response(&mut client).await.starts_with("HTTP/1.1 200"));

        // Half a head: closed at the header timeout.
        let mut client = TcpStream::connect(address).await.unwrap();
        client.write_all(REQUEST).await.unwrap();
        read_response(&mut client).await;
        client.write_all(&REQUEST[..10]).await.unwrap();
        let head = closed_after(&mut client, Duration::from_secs(5)).await;
        assert!(head < Duration::from_millis(1000), "half a head was kept {head:?}");

        // A new connection that sends nothing is timed as a head.
        let mut client = TcpStream::connect(address).await.unwrap();
        let silent = closed_after(&mut client, Duration::from_secs(5)).await;
        assert!(silent < Duration::from_millis(1000), "a silent connection was kept {silent:?}");
    }
}
