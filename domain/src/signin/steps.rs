//! The later steps of a half-finished sign-in: what is pending, checking a
//! proof (tries reserved atomically), cancelling, and purging expired ones.

use super::*;

async fn find_partial(db: &impl ConnectionTrait, token: &str, now: DateTime<Utc>) -> Result<partial_logins::Model> {
    if token.is_empty() || token.len() > 128 {
        return Err(Error::SignInExpired);
    }
    PartialLogins::find()
        .filter(partial_logins::Column::TokenHash.eq(hash_token(token)))
        .one(db)
        .await?
        .filter(|p| now < p.expires_at && p.failures < MAX_FAILURES)
        .ok_or(Error::SignInExpired)
}

fn methods_of(p: &partial_logins::Model) -> Result<Vec<Method>> {
    serde_json::from_str(&p.methods).map_err(|e| Error::Internal(format!("partial sign-in methods: {e}")))
}

async fn next_of(ctx: &Ctx, p: &partial_logins::Model, user: &entity::users::Model) -> Result<(Flow, Vec<Method>, Next)> {
    let flow = flows::for_user(flow_at(&ctx.db, &p.app, p.flow_version).await?, user);
    let done = methods_of(p)?;
    let subject = factors::subject(&ctx.db, user, p.new_device).await?;
    let next = flow::next(&flow, &subject, &done);
    Ok((flow, done, next))
}

/// The step a half-finished sign-in waits for.
pub async fn pending(ctx: &Ctx, token: &str, now: DateTime<Utc>) -> Result<NextStep> {
    let p = find_partial(&ctx.db, token, now).await?;
    let user = users::get(&ctx.db, p.user_id).await?;
    let (flow, _, next) = next_of(ctx, &p, &user).await?;
    match next {
        Next::Step { index, options } => Ok(NextStep {
            index,
            steps: flow.steps.len(),
            options,
            display_name: user.display_name.clone().unwrap_or_else(|| user.username.clone()),
            expires_at: p.expires_at,
            failures_left: MAX_FAILURES - p.failures,
        }),
        Next::Blocked { index } => Err(blocked(index)),
        // Enrolment changed under us; the person continues with `verify`.
        Next::Complete => Err(Error::SignInExpired),
    }
}

/// Starts a passkey check for the person of a half-finished sign-in.
pub async fn start_passkey_step(ctx: &Ctx, token: &str, now: DateTime<Utc>) -> Result<(Uuid, RequestChallengeResponse)> {
    let p = find_partial(&ctx.db, token, now).await?;
    passkeys::start_for_user(ctx, p.user_id, now).await
}

/// Checks a proof for the step a half-finished sign-in waits for.
pub async fn verify(
    ctx: &Ctx,
    token: &str,
    proof: Proof<'_>,
    meta: &ClientMeta,
    previous_token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let p = find_partial(&ctx.db, token, now).await?;
    let user = users::get(&ctx.db, p.user_id).await?;
    let (flow, mut done, next) = next_of(ctx, &p, &user).await?;
    let method = proof.method();
    let options = match next {
        Next::Step { options, .. } => options,
        Next::Blocked { index } => return Err(blocked(index)),
        Next::Complete => Vec::new(),
    };
    if !options.contains(&method) {
        return Err(Error::invalid("method", format!("{} is not offered at this step.", method.label())));
    }
    // Both counts are taken before the proof is checked, so parallel
    // guesses cannot spend more than either allows.
    let attempt = budget::reserve(ctx, Who::Account(user.id), now).await?;
    if !reserve_try(&ctx.db, p.id).await? {
        attempt.cancel(ctx).await?;
        return Err(Error::TooManyFailures);
    }
    let ok = match check_proof(ctx, &user, proof, meta, now).await {
        Ok(ok) => ok,
        Err(e) => {
            // Refused before anything was checked (malformed input): no try spent.
            give_back_try(&ctx.db, p.id).await?;
            attempt.cancel(ctx).await?;
            return Err(e);
        }
    };
    crate::metrics::sign_in(method.amr().first().copied().unwrap_or("other"), ok);
    if !ok {
        crate::metrics::second_factor_failed();
        let error = fail(ctx, &p, method, meta, now).await;
        attempt.failed(ctx, now).await?;
        return Err(error);
    }
    give_back_try(&ctx.db, p.id).await?;
    done.push(method);
    let subject = factors::subject(&ctx.db, &user, p.new_device).await?;
    let failures = PartialLogins::find_by_id(p.id).one(&ctx.db).await?.map_or(p.failures, |r| r.failures);
    match flow::next(&flow, &subject, &done) {
        Next::Complete => {
            PartialLogins::delete_by_id(p.id).exec(&ctx.db).await?;
            attempt.succeeded(ctx).await?;
            complete(ctx, &user, &p.app, &subject, &done, meta, previous_token, now).await
        }
        Next::Blocked { index } => Err(blocked(index)),
        Next::Step { index, options } => {
            // The cookie token is replaced at every step.
            let token = random_token();
            let mut a: partial_logins::ActiveModel = p.clone().into();
            a.token_hash = Set(hash_token(&token).into());
            a.methods = Set(serde_json::to_string(&done).map_err(|e| Error::Internal(e.to_string()))?);
            a.update(&ctx.db).await?;
            Ok(Outcome::Continue {
                token,
                next: NextStep {
                    index,
                    steps: flow.steps.len(),
                    options,
                    display_name: user.display_name.clone().unwrap_or_else(|| user.username.clone()),
                    expires_at: p.expires_at,
                    failures_left: MAX_FAILURES - failures,
                },
            })
        }
    }
}

/// Checks one proof for the person of a half-finished sign-in.
async fn check_proof(ctx: &Ctx, user: &entity::users::Model, proof: Proof<'_>, meta: &ClientMeta, now: DateTime<Utc>) -> Result<bool> {
    Ok(match proof {
        Proof::Password(pw) => crate::passwords::verify(ctx, Some(user.id), pw).await?,
        Proof::Totp(code) => {
            if totp::normalize_code(code).is_none() {
                return Err(Error::invalid("code", "Enter the 6-digit code from your authenticator app."));
            }
            totp::verify(ctx, user.id, code, now).await?
        }
        Proof::BackupCode(code) => {
            if backup_codes::normalize(code).is_none() {
                return Err(Error::invalid("code", "A backup code has 8 letters and digits, like abcd-2345."));
            }
            let used = backup_codes::consume(ctx, user.id, code, now).await?;
            if used {
                events::record(&ctx.db, user.id, Kind::BackupCodeUsed, Some("otp"), None, meta, now).await?;
            }
            used
        }
        Proof::Passkey { ceremony, credential } => match passkeys::finish_for_user(ctx, user.id, ceremony, credential, now).await {
            Ok(()) => true,
            Err(Error::PasskeyRejected) => {
                tracing::info!(event = "passkey_rejected", user = %user.id, ip = meta.ip.as_deref(), "passkey not accepted at a sign-in step");
                false
            }
            Err(e) => return Err(e),
        },
    })
}

/// Takes one of the half-finished sign-in's tries before the proof is
/// checked (one conditional update, so parallel requests cannot take more
/// than [`MAX_FAILURES`]); false when none is left.
async fn reserve_try(db: &impl ConnectionTrait, id: Uuid) -> Result<bool> {
    let r = PartialLogins::update_many()
        .col_expr(
            partial_logins::Column::Failures,
            sea_orm::sea_query::ExprTrait::add(sea_orm::sea_query::Expr::col(partial_logins::Column::Failures), 1),
        )
        .filter(partial_logins::Column::Id.eq(id))
        .filter(partial_logins::Column::Failures.lt(MAX_FAILURES))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Gives a try back: the proof was right, or never checked.
async fn give_back_try(db: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    PartialLogins::update_many()
        .col_expr(
            partial_logins::Column::Failures,
            sea_orm::sea_query::ExprTrait::sub(sea_orm::sea_query::Expr::col(partial_logins::Column::Failures), 1),
        )
        .filter(partial_logins::Column::Id.eq(id))
        .filter(partial_logins::Column::Failures.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// Records a wrong answer (its try is already taken); the fifth drops the
/// half-finished sign-in.
async fn fail(ctx: &Ctx, p: &partial_logins::Model, method: Method, meta: &ClientMeta, now: DateTime<Utc>) -> Error {
    let outcome: Result<Error> = async {
        let failures = PartialLogins::find_by_id(p.id).one(&ctx.db).await?.map_or(MAX_FAILURES, |r| r.failures);
        let amr = method.amr().first().copied();
        events::record(&ctx.db, p.user_id, Kind::SecondFactorFailed, amr, None, meta, now).await?;
        if failures >= MAX_FAILURES {
            PartialLogins::delete_by_id(p.id).exec(&ctx.db).await?;
            events::record(&ctx.db, p.user_id, Kind::SignInAbandoned, None, Some("too many wrong answers".into()), meta, now).await?;
            return Ok(Error::TooManyFailures);
        }
        let left = MAX_FAILURES - failures;
        let what = match method {
            Method::Totp => "That code is not right",
            Method::BackupCode => "That backup code is not right or was already used",
            Method::Password => "That password is not right",
            Method::Passkey => "That passkey was not accepted",
        };
        Ok(Error::invalid(field_of(method), format!("{what}. {left} {} left.", if left == 1 { "try" } else { "tries" })))
    }
    .await;
    outcome.unwrap_or_else(|e| e)
}

fn field_of(m: Method) -> &'static str {
    match m {
        Method::Password => "password",
        Method::Passkey => "passkey",
        Method::Totp | Method::BackupCode => "code",
    }
}

/// Ends a half-finished sign-in (the person chose "Cancel").
pub async fn cancel(db: &impl ConnectionTrait, token: &str) -> Result<()> {
    PartialLogins::delete_many().filter(partial_logins::Column::TokenHash.eq(hash_token(token))).exec(db).await?;
    Ok(())
}

/// Deletes half-finished sign-ins that expired.
pub async fn purge_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64> {
    Ok(PartialLogins::delete_many().filter(partial_logins::Column::ExpiresAt.lte(now)).exec(db).await?.rows_affected)
}
