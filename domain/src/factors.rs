//! What a person can sign in with, and the rule that no change may lock them
//! out: removing a method is refused when the login flow could then no
//! longer be completed by this person (e.g. the last second factor where the
//! flow requires one, or the last passkey of an account without a password).

use entity::prelude::*;
use entity::{backup_codes, passkeys, password_credentials, totp_credentials};
use proto::flow::{self, Method, Subject};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::collections::BTreeSet;
use uuid::Uuid;

use crate::{Error, Result, flows};

/// The methods a person has enrolled (backup codes only while unused ones remain).
pub async fn enrolled(db: &impl ConnectionTrait, user_id: Uuid) -> Result<BTreeSet<Method>> {
    let mut set = BTreeSet::new();
    if PasswordCredentials::find().filter(password_credentials::Column::UserId.eq(user_id)).count(db).await? > 0 {
        set.insert(Method::Password);
    }
    if Passkeys::find().filter(passkeys::Column::UserId.eq(user_id)).count(db).await? > 0 {
        set.insert(Method::Passkey);
    }
    if TotpCredentials::find().filter(totp_credentials::Column::UserId.eq(user_id)).count(db).await? > 0 {
        set.insert(Method::Totp);
    }
    let unused = BackupCodes::find()
        .filter(backup_codes::Column::UserId.eq(user_id))
        .filter(backup_codes::Column::UsedAt.is_null())
        .count(db)
        .await?;
    if unused > 0 {
        set.insert(Method::BackupCode);
    }
    Ok(set)
}

pub async fn subject(db: &impl ConnectionTrait, user: &entity::users::Model, new_device: bool) -> Result<Subject> {
    Ok(Subject { enrolled: enrolled(db, user.id).await?, is_admin: user.is_admin, new_device })
}

/// Refuses removing one credential of `method` (`last`: the person's only
/// one) when that would lock the person out; `what` names it in the message.
pub async fn ensure_can_remove(
    db: &impl ConnectionTrait,
    user: &entity::users::Model,
    method: Method,
    last: bool,
    what: &str,
) -> Result<()> {
    let mut remaining = enrolled(db, user.id).await?;
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
    let flow = flows::current(db, flows::MY_ACCOUNT).await?.flow;
    let subject = Subject { enrolled: remaining.clone(), is_admin: user.is_admin, new_device: true };
    if flow::can_complete(&flow, &subject) {
        return Ok(());
    }
    let reason = if !remaining.iter().any(|m| m.is_first_factor()) {
        "you would have no password or passkey left to sign in with"
    } else {
        "the sign-in flow requires a second factor and you would have none left"
    };
    Err(Error::Refused(format!("You can't remove {what}: {reason}. Add another method first.")))
}
