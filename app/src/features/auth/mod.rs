//! Sign-in, sign-out and creating the first administrator.
//!
//! Pages: `/login`, `/setup?token=…`. Functions under `/api/auth/`.
//! Security: password sign-in never reveals whether an account exists (same
//! message and the same argon2 work); a fresh session id at every sign-in;
//! `next` is followed only when it is a local path; setup tokens are
//! single-use, hashed at rest and expire after 30 minutes.

pub mod api;
pub mod types;
pub mod view;
