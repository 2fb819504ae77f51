//! A real SMTP listener on loopback for the tests: it speaks enough SMTP for
//! lettre (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and keeps every message.
#![allow(dead_code)]

use base64::Engine as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as it arrived.
#[derive(Clone, Debug)]
pub struct Received {
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_lowercase());
        self.data
            .lines()
            .take_while(|l| !l.is_empty())
            .find(|l| l.to_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
    }

    pub fn subject(&self) -> String {
        self.header("Subject").unwrap_or_default()
    }

    /// The decoded body of the `text/plain` (or `text/html`) part.
    pub fn part(&self, kind: &str) -> String {
        let start = self.data.find(&format!("Content-Type: {kind}")).unwrap_or_else(|| panic!("no {kind} part in {}", self.data));
        let rest = &self.data[start..];
        let body_start = rest.find("\r\n\r\n").expect("part body") + 4;
        let body: String = rest[body_start..].lines().take_while(|l| !l.starts_with("--")).collect::<Vec<_>>().concat();
        let bytes = base64::engine::general_purpose::STANDARD.decode(body.trim()).expect("base64 part");
        String::from_utf8(bytes).expect("utf-8 part")
    }

    pub fn text(&self) -> String {
        self.part("text/plain")
    }

    /// The token of the first link to `path` in the text part.
    pub fn token(&self, path: &str) -> String {
        let text = self.text();
        let marker = format!("{path}?token=");
        let at = text.find(&marker).unwrap_or_else(|| panic!("no {marker} link in {text}")) + marker.len();
        text[at..].split_whitespace().next().expect("token").to_owned()
    }
}

pub struct MailSink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    /// While set, every connection is greeted with 421 (service not
    /// available) and closed, as a server that is down would answer.
    refusing: Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MailSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MailSink {
    pub async fn start() -> Self {
        Self::on(TcpListener::bind("127.0.0.1:0").await.expect("bind smtp")).await
    }

    /// A sink that refuses every message until `accept` is called; it keeps
    /// its port the whole time, so no other socket can take it meanwhile.
    pub async fn refusing() -> Self {
        let sink = Self::start().await;
        sink.refusing.store(true, std::sync::atomic::Ordering::SeqCst);
        sink
    }

    pub fn accept(&self) {
        self.refusing.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    async fn on(listener: TcpListener) -> Self {
        let addr = listener.local_addr().expect("smtp addr");
        let received = Arc::new(Mutex::new(Vec::new()));
        let refusing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (store, refuse) = (received.clone(), refusing.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                if refuse.load(std::sync::atomic::Ordering::SeqCst) {
                    let _ = socket.write_all(b"421 sink.test service not available\r\n").await;
                    continue;
                }
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = session(socket, store).await;
                });
            }
        });
        Self { addr, received, refusing, task }
    }

    pub fn all(&self) -> Vec<Received> {
        self.received.lock().expect("sink").clone()
    }

    /// Every message to `to` whose subject contains `subject`.
    pub fn matching(&self, to: &str, subject: &str) -> Vec<Received> {
        self.all().into_iter().filter(|m| m.to.iter().any(|t| t == to) && m.subject().contains(subject)).collect()
    }

    /// Waits (up to 15 s) until `count` such messages arrived; returns the newest.
    pub async fn wait_n(&self, to: &str, subject: &str, count: usize) -> Received {
        for _ in 0..300 {
            let found = self.matching(to, subject);
            if found.len() >= count {
                return found.last().cloned().expect("a message");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no mail {count} to {to} about {subject:?}; got {:?}",
            self.all().iter().map(|m| (m.to.clone(), m.subject())).collect::<Vec<_>>()
        );
    }

    pub async fn wait_for(&self, to: &str, subject: &str) -> Received {
        self.wait_n(to, subject, 1).await
    }
}

async fn session(socket: tokio::net::TcpStream, store: Arc<Mutex<Vec<Received>>>) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.to_uppercase();
        if upper.starts_with("EHLO") {
            write.write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n").await?;
        } else if upper.starts_with("HELO") || upper.starts_with("MAIL FROM") || upper.starts_with("NOOP") {
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RSET") {
            to.clear();
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO") {
            let addr = line.trim()[8..].trim().trim_start_matches('<').trim_end_matches('>').to_owned();
            to.push(addr);
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("DATA") {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line));
            }
            store.lock().expect("sink").push(Received { to: std::mem::take(&mut to), data });
            write.write_all(b"250 OK queued\r\n").await?;
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"502 not implemented\r\n").await?;
        }
    }
}
