use sea_orm::entity::prelude::*;

use crate::Secret;

/// An ID token signing key (see `domain::oidc::keys`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    /// RFC 7638 thumbprint of the public key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    /// `RS256`, `ES256` or `EdDSA`.
    pub alg: String,
    /// 1 for the first key of its algorithm, one more at each rotation.
    pub generation: i32,
    /// The private key (DER), sealed with the server key.
    pub private_key: Secret,
    /// The public JWK as published.
    pub public_jwk: String,
    pub created_at: DateTimeUtc,
    /// Published at once, signs only from this time, so relying parties
    /// that cache the key set have seen it before a token carries its `kid`.
    pub signs_from: DateTimeUtc,
    /// When its successor began signing: still published until every token
    /// it signed has expired.
    pub retired_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
