//! Paths of the pages, and the rule for where a sign-in may send a person next.

pub const LOGIN: &str = "/login";
pub const LOGIN_VERIFY: &str = "/login/verify";
/// The step My Account's flow still asks of a session that signed in through an application.
pub const LOGIN_STEP_UP: &str = "/login/step-up";
pub const SECURITY: &str = "/myaccount/security";
pub const SETUP: &str = "/setup";
pub const ACCOUNT: &str = "/myaccount";
pub const PERSONAL_INFO: &str = "/myaccount/personal-info";
pub const SESSIONS: &str = "/myaccount/sessions";
pub const RECOVERY: &str = "/myaccount/recovery";
pub const FORGOT_PASSWORD: &str = "/forgot-password";
pub const RESET_PASSWORD: &str = "/reset-password";
pub const VERIFY_EMAIL: &str = "/verify-email";
pub const ADMIN: &str = "/admin";
pub const ADMIN_APPLICATIONS: &str = "/admin/applications";
pub const ADMIN_MY_ACCOUNT: &str = "/admin/applications/myaccount";
pub const ADMIN_NEW_APPLICATION: &str = "/admin/applications/new";
pub const MY_APPLICATIONS: &str = "/myaccount/applications";
/// Uploaded application logos: `/logos/{application id}?v={version}`.
pub const LOGOS: &str = "/logos";
/// An OpenID Connect authorization waiting for the person: a proof or consent.
pub const OIDC_CONTINUE: &str = "/oauth2/continue";
/// Where an authorization continues after the sign-in, a proof or consent.
pub const OIDC_RESUME: &str = "/oauth2/authorize/resume";
/// Applications the person allowed (OpenID Connect consents).
pub const CONSENTS: &str = "/myaccount/consents";

/// The pages served without the WebAssembly app: the sign-in pages, which
/// everyone loads every day (often on a phone). Their forms are plain forms;
/// `/pkg/signin.js` (a few KiB) adds passkeys. The app's bundle loads with
/// My Account.
pub const SERVED_WITHOUT_APP: [&str; 2] = [LOGIN, LOGIN_VERIFY];

/// Where the administrators' bundle (My Account and the console) is served
/// from, below the site root; the other bundle is in `pkg`.
pub const CONSOLE_PKG_DIR: &str = "pkg/console";

/// What a page loads in the browser besides its HTML and stylesheet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bundle {
    /// `/pkg/signin.js` only (the sign-in pages).
    SignIn,
    /// No script: the page is complete as served (the console's "not
    /// allowed" page for someone who is not an administrator).
    None,
    /// The app without the console: everyone who is not an administrator.
    App,
    /// The app with the console: administrators, on every page, so moving
    /// between My Account and the console stays in the app.
    Console,
}

/// The bundle for the page at `path` requested by someone who is (or is
/// not, or not signed in) an administrator. People who are not
/// administrators never load the console's code, not even by opening a
/// console address (they are refused there with a page that needs no app).
pub fn bundle_for(path: &str, admin: bool) -> Bundle {
    let console_page = path == ADMIN || path.starts_with("/admin/");
    if SERVED_WITHOUT_APP.contains(&path) {
        Bundle::SignIn
    } else if admin {
        Bundle::Console
    } else if console_page {
        Bundle::None
    } else {
        Bundle::App
    }
}

/// Where to go after signing in: `next` if it is a local path on this site,
/// otherwise My Account. Refuses `//host`, `/\host`, schemes, and control
/// characters, so the sign-in page cannot be used as an open redirect.
pub fn safe_next(next: Option<&str>) -> String {
    match next.map(str::trim) {
        Some(n) if is_local_path(n) => n.to_owned(),
        _ => ACCOUNT.to_owned(),
    }
}

/// Whether `p` is a path on this site that is safe to send a browser to:
/// not protocol-relative (`//host`), no backslash (`/\\host`, which browsers
/// read as `//host`), no control characters, and not an API endpoint.
/// Every `Location` built from request data goes through this rule.
pub fn is_local_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.starts_with("//")
        && !p.starts_with("/\\")
        && p.len() <= 2048
        && !p.chars().any(|c| c.is_control() || c == '\\')
        && !p.starts_with("/api/")
}

/// The page a plain form was posted from (its `Referer`, when that is a page
/// of `origin`), without the error of an earlier try (`__…` keys) and with
/// `extra` (`key=value`) set in its query; `fallback` otherwise. Never
/// another site: the origin must match and the path pass [`is_local_path`].
pub fn back_to(origin: &str, referer: Option<&str>, extra: &str, fallback: &str) -> String {
    let Some(rest) = referer.and_then(|r| r.strip_prefix(origin)).filter(|r| !origin.is_empty() && r.starts_with('/')) else {
        return fallback.to_owned();
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let extra_key = extra.split('=').next().unwrap_or_default();
    let kept = query.split('&').filter(|kv| {
        let k = kv.split('=').next().unwrap_or_default();
        !kv.is_empty() && !k.starts_with("__") && k != extra_key
    });
    let query = kept.chain((!extra.is_empty()).then_some(extra)).collect::<Vec<_>>().join("&");
    let target = if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") };
    if is_local_path(&target) { target } else { fallback.to_owned() }
}

/// The next-step page of a sign-in, keeping where to go afterwards.
pub fn verify_with_next(next: Option<&str>) -> String {
    let target = safe_next(next);
    if target == ACCOUNT { LOGIN_VERIFY.to_owned() } else { format!("{LOGIN_VERIFY}?next={}", encode(&target)) }
}

fn encode(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `page`, returning to `path` afterwards (My Account when it is not a local path).
fn with_next(page: &str, path: &str) -> String {
    if path == ACCOUNT || !is_local_path(path) {
        return page.to_owned();
    }
    format!("{page}?next={}", encode(path))
}

/// The sign-in page URL that returns to `path` afterwards.
pub fn login_with_next(path: &str) -> String {
    with_next(LOGIN, path)
}

/// The page asking for the step My Account's flow still needs, returning to `path`.
pub fn step_up_with_next(path: &str) -> String {
    with_next(LOGIN_STEP_UP, path)
}

/// Where the authorization kept under `handle` continues.
pub fn oidc_resume(handle: &str) -> String {
    format!("{OIDC_RESUME}?request={}", encode(handle))
}

/// The page that asks for a proof or consent for the authorization `handle`.
pub fn oidc_continue(handle: &str) -> String {
    format!("{OIDC_CONTINUE}?request={}", encode(handle))
}

/// The authorization handle in a sign-in's `next` (`/oauth2/authorize/resume?request=…`).
pub fn oidc_request_in(next: &str) -> Option<String> {
    let query = next.strip_prefix(OIDC_RESUME)?.strip_prefix('?')?;
    query.split('&').find_map(|kv| kv.strip_prefix("request=")).map(str::to_owned)
}

/// The sign-in page for the authorization `handle`, prefilled with `hint`.
pub fn oidc_sign_in(handle: &str, hint: Option<&str>) -> String {
    let login = login_with_next(&oidc_resume(handle));
    match hint {
        Some(h) if !h.is_empty() => format!("{login}&login_hint={}", encode(h)),
        _ => login,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Threat: console code (its pages, calls and checks) handed to people
    /// who are not administrators. Only administrators get its bundle.
    #[test]
    fn only_administrators_load_the_console_bundle() {
        assert_eq!(bundle_for(LOGIN, false), Bundle::SignIn);
        assert_eq!(bundle_for(LOGIN_VERIFY, true), Bundle::SignIn);
        assert_eq!(bundle_for(SECURITY, false), Bundle::App);
        assert_eq!(bundle_for(ACCOUNT, false), Bundle::App);
        assert_eq!(bundle_for(ADMIN, false), Bundle::None);
        assert_eq!(bundle_for(ADMIN_MY_ACCOUNT, false), Bundle::None);
        assert_eq!(bundle_for("/administrators", false), Bundle::App);
        assert_eq!(bundle_for(SECURITY, true), Bundle::Console);
        assert_eq!(bundle_for(ADMIN_APPLICATIONS, true), Bundle::Console);
    }

    /// Threat: open redirect. Only local paths are followed after sign-in.
    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/myaccount/personal-info")), "/myaccount/personal-info");
        assert_eq!(safe_next(Some("/myaccount?tab=1")), "/myaccount?tab=1");
        for bad in
            ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", "evil", "", "/a\nb", "/api/auth/logout"]
        {
            assert_eq!(safe_next(Some(bad)), ACCOUNT, "{bad:?}");
        }
        assert_eq!(safe_next(None), ACCOUNT);
    }

    /// Threat: open redirect through a forged `Referer`. A plain form goes
    /// back only to a page of this origin, never to another site.
    #[test]
    fn plain_forms_go_back_only_to_pages_of_this_origin() {
        let o = "https://id.example";
        let back = |r: Option<&str>| back_to(o, r, "reauth=ok", SECURITY);
        assert_eq!(back(Some("https://id.example/myaccount/security?totp=1#x")), "/myaccount/security?totp=1&reauth=ok");
        assert_eq!(
            back(Some("https://id.example/myaccount/security?__path=%2Fapi&__err=e&__sig=s&reauth=ok&tab=a")),
            "/myaccount/security?tab=a&reauth=ok",
            "the earlier error and answer are dropped"
        );
        for bad in [
            None,
            Some("https://evil.example/myaccount"),
            Some("https://id.example.evil.example/x"),
            Some("https://id.example//evil.example/x"),
            Some("https://id.example/\\evil.example"),
            Some("https://id.example/api/auth/logout"),
        ] {
            assert_eq!(back(bad), SECURITY, "{bad:?}");
        }
    }

    #[test]
    fn login_links_encode_the_return_path() {
        assert_eq!(login_with_next("/myaccount/personal-info"), "/login?next=/myaccount/personal-info");
        assert_eq!(login_with_next("/myaccount?a=b&c"), "/login?next=/myaccount%3Fa%3Db%26c");
        assert_eq!(login_with_next(ACCOUNT), LOGIN);
        assert_eq!(step_up_with_next("/admin/applications"), "/login/step-up?next=/admin/applications");
        assert_eq!(step_up_with_next("//evil.example"), LOGIN_STEP_UP);
    }
}
