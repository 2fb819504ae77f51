//! Where each kind of endpoint lives.
//!
//! - [`browser`]: what people's browsers use. Pages, server functions and
//!   the bundle. These requests carry the session cookie, and they pass the
//!   CSRF origin check and the signing of plain-form errors.
//! - [`protocol`]: machine-to-machine endpoints. Health checks today; the
//!   OpenID Connect endpoints (`/oauth2/*`, `/.well-known/*`) belong here.
//!   They take no cookies, have no session, and authenticate callers their
//!   own way. The session and CSRF layers never run for them.
//!
//! Both sit under the same outer layers (`crate::router`): security headers,
//! compression, the request timeout, metrics and the request log.

pub mod browser;
pub mod protocol;
