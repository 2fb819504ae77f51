//! One-time links sent by mail. The link carries a random 256-bit token; the
//! database keeps only its SHA-256, the address it went to, and when it ends.
//! A token works once ([`consume`] is a conditional update, so two racing
//! uses cannot both win) and only for its purpose.

use chrono::{DateTime, Utc};
use entity::email_tokens;
use entity::prelude::*;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use std::time::Duration;
use uuid::Uuid;

use crate::crypto::{hash_token, random_token};
use crate::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Confirms the account's primary email address.
    VerifyEmail,
    /// Confirms the recovery email address.
    VerifyRecoveryEmail,
    /// Sets a new password after "Forgot password?".
    ResetPassword,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::VerifyRecoveryEmail => "verify_recovery_email",
            Purpose::ResetPassword => "reset_password",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Purpose::VerifyEmail, Purpose::VerifyRecoveryEmail, Purpose::ResetPassword].into_iter().find(|p| p.as_str() == s)
    }
}

/// Stores a new token for `address` and returns it (to put in a link).
pub async fn issue(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    purpose: Purpose,
    address: &str,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<String> {
    let token = random_token();
    email_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        purpose: Set(purpose.as_str().to_owned()),
        token_hash: Set(hash_token(&token).into()),
        address: Set(address.to_owned()),
        failures: Set(0),
        created_at: Set(now),
        expires_at: Set(crate::clock::after(now, ttl)),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// The live token `token` names, if it is one of `purposes`; otherwise
/// [`Error::LinkInvalid`] (unknown, used, expired or another purpose alike).
pub async fn find_live(
    db: &impl ConnectionTrait,
    token: &str,
    purposes: &[Purpose],
    now: DateTime<Utc>,
) -> Result<(email_tokens::Model, Purpose)> {
    let token = token.trim();
    if token.is_empty() || token.len() > 128 {
        return Err(Error::LinkInvalid);
    }
    let row = EmailTokens::find().filter(email_tokens::Column::TokenHash.eq(hash_token(token))).one(db).await?.ok_or(Error::LinkInvalid)?;
    let purpose = Purpose::parse(&row.purpose).filter(|p| purposes.contains(p)).ok_or(Error::LinkInvalid)?;
    if row.used_at.is_some() || now >= row.expires_at {
        return Err(Error::LinkInvalid);
    }
    Ok((row, purpose))
}

/// Marks a token used; fails with [`Error::LinkInvalid`] when another
/// request used it first.
pub async fn consume(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    let r = EmailTokens::update_many()
        .col_expr(email_tokens::Column::UsedAt, sea_orm::sea_query::Expr::value(now))
        .filter(email_tokens::Column::Id.eq(id))
        .filter(email_tokens::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    if r.rows_affected == 1 { Ok(()) } else { Err(Error::LinkInvalid) }
}

/// Ends every unused token of `user_id` for `purpose` (e.g. older reset
/// links once the password was reset); returns how many ended.
pub async fn revoke_all(db: &impl ConnectionTrait, user_id: Uuid, purpose: Purpose, now: DateTime<Utc>) -> Result<u64> {
    let r = EmailTokens::update_many()
        .col_expr(email_tokens::Column::UsedAt, sea_orm::sea_query::Expr::value(now))
        .filter(email_tokens::Column::UserId.eq(user_id))
        .filter(email_tokens::Column::Purpose.eq(purpose.as_str()))
        .filter(email_tokens::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

/// Reserves one of `max` attempts with a token before its answers are
/// checked, atomically: concurrent requests cannot together try more than
/// `max` times. Fails with [`Error::LinkInvalid`] when none is left.
pub async fn reserve_attempt(db: &impl ConnectionTrait, id: Uuid, max: i32) -> Result<()> {
    let r = EmailTokens::update_many()
        .col_expr(
            email_tokens::Column::Failures,
            sea_orm::sea_query::ExprTrait::add(sea_orm::sea_query::Expr::col(email_tokens::Column::Failures), 1),
        )
        .filter(email_tokens::Column::Id.eq(id))
        .filter(email_tokens::Column::Failures.lt(max))
        .filter(email_tokens::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    if r.rows_affected == 1 { Ok(()) } else { Err(Error::LinkInvalid) }
}

/// How many attempts a token has used.
pub async fn failures(db: &impl ConnectionTrait, id: Uuid) -> Result<i32> {
    Ok(EmailTokens::find_by_id(id).one(db).await?.map(|r| r.failures).unwrap_or(i32::MAX))
}

/// Gives back an attempt reserved with [`reserve_attempt`] (the answers were right).
pub async fn release_attempt(db: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    EmailTokens::update_many()
        .col_expr(
            email_tokens::Column::Failures,
            sea_orm::sea_query::ExprTrait::sub(sea_orm::sea_query::Expr::col(email_tokens::Column::Failures), 1),
        )
        .filter(email_tokens::Column::Id.eq(id))
        .filter(email_tokens::Column::Failures.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes tokens that ended more than a day ago.
pub async fn purge_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64> {
    let cutoff = now - chrono::Duration::days(1);
    let r = EmailTokens::delete_many().filter(email_tokens::Column::ExpiresAt.lt(cutoff)).exec(db).await?;
    Ok(r.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, TestDb};

    /// Threat: replayed or stale links. A token works once, for its purpose,
    /// until it expires; the database holds only its hash.
    async fn tokens_work_once_for_their_purpose_until_they_expire(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let u = testing::user(&ctx, "alice", false).await;
        let ttl = Duration::from_secs(1800);
        let token = issue(&ctx.db, u.id, Purpose::ResetPassword, &u.email, ttl, now).await.unwrap();
        let stored = EmailTokens::find().one(&ctx.db).await.unwrap().unwrap();
        assert_ne!(stored.token_hash.expose(), token);
        assert!(matches!(find_live(&ctx.db, &token, &[Purpose::VerifyEmail], now).await, Err(Error::LinkInvalid)));
        assert!(matches!(find_live(&ctx.db, "nope", &[Purpose::ResetPassword], now).await, Err(Error::LinkInvalid)));
        let later = now + chrono::Duration::minutes(30);
        assert!(matches!(find_live(&ctx.db, &token, &[Purpose::ResetPassword], later).await, Err(Error::LinkInvalid)));
        let (row, p) = find_live(&ctx.db, &token, &[Purpose::ResetPassword], now).await.unwrap();
        assert_eq!(p, Purpose::ResetPassword);
        consume(&ctx.db, row.id, now).await.unwrap();
        assert!(matches!(consume(&ctx.db, row.id, now).await, Err(Error::LinkInvalid)));
        assert!(matches!(find_live(&ctx.db, &token, &[Purpose::ResetPassword], now).await, Err(Error::LinkInvalid)));
    }
    crate::db_test!(tokens_work_once_for_their_purpose_until_they_expire);
}
