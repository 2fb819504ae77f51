//! Changing a password, and how guessable a candidate is (zxcvbn, on the
//! server: its dictionaries and regex engine would add hundreds of KB to the
//! browser bundle). The length policy itself is the shared rule in `app`.

use chrono::{DateTime, Utc};
use entity::password_credentials;
use entity::prelude::*;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::budget::{self, Who};
use crate::events::{self, Kind};
use crate::sessions::Authenticated;
use crate::{ClientMeta, Ctx, Error, Result, mail, users};

/// Whether `password` is the password of `user_id`'s account: the one
/// password check (sign-in, its later steps, re-authentication, password
/// change). No account (`None`) or an account without a password spends the
/// same argon2 work and is `false`, so timing does not tell them apart.
pub async fn verify(ctx: &Ctx, user_id: Option<Uuid>, password: &str) -> Result<bool> {
    let hash = match user_id {
        Some(id) => users::password_hash(&ctx.db, id).await?,
        None => None,
    };
    verify_hash(ctx, hash.as_ref(), password).await
}

/// [`verify`] against a hash the caller already read with the account (a
/// sign-in reads both in one statement); `None`: no account or no password.
pub async fn verify_hash(ctx: &Ctx, hash: Option<&entity::Secret>, password: &str) -> Result<bool> {
    match hash {
        Some(h) => ctx.hasher.verify(password, h.expose()).await,
        None => {
            ctx.hasher.verify_dummy(password).await?;
            Ok(false)
        }
    }
}

/// Which sessions end when a password changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndSessions {
    /// Every session (a reset by mail: whoever was signed in may be the attacker).
    All,
    /// Every session but this one (a change with "sign out other sessions").
    AllBut(Uuid),
    /// None (a change keeping the other sessions).
    Keep,
}

/// Ends, in the change's transaction, everything the old password let
/// someone hold: sessions (as `sessions` says), reset links (they would undo
/// the change), half-finished sign-ins (a first step passed with the old
/// password must not count) and remembered devices. The one place that does
/// this; returns how many sessions ended.
pub async fn end_after_change(txn: &impl ConnectionTrait, user_id: Uuid, sessions: EndSessions, now: DateTime<Utc>) -> Result<u64> {
    let ended = match sessions {
        EndSessions::All => crate::sessions::revoke_all(txn, user_id, now).await?,
        EndSessions::AllBut(keep) => crate::sessions::revoke_others(txn, user_id, keep, now).await?,
        EndSessions::Keep => 0,
    };
    crate::tokens::revoke_all(txn, user_id, crate::tokens::Purpose::ResetPassword, now).await?;
    crate::sessions::forget_partial_logins(txn, user_id).await?;
    crate::devices::forget_all(txn, user_id).await?;
    Ok(ended)
}

/// Scores below this (0–4) are refused as too easy to guess.
pub const MIN_SCORE: u8 = 2;

/// How guessable a password is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Strength {
    /// 0 (guessed at once) to 4 (very hard to guess).
    pub score: u8,
    /// Why it is weak, when it is.
    pub warning: Option<String>,
    pub suggestions: Vec<String>,
}

/// Rates `password`, counting the person's own names and addresses as guessable.
pub fn strength(password: &str, user_inputs: &[&str]) -> Strength {
    // zxcvbn's work grows with length; beyond 100 characters only length matters.
    let sample: String = password.chars().take(100).collect();
    let e = zxcvbn::zxcvbn(&sample, user_inputs);
    let feedback = e.feedback();
    Strength {
        score: u8::from(e.score()),
        warning: feedback.and_then(|f| f.warning()).map(|w| w.to_string()),
        suggestions: feedback.map(|f| f.suggestions().iter().map(ToString::to_string).collect()).unwrap_or_default(),
    }
}

/// What a person's own details contribute to guessing.
pub fn user_inputs(u: &users::User) -> Vec<String> {
    let mut v = vec![u.username.clone(), u.email.clone()];
    v.extend(u.email.split('@').next().map(str::to_owned));
    v.extend([&u.given_name, &u.family_name, &u.display_name].into_iter().flatten().cloned());
    v
}

/// [`strength`] off the async runtime: zxcvbn takes tens of milliseconds on
/// long inputs, which must not stall other requests.
pub async fn rate(password: &str, user: &users::User) -> Result<Strength> {
    rate_with(password, user_inputs(user)).await
}

async fn rate_with(password: &str, inputs: Vec<String>) -> Result<Strength> {
    let password = zeroize::Zeroizing::new(password.chars().take(100).collect::<String>());
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        strength(&password, &refs)
    })
    .await
    .map_err(|e| Error::Internal(format!("strength check: {e}")))
}

/// Refuses a password that is too easy to guess.
pub async fn ensure_strong(password: &str, user: &users::User, field: &'static str) -> Result<()> {
    ensure_strong_with(password, user_inputs(user), field).await
}

/// [`ensure_strong`] for an account that does not exist yet (the setup link,
/// `latchkey user create`): its username and email count as guessable.
pub async fn ensure_strong_for_new(password: &str, username: &str, email: &str, field: &'static str) -> Result<()> {
    let mut inputs = vec![username.to_owned(), email.to_owned()];
    inputs.extend(email.split('@').next().map(str::to_owned));
    ensure_strong_with(password, inputs, field).await
}

async fn ensure_strong_with(password: &str, inputs: Vec<String>, field: &'static str) -> Result<()> {
    let s = rate_with(password, inputs).await?;
    if s.score < MIN_SCORE {
        let why = s.warning.unwrap_or_else(|| "It would be guessed quickly.".into());
        return Err(Error::invalid(field, format!("This password is too easy to guess. {why} Try a few unrelated words.")));
    }
    Ok(())
}

/// Replaces the stored password hash; the caller owns the transaction.
pub(crate) async fn store_hash(db: &impl ConnectionTrait, user_id: Uuid, hash: String, now: DateTime<Utc>) -> Result<()> {
    let r = PasswordCredentials::update_many()
        .col_expr(password_credentials::Column::PasswordHash, sea_orm::sea_query::Expr::value(hash.clone()))
        .col_expr(password_credentials::Column::UpdatedAt, sea_orm::sea_query::Expr::value(now))
        .filter(password_credentials::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if r.rows_affected == 0 {
        use sea_orm::{ActiveModelTrait, Set};
        password_credentials::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            password_hash: Set(hash.into()),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// A password change as asked for.
pub struct Change<'a> {
    pub current: &'a str,
    pub new: &'a str,
    /// End every other session of the person (this one stays).
    pub sign_out_others: bool,
}

/// Changes the signed-in person's password after re-checking the current
/// one. **Requires:** the caller checked `new` against the length policy.
/// Returns how many other sessions ended.
pub async fn change(ctx: &Ctx, session: &Authenticated, c: Change<'_>, meta: &ClientMeta, now: DateTime<Utc>) -> Result<u64> {
    let user = users::get(&ctx.db, session.user_id).await?;
    let attempt = budget::reserve(ctx, Who::Account(user.id), now).await?;
    let right = verify(ctx, Some(user.id), c.current).await;
    if !attempt.settle(ctx, right?, now).await? {
        events::record(&ctx.db, user.id, Kind::ReauthFailed, Some("pwd"), Some("changing the password".into()), meta, now).await?;
        return Err(Error::invalid("current", "Your current password is not right."));
    }
    if c.new == c.current {
        return Err(Error::invalid("password", "Choose a password different from your current one."));
    }
    ensure_strong(c.new, &user, "password").await?;
    let hash = ctx.hasher.hash(c.new).await?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    store_hash(&txn, user.id, hash, now).await?;
    let sessions = if c.sign_out_others { EndSessions::AllBut(session.session_id) } else { EndSessions::Keep };
    let ended = end_after_change(&txn, user.id, sessions, now).await?;
    let detail = if c.sign_out_others { format!("{ended} other sessions signed out") } else { "other sessions kept".into() };
    events::record(&txn, user.id, Kind::PasswordChanged, Some("pwd"), Some(detail), meta, now).await?;
    mail::enqueue(&txn, ctx, &changed_mail(ctx, &user, meta, now, false), now).await?;
    txn.commit().await?;
    mail::wake(ctx);
    Ok(ended)
}

/// "Your password was changed", to the primary address.
pub(crate) fn changed_mail(ctx: &Ctx, user: &users::User, meta: &ClientMeta, now: DateTime<Utc>, reset: bool) -> mail::Message {
    let how = if reset { "reset with a recovery link" } else { "changed in My Account" };
    let mut lines = vec![format!(
        "The password of your account {} was {how} on {}{}.",
        user.username,
        now.format("%-d %b %Y at %H:%M UTC"),
        meta.ip.as_deref().map(|ip| format!(" from {ip}")).unwrap_or_default()
    )];
    if reset {
        lines.push("Every session that was signed in has been signed out.".into());
    }
    lines.push("If this was you, there is nothing to do.".into());
    mail::compose(
        &user.email,
        &crate::users::greeting(user),
        "your password was changed",
        &lines,
        Some(("Review your account's security", &ctx.link("/myaccount/security"))),
        "If it was not you, reset your password now with \"Forgot password?\" on the sign-in page, and tell your administrator.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, PASSWORD, TestDb};

    #[test]
    fn common_and_personal_passwords_score_low() {
        assert!(strength("password1", &[]).score < MIN_SCORE);
        assert!(strength("alice2026", &["alice"]).score < MIN_SCORE);
        assert!(strength("ample tuba cinder orbit", &[]).score >= 3);
        assert!(strength("qwertyuiop", &[]).warning.is_some());
    }

    /// Threat: a borrowed signed-in browser changing the password, or a
    /// thief keeping their sessions after the owner changes it.
    async fn change_checks_the_current_password_and_ends_other_sessions(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        testing::user(&ctx, "alice", false).await;
        let this = testing::signed_in(&ctx, "alice", now).await;
        let other = testing::signed_in(&ctx, "alice", now).await;
        let meta = ClientMeta::default();
        let wrong =
            change(&ctx, &this, Change { current: "nope", new: "ample tuba cinder orbit", sign_out_others: true }, &meta, now).await;
        assert!(matches!(wrong, Err(Error::Invalid { field: "current", .. })), "{wrong:?}");
        let same = change(&ctx, &this, Change { current: PASSWORD, new: PASSWORD, sign_out_others: true }, &meta, now).await;
        assert!(matches!(same, Err(Error::Invalid { field: "password", .. })), "{same:?}");
        let weak = change(&ctx, &this, Change { current: PASSWORD, new: "password123", sign_out_others: true }, &meta, now).await;
        assert!(matches!(weak, Err(Error::Invalid { field: "password", .. })), "{weak:?}");
        assert!(mail::pending(&ctx.db).await.unwrap().is_empty(), "refusals change nothing and send nothing");

        let ended = change(&ctx, &this, Change { current: PASSWORD, new: "ample tuba cinder orbit", sign_out_others: true }, &meta, now)
            .await
            .unwrap();
        assert_eq!(ended, 1);
        let live: Vec<_> = crate::sessions::active(&ctx.db, this.user_id, now).await.unwrap().into_iter().map(|s| s.id).collect();
        assert_eq!(live, vec![this.session_id]);
        assert!(!live.contains(&other.session_id));
        let hash = users::password_hash(&ctx.db, this.user_id).await.unwrap().unwrap();
        assert!(ctx.hasher.verify("ample tuba cinder orbit", hash.expose()).await.unwrap());
        let queued = mail::pending(&ctx.db).await.unwrap();
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].to_address, "alice@example.com");
    }
    crate::db_test!(change_checks_the_current_password_and_ends_other_sessions);
}
