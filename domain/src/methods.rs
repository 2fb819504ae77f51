//! Removing a sign-in method (a passkey, an authenticator app): a use case
//! over the credentials and the login flows' lock-out rule, in one
//! transaction serialised with flow saves ([`factors::lock_sign_in_rules`]).

use sea_orm::EntityTrait;
use uuid::Uuid;

use crate::notices::{self, Change};
use crate::{Ctx, Error, Result, factors, flows, passkeys, totp};

/// Removes a passkey unless that would lock the person out.
/// **Requires:** the caller checked recent authentication.
pub async fn remove_passkey(ctx: &Ctx, user: &entity::users::Model, id: Uuid, meta: &crate::ClientMeta) -> Result<entity::passkeys::Model> {
    let txn = crate::db::begin_write(&ctx.db).await?;
    factors::lock_sign_in_rules(&txn, ctx.now()).await?;
    let all = passkeys::list(&txn, user.id).await?;
    let row = all.iter().find(|r| r.id == id).cloned().ok_or(Error::NotFound)?;
    flows::ensure_can_remove(&txn, user, proto::flow::Method::Passkey, all.len() == 1, "your last passkey").await?;
    entity::prelude::Passkeys::delete_by_id(id).exec(&txn).await?;
    notices::security_changed(&txn, ctx, user.id, Change::PasskeyRemoved(&row.name), meta, ctx.now()).await?;
    txn.commit().await?;
    crate::mail::wake(ctx);
    Ok(row)
}

/// Removes an authenticator app unless that would lock the person out.
/// **Requires:** the caller checked recent authentication.
pub async fn remove_totp(
    ctx: &Ctx,
    user: &entity::users::Model,
    id: Uuid,
    meta: &crate::ClientMeta,
) -> Result<entity::totp_credentials::Model> {
    let txn = crate::db::begin_write(&ctx.db).await?;
    factors::lock_sign_in_rules(&txn, ctx.now()).await?;
    let creds = totp::list(&txn, user.id).await?;
    let cred = creds.iter().find(|c| c.id == id).cloned().ok_or(Error::NotFound)?;
    flows::ensure_can_remove(&txn, user, proto::flow::Method::Totp, creds.len() == 1, "this authenticator app").await?;
    entity::prelude::TotpCredentials::delete_by_id(id).exec(&txn).await?;
    notices::security_changed(&txn, ctx, user.id, Change::TotpRemoved(&cred.name), meta, ctx.now()).await?;
    txn.commit().await?;
    crate::mail::wake(ctx);
    Ok(cred)
}
