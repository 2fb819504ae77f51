//! An application's OpenID Connect client: its registration, its secret
//! (generated here, shown once, stored as a keyed hash) and the check of a
//! secret a client presents.

use chrono::{DateTime, Utc};
use entity::oidc_clients;
use entity::prelude::*;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter, Set};
use std::collections::BTreeSet;
use std::time::Duration;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::input::ClientInput;
use super::keys::SigningAlg;
use crate::apps::{self, App};
use crate::keys::Keys;
use crate::{Error, Result};

/// A registered client, as the console and the protocol endpoints see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    pub app_id: Uuid,
    pub client_id: String,
    pub public: bool,
    /// When the current secret was generated (confidential clients).
    pub secret_set_at: Option<DateTime<Utc>>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: BTreeSet<String>,
    pub trusted: bool,
    pub access_token: Duration,
    pub refresh_token: Duration,
    pub id_token_alg: SigningAlg,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<Uuid>,
}

impl TryFrom<oidc_clients::Model> for Client {
    type Error = Error;

    fn try_from(m: oidc_clients::Model) -> Result<Self> {
        let list = |json: &str| serde_json::from_str::<Vec<String>>(json).map_err(|e| Error::Internal(format!("stored URIs: {e}")));
        Ok(Self {
            app_id: m.app_id,
            client_id: m.client_id,
            public: m.public,
            secret_set_at: m.secret_set_at,
            redirect_uris: list(&m.redirect_uris)?,
            post_logout_redirect_uris: list(&m.post_logout_redirect_uris)?,
            scopes: m.scopes.split_whitespace().map(str::to_owned).collect(),
            trusted: m.trusted,
            access_token: Duration::from_secs(u64::try_from(m.access_token_seconds).unwrap_or(0)),
            refresh_token: Duration::from_secs(u64::try_from(m.refresh_token_seconds).unwrap_or(0)),
            id_token_alg: SigningAlg::parse(&m.id_token_alg).ok_or_else(|| Error::Internal("stored signing algorithm".into()))?,
            updated_at: m.updated_at,
            updated_by: m.updated_by,
        })
    }
}

/// A client secret, returned once when generated; never stored in clear.
pub type Secret = Zeroizing<String>;

/// What registering or editing returns: the client, and its new secret
/// when one was generated (becoming confidential, or on request).
#[derive(Debug)]
pub struct Issued {
    pub client: Client,
    pub secret: Option<Secret>,
}

/// The client of the application `app_id`, if OpenID Connect is on for it.
pub async fn of_app(db: &impl ConnectionTrait, app_id: Uuid) -> Result<Option<Client>> {
    OidcClients::find_by_id(app_id).one(db).await?.map(Client::try_from).transpose()
}

/// The client with `client_id` and its application.
pub async fn by_client_id(db: &impl ConnectionTrait, client_id: &str) -> Result<Option<(Client, App)>> {
    if client_id.is_empty() || client_id.len() > 64 {
        return Ok(None);
    }
    let found = OidcClients::find().filter(oidc_clients::Column::ClientId.eq(client_id)).find_also_related(Applications).one(db).await?;
    match found {
        Some((c, Some(app))) => Ok(Some((c.try_into()?, app))),
        _ => Ok(None),
    }
}

/// A new client id: 128 random bits, URL-safe base64 (22 characters).
fn new_client_id() -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn secret_hash(keys: &Keys, secret: &str) -> String {
    keys.mac(format!("oidc-client-secret:{secret}").as_bytes())
}

fn seconds(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

fn apply(row: &mut oidc_clients::ActiveModel, input: &ClientInput, by: Option<Uuid>, now: DateTime<Utc>) -> Result<()> {
    let json = |v: &Vec<String>| serde_json::to_string(v).map_err(|e| Error::Internal(e.to_string()));
    row.public = Set(input.public);
    row.redirect_uris = Set(json(&input.redirect_uris)?);
    row.post_logout_redirect_uris = Set(json(&input.post_logout_redirect_uris)?);
    row.scopes = Set(input.scopes.iter().map(String::as_str).collect::<Vec<_>>().join(" "));
    row.trusted = Set(input.trusted);
    row.access_token_seconds = Set(seconds(input.access_token));
    row.refresh_token_seconds = Set(seconds(input.refresh_token));
    row.id_token_alg = Set(input.id_token_alg.name().to_owned());
    row.updated_at = Set(now);
    row.updated_by = Set(by);
    Ok(())
}

/// Sets a new secret on `row` (or none for a public client); returns it.
fn new_secret(row: &mut oidc_clients::ActiveModel, keys: &Keys, public: bool, now: DateTime<Utc>) -> Option<Secret> {
    if public {
        row.secret_hash = Set(None);
        row.secret_set_at = Set(None);
        row.pending_secret = Set(None);
        row.pending_secret_until = Set(None);
        return None;
    }
    let secret = Zeroizing::new(crate::crypto::random_token());
    row.secret_hash = Set(Some(secret_hash(keys, &secret).into()));
    row.secret_set_at = Set(Some(now));
    row.pending_secret = Set(None);
    row.pending_secret_until = Set(None);
    Some(secret)
}

/// Turns OpenID Connect on for an application, or changes its settings.
/// A secret is generated when the client is new and confidential, or
/// becomes confidential; becoming public drops the secret. My Account
/// signs people in itself and has no client.
pub async fn save(
    db: &impl ConnectionTrait,
    keys: &Keys,
    app: &App,
    input: &ClientInput,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Issued> {
    if app.built_in {
        return Err(Error::Refused("My Account signs people in itself: it has no OpenID Connect client.".into()));
    }
    let existing = OidcClients::find_by_id(app.id).one(db).await?;
    let (mut row, secret, insert) = match existing {
        Some(m) => {
            let was_public = m.public;
            let mut row = m.into_active_model();
            let secret = if was_public != input.public { new_secret(&mut row, keys, input.public, now) } else { None };
            (row, secret, false)
        }
        None => {
            let mut row = oidc_clients::ActiveModel {
                app_id: Set(app.id),
                client_id: Set(new_client_id()),
                created_at: Set(now),
                ..Default::default()
            };
            let secret = new_secret(&mut row, keys, input.public, now);
            (row, secret, true)
        }
    };
    apply(&mut row, input, by, now)?;
    let saved = if insert { row.insert(db).await? } else { row.update(db).await? };
    tracing::info!(app = %app.handle, public = input.public, "OpenID Connect client saved");
    Ok(Issued { client: saved.try_into()?, secret })
}

/// Replaces a confidential client's secret; the old one stops working at once.
pub async fn regenerate_secret(db: &impl ConnectionTrait, keys: &Keys, app: &App, by: Option<Uuid>, now: DateTime<Utc>) -> Result<Secret> {
    let m = OidcClients::find_by_id(app.id).one(db).await?.ok_or(Error::NotFound)?;
    if m.public {
        return Err(Error::Refused("A public client has no secret.".into()));
    }
    let mut row = m.into_active_model();
    let secret = new_secret(&mut row, keys, false, now).ok_or_else(|| Error::Internal("no secret generated".into()))?;
    row.updated_at = Set(now);
    row.updated_by = Set(by);
    row.update(db).await?;
    tracing::info!(app = %app.handle, "OpenID Connect client secret regenerated");
    Ok(secret)
}

/// Turns OpenID Connect off for an application: its client id stops
/// working, and every grant, token and consent given to it goes.
pub async fn remove(db: &DatabaseConnection, app: &App) -> Result<()> {
    use entity::{oidc_consents, oidc_grants};
    let txn = crate::db::begin_write(db).await?;
    OidcGrants::delete_many().filter(oidc_grants::Column::AppId.eq(app.id)).exec(&txn).await?;
    OidcConsents::delete_many().filter(oidc_consents::Column::AppId.eq(app.id)).exec(&txn).await?;
    OidcClients::delete_by_id(app.id).exec(&txn).await?;
    txn.commit().await?;
    tracing::info!(app = %app.handle, "OpenID Connect client removed");
    Ok(())
}

/// Whether `presented` is the client's current secret (constant time).
pub async fn secret_matches(db: &impl ConnectionTrait, keys: &Keys, client: &Client, presented: &str) -> Result<bool> {
    use subtle::ConstantTimeEq as _;
    let stored: Option<Option<entity::Secret>> = {
        use sea_orm::QuerySelect as _;
        OidcClients::find_by_id(client.app_id).select_only().column(oidc_clients::Column::SecretHash).into_tuple().one(db).await?
    };
    let Some(Some(stored)) = stored else { return Ok(false) };
    let given = secret_hash(keys, presented);
    Ok(bool::from(given.as_bytes().ct_eq(stored.expose().as_bytes())))
}

/// Registers an application and its client in one transaction (the CLI's
/// `latchkey app create`): either both exist afterwards or neither.
pub async fn create_app_with_client(
    db: &DatabaseConnection,
    keys: &Keys,
    app: &apps::AppInput,
    client: &ClientInput,
    now: DateTime<Utc>,
) -> Result<(App, Issued)> {
    let txn = crate::db::begin_write(db).await?;
    let app = apps::insert(&txn, app, None, now).await?;
    let issued = save(&txn, keys, &app, client, None, now).await?;
    txn.commit().await?;
    Ok((app, issued))
}

/// How a client identified itself at the token, revocation or
/// introspection endpoint (RFC 6749 §2.3.1).
#[derive(Clone, Debug, Default)]
pub struct Presented {
    /// `Authorization: Basic` (client_secret_basic), already decoded.
    pub basic: Option<(String, String)>,
    /// Form fields (client_secret_post, or `none` with only the id).
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// Authenticates the calling client. A confidential client must prove its
/// secret; a public client sends only its id (and proves itself by PKCE).
/// Failures are logged and, per address, rate limited.
pub async fn authenticate(ctx: &crate::Ctx, p: &Presented, ip: Option<&str>) -> std::result::Result<(Client, App), super::OAuthError> {
    use super::OAuthError;
    let (id, secret) = match (&p.basic, &p.client_id, &p.client_secret) {
        (Some(_), _, Some(_)) => return Err(OAuthError::bad_request("invalid_request", "Use one client authentication method, not two.")),
        (Some((id, secret)), form_id, None) => {
            if form_id.as_ref().is_some_and(|f| f != id) {
                return Err(OAuthError::bad_request("invalid_request", "client_id differs from the Authorization header's."));
            }
            (id.as_str(), Some(secret.as_str()))
        }
        (None, Some(id), secret) => (id.as_str(), secret.as_deref()),
        (None, None, _) => return Err(OAuthError::invalid_client("The client did not identify itself.")),
    };
    let failed = |why: &str| {
        tracing::warn!(event = "client_auth_failed", client_id = %id.chars().take(64).collect::<String>(), reason = why, "client authentication failed");
        if let Err(Error::RateLimited { retry_after }) = ctx.limits.client_auth_ip.check(ip.unwrap_or("unknown")) {
            return OAuthError {
                status: 429,
                error: "invalid_client",
                description: format!("Too many failed client authentications; retry in {} s.", retry_after.as_secs()),
            };
        }
        OAuthError::invalid_client("Client authentication failed.")
    };
    let Some((client, app)) = by_client_id(&ctx.db, id).await.map_err(OAuthError::server)? else { return Err(failed("unknown_client")) };
    match (client.public, secret) {
        (true, None) => {}
        (true, Some(_)) => return Err(failed("public_client_sent_secret")),
        (false, None) => return Err(failed("secret_missing")),
        (false, Some(s)) => {
            if !secret_matches(&ctx.db, &ctx.keys, &client, s).await.map_err(OAuthError::server)? {
                return Err(failed("wrong_secret"));
            }
        }
    }
    if !app.enabled {
        return Err(OAuthError { status: 400, error: "unauthorized_client", description: format!("{} is disabled.", app.name) });
    }
    Ok((client, app))
}

/// How long a secret generated without JavaScript stays on show.
pub const SHOW_SECRET_FOR: Duration = Duration::from_secs(5 * 60);
const SHOW_CONTEXT: &str = "oidc-client-secret-to-show";

/// Keeps `secret` sealed on the client for [`SHOW_SECRET_FOR`], so a page
/// loaded after a form sent without JavaScript can show it once.
pub async fn keep_to_show(db: &impl ConnectionTrait, keys: &Keys, app: &App, secret: &str, now: DateTime<Utc>) -> Result<()> {
    let m = OidcClients::find_by_id(app.id).one(db).await?.ok_or(Error::NotFound)?;
    let mut row = m.into_active_model();
    row.pending_secret = Set(Some(keys.seal(secret.as_bytes(), SHOW_CONTEXT)?.into()));
    row.pending_secret_until = Set(Some(crate::clock::after(now, SHOW_SECRET_FOR)));
    row.update(db).await?;
    Ok(())
}

/// The secret kept to show, while it may be shown.
pub async fn kept_to_show(db: &impl ConnectionTrait, keys: &Keys, app_id: Uuid, now: DateTime<Utc>) -> Result<Option<Secret>> {
    let Some(m) = OidcClients::find_by_id(app_id).one(db).await? else { return Ok(None) };
    match (m.pending_secret, m.pending_secret_until) {
        (Some(sealed), Some(until)) if until > now => {
            let bytes = keys.open(sealed.expose(), SHOW_CONTEXT)?;
            Ok(Some(Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned())))
        }
        _ => Ok(None),
    }
}

/// The administrator saved the secret: it is no longer kept.
pub async fn forget_shown(db: &impl ConnectionTrait, app_id: Uuid) -> Result<()> {
    use sea_orm::sea_query::Expr;
    OidcClients::update_many()
        .col_expr(oidc_clients::Column::PendingSecret, Expr::value(Option::<String>::None))
        .col_expr(oidc_clients::Column::PendingSecretUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(oidc_clients::Column::AppId.eq(app_id))
        .exec(db)
        .await?;
    Ok(())
}
