//! Sign-in sessions. The browser holds a random 256-bit token; the database
//! holds only its SHA-256, so a stolen database cannot be replayed as cookies.
//! Every request looks the session up, so revocation and expiry apply at once.
//!
//! ```text
//!  sign-in ──► create(token) ──► cookie = token, row = sha256(token)
//!  request ──► resolve(token) ──► revoked? idle/absolute expired? → refuse
//!                              └► last_seen older than 1 min → touch (extends idle expiry)
//!  sign-out ─► revoke(id)
//! ```

use chrono::{DateTime, Utc};
use entity::prelude::*;
use entity::{user_sessions, users};
use proto::flow::Method;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use std::time::Duration;
use uuid::Uuid;

use crate::clock::after;
use crate::crypto::{hash_token, random_token};
use crate::{ClientMeta, Policy, Result};

/// How often `last_seen_at` is written at most, per session.
pub const TOUCH_INTERVAL: Duration = Duration::from_secs(60);

const MAX_USER_AGENT: usize = 512;

/// A valid session, as the request guards see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
    /// When the person last proved who they are in this session.
    pub auth_time: DateTime<Utc>,
    /// RFC 8176 authentication method references, e.g. `["pwd"]`.
    pub amr: Vec<String>,
    /// Whether this session has met My Account's login flow. A sign-in
    /// through an application with a weaker flow has not: My Account and
    /// the console ask for the missing step before they open.
    pub my_account_flow: bool,
    /// The account as read with the session (one query): its name, time
    /// zone, email… as at the start of this request.
    pub user: users::Model,
}

impl Authenticated {
    /// Whether this session's sign-in, or a later proof in it, used two
    /// factors or a passkey (`amr` has `mfa` or `hwk`).
    pub fn is_multi_factor(&self) -> bool {
        self.amr.iter().any(|v| v == "mfa" || v == "hwk")
    }

    /// The sign-in methods this session has shown, read from its `amr`.
    pub fn methods_shown(&self) -> Vec<Method> {
        methods_shown(&self.amr)
    }
}

/// The sign-in methods an `amr` shows (an authenticator code counts for
/// both code steps: authenticator app and backup code).
pub fn methods_shown(amr: &[String]) -> Vec<Method> {
    let mut out = Vec::new();
    for a in amr {
        match a.as_str() {
            "pwd" => out.push(Method::Password),
            "otp" => out.extend([Method::Totp, Method::BackupCode]),
            "hwk" => out.push(Method::Passkey),
            _ => {}
        }
    }
    out
}

/// The `amr` of a session after a fresh proof that used `method`: the
/// proof's value is added, and `mfa` once two kinds of factor (or a
/// passkey) have been shown in this session.
pub fn amr_with(amr: &[String], method: &str) -> Vec<String> {
    let mut out: Vec<String> = amr.to_vec();
    let added: &[&str] = if method == "hwk" { &["hwk", "user"] } else { std::slice::from_ref(&method) };
    for v in added {
        if !out.iter().any(|o| o == v) {
            out.push((*v).to_owned());
        }
    }
    let kinds = ["pwd", "otp", "hwk"].iter().filter(|k| out.iter().any(|o| o == *k)).count();
    if (kinds > 1 || out.iter().any(|o| o == "hwk")) && !out.iter().any(|o| o == "mfa") {
        out.push("mfa".to_owned());
    }
    out
}

/// A new session: the cookie token (shown once, never stored) and its id.
#[derive(Debug)]
pub struct NewSession {
    pub token: String,
    pub id: Uuid,
}

/// Starts a session for a person who just signed in (`my_account_flow`:
/// see [`Authenticated::my_account_flow`]).
pub async fn create(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    amr: &[&str],
    my_account_flow: bool,
    meta: &ClientMeta,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<NewSession> {
    let token = random_token();
    let id = Uuid::now_v7();
    let absolute = after(now, policy.session_max);
    user_sessions::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        token_hash: Set(hash_token(&token).into()),
        created_at: Set(now),
        last_seen_at: Set(now),
        idle_expires_at: Set(after(now, policy.session_idle).min(absolute)),
        absolute_expires_at: Set(absolute),
        auth_time: Set(now),
        amr: Set(serde_json::to_string(amr).unwrap_or_else(|_| "[]".into())),
        ip: Set(meta.ip.clone()),
        user_agent: Set(meta.user_agent.as_deref().map(|ua| truncate(ua, MAX_USER_AGENT))),
        revoked_at: Set(None),
        my_account_flow: Set(my_account_flow),
    }
    .insert(db)
    .await?;
    Ok(NewSession { token, id })
}

/// Looks up the session a cookie token names. `None` when the token is
/// unknown, revoked or expired. Writes at most once per [`TOUCH_INTERVAL`].
pub async fn resolve(db: &impl ConnectionTrait, token: &str, policy: &Policy, now: DateTime<Utc>) -> Result<Option<Authenticated>> {
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    let found =
        UserSessions::find().filter(user_sessions::Column::TokenHash.eq(hash_token(token))).find_also_related(Users).one(db).await?;
    let Some((session, Some(user))) = found else { return Ok(None) };
    if !is_live(&session, now) {
        return Ok(None);
    }
    if now - session.last_seen_at >= chrono::Duration::from_std(TOUCH_INTERVAL).unwrap_or_default() {
        touch(db, &session, policy, now).await?;
    }
    Ok(Some(authenticated(&session, &user)))
}

/// Whether the session `id` is still live (not revoked, not expired).
pub async fn is_active(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
    Ok(UserSessions::find_by_id(id).one(db).await?.is_some_and(|s| is_live(&s, now)))
}

fn is_live(s: &user_sessions::Model, now: DateTime<Utc>) -> bool {
    s.revoked_at.is_none() && now < s.idle_expires_at && now < s.absolute_expires_at
}

async fn touch(db: &impl ConnectionTrait, s: &user_sessions::Model, policy: &Policy, now: DateTime<Utc>) -> Result<()> {
    let mut active: user_sessions::ActiveModel = s.clone().into();
    active.last_seen_at = Set(now);
    active.idle_expires_at = Set(after(now, policy.session_idle).min(s.absolute_expires_at));
    active.update(db).await?;
    Ok(())
}

fn authenticated(s: &user_sessions::Model, u: &users::Model) -> Authenticated {
    Authenticated {
        session_id: s.id,
        user_id: u.id,
        username: u.username.clone(),
        is_admin: u.is_admin,
        created_at: s.created_at,
        auth_time: s.auth_time,
        amr: serde_json::from_str(&s.amr).unwrap_or_default(),
        my_account_flow: s.my_account_flow,
        user: u.clone(),
    }
}

/// Ends every live session matching `which`; returns how many ended.
async fn revoke_where(db: &impl ConnectionTrait, which: sea_orm::Condition, now: DateTime<Utc>) -> Result<u64> {
    let r = UserSessions::update_many()
        .col_expr(user_sessions::Column::RevokedAt, sea_orm::sea_query::Expr::value(now))
        .filter(which)
        .filter(user_sessions::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

/// Ends one session now. Revoking an already-ended session is not an error.
pub async fn revoke(db: &impl ConnectionTrait, session_id: Uuid, now: DateTime<Utc>) -> Result<()> {
    revoke_where(db, sea_orm::Condition::all().add(user_sessions::Column::Id.eq(session_id)), now).await?;
    Ok(())
}

/// Ends the session a cookie token names, if any (sign-out, or a new sign-in
/// in the same browser).
pub async fn revoke_by_token(db: &impl ConnectionTrait, token: &str, now: DateTime<Utc>) -> Result<()> {
    revoke_where(db, sea_orm::Condition::all().add(user_sessions::Column::TokenHash.eq(hash_token(token))), now).await?;
    Ok(())
}

/// A person's sessions that are still alive (not revoked, not expired),
/// newest first.
pub async fn active(db: &impl ConnectionTrait, user_id: Uuid, now: DateTime<Utc>) -> Result<Vec<user_sessions::Model>> {
    use sea_orm::QueryOrder;
    Ok(UserSessions::find()
        .filter(user_sessions::Column::UserId.eq(user_id))
        .filter(user_sessions::Column::RevokedAt.is_null())
        .filter(user_sessions::Column::IdleExpiresAt.gt(now))
        .filter(user_sessions::Column::AbsoluteExpiresAt.gt(now))
        .order_by_desc(user_sessions::Column::CreatedAt)
        .all(db)
        .await?)
}

/// How many sessions of anyone are alive (not revoked, not expired), in one query.
pub async fn count_active(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    Ok(UserSessions::find()
        .filter(user_sessions::Column::RevokedAt.is_null())
        .filter(user_sessions::Column::IdleExpiresAt.gt(now))
        .filter(user_sessions::Column::AbsoluteExpiresAt.gt(now))
        .count(db)
        .await?)
}

/// Ends one of `user_id`'s own sessions. Someone else's session, or an
/// unknown id, is `NotFound` (no hint that it exists).
pub async fn revoke_own(db: &impl ConnectionTrait, user_id: Uuid, session_id: Uuid, now: DateTime<Utc>) -> Result<()> {
    let which = sea_orm::Condition::all().add(user_sessions::Column::Id.eq(session_id)).add(user_sessions::Column::UserId.eq(user_id));
    if revoke_where(db, which, now).await? == 0 {
        return Err(crate::Error::NotFound);
    }
    Ok(())
}

/// Ends every session of `user_id` (password reset); returns how many ended.
pub async fn revoke_all(db: &impl ConnectionTrait, user_id: Uuid, now: DateTime<Utc>) -> Result<u64> {
    revoke_where(db, sea_orm::Condition::all().add(user_sessions::Column::UserId.eq(user_id)), now).await
}

/// Ends every session of `user_id` except `keep`; returns how many ended.
/// Drops every half-finished sign-in of a person (their password changed:
/// a first step passed with the old one must not count).
pub async fn forget_partial_logins(db: &impl ConnectionTrait, user_id: Uuid) -> Result<u64> {
    use entity::partial_logins;
    use entity::prelude::PartialLogins;
    Ok(PartialLogins::delete_many().filter(partial_logins::Column::UserId.eq(user_id)).exec(db).await?.rows_affected)
}

pub async fn revoke_others(db: &impl ConnectionTrait, user_id: Uuid, keep: Uuid, now: DateTime<Utc>) -> Result<u64> {
    revoke_where(db, sea_orm::Condition::all().add(user_sessions::Column::UserId.eq(user_id)).add(user_sessions::Column::Id.ne(keep)), now)
        .await
}

/// When and from where a session started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignInRecord {
    pub at: DateTime<Utc>,
    pub ip: Option<String>,
}

/// This session's sign-in, and the sign-in before it (any session of the
/// person, live or ended): what a person checks to spot someone else.
pub async fn this_and_previous_sign_in(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    session_id: Uuid,
) -> Result<(Option<SignInRecord>, Option<SignInRecord>)> {
    use sea_orm::{QueryOrder as _, QuerySelect as _};
    let this = UserSessions::find_by_id(session_id).one(db).await?.filter(|s| s.user_id == user_id);
    let previous = match &this {
        Some(this) => {
            UserSessions::find()
                .filter(user_sessions::Column::UserId.eq(user_id))
                .filter(user_sessions::Column::Id.ne(this.id))
                .filter(user_sessions::Column::CreatedAt.lte(this.created_at))
                .order_by_desc(user_sessions::Column::CreatedAt)
                .limit(1)
                .one(db)
                .await?
        }
        None => None,
    };
    let record = |s: user_sessions::Model| SignInRecord { at: s.created_at, ip: s.ip };
    Ok((this.map(record), previous.map(record)))
}

fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// Browser and system from a User-Agent header.
pub fn describe_agent(agent: Option<&str>) -> (String, String) {
    let parser = woothee::parser::Parser::new();
    match agent.and_then(|a| parser.parse(a)) {
        Some(r) => {
            let known = |s: &str| !s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN;
            let browser = if known(r.name) {
                if known(r.version) { format!("{} {}", r.name, r.version.split('.').next().unwrap_or_default()) } else { r.name.to_owned() }
            } else {
                "Unknown browser".to_owned()
            };
            let os_version = r.os_version.to_string();
            let os = if known(r.os) {
                if known(&os_version) && os_version.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                    format!("{} {os_version}", r.os)
                } else {
                    r.os.to_owned()
                }
            } else {
                "Unknown system".to_owned()
            };
            (browser, os)
        }
        None => ("Unknown browser".into(), "Unknown system".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, TestDb};

    async fn setup(t: &TestDb) -> (crate::Ctx, Uuid) {
        let ctx = t.ctx();
        let u = testing::user(&ctx, "alice", false).await;
        (ctx, u.id)
    }

    async fn a_session_resolves_by_its_token_only(t: TestDb) {
        let (ctx, uid) = setup(&t).await;
        let now = testing::t0();
        let s = create(&ctx.db, uid, &["pwd"], true, &ClientMeta::default(), &ctx.policy, now).await.unwrap();
        let a = resolve(&ctx.db, &s.token, &ctx.policy, now).await.unwrap().unwrap();
        assert_eq!((a.user_id, a.session_id, a.amr.clone()), (uid, s.id, vec!["pwd".to_string()]));
        assert!(resolve(&ctx.db, "not-the-token", &ctx.policy, now).await.unwrap().is_none());
        assert!(resolve(&ctx.db, &hash_token(&s.token), &ctx.policy, now).await.unwrap().is_none(), "the stored hash is not a credential");
    }
    crate::db_test!(a_session_resolves_by_its_token_only);

    async fn idle_sessions_expire_and_activity_extends_them(t: TestDb) {
        let (ctx, uid) = setup(&t).await;
        let now = testing::t0();
        let idle = ctx.policy.session_idle;
        let s = create(&ctx.db, uid, &["pwd"], true, &ClientMeta::default(), &ctx.policy, now).await.unwrap();
        // Active two thirds into the idle window: the touch extends it.
        let mid = after(now, idle * 2 / 3);
        assert!(resolve(&ctx.db, &s.token, &ctx.policy, mid).await.unwrap().is_some());
        let past_first_window = after(now, idle + Duration::from_secs(1));
        assert!(resolve(&ctx.db, &s.token, &ctx.policy, past_first_window).await.unwrap().is_some());
        // Silent for a whole idle window after the last request: gone.
        let late = after(past_first_window, idle + Duration::from_secs(1));
        assert!(resolve(&ctx.db, &s.token, &ctx.policy, late).await.unwrap().is_none());
    }
    crate::db_test!(idle_sessions_expire_and_activity_extends_them);

    async fn absolute_lifetime_ends_even_active_sessions(t: TestDb) {
        let (ctx, uid) = setup(&t).await;
        let now = testing::t0();
        let s = create(&ctx.db, uid, &["pwd"], true, &ClientMeta::default(), &ctx.policy, now).await.unwrap();
        let mut t = now;
        let step = ctx.policy.session_idle / 2;
        while t < after(now, ctx.policy.session_max) - chrono::Duration::from_std(step).unwrap() {
            t = after(t, step);
            assert!(resolve(&ctx.db, &s.token, &ctx.policy, t).await.unwrap().is_some(), "alive at {t}");
        }
        assert!(resolve(&ctx.db, &s.token, &ctx.policy, after(now, ctx.policy.session_max)).await.unwrap().is_none());
    }
    crate::db_test!(absolute_lifetime_ends_even_active_sessions);

    async fn last_seen_is_written_at_most_once_a_minute(t: TestDb) {
        let (ctx, uid) = setup(&t).await;
        let now = testing::t0();
        let s = create(&ctx.db, uid, &["pwd"], true, &ClientMeta::default(), &ctx.policy, now).await.unwrap();
        resolve(&ctx.db, &s.token, &ctx.policy, after(now, Duration::from_secs(59))).await.unwrap();
        let row = UserSessions::find_by_id(s.id).one(&ctx.db).await.unwrap().unwrap();
        assert_eq!(row.last_seen_at, now);
        resolve(&ctx.db, &s.token, &ctx.policy, after(now, Duration::from_secs(61))).await.unwrap();
        let row = UserSessions::find_by_id(s.id).one(&ctx.db).await.unwrap().unwrap();
        assert_eq!(row.last_seen_at, after(now, Duration::from_secs(61)));
    }
    crate::db_test!(last_seen_is_written_at_most_once_a_minute);

    /// Threat: one person ending (or listing) another's sessions. Only live
    /// sessions are listed; revoking is limited to one's own.
    async fn people_list_and_end_only_their_own_live_sessions(t: TestDb) {
        let (ctx, uid) = setup(&t).await;
        let bob = testing::user(&ctx, "bob", false).await;
        let now = testing::t0();
        let meta = ClientMeta::default();
        let a = create(&ctx.db, uid, &["pwd"], true, &meta, &ctx.policy, now).await.unwrap();
        let b = create(&ctx.db, uid, &["pwd", "otp"], true, &meta, &ctx.policy, after(now, Duration::from_secs(5))).await.unwrap();
        let c = create(&ctx.db, uid, &["pwd"], true, &meta, &ctx.policy, after(now, Duration::from_secs(9))).await.unwrap();
        let theirs = create(&ctx.db, bob.id, &["pwd"], true, &meta, &ctx.policy, now).await.unwrap();
        let ids = |v: Vec<user_sessions::Model>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
        assert_eq!(ids(active(&ctx.db, uid, now).await.unwrap()), vec![c.id, b.id, a.id], "newest first");
        assert!(matches!(revoke_own(&ctx.db, uid, theirs.id, now).await, Err(crate::Error::NotFound)));
        assert!(resolve(&ctx.db, &theirs.token, &ctx.policy, now).await.unwrap().is_some(), "bob's session is untouched");
        revoke_own(&ctx.db, uid, c.id, now).await.unwrap();
        assert!(matches!(revoke_own(&ctx.db, uid, c.id, now).await, Err(crate::Error::NotFound)), "already ended");
        assert_eq!(revoke_others(&ctx.db, uid, a.id, now).await.unwrap(), 1);
        assert_eq!(ids(active(&ctx.db, uid, now).await.unwrap()), vec![a.id]);
        // Expired sessions are not listed.
        assert!(active(&ctx.db, uid, after(now, ctx.policy.session_max)).await.unwrap().is_empty());
    }
    crate::db_test!(people_list_and_end_only_their_own_live_sessions);

    async fn revoked_sessions_are_refused_at_once(t: TestDb) {
        let (ctx, uid) = setup(&t).await;
        let now = testing::t0();
        let s = create(&ctx.db, uid, &["pwd"], true, &ClientMeta::default(), &ctx.policy, now).await.unwrap();
        let other = create(&ctx.db, uid, &["pwd"], true, &ClientMeta::default(), &ctx.policy, now).await.unwrap();
        revoke(&ctx.db, s.id, now).await.unwrap();
        assert!(resolve(&ctx.db, &s.token, &ctx.policy, now).await.unwrap().is_none());
        assert!(resolve(&ctx.db, &other.token, &ctx.policy, now).await.unwrap().is_some(), "only that session ends");
        revoke_by_token(&ctx.db, &other.token, now).await.unwrap();
        assert!(resolve(&ctx.db, &other.token, &ctx.policy, now).await.unwrap().is_none());
    }
    crate::db_test!(revoked_sessions_are_refused_at_once);

    async fn the_previous_sign_in_is_the_one_before_this_session(t: TestDb) {
        let (ctx, uid) = setup(&t).await;
        let now = testing::t0();
        let meta = |ip: &str| ClientMeta { ip: Some(ip.into()), user_agent: None };
        let first = create(&ctx.db, uid, &["pwd"], true, &meta("192.0.2.1"), &ctx.policy, now).await.unwrap();
        let (this, prev) = this_and_previous_sign_in(&ctx.db, uid, first.id).await.unwrap();
        assert_eq!(this.unwrap().ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(prev, None, "a first sign-in has no predecessor");
        let later = after(now, Duration::from_secs(3600));
        let second = create(&ctx.db, uid, &["pwd"], true, &meta("198.51.100.7"), &ctx.policy, later).await.unwrap();
        let (this, prev) = this_and_previous_sign_in(&ctx.db, uid, second.id).await.unwrap();
        assert_eq!(this.unwrap(), SignInRecord { at: later, ip: Some("198.51.100.7".into()) });
        assert_eq!(prev.unwrap(), SignInRecord { at: now, ip: Some("192.0.2.1".into()) });
    }
    crate::db_test!(the_previous_sign_in_is_the_one_before_this_session);

    #[test]
    fn user_agents_are_truncated_on_char_boundaries() {
        assert_eq!(truncate("ééé", 3), "é");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
