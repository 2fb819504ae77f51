//! Latchkey as an OpenID Connect provider.
//!
//! - [`clients`]: an application's client registration ([`input`] checks it).
//! - [`keys`]: the ID token signing keys and their rotation.
//! - [`requests`]: authorization requests, checked and kept while the person acts.
//! - [`authorize`]: what an authorization request needs next (sign-in,
//!   step-up, consent) and the code at the end.
//! - [`grants`]: consents, grants, codes and tokens.
//! - [`tokens`]: ID tokens; [`claims`]: userinfo; [`discovery`]: the metadata.

pub mod authorize;
pub mod claims;
pub mod clients;
pub mod discovery;
pub mod grants;
pub mod input;
pub mod keys;
pub mod requests;
pub mod tokens;

/// An OAuth error answer (RFC 6749 §5.2): a code for the client, a
/// description for its developer, and the HTTP status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn bad_request(error: &'static str, description: &str) -> Self {
        Self { status: 400, error, description: description.to_owned() }
    }

    /// Client authentication failed (RFC 6749 §5.2: 401).
    pub fn invalid_client(description: &str) -> Self {
        Self { status: 401, error: "invalid_client", description: description.to_owned() }
    }

    /// A failure of the server itself: logged; the client sees no detail.
    pub fn server(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "OpenID Connect endpoint failed");
        Self { status: 500, error: "server_error", description: "The server could not complete the request.".into() }
    }
}

#[cfg(test)]
mod tests;
