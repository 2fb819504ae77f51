//! Bad input on every server function: every registered function under
//! `/api/` gets garbage bodies (and forged cookies) from an anonymous caller,
//! a signed-in person and a signed-in administrator, and must answer each
//! with a client error and a message, never a server error, and keep
//! answering afterwards.

use crate::it_test_with;
use crate::security::{STEP, call, code, enrol_totp};
use crate::support::*;
use reqwest::header::{CONNECTION, CONTENT_TYPE, COOKIE, HeaderValue};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::sync::Semaphore;

const FORM: &str = "application/x-www-form-urlencoded";
/// Requests in flight at once: enough to keep the wall time short, few
/// enough not to turn the test into a load test.
const IN_FLIGHT: usize = 8;
/// A value just under the body limit, with room for the other arguments.
const HUGE: usize = 60 * 1024;

/// Every registered server function under `/api/` that takes a posted
/// body (the one GET function, Launch, gets its garbage as a query string
/// in `applications::launch_refuses_garbage`).
fn every_function() -> Vec<&'static str> {
    let mut paths: Vec<_> = leptos::server_fn::axum::server_fn_paths()
        .filter(|(p, m)| p.starts_with("/api/") && *m == http::Method::POST)
        .map(|(p, _)| p)
        .collect();
    paths.sort();
    paths.dedup();
    assert!(paths.len() > 40, "the registry lists the server functions: {paths:?}");
    paths
}

/// One garbage body.
struct Garbage {
    what: String,
    content_type: Option<&'static str>,
    bytes: Vec<u8>,
    /// Whether the bytes are readable form text. A function that takes no
    /// arguments (`/api/account/me`) rightly ignores such a body and does its
    /// job (2xx); a body that is not even text is refused by every function.
    readable: bool,
}

fn garbage(what: &str, content_type: Option<&'static str>, bytes: impl Into<Vec<u8>>, readable: bool) -> Garbage {
    Garbage { what: what.to_owned(), content_type, bytes: bytes.into(), readable }
}

/// Well-formed values for every argument of every function, so that a body
/// with one bad value gets past argument parsing to the function itself.
/// The sign-in name is `nobody-{tag}`: each body guesses at a name of its
/// own, so no body is merely slowed down by the guesses of the others.
fn well_formed(tag: usize) -> Vec<(String, String)> {
    let zero = "00000000-0000-0000-0000-000000000000";
    let mut form: Vec<(String, String)> = [
        ("enabled", "true"),
        ("base_version", "0"),
        ("version", "0"),
        ("definition", r#"{"steps":[{"options":["password"]}]}"#),
        ("password", "not the password"),
        ("next", "/myaccount"),
        ("method", "password"),
        ("code", "123456"),
        ("conditional", "false"),
        ("ceremony", zero),
        ("credential", "{}"),
        ("token", "not-a-token"),
        ("username", "mallory"),
        ("email", "mallory@example.com"),
        ("confirm", "not the password"),
        ("id", zero),
        ("secret", "not the password"),
        ("question1", "q"),
        ("answer1", "a"),
        ("question2", "q"),
        ("answer2", "a"),
        ("name", "Phone"),
        ("current", "not the password"),
        ("sign_out_others", "false"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    form.push(("identifier".into(), format!("nobody-{tag}")));
    for f in ["question1", "answer1", "question2", "answer2"] {
        form.push((format!("form[{f}]"), "x".into()));
    }
    for f in ["given_name", "family_name", "display_name", "email", "phone", "locale", "time_zone", "picture_url"] {
        form.push((format!("profile[{f}]"), String::new()));
    }
    form
}

/// Arguments that are not free text (switches, numbers, ids, choices).
fn is_typed(k: &str) -> bool {
    matches!(k, "enabled" | "base_version" | "version" | "conditional" | "sign_out_others" | "id" | "ceremony" | "method" | "next")
}

fn encode(form: &[(String, String)]) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish().into_bytes()
}

/// Reproducible noise (xorshift64), starting with bytes that are never UTF-8.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    out.extend_from_slice(&[0xff, 0xfe, 0x00, 0xc3]);
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out
}

fn garbage_bodies() -> Vec<Garbage> {
    let mut bodies = vec![
        garbage("empty body", Some(FORM), "", true),
        garbage("empty body, no content type", None, "", true),
        garbage(
            "wrong types",
            Some(FORM),
            "enabled=maybe&base_version=one&version=1e99&conditional=perhaps&sign_out_others=2&confirm_blocked=-1\
             &identifier[]=a&password[x]=b&next[]=c&method[]=d&code[]=e&ceremony[a][b]=f&credential[]=g&token[]=h\
             &username[]=i&email[]=j&confirm[]=k&id[]=l&secret[]=m&question1[]=n&answer1[]=o&question2[]=p&answer2[]=q\
             &name[]=r&current[]=s&definition[]=t&profile=5&form=6",
            true,
        ),
        garbage(
            "numbers out of range",
            Some(FORM),
            "enabled=1&base_version=99999999999999999999&version=-2147483649&confirm_blocked=18446744073709551616",
            true,
        ),
        garbage(
            "form nested past the parser's depth",
            Some(FORM),
            "a[b][c][d][e][f][g][h][i][j][k]=1&profile[given_name][x][y][z]=2",
            true,
        ),
        garbage("percent-encoded bytes that are not UTF-8", Some(FORM), "identifier=%FF%FE&password=%C3%28&profile[email]=%ED%A0%80", true),
        garbage("broken percent escapes", Some(FORM), "identifier=%&password=%G1%2&=&&==&%", true),
        garbage("bytes that are not UTF-8", Some(FORM), b"identifier=\xff\xfe&password=\xc3\x28".to_vec(), false),
        garbage("random binary, form type", Some(FORM), noise(4096, 0x9e37_79b9_7f4a_7c15), false),
        garbage("random binary", Some("application/octet-stream"), noise(4096, 0xdead_beef_cafe_f00d), false),
        garbage("deeply nested JSON", Some("application/json"), "[".repeat(10_000), true),
        garbage("deeply nested JSON objects", Some("application/json"), r#"{"a":"#.repeat(10_000), true),
        garbage(
            "JSON of the wrong shape",
            Some("application/json"),
            r#"{"identifier":["a"],"password":{"x":1},"enabled":"maybe","base_version":null,"profile":[1,2,3]}"#,
            true,
        ),
        garbage(
            "multipart with a bogus boundary",
            Some("multipart/form-data; boundary=x"),
            "--y\r\nContent-Disposition: form-data\r\n\r\n",
            true,
        ),
    ];
    let mut tag = 0;
    let mut base = || {
        tag += 1;
        well_formed(tag)
    };
    // JSON nested deeper than any parser should follow, in the arguments
    // that hold JSON (the login flow, passkey credentials).
    let nested: Vec<_> =
        base().into_iter().map(|(k, v)| if k == "definition" || k == "credential" { (k, "[".repeat(10_000)) } else { (k, v) }).collect();
    bodies.push(garbage("deeply nested JSON in the JSON arguments", Some(FORM), encode(&nested), true));
    // NUL and other control characters (PostgreSQL refuses a NUL in text):
    // in every argument, and in the text ones only, so that well-formed ids
    // and switches take the call further.
    let control = |v: String| format!("{v}\u{0}\u{1b}[2J\r\n\u{7f}");
    let everywhere: Vec<_> = base().into_iter().map(|(k, v)| (k, control(v))).collect();
    bodies.push(garbage("NUL and control characters in every argument", Some(FORM), encode(&everywhere), true));
    let in_text: Vec<_> = base().into_iter().map(|(k, v)| if is_typed(&k) { (k, v) } else { (k, control(v)) }).collect();
    bodies.push(garbage("NUL and control characters in the text arguments", Some(FORM), encode(&in_text), true));
    // Every free-text argument long, the whole just under the limit.
    let texts = base().iter().filter(|(k, _)| !is_typed(k)).count();
    let long: Vec<_> = base().into_iter().map(|(k, v)| if is_typed(&k) { (k, v) } else { (k, "x".repeat(HUGE / texts)) }).collect();
    bodies.push(garbage("every text argument long", Some(FORM), encode(&long), true));
    // One 60 KB value in each argument that reaches hashing, JSON parsing,
    // validation or the database.
    for field in ["identifier", "password", "secret", "definition", "credential", "name", "profile[given_name]"] {
        let form: Vec<_> = base().into_iter().map(|(k, v)| if k == field { (k, "x".repeat(HUGE)) } else { (k, v) }).collect();
        bodies.push(garbage(&format!("a 60 KB {field}"), Some(FORM), encode(&form), true));
    }
    bodies
}

/// Who calls: a browser-like client, and its session token if signed in.
#[derive(Clone)]
struct Caller {
    who: &'static str,
    client: Client,
    token: Option<String>,
}

async fn sign_in(app: &TestApp, who: &'static str) -> Caller {
    let client = app.client();
    let r = app.login(&client, who, TEST_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK, "sign-in of {who}");
    let token = cookie_token(&session_cookie(&r).expect("session cookie"));
    Caller { who, client, token: Some(token) }
}

/// One request to make.
struct Job {
    who: String,
    client: Client,
    path: &'static str,
    body: Arc<Garbage>,
    /// A `Cookie` header written by hand (forged cookies).
    cookie: Option<HeaderValue>,
}

/// One answer: who asked what, with which body, and what came back.
struct Answer {
    who: String,
    path: &'static str,
    what: String,
    readable: bool,
    status: Result<StatusCode, String>,
    body: String,
}

/// Makes every request, `IN_FLIGHT` at a time. Each comes from an address of
/// its own (`X-Forwarded-For`, which this server trusts), so per-IP flood
/// limits do not turn most sign-in calls into a 429 before their body is read.
async fn run(app: &TestApp, jobs: Vec<Job>, next_ip: &Arc<AtomicU32>) -> Vec<Answer> {
    let gate = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut tasks = tokio::task::JoinSet::new();
    for job in jobs {
        let (gate, n, url) = (gate.clone(), next_ip.fetch_add(1, Ordering::Relaxed), app.url(job.path));
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await.expect("semaphore");
            let g = &job.body;
            let ip = format!("10.{}.{}.{}", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
            // A fresh connection each time: a refused request may leave its
            // connection unusable, which is not the point here.
            let mut rb = job.client.post(url).header(CONNECTION, "close").header("x-forwarded-for", ip).body(g.bytes.clone());
            if let Some(ct) = g.content_type {
                rb = rb.header(CONTENT_TYPE, ct);
            }
            if let Some(cookie) = job.cookie {
                rb = rb.header(COOKIE, cookie);
            }
            let (status, body) = match rb.send().await {
                Ok(r) => {
                    let status = r.status();
                    (Ok(status), r.text().await.unwrap_or_else(|e| format!("<body unreadable: {e}>")))
                }
                Err(e) => (Err(e.to_string()), String::new()),
            };
            Answer { who: job.who, path: job.path, what: g.what.clone(), readable: g.readable, status, body }
        });
    }
    let mut answers = Vec::new();
    while let Some(a) = tasks.join_next().await {
        answers.push(a.expect("request task"));
    }
    answers
}

/// Every body to every path, as every caller.
fn jobs(callers: &[Caller], paths: &[&'static str], bodies: &[Arc<Garbage>]) -> Vec<Job> {
    let mut jobs = Vec::new();
    for c in callers {
        for &path in paths {
            for body in bodies {
                jobs.push(Job { who: c.who.into(), client: c.client.clone(), path, body: body.clone(), cookie: None });
            }
        }
    }
    jobs
}

/// What is wrong with an answer, if anything.
fn fault(a: &Answer) -> Option<String> {
    let status = match &a.status {
        Ok(s) => *s,
        Err(e) => return Some(format!("no answer: {e}")),
    };
    if status.is_server_error() {
        return Some(format!("{status}: {}", a.body.chars().take(300).collect::<String>()));
    }
    if a.body.trim().is_empty() {
        return Some(format!("{status} with an empty body (no message)"));
    }
    if status.is_client_error() || (a.readable && status.is_success()) {
        return None;
    }
    Some(format!("{status} (expected a client error{})", if a.readable { " or the function's normal answer" } else { "" }))
}

fn assert_no_faults(answers: &[Answer]) {
    let found: Vec<_> = answers.iter().filter_map(|a| fault(a).map(|f| format!("{} {} [{}]: {f}", a.who, a.path, a.what))).collect();
    assert!(found.is_empty(), "{} bad answers of {}:\n{}", found.len(), answers.len(), found.join("\n"));
}

/// Sends only a POST's head, declaring `length` body bytes (the server
/// refuses on the declared length alone and closes: sending the body could
/// meet a reset connection instead of the answer). Returns status and body.
async fn head_only_post(app: &TestApp, path: &str, token: Option<&str>, length: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.expect("connect");
    let cookie = token.map(|t| format!("Cookie: latchkey_session={t}\r\n")).unwrap_or_default();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\n{cookie}Content-Type: {FORM}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n",
        app.base.trim_start_matches("http://"),
        app.base
    );
    stream.write_all(head.as_bytes()).await.expect("write head");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read answer");
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.trim().to_owned()).unwrap_or_default();
    (status, body)
}

/// Session, half-finished sign-in and device cookies no server gave out.
fn forged_cookies() -> Vec<(String, HeaderValue)> {
    let values: Vec<(&str, Vec<u8>)> = vec![
        ("empty", b"".to_vec()),
        ("short", b"x".to_vec()),
        ("4 KB", vec![b'A'; 4096]),
        ("SQL", b"' OR '1'='1' --".to_vec()),
        ("percent-encoded NUL", b"%00%ff".to_vec()),
        ("path", b"..%2F..%2Fetc%2Fpasswd".to_vec()),
        ("token-like", b"dGhpcyBpcyBub3QgYSB0b2tlbiBidXQgbG9va3MgbGlrZSBvbmU".to_vec()),
        ("not UTF-8", b"\xe9\xff\xfe".to_vec()),
    ];
    let mut out = Vec::new();
    for name in ["latchkey_session", "latchkey_signin", "latchkey_device"] {
        for (what, value) in &values {
            let mut header = format!("{name}=").into_bytes();
            header.extend_from_slice(value);
            out.push((format!("{name} {what}"), HeaderValue::from_bytes(&header).expect("a header value")));
        }
    }
    out
}

/// Threat: a crafted request crashing a handler or leaking an internal error
/// (a 500 with a stack or SQL message), the first step of most attacks on
/// input handling, and a denial of service when it takes the server down.
/// Every server function, called by an anonymous caller, a signed-in person
/// and a signed-in administrator (with two factors), answers every garbage body (empty, wrong
/// types, numbers out of range, too deeply nested forms and JSON, bytes that
/// are not UTF-8, NUL and control characters, random binary, JSON of the
/// wrong shape, 60 KB values) and forged cookies with a client error and a
/// message; only a readable form that a function has no use for (it takes no
/// arguments) may get its normal answer. Bodies over the 64 KiB limit get
/// 413. Afterwards the server still answers.
async fn garbage_on_every_server_function_gets_a_client_error(app: TestApp) {
    app.user("alice", false).await;
    app.user("root", true).await;
    let anon = Caller { who: "anonymous", client: app.client(), token: None };
    let alice = sign_in(&app, "alice").await;
    // The administrator can make console changes (two factors, proved
    // recently), so garbage reaches the console's functions themselves.
    let root = sign_in(&app, "root").await;
    let secret = enrol_totp(&app, &root.client).await;
    app.advance(STEP);
    let (status, body) = call(&app, &root.client, "/api/reauth/confirm", &[("method", "totp"), ("secret", &code(&app, &secret, 0))]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let callers = [anon, alice.clone(), root.clone()];
    let bodies: Vec<Arc<Garbage>> = garbage_bodies().into_iter().map(Arc::new).collect();
    for g in &bodies {
        assert!(g.bytes.len() <= server::MAX_BODY_BYTES, "{}: {} bytes, over the limit", g.what, g.bytes.len());
    }
    let functions = every_function();
    let next_ip = Arc::new(AtomicU32::new(1));
    // Signing out last, so the other calls are made with a live session.
    let (last, first): (Vec<_>, Vec<_>) = functions.iter().partition(|p| **p == "/api/auth/logout");
    let mut answers = run(&app, jobs(&callers, &first, &bodies), &next_ip).await;
    for c in [&alice, &root] {
        assert!(is_signed_in(&app, &c.client).await, "{}: the garbage did not end the session", c.who);
    }
    answers.extend(run(&app, jobs(&callers, &last, &bodies), &next_ip).await);
    assert_eq!(answers.len(), callers.len() * functions.len() * bodies.len());
    assert_no_faults(&answers);

    // Every sign-in call got as far as its body: none was merely rate-limited.
    for a in answers.iter().filter(|a| a.path == "/api/auth/login") {
        assert_ne!(a.status, Ok(StatusCode::TOO_MANY_REQUESTS), "{} [{}]: {}", a.who, a.what, a.body);
    }
    // Wrong types in the arguments a function takes are refused before it runs.
    for (who, path) in [
        ("root", "/api/admin/application_enabled"),
        ("root", "/api/admin/login_flow_update"),
        ("root", "/api/admin/login_flow_restore"),
        ("alice", "/api/security/change_password"),
        ("anonymous", "/api/auth/login"),
        ("anonymous", "/api/auth/passkey_start"),
    ] {
        let a = answers.iter().find(|a| (a.who.as_str(), a.path, a.what.as_str()) == (who, path, "wrong types")).expect("asked");
        let body: Value = serde_json::from_str(&a.body).unwrap_or_default();
        assert_eq!(a.status, Ok(StatusCode::BAD_REQUEST), "{who} {path}: {}", a.body);
        assert!(body["Request"].is_string(), "{who} {path}: {}", a.body);
    }

    // Forged cookies, with a well-formed body, on the functions that read them.
    let readable = Arc::new(garbage("well-formed", Some(FORM), encode(&well_formed(0)), true));
    let (forger, mut forged) = (app.client(), Vec::new());
    for (what, cookie) in forged_cookies() {
        for path in [
            "/api/account/me",
            "/api/sessions/list",
            "/api/auth/pending_sign_in",
            "/api/auth/verify_sign_in",
            "/api/auth/passkey_step_start",
            "/api/auth/cancel_sign_in",
            "/api/auth/login",
            "/api/auth/logout",
        ] {
            let (who, client, body) = (format!("anonymous with {what}"), forger.clone(), readable.clone());
            forged.push(Job { who, client, path, body, cookie: Some(cookie.clone()) });
        }
    }
    assert_no_faults(&run(&app, forged, &next_ip).await);

    // Just over the limit: refused on the declared length, for every function.
    let mut tasks = tokio::task::JoinSet::new();
    let app = Arc::new(app);
    for c in &callers {
        for &path in &functions {
            let (app, token) = (app.clone(), c.token.clone());
            tasks.spawn(async move { (path, head_only_post(&app, path, token.as_deref(), server::body_limit(path) + 1).await) });
        }
    }
    while let Some(done) = tasks.join_next().await {
        let (path, (status, body)) = done.expect("request task");
        assert_eq!(status, 413, "{path}: {body}");
        assert!(!body.is_empty(), "{path}: a message");
    }

    let anon = app.client();
    let r = app.get(&anon, "/healthz").await;
    assert_eq!((r.status(), r.text().await.unwrap()), (StatusCode::OK, "ok".to_owned()), "still answering");
    assert_eq!(app.get(&anon, "/readyz").await.status(), StatusCode::OK, "and its database too");
    assert_eq!(app.get(&anon, "/login").await.status(), StatusCode::OK, "pages render");
}
it_test_with!(garbage_on_every_server_function_gets_a_client_error, |c| c.trust_proxy = true);
