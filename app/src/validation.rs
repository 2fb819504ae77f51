//! Input rules shared by the browser (instant field errors) and the server
//! (authoritative). Each returns the normalised value or a message for a person.

use crate::error::FieldError;

/// NIST 800-63B: a maximum of at least 64; we allow 256 characters.
pub const PASSWORD_MAX_CHARS: usize = 256;
pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 64;
pub const NAME_MAX: usize = 100;
pub const EMAIL_MAX: usize = 254;
pub const URL_MAX: usize = 2048;

/// The password policy as shown beside password fields.
pub fn password_policy_hint(min: usize) -> String {
    format!("At least {min} characters (at most {PASSWORD_MAX_CHARS}). Any characters are allowed; a long passphrase is best.")
}

/// A new password and its confirmation, against the policy (length only, no
/// composition rules, per NIST 800-63B).
pub fn validate_new_password(password: &str, confirm: &str, min: usize) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let n = password.chars().count();
    if n == 0 {
        errors.push(FieldError::new("password", "Enter a password."));
    } else if n < min {
        errors.push(FieldError::new("password", format!("Use at least {min} characters ({n} so far).")));
    } else if n > PASSWORD_MAX_CHARS {
        errors.push(FieldError::new("password", format!("Use at most {PASSWORD_MAX_CHARS} characters.")));
    } else if password != confirm {
        errors.push(FieldError::new("confirm", "The two passwords do not match."));
    }
    errors
}

/// Usernames: 3–64 of `a-z 0-9 . _ -`, starting with a letter or digit; stored lower case.
/// A name a person gives a passkey or authenticator app ("Phone", "YubiKey").
pub fn validate_credential_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(FieldError::new("name", "Give it a name, such as Phone or Laptop."));
    }
    if name.chars().count() > 64 {
        return Err(FieldError::new("name", "Use at most 64 characters."));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new("name", "Use letters, digits, spaces and punctuation only."));
    }
    Ok(name.to_owned())
}

pub fn validate_username(raw: &str) -> Result<String, FieldError> {
    let u = raw.trim().to_lowercase();
    let n = u.chars().count();
    if n == 0 {
        return Err(FieldError::new("username", "Enter a username."));
    }
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&n) {
        return Err(FieldError::new("username", format!("Use {USERNAME_MIN} to {USERNAME_MAX} characters.")));
    }
    if !u.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')) {
        return Err(FieldError::new("username", "Use only letters, digits, dots, dashes and underscores."));
    }
    if !u.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(FieldError::new("username", "Start with a letter or a digit."));
    }
    Ok(u)
}

/// Email addresses: syntax per RFC 5322 (addr-spec), a dotted domain, lower case.
pub fn validate_email(raw: &str, field: &str) -> Result<String, FieldError> {
    let e = raw.trim().to_lowercase();
    if e.is_empty() {
        return Err(FieldError::new(field, "Enter an email address."));
    }
    if e.len() > EMAIL_MAX {
        return Err(FieldError::new(field, format!("Use at most {EMAIL_MAX} characters.")));
    }
    let domain_ok = e.rsplit_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-')
    });
    if !domain_ok || !email_address::EmailAddress::is_valid(&e) || e.contains(char::is_whitespace) {
        return Err(FieldError::new(field, "Enter an email address like name@example.com."));
    }
    Ok(e)
}

/// A free-text name: trimmed, at most 100 characters, no control characters.
/// Empty means "not set".
pub fn validate_name(raw: &str, field: &str) -> Result<Option<String>, FieldError> {
    let v = raw.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > NAME_MAX {
        return Err(FieldError::new(field, format!("Use at most {NAME_MAX} characters.")));
    }
    if v.chars().any(char::is_control) {
        return Err(FieldError::new(field, "Remove line breaks and other invisible characters."));
    }
    Ok(Some(v.to_owned()))
}

/// Longest postal address, in characters.
pub const ADDRESS_MAX: usize = 500;

/// A postal address as the person writes it: up to ten lines, trimmed,
/// no other invisible characters.
pub fn validate_address(raw: &str) -> Result<Option<String>, FieldError> {
    let lines: Vec<&str> = raw.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if lines.is_empty() {
        return Ok(None);
    }
    let v = lines.join("\n");
    if v.chars().count() > ADDRESS_MAX || lines.len() > 10 {
        return Err(FieldError::new("address", format!("Use at most 10 lines and {ADDRESS_MAX} characters.")));
    }
    if v.chars().any(|c| c.is_control() && c != '\n') {
        return Err(FieldError::new("address", "Remove tabs and other invisible characters."));
    }
    Ok(Some(v))
}

/// Phone numbers in E.164: `+`, a country code, at most 15 digits in all.
/// Spaces, dots, dashes and brackets are accepted and removed.
pub fn validate_phone(raw: &str) -> Result<Option<String>, FieldError> {
    let v = raw.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let compact: String = v.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
    let ok = compact
        .strip_prefix('+')
        .is_some_and(|digits| (7..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) && !digits.starts_with('0'));
    if !ok {
        return Err(FieldError::new("phone", "Enter the number in international format, e.g. +44 7700 900123."));
    }
    Ok(Some(compact))
}

/// Picture URLs: `https://host/...`, printable ASCII, at most 2048 characters.
pub fn validate_picture_url(raw: &str) -> Result<Option<String>, FieldError> {
    let v = raw.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let msg = || FieldError::new("picture_url", "Enter a web address starting with https://, e.g. https://example.com/me.png.");
    if v.len() > URL_MAX {
        return Err(FieldError::new("picture_url", format!("Use at most {URL_MAX} characters.")));
    }
    let Some(rest) = v.strip_prefix("https://") else { return Err(msg()) };
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match host_port.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.len() <= 5 && port.chars().all(|c| c.is_ascii_digit()) => h,
        Some(_) => return Err(msg()),
        None => host_port,
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && host.contains('.');
    let chars_ok = v.chars().all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '<' | '>' | '\\' | '`' | '{' | '}' | '|' | '^'));
    if !host_ok || !chars_ok || host_port.contains('@') {
        return Err(msg());
    }
    Ok(Some(v.to_owned()))
}

/// Locales offered (BCP 47 tag, name in its own language).
pub const LOCALES: &[(&str, &str)] = &[
    ("ar", "العربية"),
    ("cs", "Čeština"),
    ("da", "Dansk"),
    ("de", "Deutsch"),
    ("el", "Ελληνικά"),
    ("en", "English"),
    ("en-GB", "English (United Kingdom)"),
    ("en-US", "English (United States)"),
    ("es", "Español"),
    ("es-419", "Español (Latinoamérica)"),
    ("fa", "فارسی"),
    ("fi", "Suomi"),
    ("fr", "Français"),
    ("fr-CA", "Français (Canada)"),
    ("he", "עברית"),
    ("hi", "हिन्दी"),
    ("hu", "Magyar"),
    ("id", "Bahasa Indonesia"),
    ("it", "Italiano"),
    ("ja", "日本語"),
    ("ko", "한국어"),
    ("nb", "Norsk bokmål"),
    ("nl", "Nederlands"),
    ("pl", "Polski"),
    ("pt", "Português"),
    ("pt-BR", "Português (Brasil)"),
    ("ro", "Română"),
    ("ru", "Русский"),
    ("sk", "Slovenčina"),
    ("sv", "Svenska"),
    ("th", "ไทย"),
    ("tr", "Türkçe"),
    ("uk", "Українська"),
    ("vi", "Tiếng Việt"),
    ("zh-CN", "中文（简体）"),
    ("zh-TW", "中文（繁體）"),
];

pub fn validate_locale(raw: &str) -> Result<Option<String>, FieldError> {
    let v = raw.trim();
    if v.is_empty() {
        return Ok(None);
    }
    LOCALES
        .iter()
        .find(|(tag, _)| tag.eq_ignore_ascii_case(v))
        .map(|(tag, _)| Some((*tag).to_owned()))
        .ok_or_else(|| FieldError::new("locale", "Choose a language from the list."))
}

pub fn validate_time_zone(raw: &str) -> Result<Option<String>, FieldError> {
    let v = raw.trim();
    if v.is_empty() {
        return Ok(None);
    }
    crate::features::profile::time_zones::TIME_ZONES
        .iter()
        .find(|z| **z == v)
        .map(|z| Some((*z).to_owned()))
        .ok_or_else(|| FieldError::new("time_zone", "Choose a time zone from the list."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_follow_length_only_policy() {
        assert!(validate_new_password("eight ch", "eight ch", 8).is_empty());
        assert_eq!(validate_new_password("short", "short", 8)[0].message, "Use at least 8 characters (5 so far).");
        assert_eq!(validate_new_password("", "", 8)[0].field, "password");
        assert_eq!(validate_new_password(&"x".repeat(257), &"x".repeat(257), 8)[0].field, "password");
        assert!(validate_new_password(&"x".repeat(256), &"x".repeat(256), 8).is_empty());
        assert_eq!(validate_new_password("long enough", "long enougH", 8)[0].field, "confirm");
        // Characters, not bytes: eight emoji are eight characters.
        assert!(validate_new_password("🔑🔑🔑🔑🔑🔑🔑🔑", "🔑🔑🔑🔑🔑🔑🔑🔑", 8).is_empty());
    }

    #[test]
    fn usernames() {
        assert_eq!(validate_username(" Alice.Smith ").unwrap(), "alice.smith");
        for bad in ["", "ab", "-alice", "al ice", "alice@example.com", "ålice", &"a".repeat(65)] {
            assert!(validate_username(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(validate_email(" Alice@Example.COM ", "email").unwrap(), "alice@example.com");
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@example",
            "alice@exa mple.com",
            "a b@example.com",
            "alice@.example.com",
            "alice@example..com",
        ] {
            assert!(validate_email(bad, "email").is_err(), "{bad:?}");
        }
        assert!(validate_email(&format!("{}@example.com", "a".repeat(250)), "email").is_err());
    }

    #[test]
    fn phones_are_e164() {
        assert_eq!(validate_phone("+44 7700 900123").unwrap().as_deref(), Some("+447700900123"));
        assert_eq!(validate_phone("+1 (555) 010-9999").unwrap().as_deref(), Some("+15550109999"));
        assert_eq!(validate_phone("").unwrap(), None);
        for bad in ["07700 900123", "+0 123456789", "+12", "+1234567890123456", "+44 77OO", "tel:+447700900123"] {
            assert!(validate_phone(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn addresses_are_trimmed_lines() {
        assert_eq!(validate_address("  1 Main Street \r\n\n Springfield  ").unwrap().as_deref(), Some("1 Main Street\nSpringfield"));
        assert_eq!(validate_address(" \n ").unwrap(), None);
        assert!(validate_address(&"x".repeat(ADDRESS_MAX + 1)).is_err());
        assert!(validate_address(&"a\n".repeat(11)).is_err());
        assert!(validate_address("a\tb").is_err());
    }

    #[test]
    fn picture_urls_are_https_and_safe_to_embed() {
        assert!(validate_picture_url("https://example.com/me.png").unwrap().is_some());
        assert!(validate_picture_url("https://cdn.example.com:8443/a/b.jpg?s=1").unwrap().is_some());
        for bad in [
            "http://example.com/me.png",
            "javascript:alert(1)",
            "https://",
            "https://localhost/me.png",
            "https://user:pw@example.com/x",
            "https://example.com/a b.png",
            "https://example.com/\"onerror=\"x",
            "data:image/png;base64,AAAA",
        ] {
            assert!(validate_picture_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_locales_and_zones() {
        assert_eq!(validate_name("  Ada ", "given_name").unwrap().as_deref(), Some("Ada"));
        assert_eq!(validate_name("", "given_name").unwrap(), None);
        assert!(validate_name("a\u{0}b", "given_name").is_err());
        assert!(validate_name(&"a".repeat(101), "given_name").is_err());
        assert_eq!(validate_locale("en-gb").unwrap().as_deref(), Some("en-GB"));
        assert!(validate_locale("xx-YY").is_err());
        assert_eq!(validate_time_zone("Europe/Paris").unwrap().as_deref(), Some("Europe/Paris"));
        assert!(validate_time_zone("Mars/Olympus").is_err());
    }
}
