//! The HTTP edge: security headers, cross-site refusal, bad input, health.

use crate::it_test;
use crate::support::*;
use reqwest::StatusCode;

/// The page at `path` as `c` gets it: its headers, its body, and the CSP
/// nonce, checked to be on every script of the page.
async fn page_with_nonce(app: &TestApp, c: &reqwest::Client, path: &str) -> (reqwest::header::HeaderMap, String) {
    let r = app.get(c, path).await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap().to_owned();
    let body = r.text().await.unwrap();
    let nonce = csp.split("'nonce-").nth(1).and_then(|s| s.split('\'').next()).unwrap();
    assert!(body.contains(&format!(r#"nonce="{nonce}""#)), "{path}: its script carries the header's nonce");
    let scripts = body.matches("<script").count();
    assert_eq!(scripts, body.matches(&format!(r#"nonce="{nonce}""#)).count(), "{path}: no script without the nonce");
    (h, body)
}

async fn html_pages_carry_a_nonce_csp_and_security_headers(app: TestApp) {
    let c = app.client();
    // A page with the app, and a sign-in page, which loads one small script instead.
    let (_, with_app) = page_with_nonce(&app, &c, "/forgot-password").await;
    assert!(with_app.contains("/pkg/frontend.js") && !with_app.contains("/pkg/signin.js"));
    let (h, body) = page_with_nonce(&app, &c, "/login").await;
    assert!(body.contains("/pkg/signin.js") && !body.contains("/pkg/frontend.js"), "the sign-in page loads no app");
    let csp = h["content-security-policy"].to_str().unwrap().to_owned();
    for part in
        ["default-src 'none'", "script-src 'self'", "'wasm-unsafe-eval'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"]
    {
        assert!(csp.contains(part), "{part} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cache-control"], "no-store");
    assert!(h.get("strict-transport-security").is_none(), "no HSTS on plain http");
    // A new nonce for every response.
    let again = app.get(&c, "/login").await;
    assert_ne!(again.headers()["content-security-policy"], h["content-security-policy"]);
}
it_test!(html_pages_carry_a_nonce_csp_and_security_headers);

async fn https_origins_get_hsts_and_host_prefixed_secure_cookies(_: TestApp) {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        let port = c.listen.port();
        c.public_url = clap_parse_public_url(&format!("https://localhost:{port}"));
    })
    .await
    .unwrap();
    app.user("alice", false).await;
    let c = app.bare_client();
    let r = c.get(app.url("/login")).send().await.unwrap();
    assert_eq!(r.headers()["strict-transport-security"], "max-age=63072000; includeSubDomains");
    let origin = app.base.replace("http://", "https://");
    let r = c
        .post(app.url("/api/auth/login"))
        .header("Origin", origin)
        .form(&[("identifier", "alice"), ("password", TEST_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let set = session_cookie(&r).unwrap();
    assert!(set.starts_with("__Host-latchkey_session=") && set.contains("; Secure") && set.contains("Path=/"), "{set}");
    assert!(!set.contains("Domain="));
}
it_test!(https_origins_get_hsts_and_host_prefixed_secure_cookies);

fn clap_parse_public_url(s: &str) -> server::config::PublicUrl {
    use clap::Parser as _;
    server::config::Cli::try_parse_from(["latchkey", "--public-url", s]).unwrap().config.public_url
}

/// Threat: cross-site request forgery. State-changing requests from another
/// origin, or with no origin at all, are refused before any handler runs.
async fn cross_site_posts_are_refused(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    for (origin, referer) in [
        (Some("https://evil.example"), None),
        (Some("null"), None),
        (Some("http://localhost.evil.example"), None),
        (None, Some("https://evil.example/page")),
        (None, None),
    ] {
        // A request carrying alice's cookie, as a forged form would.
        let mut rb = app.bare_client().post(app.url("/api/account/update_profile"));
        rb = rb.header("Cookie", cookie_header(&app, &c).await);
        if let Some(o) = origin {
            rb = rb.header("Origin", o);
        }
        if let Some(r) = referer {
            rb = rb.header("Referer", r);
        }
        let r = rb.form(&[("profile[email]", "evil@example.com")]).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "origin={origin:?} referer={referer:?}");
        let anon = app.bare_client();
        let mut rb = anon.post(app.url("/api/auth/logout"));
        if let Some(o) = origin {
            rb = rb.header("Origin", o);
        }
        assert_eq!(rb.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    }
    let (_, me) = json(app.post(&c, "/api/account/profile", &[]).await).await;
    assert_eq!(me["form"]["email"], "alice@example.com", "nothing changed");
    // Same-site Referer without Origin is accepted (older browsers).
    let r = app
        .bare_client()
        .post(app.url("/api/auth/login"))
        .header("Referer", app.url("/login"))
        .form(&[("identifier", "alice"), ("password", TEST_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
it_test!(cross_site_posts_are_refused);

/// Threat: a machine-to-machine endpoint that honoured the browser's session
/// cookie would act for whoever's browser was tricked into calling it. The
/// protocol router runs without the session layer: a signed-in person's
/// cookie is not even looked up there (their session is not touched), and
/// no cookie is set.
async fn protocol_endpoints_take_no_cookies(app: TestApp) {
    use entity::prelude::UserSessions;
    use sea_orm::EntityTrait as _;
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    let cookie = cookie_header(&app, &c).await;
    let seen = || async { UserSessions::find().all(&app.services.ctx.db).await.unwrap().into_iter().map(|s| s.last_seen_at).max() };
    let before = seen().await;
    app.advance(std::time::Duration::from_secs(120));
    for path in ["/healthz", "/readyz"] {
        let r =
            app.bare_client().get(app.url(path)).header("Cookie", &cookie).header("Origin", "https://evil.example").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(r.headers().get("set-cookie").is_none(), "{path} sets no cookie");
    }
    assert_eq!(seen().await, before, "the session was not looked up");
    let r = app.bare_client().get(app.url("/myaccount")).header("Cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(seen().await > before, "a page does look it up (and touches it)");
}
it_test!(protocol_endpoints_take_no_cookies);

async fn cookie_header(app: &TestApp, c: &reqwest::Client) -> String {
    // Sign in again with a throwaway client to read a token, and use it.
    let _ = c;
    let t = app.client();
    let r = app.login(&t, "alice", TEST_PASSWORD).await;
    format!("latchkey_session={}", cookie_token(&session_cookie(&r).unwrap()))
}

/// Sends only a POST's head, declaring `length` body bytes; returns the
/// answer's status and body.
async fn raw_head_only_post(app: &TestApp, path: &str, ctype: &str, length: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nOrigin: {}\r\nContent-Type: {ctype}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n",
        app.base.trim_start_matches("http://"),
        app.base
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.trim().to_owned()).unwrap_or_default();
    (status, body)
}

/// Bad input of every shape gets a clear 4xx, never a 500 or a panic.
async fn malformed_requests_get_clear_client_errors(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    let huge = "x".repeat(server::MAX_BODY_BYTES + 1);
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("/api/account/update_profile", "application/x-www-form-urlencoded", b"".to_vec()),
        ("/api/account/update_profile", "application/x-www-form-urlencoded", b"profile=5&x[".to_vec()),
        ("/api/account/update_profile", "application/x-www-form-urlencoded", b"profile[email]=%FF%FE".to_vec()),
        ("/api/account/update_profile", "application/json", b"{\"profile\":".to_vec()),
        ("/api/account/update_profile", "application/x-www-form-urlencoded", format!("profile[given_name]={huge}").into_bytes()),
        ("/api/auth/login", "application/x-www-form-urlencoded", b"identifier[]=a&password=b".to_vec()),
        ("/api/auth/login", "text/plain", b"\x00\x01\x02".to_vec()),
        ("/api/auth/login", "application/x-www-form-urlencoded", format!("identifier={huge}&password=x").into_bytes()),
        ("/api/auth/create_first_admin", "application/x-www-form-urlencoded", b"token=".to_vec()),
        ("/api/no_such_function", "application/x-www-form-urlencoded", b"a=b".to_vec()),
    ];
    for (path, ctype, body) in cases {
        if body.len() > server::MAX_BODY_BYTES {
            // The server refuses on the declared length alone, without reading
            // the body, and closes; a client still sending it could see the
            // connection reset instead of the answer. So declare the length
            // and send nothing more.
            let (status, text) = raw_head_only_post(&app, path, ctype, body.len()).await;
            assert_eq!(status, 413, "{path}: oversize body refused up front");
            assert!(!text.is_empty(), "{path}: an explanation is given");
            continue;
        }
        let r = c.post(app.url(path)).header("Content-Type", ctype).header("Connection", "close").body(body.clone()).send().await.unwrap();
        let status = r.status();
        assert!(status.is_client_error(), "{path} {ctype} {:?}: {status}", String::from_utf8_lossy(&body[..body.len().min(40)]));
        let text = r.text().await.unwrap();
        assert!(!text.is_empty(), "{path}: an explanation is given");
    }
    // A long (but not oversize) identifier is simply wrong credentials.
    let long = "a".repeat(5000);
    let (status, _) = json(app.login(&c, &long, "x").await).await;
    assert!(status.is_client_error());
    // Server functions are POST only.
    assert_eq!(app.get(&c, "/api/account/profile").await.status(), StatusCode::METHOD_NOT_ALLOWED);
}
it_test!(malformed_requests_get_clear_client_errors);

async fn unknown_pages_are_404_and_health_endpoints_answer(app: TestApp) {
    let c = app.client();
    let r = app.get(&c, "/no/such/page").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("Page not found"));
    assert_eq!(app.get(&c, "/healthz").await.text().await.unwrap(), "ok");
    assert_eq!(app.get(&c, "/readyz").await.status(), StatusCode::OK);
}
it_test!(unknown_pages_are_404_and_health_endpoints_answer);

/// Threat: phishing through the real sign-in page. The no-JavaScript error
/// channel (`?__path=…&__err=…`) only carries errors the server signed.
async fn forged_form_errors_are_dropped_and_genuine_ones_signed(app: TestApp) {
    let c = app.client();
    let forged = "eyJSZWZ1c2VkIjoiWW91ciBhY2NvdW50IGlzIGxvY2tlZC4gQ2FsbCArMSA1NTUgMDEwMC4ifQ";
    let r = app.get(&c, &format!("/login?next=%2Fmyaccount&__path=%2Fapi%2Fauth%2Flogin&__err={forged}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=%2Fmyaccount");
    // A real failed no-JS sign-in comes back signed, and shows.
    let r = c
        .post(app.url("/api/auth/login"))
        .header("Accept", "text/html")
        .header("Referer", app.url("/login"))
        .form(&[("identifier", "nobody"), ("password", "x"), ("next", "")])
        .send()
        .await
        .unwrap();
    let back = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.contains("__sig="), "{back}");
    let page = app.get(&c, back.strip_prefix(&app.base).unwrap()).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("The username, email or password is not right."));
    // Tampering with a signed error drops it.
    let tampered = back.replace("__err=", &format!("__err={forged}"));
    let r = app.get(&c, tampered.strip_prefix(&app.base).unwrap()).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}
it_test!(forged_form_errors_are_dropped_and_genuine_ones_signed);

/// Threat: open redirect. A link such as `//evil.example/x?__err=1` (an
/// unsigned form error on a protocol-relative path) must not answer with a
/// `Location` a browser follows to another site.
async fn unsigned_form_errors_never_redirect_off_site(app: TestApp) {
    let c = app.bare_client();
    for path in ["//evil.example/x?__err=1", "/\\evil.example/x?__err=1", "//evil.example/x?a=1&__path=p&__err=1&__sig=nope"] {
        let r = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers()["location"], "/", "{path}");
    }
    // A local page keeps its own path and other parameters.
    let r = c.get(app.url("/login?next=%2Fmyaccount&__err=forged")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/login?next=%2Fmyaccount");
}
it_test!(unsigned_form_errors_never_redirect_off_site);

/// Threat: secrets in the address bar, browser history and proxy logs. A
/// form without `method="post"` submits by GET when JavaScript is off, with
/// every field in the URL. Every form on every page posts.
async fn every_form_posts(app: TestApp) {
    app.user("root", true).await;
    let c = app.signed_in("root").await;
    let anon = app.client();
    let pages = [
        (&c, "/myaccount"),
        (&c, "/myaccount/personal-info"),
        (&c, "/myaccount/security"),
        (&c, "/myaccount/sessions"),
        (&c, "/myaccount/recovery"),
        (&c, "/admin/applications"),
        (&c, "/admin/applications/myaccount"),
        (&c, "/admin/applications/new"),
        (&c, "/myaccount/applications"),
        (&anon, "/login"),
        (&anon, "/forgot-password"),
    ];
    let mut forms = 0;
    for (client, path) in pages {
        let html = app.get(client, path).await.text().await.unwrap();
        for tag in html.split("<form").skip(1).map(|rest| rest.split('>').next().unwrap_or_default()) {
            forms += 1;
            // Search boxes are GET forms on purpose: their query is the address.
            assert!(tag.contains(r#"method="post""#) || tag.contains(r#"role="search""#), "{path}: <form{tag}> would submit by GET");
        }
    }
    assert!(forms >= 8, "the pages were rendered with their forms ({forms})");
}
it_test!(every_form_posts);
