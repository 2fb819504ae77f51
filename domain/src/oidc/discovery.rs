//! The provider metadata (`/.well-known/openid-configuration`, OpenID
//! Connect Discovery 1.0 §3): what a relying party needs to configure itself.

use super::input::SCOPES;
use super::keys::SigningAlg;
use super::requests::SCOPE_CLAIMS;

/// The metadata of the provider at `issuer` (the public origin).
pub fn document(issuer: &str) -> serde_json::Value {
    let at = |path: &str| format!("{issuer}{path}");
    let mut claims = vec!["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "sid"];
    claims.extend(SCOPE_CLAIMS.iter().flat_map(|(_, c)| c.iter().copied()));
    serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": at("/oauth2/authorize"),
        "token_endpoint": at("/oauth2/token"),
        "userinfo_endpoint": at("/oauth2/userinfo"),
        "jwks_uri": at("/oauth2/jwks"),
        "revocation_endpoint": at("/oauth2/revoke"),
        "introspection_endpoint": at("/oauth2/introspect"),
        "end_session_endpoint": at("/oauth2/logout"),
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": SigningAlg::ALL.map(SigningAlg::name),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": claims,
        "claims_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "acr_values_supported": ["1", "2"],
        "display_values_supported": ["page"],
        "claim_types_supported": ["normal"],
    })
}
