//! PostgreSQL connections that notice a silent network.
//!
//! A partition drops packets without closing anything: a query sent into
//! it waits forever, and TCP's own timers take many minutes. So every
//! connection's socket is watched (`Watchdog`): while the server owes an
//! answer and has sent nothing for the statement timeout plus `GRACE`, the
//! connection fails, every query on it gets an error at once, and the pool
//! discards it (diesel-async's `is_broken` sees it closed). The server
//! itself stops statements at the statement timeout (`statement_timeout`),
//! so a slow statement fails cleanly, and a connection that keeps a
//! transaction open without a word is ended by the server
//! (`idle_in_transaction_session_timeout`), freeing its row locks.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use diesel::ConnectionError;
use diesel_async::AsyncPgConnection;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};
use tokio_postgres::config::Host;
use tokio_postgres::NoTls;

use super::Timeouts;

/// How much longer than the statement timeout the client waits for an
/// answer: the server's own cancellation arrives first when it can.
pub const GRACE: Duration = Duration::from_secs(2);

/// A transaction may stay idle this many statement timeouts before the
/// server ends its session.
const IDLE_IN_TRANSACTION_FACTOR: u32 = 3;

/// Idle connections are probed after this long, so that one whose peer is
/// gone is noticed before a request picks it.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// The server probes the connection the same way, so that the session of a
/// client that vanished (and the locks it held) ends within about 30 s.
const SERVER_KEEPALIVE: &str =
    "-c tcp_keepalives_idle=15 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3";

/// The configuration `url` names, with `settings` (`-c name=value ...`)
/// before the URL's own options, which win.
fn configured(url: &str, settings: &str) -> Result<tokio_postgres::Config, ConnectionError> {
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| ConnectionError::BadConnection(e.to_string()))?;
    let options = format!(
        "{SERVER_KEEPALIVE} {settings} {}",
        config.get_options().unwrap_or_default()
    );
    config.options(options.trim_end());
    Ok(config)
}

/// A plain session for an advisory lock held while waiting for other
/// instances: no statement timeout, no watchdog.
pub async fn lock_session(url: &str) -> Result<tokio_postgres::Client, ConnectionError> {
    let (client, connection) = configured(url, "")?
        .connect(NoTls)
        .await
        .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
    tokio::spawn(connection);
    Ok(client)
}

/// Opens a connection to `url` with the timeouts.
pub async fn connect(url: &str, timeouts: Timeouts) -> Result<AsyncPgConnection, ConnectionError> {
    let bad = |e: &dyn std::fmt::Display| ConnectionError::BadConnection(e.to_string());
    let settings = format!(
        "-c statement_timeout={} -c idle_in_transaction_session_timeout={}",
        timeouts.statement.as_millis(),
        (timeouts.statement * IDLE_IN_TRANSACTION_FACTOR).as_millis(),
    );
    let config = configured(url, &settings)?;
    let socket = open(&config, timeouts.acquire).await.map_err(|e| bad(&e))?;
    let watched = Watchdog::new(socket, timeouts.statement + GRACE);
    let (client, connection) = config
        .connect_raw(watched, NoTls)
        .await
        .map_err(|e| bad(&e))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            log::warn!("database connection lost: {e}");
        }
    });
    AsyncPgConnection::try_from(client).await
}

trait Socket: AsyncRead + AsyncWrite + Unpin + Send {}
impl<S: AsyncRead + AsyncWrite + Unpin + Send> Socket for S {}

/// Connects to the first host of the URL that answers within `limit`.
async fn open(config: &tokio_postgres::Config, limit: Duration) -> io::Result<Box<dyn Socket>> {
    let (hosts, addrs, ports) = (
        config.get_hosts(),
        config.get_hostaddrs(),
        config.get_ports(),
    );
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "the URL names no host");
    for i in 0..hosts.len().max(addrs.len()) {
        let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        let attempt = async {
            match (addrs.get(i), hosts.get(i)) {
                (Some(addr), _) => tcp(TcpStream::connect((*addr, port)).await?),
                (None, Some(Host::Tcp(name))) => {
                    tcp(TcpStream::connect((name.as_str(), port)).await?)
                }
                #[cfg(unix)]
                (None, Some(Host::Unix(dir))) => {
                    let path = dir.join(format!(".s.PGSQL.{port}"));
                    Ok(Box::new(tokio::net::UnixStream::connect(path).await?) as Box<dyn Socket>)
                }
                (None, None) => unreachable!("i is below the longer list"),
            }
        };
        match tokio::time::timeout(limit, attempt).await {
            Ok(Ok(socket)) => return Ok(socket),
            Ok(Err(e)) => last = e,
            Err(_) => last = io::Error::new(io::ErrorKind::TimedOut, "connect timed out"),
        }
    }
    Err(last)
}

fn tcp(stream: TcpStream) -> io::Result<Box<dyn Socket>> {
    stream.set_nodelay(true)?;
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(KEEPALIVE)
        .with_interval(KEEPALIVE / 3)
        .with_retries(3);
    socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive)?;
    Ok(Box::new(stream))
}

/// A socket that fails when the server owes answers and is silent for
/// `patience`. Answers are counted on the protocol's framing (PostgreSQL
/// protocol 3, "Message Flow"): the startup message, each Query and each
/// Sync the client sends are answered by exactly one ReadyForQuery.
struct Watchdog<S> {
    inner: S,
    patience: Duration,
    sent: Framing,
    received: Framing,
    /// ReadyForQuery messages the server still owes.
    owed: usize,
    /// When the server's silence becomes a failure (while `owed > 0`).
    deadline: Pin<Box<Sleep>>,
}

impl<S> Watchdog<S> {
    fn new(inner: S, patience: Duration) -> Self {
        Watchdog {
            inner,
            patience,
            sent: Framing::startup(),
            received: Framing::typed(),
            owed: 0,
            deadline: Box::pin(tokio::time::sleep(patience)),
        }
    }

    fn rearm(&mut self) {
        let at = Instant::now() + self.patience;
        self.deadline.as_mut().reset(at);
    }

    /// While answers are owed: has the server been silent too long? Also
    /// registers the task to be woken when it will have been.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.owed > 0 && self.deadline.as_mut().poll(cx).is_ready()
    }

    fn silence(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the database sent nothing for {} s",
                self.patience.as_secs()
            ),
        )
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watchdog<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let answers = this.received.count(&buf.filled()[before..], b"Z");
                this.owed = this.owed.saturating_sub(answers);
                this.rearm();
                Poll::Ready(Ok(()))
            }
            Poll::Pending if this.expired(cx) => Poll::Ready(Err(this.silence())),
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watchdog<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.expired(cx) {
            return Poll::Ready(Err(this.silence()));
        }
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written {
            let requests = this.sent.count(&buf[..n], b"QS");
            if requests > 0 && this.owed == 0 {
                this.rearm();
            }
            this.owed += requests;
            // Wakes the connection's task at the deadline even if it does
            // not read again before then.
            let _ = this.expired(cx);
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Follows message boundaries in one direction of the protocol: a type
/// byte and a four-byte length that counts itself, except for the
/// client's first message (the startup message), which has no type byte.
#[derive(Debug)]
struct Framing {
    /// The header being read: type byte (if any) and length.
    header: [u8; 5],
    header_len: usize,
    have: usize,
    /// Body bytes of the current message still to skip.
    body_left: usize,
}

impl Framing {
    fn typed() -> Self {
        Framing {
            header: [0; 5],
            header_len: 5,
            have: 0,
            body_left: 0,
        }
    }

    /// The client's side: an untyped startup message first.
    fn startup() -> Self {
        Framing {
            header_len: 4,
            ..Framing::typed()
        }
    }

    /// Reads `bytes`; returns how many messages of the `types` began in
    /// them. The startup message counts as one of any `types`.
    fn count(&mut self, mut bytes: &[u8], types: &[u8]) -> usize {
        let mut found = 0;
        while !bytes.is_empty() {
            if self.body_left > 0 {
                let skip = self.body_left.min(bytes.len());
                self.body_left -= skip;
                bytes = &bytes[skip..];
                continue;
            }
            let take = (self.header_len - self.have).min(bytes.len());
            self.header[self.have..self.have + take].copy_from_slice(&bytes[..take]);
            self.have += take;
            bytes = &bytes[take..];
            if self.have < self.header_len {
                break;
            }
            let (kind, length) = match self.header_len {
                4 => (None, &self.header[..4]),
                _ => (Some(self.header[0]), &self.header[1..5]),
            };
            let length = u32::from_be_bytes(length.try_into().expect("four bytes")) as usize;
            if kind.is_none_or(|k| types.contains(&k)) {
                found += 1;
            }
            self.body_left = length.saturating_sub(4);
            self.header_len = 5;
            self.have = 0;
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![kind];
        m.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn framing_counts_messages_across_any_split() {
        let mut stream = Vec::new();
        // startup: length, protocol version, parameters
        stream.extend_from_slice(&12u32.to_be_bytes());
        stream.extend_from_slice(&[0, 3, 0, 0, b'u', 0, 0, 0]);
        stream.extend(message(b'p', b"secret\0"));
        stream.extend(message(b'P', b"\0SELECT 1\0\0\0"));
        stream.extend(message(b'S', b""));
        stream.extend(message(b'Q', b"BEGIN\0"));
        // A body holding the type bytes counted must not count.
        stream.extend(message(b'B', b"QQSS"));
        stream.extend(message(b'S', b""));
        for chunk in [1, 2, 3, 5, 7, stream.len()] {
            let mut framing = Framing::startup();
            let found: usize = stream.chunks(chunk).map(|c| framing.count(c, b"QS")).sum();
            assert_eq!(found, 4, "chunks of {chunk}");
        }
    }

    #[test]
    fn server_answers_are_counted_by_ready_for_query() {
        let mut stream = message(b'R', &[0, 0, 0, 0]);
        stream.extend(message(b'S', b"client_encoding\0UTF8\0"));
        stream.extend(message(b'Z', b"I"));
        stream.extend(message(b'D', b"ZZZZ"));
        stream.extend(message(b'Z', b"T"));
        let mut framing = Framing::typed();
        let found: usize = stream.chunks(3).map(|c| framing.count(c, b"Z")).sum();
        assert_eq!(found, 2);
    }
}
