//! Addresses: the primary email verified by a link (sent when it changes),
//! and the recovery email, which counts only once its link is followed.

use super::*;

/// Queues a verification link for the primary address; the caller owns the
/// transaction. Older links for the primary address stop working.
pub(crate) async fn queue_email_verification(db: &impl ConnectionTrait, ctx: &Ctx, u: &users::Model, now: DateTime<Utc>) -> Result<()> {
    tokens::revoke_all(db, u.id, Purpose::VerifyEmail, now).await?;
    let token = tokens::issue(db, u.id, Purpose::VerifyEmail, &u.email, ctx.policy.verify_link_ttl, now).await?;
    let link = ctx.link(&format!("{VERIFY_PATH}?token={token}"));
    let m = mail::compose(
        &u.email,
        &crate::users::greeting(u),
        "confirm your email address",
        &[format!("Please confirm that {} is your email address for your account {}.", u.email, u.username)],
        Some(("Confirm this address", &link)),
        "The link works once, for 24 hours. If you did not ask for this, ignore this message.",
    );
    mail::enqueue(db, ctx, &m, now).await
}

/// Tells the previous address that the account's address changed.
pub(crate) async fn queue_email_changed_notice(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    u: &users::Model,
    old: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let m = mail::compose(
        old,
        &crate::users::greeting(u),
        "your email address was changed",
        &[
            format!("The email address of your account {} was changed from {old} to {}.", u.username, u.email),
            "Messages about your account now go to the new address.".into(),
        ],
        Some(("Review your account", &ctx.link("/myaccount/personal-info"))),
        "If you did not make this change, reset your password with \"Forgot password?\" on the sign-in page and tell your administrator.",
    );
    mail::enqueue(db, ctx, &m, now).await
}

/// Sends a new verification link for the primary address.
pub async fn resend_email_verification(ctx: &Ctx, user_id: Uuid, now: DateTime<Utc>) -> Result<()> {
    ctx.limits.verification_mail.check(&ctx.db, &format!("email:{user_id}"), now).await?;
    let u = crate::users::get(&ctx.db, user_id).await?;
    if u.email_verified {
        return Err(Error::Refused("Your email address is already verified.".into()));
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    queue_email_verification(&txn, ctx, &u, now).await?;
    txn.commit().await?;
    mail::wake(ctx);
    Ok(())
}

/// Sets the recovery address (`None` removes it). A new address counts only
/// once its link is followed.
pub async fn set_recovery_email(ctx: &Ctx, user_id: Uuid, email: Option<&str>, meta: &ClientMeta, now: DateTime<Utc>) -> Result<()> {
    let u = crate::users::get(&ctx.db, user_id).await?;
    if let Some(e) = email {
        if e == u.email {
            return Err(Error::invalid(
                "recovery_email",
                "Use a different address from your account's email, so one lost mailbox does not lock you out.",
            ));
        }
        ctx.limits.verification_mail.check(&ctx.db, &format!("recovery:{user_id}"), now).await?;
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    tokens::revoke_all(&txn, u.id, Purpose::VerifyRecoveryEmail, now).await?;
    let mut active: users::ActiveModel = u.clone().into();
    active.recovery_email = Set(email.map(str::to_owned));
    active.recovery_email_verified = Set(false);
    active.updated_at = Set(now);
    let saved = active.update(&txn).await?;
    match email {
        Some(e) => {
            let token = tokens::issue(&txn, u.id, Purpose::VerifyRecoveryEmail, e, ctx.policy.verify_link_ttl, now).await?;
            let link = ctx.link(&format!("{VERIFY_PATH}?token={token}"));
            let m = mail::compose(
                e,
                &crate::users::greeting(&saved),
                "confirm your recovery email address",
                &[
                    format!("Please confirm {e} as the recovery address of your account {}.", u.username),
                    "If you ever forget your password, a link to reset it will also be sent here.".into(),
                ],
                Some(("Confirm this address", &link)),
                "The link works once, for 24 hours. If you did not ask for this, ignore this message.",
            );
            mail::enqueue(&txn, ctx, &m, now).await?;
            notices::security_changed(&txn, ctx, u.id, Change::RecoveryEmailSet(e), meta, now).await?;
        }
        None => notices::security_changed(&txn, ctx, u.id, Change::RecoveryEmailRemoved, meta, now).await?,
    }
    txn.commit().await?;
    mail::wake(ctx);
    Ok(())
}

/// What a verification link confirmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verified {
    Email(String),
    RecoveryEmail(String),
}

/// Follows a verification link. It works once, until it expires, and only
/// while the address it was sent to is still the one on the account.
pub async fn confirm_email(ctx: &Ctx, token: &str, meta: &ClientMeta, now: DateTime<Utc>) -> Result<Verified> {
    let txn = crate::db::begin_write(&ctx.db).await?;
    let (row, purpose) = tokens::find_live(&txn, token, &[Purpose::VerifyEmail, Purpose::VerifyRecoveryEmail], now).await?;
    let u = crate::users::get(&txn, row.user_id).await?;
    let current = match purpose {
        Purpose::VerifyEmail => Some(u.email.as_str()),
        _ => u.recovery_email.as_deref(),
    };
    if current != Some(row.address.as_str()) {
        return Err(Error::LinkInvalid);
    }
    tokens::consume(&txn, row.id, now).await?;
    let mut active: users::ActiveModel = u.clone().into();
    let (verified, kind) = match purpose {
        Purpose::VerifyEmail => {
            active.email_verified = Set(true);
            (Verified::Email(row.address.clone()), Kind::EmailVerified)
        }
        _ => {
            active.recovery_email_verified = Set(true);
            (Verified::RecoveryEmail(row.address.clone()), Kind::RecoveryEmailVerified)
        }
    };
    active.updated_at = Set(now);
    active.update(&txn).await?;
    events::record(&txn, u.id, kind, None, Some(row.address.clone()), meta, now).await?;
    txn.commit().await?;
    Ok(verified)
}
