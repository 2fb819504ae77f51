//! The `latchkey` binary: accounts from the command line, configuration
//! errors, and logs that never contain secrets.

use crate::support::*;
use reqwest::StatusCode;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_latchkey");

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}?mode=rwc", dir.path().join("l.db").display())
}

async fn run(args: &[&str], env: &[(&str, &str)], stdin: &str) -> (bool, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .env("LATCHKEY_LOG_FORMAT", "human")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).await.unwrap();
    let out = child.wait_with_output().await.unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn admin_create_reads_the_password_from_stdin_and_applies_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let key = dir.path().join("secret.key");
    let env = [("LATCHKEY_DATABASE_URL", url.as_str()), ("LATCHKEY_SECRET_KEY_FILE", key.to_str().unwrap())];
    let (ok, out) = run(&["admin", "create", "--username", "root", "--email", "root@example.com"], &env, "short\n").await;
    assert!(!ok);
    assert!(out.contains("at least 8 characters"), "{out}");
    // Threat: an administrator with a guessable password. The CLI applies
    // the same strength rule (zxcvbn >= 2) as the setup link and a change.
    let (ok, out) = run(&["admin", "create", "--username", "root", "--email", "root@example.com"], &env, "password123\n").await;
    assert!(!ok && out.contains("too easy to guess"), "{out}");
    let (ok, out) = run(&["admin", "create", "--username", "-bad", "--email", "root@example.com"], &env, "long enough\n").await;
    assert!(!ok && out.contains("--username"), "{out}");
    let (ok, out) = run(&["admin", "create", "--username", "Root", "--email", "root@example.com"], &env, "long enough pass\n").await;
    assert!(ok, "{out}");
    assert!(out.contains("Administrator root created"));
    assert!(!out.contains("long enough pass"), "the password is never echoed");
    let (ok, out) = run(&["user", "create", "--username", "root", "--email", "x@example.com"], &env, "long enough pass\n").await;
    assert!(!ok && out.contains("already taken"), "{out}");

    let db = domain::db::connect(&url).await.unwrap();
    let root = domain::users::find_by_login(&db, "root").await.unwrap().unwrap();
    assert!(root.is_admin);
    assert_eq!(domain::users::count(&db).await.unwrap(), 1);
}

#[tokio::test]
async fn bad_configuration_stops_start_up_naming_the_variable() {
    for (var, value) in [
        ("LATCHKEY_LISTEN", "not-an-address"),
        ("LATCHKEY_PUBLIC_URL", "ftp://example.com"),
        ("LATCHKEY_SESSION_IDLE", "forever"),
        ("LATCHKEY_PASSWORD_MIN_LENGTH", "3"),
        ("LATCHKEY_DATABASE_URL", "mysql://localhost/x"),
    ] {
        let (ok, out) = run(&[], &[(var, value)], "").await;
        assert!(!ok, "{var}={value} must stop start-up");
        assert!(out.contains(var), "{var}: {out}");
    }
}

/// Threat: secrets and personal data in logs. Passwords, session tokens,
/// cookies and email addresses never appear in the server's output, whatever
/// happens; failed sign-ins (unknown names included) are logged as events.
#[tokio::test]
async fn logs_never_contain_passwords_or_session_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://localhost:{port}");
    let listen = format!("127.0.0.1:{port}");
    let key = dir.path().join("secret.key");
    let outbox = dir.path().join("outbox");
    let env = [
        ("LATCHKEY_DATABASE_URL", url.as_str()),
        ("LATCHKEY_PUBLIC_URL", base.as_str()),
        ("LATCHKEY_LISTEN", listen.as_str()),
        ("LATCHKEY_SECRET_KEY_FILE", key.to_str().unwrap()),
        ("LATCHKEY_MAIL_OUTBOX", outbox.to_str().unwrap()),
    ];
    let password = "s3cret-Passphrase-for-logs";
    let (ok, _) = run(&["user", "create", "--username", "alice", "--email", "alice@example.com"], &env, &format!("{password}\n")).await;
    assert!(ok);

    let mut child = Command::new(BIN)
        .envs(env.iter().copied())
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let collected = std::sync::Arc::new(tokio::sync::Mutex::new(String::new()));
    let c1 = collected.clone();
    tokio::spawn(async move {
        while let Ok(Some(l)) = lines.next_line().await {
            c1.lock().await.push_str(&l);
        }
    });
    let c2 = collected.clone();
    tokio::spawn(async move {
        while let Ok(Some(l)) = stdout.next_line().await {
            c2.lock().await.push_str(&l);
        }
    });

    let client = reqwest::Client::builder().resolve("localhost", format!("127.0.0.1:{port}").parse().unwrap()).build().unwrap();
    let mut up = false;
    for _ in 0..100 {
        // Only the child's own "ready" line proves the port is its: another
        // test's server may have taken it after it was chosen above.
        if collected.lock().await.contains("Latchkey is ready") && client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "server started");
    let login = |pw: &'static str| {
        client.post(format!("{base}/api/auth/login")).header("Origin", &base).form(&[("identifier", "alice"), ("password", pw)]).send()
    };
    assert_eq!(login("wrong-Passphrase-for-logs").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let r = login("s3cret-Passphrase-for-logs").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let token = cookie_token(&session_cookie(&r).unwrap());
    let r = client
        .post(format!("{base}/api/account/me"))
        .header("Origin", &base)
        .header("Cookie", format!("latchkey_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // An unknown name (an address), and a reset link mailed to alice.
    let r = client
        .post(format!("{base}/api/auth/login"))
        .header("Origin", &base)
        .form(&[("identifier", "nobody@example.org"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = client.post(format!("{base}/api/recover/forgot")).header("Origin", &base).form(&[("identifier", "alice@example.com")]).send();
    assert_eq!(r.await.unwrap().status(), StatusCode::OK);
    let mut sent = false;
    for _ in 0..100 {
        if collected.lock().await.contains("mail sent") {
            sent = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(sent, "the reset mail went out");
    child.kill().await.ok();
    let logs = collected.lock().await.clone();
    assert!(logs.contains("signed in"), "the sign-in itself is logged");
    assert!(logs.contains("sign_in_failed") && logs.contains("unknown_account"), "failed sign-ins are security events");
    for secret in [password, "wrong-Passphrase-for-logs", token.as_str(), &domain::crypto::hash_token(&token)] {
        assert!(!logs.contains(secret), "a secret leaked into the logs");
    }
    for address in ["alice@example.com", "nobody@example.org"] {
        assert!(!logs.contains(address), "an email address leaked into the logs");
    }
}

/// One-shot commands build the same services as the server but must not
/// send (or take) mail the server queued: it would go out with the
/// command's settings, e.g. into the wrong outbox folder.
#[tokio::test]
async fn one_shot_commands_leave_queued_mail_alone() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let db = domain::db::connect(&url).await.unwrap();
    domain::db::migrate(&db).await.unwrap();
    let ctx = domain::Ctx::new(
        db.clone(),
        std::sync::Arc::new(domain::clock::SystemClock),
        domain::crypto::PasswordHasher::new(1),
        domain::Policy::default(),
        domain::keys::Keys::from_master(&domain::keys::Keys::generate_master()),
        domain::passkeys::relying_party("http://localhost:3000").unwrap(),
    );
    let message = domain::mail::compose("a@example.com", "Ada", "hello", &[], None, "Bye");
    domain::mail::enqueue(&db, &ctx, &message, ctx.now()).await.unwrap();
    let outbox = dir.path().join("outbox");
    let key = dir.path().join("secret.key");
    let env = [
        ("LATCHKEY_DATABASE_URL", url.as_str()),
        ("LATCHKEY_MAIL_OUTBOX", outbox.to_str().unwrap()),
        ("LATCHKEY_SECRET_KEY_FILE", key.to_str().unwrap()),
    ];
    let (ok, out) = run(&["user", "create", "--username", "bob", "--email", "bob@example.com"], &env, "long enough password\n").await;
    assert!(ok, "{out}");
    let rows = domain::mail::pending(&db).await.unwrap();
    assert_eq!((rows.len(), rows[0].attempts), (1, 0), "the command did not touch the queue");
    assert!(!outbox.exists());
}

/// `latchkey …` with `args`; (success, stdout, stderr).
async fn run_split(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = Command::new(BIN).args(args).envs(env.iter().copied()).env("LATCHKEY_LOG_FORMAT", "human").output().await.unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Threat: automation that registers a client with a loose redirect URI, or
/// a secret that can be read back later. The CLI applies the console's
/// rules, stores nothing when refused, and prints the secret only once.
#[tokio::test]
async fn app_commands_register_list_and_delete_clients_and_keys_rotate() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let key = dir.path().join("secret.key");
    let env = [
        ("LATCHKEY_DATABASE_URL", url.as_str()),
        ("LATCHKEY_SECRET_KEY_FILE", key.to_str().unwrap()),
        ("LATCHKEY_PUBLIC_URL", "https://id.example.com"),
    ];
    let (ok, _, err) =
        run_split(&["app", "create", "--name", "Wiki", "--redirect-uri", "http://wiki.example.com/cb", "--public", "--trusted"], &env)
            .await;
    assert!(!ok);
    assert!(err.contains("--redirect-uri: http://wiki.example.com/cb: use https://") && err.contains("--trusted:"), "{err}");
    let (ok, out, err) = run_split(&["app", "list"], &env).await;
    assert!(ok, "{err}");
    let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "only My Account: nothing was stored");

    let (ok, out, err) = run_split(
        &["app", "create", "--name", "Wiki", "--redirect-uri", "https://wiki.example.com/cb", "--scope", "openid", "--scope", "email"],
        &env,
    )
    .await;
    assert!(ok, "{err}");
    let created: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(created["client_type"], "confidential");
    assert_eq!(created["issuer"], "https://id.example.com");
    let secret = created["client_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 43, "256 bits");
    let (_, out, _) = run_split(&["app", "list"], &env).await;
    assert!(!out.contains(secret), "the secret is never shown again");
    let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
    let wiki = listed.as_array().unwrap().iter().find(|a| a["handle"] == "wiki").unwrap();
    assert_eq!(wiki["client_id"], created["client_id"]);
    assert_eq!(wiki["redirect_uris"][0], "https://wiki.example.com/cb");
    let db = domain::db::connect(&url).await.unwrap();
    let app = domain::apps::get(&db, "wiki").await.unwrap();
    assert_eq!(app.access_url, "https://wiki.example.com/", "Launch goes to the redirect URI's origin");

    let (ok, out, err) = run_split(&["keys", "rotate"], &env).await;
    assert!(ok, "{err}");
    let rotated: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rotated.as_array().unwrap().len(), 3);

    let (ok, _, err) = run_split(&["app", "delete", "--handle", "myaccount"], &env).await;
    assert!(!ok && err.contains("built in"), "{err}");
    let (ok, _, err) = run_split(&["app", "delete", "--handle", "nope"], &env).await;
    assert!(!ok && err.contains("--handle"), "{err}");
    let (ok, _, err) = run_split(&["app", "delete", "--handle", "wiki"], &env).await;
    assert!(ok, "{err}");
    assert!(domain::oidc::clients::by_client_id(&db, created["client_id"].as_str().unwrap()).await.unwrap().is_none());
}
