//! ID token signing keys: one current key per algorithm (RS256 always,
//! ES256 and EdDSA for clients that ask for them), kept in the database
//! sealed with the server key, so every instance sharing the database signs
//! with the same keys and publishes the same set.
//!
//! Rotation publishes a new key [`PUBLISH_LEAD`] before it signs anything
//! (relying parties cache the key set for at most [`JWKS_MAX_AGE`]), and a
//! retired key stays published for [`RETIRED_PUBLISHED`] after its
//! successor takes over, longer than any token it signed can live.

use chrono::{DateTime, Utc};
use entity::prelude::*;
use entity::signing_keys;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{EncodingKey, Header};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use std::time::Duration;
use zeroize::Zeroizing;

use crate::keys::Keys;
use crate::{Error, Result};

/// How long relying parties may cache the published key set (`Cache-Control`).
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(5 * 60);
/// A rotated-in key is published this long before it signs: twice the cache time.
pub const PUBLISH_LEAD: Duration = Duration::from_secs(2 * 5 * 60);
/// A retired key stays published this long: the longest token lifetime
/// (access tokens and ID tokens live at most a day) plus the cache time.
pub const RETIRED_PUBLISHED: Duration = Duration::from_secs(24 * 60 * 60 + 5 * 60);

/// Sealing context of private keys: a value sealed for another purpose never opens as one.
pub(crate) const SEAL_CONTEXT: &str = "oidc-signing-key";

/// An ID token signing algorithm Latchkey offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SigningAlg {
    Rs256,
    Es256,
    EdDsa,
}

impl SigningAlg {
    pub const ALL: [Self; 3] = [Self::Rs256, Self::Es256, Self::EdDsa];

    /// The JOSE name (`alg`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::Rs256 => jsonwebtoken::Algorithm::RS256,
            Self::Es256 => jsonwebtoken::Algorithm::ES256,
            Self::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        }
    }

    fn encoding_key(self, der: &[u8]) -> EncodingKey {
        match self {
            Self::Rs256 => EncodingKey::from_rsa_der(der),
            Self::Es256 => EncodingKey::from_ec_der(der),
            Self::EdDsa => EncodingKey::from_ed_der(der),
        }
    }
}

/// A freshly generated key pair: the private key (DER: PKCS#1 for RSA,
/// PKCS#8 otherwise) and its public JWK, whose `kid` is its RFC 7638 thumbprint.
struct NewKey {
    der: Zeroizing<Vec<u8>>,
    jwk: Jwk,
}

fn jwt_error(e: jsonwebtoken::errors::Error) -> Error {
    Error::Internal(format!("signing key: {e}"))
}

/// Generates a key (CPU work: RSA takes tens of milliseconds; call off the runtime).
fn generate(alg: SigningAlg) -> Result<NewKey> {
    let mut rng = rand::rngs::OsRng;
    let der = match alg {
        SigningAlg::Rs256 => {
            use rsa::pkcs1::EncodeRsaPrivateKey as _;
            let key = rsa::RsaPrivateKey::new(&mut rng, 2048).map_err(|e| Error::Internal(format!("RSA key: {e}")))?;
            Zeroizing::new(key.to_pkcs1_der().map_err(|e| Error::Internal(format!("RSA key: {e}")))?.as_bytes().to_vec())
        }
        SigningAlg::Es256 => {
            use p256::pkcs8::EncodePrivateKey as _;
            let key = p256::SecretKey::random(&mut rng);
            Zeroizing::new(key.to_pkcs8_der().map_err(|e| Error::Internal(format!("P-256 key: {e}")))?.as_bytes().to_vec())
        }
        SigningAlg::EdDsa => {
            // RFC 8410 §7: a PKCS#8 v1 OneAsymmetricKey around the 32-byte seed.
            const PREFIX: [u8; 16] = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
            let mut der = Zeroizing::new(PREFIX.to_vec());
            let mut seed = Zeroizing::new([0u8; 32]);
            rand::RngCore::fill_bytes(&mut rng, seed.as_mut_slice());
            der.extend_from_slice(seed.as_slice());
            der
        }
    };
    let mut jwk = Jwk::from_encoding_key(&alg.encoding_key(&der), alg.jwt()).map_err(jwt_error)?;
    jwk.common.key_id = Some(jwk.thumbprint(ThumbprintHash::SHA256).map_err(jwt_error)?);
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    Ok(NewKey { der, jwk })
}

async fn generate_off_runtime(alg: SigningAlg) -> Result<NewKey> {
    tokio::task::spawn_blocking(move || generate(alg)).await.map_err(|e| Error::Internal(format!("key generation: {e}")))?
}

fn row(
    keys: &Keys,
    alg: SigningAlg,
    generation: i32,
    key: &NewKey,
    now: DateTime<Utc>,
    signs_from: DateTime<Utc>,
) -> Result<signing_keys::ActiveModel> {
    Ok(signing_keys::ActiveModel {
        kid: Set(key.jwk.common.key_id.clone().unwrap_or_default()),
        alg: Set(alg.name().to_owned()),
        generation: Set(generation),
        private_key: Set(keys.seal(&key.der, SEAL_CONTEXT)?.into()),
        public_jwk: Set(serde_json::to_string(&key.jwk).map_err(|e| Error::Internal(e.to_string()))?),
        created_at: Set(now),
        signs_from: Set(signs_from),
        retired_at: Set(None),
    })
}

/// Creates the first key of every algorithm that has none; it signs at
/// once, as no relying party can have seen a key set yet. Called on first
/// use (the key set, a signature), so an instance that never speaks OpenID
/// Connect never generates keys. Instances doing it at the same moment
/// agree: the first insert of a generation wins.
pub async fn ensure(db: &impl ConnectionTrait, keys: &Keys, now: DateTime<Utc>) -> Result<()> {
    let present: Vec<String> = SigningKeys::find().select_only().column(signing_keys::Column::Alg).distinct().into_tuple().all(db).await?;
    for alg in SigningAlg::ALL.into_iter().filter(|a| !present.iter().any(|p| p == a.name())) {
        let key = generate_off_runtime(alg).await?;
        SigningKeys::insert(row(keys, alg, 1, &key, now, now)?)
            .on_conflict(OnConflict::columns([signing_keys::Column::Alg, signing_keys::Column::Generation]).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
        tracing::info!(alg = alg.name(), "signing key created");
    }
    Ok(())
}

/// A key that a rotation added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotated {
    pub alg: SigningAlg,
    pub kid: String,
    pub signs_from: DateTime<Utc>,
}

/// Adds a new key for every algorithm, published now and signing from
/// `now + lead` (use [`PUBLISH_LEAD`]; zero only when a key may have
/// leaked and signing with it must stop at once). The keys it replaces
/// retire at that moment and stay published for [`RETIRED_PUBLISHED`].
/// Keys retired longer ago than that are deleted.
pub async fn rotate(db: &DatabaseConnection, keys: &Keys, now: DateTime<Utc>, lead: Duration) -> Result<Vec<Rotated>> {
    let signs_from = now + chrono::Duration::from_std(lead).map_err(|e| Error::Internal(e.to_string()))?;
    let mut fresh = Vec::new();
    for alg in SigningAlg::ALL {
        fresh.push((alg, generate_off_runtime(alg).await?));
    }
    let txn = crate::db::begin_write(db).await?;
    let mut rotated = Vec::new();
    for (alg, key) in fresh {
        let last: Option<i32> = SigningKeys::find()
            .select_only()
            .column(signing_keys::Column::Generation)
            .filter(signing_keys::Column::Alg.eq(alg.name()))
            .order_by_desc(signing_keys::Column::Generation)
            .into_tuple()
            .one(&txn)
            .await?;
        let generation = last.unwrap_or(0) + 1;
        // The first key of an algorithm replaces nothing: it signs at once.
        let signs_from = if last.is_some() { signs_from } else { now };
        SigningKeys::update_many()
            .col_expr(signing_keys::Column::RetiredAt, sea_orm::sea_query::Expr::value(signs_from))
            .filter(signing_keys::Column::Alg.eq(alg.name()))
            .filter(signing_keys::Column::RetiredAt.is_null())
            .exec(&txn)
            .await?;
        SigningKeys::insert(row(keys, alg, generation, &key, now, signs_from)?).exec_without_returning(&txn).await.map_err(|e| {
            if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) {
                Error::Refused("Another rotation ran at the same moment; run it again.".into())
            } else {
                e.into()
            }
        })?;
        rotated.push(Rotated { alg, kid: key.jwk.common.key_id.clone().unwrap_or_default(), signs_from });
    }
    let forgotten = now - chrono::Duration::from_std(RETIRED_PUBLISHED).map_err(|e| Error::Internal(e.to_string()))?;
    SigningKeys::delete_many().filter(signing_keys::Column::RetiredAt.lt(forgotten)).exec(&txn).await?;
    txn.commit().await?;
    for r in &rotated {
        tracing::info!(alg = r.alg.name(), kid = %r.kid, signs_from = %r.signs_from, "signing key rotated in");
    }
    Ok(rotated)
}

fn published(k: &signing_keys::Model, now: DateTime<Utc>) -> bool {
    let keep = chrono::Duration::from_std(RETIRED_PUBLISHED).unwrap_or_else(|_| chrono::Duration::days(1));
    k.retired_at.is_none_or(|r| r + keep > now)
}

/// The published key set (`/oauth2/jwks`): current, upcoming, and
/// recently retired keys, newest first within each algorithm.
pub async fn jwks(db: &impl ConnectionTrait, keys: &Keys, now: DateTime<Utc>) -> Result<JwkSet> {
    let mut rows = all(db).await?;
    if rows.len() < SigningAlg::ALL.len() && missing(&rows) {
        ensure(db, keys, now).await?;
        rows = all(db).await?;
    }
    let mut set = JwkSet::default();
    for k in rows.iter().filter(|k| published(k, now)) {
        set.keys.push(serde_json::from_str(&k.public_jwk).map_err(|e| Error::Internal(format!("stored JWK: {e}")))?);
    }
    Ok(set)
}

fn missing(rows: &[signing_keys::Model]) -> bool {
    SigningAlg::ALL.iter().any(|a| !rows.iter().any(|k| k.alg == a.name()))
}

async fn all(db: &impl ConnectionTrait) -> Result<Vec<signing_keys::Model>> {
    Ok(SigningKeys::find().order_by_asc(signing_keys::Column::Alg).order_by_desc(signing_keys::Column::Generation).all(db).await?)
}

/// Signs `claims` as a JWT with the key of `alg` that signs at `now`.
pub async fn sign<T: serde::Serialize>(
    db: &impl ConnectionTrait,
    keys: &Keys,
    alg: SigningAlg,
    claims: &T,
    now: DateTime<Utc>,
) -> Result<String> {
    let current = || {
        SigningKeys::find()
            .filter(signing_keys::Column::Alg.eq(alg.name()))
            .filter(signing_keys::Column::SignsFrom.lte(now))
            .order_by_desc(signing_keys::Column::Generation)
            .one(db)
    };
    let k = match current().await? {
        Some(k) => k,
        None => {
            ensure(db, keys, now).await?;
            current().await?.ok_or_else(|| Error::Internal(format!("no {} signing key", alg.name())))?
        }
    };
    let der = keys.open(k.private_key.expose(), SEAL_CONTEXT)?;
    let mut header = Header::new(alg.jwt());
    header.kid = Some(k.kid);
    jsonwebtoken::encode(&header, claims, &alg.encoding_key(&der)).map_err(jwt_error)
}
