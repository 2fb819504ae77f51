//! Backup codes: ten single-use codes `xxxx-xxxx` (8 symbols of 32: 40 bits
//! each), shown once. Only keyed hashes (HMAC-SHA-256 with the server key)
//! are stored; using one spends it with a conditional update, so two
//! concurrent uses of the same code succeed once.

use chrono::{DateTime, Utc};
use entity::backup_codes;
use entity::prelude::*;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::ceremonies::{self, Kind};
use crate::{Ctx, Result};

pub const COUNT: usize = 10;
/// How long new codes wait, sealed, to be shown on a page without JavaScript.
const SHOW_TTL: std::time::Duration = std::time::Duration::from_secs(5 * 60);
const SHOW_CONTEXT: &str = "backup-codes-show";
/// Warn the person when this few remain.
pub const LOW: u64 = 3;
/// Crockford's base32 alphabet, lower case (no i, l, o, u).
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

fn new_code(rng: &mut impl rand::Rng) -> String {
    let s: String = (0..8).map(|_| ALPHABET[rng.gen_range(0..32)] as char).collect();
    format!("{}-{}", &s[..4], &s[4..])
}

/// A typed code in canonical form, or `None` if it cannot be one.
/// Case, spaces and dashes do not matter; i/l read as 1 and o as 0.
pub fn normalize(input: &str) -> Option<String> {
    let s: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_lowercase() {
            'i' | 'l' => '1',
            'o' => '0',
            c => c,
        })
        .collect();
    (s.len() == 8 && s.bytes().all(|b| ALPHABET.contains(&b))).then_some(s)
}

fn hash(ctx: &Ctx, user_id: Uuid, canonical: &str) -> String {
    ctx.keys.mac(format!("backup-code\n{user_id}\n{canonical}").as_bytes())
}

/// Replaces all of a person's codes with ten new ones, returned once.
/// **Requires:** the caller checked recent authentication and confirmation.
pub async fn regenerate(ctx: &Ctx, user_id: Uuid, meta: &crate::ClientMeta, now: DateTime<Utc>) -> Result<Vec<String>> {
    let txn = crate::db::begin_write(&ctx.db).await?;
    let codes = replace(&txn, ctx, user_id, meta, now).await?;
    txn.commit().await?;
    crate::mail::wake(ctx);
    Ok(codes)
}

/// Like [`regenerate`], for a page without JavaScript: the answer to a plain
/// form post is a redirect, so the new codes are kept sealed, in the same
/// transaction, for the page to show ([`kept_to_show`]) until the person
/// says they saved them ([`forget_shown`]) or five minutes pass; returns
/// the id that page asks with.
pub async fn regenerate_to_show(ctx: &Ctx, user_id: Uuid, meta: &crate::ClientMeta, now: DateTime<Utc>) -> Result<Uuid> {
    let txn = crate::db::begin_write(&ctx.db).await?;
    let codes = replace(&txn, ctx, user_id, meta, now).await?;
    let sealed = ctx.keys.seal(codes.join("\n").as_bytes(), SHOW_CONTEXT)?;
    let id = ceremonies::put(&txn, Some(user_id), Kind::BackupCodesReveal, &sealed, SHOW_TTL, now).await?;
    txn.commit().await?;
    crate::mail::wake(ctx);
    Ok(id)
}

/// The codes kept by [`regenerate_to_show`]. Another person's, expired,
/// forgotten or replaced ids fail. Reading does not end them: a page render
/// may read more than once.
pub async fn kept_to_show(ctx: &Ctx, user_id: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<Vec<String>> {
    let sealed: String = ceremonies::peek(&ctx.db, id, Some(user_id), Kind::BackupCodesReveal, now).await?;
    let text = ctx.keys.open(&sealed, SHOW_CONTEXT)?;
    let text = std::str::from_utf8(&text).map_err(|_| crate::Error::Internal("sealed backup codes are not text".into()))?;
    Ok(text.lines().map(str::to_owned).collect())
}

/// The person saved the codes shown: they are not kept any longer.
pub async fn forget_shown(ctx: &Ctx, user_id: Uuid) -> Result<()> {
    ceremonies::end_all(&ctx.db, user_id, Kind::BackupCodesReveal).await?;
    Ok(())
}

async fn replace(
    txn: &impl ConnectionTrait,
    ctx: &Ctx,
    user_id: Uuid,
    meta: &crate::ClientMeta,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let codes: Vec<String> = {
        let mut rng = rand::thread_rng();
        let mut v: Vec<String> = Vec::new();
        while v.len() < COUNT {
            let c = new_code(&mut rng);
            if !v.contains(&c) {
                v.push(c);
            }
        }
        v
    };
    BackupCodes::delete_many().filter(backup_codes::Column::UserId.eq(user_id)).exec(txn).await?;
    // Codes kept to show from an earlier generation are no longer in force.
    ceremonies::end_all(txn, user_id, Kind::BackupCodesReveal).await?;
    for c in &codes {
        let canonical = normalize(c).unwrap_or_default();
        backup_codes::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            code_hash: Set(hash(ctx, user_id, &canonical).into()),
            created_at: Set(now),
            used_at: Set(None),
        }
        .insert(txn)
        .await?;
    }
    crate::notices::security_changed(txn, ctx, user_id, crate::notices::Change::BackupCodesGenerated, meta, now).await?;
    Ok(codes)
}

/// Spends a code; false when it is not one of the person's unused codes.
pub async fn consume(ctx: &Ctx, user_id: Uuid, input: &str, now: DateTime<Utc>) -> Result<bool> {
    let Some(canonical) = normalize(input) else { return Ok(false) };
    let spent = BackupCodes::update_many()
        .col_expr(backup_codes::Column::UsedAt, sea_orm::sea_query::Expr::value(now))
        .filter(backup_codes::Column::UserId.eq(user_id))
        .filter(backup_codes::Column::CodeHash.eq(hash(ctx, user_id, &canonical)))
        .filter(backup_codes::Column::UsedAt.is_null())
        .exec(&ctx.db)
        .await?;
    Ok(spent.rows_affected == 1)
}

/// How many codes a person has, and how many are unused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    pub total: u64,
    pub remaining: u64,
    pub created_at: Option<DateTime<Utc>>,
}

pub async fn status(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Status> {
    let total = BackupCodes::find().filter(backup_codes::Column::UserId.eq(user_id)).count(db).await?;
    let remaining = BackupCodes::find()
        .filter(backup_codes::Column::UserId.eq(user_id))
        .filter(backup_codes::Column::UsedAt.is_null())
        .count(db)
        .await?;
    let created_at = BackupCodes::find().filter(backup_codes::Column::UserId.eq(user_id)).one(db).await?.map(|c| c.created_at);
    Ok(Status { total, remaining, created_at })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, TestDb};

    /// Threat: new codes read by someone else, or again later (the address
    /// replayed from history on a shared computer). Kept sealed, for their
    /// own person, until they say they saved them, five minutes at most, and
    /// never once replaced.
    async fn codes_kept_to_show_are_sealed_and_kept_briefly(t: TestDb) {
        let ctx = t.ctx();
        let (alice, bob) = (testing::user(&ctx, "alice", false).await, testing::user(&ctx, "bob", false).await);
        let now = testing::t0();
        let gone = |r: Result<Vec<String>>| matches!(r, Err(crate::Error::CeremonyExpired));
        let id = regenerate_to_show(&ctx, alice.id, &Default::default(), now).await.unwrap();
        let kept = Ceremonies::find_by_id(id).one(&ctx.db).await.unwrap().unwrap();
        assert!(gone(kept_to_show(&ctx, bob.id, id, now).await), "another person");
        let codes = kept_to_show(&ctx, alice.id, id, now).await.unwrap();
        assert_eq!(codes.len(), COUNT);
        assert_eq!(kept_to_show(&ctx, alice.id, id, now).await.unwrap(), codes, "a page may read twice");
        assert!(codes.iter().all(|c| !kept.state.expose().contains(c.as_str())), "sealed at rest");
        assert!(consume(&ctx, alice.id, &codes[3], now).await.unwrap(), "they are the codes in force");
        forget_shown(&ctx, alice.id).await.unwrap();
        assert!(gone(kept_to_show(&ctx, alice.id, id, now).await), "saved: not kept any longer");

        let id = regenerate_to_show(&ctx, alice.id, &Default::default(), now).await.unwrap();
        let late = now + chrono::Duration::seconds(SHOW_TTL.as_secs() as i64 + 1);
        assert!(gone(kept_to_show(&ctx, alice.id, id, late).await), "expired");
        regenerate(&ctx, alice.id, &Default::default(), now).await.unwrap();
        assert!(gone(kept_to_show(&ctx, alice.id, id, now).await), "replaced by newer codes");
    }
    crate::db_test!(codes_kept_to_show_are_sealed_and_kept_briefly);

    #[test]
    fn codes_have_40_bits_and_a_forgiving_format() {
        let mut rng = rand::thread_rng();
        let c = new_code(&mut rng);
        assert_eq!(c.len(), 9);
        assert_eq!(&c[4..5], "-");
        assert_eq!(ALPHABET.len(), 32, "5 bits per symbol, 8 symbols");
        assert_eq!(normalize(&c.to_uppercase()).unwrap(), c.replace('-', ""));
        assert_eq!(normalize(" abcd efgh ").as_deref(), Some("abcdefgh"));
        assert_eq!(normalize("O0IL-1234").as_deref(), Some("00111234"));
        for bad in ["abcd-efg", "abcd-efghj", "abcd-efgu", "", "--------"] {
            assert_eq!(normalize(bad), None, "{bad:?}");
        }
    }

    async fn codes_are_single_use_and_stored_hashed(t: TestDb) {
        let ctx = t.ctx();
        let user = testing::user(&ctx, "alice", false).await;
        let bob = testing::user(&ctx, "bob", false).await;
        let now = testing::t0();
        let codes = regenerate(&ctx, user.id, &Default::default(), now).await.unwrap();
        assert_eq!(codes.len(), COUNT);
        let stored = BackupCodes::find().all(&ctx.db).await.unwrap();
        assert!(stored.iter().all(|r| !codes.iter().any(|c| r.code_hash.expose().contains(&c.replace('-', "")))));
        assert!(!consume(&ctx, bob.id, &codes[0], now).await.unwrap(), "another person's code");
        assert!(consume(&ctx, user.id, &codes[0].to_uppercase(), now).await.unwrap());
        assert!(!consume(&ctx, user.id, &codes[0], now).await.unwrap(), "spent");
        assert_eq!(status(&ctx.db, user.id).await.unwrap().remaining, 9);
        // Regenerating invalidates every old code.
        let fresh = regenerate(&ctx, user.id, &Default::default(), now).await.unwrap();
        assert!(!consume(&ctx, user.id, &codes[1], now).await.unwrap());
        assert_eq!(status(&ctx.db, user.id).await.unwrap(), Status { total: 10, remaining: 10, created_at: Some(now) });
        assert!(consume(&ctx, user.id, &fresh[9], now).await.unwrap());
    }
    crate::db_test!(codes_are_single_use_and_stored_hashed);

    async fn concurrent_uses_of_one_code_succeed_once(t: TestDb) {
        let ctx = t.ctx();
        let user = testing::user(&ctx, "alice", false).await;
        let now = testing::t0();
        let codes = regenerate(&ctx, user.id, &Default::default(), now).await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (ctx, code) = (ctx.clone(), codes[3].clone());
            tasks.push(tokio::spawn(async move { consume(&ctx, user.id, &code, now).await.unwrap() }));
        }
        let mut wins = 0;
        for t in tasks {
            wins += t.await.unwrap() as usize;
        }
        assert_eq!(wins, 1);
    }
    crate::db_test!(concurrent_uses_of_one_code_succeed_once);
}
