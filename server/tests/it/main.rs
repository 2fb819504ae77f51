//! Integration tests: each test starts a real Latchkey on an ephemeral port
//! with a database of its own, and talks HTTP to it. Every test runs on
//! SQLite and, when `LATCHKEY_TEST_POSTGRES_URL` is set, on PostgreSQL.
//! One test binary (see STYLE.md): add files here, not new `[[test]]`s.

mod smtp;
mod support;

mod admin;
mod applications;
mod auth;
mod cli;
mod edge;
mod garbage;
mod instances;
mod mail;
mod metrics;
mod oidc;
mod password;
mod profile;
mod recovery;
mod security;
mod sessions;
mod setup;
