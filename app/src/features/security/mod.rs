//! The Security section: passkeys, authenticator apps (TOTP), backup codes,
//! re-authentication and the person's security activity.
//!
//! Page: `/myaccount/security`. Functions under `/api/security/`.
//! Security: every enrolment and removal needs a sign-in proof no older than
//! the re-authentication window, checked on the server; removals that would
//! lock the person out are refused; TOTP secrets and backup codes are shown
//! once and never sent again.

pub mod api;
pub mod types;
pub mod view;
