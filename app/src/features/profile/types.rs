use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::validation::*;

/// The Personal info form as submitted (every field a string, as in HTML).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub locale: String,
    #[serde(default)]
    pub time_zone: String,
    #[serde(default)]
    pub picture_url: String,
    /// Postal address, one line per line.
    #[serde(default)]
    pub address: String,
}

/// A validated, normalised profile; `None` means "not set".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidProfile {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub picture_url: Option<String>,
    pub address: Option<String>,
}

/// The one validation of Personal info, used by the browser and the server.
/// Returns every field's error at once.
pub fn validate_profile(f: &ProfileForm) -> Result<ValidProfile, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut take = |r: Result<Option<String>, FieldError>| r.map_err(|e| errors.push(e)).ok().flatten();
    let given_name = take(validate_name(&f.given_name, "given_name"));
    let family_name = take(validate_name(&f.family_name, "family_name"));
    let display_name = take(validate_name(&f.display_name, "display_name"));
    let phone = take(validate_phone(&f.phone));
    let locale = take(validate_locale(&f.locale));
    let time_zone = take(validate_time_zone(&f.time_zone));
    let picture_url = take(validate_picture_url(&f.picture_url));
    let address = take(validate_address(&f.address));
    let email = validate_email(&f.email, "email").map_err(|e| errors.push(e)).ok();
    match email {
        Some(email) if errors.is_empty() => {
            Ok(ValidProfile { given_name, family_name, display_name, email, phone, locale, time_zone, picture_url, address })
        }
        _ => Err(errors),
    }
}

/// A person's profile as My Account shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub username: String,
    pub email_verified: bool,
    pub form: ProfileForm,
    /// This save changed the address and sent a confirmation link to it.
    #[serde(default)]
    pub verification_sent: bool,
}

/// The header of the account shell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    /// An administrator whose session used one factor only: told that
    /// console changes need two.
    pub admin_needs_second_factor: bool,
}

/// When and from where a sign-in happened, ready to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    pub at: String,
    pub ip: Option<String>,
}

impl std::fmt::Display for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.ip {
            Some(ip) => write!(f, "{} from {ip}", self.at),
            None => f.write_str(&self.at),
        }
    }
}

/// The Overview page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub display_name: String,
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub picture_url: Option<String>,
    /// The sign-in that started this session.
    pub this_sign_in: Option<SignIn>,
    /// The sign-in before this one, if any.
    pub previous_sign_in: Option<SignIn>,
    pub member_since: String,
    pub is_admin: bool,
}

/// The name to greet a person by: display name, else given + family, else username.
pub fn display_name(display: Option<&str>, given: Option<&str>, family: Option<&str>, username: &str) -> String {
    if let Some(d) = display.filter(|d| !d.is_empty()) {
        return d.to_owned();
    }
    let full = [given, family].into_iter().flatten().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
    if full.is_empty() { username.to_owned() } else { full }
}

#[cfg(feature = "ssr")]
impl From<ValidProfile> for domain::profile::ProfileUpdate {
    fn from(v: ValidProfile) -> Self {
        Self {
            given_name: v.given_name,
            family_name: v.family_name,
            display_name: v.display_name,
            email: v.email,
            phone: v.phone,
            locale: v.locale,
            time_zone: v.time_zone,
            picture_url: v.picture_url,
            address: v.address,
        }
    }
}

#[cfg(feature = "ssr")]
impl Overview {
    /// The account with this sign-in and the one before, times in its own
    /// time zone.
    pub fn seen(
        u: domain::users::User,
        this: Option<domain::sessions::SignInRecord>,
        previous: Option<domain::sessions::SignInRecord>,
    ) -> Self {
        use crate::ssr::format_time;
        let tz = u.time_zone.as_deref();
        let show = |r: domain::sessions::SignInRecord| SignIn { at: format_time(r.at, tz), ip: r.ip };
        Self {
            display_name: display_name(u.display_name.as_deref(), u.given_name.as_deref(), u.family_name.as_deref(), &u.username),
            this_sign_in: this.map(show),
            previous_sign_in: previous.map(show),
            member_since: format_time(u.created_at, tz),
            picture_url: u.picture_url.clone(),
            username: u.username,
            email: u.email,
            email_verified: u.email_verified,
            is_admin: u.is_admin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ProfileForm {
        ProfileForm {
            given_name: " Ada ".into(),
            family_name: "Lovelace".into(),
            display_name: "".into(),
            email: "Ada@Example.com".into(),
            phone: "+44 20 7946 0000".into(),
            locale: "en-GB".into(),
            time_zone: "Europe/London".into(),
            picture_url: "https://example.com/ada.png".into(),
            address: " 12 Queen St \n London ".into(),
        }
    }

    #[test]
    fn a_valid_form_is_normalised() {
        let v = validate_profile(&form()).unwrap();
        assert_eq!(v.given_name.as_deref(), Some("Ada"));
        assert_eq!(v.display_name, None);
        assert_eq!(v.email, "ada@example.com");
        assert_eq!(v.phone.as_deref(), Some("+442079460000"));
        assert_eq!(v.address.as_deref(), Some("12 Queen St\nLondon"));
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let bad = ProfileForm {
            email: "not-an-email".into(),
            phone: "12345".into(),
            locale: "klingon".into(),
            time_zone: "Moon/Base".into(),
            picture_url: "http://example.com/x.png".into(),
            given_name: "x".repeat(101),
            ..form()
        };
        let errors = validate_profile(&bad).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["given_name", "phone", "locale", "time_zone", "picture_url", "email"]);
    }

    #[test]
    fn email_is_required() {
        let errors = validate_profile(&ProfileForm { email: " ".into(), ..form() }).unwrap_err();
        assert_eq!(errors[0].field, "email");
    }

    #[test]
    fn display_name_falls_back() {
        assert_eq!(display_name(Some("Ada L."), Some("Ada"), None, "ada"), "Ada L.");
        assert_eq!(display_name(None, Some("Ada"), Some("Lovelace"), "ada"), "Ada Lovelace");
        assert_eq!(display_name(Some(""), None, None, "ada"), "ada");
    }
}
