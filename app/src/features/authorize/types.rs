use serde::{Deserialize, Serialize};

use crate::features::admin::types::AppSummary;
use crate::features::reauth::ReauthOptions;

/// One permission on the consent page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeChoice {
    pub scope: String,
    /// In plain words.
    pub label: String,
    /// `openid` can't be unticked: it is signing in itself.
    pub required: bool,
    /// Allowed before (a repeat consent shows what is new).
    pub allowed_before: bool,
}

/// What the authorization needs from the person now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// A proof with one of these methods; `again` when it is a fresh
    /// sign-in the application asked for rather than an extra step.
    Prove {
        options: ReauthOptions,
        again: bool,
    },
    Consent {
        scopes: Vec<ScopeChoice>,
    },
    /// Nothing more: go on to this address.
    Go(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorization {
    pub app: AppSummary,
    pub step: Step,
    /// Where the authorization continues after a proof.
    pub resume: String,
}

pub use proto::scopes::Ticked;
