//! Accounts as stored (a store: nothing here calls a use case). Callers
//! validate and normalise input with the shared rules in `app` (the same
//! functions the browser runs); this module enforces what only the database
//! can: uniqueness, and atomic writes. Editing a profile is [`crate::profile`].

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
        address: Set(None),
        is_admin: Set(new.is_admin),
        created_at: Set(now),
        updated_at: Set(now),
        recovery_email: Set(None),
        recovery_email_verified: Set(false),
        second_factor_after_reset: Set(false),
    }
    .insert(db)
    .await
    .map_err(unique_to_invalid)
}

pub(crate) async fn ensure_email_free(db: &impl ConnectionTrait, email: &str, except: Option<Uuid>) -> Result<()> {
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
pub(crate) fn email_unavailable() -> Error {
    Error::invalid("email", "This email address can't be used for your account. Check it, or choose another.")
}

/// A unique-constraint race lost to a concurrent writer still gets a clear message.
pub(crate) fn unique_to_invalid(e: sea_orm::DbErr) -> Error {
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
    let Some(named) = named(identifier) else { return Ok(None) };
    Ok(Users::find().filter(named).one(db).await?)
}

/// The condition "the account whose username or email is `identifier`"
/// (any case); `None` for a name no account can have.
pub fn named(identifier: &str) -> Option<sea_orm::sea_query::SimpleExpr> {
    let key = identifier.trim().to_lowercase();
    // No username or email holds a NUL, and PostgreSQL refuses one in a text
    // parameter (the query fails): such a name is simply no account.
    if key.contains('\0') {
        return None;
    }
    let column = if key.contains('@') { users::Column::Email } else { users::Column::Username };
    Some(column.eq(key))
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

/// After a completed sign-in: it passed every step, the one a password
/// reset added included, so that demand ends. (Where and when people
/// signed in is on their sessions and in the activity log.)
pub async fn clear_second_factor_after_reset(db: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    use sea_orm::sea_query::Expr;
    Users::update_many()
        .col_expr(users::Column::SecondFactorAfterReset, Expr::value(false))
        .filter(users::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
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
}
