use serde::{Deserialize, Serialize};

use crate::features::admin::types::AppSummary;

/// A permission an application holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    pub scope: String,
    pub label: String,
    /// Signing in itself (`openid`): only revoking access removes it.
    pub required: bool,
}

/// An application the person allowed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedApp {
    pub app: AppSummary,
    pub permissions: Vec<Permission>,
    /// In the person's time zone.
    pub granted_on: String,
    pub last_used: Option<String>,
}

#[cfg(feature = "ssr")]
impl ConnectedApp {
    pub fn new(consent: &domain::oidc::grants::Consent, app: &domain::apps::App, time_zone: Option<&str>) -> Self {
        let permissions = domain::oidc::claims::ordered(&consent.scopes)
            .into_iter()
            .map(|s| Permission { label: domain::oidc::claims::describe(&s).to_owned(), required: s == "openid", scope: s })
            .collect();
        Self {
            app: AppSummary::from(app),
            permissions,
            granted_on: crate::ssr::format_time(consent.granted_at, time_zone),
            last_used: consent.last_used_at.map(|t| crate::ssr::format_time(t, time_zone)),
        }
    }
}
