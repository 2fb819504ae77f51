//! SeaORM entities: one module per table. No entity crosses the wire; the
//! `app` crate maps them to DTOs. Secret columns use [`Secret`], whose `Debug`
//! never prints the value.

pub mod app_settings;
pub mod password_credentials;
pub mod prelude;
pub mod secret;
pub mod setup_tokens;
pub mod user_sessions;
pub mod users;

pub use secret::Secret;
