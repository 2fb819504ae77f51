//! Stored login flows: versioned JSON per application. The newest version
//! applies to the next sign-in; older ones are kept to compare and restore.

use chrono::{DateTime, Utc};
use entity::login_flows;
use entity::prelude::*;
use proto::flow::{Flow, Method, Subject};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set, SqlErr};
use std::collections::BTreeSet;
use uuid::Uuid;

use crate::{Error, Result, factors};

/// My Account's flow (keyed, like every application's, by its handle).
pub use crate::apps::MY_ACCOUNT;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFlow {
    /// 0 for the built-in default (never saved).
    pub version: i32,
    pub flow: Flow,
    pub created_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
}

fn parse(m: login_flows::Model) -> Result<StoredFlow> {
    let flow = serde_json::from_str(&m.definition).map_err(|e| Error::Internal(format!("stored flow v{}: {e}", m.version)))?;
    Ok(StoredFlow { version: m.version, flow, created_at: Some(m.created_at), created_by: m.created_by })
}

/// The flow that applies now (the built-in default until one is saved).
pub async fn current(db: &impl ConnectionTrait, app: &str) -> Result<StoredFlow> {
    let latest = LoginFlows::find().filter(login_flows::Column::App.eq(app)).order_by_desc(login_flows::Column::Version).one(db).await?;
    match latest {
        Some(m) => parse(m),
        None => Ok(StoredFlow { version: 0, flow: Flow::default_my_account(), created_at: None, created_by: None }),
    }
}

/// `flow` as it applies to `user`: after a password reset on an account
/// with passkeys or an authenticator app, one of its second factors (or a
/// passkey) is asked for whatever the flow says, so that reading the
/// person's mailbox is never enough to sign in.
pub fn for_user(mut flow: Flow, user: &entity::users::Model) -> Flow {
    if user.second_factor_after_reset {
        flow.steps.push(proto::flow::Step {
            options: vec![Method::Passkey, Method::Totp, Method::BackupCode],
            when: proto::flow::Condition::IfEnrolled,
        });
    }
    flow
}

/// What My Account's flow still asks of `user` (as `subject`) who has shown
/// `done`: after a sign-in through an application whose flow asks for less,
/// My Account and the console open only once this is complete.
pub async fn my_account_next(
    db: &impl ConnectionTrait,
    user: &entity::users::Model,
    subject: &Subject,
    done: &[Method],
) -> Result<proto::flow::Next> {
    let stored = current(db, MY_ACCOUNT).await?;
    Ok(proto::flow::next(&for_user(stored.flow, user), subject, done))
}

/// Every saved version, newest first.
pub async fn history(db: &impl ConnectionTrait, app: &str) -> Result<Vec<StoredFlow>> {
    LoginFlows::find()
        .filter(login_flows::Column::App.eq(app))
        .order_by_desc(login_flows::Column::Version)
        .all(db)
        .await?
        .into_iter()
        .map(parse)
        .collect()
}

/// Largest flow definition accepted, in bytes of JSON (a full five-step flow
/// is about 400).
pub const MAX_DEFINITION_BYTES: usize = 4096;

/// Reads a flow definition an administrator sent, with a message a person can
/// act on for anything unreadable (bad JSON, unknown option names, extra fields).
pub fn parse_definition(json: &str) -> Result<Flow> {
    if json.len() > MAX_DEFINITION_BYTES {
        return Err(Error::invalid("flow", format!("The flow is too large (at most {MAX_DEFINITION_BYTES} bytes).")));
    }
    serde_json::from_str(json).map_err(|e| {
        let detail: String = e.to_string().chars().take(200).collect();
        Error::invalid("flow", format!("The flow could not be read: {detail}."))
    })
}

/// Saves `flow` as the next version of `app`'s flow, for the next sign-in.
///
/// Refused, writing nothing, when: someone saved another version since
/// `base_version` (the editor would silently undo their change); the flow
/// breaks a structural rule; no administrator could complete it (nobody
/// could sign in to change it back); or it would stop people who are not
/// administrators from signing in and `confirm_blocked` is not that number
/// ([`Error::WouldBlock`]: the console asks the administrator first).
pub async fn update(
    db: &DatabaseConnection,
    app: &str,
    base_version: i32,
    flow: &Flow,
    by: Uuid,
    confirm_blocked: Option<u64>,
    now: DateTime<Utc>,
) -> Result<StoredFlow> {
    let problems = flow.validate();
    if !problems.is_empty() {
        let all: Vec<String> = problems.into_iter().map(|p| p.message).collect();
        return Err(Error::invalid("flow", all.join(" ")));
    }
    // The transaction starts with the sign-in rules lock: saves and removals
    // of sign-in methods run one at a time, and the admin check below sees
    // every removal committed before. The new row takes `base_version + 1`;
    // the unique index on (app, version) stays as a second guard.
    let txn = crate::db::begin_write(db).await?;
    factors::lock_sign_in_rules(&txn, now).await?;
    let current = current(&txn, app).await?;
    if current.version != base_version {
        return Err(stale());
    }
    // Administrators reach the console through My Account: only its flow
    // can lock them out of changing flows back.
    if app == MY_ACCOUNT {
        ensure_an_admin_can_sign_in(&txn, flow, by).await?;
    }
    let people = blocked_people(&txn, flow).await?;
    if people > 0 && confirm_blocked != Some(people) {
        return Err(Error::WouldBlock { people });
    }
    let saved = insert_version(&txn, app, base_version + 1, flow, Some(by), now).await.map_err(|e| match e {
        Error::Db(ref db) if matches!(db.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => stale(),
        other => other,
    })?;
    txn.commit().await?;
    tracing::info!(app, version = saved.version, by = %by, "login flow saved");
    Ok(saved)
}

/// Saves an earlier version (0: the built-in default) again as the newest.
pub async fn restore(
    db: &DatabaseConnection,
    app: &str,
    version: i32,
    base_version: i32,
    by: Uuid,
    confirm_blocked: Option<u64>,
    now: DateTime<Utc>,
) -> Result<StoredFlow> {
    let flow = if version == 0 {
        Flow::default_my_account()
    } else {
        let row = LoginFlows::find()
            .filter(login_flows::Column::App.eq(app))
            .filter(login_flows::Column::Version.eq(version))
            .one(db)
            .await?
            .ok_or(Error::NotFound)?;
        parse(row)?.flow
    };
    update(db, app, base_version, &flow, by, confirm_blocked, now).await
}

/// How many people who are not administrators could not complete `flow`
/// from a new device (a step asks for something they have not set up).
/// Five queries whatever the number of accounts.
pub async fn blocked_people(db: &impl ConnectionTrait, flow: &Flow) -> Result<u64> {
    let enrolled = factors::enrolled_by_user(db).await?;
    let people = crate::users::non_admin_ids(db).await?;
    let empty = std::collections::BTreeSet::new();
    let blocked = people
        .into_iter()
        .filter(|id| {
            let subject = proto::flow::Subject { enrolled: enrolled.get(id).unwrap_or(&empty).clone(), is_admin: false, new_device: true };
            !proto::flow::can_complete(flow, &subject)
        })
        .count();
    Ok(blocked as u64)
}

fn stale() -> Error {
    Error::Refused(
        "Another administrator saved the login flow after you opened it. Reload to see their version, then make your change again.".into(),
    )
}

/// Refuses a flow no administrator could complete from a new device.
async fn ensure_an_admin_can_sign_in(db: &impl ConnectionTrait, flow: &Flow, acting: Uuid) -> Result<()> {
    let admins = crate::users::admins(db).await?;
    let mut acting_subject = None;
    for admin in &admins {
        let subject = factors::subject(db, admin, true).await?;
        if proto::flow::can_complete(flow, &subject) {
            return Ok(());
        }
        if admin.id == acting {
            acting_subject = Some(subject);
        }
    }
    if admins.is_empty() {
        return Ok(());
    }
    let why = acting_subject
        .and_then(|s| proto::flow::blocking_step(flow, &s))
        .and_then(|i| flow.steps.get(i).map(|step| (i + 1, step)))
        .map(|(n, step)| {
            let options: Vec<&str> = step.options.iter().map(|m| m.label()).collect();
            format!(
                " Step {n} asks for {}, which no administrator has set up. Set it up first in My Account → Security \
                 (enable My Account first if it is disabled), or make step {n} apply only when the user has enrolled it.",
                options.join(" or ")
            )
        })
        .unwrap_or_default();
    Err(Error::Refused(format!("No administrator could sign in with this flow, so nobody could change it back.{why}")))
}

/// Refuses removing one credential of `method` (`last`: the person's only
/// one) when that would lock the person out; `what` names it in the message.
/// Call it inside the removal's transaction, after [`factors::lock_sign_in_rules`].
pub async fn ensure_can_remove(
    db: &impl ConnectionTrait,
    user: &entity::users::Model,
    method: Method,
    last: bool,
    what: &str,
) -> Result<()> {
    let mut remaining = factors::enrolled(db, user.id).await?;
    if last {
        remaining.remove(&method);
    }
    ensure_not_locked_out(db, user, remaining, what).await
}

/// Refuses a change that would leave `user` with `remaining` methods unable to
/// sign in to My Account.
async fn ensure_not_locked_out(
    db: &impl ConnectionTrait,
    user: &entity::users::Model,
    remaining: BTreeSet<Method>,
    what: &str,
) -> Result<()> {
    let flow = current(db, MY_ACCOUNT).await?.flow;
    let subject = Subject { enrolled: remaining.clone(), is_admin: user.is_admin, new_device: true };
    if proto::flow::can_complete(&flow, &subject) {
        return Ok(());
    }
    let reason = if !remaining.iter().any(|m| m.is_first_factor()) {
        "you would have no password or passkey left to sign in with"
    } else {
        "the sign-in flow requires a second factor and you would have none left"
    };
    Err(Error::Refused(format!("You can't remove {what}: {reason}. Add another method first.")))
}

#[cfg(test)]
pub(crate) async fn save(db: &impl ConnectionTrait, app: &str, flow: &Flow, by: Option<Uuid>, now: DateTime<Utc>) -> Result<StoredFlow> {
    let problems = flow.validate();
    if let Some(p) = problems.first() {
        return Err(Error::invalid("flow", p.message.clone()));
    }
    let version = current(db, app).await?.version + 1;
    insert_version(db, app, version, flow, by, now).await
}

async fn insert_version(
    db: &impl ConnectionTrait,
    app: &str,
    version: i32,
    flow: &Flow,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<StoredFlow> {
    let definition = serde_json::to_string(flow).map_err(|e| Error::Internal(e.to_string()))?;
    let m = login_flows::ActiveModel {
        id: Set(Uuid::now_v7()),
        app: Set(app.to_owned()),
        version: Set(version),
        definition: Set(definition),
        created_at: Set(now),
        created_by: Set(by),
    }
    .insert(db)
    .await?;
    parse(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, TestDb};
    use proto::flow::{Condition, Step};

    fn totp_always() -> Flow {
        Flow {
            steps: vec![
                Step { options: vec![Method::Password], when: Condition::Always },
                Step { options: vec![Method::Totp], when: Condition::Always },
            ],
        }
    }

    /// An authenticator app for `user_id`, as the lock-out rule sees it (its
    /// secret is never read here).
    async fn add_totp(ctx: &crate::Ctx, user_id: Uuid) -> entity::totp_credentials::Model {
        entity::totp_credentials::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            name: Set("Phone".into()),
            secret_enc: Set(entity::Secret::from("not read by this test".to_owned())),
            last_used_step: Set(None),
            created_at: Set(testing::t0()),
            last_used_at: Set(None),
        }
        .insert(&ctx.db)
        .await
        .unwrap()
    }

    /// Threat: an administrator locking every administrator out (nobody
    /// could sign in to undo it). Refused with the step that blocks, and
    /// nothing is stored.
    async fn a_flow_no_admin_can_complete_is_refused(t: TestDb) {
        let ctx = t.ctx();
        let admin = testing::user(&ctx, "root", true).await;
        let e = update(&ctx.db, MY_ACCOUNT, 0, &totp_always(), admin.id, None, testing::t0()).await.unwrap_err();
        let Error::Refused(m) = e else { panic!("{e:?}") };
        assert!(m.contains("Step 2 asks for Authenticator app (TOTP)"), "{m}");
        assert_eq!(current(&ctx.db, MY_ACCOUNT).await.unwrap().version, 0);
        // The same flow is fine once an admin has TOTP (any admin, not only the one saving).
        let other = testing::user(&ctx, "other", true).await;
        add_totp(&ctx, other.id).await;
        let saved = update(&ctx.db, MY_ACCOUNT, 0, &totp_always(), admin.id, None, testing::t0()).await.unwrap();
        assert_eq!(saved.version, 1);
    }
    crate::db_test!(a_flow_no_admin_can_complete_is_refused);

    /// Threat: an administrator locking people out without noticing. A flow
    /// that people (not administrators) could not complete is saved only
    /// when the administrator confirmed that very number of people.
    async fn a_flow_that_blocks_people_needs_the_count_confirmed(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let admin = testing::user(&ctx, "root", true).await;
        let alice = testing::user(&ctx, "alice", false).await;
        testing::user(&ctx, "bob", false).await;
        for who in [&admin, &alice] {
            let e = crate::totp::start_enrolment(&ctx, who, now).await.unwrap();
            let secret = totp_rs::Secret::try_from_base32(&e.secret_base32).unwrap().as_bytes().to_vec();
            let code = crate::totp::code_at(&secret, now).unwrap();
            crate::totp::finish_enrolment(&ctx, who.id, e.ceremony, &code, "Phone", &Default::default(), now).await.unwrap();
        }
        // Bob has no authenticator app: the flow would stop him.
        assert_eq!(blocked_people(&ctx.db, &totp_always()).await.unwrap(), 1);
        assert_eq!(blocked_people(&ctx.db, &Flow::default_my_account()).await.unwrap(), 0);
        let e = update(&ctx.db, MY_ACCOUNT, 0, &totp_always(), admin.id, None, now).await.unwrap_err();
        assert!(matches!(e, Error::WouldBlock { people: 1 }), "{e:?}");
        let e = update(&ctx.db, MY_ACCOUNT, 0, &totp_always(), admin.id, Some(2), now).await.unwrap_err();
        assert!(matches!(e, Error::WouldBlock { people: 1 }), "a stale count is asked again: {e:?}");
        assert_eq!(current(&ctx.db, MY_ACCOUNT).await.unwrap().version, 0, "nothing saved");
        let saved = update(&ctx.db, MY_ACCOUNT, 0, &totp_always(), admin.id, Some(1), now).await.unwrap();
        assert_eq!(saved.version, 1);
    }
    crate::db_test!(a_flow_that_blocks_people_needs_the_count_confirmed);

    /// Threat: lost updates. An editor opened at version N cannot overwrite
    /// a version saved meanwhile.
    async fn a_stale_base_version_is_refused_and_restore_adds_a_version(t: TestDb) {
        let ctx = t.ctx();
        let admin = testing::user(&ctx, "root", true).await;
        let now = testing::t0();
        let mut f = Flow::default_my_account();
        f.steps[0].options.reverse();
        let v1 = update(&ctx.db, MY_ACCOUNT, 0, &f, admin.id, None, now).await.unwrap();
        assert_eq!((v1.version, v1.created_by), (1, Some(admin.id)));
        let e = update(&ctx.db, MY_ACCOUNT, 0, &Flow::default_my_account(), admin.id, None, now).await.unwrap_err();
        assert!(matches!(e, Error::Refused(ref m) if m.contains("Another administrator")), "{e:?}");
        let bad = Flow { steps: vec![] };
        assert!(matches!(update(&ctx.db, MY_ACCOUNT, 1, &bad, admin.id, None, now).await, Err(Error::Invalid { field: "flow", .. })));
        // Restoring the built-in default saves it as version 2; history keeps all.
        let v2 = restore(&ctx.db, MY_ACCOUNT, 0, 1, admin.id, None, now).await.unwrap();
        assert_eq!((v2.version, v2.flow), (2, Flow::default_my_account()));
        let v3 = restore(&ctx.db, MY_ACCOUNT, 1, 2, admin.id, None, now).await.unwrap();
        assert_eq!(v3.flow, f);
        assert_eq!(history(&ctx.db, MY_ACCOUNT).await.unwrap().iter().map(|h| h.version).collect::<Vec<_>>(), vec![3, 2, 1]);
        assert!(matches!(restore(&ctx.db, MY_ACCOUNT, 9, 3, admin.id, None, now).await, Err(Error::NotFound)));
    }
    crate::db_test!(a_stale_base_version_is_refused_and_restore_adds_a_version);

    /// Threat: lost updates under concurrency. Eight saves from the same
    /// base at once: exactly one is stored, the others are told it is stale.
    async fn concurrent_saves_from_one_base_store_exactly_one(t: TestDb) {
        let ctx = t.ctx();
        let admin = testing::user(&ctx, "root", true).await;
        let mut tasks = Vec::new();
        for i in 0..8 {
            let db = ctx.db.clone();
            let mut f = Flow::default_my_account();
            if i % 2 == 0 {
                f.steps[0].options.reverse();
            }
            tasks.push(tokio::spawn(async move { update(&db, MY_ACCOUNT, 0, &f, admin.id, None, testing::t0()).await }));
        }
        let (mut ok, mut stale) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(Error::Refused(m)) if m.contains("Another administrator") => stale += 1,
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!((ok, stale), (1, 7));
        assert_eq!(history(&ctx.db, MY_ACCOUNT).await.unwrap().len(), 1);
    }
    crate::db_test!(concurrent_saves_from_one_base_store_exactly_one);

    /// Threat: two changes that are each safe alone locking every
    /// administrator out together. One admin saves a flow whose TOTP step
    /// only a second admin can complete while that admin removes their
    /// authenticator app: each check reads the state the other is about to
    /// change. Run at the same moment, at most one may succeed, so the stored
    /// flow can always still be completed by an admin. (On SQLite's one
    /// in-memory connection the two never overlap; PostgreSQL is the test.)
    async fn a_flow_save_and_an_admins_removal_cannot_both_pass(t: TestDb) {
        let ctx = t.ctx();
        let saver = testing::user(&ctx, "saver", true).await;
        let holder = testing::user(&ctx, "holder", true).await;
        for round in 0..25 {
            let cred = add_totp(&ctx, holder.id).await;
            let base = current(&ctx.db, MY_ACCOUNT).await.unwrap().version;
            let (db, c) = (ctx.db.clone(), ctx.clone());
            let holder2 = holder.clone();
            let save = tokio::spawn(async move { update(&db, MY_ACCOUNT, base, &totp_always(), saver.id, None, testing::t0()).await });
            let remove = tokio::spawn(async move { crate::methods::remove_totp(&c, &holder2, cred.id, &Default::default()).await });
            let (saved, removed) = (save.await.unwrap(), remove.await.unwrap());
            assert!(!(saved.is_ok() && removed.is_ok()), "round {round}: both passed, so no administrator can sign in");
            assert!(saved.is_ok() || removed.is_ok(), "round {round}: one of them must pass: {saved:?} {removed:?}");
            let stored = current(&ctx.db, MY_ACCOUNT).await.unwrap();
            let subject = factors::subject(&ctx.db, &holder, true).await.unwrap();
            assert!(proto::flow::can_complete(&stored.flow, &subject), "round {round}: the holder is locked out");
            // Back to the start: the default flow, no authenticator app.
            if saved.is_ok() {
                update(&ctx.db, MY_ACCOUNT, stored.version, &Flow::default_my_account(), saver.id, None, testing::t0()).await.unwrap();
                crate::methods::remove_totp(&ctx, &holder, cred.id, &Default::default()).await.unwrap();
            }
        }
    }
    crate::db_test!(a_flow_save_and_an_admins_removal_cannot_both_pass);

    #[test]
    fn definitions_are_read_strictly_with_clear_messages() {
        assert!(parse_definition(r#"{"steps":[{"options":["password"]}]}"#).is_ok());
        for bad in [r#"{"steps":[{"options":["sms"]}]}"#, "not json", r#"{"steps":[],"admin":true}"#, ""] {
            let Err(Error::Invalid { field: "flow", message }) = parse_definition(bad) else { panic!("{bad}") };
            assert!(message.starts_with("The flow could not be read"), "{message}");
        }
        let huge = format!(r#"{{"steps":[{}]}}"#, vec![r#"{"options":["password"]}"#; 200].join(","));
        assert!(matches!(parse_definition(&huge), Err(Error::Invalid { message, .. }) if message.contains("too large")));
    }
}
