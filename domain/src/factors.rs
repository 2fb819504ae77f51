//! What a person can sign in with (the input of the login flows' lock-out
//! rule, [`crate::flows::ensure_can_remove`]), and the lock that serialises
//! changes to it.

use chrono::{DateTime, Utc};
use entity::prelude::*;
use entity::{backup_codes, passkeys, password_credentials, totp_credentials};
use proto::flow::{Method, Subject};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use std::collections::BTreeSet;
use uuid::Uuid;

use crate::Result;

/// The methods a person has enrolled (backup codes only while unused ones
/// remain), in one statement: a sign-in reads this on every step.
pub async fn enrolled(db: &impl ConnectionTrait, user_id: Uuid) -> Result<BTreeSet<Method>> {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};
    fn any(table: impl sea_orm::sea_query::IntoTableRef, user: impl sea_orm::sea_query::IntoColumnRef, id: Uuid) -> SelectStatement {
        Query::select().expr(Expr::val(1)).from(table).and_where(Expr::col(user).eq(id)).to_owned()
    }
    let unused_codes =
        any(BackupCodes, backup_codes::Column::UserId, user_id).and_where(Expr::col(backup_codes::Column::UsedAt).is_null()).to_owned();
    let kinds = [
        (Method::Password, any(PasswordCredentials, password_credentials::Column::UserId, user_id)),
        (Method::Passkey, any(Passkeys, passkeys::Column::UserId, user_id)),
        (Method::Totp, any(TotpCredentials, totp_credentials::Column::UserId, user_id)),
        (Method::BackupCode, unused_codes),
    ];
    let mut query = Query::select();
    for (method, rows) in &kinds {
        query.expr_as(Expr::exists(rows.clone()), Alias::new(method.as_str()));
    }
    let Some(row) = db.query_one(&query).await? else { return Ok(BTreeSet::new()) };
    let mut set = BTreeSet::new();
    for (method, _) in kinds {
        if row.try_get::<bool>("", method.as_str())? {
            set.insert(method);
        }
    }
    Ok(set)
}

/// An account as a password sign-in first needs it: the row, its password
/// hash, and what it has enrolled.
pub struct SignInAccount {
    pub user: entity::users::Model,
    pub password_hash: Option<entity::Secret>,
    pub enrolled: BTreeSet<Method>,
}

/// The account named `identifier` (username or email) with its password
/// hash and enrolled methods, in one statement.
pub async fn account_for_sign_in(db: &impl ConnectionTrait, identifier: &str) -> Result<Option<SignInAccount>> {
    use entity::users;
    use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
    use sea_orm::{FromQueryResult, QuerySelect, QueryTrait};
    let Some(named) = crate::users::named(identifier) else { return Ok(None) };
    fn of_user<E: EntityTrait>(table: E, column: E::Column) -> SelectStatement {
        Query::select().expr(Expr::val(1)).from(table).and_where(Expr::col((table, column)).equals((Users, users::Column::Id))).to_owned()
    }
    let unused_codes = of_user(BackupCodes, backup_codes::Column::UserId)
        .and_where(Expr::col((BackupCodes, backup_codes::Column::UsedAt)).is_null())
        .to_owned();
    let select = Users::find()
        .filter(named)
        .find_also_related(PasswordCredentials)
        .expr_as(Expr::exists(of_user(Passkeys, passkeys::Column::UserId)), "enrolled_passkey")
        .expr_as(Expr::exists(of_user(TotpCredentials, totp_credentials::Column::UserId)), "enrolled_totp")
        .expr_as(Expr::exists(unused_codes), "enrolled_backup_code");
    let Some(row) = db.query_one_raw(select.build(db.get_database_backend())).await? else { return Ok(None) };
    let user = users::Model::from_query_result(&row, "A_")?;
    let password = password_credentials::Model::from_query_result_optional(&row, "B_")?;
    let mut enrolled = BTreeSet::new();
    for (method, column) in
        [(Method::Passkey, "enrolled_passkey"), (Method::Totp, "enrolled_totp"), (Method::BackupCode, "enrolled_backup_code")]
    {
        if row.try_get::<bool>("", column)? {
            enrolled.insert(method);
        }
    }
    if password.is_some() {
        enrolled.insert(Method::Password);
    }
    Ok(Some(SignInAccount { user, password_hash: password.map(|p| p.password_hash), enrolled }))
}

/// [`enrolled`] for every account at once: one query per kind of method.
pub async fn enrolled_by_user(db: &impl ConnectionTrait) -> Result<std::collections::HashMap<Uuid, BTreeSet<Method>>> {
    use sea_orm::QuerySelect;
    let mut map: std::collections::HashMap<Uuid, BTreeSet<Method>> = std::collections::HashMap::new();
    let ids = |rows: Vec<Uuid>, m: Method, map: &mut std::collections::HashMap<Uuid, BTreeSet<Method>>| {
        for id in rows {
            map.entry(id).or_default().insert(m);
        }
    };
    let pw: Vec<Uuid> =
        PasswordCredentials::find().select_only().column(password_credentials::Column::UserId).distinct().into_tuple().all(db).await?;
    ids(pw, Method::Password, &mut map);
    let pk: Vec<Uuid> = Passkeys::find().select_only().column(passkeys::Column::UserId).distinct().into_tuple().all(db).await?;
    ids(pk, Method::Passkey, &mut map);
    let totp: Vec<Uuid> =
        TotpCredentials::find().select_only().column(totp_credentials::Column::UserId).distinct().into_tuple().all(db).await?;
    ids(totp, Method::Totp, &mut map);
    let codes: Vec<Uuid> = BackupCodes::find()
        .select_only()
        .column(backup_codes::Column::UserId)
        .filter(backup_codes::Column::UsedAt.is_null())
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    ids(codes, Method::BackupCode, &mut map);
    Ok(map)
}

/// The `app_settings` row that changes to the lock-out rule's inputs are
/// serialised on; its `updated_at` is the time of the last such change.
const SIGN_IN_RULES_LOCK: &str = "sign_in_rules.lock";

/// Serialises the changes the lock-out rule reads: login-flow saves and
/// removals of sign-in methods. A save checks every administrator's methods
/// and a removal checks the flow, so two of them running at once could each
/// pass against the other's old state and together lock people out.
///
/// Call it first in the change's transaction ([`crate::db::begin_write`]).
/// On PostgreSQL its write holds the row lock until commit; on SQLite the
/// immediate transaction already holds the single write lock. Reads after it
/// see every change committed before.
pub(crate) async fn lock_sign_in_rules(txn: &DatabaseTransaction, now: DateTime<Utc>) -> Result<()> {
    crate::apps::put_setting(txn, SIGN_IN_RULES_LOCK, "serialises login-flow saves and removals of sign-in methods", None, now).await
}

pub async fn subject(db: &impl ConnectionTrait, user: &entity::users::Model, new_device: bool) -> Result<Subject> {
    Ok(Subject { enrolled: enrolled(db, user.id).await?, is_admin: user.is_admin, new_device })
}
