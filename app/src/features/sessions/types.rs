use serde::{Deserialize, Serialize};

/// One signed-in browser, as the person sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: String,
    /// "Firefox 128", or "Unknown browser".
    pub browser: String,
    /// "Linux", "Android 14", or "Unknown system".
    pub os: String,
    pub ip: Option<String>,
    /// When it signed in (in the person's time zone).
    pub started: String,
    /// "just now", "5 minutes ago", …
    pub last_active: String,
    /// How it signed in: "Password, Authenticator app".
    pub methods: String,
    /// The browser asking.
    pub current: bool,
    /// Applications this session signed in to (OpenID Connect).
    pub apps: Vec<String>,
}

#[cfg(feature = "ssr")]
impl SessionInfo {
    /// A session row as its owner sees it (`current`: the session asking),
    /// times in the viewer's time zone.
    pub fn seen(row: entity::user_sessions::Model, current: uuid::Uuid, tz: Option<&str>, now: chrono::DateTime<chrono::Utc>) -> Self {
        let (browser, os) = domain::sessions::describe_agent(row.user_agent.as_deref());
        let amr: Vec<String> = serde_json::from_str(&row.amr).unwrap_or_default();
        Self {
            id: row.id.to_string(),
            browser,
            os,
            ip: row.ip,
            started: crate::ssr::format_time(row.created_at, tz),
            last_active: ago(now, row.last_seen_at),
            methods: methods_label(&amr),
            current: row.id == current,
            apps: Vec::new(),
        }
    }
}

/// How long ago `then` was, from `now`, in words.
pub fn ago(now: chrono::DateTime<chrono::Utc>, then: chrono::DateTime<chrono::Utc>) -> String {
    let secs = (now - then).num_seconds().max(0);
    let plural = |n: i64, unit: &str| if n == 1 { format!("1 {unit} ago") } else { format!("{n} {unit}s ago") };
    match secs {
        0..60 => "just now".into(),
        60..3600 => plural(secs / 60, "minute"),
        3600..86_400 => plural(secs / 3600, "hour"),
        _ => plural(secs / 86_400, "day"),
    }
}

/// The sign-in methods behind RFC 8176 `amr` values, for people.
pub fn methods_label(amr: &[String]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for a in amr {
        let label = match a.as_str() {
            "pwd" => "Password",
            "otp" => "One-time code",
            "hwk" => "Passkey",
            _ => continue,
        };
        if !out.contains(&label) {
            out.push(label);
        }
    }
    if out.is_empty() { "Unknown".into() } else { out.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn times_read_as_words() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
        for (secs, want) in
            [(0, "just now"), (59, "just now"), (60, "1 minute ago"), (300, "5 minutes ago"), (7200, "2 hours ago"), (90_000, "1 day ago")]
        {
            assert_eq!(ago(now, now - Duration::seconds(secs)), want);
        }
        assert_eq!(ago(now, now + Duration::seconds(30)), "just now", "clock skew never reads as the future");
    }

    #[test]
    fn amr_values_read_as_methods() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(methods_label(&v(&["pwd", "otp", "mfa"])), "Password, One-time code");
        assert_eq!(methods_label(&v(&["hwk", "user"])), "Passkey");
        assert_eq!(methods_label(&v(&[])), "Unknown");
    }
}
