//! "Forgot password?": the link by mail, the questions, the new password.

use super::*;

/// "Forgot password?": answers the same whether or not the account exists,
/// and in the same time: the lookup and the mail happen in the background.
/// Only the per-IP limit is answered (it says nothing about the account).
pub fn request_reset(ctx: &Ctx, identifier: &str, meta: &ClientMeta, now: DateTime<Utc>) -> Result<()> {
    ctx.limits.recovery_ip.check(meta.ip.as_deref().unwrap_or("unknown"))?;
    let background = ctx.background.clone();
    let (ctx, identifier, meta) = (ctx.clone(), identifier.trim().to_lowercase(), meta.clone());
    background.spawn(async move {
        if let Err(e) = issue_reset(&ctx, &identifier, &meta, now).await {
            tracing::error!(error = %e, "could not send a password-reset link");
        }
    });
    Ok(())
}

/// The background half of [`request_reset`]; returns whether mail was queued.
pub async fn issue_reset(ctx: &Ctx, identifier: &str, meta: &ClientMeta, now: DateTime<Utc>) -> Result<bool> {
    let Some(u) = crate::users::find_by_login(&ctx.db, identifier).await? else { return Ok(false) };
    // Two silent limits: per account and client (stops one sender flooding a
    // mailbox) and per account (a cap however many addresses ask).
    let ip = meta.ip.as_deref().unwrap_or("unknown");
    let over = |checked: Result<()>| match checked {
        Ok(()) => Ok(false),
        Err(Error::RateLimited { .. }) => Ok(true),
        Err(e) => Err(e),
    };
    if over(ctx.limits.recovery_account_ip.check(&ctx.db, &format!("{}:{ip}", u.id), now).await)?
        || over(ctx.limits.recovery_account.check(&ctx.db, &u.id.to_string(), now).await)?
    {
        tracing::info!(user = %u.id, "password-reset mail not sent: per-account limit");
        return Ok(false);
    }
    let mut to = vec![u.email.clone()];
    if let (Some(r), true) = (&u.recovery_email, u.recovery_email_verified)
        && r != &u.email
    {
        to.push(r.clone());
    }
    let minutes = ctx.policy.reset_link_ttl.as_secs() / 60;
    let txn = crate::db::begin_write(&ctx.db).await?;
    // Earlier links keep working until they expire or one is used: a stranger
    // asking again must not cancel the link the person is about to follow.
    for address in &to {
        let token = tokens::issue(&txn, u.id, Purpose::ResetPassword, address, ctx.policy.reset_link_ttl, now).await?;
        let link = ctx.link(&format!("{RESET_PATH}?token={token}"));
        let m = mail::compose(
            address,
            &crate::users::greeting(&u),
            "reset your password",
            &[
                format!(
                    "Someone asked to reset the password of your account {}{}.",
                    u.username,
                    meta.ip.as_deref().map(|ip| format!(" (from {ip})")).unwrap_or_default()
                ),
                format!("The link below works once, for {minutes} minutes."),
            ],
            Some(("Choose a new password", &link)),
            "If you did not ask for this, ignore this message: your password stays as it is.",
        );
        mail::enqueue(&txn, ctx, &m, now).await?;
    }
    events::record(&txn, u.id, Kind::PasswordResetRequested, None, None, meta, now).await?;
    txn.commit().await?;
    mail::wake(ctx);
    Ok(true)
}

/// What the reset page needs to ask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResetInfo {
    pub username: String,
    /// Question ids to answer (empty: none set).
    pub questions: Vec<String>,
    /// The account has passkeys or an authenticator app, which the next
    /// sign-in will still ask for (a reset never downgrades an account).
    pub keeps_second_factor: bool,
}

/// Whether a reset leaves the next sign-in asking for a second factor.
async fn has_strong_factor(db: &impl ConnectionTrait, user_id: Uuid) -> Result<bool> {
    let enrolled = crate::factors::enrolled(db, user_id).await?;
    Ok(enrolled.contains(&proto::flow::Method::Passkey) || enrolled.contains(&proto::flow::Method::Totp))
}

async fn live_reset(db: &impl ConnectionTrait, token: &str, now: DateTime<Utc>) -> Result<(entity::email_tokens::Model, users::Model)> {
    let (row, _) = tokens::find_live(db, token, &[Purpose::ResetPassword], now).await?;
    if row.failures >= MAX_ANSWER_FAILURES {
        return Err(Error::LinkInvalid);
    }
    let u = crate::users::get(db, row.user_id).await?;
    // Bound to the address it went to: still the primary or the verified recovery address.
    let still_ours = u.email == row.address || (u.recovery_email_verified && u.recovery_email.as_deref() == Some(row.address.as_str()));
    if !still_ours {
        return Err(Error::LinkInvalid);
    }
    Ok((row, u))
}

pub async fn reset_info(ctx: &Ctx, token: &str, now: DateTime<Utc>) -> Result<ResetInfo> {
    let (_, u) = live_reset(&ctx.db, token, now).await?;
    Ok(ResetInfo {
        questions: questions(&ctx.db, u.id).await?,
        keeps_second_factor: has_strong_factor(&ctx.db, u.id).await?,
        username: u.username,
    })
}

/// Sets a new password with a reset link. **Requires:** the caller checked
/// `password` against the length policy. `answers` are (question id, answer).
pub async fn reset(
    ctx: &Ctx,
    token: &str,
    answers_given: &[(String, String)],
    password: &str,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<()> {
    ctx.limits.reset_token.check(&ctx.db, &crate::crypto::hash_token(token.trim()), now).await?;
    let (row, u) = live_reset(&ctx.db, token, now).await?;
    let stored = answers(&ctx.db, u.id).await?;
    if !stored.is_empty() {
        // Take the attempt first: parallel guesses cannot exceed the limit.
        tokens::reserve_attempt(&ctx.db, row.id, MAX_ANSWER_FAILURES).await?;
        // Check every answer (no early exit): the time does not tell which was wrong.
        let mut all_right = true;
        for s in &stored {
            let given = answers_given.iter().find(|(q, _)| q == &s.question).map(|(_, a)| proto::recovery::normalize_answer(a));
            let right = match given {
                Some(g) if !g.is_empty() => ctx.hasher.verify(&g, s.answer_hash.expose()).await?,
                _ => {
                    ctx.hasher.verify_dummy("").await?;
                    false
                }
            };
            all_right &= right;
        }
        if !all_right {
            events::record(&ctx.db, u.id, Kind::RecoveryAnswerFailed, None, None, meta, now).await?;
            let failures = tokens::failures(&ctx.db, row.id).await?;
            if failures >= MAX_ANSWER_FAILURES {
                return Err(Error::Refused(
                    "Too many wrong answers: this link no longer works. Ask for a new one, or ask your administrator for help.".into(),
                ));
            }
            let left = MAX_ANSWER_FAILURES - failures;
            return Err(Error::invalid(
                "answers",
                format!("One or more answers are not right. {left} {} left with this link.", if left == 1 { "try" } else { "tries" }),
            ));
        }
        tokens::release_attempt(&ctx.db, row.id).await?;
    }
    passwords::ensure_strong(password, &u, "password").await?;
    let hash = ctx.hasher.hash(password).await?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    tokens::consume(&txn, row.id, now).await?;
    passwords::store_hash(&txn, u.id, hash, now).await?;
    if has_strong_factor(&txn, u.id).await? {
        // Whoever reads the mailbox must not get past the passkey or the
        // authenticator app: the next sign-in asks for one of them.
        Users::update_many()
            .col_expr(users::Column::SecondFactorAfterReset, sea_orm::sea_query::Expr::value(true))
            .filter(users::Column::Id.eq(u.id))
            .exec(&txn)
            .await?;
    }
    passwords::end_after_change(&txn, u.id, passwords::EndSessions::All, now).await?;
    events::record(&txn, u.id, Kind::PasswordReset, Some("email"), None, meta, now).await?;
    mail::enqueue(&txn, ctx, &passwords::changed_mail(ctx, &u, meta, now, true), now).await?;
    txn.commit().await?;
    mail::wake(ctx);
    Ok(())
}
