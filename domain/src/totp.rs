//! Authenticator apps (TOTP, RFC 6238: SHA-1, 6 digits, 30 s) with totp-rs.
//!
//! ```text
//!  start ──► 160-bit secret, sealed in a ceremony (10 min); browser gets QR + key + otpauth URI
//!  finish(code) ──► code valid now (±1 step)? ──► saved (sealed), last step recorded
//!  sign-in(code) ──► any credential matches a step newer than its last used step
//!                     └► step stored with a conditional update: a code works once
//! ```
//! The secret never reaches the browser after enrolment.

use chrono::{DateTime, Utc};
use entity::prelude::*;
use entity::totp_credentials;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::ceremonies::{self, Kind};
use crate::notices::{self, Change};
use crate::{Ctx, Error, Result};

pub const ISSUER: &str = "Latchkey";
pub const DIGITS: usize = 6;
pub const STEP: u64 = 30;
/// Accepted clock skew, in steps either side.
pub const SKEW: u64 = 1;
const SEAL_CONTEXT: &str = "totp-secret";
const ENROL_TTL: Duration = Duration::from_secs(10 * 60);

/// What the browser shows while enrolling: shown once, never stored there.
#[derive(Clone, Debug)]
pub struct Enrolment {
    pub ceremony: Uuid,
    pub secret_base32: String,
    pub otpauth_uri: String,
    pub qr_png_base64: String,
}

#[derive(Serialize, Deserialize)]
struct Pending {
    sealed_secret: String,
}

fn totp(secret: &[u8]) -> Result<totp_rs::Totp> {
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(DIGITS as u8)
        .with_skew(SKEW as u16)
        .with_step_duration(STEP)
        .with_secret(secret.to_vec())
        .build()
        .map_err(|e| Error::Internal(format!("totp: {e}")))
}

/// The code a person typed, without spaces; `None` unless it is 6 digits.
pub fn normalize_code(input: &str) -> Option<String> {
    let code: String = input.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    (code.len() == DIGITS && code.chars().all(|c| c.is_ascii_digit())).then_some(code)
}

/// The time step a code matches at `now` (±[`SKEW`]), if any.
pub fn matching_step(secret: &[u8], code: &str, now: DateTime<Utc>) -> Result<Option<u64>> {
    let t = now.timestamp().max(0) as u64;
    Ok(totp(secret)?.check(code, t))
}

/// The code for a step (tests compute codes as an app would).
pub fn code_at(secret: &[u8], now: DateTime<Utc>) -> Result<String> {
    Ok(totp(secret)?.generate(now.timestamp().max(0) as u64).to_string())
}

fn otpauth_uri(username: &str, secret_base32: &str) -> String {
    let account: String = username
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    format!("otpauth://totp/{ISSUER}:{account}?secret={secret_base32}&issuer={ISSUER}&algorithm=SHA1&digits={DIGITS}&period={STEP}")
}

/// Starts enrolling an authenticator app for `user`.
/// **Requires:** the caller checked recent authentication.
pub async fn start_enrolment(ctx: &Ctx, user: &entity::users::Model, now: DateTime<Utc>) -> Result<Enrolment> {
    // 160 bits from the OS generator (RFC 4226 §4 recommends 160).
    let secret_base32 = totp_rs::Secret::generate().to_base32();
    let sealed_secret = ctx.keys.seal(secret_base32.as_bytes(), SEAL_CONTEXT)?;
    let ceremony = ceremonies::put(&ctx.db, Some(user.id), Kind::TotpEnrolment, &Pending { sealed_secret }, ENROL_TTL, now).await?;
    shown(user, ceremony, secret_base32)
}

/// The enrolment in progress again, for the page that shows it (the
/// no-JavaScript page is a new request). Only its own person's, until it
/// expires or is finished.
pub async fn resume_enrolment(ctx: &Ctx, user: &entity::users::Model, ceremony: Uuid, now: DateTime<Utc>) -> Result<Enrolment> {
    let pending: Pending = ceremonies::peek(&ctx.db, ceremony, Some(user.id), Kind::TotpEnrolment, now).await?;
    let b32 = ctx.keys.open(&pending.sealed_secret, SEAL_CONTEXT)?;
    let secret_base32 = String::from_utf8(b32.to_vec()).map_err(|_| Error::Internal("sealed TOTP secret is not text".into()))?;
    shown(user, ceremony, secret_base32)
}

fn shown(user: &entity::users::Model, ceremony: Uuid, secret_base32: String) -> Result<Enrolment> {
    let otpauth_uri = otpauth_uri(&user.username, &secret_base32);
    let qr_png_base64 = qrcodegen_image::draw_base64(&otpauth_uri).map_err(|e| Error::Internal(format!("qr: {e}")))?;
    Ok(Enrolment { ceremony, secret_base32, otpauth_uri, qr_png_base64 })
}

fn secret_bytes(ctx: &Ctx, sealed: &str) -> Result<Zeroizing<Vec<u8>>> {
    let b32 = ctx.keys.open(sealed, SEAL_CONTEXT)?;
    let text = std::str::from_utf8(&b32).map_err(|_| Error::Internal("sealed TOTP secret is not text".into()))?;
    totp_rs::Secret::try_from_base32(text)
        .map(|s| Zeroizing::new(s.as_bytes().to_vec()))
        .map_err(|_| Error::Internal("sealed TOTP secret is not base32".into()))
}

/// Finishes enrolment with a code from the app; nothing is saved before a
/// valid code. A wrong code leaves the enrolment open for another try.
/// **Requires:** the caller checked recent authentication.
pub async fn finish_enrolment(
    ctx: &Ctx,
    user_id: Uuid,
    ceremony: Uuid,
    code: &str,
    name: &str,
    meta: &crate::ClientMeta,
    now: DateTime<Utc>,
) -> Result<totp_credentials::Model> {
    crate::budget::spend_work(ctx, user_id, now).await?;
    let code = normalize_code(code).ok_or_else(|| Error::invalid("code", "Enter the 6-digit code from your app."))?;
    let pending: Pending = ceremonies::peek(&ctx.db, ceremony, Some(user_id), Kind::TotpEnrolment, now).await?;
    let secret = secret_bytes(ctx, &pending.sealed_secret)?;
    let step = matching_step(&secret, &code, now)?
        .ok_or_else(|| Error::invalid("code", "That code is not right. Check the time on your phone and try the newest code."))?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    if !ceremonies::end(&txn, ceremony).await? {
        return Err(Error::CeremonyExpired);
    }
    let saved = totp_credentials::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        name: Set(name.to_owned()),
        secret_enc: Set(pending.sealed_secret.into()),
        created_at: Set(now),
        last_used_at: Set(Some(now)),
        // The enrolment code cannot be replayed at sign-in.
        last_used_step: Set(Some(step as i64)),
    }
    .insert(&txn)
    .await?;
    notices::security_changed(&txn, ctx, user_id, Change::TotpAdded(name), meta, now).await?;
    txn.commit().await?;
    crate::mail::wake(ctx);
    Ok(saved)
}

/// Checks a code against the person's authenticator apps and spends it.
/// Returns false for a wrong or already-used code.
pub async fn verify(ctx: &Ctx, user_id: Uuid, code: &str, now: DateTime<Utc>) -> Result<bool> {
    let Some(code) = normalize_code(code) else { return Ok(false) };
    for cred in list(&ctx.db, user_id).await? {
        let secret = secret_bytes(ctx, cred.secret_enc.expose())?;
        let Some(step) = matching_step(&secret, &code, now)? else { continue };
        // Accept each step once: only a newer step than the last one wins,
        // atomically (two concurrent uses of one code: one succeeds).
        let updated = TotpCredentials::update_many()
            .col_expr(totp_credentials::Column::LastUsedStep, sea_orm::sea_query::Expr::value(step as i64))
            .col_expr(totp_credentials::Column::LastUsedAt, sea_orm::sea_query::Expr::value(now))
            .filter(totp_credentials::Column::Id.eq(cred.id))
            .filter(
                sea_orm::Condition::any()
                    .add(totp_credentials::Column::LastUsedStep.is_null())
                    .add(totp_credentials::Column::LastUsedStep.lt(step as i64)),
            )
            .exec(&ctx.db)
            .await?;
        if updated.rows_affected == 1 {
            return Ok(true);
        }
    }
    Ok(false)
}

pub async fn list(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Vec<totp_credentials::Model>> {
    Ok(TotpCredentials::find()
        .filter(totp_credentials::Column::UserId.eq(user_id))
        .order_by_asc(totp_credentials::Column::CreatedAt)
        .all(db)
        .await?)
}

pub async fn rename(db: &impl ConnectionTrait, user_id: Uuid, id: Uuid, name: &str) -> Result<()> {
    let cred = TotpCredentials::find_by_id(id).one(db).await?.filter(|c| c.user_id == user_id).ok_or(Error::NotFound)?;
    let mut a: totp_credentials::ActiveModel = cred.into();
    a.name = Set(name.to_owned());
    a.update(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, TestDb};
    use chrono::TimeZone;

    const SECRET: &[u8] = b"12345678901234567890"; // RFC 6238 test secret (SHA-1)

    #[test]
    fn rfc_6238_vectors() {
        // RFC 6238 appendix B, truncated to 6 digits.
        for (t, code) in [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")] {
            let now = Utc.timestamp_opt(t, 0).unwrap();
            assert_eq!(code_at(SECRET, now).unwrap(), code);
        }
    }

    #[test]
    fn one_step_of_skew_either_side_and_no_more() {
        let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let step = |n: i64| now + chrono::Duration::seconds(n * STEP as i64);
        let code = code_at(SECRET, now).unwrap();
        let base = now.timestamp() as u64 / STEP;
        assert_eq!(matching_step(SECRET, &code, now).unwrap(), Some(base));
        assert_eq!(matching_step(SECRET, &code, step(1)).unwrap(), Some(base), "phone one step behind");
        assert_eq!(matching_step(SECRET, &code, step(-1)).unwrap(), Some(base), "phone one step ahead");
        assert_eq!(matching_step(SECRET, &code, step(2)).unwrap(), None);
        assert_eq!(matching_step(SECRET, &code, step(-2)).unwrap(), None);
    }

    #[test]
    fn codes_are_normalised_or_refused() {
        assert_eq!(normalize_code(" 123 456 ").as_deref(), Some("123456"));
        for bad in ["12345", "1234567", "12a456", "", "１２３４５６"] {
            assert_eq!(normalize_code(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_uri_is_what_authenticator_apps_expect() {
        assert_eq!(
            otpauth_uri("alice", "JBSWY3DPEHPK3PXP"),
            "otpauth://totp/Latchkey:alice?secret=JBSWY3DPEHPK3PXP&issuer=Latchkey&algorithm=SHA1&digits=6&period=30"
        );
    }

    async fn enrolment_needs_a_valid_code_and_codes_work_once(t: TestDb) {
        let ctx = t.ctx();
        let user = testing::user(&ctx, "alice", false).await;
        let now = testing::t0();
        let e = start_enrolment(&ctx, &user, now).await.unwrap();
        assert!(e.otpauth_uri.contains(&e.secret_base32));
        let secret = totp_rs::Secret::try_from_base32(&e.secret_base32).unwrap();
        assert_eq!(secret.as_bytes().len(), 20, "160-bit secret");
        // Wrong code: nothing saved, the enrolment stays open.
        let wrong = finish_enrolment(&ctx, user.id, e.ceremony, "000000", "Phone", &Default::default(), now).await;
        assert!(matches!(wrong, Err(Error::Invalid { field: "code", .. })) || code_at(secret.as_bytes(), now).unwrap() == "000000");
        assert!(list(&ctx.db, user.id).await.unwrap().is_empty());
        let code = code_at(secret.as_bytes(), now).unwrap();
        let saved = finish_enrolment(&ctx, user.id, e.ceremony, &code, "Phone", &Default::default(), now).await.unwrap();
        assert_ne!(saved.secret_enc.expose(), e.secret_base32, "sealed at rest");
        // The enrolment code itself is spent.
        assert!(!verify(&ctx, user.id, &code, now).await.unwrap(), "replay of the enrolment code");
        // The next step's code works once.
        let later = now + chrono::Duration::seconds(STEP as i64);
        let next = code_at(secret.as_bytes(), later).unwrap();
        assert!(verify(&ctx, user.id, &next, later).await.unwrap());
        assert!(!verify(&ctx, user.id, &next, later).await.unwrap(), "replay");
        // An older code (still inside the skew window) is refused after a newer one.
        assert!(!verify(&ctx, user.id, &code, later).await.unwrap());
        // A finished enrolment cannot be finished again.
        assert!(finish_enrolment(&ctx, user.id, e.ceremony, &next, "Again", &Default::default(), later).await.is_err());
    }
    crate::db_test!(enrolment_needs_a_valid_code_and_codes_work_once);

    /// Threat: another person reading an enrolment's secret by its id (it is
    /// in the address of the no-JavaScript page). Only its own person sees
    /// it again, and only until it is finished or expires.
    async fn an_enrolment_resumes_for_its_own_person_only(t: TestDb) {
        let ctx = t.ctx();
        let (alice, mallory) = (testing::user(&ctx, "alice", false).await, testing::user(&ctx, "mallory", false).await);
        let now = testing::t0();
        let e = start_enrolment(&ctx, &alice, now).await.unwrap();
        let again = resume_enrolment(&ctx, &alice, e.ceremony, now).await.unwrap();
        assert_eq!((again.secret_base32.as_str(), again.otpauth_uri.as_str()), (e.secret_base32.as_str(), e.otpauth_uri.as_str()));
        assert!(matches!(resume_enrolment(&ctx, &mallory, e.ceremony, now).await, Err(Error::CeremonyExpired)), "another person");
        let late = now + chrono::Duration::seconds(ENROL_TTL.as_secs() as i64 + 1);
        assert!(matches!(resume_enrolment(&ctx, &alice, e.ceremony, late).await, Err(Error::CeremonyExpired)), "expired");
        let secret = totp_rs::Secret::try_from_base32(&e.secret_base32).unwrap();
        let code = code_at(secret.as_bytes(), now).unwrap();
        finish_enrolment(&ctx, alice.id, e.ceremony, &code, "Phone", &Default::default(), now).await.unwrap();
        assert!(matches!(resume_enrolment(&ctx, &alice, e.ceremony, now).await, Err(Error::CeremonyExpired)), "finished");
    }
    crate::db_test!(an_enrolment_resumes_for_its_own_person_only);
}
