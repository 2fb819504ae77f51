//! OpenID Connect scopes as forms carry them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The scopes besides `openid` an application may be allowed, in the order
/// forms list them.
pub const OPTIONAL: [&str; 5] = ["profile", "email", "address", "phone", "offline_access"];

/// The optional permissions ticked on a form (`scopes[email]=on`…): the
/// consent page and My Account's Connected apps.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticked {
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub offline_access: Option<String>,
}

impl Ticked {
    /// The ticked scopes.
    pub fn scopes(&self) -> BTreeSet<String> {
        [
            ("profile", &self.profile),
            ("email", &self.email),
            ("address", &self.address),
            ("phone", &self.phone),
            ("offline_access", &self.offline_access),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_some())
        .map(|(s, _)| s.to_owned())
        .collect()
    }

    /// The form value ticking the scopes for which `on` says so.
    pub fn from_fn(on: impl Fn(&str) -> bool) -> Self {
        let tick = |s: &str| on(s).then(|| "on".to_owned());
        Self {
            profile: tick("profile"),
            email: tick("email"),
            address: tick("address"),
            phone: tick("phone"),
            offline_access: tick("offline_access"),
        }
    }
}
