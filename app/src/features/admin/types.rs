use proto::flow::Flow;
use serde::{Deserialize, Serialize};

/// An application in the console's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSummary {
    /// Stable id, used in the console's paths (`myaccount`).
    pub id: String,
    pub name: String,
    pub description: String,
    /// Where people open it.
    pub access_url: String,
    pub enabled: bool,
    /// Shipped with Latchkey (cannot be deleted).
    pub built_in: bool,
}

/// Who changed something, and when (formatted for the admin).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub by: String,
    pub at: String,
}

/// My Account's configuration page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyAccountApp {
    pub app: AppSummary,
    /// The last time the portal was switched on or off.
    pub switched: Option<Change>,
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
