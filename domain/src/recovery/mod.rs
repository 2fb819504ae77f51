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

mod addresses;
mod questions;
mod reset;

pub use addresses::*;
pub use questions::*;
pub use reset::*;

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
        let s = crate::sessions::create(&ctx.db, u.id, &["pwd"], true, &ClientMeta::default(), &ctx.policy, now).await.unwrap();
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
