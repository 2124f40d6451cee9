//! A real SMTP server on loopback that keeps what it receives, so that
//! tests read invitation, reset and verification mail as a person would.
//! It speaks enough of RFC 5321 for a relay client: EHLO/HELO, MAIL, RCPT,
//! DATA (with dot-unstuffing), RSET, NOOP and QUIT.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A received message.
#[derive(Debug, Clone)]
pub struct Received {
    pub recipients: Vec<String>,
    pub data: Vec<u8>,
}

pub struct Sink {
    pub port: u16,
    messages: Arc<Mutex<Vec<Received>>>,
    /// Transactions still to refuse with a temporary failure (451).
    refuse: Arc<Mutex<u32>>,
}

/// The sink every shared server sends to, started on first use.
pub fn shared_sink() -> &'static Sink {
    static SINK: OnceLock<Sink> = OnceLock::new();
    SINK.get_or_init(|| Sink::start(0))
}

impl Sink {
    /// Starts a sink in a thread of its own; the first `refuse` messages
    /// get a temporary failure, as a busy relay answers.
    pub fn start(refuse: u32) -> Sink {
        let messages = Arc::new(Mutex::new(Vec::new()));
        let refusals = Arc::new(Mutex::new(refuse));
        let (tx, rx) = std::sync::mpsc::channel();
        let (store, pending) = (messages.clone(), refusals.clone());
        super::on_own_thread(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap().port()).unwrap();
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let (store, pending) = (store.clone(), pending.clone());
                tokio::spawn(async move {
                    let _ = session(socket, store, pending).await;
                });
            }
        });
        Sink {
            port: rx.recv().unwrap(),
            messages,
            refuse: refusals,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Waits up to ten seconds for a message to `address` and takes it.
    pub async fn mail_to(&self, address: &str) -> Mail {
        self.try_mail_to(address, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("no mail reached {address}"))
    }

    /// Waits up to `wait` for a message to `address`.
    pub async fn try_mail_to(&self, address: &str, wait: Duration) -> Option<Mail> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            {
                let mut messages = self.messages.lock().unwrap();
                if let Some(i) = messages
                    .iter()
                    .position(|m| m.recipients.iter().any(|r| r.eq_ignore_ascii_case(address)))
                {
                    return Some(Mail::parse(&messages.remove(i).data));
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Takes the oldest message to anyone, with its recipients.
    pub fn take_next(&self) -> Option<(Vec<String>, Mail)> {
        let mut messages = self.messages.lock().unwrap();
        if messages.is_empty() {
            return None;
        }
        let m = messages.remove(0);
        Some((m.recipients, Mail::parse(&m.data)))
    }

    pub fn refusals_left(&self) -> u32 {
        *self.refuse.lock().unwrap()
    }
}

async fn session(
    socket: tokio::net::TcpStream,
    store: Arc<Mutex<Vec<Received>>>,
    refuse: Arc<Mutex<u32>>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let mut recipients = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => {
                write
                    .write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                    .await?
            }
            "HELO" => write.write_all(b"250 sink.test\r\n").await?,
            "MAIL" => {
                recipients.clear();
                write.write_all(b"250 OK\r\n").await?
            }
            "RCPT" => {
                let address = command
                    .split_once(':')
                    .map(|(_, a)| a.trim().trim_start_matches('<'))
                    .and_then(|a| a.split('>').next())
                    .unwrap_or("")
                    .to_string();
                recipients.push(address);
                write.write_all(b"250 OK\r\n").await?
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = Vec::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                    data.extend_from_slice(unstuffed.as_bytes());
                }
                let refused = {
                    let mut left = refuse.lock().unwrap();
                    if *left > 0 {
                        *left -= 1;
                        true
                    } else {
                        false
                    }
                };
                if refused {
                    write.write_all(b"451 4.3.0 try again later\r\n").await?;
                } else {
                    store.lock().unwrap().push(Received {
                        recipients: std::mem::take(&mut recipients),
                        data,
                    });
                    write.write_all(b"250 OK queued\r\n").await?;
                }
            }
            "RSET" | "NOOP" => write.write_all(b"250 OK\r\n").await?,
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => write.write_all(b"502 command not implemented\r\n").await?,
        }
    }
}

/// A message as its reader sees it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub subject: String,
    pub from: String,
    pub text: String,
    pub html: String,
    pub content_type: String,
}

impl Mail {
    fn parse(data: &[u8]) -> Mail {
        let parsed = mailparse::parse_mail(data).expect("a MIME message");
        let header = |name: &str| {
            parsed
                .headers
                .iter()
                .find(|h| h.get_key().eq_ignore_ascii_case(name))
                .map(|h| h.get_value())
                .unwrap_or_default()
        };
        let mut text = String::new();
        let mut html = String::new();
        for part in parsed.parts() {
            match part.ctype.mimetype.as_str() {
                "text/plain" => text = part.get_body().unwrap_or_default(),
                "text/html" => html = part.get_body().unwrap_or_default(),
                _ => {}
            }
        }
        Mail {
            subject: header("Subject"),
            from: header("From"),
            text,
            html,
            content_type: parsed.ctype.mimetype.clone(),
        }
    }

    /// The first link of the text part.
    pub fn link(&self) -> String {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with("http://") || w.starts_with("https://"))
            .unwrap_or_else(|| panic!("no link in {:?}", self.text))
            .to_string()
    }

    /// The `token` query parameter of the mail's link.
    pub fn token(&self) -> String {
        let link = self.link();
        let query = link.split_once('?').map(|(_, q)| q).unwrap_or("");
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
        pairs
            .into_iter()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no token in {link}"))
    }
}
