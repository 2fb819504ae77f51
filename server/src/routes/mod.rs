//! Where each kind of endpoint lives.
//!
//! - [`browser`]: what people's browsers use. Pages, server functions and
//!   the bundle. These requests carry the session cookie, and they pass the
//!   CSRF origin check and the signing of plain-form errors.
//! - [`protocol`]: machine-to-machine endpoints: health checks, and the
//!   OpenID Connect endpoints ([`oidc`]: `/oauth2/*`, `/.well-known/*`).
//!   The session and CSRF layers never run for them: clients authenticate
//!   their own way, and only the authorization and logout endpoints read
//!   the session cookie, themselves.
//!
//! Both sit under the same outer layers (`crate::router`): security headers,
//! compression, the request timeout, metrics and the request log.

pub mod browser;
pub mod oidc;
pub mod protocol;
