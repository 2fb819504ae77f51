use serde::{Deserialize, Serialize};

/// What the setup page may show for the link it was opened with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetupState {
    Ready,
    AlreadySetUp,
    InvalidToken,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupInfo {
    pub state: SetupState,
    pub password_min_length: usize,
}

/// A half-finished sign-in, as the verify page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignIn {
    /// One-based step number, and how many steps the flow has.
    pub step: usize,
    pub steps: usize,
    /// What this person can use at this step, in the flow's order.
    pub options: Vec<proto::flow::Method>,
    pub display_name: String,
    pub failures_left: i32,
    pub expires_in_secs: i64,
}

/// What My Account's login flow still asks of a session that signed in
/// through an application whose flow asks for less.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepUp {
    /// Nothing: My Account opens.
    Done,
    /// A proof with one of these.
    Prove(crate::features::reauth::ReauthOptions),
    /// Step `step` (one-based) asks for a method the person has not set up.
    Blocked { step: usize },
}
