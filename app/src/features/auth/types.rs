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
