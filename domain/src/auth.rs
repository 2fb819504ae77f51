//! Password sign-in. Unknown accounts cost the same argon2 work and get the
//! same answer as a wrong password, so neither the message nor the timing
//! tells whether an account exists.

use chrono::{DateTime, Utc};
use entity::users;

use crate::budget::{self, Attempt, Who};
use crate::factors::SignInAccount;
use crate::sessions::{self, NewSession};
#[cfg(test)]
use crate::signin::{self, Outcome};
use crate::{ClientMeta, Ctx, Error, Result, users as accounts};

/// Longest username-or-email accepted at sign-in.
pub const MAX_IDENTIFIER: usize = 254;

/// A completed sign-in: the new session and whose it is.
#[derive(Debug)]
pub struct SignedIn {
    pub session: NewSession,
    pub user: users::Model,
}

/// Checks a username-or-email and password: the first step of a sign-in
/// (see [`crate::signin`], which decides what follows). A right password
/// returns the reserved attempt: it counts as a success only once the whole
/// sign-in does, so a known password does not reset the count of wrong
/// second-factor codes.
/// **Requires:** nothing; rate-limited per client IP (by the caller's meta in
/// `signin`) and by the account's budget here ([`crate::budget`]).
pub async fn check_password(ctx: &Ctx, identifier: &str, password: &str, now: DateTime<Utc>) -> Result<(SignInAccount, Attempt)> {
    let name: String = identifier.trim().to_lowercase().chars().take(MAX_IDENTIFIER + 1).collect();
    let account = if name.len() <= MAX_IDENTIFIER { crate::factors::account_for_sign_in(&ctx.db, &name).await? } else { None };
    // One budget per account, whichever of its names is typed; a name with
    // no account has its own, so both cost the same.
    let who = account.as_ref().map_or(Who::UnknownName(&name), |a| Who::Account(a.user.id));
    let attempt = budget::reserve(ctx, who, now).await?;
    let right = crate::passwords::verify_hash(ctx, account.as_ref().and_then(|a| a.password_hash.as_ref()), password).await?;
    let (Some(account), true) = (account, right) else {
        attempt.failed(ctx, now).await?;
        return Err(Error::InvalidCredentials);
    };
    Ok((account, attempt))
}

/// Starts a session for `user` after a successful proof, revoking the
/// browser's previous session (where and when is on the session row).
/// `my_account_flow`: whether the proof met My Account's login flow.
pub(crate) async fn start_session(
    ctx: &Ctx,
    user: &users::Model,
    amr: &[&str],
    my_account_flow: bool,
    meta: &ClientMeta,
    previous_token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<SignedIn> {
    let new = NewSessionOf { user_id: user.id, amr, my_account_flow, meta };
    // The extra step asked after a password reset ends with the session it
    // let in: both or neither. Otherwise no transaction is needed (each
    // statement stands alone), which spares every sign-in two round trips.
    let session = if user.second_factor_after_reset {
        let txn = crate::db::begin_write(&ctx.db).await?;
        let session = replace_session(&txn, ctx, &new, previous_token, now).await?;
        accounts::clear_second_factor_after_reset(&txn, user.id).await?;
        txn.commit().await?;
        session
    } else {
        replace_session(&ctx.db, ctx, &new, previous_token, now).await?
    };
    // The account as it now is, without reading it back.
    let user = users::Model { second_factor_after_reset: false, ..user.clone() };
    Ok(SignedIn { session, user })
}

/// The session a sign-in starts.
struct NewSessionOf<'a> {
    user_id: uuid::Uuid,
    amr: &'a [&'a str],
    my_account_flow: bool,
    meta: &'a ClientMeta,
}

/// Revokes the browser's previous session, if any, and starts `new`.
async fn replace_session(
    db: &impl sea_orm::ConnectionTrait,
    ctx: &Ctx,
    new: &NewSessionOf<'_>,
    previous_token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<NewSession> {
    if let Some(token) = previous_token {
        sessions::revoke_by_token(db, token, now).await?;
    }
    sessions::create(db, new.user_id, new.amr, new.my_account_flow, new.meta, &ctx.policy, now).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, PASSWORD, TestDb};

    fn meta(ip: &str) -> ClientMeta {
        ClientMeta { ip: Some(ip.into()), user_agent: Some("test".into()) }
    }

    async fn password_sign_in(
        ctx: &Ctx,
        id: &str,
        pw: &str,
        meta: &ClientMeta,
        prev: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<SignedIn> {
        match signin::with_password(ctx, id, pw, Default::default(), meta, prev, now).await? {
            Outcome::Complete(s) => Ok(s),
            Outcome::Continue { .. } => panic!("no second step expected"),
        }
    }

    async fn right_password_starts_a_session_and_records_the_login(t: TestDb) {
        let ctx = t.ctx();
        let u = testing::user(&ctx, "alice", false).await;
        let now = testing::t0();
        let s = password_sign_in(&ctx, "Alice", PASSWORD, &meta("192.0.2.1"), None, now).await.unwrap();
        assert_eq!(s.user.id, u.id);
        let a = sessions::resolve(&ctx.db, &s.session.token, &ctx.policy, now).await.unwrap().unwrap();
        assert_eq!(a.amr, vec!["pwd"]);
        let (this, _) = sessions::this_and_previous_sign_in(&ctx.db, u.id, a.session_id).await.unwrap();
        let this = this.unwrap();
        assert_eq!((this.at, this.ip.as_deref()), (now, Some("192.0.2.1")), "when and where, on the session");
    }
    crate::db_test!(right_password_starts_a_session_and_records_the_login);

    /// Threat: account enumeration. A wrong password and an unknown account
    /// must be indistinguishable to the caller.
    async fn wrong_password_and_unknown_account_fail_the_same_way(t: TestDb) {
        let ctx = t.ctx();
        testing::user(&ctx, "alice", false).await;
        let now = testing::t0();
        let wrong = password_sign_in(&ctx, "alice", "wrong password", &meta("192.0.2.1"), None, now).await;
        let unknown = password_sign_in(&ctx, "mallory", "wrong password", &meta("192.0.2.1"), None, now).await;
        assert!(matches!(wrong, Err(Error::InvalidCredentials)));
        assert!(matches!(unknown, Err(Error::InvalidCredentials)));
    }
    crate::db_test!(wrong_password_and_unknown_account_fail_the_same_way);

    /// Threat: session fixation. Signing in must never keep a session id the
    /// browser already had.
    async fn sign_in_replaces_the_browsers_previous_session(t: TestDb) {
        let ctx = t.ctx();
        testing::user(&ctx, "alice", false).await;
        let now = testing::t0();
        let first = password_sign_in(&ctx, "alice", PASSWORD, &meta("192.0.2.1"), None, now).await.unwrap();
        let second = password_sign_in(&ctx, "alice", PASSWORD, &meta("192.0.2.1"), Some(&first.session.token), now).await.unwrap();
        assert_ne!(first.session.token, second.session.token);
        assert!(sessions::resolve(&ctx.db, &first.session.token, &ctx.policy, now).await.unwrap().is_none());
        assert!(sessions::resolve(&ctx.db, &second.session.token, &ctx.policy, now).await.unwrap().is_some());
    }
    crate::db_test!(sign_in_replaces_the_browsers_previous_session);

    /// Threat: online password guessing. Attempts per account are limited
    /// even for accounts that do not exist.
    async fn guessing_one_account_is_rate_limited(t: TestDb) {
        let ctx = t.ctx();
        testing::user(&ctx, "alice", false).await;
        let now = testing::t0();
        let mut limited = false;
        for i in 0..12 {
            // A different IP each time: the per-account bucket still fills.
            match password_sign_in(&ctx, "alice", "guess", &meta(&format!("198.51.100.{i}")), None, now).await {
                Err(Error::RateLimited { .. }) => {
                    limited = true;
                    break;
                }
                Err(Error::InvalidCredentials) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(limited);
        // The right password is refused too while limited.
        assert!(matches!(password_sign_in(&ctx, "alice", PASSWORD, &meta("203.0.113.9"), None, now).await, Err(Error::RateLimited { .. })));
    }
    crate::db_test!(guessing_one_account_is_rate_limited);
}
