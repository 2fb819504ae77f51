//! Creating the first administrator. There is never a default password: on a
//! start with no accounts the server logs a one-time link (random token, stored
//! hashed, valid 30 minutes, single use) that opens the setup page.

use chrono::{DateTime, Utc};
use entity::prelude::*;
use entity::setup_tokens;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::auth::{SignedIn, start_session};
use crate::clock::after;
use crate::crypto::{hash_token, random_token};
use crate::users::{self, NewUser};
use crate::{ClientMeta, Ctx, Error, Result};

/// When no account exists, creates a setup token and returns it (to be logged
/// as a link). Returns `None` once an account exists.
pub async fn issue_token_if_needed(ctx: &Ctx, now: DateTime<Utc>) -> Result<Option<String>> {
    if users::count(&ctx.db).await? > 0 {
        return Ok(None);
    }
    let token = random_token();
    setup_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        token_hash: Set(hash_token(&token).into()),
        created_at: Set(now),
        expires_at: Set(after(now, ctx.policy.setup_token_ttl)),
        used_at: Set(None),
    }
    .insert(&ctx.db)
    .await?;
    Ok(Some(token))
}

/// What the setup page should show for a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupState {
    /// The form may be shown.
    Ready,
    /// An account exists: setup is over.
    AlreadySetUp,
    /// The link is unknown, used or expired.
    InvalidToken,
}

pub async fn state(db: &impl ConnectionTrait, token: &str, now: DateTime<Utc>) -> Result<SetupState> {
    if users::count(db).await? > 0 {
        return Ok(SetupState::AlreadySetUp);
    }
    let found = SetupTokens::find()
        .filter(setup_tokens::Column::TokenHash.eq(hash_token(token)))
        .filter(setup_tokens::Column::UsedAt.is_null())
        .filter(setup_tokens::Column::ExpiresAt.gt(now))
        .one(db)
        .await?;
    Ok(if found.is_some() { SetupState::Ready } else { SetupState::InvalidToken })
}

/// Spends the token and creates the first administrator, signed in.
/// **Requires:** a valid setup token; the password already checked against policy.
pub async fn create_first_admin(
    ctx: &Ctx,
    token: &str,
    username: String,
    email: String,
    password: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<SignedIn> {
    if let Some(ip) = &meta.ip {
        ctx.limits.setup_ip.check(ip)?;
    }
    match state(&ctx.db, token, now).await? {
        SetupState::Ready => {}
        SetupState::AlreadySetUp => return Err(Error::AlreadySetUp),
        SetupState::InvalidToken => return Err(Error::SetupTokenInvalid),
    }
    crate::passwords::ensure_strong_for_new(password, &username, &email, "password").await?;
    let hash = ctx.hasher.hash(password).await?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    // Spend the token with a conditional update: of two concurrent uses, one wins.
    let spent = SetupTokens::update_many()
        .col_expr(setup_tokens::Column::UsedAt, sea_orm::sea_query::Expr::value(now))
        .filter(setup_tokens::Column::TokenHash.eq(hash_token(token)))
        .filter(setup_tokens::Column::UsedAt.is_null())
        .filter(setup_tokens::Column::ExpiresAt.gt(now))
        .exec(&txn)
        .await?;
    if spent.rows_affected != 1 {
        return Err(Error::SetupTokenInvalid);
    }
    if users::count(&txn).await? > 0 {
        return Err(Error::AlreadySetUp);
    }
    let user = users::insert_with_password_hash(&txn, &NewUser { username, email, is_admin: true }, hash, now).await?;
    txn.commit().await?;
    start_session(ctx, &user, &["pwd"], true, meta, None, now).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, TestDb};
    use std::time::Duration;

    async fn first_admin_is_created_once_with_a_fresh_token(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let token = issue_token_if_needed(&ctx, now).await.unwrap().unwrap();
        assert_eq!(state(&ctx.db, &token, now).await.unwrap(), SetupState::Ready);
        let s = create_first_admin(&ctx, &token, "root".into(), "root@example.com".into(), testing::PASSWORD, &ClientMeta::default(), now)
            .await
            .unwrap();
        assert!(s.user.is_admin);
        // Used: neither this token nor a new one works any more.
        assert_eq!(state(&ctx.db, &token, now).await.unwrap(), SetupState::AlreadySetUp);
        assert!(issue_token_if_needed(&ctx, now).await.unwrap().is_none());
        let again =
            create_first_admin(&ctx, &token, "root2".into(), "r2@example.com".into(), testing::PASSWORD, &ClientMeta::default(), now).await;
        assert!(matches!(again, Err(Error::AlreadySetUp)));
        assert_eq!(users::count(&ctx.db).await.unwrap(), 1);
    }
    crate::db_test!(first_admin_is_created_once_with_a_fresh_token);

    /// Threat: a leaked or guessed setup link. Expired and unknown tokens
    /// create nothing.
    async fn expired_or_unknown_tokens_create_nothing(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let token = issue_token_if_needed(&ctx, now).await.unwrap().unwrap();
        let late = after(now, ctx.policy.setup_token_ttl + Duration::from_secs(1));
        assert_eq!(state(&ctx.db, &token, late).await.unwrap(), SetupState::InvalidToken);
        let r = create_first_admin(&ctx, &token, "root".into(), "root@example.com".into(), testing::PASSWORD, &ClientMeta::default(), late)
            .await;
        assert!(matches!(r, Err(Error::SetupTokenInvalid)));
        let r =
            create_first_admin(&ctx, "guessed", "root".into(), "root@example.com".into(), testing::PASSWORD, &ClientMeta::default(), now)
                .await;
        assert!(matches!(r, Err(Error::SetupTokenInvalid)));
        assert_eq!(users::count(&ctx.db).await.unwrap(), 0);
    }
    crate::db_test!(expired_or_unknown_tokens_create_nothing);

    /// Threat: the most powerful account created with a guessable password.
    /// The setup link applies the same strength rule as a password change,
    /// and a refusal spends nothing: the link still works.
    async fn the_first_admin_needs_a_strong_password(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let token = issue_token_if_needed(&ctx, now).await.unwrap().unwrap();
        for weak in ["password1", "rootroot", "root@example.com"] {
            let r = create_first_admin(&ctx, &token, "root".into(), "root@example.com".into(), weak, &ClientMeta::default(), now).await;
            assert!(
                matches!(&r, Err(Error::Invalid { field: "password", message }) if message.contains("too easy to guess")),
                "{weak}: {r:?}"
            );
        }
        assert_eq!(state(&ctx.db, &token, now).await.unwrap(), SetupState::Ready);
        assert_eq!(users::count(&ctx.db).await.unwrap(), 0);
    }
    crate::db_test!(the_first_admin_needs_a_strong_password);
}
