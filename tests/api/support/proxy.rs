//! A TCP proxy between a server and its database, to break the network on
//! purpose: `partition` stops forwarding without closing anything (what a
//! silent network partition looks like from either end: no data, no FIN,
//! no RST), `cut` closes every connection at once, `stop` also refuses new
//! ones (a database that is down), `heal` forwards again.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::AbortHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Forward,
    Partition,
    Down,
}

pub struct Proxy {
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
    pumps: Arc<Mutex<Vec<AbortHandle>>>,
    acceptor: AbortHandle,
}

impl Proxy {
    /// Listens on a random loopback port and forwards to `target`.
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mode, _) = watch::channel(Mode::Forward);
        let pumps: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (gate, owned) = (mode.clone(), pumps.clone());
        let acceptor = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if *gate.borrow() == Mode::Down {
                    continue;
                }
                let Ok(server) = TcpStream::connect(target).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                let mut owned = owned.lock().unwrap();
                for (from, to) in [
                    (
                        Box::new(client_read) as Reader,
                        Box::new(server_write) as Writer,
                    ),
                    (
                        Box::new(server_read) as Reader,
                        Box::new(client_write) as Writer,
                    ),
                ] {
                    owned.push(tokio::spawn(pump(from, to, gate.subscribe())).abort_handle());
                }
            }
        })
        .abort_handle();
        Proxy {
            addr,
            mode,
            pumps,
            acceptor,
        }
    }

    /// Stops forwarding: bytes stay where they are, connections stay open.
    pub fn partition(&self) {
        self.mode.send_replace(Mode::Partition);
    }

    /// Closes every connection and every new one, until `heal`.
    pub fn stop(&self) {
        self.mode.send_replace(Mode::Down);
        self.cut();
    }

    /// Forwards again, starting with what was held back.
    pub fn heal(&self) {
        self.mode.send_replace(Mode::Forward);
    }

    /// Closes every connection made so far, as a database restart would.
    pub fn cut(&self) {
        for pump in self.pumps.lock().unwrap().drain(..) {
            pump.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.cut();
    }
}

type Reader = Box<dyn tokio::io::AsyncRead + Unpin + Send>;
type Writer = Box<dyn tokio::io::AsyncWrite + Unpin + Send>;

/// Copies one direction, reading and writing only while forwarding.
async fn pump(mut from: Reader, mut to: Writer, mut mode: watch::Receiver<Mode>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if mode.wait_for(|m| *m == Mode::Forward).await.is_err() {
            return;
        }
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // A partition that began while reading holds this chunk back too.
        if mode.wait_for(|m| *m == Mode::Forward).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// A fresh PostgreSQL database, a proxy to its server, and the database's
/// URL through the proxy.
pub async fn proxied_db() -> (super::TestDb, Proxy, ithbat::db::DatabaseUrl) {
    let db = super::TestDb::create(super::Backend::Postgres).await;
    let ithbat::db::DatabaseUrl::Postgres(url) = &db.url else {
        unreachable!("a PostgreSQL database")
    };
    let mut url = url::Url::parse(url).unwrap();
    let host = url.host_str().unwrap();
    let port = url.port().unwrap_or(5432);
    let target = tokio::net::lookup_host((host, port))
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = Proxy::start(target).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.addr.port())).unwrap();
    (
        db,
        proxy,
        ithbat::db::DatabaseUrl::Postgres(url.to_string()),
    )
}
