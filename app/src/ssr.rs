//! Server-only glue for server functions: services from context, the request's
//! session (found by the server's session layer), guards, and the cookie.

use chrono::{DateTime, Utc};
use domain::sessions::Authenticated;
use domain::{ClientMeta, Ctx};
use http::header::{ACCEPT, COOKIE, SET_COOKIE};
use http::request::Parts;
use http::{HeaderMap, HeaderValue};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use crate::error::AppError;

/// What every server function may use. The server provides it as context for
/// page renders and server-function calls alike.
#[derive(Clone)]
pub struct Services {
    pub ctx: Ctx,
    pub cookie: SessionCookie,
    /// The public origin (`https://id.example.com`), for links shown to people.
    pub public_origin: String,
}

/// The session cookie: `__Host-` prefixed and `Secure` on https origins.
#[derive(Clone, Copy, Debug)]
pub struct SessionCookie {
    pub name: &'static str,
    pub secure: bool,
}

impl SessionCookie {
    pub fn for_https(https: bool) -> Self {
        if https { Self { name: "__Host-latchkey_session", secure: true } } else { Self { name: "latchkey_session", secure: false } }
    }

    /// A `Set-Cookie` value carrying `token` (a browser-session cookie; the
    /// server enforces idle and absolute expiry).
    pub fn set(&self, token: &str) -> String {
        format!("{}={token}; Path=/; HttpOnly; SameSite=Lax{}", self.name, if self.secure { "; Secure" } else { "" })
    }

    /// The cookie binding a half-finished sign-in to this browser.
    pub fn partial(&self) -> Self {
        Self { name: if self.secure { "__Host-latchkey_signin" } else { "latchkey_signin" }, secure: self.secure }
    }

    /// The cookie remembering who signed in on this browser before.
    pub fn device(&self) -> Self {
        Self { name: if self.secure { "__Host-latchkey_device" } else { "latchkey_device" }, secure: self.secure }
    }

    /// A `Set-Cookie` value that expires after `max_age_secs`.
    pub fn set_for(&self, value: &str, max_age_secs: u64) -> String {
        format!("{}; Max-Age={max_age_secs}", self.set(value))
    }

    pub fn clear(&self) -> String {
        format!("{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}", self.name, if self.secure { "; Secure" } else { "" })
    }

    /// The token in the request's `Cookie` headers, if any.
    pub fn read(&self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == self.name)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }
}

/// What the server's session layer found for this request (a request
/// extension): who is calling, with the account row read with the session
/// (`auth.user`: name, time zone…), so server functions need not read it
/// again. Where they came from is [`ClientMeta`]; the request's time is
/// [`RequestTime`].
#[derive(Clone, Debug, Default)]
pub struct RequestSession {
    pub auth: Option<Authenticated>,
    /// The raw cookie token, present even when it names no live session.
    pub token: Option<String>,
}

/// The time the request arrived, read once by the session layer: every
/// check and record of one request uses the same instant.
#[derive(Clone, Copy, Debug)]
pub struct RequestTime(pub DateTime<Utc>);

/// The request's time ([`RequestTime`]); the clock's when there is no
/// request (a page rendered for a test).
pub fn now() -> DateTime<Utc> {
    use_context::<Parts>()
        .and_then(|p| p.extensions.get::<RequestTime>().map(|t| t.0))
        .or_else(|| services().ok().map(|s| s.ctx.now()))
        .unwrap_or_else(|| domain::clock::Clock::now(&domain::clock::SystemClock))
}

pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| internal("Services missing from context"))
}

fn parts() -> Option<Parts> {
    use_context::<Parts>()
}

/// The path of the request being answered, if any.
pub fn request_path() -> Option<String> {
    parts().map(|p| p.uri.path().to_owned())
}

/// What the page being rendered loads in the browser ([`crate::routes::bundle_for`]).
/// Reads the request once, and only the flag it needs of the session.
pub fn bundle_for_request() -> crate::routes::Bundle {
    let Some(p) = parts() else { return crate::routes::bundle_for("", false) };
    let admin = p.extensions.get::<RequestSession>().and_then(|s| s.auth.as_ref()).is_some_and(|a| a.is_admin);
    crate::routes::bundle_for(p.uri.path(), admin)
}

pub fn session() -> RequestSession {
    parts().and_then(|p| p.extensions.get::<RequestSession>().cloned()).unwrap_or_default()
}

/// The value of one of the request's cookies.
pub fn read_cookie(cookie: SessionCookie) -> Option<String> {
    parts().and_then(|p| cookie.read(&p.headers))
}

pub fn client_meta() -> ClientMeta {
    parts().and_then(|p| p.extensions.get::<ClientMeta>().cloned()).unwrap_or_default()
}

/// Whether this request is a navigation started by a page of this site
/// (`Sec-Fetch-Site: same-origin`, or a browser too old to say).
pub fn same_origin_navigation() -> bool {
    parts().is_none_or(|p| p.headers.get("sec-fetch-site").is_none_or(|v| v.as_bytes() == b"same-origin"))
}

/// Guard: a signed-in person.
pub fn require_user() -> Result<Authenticated, AppError> {
    session().auth.ok_or(AppError::Unauthenticated)
}

/// Guard: a signed-in person using My Account, which must be enabled. Every
/// My Account server function starts here, so switching the portal off
/// applies to the very next call, on every instance (read from the database).
/// Returns the services too: context is not reachable after an `.await` in
/// a page render, so callers take everything they need from here.
pub async fn require_account_user() -> Result<(Authenticated, Services), AppError> {
    let user = require_my_account_session()?;
    let services = services()?;
    if !domain::apps::my_account(&services.ctx.db).await?.enabled {
        let path = parts().map(|p| p.uri.path().to_owned()).unwrap_or_default();
        tracing::warn!(event = "access_denied", user = %user.user_id, path = %path, reason = "portal_disabled", "My Account call refused");
        return Err(AppError::PortalDisabled);
    }
    Ok((user, services))
}

/// Guard: [`require_account_user`] with a sign-in proof recent enough for a
/// sensitive change (otherwise `ReauthRequired`, and the page asks).
pub async fn require_recent_account_user() -> Result<(Authenticated, Services), AppError> {
    let (auth, s) = require_account_user().await?;
    domain::reauth::require_recent(&s.ctx, &auth, crate::ssr::now())?;
    Ok((auth, s))
}

/// Guard: a session that has met My Account's login flow. A sign-in
/// through an application whose flow asks for less (a password alone, say,
/// where My Account also asks for an authenticator code) opens that
/// application, not My Account or the console: `StepUpRequired`, and the
/// page asks for the missing step.
pub fn require_my_account_session() -> Result<Authenticated, AppError> {
    let user = require_user()?;
    if user.my_account_flow {
        return Ok(user);
    }
    let path = parts().map(|p| p.uri.path().to_owned()).unwrap_or_default();
    tracing::info!(event = "step_up_required", user = %user.user_id, path = %path, "My Account's flow not met by this session yet");
    Err(AppError::StepUpRequired)
}

/// Guard: a signed-in administrator (whose session met My Account's flow).
pub fn require_admin() -> Result<Authenticated, AppError> {
    let user = require_my_account_session()?;
    if user.is_admin {
        return Ok(user);
    }
    let path = parts().map(|p| p.uri.path().to_owned()).unwrap_or_default();
    tracing::warn!(event = "access_denied", user = %user.user_id, path = %path, reason = "not_admin", "administrator-only call refused");
    Err(AppError::Forbidden)
}

/// True for a plain HTML form post (JavaScript off): the answer is a redirect.
pub fn is_plain_form_post() -> bool {
    parts().and_then(|p| p.headers.get(ACCEPT).and_then(|v| v.to_str().ok()).map(|v| v.contains("text/html"))).unwrap_or(false)
}

/// For a plain form post, answer with a redirect to `target`; the enhanced
/// client receives `target` as the function's value and navigates itself.
pub fn redirect_plain_form(target: &str) {
    if is_plain_form_post() {
        leptos_axum::redirect(target);
    }
}

/// Where a plain form post goes back to: see [`crate::routes::back_to`].
pub fn back_to_form_page(extra: &str, fallback: &str) -> String {
    let origin = services().map(|s| s.public_origin).unwrap_or_default();
    let referer = parts().and_then(|p| p.headers.get(http::header::REFERER).and_then(|v| v.to_str().ok()).map(str::to_owned));
    crate::routes::back_to(&origin, referer.as_deref(), extra, fallback)
}

pub fn set_cookie(value: &str) {
    if let (Some(res), Ok(v)) = (use_context::<ResponseOptions>(), HeaderValue::from_str(value)) {
        res.append_header(SET_COOKIE, v);
    }
}

/// Sets the status of a page being rendered (e.g. 404).
pub fn set_status(code: u16) {
    if let (Some(res), Ok(status)) = (use_context::<ResponseOptions>(), http::StatusCode::from_u16(code)) {
        res.set_status(status);
    }
}

pub fn internal(detail: &str) -> AppError {
    let reference = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    tracing::error!(reference = %reference, detail, "internal error");
    AppError::Internal(reference)
}

impl From<domain::Error> for AppError {
    fn from(e: domain::Error) -> Self {
        use domain::Error as E;
        match e {
            E::NotFound => Self::NotFound,
            E::InvalidCredentials => Self::InvalidCredentials,
            E::Unauthenticated => Self::Unauthenticated,
            E::Forbidden => Self::Forbidden,
            E::RateLimited { retry_after } => Self::RateLimited { retry_after_secs: retry_after.as_secs_f64().ceil() as u64 },
            E::Invalid { field, message } => Self::field(field, message),
            E::InvalidFields(list) => Self::Invalid(list.into_iter().map(|(f, m)| crate::error::FieldError::new(f, m)).collect()),
            E::SetupTokenInvalid => Self::Refused(
                "This setup link is not valid: it is unknown, expired or already used. Restart Latchkey to get a new link.".into(),
            ),
            E::AlreadySetUp => Self::Refused("Latchkey already has an administrator. Sign in instead.".into()),
            E::ReauthRequired => Self::ReauthRequired,
            E::Refused(message) => Self::Refused(message),
            E::CeremonyExpired => {
                Self::Refused("This request expired or was already used. Start again (it is valid for 5 minutes).".into())
            }
            E::SignInExpired => Self::SignInExpired,
            E::LinkInvalid => Self::Refused(
                "This link does not work any more: it expired, was already used, or a newer one replaced it. Ask for a new link.".into(),
            ),
            E::TooManyFailures => Self::Refused("Too many wrong answers. For your safety, sign in again from the start.".into()),
            E::WouldBlock { people } => Self::WouldBlock { people },
            E::PasskeyRejected => Self::field("passkey", "That passkey was not accepted. Use a passkey registered for this account."),
            other => {
                let reference = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
                tracing::error!(reference = %reference, error = %other, "internal error");
                Self::Internal(reference)
            }
        }
    }
}

/// A time as a person reads it, in their time zone when they set one.
pub fn format_time(t: DateTime<Utc>, time_zone: Option<&str>) -> String {
    match time_zone.and_then(|z| z.parse::<chrono_tz::Tz>().ok()) {
        Some(tz) => t.with_timezone(&tz).format("%-d %b %Y, %H:%M %Z").to_string(),
        None => t.format("%-d %b %Y, %H:%M UTC").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_is_host_prefixed_and_secure_on_https() {
        let c = SessionCookie::for_https(true);
        assert_eq!(c.set("tok"), "__Host-latchkey_session=tok; Path=/; HttpOnly; SameSite=Lax; Secure");
        let c = SessionCookie::for_https(false);
        assert_eq!(c.set("tok"), "latchkey_session=tok; Path=/; HttpOnly; SameSite=Lax");
        assert!(c.clear().contains("Max-Age=0"));
    }

    #[test]
    fn cookie_token_is_read_among_others() {
        let c = SessionCookie::for_https(false);
        let mut h = HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("a=1; latchkey_session=abc ; b=2"));
        assert_eq!(c.read(&h).as_deref(), Some("abc"));
        let mut h = HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("xlatchkey_session=abc"));
        assert_eq!(c.read(&h), None);
    }

    fn with_session<T>(auth: Option<Authenticated>, f: impl FnOnce() -> T) -> T {
        let owner = Owner::new();
        owner.with(|| {
            let (mut parts, _) = http::Request::new(()).into_parts();
            parts.extensions.insert(RequestSession { auth, token: None });
            provide_context(parts);
            f()
        })
    }

    fn someone(is_admin: bool) -> Authenticated {
        let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 1, 0, 0, 0).unwrap();
        Authenticated {
            session_id: uuid::Uuid::nil(),
            user_id: uuid::Uuid::nil(),
            username: "u".into(),
            is_admin,
            created_at: t,
            auth_time: t,
            amr: vec!["pwd".into()],
            my_account_flow: true,
            user: entity_user(t, is_admin),
        }
    }

    fn entity_user(t: DateTime<Utc>, is_admin: bool) -> domain::users::User {
        domain::users::User {
            id: uuid::Uuid::nil(),
            username: "u".into(),
            email: "u@example.com".into(),
            email_verified: false,
            given_name: None,
            family_name: None,
            display_name: None,
            phone: None,
            locale: None,
            time_zone: None,
            picture_url: None,
            address: None,
            is_admin,
            created_at: t,
            updated_at: t,
            recovery_email: None,
            recovery_email_verified: false,
            second_factor_after_reset: false,
        }
    }

    /// Threat: privilege escalation. Only administrators pass `require_admin`.
    #[test]
    fn guards_tell_anonymous_people_users_and_admins_apart() {
        assert_eq!(with_session(None, require_user), Err(AppError::Unauthenticated));
        assert_eq!(with_session(None, require_admin), Err(AppError::Unauthenticated));
        assert!(with_session(Some(someone(false)), require_user).is_ok());
        assert_eq!(with_session(Some(someone(false)), require_admin), Err(AppError::Forbidden));
        assert_eq!(with_session(Some(someone(true)), require_admin).map(|a| a.is_admin), Ok(true));
    }

    /// Threat: a password-only sign-in through an application with a weak
    /// flow used to open My Account or the console, whose own flow asks
    /// for more (an authenticator code). Only the proof endpoints take it.
    #[test]
    fn a_session_short_of_my_accounts_flow_opens_neither_my_account_nor_the_console() {
        let short = |is_admin| Authenticated { my_account_flow: false, ..someone(is_admin) };
        assert!(with_session(Some(short(false)), require_user).is_ok());
        assert_eq!(with_session(Some(short(false)), require_my_account_session), Err(AppError::StepUpRequired));
        assert_eq!(with_session(Some(short(true)), require_admin), Err(AppError::StepUpRequired));
    }

    #[test]
    fn every_listed_time_zone_is_known_to_the_formatter() {
        for z in crate::features::profile::time_zones::TIME_ZONES {
            assert!(z.parse::<chrono_tz::Tz>().is_ok(), "{z}");
        }
        let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 7, 1, 12, 0, 0).unwrap();
        assert_eq!(format_time(t, Some("Europe/Paris")), "1 Jul 2026, 14:00 CEST");
        assert_eq!(format_time(t, None), "1 Jul 2026, 12:00 UTC");
    }
}

/// The CSP nonce the server's header layer chose for this response (a request
/// extension), handed to Leptos so its inline hydration scripts carry it.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

pub fn provide_csp_nonce() {
    if let Some(n) = parts().and_then(|p| p.extensions.get::<CspNonce>().cloned()) {
        provide_context(leptos::nonce::Nonce::from_value(n.0));
    }
}
