//! Re-authentication before sensitive changes: enrolling or removing second
//! factors and passkeys (and later password, recovery, export, deletion)
//! needs a proof of identity no older than `Policy::reauth_window`. A fresh
//! proof moves the session's `auth_time` forward.

use chrono::{DateTime, Utc};
use entity::prelude::*;
use entity::user_sessions;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;
use webauthn_rs::prelude::{PublicKeyCredential, RequestChallengeResponse};

use crate::budget::{self, Who};
use crate::events::{self, Kind};
use crate::sessions::Authenticated;
use crate::{ClientMeta, Ctx, Error, Result, factors, flows, passkeys, totp};
use proto::flow;

/// Refuses with [`Error::ReauthRequired`] when the session's last proof is
/// older than the window.
pub fn require_recent(ctx: &Ctx, session: &Authenticated, now: DateTime<Utc>) -> Result<()> {
    let window = chrono::Duration::from_std(ctx.policy.reauth_window).unwrap_or_default();
    if now - session.auth_time <= window { Ok(()) } else { Err(Error::ReauthRequired) }
}

/// Until when the session's proof counts as recent.
pub fn recent_until(ctx: &Ctx, session: &Authenticated) -> DateTime<Utc> {
    crate::clock::after(session.auth_time, ctx.policy.reauth_window)
}

/// A fresh proof of identity.
pub enum Proof<'a> {
    Password(&'a str),
    Totp(&'a str),
    Passkey { ceremony: Uuid, credential: &'a PublicKeyCredential },
}

/// Starts a passkey check to re-authenticate.
pub async fn start_passkey(ctx: &Ctx, session: &Authenticated, now: DateTime<Utc>) -> Result<(Uuid, RequestChallengeResponse)> {
    passkeys::start_for_user(ctx, session.user_id, now).await
}

/// Checks a proof and, when it is right, records it on the session.
pub async fn prove(ctx: &Ctx, session: &Authenticated, proof: Proof<'_>, meta: &ClientMeta, now: DateTime<Utc>) -> Result<()> {
    let attempt = budget::reserve(ctx, Who::Account(session.user_id), now).await?;
    let checked = check(ctx, session, proof, now).await;
    let (ok, method, field) = match checked {
        Ok(c) => c,
        Err(e) => {
            attempt.cancel(ctx).await?;
            return Err(e);
        }
    };
    attempt.settle(ctx, ok, now).await?;
    if !ok {
        events::record(&ctx.db, session.user_id, Kind::ReauthFailed, Some(method), None, meta, now).await?;
        let message = match field {
            "password" => "That password is not right.",
            "code" => "That code is not right or was already used.",
            _ => "That passkey was not accepted.",
        };
        return Err(Error::invalid(field, message));
    }
    // The proof counts for this session: a second factor shown now makes
    // it a multi-factor session (what console changes need), and may be the
    // step My Account's flow still asked of a sign-in through an application.
    let amr = crate::sessions::amr_with(&session.amr, method);
    let my_account_flow = session.my_account_flow || meets_my_account_flow(ctx, session, &amr).await?;
    let amr = serde_json::to_string(&amr).unwrap_or_else(|_| "[]".into());
    UserSessions::update_many()
        .col_expr(user_sessions::Column::AuthTime, sea_orm::sea_query::Expr::value(now))
        .col_expr(user_sessions::Column::Amr, sea_orm::sea_query::Expr::value(amr))
        .col_expr(user_sessions::Column::MyAccountFlow, sea_orm::sea_query::Expr::value(my_account_flow))
        .filter(user_sessions::Column::Id.eq(session.session_id))
        .exec(&ctx.db)
        .await?;
    events::record(&ctx.db, session.user_id, Kind::Reauthenticated, Some(method), None, meta, now).await?;
    Ok(())
}

/// What My Account's flow still asks of this session before My Account
/// and the console open to it: nothing ([`flow::Next::Complete`]) for a
/// session that signed in through My Account's flow. Judged as from a new
/// device, the strictest reading (the session does not carry the browser's
/// known-device cookie).
pub async fn my_account_step(ctx: &Ctx, session: &Authenticated) -> Result<flow::Next> {
    if session.my_account_flow {
        return Ok(flow::Next::Complete);
    }
    let subject = factors::subject(&ctx.db, &session.user, true).await?;
    flows::my_account_next(&ctx.db, &session.user, &subject, &session.methods_shown()).await
}

async fn meets_my_account_flow(ctx: &Ctx, session: &Authenticated, amr: &[String]) -> Result<bool> {
    let shown = Authenticated { amr: amr.to_vec(), ..session.clone() };
    Ok(my_account_step(ctx, &shown).await? == flow::Next::Complete)
}

/// Checks a proof: whether it is right, its `amr` value and its form field.
async fn check(ctx: &Ctx, session: &Authenticated, proof: Proof<'_>, now: DateTime<Utc>) -> Result<(bool, &'static str, &'static str)> {
    Ok(match proof {
        Proof::Password(pw) => (crate::passwords::verify(ctx, Some(session.user_id), pw).await?, "pwd", "password"),
        Proof::Totp(code) => {
            if totp::normalize_code(code).is_none() {
                return Err(Error::invalid("code", "Enter the 6-digit code from your authenticator app."));
            }
            (totp::verify(ctx, session.user_id, code, now).await?, "otp", "code")
        }
        Proof::Passkey { ceremony, credential } => {
            let ok = match passkeys::finish_for_user(ctx, session.user_id, ceremony, credential, now).await {
                Ok(()) => true,
                Err(Error::PasskeyRejected) => false,
                Err(e) => return Err(e),
            };
            (ok, "hwk", "passkey")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, PASSWORD, TestDb};

    async fn signed_in(ctx: &Ctx, now: DateTime<Utc>) -> Authenticated {
        testing::user(ctx, "alice", false).await;
        testing::signed_in(ctx, "alice", now).await
    }

    async fn a_proof_is_recent_for_five_minutes(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let s = signed_in(&ctx, now).await;
        assert!(require_recent(&ctx, &s, now + chrono::Duration::minutes(5)).is_ok());
        assert!(matches!(require_recent(&ctx, &s, now + chrono::Duration::seconds(301)), Err(Error::ReauthRequired)));
        assert_eq!(recent_until(&ctx, &s), now + chrono::Duration::minutes(5));
    }
    crate::db_test!(a_proof_is_recent_for_five_minutes);

    /// Threat: a borrowed, still-signed-in browser making sensitive changes.
    /// Only a fresh, correct proof moves auth_time forward.
    async fn a_right_password_renews_the_proof_and_a_wrong_one_does_not(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let s = signed_in(&ctx, now).await;
        let later = now + chrono::Duration::minutes(20);
        let wrong = prove(&ctx, &s, Proof::Password("not it"), &ClientMeta::default(), later).await;
        assert!(matches!(wrong, Err(Error::Invalid { field: "password", .. })));
        let bad_code = prove(&ctx, &s, Proof::Totp("12"), &ClientMeta::default(), later).await;
        assert!(matches!(bad_code, Err(Error::Invalid { field: "code", .. })));
        let again = crate::sessions::resolve(&ctx.db, &"x".repeat(0), &ctx.policy, later).await.unwrap();
        assert!(again.is_none());
        prove(&ctx, &s, Proof::Password(PASSWORD), &ClientMeta::default(), later).await.unwrap();
        let row = UserSessions::find_by_id(s.session_id).one(&ctx.db).await.unwrap().unwrap();
        assert_eq!(row.auth_time, later);
        let kinds: Vec<String> = events::recent(&ctx.db, s.user_id, 10).await.unwrap().into_iter().map(|e| e.kind).collect();
        assert!(kinds.contains(&"reauth_failed".into()) && kinds.contains(&"reauthenticated".into()));
    }
    crate::db_test!(a_right_password_renews_the_proof_and_a_wrong_one_does_not);
}
