//! The portal's features, each with its types (DTOs and validation shared by
//! browser and server), its server functions (`api`) and its pages (`view`).

pub mod admin;
pub mod applications;
pub mod auth;
pub mod authorize;
pub mod consents;
pub mod passkeys;
pub mod password;
pub mod profile;
pub mod reauth;
pub mod recovery;
pub mod security;
pub mod sessions;
