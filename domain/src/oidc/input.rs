//! What an administrator (console or CLI) may set for an application's
//! OpenID Connect client, checked field by field so each message can sit
//! beside its field.

use std::collections::BTreeSet;
use std::time::Duration;
use url::Url;

use super::keys::SigningAlg;

/// Scopes a client may be allowed, in the order the console lists them.
pub const SCOPES: [&str; 6] = ["openid", "profile", "email", "address", "phone", "offline_access"];
/// Most redirect (or post-logout redirect) URIs per client.
pub const MAX_URIS: usize = 20;
/// Longest redirect URI, in bytes.
pub const MAX_URI: usize = 2048;
/// Access token lifetime bounds (RFC 9700 favours short-lived access tokens).
pub const ACCESS_TOKEN_MIN: Duration = Duration::from_secs(60);
pub const ACCESS_TOKEN_MAX: Duration = Duration::from_secs(24 * 60 * 60);
pub const ACCESS_TOKEN_DEFAULT: Duration = Duration::from_secs(10 * 60);
/// Refresh token idle lifetime bounds.
pub const REFRESH_TOKEN_MIN: Duration = Duration::from_secs(24 * 60 * 60);
pub const REFRESH_TOKEN_MAX: Duration = Duration::from_secs(365 * 24 * 60 * 60);
pub const REFRESH_TOKEN_DEFAULT: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The raw settings as typed: lists one item per line (or repeated, from
/// the CLI), lifetimes in whole minutes and days.
#[derive(Clone, Debug, Default)]
pub struct ClientSettings {
    /// `"public"` or `"confidential"`.
    pub client_type: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub scopes: Vec<String>,
    pub trusted: bool,
    pub access_token_minutes: String,
    pub refresh_token_days: String,
    pub id_token_alg: String,
}

impl ClientSettings {
    /// The defaults the console starts a new client from.
    pub fn defaults() -> Self {
        Self {
            client_type: "confidential".into(),
            scopes: ["openid", "profile", "email"].map(String::from).to_vec(),
            access_token_minutes: (ACCESS_TOKEN_DEFAULT.as_secs() / 60).to_string(),
            refresh_token_days: (REFRESH_TOKEN_DEFAULT.as_secs() / 86_400).to_string(),
            id_token_alg: SigningAlg::Rs256.name().into(),
            ..Self::default()
        }
    }
}

/// Checked settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientInput {
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: BTreeSet<String>,
    pub trusted: bool,
    pub access_token: Duration,
    pub refresh_token: Duration,
    pub id_token_alg: SigningAlg,
}

impl ClientSettings {
    /// Every problem at once, as `(field, message)`.
    pub fn check(&self) -> Result<ClientInput, Vec<(&'static str, String)>> {
        let mut problems = Vec::new();
        let public = match self.client_type.trim() {
            "public" => true,
            "confidential" => false,
            _ => {
                problems.push(("client_type", "Choose confidential or public.".to_owned()));
                false
            }
        };
        let mut take = |field: &'static str, r: Result<Vec<String>, String>| r.map_err(|m| problems.push((field, m))).unwrap_or_default();
        let redirect_uris = take("redirect_uris", uris(&self.redirect_uris, true));
        let post_logout_redirect_uris = take("post_logout_redirect_uris", uris(&self.post_logout_redirect_uris, false));
        let scopes = scopes(&self.scopes).map_err(|m| problems.push(("scopes", m))).unwrap_or_default();
        let access_token = lifetime(&self.access_token_minutes, 60, ACCESS_TOKEN_MIN, ACCESS_TOKEN_MAX, "minutes")
            .map_err(|m| problems.push(("access_token_minutes", m)))
            .unwrap_or(ACCESS_TOKEN_DEFAULT);
        let refresh_token = lifetime(&self.refresh_token_days, 86_400, REFRESH_TOKEN_MIN, REFRESH_TOKEN_MAX, "days")
            .map_err(|m| problems.push(("refresh_token_days", m)))
            .unwrap_or(REFRESH_TOKEN_DEFAULT);
        let id_token_alg = SigningAlg::parse(self.id_token_alg.trim()).unwrap_or_else(|| {
            problems.push(("id_token_alg", "Choose RS256, ES256 or EdDSA.".to_owned()));
            SigningAlg::Rs256
        });
        if public && self.trusted {
            problems.push(("trusted", "A public client can't skip consent: anyone can present its client id.".to_owned()));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(ClientInput {
            public,
            redirect_uris,
            post_logout_redirect_uris,
            scopes,
            trusted: self.trusted,
            access_token,
            refresh_token,
            id_token_alg,
        })
    }
}

/// Exact redirect URIs, one per line: `https://…`, or `http://` on this
/// machine (localhost, 127.0.0.1, [::1]); no fragment, no wildcard, no
/// credentials (OAuth 2.0 Security BCP, RFC 9700 §2.1). Kept as typed,
/// because they are compared as exact strings.
pub fn uris(raw: &str, required: bool) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for line in raw.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let uri = redirect_uri(line).map_err(|m| format!("{line}: {m}"))?;
        if !out.contains(&uri) {
            out.push(uri);
        }
    }
    if required && out.is_empty() {
        return Err("Enter at least one redirect URI.".into());
    }
    if out.len() > MAX_URIS {
        return Err(format!("Use at most {MAX_URIS} addresses."));
    }
    Ok(out)
}

fn redirect_uri(raw: &str) -> Result<String, String> {
    if raw.len() > MAX_URI {
        return Err(format!("use at most {MAX_URI} characters."));
    }
    if raw.contains('*') {
        return Err("wildcards are not allowed; register each address exactly.".into());
    }
    let url = Url::parse(raw).map_err(|_| "not a complete web address.".to_owned())?;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        _ => return Err("use https:// (http:// only for localhost).".into()),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the address needs a host name.".into());
    }
    if url.fragment().is_some() || raw.contains('#') {
        return Err("a redirect URI can't have a fragment (#…).".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the address can't contain a user name or password.".into());
    }
    Ok(raw.to_owned())
}

/// The allowed scopes: known ones only, `openid` always among them.
pub fn scopes(list: &[String]) -> Result<BTreeSet<String>, String> {
    let mut out = BTreeSet::new();
    for s in list.iter().flat_map(|s| s.split_whitespace()) {
        if !SCOPES.contains(&s) {
            return Err(format!("Unknown scope {s:?}: choose among {}.", SCOPES.join(", ")));
        }
        out.insert(s.to_owned());
    }
    if !out.contains("openid") {
        return Err("OpenID Connect needs the openid scope.".into());
    }
    Ok(out)
}

/// A whole number of `unit`s (`unit_seconds` each) within `min..=max`.
fn lifetime(raw: &str, unit_seconds: u64, min: Duration, max: Duration, unit: &str) -> Result<Duration, String> {
    let bounds = || format!("Enter a whole number of {unit} from {} to {}.", fmt(min, unit_seconds), fmt(max, unit_seconds));
    let n: u64 = raw.trim().parse().map_err(|_| bounds())?;
    let d = Duration::from_secs(n.checked_mul(unit_seconds).ok_or_else(bounds)?);
    if d < min || d > max {
        return Err(bounds());
    }
    Ok(d)
}

fn fmt(d: Duration, unit_seconds: u64) -> String {
    let secs = d.as_secs();
    if secs.is_multiple_of(unit_seconds) { (secs / unit_seconds).to_string() } else { format!("{:.2}", secs as f64 / unit_seconds as f64) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(redirects: &str) -> ClientSettings {
        ClientSettings { redirect_uris: redirects.into(), ..ClientSettings::defaults() }
    }

    #[test]
    fn the_defaults_are_a_confidential_client_with_short_access_tokens() {
        let c = settings("https://rp.example.com/cb").check().unwrap();
        assert!(!c.public && !c.trusted);
        assert_eq!(c.access_token, ACCESS_TOKEN_DEFAULT);
        assert_eq!(c.refresh_token, REFRESH_TOKEN_DEFAULT);
        assert_eq!(c.id_token_alg, SigningAlg::Rs256);
        assert_eq!(c.scopes.iter().map(String::as_str).collect::<Vec<_>>(), ["email", "openid", "profile"]);
    }

    /// Threat: authorization codes delivered to an attacker's address
    /// through a loose redirect URI (wildcards, fragments, plain http on
    /// the network, credentials, non-web schemes).
    #[test]
    fn redirect_uris_are_exact_web_addresses() {
        let ok =
            uris(" https://rp.example.com/cb \n\nhttp://localhost:8080/cb\nhttp://127.0.0.1/cb\nhttps://rp.example.com/cb", true).unwrap();
        assert_eq!(ok, ["https://rp.example.com/cb", "http://localhost:8080/cb", "http://127.0.0.1/cb"], "trimmed, kept as typed, once");
        for bad in [
            "https://*.example.com/cb",
            "https://rp.example.com/cb#frag",
            "https://rp.example.com/cb#",
            "http://rp.example.com/cb",
            "javascript:alert(1)",
            "data:text/html,x",
            "/cb",
            "https://user:pw@rp.example.com/cb",
            "ftp://rp.example.com/cb",
        ] {
            assert!(uris(bad, true).is_err(), "{bad:?}");
        }
        assert!(uris("  \n ", true).is_err(), "at least one redirect URI");
        assert_eq!(uris("", false).unwrap(), Vec::<String>::new(), "post-logout URIs are optional");
        let many: String = (0..=MAX_URIS).map(|i| format!("https://rp.example.com/{i}\n")).collect();
        assert!(uris(&many, true).is_err());
    }

    #[test]
    fn every_problem_is_reported_beside_its_field() {
        let bad = ClientSettings {
            client_type: "public".into(),
            redirect_uris: "http://rp.example.com/cb".into(),
            scopes: vec!["profile".into(), "admin".into()],
            trusted: true,
            access_token_minutes: "0".into(),
            refresh_token_days: "many".into(),
            id_token_alg: "none".into(),
            ..ClientSettings::default()
        };
        let problems = bad.check().unwrap_err();
        let fields: Vec<_> = problems.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["redirect_uris", "scopes", "access_token_minutes", "refresh_token_days", "id_token_alg", "trusted"]);
        assert!(scopes(&["profile".into()]).unwrap_err().contains("openid"));
        assert_eq!(lifetime("1440", 60, ACCESS_TOKEN_MIN, ACCESS_TOKEN_MAX, "minutes").unwrap(), ACCESS_TOKEN_MAX);
        assert!(lifetime("1441", 60, ACCESS_TOKEN_MIN, ACCESS_TOKEN_MAX, "minutes").unwrap_err().contains("from 1 to 1440"));
        assert!(lifetime("99999999999999999999", 86_400, REFRESH_TOKEN_MIN, REFRESH_TOKEN_MAX, "days").is_err());
    }
}
