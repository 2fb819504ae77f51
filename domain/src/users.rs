//! Accounts and their profile. Callers validate and normalise input with the
//! shared rules in `app` (the same functions the browser runs); this module
//! enforces what only the database can: uniqueness, and atomic writes.

use chrono::{DateTime, Utc};
use entity::prelude::*;
use entity::{password_credentials, users};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set, SqlErr};
use uuid::Uuid;

use crate::{Ctx, Error, Result};

/// An account as stored.
pub type User = users::Model;

/// A new account. `username` and `email` must already be normalised (lower case).
#[derive(Clone, Debug)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub is_admin: bool,
}

/// The editable part of a profile, already validated and normalised.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileUpdate {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub picture_url: Option<String>,
}

/// Creates an account with a password, in one transaction.
/// **Requires:** the caller checked the password against the policy.
pub async fn create_with_password(ctx: &Ctx, new: NewUser, password: &str, now: DateTime<Utc>) -> Result<users::Model> {
    // Hash before opening the transaction: it takes tens of milliseconds.
    let hash = ctx.hasher.hash(password).await?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let user = insert_with_password_hash(&txn, &new, hash, now).await?;
    txn.commit().await?;
    Ok(user)
}

/// Inserts an account and its password hash; the caller owns the transaction.
pub(crate) async fn insert_with_password_hash(
    db: &impl ConnectionTrait,
    new: &NewUser,
    hash: String,
    now: DateTime<Utc>,
) -> Result<users::Model> {
    let user = insert_user(db, new, now).await?;
    password_credentials::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        password_hash: Set(hash.into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(user)
}

async fn insert_user(db: &impl ConnectionTrait, new: &NewUser, now: DateTime<Utc>) -> Result<users::Model> {
    if Users::find().filter(users::Column::Username.eq(&new.username)).one(db).await?.is_some() {
        return Err(Error::invalid("username", "That username is already taken."));
    }
    ensure_email_free(db, &new.email, None).await?;
    users::ActiveModel {
        id: Set(Uuid::now_v7()),
        username: Set(new.username.clone()),
        email: Set(new.email.clone()),
        email_verified: Set(false),
        given_name: Set(None),
        family_name: Set(None),
        display_name: Set(None),
        phone: Set(None),
        locale: Set(None),
        time_zone: Set(None),
        picture_url: Set(None),
        is_admin: Set(new.is_admin),
        created_at: Set(now),
        updated_at: Set(now),
        last_login_at: Set(None),
        last_login_ip: Set(None),
        recovery_email: Set(None),
        recovery_email_verified: Set(false),
        second_factor_after_reset: Set(false),
    }
    .insert(db)
    .await
    .map_err(unique_to_invalid)
}

async fn ensure_email_free(db: &impl ConnectionTrait, email: &str, except: Option<Uuid>) -> Result<()> {
    let mut q = Users::find().filter(users::Column::Email.eq(email));
    if let Some(id) = except {
        q = q.filter(users::Column::Id.ne(id));
    }
    if q.one(db).await?.is_some() {
        return Err(Error::invalid("email", "That email address is used by another account."));
    }
    Ok(())
}

/// The refusal of a new email address that cannot be used, worded so that it
/// does not tell whether another account has it.
fn email_unavailable() -> Error {
    Error::invalid("email", "This email address can't be used for your account. Check it, or choose another.")
}

/// A unique-constraint race lost to a concurrent writer still gets a clear message.
fn unique_to_invalid(e: sea_orm::DbErr) -> Error {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(detail)) if detail.contains("email") => {
            Error::invalid("email", "That email address is used by another account.")
        }
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::invalid("username", "That username is already taken."),
        _ => Error::Db(e),
    }
}

/// One account by id.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<users::Model> {
    Users::find_by_id(id).one(db).await?.ok_or(Error::NotFound)
}

/// Finds the account a person means by "username or email" (case-insensitive).
pub async fn find_by_login(db: &impl ConnectionTrait, identifier: &str) -> Result<Option<users::Model>> {
    let key = identifier.trim().to_lowercase();
    // No username or email holds a NUL, and PostgreSQL refuses one in a text
    // parameter (the query fails): such a name is simply no account.
    if key.contains('\0') {
        return Ok(None);
    }
    let column = if key.contains('@') { users::Column::Email } else { users::Column::Username };
    Ok(Users::find().filter(column.eq(key)).one(db).await?)
}

/// The ids of every account that is not an administrator.
pub async fn non_admin_ids(db: &impl ConnectionTrait) -> Result<Vec<Uuid>> {
    use sea_orm::QuerySelect;
    Ok(Users::find().select_only().column(users::Column::Id).filter(users::Column::IsAdmin.eq(false)).into_tuple().all(db).await?)
}

/// Every administrator.
pub async fn admins(db: &impl ConnectionTrait) -> Result<Vec<users::Model>> {
    Ok(Users::find().filter(users::Column::IsAdmin.eq(true)).all(db).await?)
}

/// Usernames of the accounts in `ids` (missing ones are left out).
pub async fn usernames(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<std::collections::HashMap<Uuid, String>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows = Users::find().filter(users::Column::Id.is_in(ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(|u| (u.id, u.username)).collect())
}

/// The name a message greets the person by.
pub fn greeting(u: &users::Model) -> String {
    u.display_name.clone().or_else(|| u.given_name.clone()).unwrap_or_else(|| u.username.clone())
}

/// Number of accounts.
pub async fn count(db: &impl ConnectionTrait) -> Result<u64> {
    Ok(Users::find().count(db).await?)
}

/// Saves a profile. A changed email address becomes unverified, and needs
/// `recent_proof` (a fresh sign-in proof): reset links go to that address, so
/// a borrowed signed-in browser must not be able to redirect them.
/// Returns the saved account and whether the email changed.
pub async fn update_profile(
    ctx: &Ctx,
    id: Uuid,
    update: ProfileUpdate,
    recent_proof: bool,
    meta: &crate::ClientMeta,
    now: DateTime<Utc>,
) -> Result<(users::Model, bool)> {
    if get(&ctx.db, id).await?.email != update.email {
        if !recent_proof {
            return Err(Error::ReauthRequired);
        }
        // A change mails an address the person chose, and its refusal hints
        // that the address has an account: both are bounded per account.
        // Outside the transaction, so a refused change still counts.
        ctx.limits.email_change.check(&ctx.db, &id.to_string(), now).await?;
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    let current = get(&txn, id).await?;
    let email_changed = current.email != update.email;
    let old_email = current.email.clone();
    if email_changed {
        if !recent_proof {
            return Err(Error::ReauthRequired);
        }
        // No enumeration: the refusal does not say another account has it.
        if ensure_email_free(&txn, &update.email, Some(id)).await.is_err() {
            return Err(email_unavailable());
        }
    }
    let mut active: users::ActiveModel = current.into();
    active.given_name = Set(update.given_name);
    active.family_name = Set(update.family_name);
    active.display_name = Set(update.display_name);
    active.phone = Set(update.phone);
    active.locale = Set(update.locale);
    active.time_zone = Set(update.time_zone);
    active.picture_url = Set(update.picture_url);
    if email_changed {
        active.email = Set(update.email);
        active.email_verified = Set(false);
    }
    active.updated_at = Set(now);
    let saved = active.update(&txn).await.map_err(|e| match unique_to_invalid(e) {
        Error::Invalid { field: "email", .. } => email_unavailable(),
        other => other,
    })?;
    if email_changed {
        // A link to the new address, a notice to the old one: sent after the commit.
        crate::recovery::queue_email_verification(&txn, ctx, &saved, now).await?;
        crate::recovery::queue_email_changed_notice(&txn, ctx, &saved, &old_email, now).await?;
        let kind = crate::events::Kind::EmailChanged;
        crate::events::record(&txn, id, kind, None, Some(format!("{old_email} → {}", saved.email)), meta, now).await?;
    }
    txn.commit().await?;
    if email_changed {
        crate::mail::wake(ctx);
    }
    Ok((saved, email_changed))
}

/// Records a completed sign-in on the account.
pub async fn record_login(db: &impl ConnectionTrait, id: Uuid, ip: Option<String>, now: DateTime<Utc>) -> Result<()> {
    let user = get(db, id).await?;
    let mut active: users::ActiveModel = user.into();
    active.last_login_at = Set(Some(now));
    active.last_login_ip = Set(ip);
    // A completed sign-in passed every step, the one a reset added included.
    active.second_factor_after_reset = Set(false);
    active.update(db).await?;
    Ok(())
}

/// Whether `password` is the account's password. An account without one
/// spends the same work, so timing does not tell the two apart.
pub async fn check_password(ctx: &Ctx, user_id: Uuid, password: &str) -> Result<bool> {
    match password_hash(&ctx.db, user_id).await? {
        Some(h) => ctx.hasher.verify(password, h.expose()).await,
        None => {
            ctx.hasher.verify_dummy(password).await?;
            Ok(false)
        }
    }
}

/// The stored password hash of an account, if it has a password.
pub async fn password_hash(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Option<entity::Secret>> {
    Ok(PasswordCredentials::find().filter(password_credentials::Column::UserId.eq(user_id)).one(db).await?.map(|c| c.password_hash))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, TestDb};

    fn new_user(name: &str) -> NewUser {
        NewUser { username: name.into(), email: format!("{name}@example.com"), is_admin: false }
    }

    async fn creates_account_with_hashed_password(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let u = create_with_password(&ctx, new_user("alice"), "a long password", now).await.unwrap();
        assert_eq!(u.username, "alice");
        assert!(!u.email_verified);
        let hash = password_hash(&ctx.db, u.id).await.unwrap().unwrap();
        assert!(hash.expose().starts_with("$argon2id$"));
        assert!(!hash.expose().contains("a long password"));
        assert_eq!(count(&ctx.db).await.unwrap(), 1);
    }
    crate::db_test!(creates_account_with_hashed_password);

    async fn duplicate_username_or_email_is_refused_and_nothing_written(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        create_with_password(&ctx, new_user("alice"), "a long password", now).await.unwrap();
        let dup_name =
            create_with_password(&ctx, NewUser { email: "other@example.com".into(), ..new_user("alice") }, "a long password", now).await;
        assert!(matches!(dup_name, Err(Error::Invalid { field: "username", .. })), "{dup_name:?}");
        let dup_mail =
            create_with_password(&ctx, NewUser { email: "alice@example.com".into(), ..new_user("bob") }, "a long password", now).await;
        assert!(matches!(dup_mail, Err(Error::Invalid { field: "email", .. })), "{dup_mail:?}");
        assert_eq!(count(&ctx.db).await.unwrap(), 1);
    }
    crate::db_test!(duplicate_username_or_email_is_refused_and_nothing_written);

    async fn login_lookup_is_case_insensitive_by_username_or_email(t: TestDb) {
        let ctx = t.ctx();
        let u = create_with_password(&ctx, new_user("alice"), "a long password", testing::t0()).await.unwrap();
        assert_eq!(find_by_login(&ctx.db, " ALICE ").await.unwrap().unwrap().id, u.id);
        assert_eq!(find_by_login(&ctx.db, "Alice@Example.com").await.unwrap().unwrap().id, u.id);
        assert!(find_by_login(&ctx.db, "nobody").await.unwrap().is_none());
    }
    crate::db_test!(login_lookup_is_case_insensitive_by_username_or_email);

    async fn changing_email_marks_it_unverified_and_checks_uniqueness(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let a = create_with_password(&ctx, new_user("alice"), "a long password", now).await.unwrap();
        create_with_password(&ctx, new_user("bob"), "a long password", now).await.unwrap();
        // Pretend alice verified her address.
        let mut active: users::ActiveModel = a.clone().into();
        active.email_verified = Set(true);
        active.update(&ctx.db).await.unwrap();

        let same_email = ProfileUpdate { email: a.email.clone(), given_name: Some("Alice".into()), ..Default::default() };
        let (saved, changed) = update_profile(&ctx, a.id, same_email, false, &Default::default(), now).await.unwrap();
        assert!(!changed);
        assert!(saved.email_verified);
        assert_eq!(saved.given_name.as_deref(), Some("Alice"));

        // Threat: account enumeration through the email field. The refusal
        // does not say that another account uses the address.
        let taken = ProfileUpdate { email: "bob@example.com".into(), ..Default::default() };
        match update_profile(&ctx, a.id, taken, true, &Default::default(), now).await {
            Err(Error::Invalid { field: "email", message }) => assert!(!message.contains("another account"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(get(&ctx.db, a.id).await.unwrap().given_name.as_deref(), Some("Alice"), "a refused update changes nothing");

        let later = now + chrono::Duration::minutes(5);
        let new_email = ProfileUpdate { email: "alice@new.example".into(), ..Default::default() };
        // Threat: a borrowed signed-in browser redirecting reset links to another mailbox.
        let stale = update_profile(&ctx, a.id, new_email.clone(), false, &Default::default(), later).await;
        assert!(matches!(stale, Err(Error::ReauthRequired)), "{stale:?}");
        assert_eq!(get(&ctx.db, a.id).await.unwrap().email, a.email, "nothing changed");
        let (saved, changed) = update_profile(&ctx, a.id, new_email, true, &Default::default(), later).await.unwrap();
        assert!(changed);
        assert!(!saved.email_verified);
        assert_eq!(saved.updated_at, later);
    }
    crate::db_test!(changing_email_marks_it_unverified_and_checks_uniqueness);

    /// Threat: mail bombing an arbitrary address, and probing which
    /// addresses have accounts, through repeated email changes. Changes are
    /// limited per account, refused ones included.
    async fn email_changes_are_rate_limited_per_account(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let a = create_with_password(&ctx, new_user("alice"), testing::PASSWORD, now).await.unwrap();
        let mut limited = None;
        for i in 0..10 {
            let u = ProfileUpdate { email: format!("victim{i}@example.com"), ..Default::default() };
            if let Err(e) = update_profile(&ctx, a.id, u, true, &Default::default(), now).await {
                limited = Some((i, e));
                break;
            }
        }
        let Some((i, Error::RateLimited { .. })) = limited else { panic!("no limit: {limited:?}") };
        assert_eq!(i, 3, "three changes, then a wait");
        // Other fields can still be saved meanwhile.
        let same = get(&ctx.db, a.id).await.unwrap().email;
        update_profile(
            &ctx,
            a.id,
            ProfileUpdate { email: same, given_name: Some("A".into()), ..Default::default() },
            false,
            &Default::default(),
            now,
        )
        .await
        .unwrap();
    }
    crate::db_test!(email_changes_are_rate_limited_per_account);
}
