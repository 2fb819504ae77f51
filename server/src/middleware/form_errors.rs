//! Signs the error a plain (no-JavaScript) form post carries back in its
//! redirect (`?__path=…&__err=…`, Leptos's progressive-enhancement channel),
//! and drops unsigned ones from page requests. Without this, anyone could
//! link to the real sign-in page with a message of their choosing (phishing).
//! It also keeps only the newest error when a form fails twice in a row.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::header::LOCATION;
use http::{HeaderValue, Method};
use subtle::ConstantTimeEq as _;

use crate::state::AppState;

const KEYS: [&str; 3] = ["__path", "__err", "__sig"];

pub async fn sign_form_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let keys = state.services.ctx.keys.clone();
    if req.method() == Method::GET
        && let Some(query) = req.uri().query()
        && query.contains("__err=")
    {
        let parsed = Query::parse(query);
        if !parsed.valid(|p, e| signature(&keys, p, e)) {
            return Redirect::to(&without_unsigned_error(req.uri().path(), &parsed)).into_response();
        }
    }

    let mut res = next.run(req).await;
    if let Some(loc) = res.headers().get(LOCATION).and_then(|v| v.to_str().ok())
        && loc.contains("__err=")
    {
        let signed = sign_location(loc, |p, e| signature(&keys, p, e));
        if let Ok(v) = HeaderValue::from_str(&signed) {
            res.headers_mut().insert(LOCATION, v);
        }
    }
    res
}

/// The same page without the unsigned error, or `/` when the request's path
/// is not a local one (`//evil.example/x` would send the browser off-site).
fn without_unsigned_error(path: &str, parsed: &Query<'_>) -> String {
    let clean = if parsed.others.is_empty() { path.to_owned() } else { format!("{path}?{}", parsed.others.join("&")) };
    if app::routes::is_local_path(&clean) { clean } else { "/".to_owned() }
}

fn signature(keys: &domain::keys::Keys, path: &str, err: &str) -> String {
    keys.mac(format!("form-error\n{path}\n{err}").as_bytes())[..32].to_owned()
}

struct Query<'a> {
    others: Vec<&'a str>,
    path: Option<&'a str>,
    err: Option<&'a str>,
    sig: Option<&'a str>,
}

impl<'a> Query<'a> {
    /// Splits a raw query; of repeated `__path`/`__err`, the last wins.
    fn parse(query: &'a str) -> Self {
        let mut q = Query { others: Vec::new(), path: None, err: None, sig: None };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "__path" => q.path = Some(v),
                "__err" => q.err = Some(v),
                "__sig" => q.sig = Some(v),
                _ => q.others.push(pair),
            }
        }
        q
    }

    fn valid(&self, sign: impl Fn(&str, &str) -> String) -> bool {
        match (self.path, self.err, self.sig) {
            (Some(p), Some(e), Some(s)) => sign(p, e).as_bytes().ct_eq(s.as_bytes()).into(),
            _ => false,
        }
    }
}

fn sign_location(loc: &str, sign: impl Fn(&str, &str) -> String) -> String {
    let (loc, fragment) = loc.split_once('#').map(|(l, f)| (l, Some(f))).unwrap_or((loc, None));
    let Some((base, query)) = loc.split_once('?') else { return loc.to_owned() };
    let q = Query::parse(query);
    let (Some(path), Some(err)) = (q.path, q.err) else { return loc.to_owned() };
    let mut parts = q.others.clone();
    let sig = sign(path, err);
    let (p, e, s) = (format!("{}={path}", KEYS[0]), format!("{}={err}", KEYS[1]), format!("{}={sig}", KEYS[2]));
    parts.extend([p.as_str(), e.as_str(), s.as_str()]);
    let mut out = format!("{base}?{}", parts.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(p: &str, e: &str) -> String {
        format!("S{}{}", p.len(), e.len())
    }

    #[test]
    fn the_newest_error_is_kept_and_signed() {
        let loc = "http://x/login?next=%2Fa&__path=%2Fapi%2Fauth%2Flogin&__err=OLD&__sig=S1&__path=%2Fapi%2Fauth%2Flogin&__err=NEWER";
        assert_eq!(sign_location(loc, sign), "http://x/login?next=%2Fa&__path=%2Fapi%2Fauth%2Flogin&__err=NEWER&__sig=S215");
    }

    /// Threat: open redirect. An unsigned error on a path such as
    /// `//evil.example/x` must not send the browser to another site.
    #[test]
    fn unsigned_errors_redirect_only_to_local_paths() {
        let q = Query::parse("a=1&__err=x");
        assert_eq!(without_unsigned_error("/login", &q), "/login?a=1");
        assert_eq!(without_unsigned_error("//evil.example/x", &q), "/");
        assert_eq!(without_unsigned_error("/\\evil.example", &q), "/");
    }

    #[test]
    fn unsigned_or_tampered_errors_are_not_valid() {
        assert!(Query::parse("__path=a&__err=b&__sig=S11").valid(sign));
        assert!(!Query::parse("__path=a&__err=b").valid(sign));
        assert!(!Query::parse("__path=a&__err=bb&__sig=S11").valid(sign));
        assert_eq!(Query::parse("x=1&__path=a&__err=b&y=2").others, ["x=1", "y=2"]);
    }
}
