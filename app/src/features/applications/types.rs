use serde::{Deserialize, Serialize};

use crate::features::admin::types::AppSummary;

/// An application a person may launch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppCard {
    pub app: AppSummary,
    pub favourite: bool,
    /// The person has signed in to it through Latchkey (and allowed it).
    pub signed_in: bool,
}

/// The Applications page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyApps {
    /// Matching the search: favourites first, then by name.
    pub apps: Vec<AppCard>,
    /// Last used first, at most five.
    pub recent: Vec<AppSummary>,
    /// Whether any application at all is listed for people (to tell "none
    /// match the search" from "none yet").
    pub any: bool,
}

#[cfg(feature = "ssr")]
impl From<domain::apps::discover::Listed> for AppCard {
    fn from(l: domain::apps::discover::Listed) -> Self {
        Self { app: AppSummary::from(&l.app), favourite: l.favourite, signed_in: false }
    }
}
