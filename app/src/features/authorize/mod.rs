//! Signing in to an application through Latchkey (OpenID Connect): the
//! page an authorization waits on when it needs the person, either a proof
//! (a step the application's login flow asks for and the session has not
//! shown, or a fresh sign-in for `prompt=login` / `max_age`) or consent.
//!
//! Page `/oauth2/continue?request=…`. The protocol endpoints themselves
//! live in `server::routes::oidc`; the rules in `domain::oidc`.

pub mod api;
pub mod types;
pub mod view;
