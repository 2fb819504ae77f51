//! What an administrator may type for an application, checked field by
//! field so the console can put each message beside its field.

use url::Url;

/// Longest name, in characters.
pub const MAX_NAME: usize = 100;
/// Longest description, in characters.
pub const MAX_DESCRIPTION: usize = 500;
/// Longest access or logo address, in bytes.
pub const MAX_URL: usize = 2048;

/// The trimmed name, or why not.
pub fn name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Enter a name.".into());
    }
    if name.chars().count() > MAX_NAME {
        return Err(format!("Use at most {MAX_NAME} characters."));
    }
    if name.chars().any(char::is_control) {
        return Err("The name can't contain control characters.".into());
    }
    Ok(name.to_owned())
}

/// The trimmed description (may be empty), or why not.
pub fn description(raw: &str) -> Result<String, String> {
    let d = raw.trim();
    if d.chars().count() > MAX_DESCRIPTION {
        return Err(format!("Use at most {MAX_DESCRIPTION} characters."));
    }
    if d.chars().any(|c| c.is_control() && c != '\n') {
        return Err("The description can't contain control characters.".into());
    }
    Ok(d.to_owned())
}

/// Where Launch goes: `https://…`, or `http://` on this machine
/// (localhost, 127.0.0.1, [::1]) for development. No credentials in it,
/// and never `javascript:`, `data:` or any other scheme a link could run.
pub fn access_url(raw: &str) -> Result<String, String> {
    web_address(raw, true).map_err(|e| e.unwrap_or_else(|| "Enter the address people open the application at.".into()))
}

/// A logo address: `https://…` only (an `http` image would be mixed
/// content on the portal's pages).
pub fn logo_url(raw: &str) -> Result<Option<String>, String> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    web_address(raw, false).map(Some).map_err(|e| e.unwrap_or_default())
}

fn web_address(raw: &str, local_http: bool) -> Result<String, Option<String>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(None);
    }
    if raw.len() > MAX_URL {
        return Err(Some(format!("Use at most {MAX_URL} characters.")));
    }
    let https_only = || {
        if local_http { "Use an https:// address (http:// only for localhost)." } else { "Use an https:// address." }
    };
    let url = Url::parse(raw).map_err(|_| Some(format!("This is not a complete web address. {}", https_only())))?;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if local_http && local => {}
        _ => return Err(Some(https_only().to_owned())),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Some("The address needs a host name.".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Some("The address can't contain a user name or password.".into()));
    }
    Ok(url.to_string())
}

/// A URL-safe handle made from `name`: lower-case letters, digits and
/// dashes, at most 48 characters; `app` when nothing is left.
pub fn handle_from(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 48 {
            break;
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() { "app".into() } else { out.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_descriptions_are_trimmed_and_bounded() {
        assert_eq!(name("  Payroll ").unwrap(), "Payroll");
        assert!(name("   ").is_err());
        assert!(name(&"x".repeat(MAX_NAME + 1)).is_err());
        assert!(name("a\u{0}b").is_err());
        assert_eq!(description(" Pay slips\nand more ").unwrap(), "Pay slips\nand more");
        assert!(description(&"é".repeat(MAX_DESCRIPTION + 1)).is_err());
    }

    /// Threat: a Launch link that runs script in the portal's origin
    /// (`javascript:`, `data:`), or one that leaks credentials.
    #[test]
    fn access_urls_are_web_addresses_only() {
        assert_eq!(access_url("https://pay.example.com/start").unwrap(), "https://pay.example.com/start");
        assert_eq!(access_url(" http://localhost:8080/ ").unwrap(), "http://localhost:8080/");
        assert_eq!(access_url("http://127.0.0.1:3000").unwrap(), "http://127.0.0.1:3000/");
        for bad in [
            "",
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
            "http://pay.example.com",
            "//pay.example.com",
            "/relative",
            "https://user:pw@pay.example.com",
            "ftp://files.example.com",
            "https://",
        ] {
            assert!(access_url(bad).is_err(), "{bad:?}");
        }
        assert!(logo_url("http://localhost/logo.png").is_err(), "logos are https only");
        assert_eq!(logo_url(" ").unwrap(), None);
        assert_eq!(logo_url("https://cdn.example.com/l.png").unwrap().as_deref(), Some("https://cdn.example.com/l.png"));
    }

    #[test]
    fn handles_are_url_safe() {
        assert_eq!(handle_from("Payroll & HR — 2026"), "payroll-hr-2026");
        assert_eq!(handle_from("  Café Été "), "caf-t", "non-ASCII letters become dashes");
        assert_eq!(handle_from("!!!"), "app");
        assert!(handle_from(&"ab ".repeat(40)).len() <= 48);
    }
}
