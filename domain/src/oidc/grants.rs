//! Consents, grants and tokens.
//!
//! A **consent** is what a person allowed an application (scopes, when),
//! one per person and application; My Account shows and revokes it. A
//! **grant** is one authorization: its single-use code (60 s) and every
//! token issued under it. Access and refresh tokens are opaque 256-bit
//! values; the database keeps only their SHA-256. Refresh tokens rotate;
//! presenting a used code or a used refresh token again revokes the whole
//! grant (RFC 9700 §4.14, §2.2.2), and revoking a consent deletes its
//! grants, so every token under them stops working at the next call.

use chrono::{DateTime, Utc};
use entity::prelude::*;
use entity::{oidc_consents, oidc_grants, oidc_tokens};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use std::collections::BTreeSet;
use std::time::Duration;
use uuid::Uuid;

use super::OAuthError;
use super::clients::Client;
use super::requests::AuthRequest;
use crate::apps::App;
use crate::clock::after;
use crate::crypto::{hash_token, random_token};
use crate::sessions::Authenticated;
use crate::{Ctx, Error, Result};

/// How long an authorization code works (it is used once, at once).
pub const CODE_TTL: Duration = Duration::from_secs(60);

pub(crate) fn join(scopes: &BTreeSet<String>) -> String {
    scopes.iter().map(String::as_str).collect::<Vec<_>>().join(" ")
}

pub(crate) fn split(scopes: &str) -> BTreeSet<String> {
    scopes.split_whitespace().map(str::to_owned).collect()
}

/// What a person allowed an application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consent {
    pub scopes: BTreeSet<String>,
    pub granted_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<oidc_consents::Model> for Consent {
    fn from(m: oidc_consents::Model) -> Self {
        Self { scopes: split(&m.scopes), granted_at: m.granted_at, last_used_at: m.last_used_at }
    }
}

/// The person's consent to `app`, if any.
pub async fn consent(db: &impl ConnectionTrait, user: Uuid, app: Uuid) -> Result<Option<Consent>> {
    Ok(OidcConsents::find_by_id((user, app)).one(db).await?.map(Consent::from))
}

/// Every application the person allowed, most recently used first.
pub async fn consents(db: &impl ConnectionTrait, user: Uuid) -> Result<Vec<(Consent, App)>> {
    let rows = OidcConsents::find()
        .filter(oidc_consents::Column::UserId.eq(user))
        .find_also_related(Applications)
        .order_by_desc(oidc_consents::Column::UpdatedAt)
        .all(db)
        .await?;
    let mut out: Vec<(Consent, App)> = rows.into_iter().filter_map(|(c, a)| a.map(|a| (Consent::from(c), a))).collect();
    out.sort_by_key(|c| std::cmp::Reverse(c.0.last_used_at.unwrap_or(c.0.granted_at)));
    Ok(out)
}

/// Records the person's answer on the consent page: the scopes `allowed`
/// out of those `asked`; scopes allowed earlier and not asked this time stay.
pub async fn remember_consent(
    db: &impl ConnectionTrait,
    user: Uuid,
    app: Uuid,
    asked: &BTreeSet<String>,
    allowed: &BTreeSet<String>,
    now: DateTime<Utc>,
) -> Result<BTreeSet<String>> {
    let kept: BTreeSet<String> = match consent(db, user, app).await? {
        Some(c) => c.scopes.difference(asked).cloned().collect(),
        None => BTreeSet::new(),
    };
    let scopes: BTreeSet<String> = kept.union(allowed).cloned().collect();
    OidcConsents::insert(oidc_consents::ActiveModel {
        user_id: Set(user),
        app_id: Set(app),
        scopes: Set(join(&scopes)),
        granted_at: Set(now),
        updated_at: Set(now),
        last_used_at: Set(None),
    })
    .on_conflict(
        OnConflict::columns([oidc_consents::Column::UserId, oidc_consents::Column::AppId])
            .update_columns([oidc_consents::Column::Scopes, oidc_consents::Column::UpdatedAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(scopes)
}

/// Narrows a consent to `scopes` (My Account: unticking a permission). The
/// application's tokens lose the dropped scopes at once: every token's
/// scopes are read through the consent.
pub async fn narrow_consent(db: &impl ConnectionTrait, user: Uuid, app: Uuid, scopes: &BTreeSet<String>, now: DateTime<Utc>) -> Result<()> {
    let current = consent(db, user, app).await?.ok_or(Error::NotFound)?;
    if !scopes.contains("openid") {
        return Err(Error::invalid("scopes", "Signing in (openid) can't be unticked; revoke access instead."));
    }
    if !scopes.is_subset(&current.scopes) {
        return Err(Error::invalid("scopes", "Only permissions already given can be kept."));
    }
    OidcConsents::update_many()
        .col_expr(oidc_consents::Column::Scopes, Expr::value(join(scopes)))
        .col_expr(oidc_consents::Column::UpdatedAt, Expr::value(now))
        .filter(oidc_consents::Column::UserId.eq(user))
        .filter(oidc_consents::Column::AppId.eq(app))
        .exec(db)
        .await?;
    Ok(())
}

/// Revokes a person's consent to an application: the consent, every grant
/// and every token under them are deleted in one transaction.
pub async fn revoke_consent(db: &sea_orm::DatabaseConnection, user: Uuid, app: &App) -> Result<()> {
    let txn = crate::db::begin_write(db).await?;
    let found = OidcConsents::delete_by_id((user, app.id)).exec(&txn).await?.rows_affected;
    OidcGrants::delete_many().filter(oidc_grants::Column::UserId.eq(user)).filter(oidc_grants::Column::AppId.eq(app.id)).exec(&txn).await?;
    txn.commit().await?;
    if found == 0 {
        return Err(Error::NotFound);
    }
    tracing::info!(app = %app.handle, user = %user, "consent revoked");
    Ok(())
}

/// Issues an authorization code for `req`, signed in as `session`, with
/// the `scopes` granted. Returns the code (shown once, stored hashed).
pub async fn issue_code(
    db: &impl ConnectionTrait,
    session: &Authenticated,
    app: &App,
    req: &AuthRequest,
    scopes: &BTreeSet<String>,
    now: DateTime<Utc>,
) -> Result<String> {
    let code = random_token();
    oidc_grants::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(session.user_id),
        app_id: Set(app.id),
        session_id: Set(Some(session.session_id)),
        scopes: Set(join(scopes)),
        claims: Set(serde_json::to_string(&req.claims).map_err(|e| Error::Internal(e.to_string()))?),
        nonce: Set(req.nonce.clone()),
        auth_time: Set(session.auth_time),
        amr: Set(serde_json::to_string(&session.amr).map_err(|e| Error::Internal(e.to_string()))?),
        code_hash: Set(hash_token(&code).into()),
        code_expires_at: Set(after(now, CODE_TTL)),
        code_used_at: Set(None),
        redirect_uri: Set(req.redirect_uri.clone()),
        code_challenge: Set(req.code_challenge.clone()),
        created_at: Set(now),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    OidcConsents::update_many()
        .col_expr(oidc_consents::Column::LastUsedAt, Expr::value(now))
        .filter(oidc_consents::Column::UserId.eq(session.user_id))
        .filter(oidc_consents::Column::AppId.eq(app.id))
        .exec(db)
        .await?;
    crate::apps::discover::record_use(db, session.user_id, app.id, now).await?;
    Ok(code)
}

/// What the token endpoint answers.
#[derive(Clone, Debug)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub id_token: String,
    pub expires_in: u64,
    pub scopes: BTreeSet<String>,
}

fn invalid_grant(description: &str) -> OAuthError {
    OAuthError::bad_request("invalid_grant", description)
}

/// Deletes a grant's tokens and marks it revoked: the reuse of a code or
/// refresh token means one of them leaked.
async fn revoke_grant(db: &impl ConnectionTrait, grant: Uuid, now: DateTime<Utc>, why: &str) -> Result<()> {
    OidcTokens::delete_many().filter(oidc_tokens::Column::GrantId.eq(grant)).exec(db).await?;
    OidcGrants::update_many()
        .col_expr(oidc_grants::Column::RevokedAt, Expr::value(now))
        .filter(oidc_grants::Column::Id.eq(grant))
        .exec(db)
        .await?;
    tracing::warn!(grant = %grant, reason = why, event = "grant_revoked", "grant revoked");
    Ok(())
}

/// `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6).
pub async fn exchange_code(
    ctx: &Ctx,
    client: &Client,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    now: DateTime<Utc>,
) -> std::result::Result<Tokens, OAuthError> {
    let db = &ctx.db;
    let grant = OidcGrants::find().filter(oidc_grants::Column::CodeHash.eq(hash_token(code))).one(db).await.map_err(OAuthError::server)?;
    let Some(grant) = grant else { return Err(invalid_grant("The code is unknown.")) };
    if grant.app_id != client.app_id {
        // Another client's code: refused, and not spent (the thief can't burn it).
        return Err(invalid_grant("The code was not issued to this client."));
    }
    // Spend the code atomically: only one exchange can win.
    let spent = OidcGrants::update_many()
        .col_expr(oidc_grants::Column::CodeUsedAt, Expr::value(now))
        .filter(oidc_grants::Column::Id.eq(grant.id))
        .filter(oidc_grants::Column::CodeUsedAt.is_null())
        .filter(oidc_grants::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map_err(OAuthError::server)?
        .rows_affected;
    if spent == 0 {
        revoke_grant(db, grant.id, now, "code_reused").await.map_err(OAuthError::server)?;
        return Err(invalid_grant("The code was already used; every token issued with it is revoked."));
    }
    if grant.code_expires_at <= now {
        return Err(invalid_grant("The code has expired."));
    }
    if redirect_uri != Some(grant.redirect_uri.as_str()) {
        return Err(invalid_grant("redirect_uri does not match the authorization request."));
    }
    match (&grant.code_challenge, verifier) {
        (Some(challenge), Some(v)) => {
            if !pkce_matches(challenge, v) {
                return Err(invalid_grant("code_verifier does not match the code_challenge."));
            }
        }
        (Some(_), None) => return Err(invalid_grant("code_verifier is missing (the request used PKCE).")),
        (None, Some(_)) => return Err(invalid_grant("code_verifier was sent but the request had no code_challenge.")),
        (None, None) => {}
    }
    let scopes = effective_scopes(db, &grant, &split(&grant.scopes)).await.map_err(OAuthError::server)?;
    let tokens = mint(ctx, client, &grant, scopes, true, now).await.map_err(OAuthError::server)?;
    Ok(tokens)
}

/// RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) == code_challenge.
fn pkce_matches(challenge: &str, verifier: &str) -> bool {
    use base64::Engine as _;
    use sha2::Digest as _;
    use subtle::ConstantTimeEq as _;
    // §4.1: 43 to 128 unreserved characters.
    if !(43..=128).contains(&verifier.len()) || !verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)) {
        return false;
    }
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

/// The scopes a grant may still use: those it was given, less any the
/// person has since taken back in My Account (trusted clients have a
/// consent too, recorded when they were authorized).
async fn effective_scopes(db: &impl ConnectionTrait, grant: &oidc_grants::Model, wanted: &BTreeSet<String>) -> Result<BTreeSet<String>> {
    let consent = consent(db, grant.user_id, grant.app_id).await?;
    Ok(match consent {
        Some(c) => wanted.intersection(&c.scopes).cloned().collect(),
        None => BTreeSet::new(),
    })
}

/// Issues an access token, a refresh token and an ID token under `grant`.
async fn mint(
    ctx: &Ctx,
    client: &Client,
    grant: &oidc_grants::Model,
    scopes: BTreeSet<String>,
    with_nonce: bool,
    now: DateTime<Utc>,
) -> Result<Tokens> {
    let access = random_token();
    let refresh = random_token();
    for (token, kind, ttl) in [(&access, "access", client.access_token), (&refresh, "refresh", client.refresh_token)] {
        oidc_tokens::ActiveModel {
            token_hash: Set(hash_token(token)),
            grant_id: Set(grant.id),
            kind: Set(kind.to_owned()),
            scopes: Set(join(&scopes)),
            created_at: Set(now),
            expires_at: Set(after(now, ttl)),
            used_at: Set(None),
        }
        .insert(&ctx.db)
        .await?;
    }
    let id_token = super::tokens::id_token(ctx, client, grant, &access, with_nonce, now).await?;
    Ok(Tokens { access_token: access, refresh_token: refresh, id_token, expires_in: client.access_token.as_secs(), scopes })
}

/// `grant_type=refresh_token` (RFC 6749 §6): the token is spent and a new
/// pair issued. A spent token presented again revokes the grant.
pub async fn refresh(
    ctx: &Ctx,
    client: &Client,
    token: &str,
    scope: Option<&str>,
    now: DateTime<Utc>,
) -> std::result::Result<Tokens, OAuthError> {
    let db = &ctx.db;
    let found = OidcTokens::find()
        .filter(oidc_tokens::Column::TokenHash.eq(hash_token(token)))
        .filter(oidc_tokens::Column::Kind.eq("refresh"))
        .find_also_related(OidcGrants)
        .one(db)
        .await
        .map_err(OAuthError::server)?;
    let Some((row, Some(grant))) = found else { return Err(invalid_grant("The refresh token is unknown or revoked.")) };
    if grant.app_id != client.app_id {
        return Err(invalid_grant("The refresh token was not issued to this client."));
    }
    let spent = OidcTokens::update_many()
        .col_expr(oidc_tokens::Column::UsedAt, Expr::value(now))
        .filter(oidc_tokens::Column::TokenHash.eq(&row.token_hash))
        .filter(oidc_tokens::Column::UsedAt.is_null())
        .exec(db)
        .await
        .map_err(OAuthError::server)?
        .rows_affected;
    if spent == 0 {
        revoke_grant(db, grant.id, now, "refresh_token_reused").await.map_err(OAuthError::server)?;
        return Err(invalid_grant("The refresh token was already used; the whole grant is revoked."));
    }
    if row.expires_at <= now || grant.revoked_at.is_some() {
        return Err(invalid_grant("The refresh token has expired."));
    }
    if !refresh_allowed(db, &grant, now).await.map_err(OAuthError::server)? {
        return Err(invalid_grant("The sign-in session this token came from has ended."));
    }
    let held = split(&row.scopes);
    let wanted = match scope {
        None => held,
        Some(s) => {
            let asked = split(s);
            if !asked.is_subset(&held) {
                return Err(OAuthError::bad_request("invalid_scope", "A refresh can only keep or narrow the scopes granted."));
            }
            asked
        }
    };
    let scopes = effective_scopes(db, &grant, &wanted).await.map_err(OAuthError::server)?;
    if scopes.is_empty() {
        revoke_grant(db, grant.id, now, "consent_revoked").await.map_err(OAuthError::server)?;
        return Err(invalid_grant("The person revoked this application's access."));
    }
    mint(ctx, client, &grant, scopes, false, now).await.map_err(OAuthError::server)
}

/// A live access token: the grant's person and the scopes it carries
/// (narrowed by the consent as it stands now).
#[derive(Clone, Debug)]
pub struct Access {
    pub user_id: Uuid,
    pub app_id: Uuid,
    pub scopes: BTreeSet<String>,
    pub claims: BTreeSet<String>,
    pub expires_at: DateTime<Utc>,
    pub issued_at: DateTime<Utc>,
    pub kind: String,
}

/// Looks a token up (access or refresh); `None` when unknown, expired,
/// spent or revoked.
pub async fn live_token(db: &impl ConnectionTrait, token: &str, now: DateTime<Utc>) -> Result<Option<Access>> {
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    let found =
        OidcTokens::find().filter(oidc_tokens::Column::TokenHash.eq(hash_token(token))).find_also_related(OidcGrants).one(db).await?;
    let Some((row, Some(grant))) = found else { return Ok(None) };
    if row.expires_at <= now || row.used_at.is_some() || grant.revoked_at.is_some() {
        return Ok(None);
    }
    if row.kind == "refresh" && !refresh_allowed(db, &grant, now).await? {
        return Ok(None);
    }
    // A disabled application's tokens stop working with it.
    if !Applications::find_by_id(grant.app_id).one(db).await?.is_some_and(|a| a.enabled) {
        return Ok(None);
    }
    let scopes = effective_scopes(db, &grant, &split(&row.scopes)).await?;
    if scopes.is_empty() {
        return Ok(None);
    }
    let claims: BTreeSet<String> = serde_json::from_str(&grant.claims).unwrap_or_default();
    Ok(Some(Access {
        user_id: grant.user_id,
        app_id: grant.app_id,
        scopes,
        claims,
        expires_at: row.expires_at,
        issued_at: row.created_at,
        kind: row.kind,
    }))
}

/// RFC 7009: revokes `token` if it belongs to `client`. A refresh token
/// takes its whole grant with it; an access token only itself. Unknown
/// tokens are not an error (the answer must not say which tokens exist).
pub async fn revoke_token(db: &impl ConnectionTrait, client: &Client, token: &str, now: DateTime<Utc>) -> Result<()> {
    let found =
        OidcTokens::find().filter(oidc_tokens::Column::TokenHash.eq(hash_token(token))).find_also_related(OidcGrants).one(db).await?;
    let Some((row, Some(grant))) = found else { return Ok(()) };
    if grant.app_id != client.app_id {
        return Ok(());
    }
    if row.kind == "refresh" {
        revoke_grant(db, grant.id, now, "refresh_token_revoked").await
    } else {
        OidcTokens::delete_by_id(row.token_hash).exec(db).await?;
        Ok(())
    }
}

/// Whether a grant's refresh tokens still work: always with
/// `offline_access`; otherwise only while the Latchkey session it came from
/// lives, so signing that session out (or its expiry, or a password change
/// that ends every session) ends them at the next use.
async fn refresh_allowed(db: &impl ConnectionTrait, grant: &oidc_grants::Model, now: DateTime<Utc>) -> Result<bool> {
    if split(&grant.scopes).contains("offline_access") {
        return Ok(true);
    }
    match grant.session_id {
        Some(id) => crate::sessions::is_active(db, id, now).await,
        None => Ok(false),
    }
}

/// The names of the applications each of `sessions` signed in to (My
/// Account → Sessions), in one query.
pub async fn apps_of_sessions(db: &impl ConnectionTrait, sessions: &[Uuid]) -> Result<std::collections::BTreeMap<Uuid, Vec<String>>> {
    use sea_orm::{JoinType, QuerySelect as _, RelationTrait as _};
    let rows: Vec<(Option<Uuid>, String)> = OidcGrants::find()
        .select_only()
        .column(oidc_grants::Column::SessionId)
        .column(entity::applications::Column::Name)
        .distinct()
        .join(JoinType::InnerJoin, oidc_grants::Relation::App.def())
        .filter(oidc_grants::Column::SessionId.is_in(sessions.iter().copied()))
        .filter(oidc_grants::Column::RevokedAt.is_null())
        .order_by_asc(entity::applications::Column::Name)
        .into_tuple()
        .all(db)
        .await?;
    let mut out = std::collections::BTreeMap::<Uuid, Vec<String>>::new();
    for (session, name) in rows {
        if let Some(s) = session {
            out.entry(s).or_default().push(name);
        }
    }
    Ok(out)
}
