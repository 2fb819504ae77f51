//! Security questions: two of `proto::recovery::QUESTIONS`, answers
//! normalised and stored only as argon2id hashes.

use super::*;

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
