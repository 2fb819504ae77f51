//! Passkeys (WebAuthn) with webauthn-rs. The relying party id and origin come
//! from the configured public URL. User verification is always required;
//! resident keys are preferred so people can sign in without a username.
//!
//! ```text
//!  register:  start ──► ccr (existing credentials excluded) + ceremony id
//!             browser navigator.credentials.create ──► finish(ceremony, name, credential)
//!  sign in:   start_discoverable ──► rcr (no allow list) ──► browser get ──► finish
//!             user handle ─► that person's passkey ─► signature, counter, flags checked
//!  2nd factor / re-authentication: start_for_user ──► rcr (their credentials) ──► finish_for_user
//! ```

use base64::Engine as _;
use chrono::{DateTime, Utc};
use entity::passkeys;
use entity::prelude::*;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, RequestChallengeResponse, Url, Webauthn, WebauthnBuilder,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use crate::ceremonies::{self, Kind};
use crate::notices::{self, Change};
use crate::{Ctx, Error, Result};

/// The relying party for a public origin such as `https://id.example.com`.
pub fn relying_party(public_origin: &str) -> Result<Webauthn> {
    let origin = Url::parse(public_origin).map_err(|e| Error::Internal(format!("public URL: {e}")))?;
    let rp_id = origin.host_str().ok_or_else(|| Error::Internal("public URL has no host".into()))?.to_owned();
    WebauthnBuilder::new(&rp_id, &origin)
        .and_then(|b| b.rp_name("Latchkey").build())
        .map_err(|e| Error::Internal(format!("WebAuthn relying party for {public_origin}: {e}")))
}

fn b64(id: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

fn rejected(e: impl std::fmt::Display) -> Error {
    tracing::debug!(error = %e, "passkey rejected");
    Error::PasskeyRejected
}

fn decode(row: &passkeys::Model) -> Result<Passkey> {
    serde_json::from_str(row.credential.expose()).map_err(|e| Error::Internal(format!("stored passkey: {e}")))
}

pub async fn list(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Vec<passkeys::Model>> {
    Ok(Passkeys::find().filter(passkeys::Column::UserId.eq(user_id)).order_by_asc(passkeys::Column::CreatedAt).all(db).await?)
}

/// Starts registering a passkey for `user`.
/// **Requires:** the caller checked recent authentication.
pub async fn start_registration(
    ctx: &Ctx,
    user: &entity::users::Model,
    display_name: &str,
    now: DateTime<Utc>,
) -> Result<(Uuid, CreationChallengeResponse)> {
    let existing = list(&ctx.db, user.id).await?.iter().map(decode).collect::<Result<Vec<_>>>()?;
    let exclude: Vec<_> = existing.iter().map(|p| p.cred_id().clone()).collect();
    let (mut ccr, state) = ctx
        .webauthn
        .start_passkey_registration(user.id, &user.username, display_name, Some(exclude).filter(|e| !e.is_empty()))
        .map_err(|e| Error::Internal(format!("webauthn start: {e}")))?;
    if let Some(sel) = ccr.public_key.authenticator_selection.as_mut() {
        sel.resident_key = Some(ResidentKeyRequirement::Preferred);
    }
    let id = ceremonies::put(&ctx.db, Some(user.id), Kind::PasskeyRegistration, &state, ceremonies::TTL, now).await?;
    Ok((id, ccr))
}

/// Verifies the browser's new credential and saves it under `name`.
/// **Requires:** the caller checked recent authentication.
pub async fn finish_registration(
    ctx: &Ctx,
    user_id: Uuid,
    ceremony: Uuid,
    name: &str,
    credential: &RegisterPublicKeyCredential,
    meta: &crate::ClientMeta,
    now: DateTime<Utc>,
) -> Result<passkeys::Model> {
    let state: PasskeyRegistration = ceremonies::take(&ctx.db, ceremony, Some(user_id), Kind::PasskeyRegistration, now).await?;
    let passkey = ctx.webauthn.finish_passkey_registration(credential, &state).map_err(rejected)?;
    let cred_id = b64(passkey.cred_id());
    if Passkeys::find().filter(passkeys::Column::CredentialId.eq(&cred_id)).one(&ctx.db).await?.is_some() {
        return Err(Error::Refused("This passkey is already registered.".into()));
    }
    let value = serde_json::to_value(&passkey).map_err(|e| Error::Internal(e.to_string()))?;
    // The authenticator's backup flags at registration (synced passkey or not).
    let flag = |name: &str| value.pointer(&format!("/cred/{name}")).and_then(serde_json::Value::as_bool).unwrap_or(false);
    let (eligible, state) = (flag("backup_eligible"), flag("backup_state"));
    let json = value.to_string();
    let txn = crate::db::begin_write(&ctx.db).await?;
    let row = passkeys::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        name: Set(name.to_owned()),
        credential_id: Set(cred_id),
        credential: Set(json.into()),
        backup_eligible: Set(eligible),
        backup_state: Set(state),
        created_at: Set(now),
        last_used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    notices::security_changed(&txn, ctx, user_id, Change::PasskeyAdded(name), meta, now).await?;
    txn.commit().await?;
    crate::mail::wake(ctx);
    Ok(row)
}

/// Starts a username-less sign-in (discoverable credentials). With
/// `conditional`, the browser offers passkeys in the username field's autofill.
pub async fn start_discoverable(ctx: &Ctx, conditional: bool, now: DateTime<Utc>) -> Result<(Uuid, RequestChallengeResponse)> {
    let (mut rcr, state) = ctx.webauthn.start_discoverable_authentication().map_err(|e| Error::Internal(format!("webauthn: {e}")))?;
    // webauthn-rs always asks for conditional mediation; a modal request (the
    // "Sign in with a passkey" button) must not carry it.
    rcr.mediation = conditional.then_some(webauthn_rs_proto::Mediation::Conditional);
    let id = ceremonies::put(&ctx.db, None, Kind::PasskeyDiscoverable, &state, ceremonies::TTL, now).await?;
    Ok((id, rcr))
}

/// Finishes a username-less sign-in: whose passkey it is, and that it is valid.
pub async fn finish_discoverable(
    ctx: &Ctx,
    ceremony: Uuid,
    credential: &PublicKeyCredential,
    now: DateTime<Utc>,
) -> Result<entity::users::Model> {
    let state: DiscoverableAuthentication = ceremonies::take(&ctx.db, ceremony, None, Kind::PasskeyDiscoverable, now).await?;
    let (user_id, cred_id) = ctx.webauthn.identify_discoverable_authentication(credential).map_err(rejected)?;
    let row = Passkeys::find()
        .filter(passkeys::Column::CredentialId.eq(b64(cred_id)))
        .one(&ctx.db)
        .await?
        .filter(|r| r.user_id == user_id)
        .ok_or(Error::PasskeyRejected)?;
    let mut passkey = decode(&row)?;
    let result = ctx.webauthn.finish_discoverable_authentication_v2(credential, state, &passkey).map_err(rejected)?;
    if !result.user_verified() {
        return Err(Error::PasskeyRejected);
    }
    passkey.update_credential(&result);
    save_use(ctx, &row, &passkey, result.backup_eligible(), result.backup_state(), now).await?;
    crate::users::get(&ctx.db, user_id).await
}

async fn save_use(ctx: &Ctx, row: &passkeys::Model, passkey: &Passkey, eligible: bool, state: bool, now: DateTime<Utc>) -> Result<()> {
    let json = serde_json::to_string(passkey).map_err(|e| Error::Internal(e.to_string()))?;
    let mut a: passkeys::ActiveModel = row.clone().into();
    a.credential = Set(json.into());
    a.backup_eligible = Set(eligible);
    a.backup_state = Set(state);
    a.last_used_at = Set(Some(now));
    a.update(&ctx.db).await?;
    Ok(())
}

/// Starts a passkey check for a known person (second factor, re-authentication).
pub async fn start_for_user(ctx: &Ctx, user_id: Uuid, now: DateTime<Utc>) -> Result<(Uuid, RequestChallengeResponse)> {
    let keys = list(&ctx.db, user_id).await?.iter().map(decode).collect::<Result<Vec<_>>>()?;
    if keys.is_empty() {
        return Err(Error::Refused("You have no passkey.".into()));
    }
    let (rcr, state) = ctx.webauthn.start_passkey_authentication(&keys).map_err(|e| Error::Internal(format!("webauthn: {e}")))?;
    let id = ceremonies::put(&ctx.db, Some(user_id), Kind::PasskeyForUser, &state, ceremonies::TTL, now).await?;
    Ok((id, rcr))
}

/// Finishes a passkey check for a known person; a credential of anyone else fails.
pub async fn finish_for_user(ctx: &Ctx, user_id: Uuid, ceremony: Uuid, credential: &PublicKeyCredential, now: DateTime<Utc>) -> Result<()> {
    let state: PasskeyAuthentication = ceremonies::take(&ctx.db, ceremony, Some(user_id), Kind::PasskeyForUser, now).await?;
    let result = ctx.webauthn.finish_passkey_authentication(credential, &state).map_err(rejected)?;
    let row = Passkeys::find()
        .filter(passkeys::Column::CredentialId.eq(b64(result.cred_id())))
        .one(&ctx.db)
        .await?
        .filter(|r| r.user_id == user_id)
        .ok_or(Error::PasskeyRejected)?;
    let mut passkey = decode(&row)?;
    passkey.update_credential(&result);
    save_use(ctx, &row, &passkey, result.backup_eligible(), result.backup_state(), now).await
}

pub async fn rename(db: &impl ConnectionTrait, user_id: Uuid, id: Uuid, name: &str) -> Result<()> {
    let row = Passkeys::find_by_id(id).one(db).await?.filter(|r| r.user_id == user_id).ok_or(Error::NotFound)?;
    let mut a: passkeys::ActiveModel = row.into();
    a.name = Set(name.to_owned());
    a.update(db).await?;
    Ok(())
}
