use proto::flow::{Condition, Flow, Method, Step};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::error::AppError;

/// An application as the console and My Account show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSummary {
    /// Stable, URL-safe id, used in the console's paths (`myaccount`).
    pub id: String,
    pub name: String,
    pub description: String,
    /// Where people open it.
    pub access_url: String,
    /// Address of its logo (uploaded or https), if it has one.
    pub logo: Option<String>,
    pub enabled: bool,
    /// Listed in My Account's Applications.
    pub discoverable: bool,
    /// Shipped with Latchkey (cannot be deleted).
    pub built_in: bool,
}

impl AppSummary {
    /// The letter of the avatar shown when there is no logo.
    pub fn initial(&self) -> String {
        self.name.chars().find(|c| c.is_alphanumeric()).map(|c| c.to_uppercase().collect()).unwrap_or_else(|| "?".into())
    }

    /// One of eight avatar colours, the same for the same name everywhere.
    pub fn avatar_hue(&self) -> usize {
        self.name.bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize)) % 8
    }
}

#[cfg(feature = "ssr")]
impl From<&domain::apps::App> for AppSummary {
    fn from(a: &domain::apps::App) -> Self {
        let logo = match (&a.logo_version, &a.logo_url) {
            (Some(v), _) => Some(format!("{}/{}?v={v}", crate::routes::LOGOS, a.id)),
            (None, url) => url.clone(),
        };
        Self {
            id: a.handle.clone(),
            name: a.name.clone(),
            description: a.description.clone(),
            access_url: a.access_url.clone(),
            logo,
            enabled: a.enabled,
            discoverable: a.discoverable,
            built_in: a.built_in,
        }
    }
}

#[cfg(feature = "ssr")]
impl AppSummary {
    /// Makes a path on this site (My Account's `/myaccount`) a full address.
    pub fn with_origin(mut self, origin: &str) -> Self {
        if self.access_url.starts_with('/') {
            self.access_url = format!("{origin}{}", self.access_url);
        }
        self
    }
}

#[cfg(feature = "ssr")]
impl TryFrom<AppForm> for domain::apps::AppInput {
    type Error = AppError;

    /// `logo_file` is a `data:` URL of the file (what the browser's reader
    /// gives) or bare base64.
    fn try_from(f: AppForm) -> Result<Self, AppError> {
        use base64::Engine as _;
        let logo_upload = match f.logo_file.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            None => None,
            Some(data) => {
                let b64 = data.split_once(";base64,").map_or(data, |(_, b)| b);
                Some(
                    base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .map_err(|_| AppError::field("logo", "The file could not be read. Choose the image again."))?,
                )
            }
        };
        Ok(Self {
            name: f.name,
            description: f.description,
            access_url: f.access_url,
            logo_url: f.logo_url,
            logo_upload,
            remove_logo: f.remove_logo.is_some(),
            discoverable: f.discoverable.is_some(),
        })
    }
}

/// Who changed something, and when (formatted for the admin).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub by: String,
    pub at: String,
}

/// An application's page in the console.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppDetail {
    pub app: AppSummary,
    /// The https logo address, as the General form shows it ("" if none).
    pub logo_url: String,
    /// The logo is an uploaded image.
    pub uploaded_logo: bool,
    pub created: Option<Change>,
    pub updated: Option<Change>,
    /// The last time it was switched on or off.
    pub switched: Option<Change>,
}

/// The General form (new and edit), as `form[…]` fields. `logo_file` is
/// the uploaded image, base64, read by the page's script (a plain form
/// gives an address instead).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppForm {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub access_url: String,
    #[serde(default)]
    pub logo_url: String,
    #[serde(default)]
    pub logo_file: Option<String>,
    /// Present ("on") to drop the logo.
    #[serde(default)]
    pub remove_logo: Option<String>,
    /// Present ("on") when ticked.
    #[serde(default)]
    pub discoverable: Option<String>,
}

/// One saved version of a login flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowVersion {
    /// 0: the built-in default.
    pub version: i32,
    pub saved: Option<Change>,
    /// Step by step, for people.
    pub steps: Vec<String>,
    /// What this version changed from the one before it.
    pub changes: Vec<String>,
    pub current: bool,
}

/// The Login Flow tab: the flow in force and its history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginFlowInfo {
    /// The version in force; send it back when saving (stale saves are refused).
    pub version: i32,
    pub flow: Flow,
    /// Newest first, ending with the built-in default.
    pub history: Vec<FlowVersion>,
}

/// Why a console change is refused to an administrator signed in with one
/// factor, and what to do about it.
pub const NEEDS_TWO_FACTORS: &str = "Changes in the console need two factors. You signed in with a password only: \
     add an authenticator app or a passkey in Security, then confirm it's you with it (or sign in again with it).";

/// The administrator using the console.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminMe {
    pub name: String,
    /// This session used two factors or a passkey: console changes work.
    pub multi_factor: bool,
}

/// One row of the login-flow form without JavaScript (`steps[i][…]`): a
/// checkbox per authenticator option, present when ticked, and when the
/// step applies.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlainStep {
    pub password: Option<String>,
    pub passkey: Option<String>,
    pub totp: Option<String>,
    pub backup_code: Option<String>,
    pub when: Option<String>,
}

impl PlainStep {
    fn ticked(&self, m: Method) -> bool {
        match m {
            Method::Password => self.password.is_some(),
            Method::Passkey => self.passkey.is_some(),
            Method::Totp => self.totp.is_some(),
            Method::BackupCode => self.backup_code.is_some(),
        }
    }

    /// The flow the form's rows describe: rows with no option ticked are left
    /// out (that is how the form adds and removes steps); the first step
    /// always applies. Whether the flow is usable is checked afterwards, as
    /// for the editor's (`Flow::validate`).
    pub fn flow(rows: &[PlainStep]) -> Result<Flow, crate::error::FieldError> {
        let mut steps = Vec::new();
        for row in rows.iter().take(proto::flow::MAX_STEPS + 1) {
            let options: Vec<Method> = Method::ALL.into_iter().filter(|m| row.ticked(*m)).collect();
            if options.is_empty() {
                continue;
            }
            let when = match row.when.as_deref() {
                _ if steps.is_empty() => Condition::Always,
                None | Some("") => Condition::Always,
                Some(w) => Condition::parse(w)
                    .ok_or_else(|| crate::error::FieldError::new("flow", format!("Choose when step {} applies.", steps.len() + 1)))?,
            };
            steps.push(Step { options, when });
        }
        Ok(Flow { steps })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(options: &[&str], when: &str) -> PlainStep {
        let on = |m: &str| options.contains(&m).then(|| "on".to_owned());
        PlainStep {
            password: on("password"),
            passkey: on("passkey"),
            totp: on("totp"),
            backup_code: on("backup_code"),
            when: Some(when.to_owned()),
        }
    }

    #[test]
    fn the_plain_form_rows_make_the_flow_and_empty_rows_drop_out() {
        let rows = [row(&[], "always"), row(&["password", "passkey"], "if_admin"), row(&[], "always"), row(&["totp"], "if_enrolled")];
        let flow = PlainStep::flow(&rows).unwrap();
        assert_eq!(
            flow,
            Flow {
                steps: vec![
                    Step { options: vec![Method::Password, Method::Passkey], when: Condition::Always },
                    Step { options: vec![Method::Totp], when: Condition::IfEnrolled },
                ]
            },
            "the first step always applies, whatever the form said"
        );
        assert!(PlainStep::flow(&[row(&["password"], "always"), row(&["totp"], "sometimes")]).is_err());
        assert!(PlainStep::flow(&[]).unwrap().steps.is_empty());
    }
}

pub use proto::scopes::Ticked;

/// An application's OpenID Connect settings, as the Protocol tab shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientView {
    /// OpenID Connect is on for the application.
    pub registered: bool,
    pub client_id: String,
    /// The settings (defaults when not registered), as the form's fields.
    pub form: ClientForm,
    /// When the current secret was generated (confidential clients).
    pub secret_set: Option<String>,
    /// A secret generated by a form sent without JavaScript, shown until
    /// the administrator says it is saved (five minutes at most).
    pub pending_secret: Option<String>,
    pub issuer: String,
    pub discovery_url: String,
    pub updated: Option<Change>,
}

/// The Protocol tab's form. Scopes and switches are present ("on") when ticked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientForm {
    /// `confidential` or `public`.
    pub client_type: String,
    /// One per line.
    #[serde(default)]
    pub redirect_uris: String,
    #[serde(default)]
    pub post_logout_redirect_uris: String,
    /// The optional scopes allowed (`openid` always is).
    #[serde(default)]
    pub scopes: Ticked,
    #[serde(default)]
    pub trusted: Option<String>,
    pub access_token_minutes: String,
    pub refresh_token_days: String,
    pub id_token_alg: String,
}

/// The optional scopes of [`ClientForm`], in the order the form lists them.
pub use proto::scopes::OPTIONAL as OPTIONAL_SCOPES;

impl ClientForm {
    /// Whether optional `scope` is ticked.
    pub fn has(&self, scope: &str) -> bool {
        self.scopes.scopes().contains(scope)
    }
}

#[cfg(feature = "ssr")]
impl From<&ClientForm> for domain::oidc::input::ClientSettings {
    fn from(f: &ClientForm) -> Self {
        let scopes = std::iter::once("openid").chain(OPTIONAL_SCOPES.into_iter().filter(|s| f.has(s))).map(str::to_owned).collect();
        Self {
            client_type: f.client_type.clone(),
            redirect_uris: f.redirect_uris.clone(),
            post_logout_redirect_uris: f.post_logout_redirect_uris.clone(),
            scopes,
            trusted: f.trusted.is_some(),
            access_token_minutes: f.access_token_minutes.clone(),
            refresh_token_days: f.refresh_token_days.clone(),
            id_token_alg: f.id_token_alg.clone(),
        }
    }
}

#[cfg(feature = "ssr")]
impl ClientForm {
    fn ticked(on: bool) -> Option<String> {
        on.then(|| "on".to_owned())
    }

    /// The form of a registered client.
    pub fn of(c: &domain::oidc::clients::Client) -> Self {
        Self {
            client_type: if c.public { "public" } else { "confidential" }.into(),
            redirect_uris: c.redirect_uris.join("\n"),
            post_logout_redirect_uris: c.post_logout_redirect_uris.join("\n"),
            scopes: Ticked::from_fn(|s| c.scopes.contains(s)),
            trusted: Self::ticked(c.trusted),
            access_token_minutes: (c.access_token.as_secs() / 60).to_string(),
            refresh_token_days: (c.refresh_token.as_secs() / 86_400).to_string(),
            id_token_alg: c.id_token_alg.name().into(),
        }
    }

    /// The form a new client starts from.
    pub fn defaults() -> Self {
        let d = domain::oidc::input::ClientSettings::defaults();
        Self {
            client_type: d.client_type,
            scopes: Ticked::from_fn(|s| d.scopes.iter().any(|x| x == s)),
            access_token_minutes: d.access_token_minutes,
            refresh_token_days: d.refresh_token_days,
            id_token_alg: d.id_token_alg,
            ..Self::default()
        }
    }
}
