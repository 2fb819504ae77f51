//! Getting back into an account, and proving addresses are the person's:
//! - the primary email is verified by a link (sent when it changes);
//! - a recovery email (verified by a link before it counts);
//! - security questions (two of `proto::recovery::QUESTIONS`, answers
//!   normalised and stored only as argon2id hashes);
//! - "Forgot password?": a 30-minute single-use link to the primary and the
//!   verified recovery address, then the questions (when set), then a new
//!   password; every session and every other reset link then ends.
//!
//! ```text
//!  forgot(identifier) ─► same answer always; work happens in the background:
//!                        account? per-account limit? → link(s) by mail
//!  open link ─► reset_info: which questions to ask
//!  reset(token, answers, password) ─► answers right? (3 wrong → link burnt)
//!        └► txn { use token; new hash; end sessions + links; mail } ─► wake
//! ```

use chrono::{DateTime, Utc};
use entity::prelude::*;
use entity::{security_answers, users};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::events::{self, Kind};
use crate::notices::{self, Change};
use crate::tokens::{self, Purpose};
use crate::{ClientMeta, Ctx, Error, Result, mail, passwords};

/// Wrong answers allowed with one reset link before it stops working.
pub const MAX_ANSWER_FAILURES: i32 = 3;

pub const VERIFY_PATH: &str = "/verify-email";
pub const RESET_PATH: &str = "/reset-password";

/// A person's recovery set-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub recovery_email: Option<String>,
    pub recovery_email_verified: bool,
    /// Ids of the questions answered, in the order chosen.
    pub questions: Vec<String>,
}

pub async fn status(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Status> {
    let u = crate::users::get(db, user_id).await?;
    Ok(Status {
        recovery_email: u.recovery_email,
        recovery_email_verified: u.recovery_email_verified,
        questions: questions(db, user_id).await?,
    })
}

async fn questions(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Vec<String>> {
    Ok(answers(db, user_id).await?.into_iter().map(|a| a.question).collect())
}

async fn answers(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Vec<security_answers::Model>> {
    Ok(SecurityAnswers::find()
        .filter(security_answers::Column::UserId.eq(user_id))
        .order_by_asc(security_answers::Column::CreatedAt)
        .order_by_asc(security_answers::Column::Id)
        .all(db)
        .await?)
}

// ---------------------------------------------------------------- addresses

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

// ---------------------------------------------------------------- questions

fn question_field(n: &str) -> &'static str {
    match n {
        "question1" => "question1",
        "question2" => "question2",
        "answer1" => "answer1",
        _ => "answer2",
    }
}

/// Replaces the person's security questions with `choices` (question id,
/// answer). Answers are normalised, then hashed with argon2id.
pub async fn set_questions(ctx: &Ctx, user_id: Uuid, choices: &[(String, String)], meta: &ClientMeta, now: DateTime<Utc>) -> Result<()> {
    if let Some((field, message)) = proto::recovery::validate_choice(choices).into_iter().next() {
        return Err(Error::invalid(question_field(&field), message));
    }
    // Two argon2 hashes: bounded per account like every other proof.
    crate::budget::spend_work(ctx, user_id, now).await?;
    let mut hashed = Vec::new();
    for (q, a) in choices {
        hashed.push((q.clone(), ctx.hasher.hash(&proto::recovery::normalize_answer(a)).await?));
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    SecurityAnswers::delete_many().filter(security_answers::Column::UserId.eq(user_id)).exec(&txn).await?;
    for (i, (q, h)) in hashed.into_iter().enumerate() {
        security_answers::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            question: Set(q),
            answer_hash: Set(h.into()),
            // Keeps the chosen order on reading.
            created_at: Set(now + chrono::Duration::milliseconds(i as i64)),
        }
        .insert(&txn)
        .await?;
    }
    notices::security_changed(&txn, ctx, user_id, Change::SecurityQuestionsSet, meta, now).await?;
    txn.commit().await?;
    mail::wake(ctx);
    Ok(())
}

/// Removes the person's security questions.
pub async fn remove_questions(ctx: &Ctx, user_id: Uuid, meta: &ClientMeta, now: DateTime<Utc>) -> Result<()> {
    let txn = crate::db::begin_write(&ctx.db).await?;
    let r = SecurityAnswers::delete_many().filter(security_answers::Column::UserId.eq(user_id)).exec(&txn).await?;
    if r.rows_affected > 0 {
        notices::security_changed(&txn, ctx, user_id, Change::SecurityQuestionsRemoved, meta, now).await?;
    }
    txn.commit().await?;
    mail::wake(ctx);
    Ok(())
}

// ---------------------------------------------------------- forgot password

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, PASSWORD, TestDb};

    fn choices() -> Vec<(String, String)> {
        vec![("first_pet".into(), "Rex".into()), ("first_car".into(), "Fiat Panda".into())]
    }

    use testing::mailed_token as link_token;

    async fn answers_are_hashed_and_normalised(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let u = testing::user(&ctx, "alice", false).await;
        let bad = vec![("first_pet".into(), "Rex".into()), ("first_pet".into(), "Max".into())];
        assert!(matches!(
            set_questions(&ctx, u.id, &bad, &ClientMeta::default(), now).await,
            Err(Error::Invalid { field: "question2", .. })
        ));
        assert!(status(&ctx.db, u.id).await.unwrap().questions.is_empty(), "a refusal stores nothing");
        set_questions(&ctx, u.id, &choices(), &ClientMeta::default(), now).await.unwrap();
        assert_eq!(status(&ctx.db, u.id).await.unwrap().questions, ["first_pet", "first_car"]);
        let stored = answers(&ctx.db, u.id).await.unwrap();
        assert!(stored.iter().all(|a| a.answer_hash.expose().starts_with("$argon2id$") && !a.answer_hash.expose().contains("Rex")));
        assert!(ctx.hasher.verify(&proto::recovery::normalize_answer("  REX! "), stored[0].answer_hash.expose()).await.unwrap());
    }
    crate::db_test!(answers_are_hashed_and_normalised);

    /// Threat: account takeover through "Forgot password?". The link goes
    /// to the person's addresses, works once, needs the answers, and ends
    /// every session and every other link.
    async fn reset_needs_the_answers_and_ends_everything(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let u = testing::user(&ctx, "alice", false).await;
        set_questions(&ctx, u.id, &choices(), &ClientMeta::default(), now).await.unwrap();
        let s = crate::sessions::create(&ctx.db, u.id, &["pwd"], &ClientMeta::default(), &ctx.policy, now).await.unwrap();
        assert!(!issue_reset(&ctx, "nobody", &ClientMeta::default(), now).await.unwrap());
        assert!(issue_reset(&ctx, "Alice", &ClientMeta::default(), now).await.unwrap());
        let token = link_token(&ctx, "alice@example.com", RESET_PATH).await;
        assert_eq!(reset_info(&ctx, &token, now).await.unwrap().questions, ["first_pet", "first_car"]);

        let wrong = vec![("first_pet".into(), "rex".into()), ("first_car".into(), "Fiat Uno".into())];
        let r = reset(&ctx, &token, &wrong, "ample tuba cinder orbit", &ClientMeta::default(), now).await;
        assert!(matches!(&r, Err(Error::Invalid { field: "answers", message }) if message.contains("2 tries left")), "{r:?}");
        let right = vec![("first_pet".into(), " REX ".into()), ("first_car".into(), "fiat panda".into())];
        let weak = reset(&ctx, &token, &right, "password1", &ClientMeta::default(), now).await;
        assert!(matches!(weak, Err(Error::Invalid { field: "password", .. })));
        reset(&ctx, &token, &right, "ample tuba cinder orbit", &ClientMeta::default(), now).await.unwrap();
        assert!(crate::sessions::resolve(&ctx.db, &s.token, &ctx.policy, now).await.unwrap().is_none(), "sessions ended");
        let hash = crate::users::password_hash(&ctx.db, u.id).await.unwrap().unwrap();
        assert!(ctx.hasher.verify("ample tuba cinder orbit", hash.expose()).await.unwrap());
        assert!(!ctx.hasher.verify(PASSWORD, hash.expose()).await.unwrap());
        let again = reset(&ctx, &token, &right, "another fine passphrase", &ClientMeta::default(), now).await;
        assert!(matches!(again, Err(Error::LinkInvalid)), "single use");
    }
    crate::db_test!(reset_needs_the_answers_and_ends_everything);

    async fn three_wrong_answers_burn_the_link_and_links_expire(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let u = testing::user(&ctx, "alice", false).await;
        set_questions(&ctx, u.id, &choices(), &ClientMeta::default(), now).await.unwrap();
        issue_reset(&ctx, "alice", &ClientMeta::default(), now).await.unwrap();
        let first = link_token(&ctx, "alice@example.com", RESET_PATH).await;
        issue_reset(&ctx, "alice@example.com", &ClientMeta::default(), now).await.unwrap();
        let second = link_token(&ctx, "alice@example.com", RESET_PATH).await;
        assert_ne!(first, second);
        assert!(reset_info(&ctx, &first, now).await.is_ok(), "asking again does not cancel an earlier link");
        let wrong = vec![("first_pet".into(), "no".into()), ("first_car".into(), "no".into())];
        for _ in 0..2 {
            let r = reset(&ctx, &second, &wrong, "ample tuba cinder orbit", &ClientMeta::default(), now).await;
            assert!(matches!(r, Err(Error::Invalid { .. })));
        }
        let r = reset(&ctx, &second, &wrong, "ample tuba cinder orbit", &ClientMeta::default(), now).await;
        assert!(matches!(r, Err(Error::Refused(_))), "{r:?}");
        assert!(matches!(reset_info(&ctx, &second, now).await, Err(Error::LinkInvalid)));
        assert!(reset_info(&ctx, &first, now).await.is_ok(), "the other link is its own");
        let late = now + chrono::Duration::minutes(31);
        assert!(matches!(reset_info(&ctx, &first, late).await, Err(Error::LinkInvalid)), "30 minutes");
    }
    crate::db_test!(three_wrong_answers_burn_the_link_and_links_expire);

    /// Threat: guessing the answers with many requests at once. Attempts are
    /// taken before the answers are checked, so at most three are ever tried.
    async fn parallel_guesses_cannot_exceed_three(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let u = testing::user(&ctx, "alice", false).await;
        set_questions(&ctx, u.id, &choices(), &ClientMeta::default(), now).await.unwrap();
        issue_reset(&ctx, "alice", &ClientMeta::default(), now).await.unwrap();
        let token = link_token(&ctx, "alice@example.com", RESET_PATH).await;
        let guesses = (0..8).map(|i| {
            let (ctx, token) = (ctx.clone(), token.clone());
            tokio::spawn(async move {
                let wrong = vec![("first_pet".into(), format!("guess {i}")), ("first_car".into(), "Fiat Panda".into())];
                reset(&ctx, &token, &wrong, "ample tuba cinder orbit", &ClientMeta::default(), now).await
            })
        });
        let mut checked = 0;
        for g in guesses {
            match g.await.unwrap() {
                Err(Error::Invalid { .. }) | Err(Error::Refused(_)) => checked += 1,
                Err(Error::LinkInvalid) => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(checked, 3, "only three guesses were checked");
        let right = vec![("first_pet".into(), "Rex".into()), ("first_car".into(), "Fiat Panda".into())];
        let r = reset(&ctx, &token, &right, "ample tuba cinder orbit", &ClientMeta::default(), now).await;
        assert!(matches!(r, Err(Error::LinkInvalid)), "{r:?}");
    }
    crate::db_test!(parallel_guesses_cannot_exceed_three);

    /// Threat: a link confirming an address the account no longer has.
    async fn verification_links_are_bound_to_their_address(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let u = testing::user(&ctx, "alice", false).await;
        set_recovery_email(&ctx, u.id, Some("alice@home.example"), &ClientMeta::default(), now).await.unwrap();
        let first = link_token(&ctx, "alice@home.example", VERIFY_PATH).await;
        set_recovery_email(&ctx, u.id, Some("alice@other.example"), &ClientMeta::default(), now).await.unwrap();
        assert!(matches!(confirm_email(&ctx, &first, &ClientMeta::default(), now).await, Err(Error::LinkInvalid)));
        let second = link_token(&ctx, "alice@other.example", VERIFY_PATH).await;
        let v = confirm_email(&ctx, &second, &ClientMeta::default(), now).await.unwrap();
        assert_eq!(v, Verified::RecoveryEmail("alice@other.example".into()));
        assert!(status(&ctx.db, u.id).await.unwrap().recovery_email_verified);
        assert!(matches!(confirm_email(&ctx, &second, &ClientMeta::default(), now).await, Err(Error::LinkInvalid)), "single use");
        let same = set_recovery_email(&ctx, u.id, Some("alice@example.com"), &ClientMeta::default(), now).await;
        assert!(matches!(same, Err(Error::Invalid { field: "recovery_email", .. })));
    }
    crate::db_test!(verification_links_are_bound_to_their_address);
}
