//! A real DNS server on loopback (UDP, RFC 1035 messages through
//! hickory-proto) holding the TXT records tests publish, so that domain
//! verification goes through the server's real resolver as in production.
//! Names it holds answer their TXT records (NOERROR, possibly none); other
//! names NXDOMAIN; names marked failing SERVFAIL.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{RData, Record, RecordType};
use tokio::net::UdpSocket;

#[derive(Default)]
struct Zone {
    txt: HashMap<String, Vec<String>>,
    failing: HashSet<String>,
}

pub struct Dns {
    pub addr: SocketAddr,
    zone: Arc<Mutex<Zone>>,
}

/// The server every shared test server resolves through.
pub fn shared_dns() -> &'static Dns {
    static DNS: OnceLock<Dns> = OnceLock::new();
    DNS.get_or_init(Dns::start)
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl Dns {
    /// Starts a server on a random UDP port, in a thread of its own.
    pub fn start() -> Dns {
        let zone = Arc::new(Mutex::new(Zone::default()));
        let (tx, rx) = std::sync::mpsc::channel();
        let served = zone.clone();
        super::on_own_thread(async move {
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            tx.send(socket.local_addr().unwrap()).unwrap();
            let mut buf = vec![0u8; 4096];
            loop {
                let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
                    continue;
                };
                if let Some(reply) = answer(&served, &buf[..n]) {
                    let _ = socket.send_to(&reply, peer).await;
                }
            }
        });
        Dns {
            addr: rx.recv().unwrap(),
            zone,
        }
    }

    /// Adds a TXT record (one string) at `name`.
    pub fn publish(&self, name: &str, text: &str) {
        let mut zone = self.zone.lock().unwrap();
        zone.txt
            .entry(key(name))
            .or_default()
            .push(text.to_string());
    }

    /// Removes every record at `name`.
    pub fn withdraw(&self, name: &str) {
        self.zone.lock().unwrap().txt.remove(&key(name));
    }

    /// Makes queries for `name` fail with SERVFAIL.
    pub fn fail(&self, name: &str) {
        self.zone.lock().unwrap().failing.insert(key(name));
    }
}

fn answer(zone: &Mutex<Zone>, packet: &[u8]) -> Option<Vec<u8>> {
    let query = Message::from_vec(packet).ok()?;
    let mut reply = Message::new();
    reply
        .set_id(query.id())
        .set_message_type(MessageType::Response)
        .set_op_code(query.op_code())
        .set_recursion_desired(query.recursion_desired())
        .set_recursion_available(true)
        .set_authoritative(true);
    let q = query.queries().first()?.clone();
    let name = key(&q.name().to_ascii());
    reply.add_query(q.clone());
    let zone = zone.lock().unwrap();
    if zone.failing.contains(&name) {
        reply.set_response_code(ResponseCode::ServFail);
    } else if let Some(texts) = zone.txt.get(&name) {
        if q.query_type() == RecordType::TXT {
            for text in texts {
                reply.add_answer(Record::from_rdata(
                    q.name().clone(),
                    0,
                    RData::TXT(TXT::new(vec![text.clone()])),
                ));
            }
        }
    } else {
        reply.set_response_code(ResponseCode::NXDomain);
    }
    reply.to_vec().ok()
}
