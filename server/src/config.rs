//! Configuration: command-line flags or `LATCHKEY_*` environment variables.
//! The defaults run the two-command start (SQLite under `./data`, on
//! http://localhost:3000). A bad value stops start-up with a message naming it.

use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Clone, Debug)]
#[command(name = "latchkey", version, about = "Latchkey: a self-hosted identity server with a My Account portal")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Clone, Debug)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Manage administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Manage ordinary accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Register applications that sign people in with OpenID Connect.
    App {
        #[command(subcommand)]
        command: AppCommand,
    },
    /// Manage the ID token signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand, Clone, Debug)]
pub enum AppCommand {
    /// Register an application and its OpenID Connect client. Prints JSON
    /// with the client id and, for a confidential client, its secret: the
    /// only time the secret is shown.
    Create {
        #[arg(long)]
        name: String,
        /// An exact redirect URI (repeat for more).
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// An exact post-logout redirect URI (repeat for more).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// A public client (browser or native app): no secret, PKCE required.
        #[arg(long)]
        public: bool,
        /// First-party: people are not asked for consent (confidential only).
        #[arg(long)]
        trusted: bool,
        /// An allowed scope (repeat for more; default: openid profile email).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Where Launch in My Account goes (default: the first redirect URI's origin).
        #[arg(long)]
        access_url: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// Listed in My Account's Applications.
        #[arg(long)]
        discoverable: bool,
        /// ID token signing algorithm: RS256, ES256 or EdDSA.
        #[arg(long, default_value = "RS256")]
        id_token_alg: String,
    },
    /// List the applications and their client ids, as JSON.
    List,
    /// Delete an application (its client, login flow and logo with it).
    Delete {
        /// The application's handle, as `app list` shows it.
        #[arg(long)]
        handle: String,
    },
}

#[derive(Subcommand, Clone, Debug)]
pub enum KeysCommand {
    /// Add a new signing key for every algorithm. It is published at once
    /// and signs ten minutes later, once relying parties have refreshed
    /// their copy of the key set; the old keys stay published until the
    /// tokens they signed have expired.
    Rotate {
        /// Sign with the new keys at once (when an old key may have leaked).
        #[arg(long)]
        now: bool,
    },
}

#[derive(Subcommand, Clone, Debug)]
pub enum UserCommand {
    /// Create an account (not an administrator). The password is read as for
    /// `admin create`.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand, Clone, Debug)]
pub enum AdminCommand {
    /// Create an administrator. The password is read from the terminal (asked
    /// twice) or, when stdin is not a terminal, from its first line; never from
    /// an argument.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
    },
}

#[derive(Parser, Clone, Debug)]
pub struct Config {
    /// Database URL: `sqlite://path?mode=rwc` (embedded) or `postgres://user@host/db`.
    #[arg(long, env = "LATCHKEY_DATABASE_URL", default_value = "sqlite://data/latchkey.db?mode=rwc", value_parser = parse_database_url)]
    pub database_url: String,

    /// The origin people use to reach Latchkey; cookies, links and (later)
    /// WebAuthn derive from it. `https://` turns on Secure cookies and HSTS.
    #[arg(long, env = "LATCHKEY_PUBLIC_URL", default_value = "http://localhost:3000", value_parser = parse_public_url)]
    pub public_url: PublicUrl,

    /// Address and port to listen on.
    #[arg(long, env = "LATCHKEY_LISTEN", default_value = "127.0.0.1:3000", value_parser = parse_listen)]
    pub listen: SocketAddr,

    /// Address and port for Prometheus metrics (`GET /metrics`), e.g.
    /// `127.0.0.1:9464`; a listener of its own, never the public one. Unset
    /// (the default): no metrics.
    #[arg(long, env = "LATCHKEY_METRICS_LISTEN", value_parser = parse_metrics_listen)]
    pub metrics_listen: Option<SocketAddr>,

    /// Log format: `human` or `json`.
    #[arg(long, env = "LATCHKEY_LOG_FORMAT", default_value = "human", value_enum)]
    pub log_format: LogFormat,

    /// Folder with the built browser bundle (`pkg/`) and public files.
    #[arg(long, env = "LATCHKEY_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Shortest password accepted (8 to 64).
    #[arg(long, env = "LATCHKEY_PASSWORD_MIN_LENGTH", default_value_t = 8, value_parser = parse_min_length)]
    pub password_min_length: usize,

    /// A session ends after this long without activity, e.g. `30m`.
    #[arg(long, env = "LATCHKEY_SESSION_IDLE", default_value = "30m", value_parser = parse_session_idle)]
    pub session_idle: Duration,

    /// A session ends this long after sign-in whatever happens, e.g. `10h`.
    #[arg(long, env = "LATCHKEY_SESSION_MAX", default_value = "10h", value_parser = parse_session_max)]
    pub session_max: Duration,

    /// Sensitive changes (second factors, passkeys) need a sign-in proof at most this old, e.g. `5m`.
    #[arg(long, env = "LATCHKEY_REAUTH_WINDOW", default_value = "5m", value_parser = parse_reauth_window)]
    pub reauth_window: Duration,

    /// Most password hashes computed at once (default: the number of CPU cores).
    #[arg(long, env = "LATCHKEY_HASH_CONCURRENCY", value_parser = parse_hash_concurrency)]
    pub hash_concurrency: Option<usize>,

    /// File holding the server key (base64, 32 bytes) that encrypts secrets at
    /// rest; created with mode 0600 on first start. Back it up with the database.
    #[arg(long, env = "LATCHKEY_SECRET_KEY_FILE", default_value = "data/secret.key")]
    pub secret_key_file: PathBuf,

    /// The server key itself (base64), instead of the file.
    #[arg(long, env = "LATCHKEY_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// Take the client IP from the last `X-Forwarded-For` hop (only behind a
    /// reverse proxy that sets it).
    #[arg(long, env = "LATCHKEY_TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,

    /// SMTP server for outgoing mail. Unset: each message is written as an
    /// `.eml` file under LATCHKEY_MAIL_OUTBOX instead (and its path logged).
    #[arg(long, env = "LATCHKEY_SMTP_HOST")]
    pub smtp_host: Option<String>,

    /// SMTP port (587 for STARTTLS, 465 for TLS, 25 for a local relay).
    #[arg(long, env = "LATCHKEY_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,

    /// How the SMTP connection is secured: `starttls`, `tls` or `none`
    /// (plain text; only for a relay on the same host).
    #[arg(long, env = "LATCHKEY_SMTP_TLS", default_value = "starttls", value_enum)]
    pub smtp_tls: SmtpTls,

    /// SMTP user name, if the server wants one.
    #[arg(long, env = "LATCHKEY_SMTP_USERNAME")]
    pub smtp_username: Option<String>,

    /// SMTP password.
    #[arg(long, env = "LATCHKEY_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,

    /// The sender of every message, e.g. `Latchkey <no-reply@id.example.com>`.
    #[arg(long, env = "LATCHKEY_MAIL_FROM", default_value = "Latchkey <no-reply@localhost>")]
    pub mail_from: String,

    /// Folder for `.eml` files when no SMTP server is set.
    #[arg(long, env = "LATCHKEY_MAIL_OUTBOX", default_value = "data/outbox")]
    pub mail_outbox: PathBuf,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    Starttls,
    Tls,
    None,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// A validated public origin, e.g. `https://id.example.com`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl {
    /// `scheme://host[:port]`, no trailing slash.
    pub origin: String,
    pub https: bool,
    pub host: String,
}

fn parse_public_url(s: &str) -> Result<PublicUrl, String> {
    let err = |why: &str| format!("LATCHKEY_PUBLIC_URL must be an origin like https://id.example.com ({why})");
    let url = url::Url::parse(s).map_err(|e| err(&e.to_string()))?;
    let https = match url.scheme() {
        "https" => true,
        "http" => false,
        _ => return Err(err("scheme must be http or https")),
    };
    let host = url.host_str().ok_or_else(|| err("no host"))?.to_owned();
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(err("no path, query or credentials"));
    }
    let origin = url.origin().ascii_serialization();
    Ok(PublicUrl { origin, https, host })
}

fn parse_database_url(s: &str) -> Result<String, String> {
    if s.starts_with("sqlite:") || s.starts_with("postgres://") || s.starts_with("postgresql://") {
        Ok(s.to_owned())
    } else {
        Err("LATCHKEY_DATABASE_URL must start with sqlite: or postgres://".into())
    }
}

fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    s.parse().map_err(|_| format!("LATCHKEY_LISTEN must be an address and port like 127.0.0.1:3000, not {s:?}"))
}

fn parse_metrics_listen(s: &str) -> Result<SocketAddr, String> {
    s.parse().map_err(|_| format!("LATCHKEY_METRICS_LISTEN must be an address and port like 127.0.0.1:9464, not {s:?}"))
}

fn parse_min_length(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (8..=64).contains(&n) => Ok(n),
        _ => Err("LATCHKEY_PASSWORD_MIN_LENGTH must be a whole number from 8 to 64".into()),
    }
}

fn parse_duration(var: &str, s: &str, min: Duration) -> Result<Duration, String> {
    match humantime::parse_duration(s) {
        Ok(d) if d >= min => Ok(d),
        Ok(_) => Err(format!("{var} must be at least {}", humantime::format_duration(min))),
        Err(e) => Err(format!("{var} must be a duration like 30m or 10h ({e})")),
    }
}

fn parse_session_idle(s: &str) -> Result<Duration, String> {
    parse_duration("LATCHKEY_SESSION_IDLE", s, Duration::from_secs(60))
}

fn parse_session_max(s: &str) -> Result<Duration, String> {
    parse_duration("LATCHKEY_SESSION_MAX", s, Duration::from_secs(60))
}

fn parse_reauth_window(s: &str) -> Result<Duration, String> {
    parse_duration("LATCHKEY_REAUTH_WINDOW", s, Duration::from_secs(30))
}

fn parse_hash_concurrency(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=256).contains(&n) => Ok(n),
        _ => Err("LATCHKEY_HASH_CONCURRENCY must be a whole number from 1 to 256".into()),
    }
}

impl Config {
    /// A configuration for tests: its own database and origin, defaults otherwise.
    pub fn for_test(database_url: &str, public_url: &str, listen: SocketAddr) -> Self {
        Self {
            database_url: database_url.to_owned(),
            #[allow(clippy::expect_used)] // test helper with a URL the test built
            public_url: parse_public_url(public_url).expect("valid test public URL"),
            listen,
            metrics_listen: None,
            log_format: LogFormat::Human,
            site_root: PathBuf::from("target/site"),
            password_min_length: 8,
            session_idle: Duration::from_secs(30 * 60),
            session_max: Duration::from_secs(10 * 3600),
            reauth_window: Duration::from_secs(5 * 60),
            hash_concurrency: Some(2),
            // Never under the working directory: a test must not leave a key
            // (or mail) in the source tree.
            secret_key_file: std::env::temp_dir().join("latchkey-test-unused.key"),
            secret_key: Some(base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                domain::keys::Keys::generate_master().as_slice(),
            )),
            trust_proxy: false,
            smtp_host: None,
            smtp_port: 25,
            smtp_tls: SmtpTls::None,
            smtp_username: None,
            smtp_password: None,
            mail_from: "Latchkey <no-reply@localhost>".into(),
            mail_outbox: std::env::temp_dir().join("latchkey-test-outbox"),
        }
    }

    /// Where mail goes: the SMTP server, or the outbox folder.
    pub fn mail_sender(&self) -> Result<domain::mail::Sender, String> {
        use domain::mail::{Sender, SmtpSettings, Tls, Transport};
        let transport = match &self.smtp_host {
            Some(host) => Sender::smtp(&SmtpSettings {
                host: host.clone(),
                port: self.smtp_port,
                tls: match self.smtp_tls {
                    SmtpTls::Starttls => Tls::StartTls,
                    SmtpTls::Tls => Tls::Implicit,
                    SmtpTls::None => Tls::None,
                },
                username: self.smtp_username.clone(),
                password: self.smtp_password.clone(),
            })
            .map_err(|e| format!("LATCHKEY_SMTP_HOST: {e}"))?,
            None => Transport::Outbox(self.mail_outbox.clone()),
        };
        Sender::new(&self.mail_from, transport).map_err(|e| format!("LATCHKEY_MAIL_FROM: {e}"))
    }

    /// The server key, from `LATCHKEY_SECRET_KEY` or the key file (created
    /// on first use).
    pub fn keys(&self) -> Result<domain::keys::Keys, String> {
        match &self.secret_key {
            Some(text) => domain::keys::Keys::from_base64(text).map_err(|e| format!("LATCHKEY_SECRET_KEY: {e}")),
            None => {
                let (keys, created) = domain::keys::Keys::load_or_create(&self.secret_key_file)
                    .map_err(|e| format!("LATCHKEY_SECRET_KEY_FILE ({}): {e}", self.secret_key_file.display()))?;
                if created {
                    tracing::warn!(path = %self.secret_key_file.display(), "created a new server key; back it up with the database");
                }
                Ok(keys)
            }
        }
    }

    pub fn policy(&self) -> domain::Policy {
        domain::Policy {
            password_min_length: self.password_min_length,
            session_idle: self.session_idle,
            session_max: self.session_max.max(self.session_idle),
            reauth_window: self.reauth_window,
            ..domain::Policy::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse() {
        let cli = Cli::try_parse_from(["latchkey"]).unwrap();
        assert_eq!(cli.config.public_url.origin, "http://localhost:3000");
        assert!(!cli.config.public_url.https);
        assert_eq!(cli.config.listen, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(cli.config.metrics_listen, None, "metrics are off unless asked for");
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (flag, value, var) in [
            ("--public-url", "ftp://x", "LATCHKEY_PUBLIC_URL"),
            ("--public-url", "https://x.example/path", "LATCHKEY_PUBLIC_URL"),
            ("--listen", "nowhere", "LATCHKEY_LISTEN"),
            ("--metrics-listen", "9464", "LATCHKEY_METRICS_LISTEN"),
            ("--database-url", "mysql://x", "LATCHKEY_DATABASE_URL"),
            ("--password-min-length", "4", "LATCHKEY_PASSWORD_MIN_LENGTH"),
            ("--session-idle", "soon", "LATCHKEY_SESSION_IDLE"),
        ] {
            let err = Cli::try_parse_from(["latchkey", flag, value]).unwrap_err().to_string();
            assert!(err.contains(var), "{flag} {value}: {err}");
        }
    }

    #[test]
    fn https_origin() {
        let u = parse_public_url("https://id.example.com").unwrap();
        assert_eq!((u.origin.as_str(), u.https, u.host.as_str()), ("https://id.example.com", true, "id.example.com"));
    }
}
