//! Browsers a person has signed in from before, for the login flow's "new
//! device" condition. After a completed sign-in the browser keeps a cookie
//! of random tokens, one per person who signed in on it; each token is stored
//! only as a SHA-256 hash with its account and an expiry. So a known device
//! can be revoked: a password change or reset, and "sign out everywhere
//! else", forget every browser of the person. Clearing cookies makes the
//! browser new again, which is the safe direction.

use chrono::{DateTime, Utc};
use entity::known_devices;
use entity::prelude::*;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::Result;
use crate::crypto::{hash_token, random_token};

/// Most people remembered per browser (the oldest fall off).
pub const MAX_ENTRIES: usize = 5;
/// How long a browser is remembered after the last sign-in on it.
pub const REMEMBER_DAYS: u32 = 90;

fn tokens(cookie: Option<&str>) -> impl Iterator<Item = &str> {
    cookie.unwrap_or("").split('~').filter(|e| !e.is_empty() && e.len() <= 128).take(MAX_ENTRIES)
}

/// Whether the browser's cookie shows that `user_id` signed in on it before
/// (and that browser has not been forgotten since).
pub async fn is_known(db: &impl ConnectionTrait, cookie: Option<&str>, user_id: Uuid, now: DateTime<Utc>) -> Result<bool> {
    let hashes: Vec<String> = tokens(cookie).map(hash_token).collect();
    if hashes.is_empty() {
        return Ok(false);
    }
    Ok(KnownDevices::find()
        .filter(known_devices::Column::TokenHash.is_in(hashes))
        .filter(known_devices::Column::UserId.eq(user_id))
        .filter(known_devices::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .is_some())
}

/// Remembers this browser for `user_id` after a completed sign-in; returns
/// the new cookie value. The person's previous token in this cookie is
/// replaced (rotated), and other people's entries are kept.
pub async fn remember(db: &impl ConnectionTrait, cookie: Option<&str>, user_id: Uuid, now: DateTime<Utc>) -> Result<String> {
    let existing: Vec<&str> = tokens(cookie).collect();
    // The person's earlier entries in this cookie are deleted, and learned
    // which they were, in one statement (`DELETE … RETURNING`).
    let mine: Vec<String> = if existing.is_empty() {
        Vec::new()
    } else {
        KnownDevices::delete_many()
            .filter(known_devices::Column::TokenHash.is_in(existing.iter().map(|t| hash_token(t))))
            .filter(known_devices::Column::UserId.eq(user_id))
            .exec_with_returning(db)
            .await?
            .into_iter()
            .map(|d| d.token_hash.expose().to_owned())
            .collect()
    };
    let token = random_token();
    known_devices::ActiveModel {
        id: Set(Uuid::now_v7()),
        token_hash: Set(hash_token(&token).into()),
        user_id: Set(user_id),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::days(i64::from(REMEMBER_DAYS))),
    }
    .insert(db)
    .await?;
    let mut list = vec![token.as_str()];
    list.extend(existing.into_iter().filter(|t| !mine.contains(&hash_token(t))).take(MAX_ENTRIES - 1));
    Ok(list.join("~"))
}

/// Forgets every browser of a person: the next sign-in anywhere counts as
/// from a new device. Part of ending everything after a credential change.
pub async fn forget_all(db: &impl ConnectionTrait, user_id: Uuid) -> Result<u64> {
    Ok(KnownDevices::delete_many().filter(known_devices::Column::UserId.eq(user_id)).exec(db).await?.rows_affected)
}

/// Deletes expired entries.
pub async fn purge_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64> {
    Ok(KnownDevices::delete_many().filter(known_devices::Column::ExpiresAt.lte(now)).exec(db).await?.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, TestDb};

    async fn a_browser_is_known_only_for_people_who_signed_in_on_it(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let alice = testing::user(&ctx, "alice", false).await.id;
        let bob = testing::user(&ctx, "bob", false).await.id;
        assert!(!is_known(&ctx.db, None, alice, now).await.unwrap());
        let c = remember(&ctx.db, None, alice, now).await.unwrap();
        assert!(is_known(&ctx.db, Some(&c), alice, now).await.unwrap());
        assert!(!is_known(&ctx.db, Some(&c), bob, now).await.unwrap());
        let c2 = remember(&ctx.db, Some(&c), bob, now).await.unwrap();
        assert!(is_known(&ctx.db, Some(&c2), alice, now).await.unwrap() && is_known(&ctx.db, Some(&c2), bob, now).await.unwrap());
        // Threat: a forged or guessed entry. Only stored tokens count.
        assert!(!is_known(&ctx.db, Some("made-up~tokens"), alice, now).await.unwrap());
        // Signing in again rotates the person's token: the old one is gone.
        let c3 = remember(&ctx.db, Some(&c2), alice, now).await.unwrap();
        assert!(!is_known(&ctx.db, Some(&c), alice, now).await.unwrap());
        assert!(is_known(&ctx.db, Some(&c3), alice, now).await.unwrap() && is_known(&ctx.db, Some(&c3), bob, now).await.unwrap());
        // The list stays bounded.
        let mut c = String::new();
        for i in 0..8 {
            let u = testing::user(&ctx, &format!("u{i}"), false).await.id;
            c = remember(&ctx.db, Some(&c), u, now).await.unwrap();
        }
        assert_eq!(c.split('~').count(), MAX_ENTRIES);
    }
    crate::db_test!(a_browser_is_known_only_for_people_who_signed_in_on_it);

    /// Threat: a stolen or left-behind browser staying "known" for ever,
    /// letting a password alone skip the new-device step. Entries expire,
    /// and forgetting a person (credential change, sign out everywhere)
    /// makes every browser new again.
    async fn known_devices_expire_and_can_be_forgotten(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let alice = testing::user(&ctx, "alice", false).await.id;
        let c = remember(&ctx.db, None, alice, now).await.unwrap();
        let expiry = now + chrono::Duration::days(i64::from(REMEMBER_DAYS));
        assert!(is_known(&ctx.db, Some(&c), alice, expiry - chrono::Duration::seconds(1)).await.unwrap());
        assert!(!is_known(&ctx.db, Some(&c), alice, expiry).await.unwrap());
        assert_eq!(purge_expired(&ctx.db, expiry).await.unwrap(), 1);
        let c = remember(&ctx.db, None, alice, now).await.unwrap();
        assert_eq!(forget_all(&ctx.db, alice).await.unwrap(), 1);
        assert!(!is_known(&ctx.db, Some(&c), alice, now).await.unwrap());
        // Only hashes are stored.
        let row = KnownDevices::find().one(&ctx.db).await.unwrap();
        assert!(row.is_none());
        let c = remember(&ctx.db, None, alice, now).await.unwrap();
        let row = KnownDevices::find().one(&ctx.db).await.unwrap().unwrap();
        assert_ne!(row.token_hash.expose(), c.as_str());
    }
    crate::db_test!(known_devices_expire_and_can_be_forgotten);
}
