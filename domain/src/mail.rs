//! Outgoing mail. Services write messages into the `mail_outbox` table in
//! the same transaction as the change they report, so a message exists if and
//! only if the change committed; [`run`] sends them afterwards, never on the
//! request's path, and retries failures with back-off.
//!
//! ```text
//!  service ──► txn { change; enqueue(sealed message) } ──► commit ──► wake()
//!  worker  ──► claim due row (attempts+1, lease) ──► SMTP or .eml file
//!                 ├─ ok     → delete row
//!                 └─ failed → next_attempt_at = now + back-off (30 s … 1 h);
//!                             after MAX_ATTEMPTS: failed_at set, logged as an error
//! ```
//! Bodies hold live links, so they are sealed with the server key at rest.

use chrono::{DateTime, Utc};
use entity::mail_outbox;
use entity::prelude::*;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;
use uuid::Uuid;

use crate::{Ctx, Error, Result};

/// The part of an address after `@`: enough to tell which mail system
/// refused, without writing the address into the logs.
fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

/// The product name every message carries.
pub const PRODUCT: &str = "Latchkey";

/// Sends give up after this many attempts (about a day of retrying).
pub const MAX_ATTEMPTS: i32 = 30;

/// How long a sender may work on a message before another may take it over.
const LEASE: Duration = Duration::from_secs(5 * 60);

/// A message to send: plain text and HTML with the same content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Writes `message` into the outbox. Call inside the transaction of the
/// change it reports, then [`wake`] after the commit.
pub async fn enqueue(db: &impl ConnectionTrait, ctx: &Ctx, message: &Message, now: DateTime<Utc>) -> Result<()> {
    let json = serde_json::to_vec(message).map_err(|e| Error::Internal(format!("mail: {e}")))?;
    mail_outbox::ActiveModel {
        id: Set(Uuid::now_v7()),
        to_address: Set(message.to.clone()),
        subject: Set(message.subject.chars().take(200).collect()),
        sealed: Set(ctx.keys.seal(&json, "mail")?.into()),
        attempts: Set(0),
        created_at: Set(now),
        next_attempt_at: Set(now),
        failed_at: Set(None),
        last_error: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Tells the sender that new mail is waiting (after a commit).
pub fn wake(ctx: &Ctx) {
    ctx.mail_wake.notify_one();
}

/// Where mail goes.
pub enum Transport {
    /// An SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in a folder (no SMTP server configured).
    Outbox(PathBuf),
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tls {
    /// Plain text (a relay on the same host or a test listener only).
    None,
    /// STARTTLS upgrade, usually port 587.
    StartTls,
    /// TLS from the first byte, usually port 465.
    Implicit,
}

/// SMTP settings from the configuration.
#[derive(Clone, Debug)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// Sends messages from one sender address over one transport.
pub struct Sender {
    from: Mailbox,
    transport: Transport,
}

impl Sender {
    pub fn new(from: &str, transport: Transport) -> Result<Self> {
        let from = from.parse::<Mailbox>().map_err(|e| Error::Internal(format!("the sender address {from:?} is not valid: {e}")))?;
        Ok(Self { from, transport })
    }

    pub fn smtp(settings: &SmtpSettings) -> Result<Transport> {
        let bad = |e: lettre::transport::smtp::Error| Error::Internal(format!("SMTP host {}: {e}", settings.host));
        let mut b = match settings.tls {
            Tls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host),
            Tls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host).map_err(bad)?,
            Tls::Implicit => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host).map_err(bad)?,
        }
        .port(settings.port)
        .timeout(Some(Duration::from_secs(20)));
        if let (Some(u), Some(p)) = (&settings.username, &settings.password) {
            b = b.credentials(lettre::transport::smtp::authentication::Credentials::new(u.clone(), p.clone()));
        }
        Ok(Transport::Smtp(b.build()))
    }

    fn build(&self, m: &Message) -> std::result::Result<lettre::Message, String> {
        let to = m.to.parse::<Mailbox>().map_err(|e| format!("recipient: {e}"))?;
        // Base64 parts: links are never folded or escaped by the transfer encoding.
        let part = |kind: ContentType, body: &str| {
            SinglePart::builder().header(kind).header(ContentTransferEncoding::Base64).body(body.to_owned())
        };
        lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&m.subject)
            .header(AutoSubmitted)
            .multipart(
                MultiPart::alternative()
                    .singlepart(part(ContentType::TEXT_PLAIN, &m.text))
                    .singlepart(part(ContentType::TEXT_HTML, &m.html)),
            )
            .map_err(|e| format!("building the message: {e}"))
    }

    /// Sends one message; returns where it went (for the log).
    pub async fn send(&self, m: &Message, id: Uuid) -> std::result::Result<String, String> {
        let email = self.build(m)?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp.send(email).await.map(|_| "smtp".to_owned()).map_err(|e| format!("SMTP: {e}")),
            Transport::Outbox(dir) => {
                let path = dir.join(format!("{}.eml", id.simple()));
                let bytes = email.formatted();
                let dir = dir.clone();
                let target = path.clone();
                tokio::task::spawn_blocking(move || write_private(&dir, &target, &bytes))
                    .await
                    .map_err(|e| format!("outbox: {e}"))?
                    .map_err(|e| format!("outbox {}: {e}", path.display()))?;
                Ok(path.display().to_string())
            }
        }
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): no auto-replies to these.
#[derive(Clone)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> std::result::Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// Messages hold live links: readable by Latchkey's user only.
fn write_private(dir: &std::path::Path, path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    crate::keys::write_private(path, bytes)
}

/// The wait before attempt `n + 1` after `n` failed ones: 30 s doubling to 1 h.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 8) as u32 - 1;
    Duration::from_secs(30u64.saturating_mul(1 << exp)).min(Duration::from_secs(3600))
}

/// Sends every message that is due; returns how many were sent.
pub async fn deliver_due(ctx: &Ctx, sender: &Sender) -> Result<usize> {
    let now = ctx.now();
    let due = MailOutbox::find()
        .filter(mail_outbox::Column::FailedAt.is_null())
        .filter(mail_outbox::Column::NextAttemptAt.lte(now))
        .order_by_asc(mail_outbox::Column::NextAttemptAt)
        .limit(50)
        .all(&ctx.db)
        .await?;
    let mut sent = 0;
    for row in due {
        // Claim it: only one sender (of any instance) wins the attempt.
        let claimed = MailOutbox::update_many()
            .col_expr(mail_outbox::Column::Attempts, sea_orm::sea_query::Expr::value(row.attempts + 1))
            .col_expr(mail_outbox::Column::NextAttemptAt, sea_orm::sea_query::Expr::value(crate::clock::after(now, LEASE)))
            .filter(mail_outbox::Column::Id.eq(row.id))
            .filter(mail_outbox::Column::Attempts.eq(row.attempts))
            .exec(&ctx.db)
            .await?;
        if claimed.rows_affected != 1 {
            continue;
        }
        let attempts = row.attempts + 1;
        let outcome = match ctx.keys.open(row.sealed.expose(), "mail") {
            Ok(json) => match serde_json::from_slice::<Message>(&json) {
                Ok(m) => sender.send(&m, row.id).await,
                Err(e) => Err(format!("stored message unreadable: {e}")),
            },
            Err(e) => Err(e.to_string()),
        };
        match outcome {
            Ok(place) => {
                MailOutbox::delete_by_id(row.id).exec(&ctx.db).await?;
                tracing::info!(mail = %row.id, to_domain = %domain_of(&row.to_address), subject = %row.subject, via = %place, "mail sent");
                sent += 1;
            }
            Err(error) => {
                crate::metrics::mail_failed();
                let error: String = error.chars().take(500).collect();
                // The claim already counted the attempt.
                let mut active: mail_outbox::ActiveModel = row.clone().into();
                active.last_error = Set(Some(error.clone()));
                if attempts >= MAX_ATTEMPTS {
                    active.failed_at = Set(Some(now));
                    tracing::error!(mail = %row.id, to_domain = %domain_of(&row.to_address), attempts, %error, "mail could not be sent; giving up");
                } else {
                    let wait = backoff(attempts);
                    active.next_attempt_at = Set(crate::clock::after(now, wait));
                    tracing::warn!(mail = %row.id, to_domain = %domain_of(&row.to_address), attempts, retry_in_s = wait.as_secs(), %error, "mail not sent; will retry");
                }
                active.update(&ctx.db).await?;
            }
        }
    }
    Ok(sent)
}

/// The sender's loop: sends due mail when woken and every few seconds.
pub async fn run(ctx: Ctx, sender: Sender) {
    loop {
        match deliver_due(&ctx, &sender).await {
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "the mail sender could not read the outbox; retrying"),
        }
        tokio::select! {
            _ = ctx.mail_wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
    }
}

/// Messages still waiting (for tests and the operator).
pub async fn pending(db: &impl ConnectionTrait) -> Result<Vec<mail_outbox::Model>> {
    Ok(MailOutbox::find().order_by_asc(mail_outbox::Column::CreatedAt).order_by_asc(mail_outbox::Column::Id).all(db).await?)
}

/// How many messages wait to be sent (not given up on), in one query.
pub async fn count_pending(db: &impl ConnectionTrait) -> Result<u64> {
    Ok(MailOutbox::find().filter(mail_outbox::Column::FailedAt.is_null()).count(db).await?)
}

/// Text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A message in the house style: a greeting, paragraphs, an optional button
/// (with the link also written out), and a closing line.
pub fn compose(to: &str, name: &str, subject: &str, paragraphs: &[String], action: Option<(&str, &str)>, closing: &str) -> Message {
    let mut text = format!("Hello {name},\n\n");
    let mut html = format!(
        "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;line-height:1.5;color:#1f2328\">\
         <p style=\"font-weight:600\">{PRODUCT}</p><p>Hello {},</p>",
        escape(name)
    );
    for p in paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>", escape(p)));
    }
    if let Some((label, url)) = action {
        text.push_str(&format!("{label}:\n{url}\n\n"));
        html.push_str(&format!(
            "<p><a href=\"{u}\" style=\"display:inline-block;padding:10px 16px;background:#0b57d0;color:#fff;text-decoration:none;border-radius:6px\">{l}</a></p>\
             <p style=\"font-size:13px;color:#59636e\">Or copy this link into your browser:<br>{u}</p>",
            u = escape(url),
            l = escape(label)
        ));
    }
    text.push_str(closing);
    text.push_str(&format!("\n\n— {PRODUCT}\n"));
    html.push_str(&format!("<p style=\"font-size:13px;color:#59636e\">{}</p><p>— {PRODUCT}</p></body></html>", escape(closing)));
    Message { to: to.to_owned(), subject: format!("{PRODUCT}: {subject}"), text, html }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, TestDb};

    #[test]
    fn back_off_doubles_from_thirty_seconds_to_an_hour() {
        assert_eq!(backoff(1), Duration::from_secs(30));
        assert_eq!(backoff(2), Duration::from_secs(60));
        assert_eq!(backoff(8), Duration::from_secs(3600));
        assert_eq!(backoff(30), Duration::from_secs(3600));
    }

    #[test]
    fn messages_carry_the_product_the_link_and_escape_html() {
        let m = compose("a@example.com", "<Ada>", "Check", &["Line & more".into()], Some(("Open", "https://x.example/a?t=1&b")), "Bye");
        assert_eq!(m.subject, "Latchkey: Check");
        assert!(m.text.contains("https://x.example/a?t=1&b") && m.text.contains("Hello <Ada>"));
        assert!(m.html.contains("&lt;Ada&gt;") && m.html.contains("Line &amp; more") && m.html.contains("t=1&amp;b"));
        assert!(!m.html.contains("<Ada>"));
    }

    /// Threat: a copy of the database leaking live links. Bodies are sealed.
    async fn queued_mail_is_sealed_and_written_to_the_outbox_once(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let m = compose("a@example.com", "Ada", "Hi", &["secret-link-token".into()], None, "Bye");
        enqueue(&ctx.db, &ctx, &m, now).await.unwrap();
        let rows = pending(&ctx.db).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert!(!rows[0].sealed.expose().contains("secret-link-token"));
        let dir = tempfile::tempdir().unwrap();
        let sender = Sender::new("Latchkey <no-reply@example.com>", Transport::Outbox(dir.path().to_path_buf())).unwrap();
        assert_eq!(deliver_due(&ctx, &sender).await.unwrap(), 1);
        assert!(pending(&ctx.db).await.unwrap().is_empty());
        assert_eq!(deliver_due(&ctx, &sender).await.unwrap(), 0, "sent once");
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 1);
        let raw = std::fs::read_to_string(&files[0]).unwrap();
        assert!(raw.contains("Subject: Latchkey: Hi") && raw.contains("multipart/alternative"), "{raw}");
    }
    crate::db_test!(queued_mail_is_sealed_and_written_to_the_outbox_once);

    /// A failed send is kept and retried later, never dropped silently.
    async fn failed_sends_are_retried_with_back_off(t: TestDb) {
        let ctx = t.ctx();
        let now = ctx.now();
        enqueue(&ctx.db, &ctx, &compose("a@example.com", "Ada", "Hi", &[], None, "Bye"), now).await.unwrap();
        // An outbox inside a file cannot be written.
        let file = tempfile::NamedTempFile::new().unwrap();
        let broken = Sender::new("no-reply@example.com", Transport::Outbox(file.path().join("sub"))).unwrap();
        assert_eq!(deliver_due(&ctx, &broken).await.unwrap(), 0);
        let row = &pending(&ctx.db).await.unwrap()[0];
        assert_eq!(row.attempts, 1);
        assert!(row.last_error.is_some() && row.failed_at.is_none());
        assert!(row.next_attempt_at > now, "waits before retrying");
    }
    crate::db_test!(failed_sends_are_retried_with_back_off);
}
