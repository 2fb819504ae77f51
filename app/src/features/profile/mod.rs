//! Overview and Personal info.
//!
//! Pages: `/myaccount` (overview), `/myaccount/personal-info` (view and edit).
//! Functions under `/api/account/`, all behind `require_user()`.
//! Validation is [`types::validate_profile`], run by the browser as the person
//! types and by the server before anything is written. Changing the email
//! address marks it unverified.

pub mod api;
pub mod time_zones;
pub mod types;
pub mod view;
