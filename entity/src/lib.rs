//! SeaORM entities: one module per table. No entity crosses the wire; the
//! `app` crate maps them to DTOs. Secret columns use [`Secret`], whose `Debug`
//! never prints the value.

pub mod app_favourites;
pub mod app_launches;
pub mod app_settings;
pub mod application_logos;
pub mod applications;
pub mod auth_events;
pub mod backup_codes;
pub mod ceremonies;
pub mod email_tokens;
pub mod known_devices;
pub mod login_flows;
pub mod mail_outbox;
pub mod oidc_clients;
pub mod oidc_consents;
pub mod oidc_grants;
pub mod oidc_requests;
pub mod oidc_tokens;
pub mod partial_logins;
pub mod passkeys;
pub mod password_credentials;
pub mod prelude;
pub mod secret;
pub mod security_answers;
pub mod setup_tokens;
pub mod signing_keys;
pub mod totp_credentials;
pub mod user_sessions;
pub mod users;

pub use secret::Secret;
