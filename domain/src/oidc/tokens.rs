//! ID tokens (OpenID Connect Core §2, §3.1.3.6) and the check of an
//! `id_token_hint`.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use entity::oidc_grants;
use jsonwebtoken::{DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::clients::Client;
use super::keys::{self, SigningAlg};
use crate::{Ctx, Error, Result};

/// The claims of an ID token Latchkey issues.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct IdClaims {
    pub iss: String,
    /// The account's id: stable, never the username (which can change).
    pub sub: String,
    pub aud: String,
    pub azp: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub amr: Vec<String>,
    /// `2` after two factors or a passkey, `1` after one factor.
    pub acr: String,
    pub at_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// `at_hash`: the left half of the access token's hash, with the hash of
/// the signing algorithm (SHA-512 for Ed25519), base64url.
pub fn at_hash(alg: SigningAlg, access_token: &str) -> String {
    let digest: Vec<u8> = match alg {
        SigningAlg::Rs256 | SigningAlg::Es256 => sha2::Sha256::digest(access_token.as_bytes()).to_vec(),
        SigningAlg::EdDsa => sha2::Sha512::digest(access_token.as_bytes()).to_vec(),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// Signs the ID token of `grant` for `client`, alongside `access_token`.
/// The nonce goes only into the token answering the code exchange.
pub async fn id_token(
    ctx: &Ctx,
    client: &Client,
    grant: &oidc_grants::Model,
    access_token: &str,
    with_nonce: bool,
    now: DateTime<Utc>,
) -> Result<String> {
    let amr: Vec<String> = serde_json::from_str(&grant.amr).unwrap_or_default();
    let multi = amr.iter().any(|a| a == "mfa" || a == "hwk");
    let claims = IdClaims {
        iss: ctx.origin.to_string(),
        sub: grant.user_id.to_string(),
        aud: client.client_id.clone(),
        azp: client.client_id.clone(),
        exp: crate::clock::after(now, client.access_token).timestamp(),
        iat: now.timestamp(),
        auth_time: grant.auth_time.timestamp(),
        nonce: if with_nonce { grant.nonce.clone() } else { None },
        amr,
        acr: if multi { "2" } else { "1" }.to_owned(),
        at_hash: at_hash(client.id_token_alg, access_token),
        sid: grant.session_id.map(|s| s.to_string()),
    };
    keys::sign(&ctx.db, &ctx.keys, client.id_token_alg, &claims, now).await
}

/// The subject of an ID token this server signed for `client_id` (its
/// expiry does not matter: a hint names who the client believes is signed in).
pub async fn hint_subject(ctx: &Ctx, hint: &str, client_id: &str) -> Result<String> {
    let claims = verify_own(ctx, hint, Some(client_id)).await?;
    Ok(claims.sub)
}

/// Verifies an ID token signed by one of the published keys; `client_id`,
/// when given, must be its audience. Expiry is not checked.
pub async fn verify_own(ctx: &Ctx, jwt: &str, client_id: Option<&str>) -> Result<IdClaims> {
    let bad = || Error::invalid("id_token_hint", "not an ID token issued here");
    if jwt.len() > 8192 {
        return Err(bad());
    }
    let header = jsonwebtoken::decode_header(jwt).map_err(|_| bad())?;
    let kid = header.kid.ok_or_else(bad)?;
    let set = keys::jwks(&ctx.db, &ctx.keys, ctx.now()).await?;
    let jwk = set.find(&kid).ok_or_else(bad)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| bad())?;
    let mut v = Validation::new(header.alg);
    v.validate_exp = false;
    v.required_spec_claims.clear();
    v.set_issuer(&[ctx.origin.as_ref()]);
    match client_id {
        Some(c) => v.set_audience(&[c]),
        None => v.validate_aud = false,
    }
    Ok(jsonwebtoken::decode::<IdClaims>(jwt, &key, &v).map_err(|_| bad())?.claims)
}
