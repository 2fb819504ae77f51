//! What an authorization request needs next, given the person's session:
//! a sign-in, a fresh proof (`prompt=login`, `max_age`), the missing steps
//! of the application's own login flow (step-up), consent — or nothing
//! more, and then the code goes back to the client.

use chrono::{DateTime, Utc};
use proto::flow::{self, Method};
use std::collections::BTreeSet;

use super::clients::Client;
use super::grants;
use super::requests::{self, AuthRequest, ClientError};
use crate::apps::App;
use crate::sessions::Authenticated;
use crate::{Ctx, Error, Result, factors, flows};

/// The next thing an authorization needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Nobody is signed in: the sign-in page, then back.
    SignIn,
    /// The person must prove who they are with one of `options`: again
    /// (`again`: `prompt=login` or `max_age`), or a step the application's
    /// flow asks for and the session has not shown (step-up).
    Prove { options: Vec<Method>, again: bool },
    /// The person must allow `asked` (or some of it).
    Consent { asked: BTreeSet<String>, allowed_before: BTreeSet<String> },
    /// Done, with a code or an error: send the browser here.
    Redirect(String),
    /// The answer is recorded: continue the authorization (its resume address).
    Resume,
    /// This person can't complete the application's flow: say why.
    Page(String),
}

fn fail(ctx: &Ctx, req: &AuthRequest, error: &'static str, description: &str) -> Next {
    let e = ClientError { redirect_uri: req.redirect_uri.clone(), error, description: description.to_owned(), state: req.state.clone() };
    Next::Redirect(e.location(&ctx.origin))
}

/// Decides what `req` (kept under `handle`) needs next. Ends the request
/// (a code or an error) when nothing more can be asked.
pub async fn next(
    ctx: &Ctx,
    handle: &str,
    req: &AuthRequest,
    client: &Client,
    app: &App,
    session: Option<&Authenticated>,
    now: DateTime<Utc>,
) -> Result<Next> {
    let silent = req.prompts("none");
    let ended = |n: Next| async move {
        requests::finish(&ctx.db, handle, now).await?;
        Ok::<Next, Error>(n)
    };
    let Some(session) = session else {
        return if silent { ended(fail(ctx, req, "login_required", "Nobody is signed in.")).await } else { Ok(Next::SignIn) };
    };
    if silent && req.hint_subject.as_deref().is_some_and(|s| s != session.user_id.to_string()) {
        return ended(fail(ctx, req, "login_required", "Another person is signed in.")).await;
    }
    let user = &session.user;
    let subject = factors::subject(&ctx.db, user, false).await?;

    // A fresh proof: asked for by prompt=login, or the last one is older than max_age.
    let proved_since_request = session.auth_time >= req.received_at;
    let too_old = req.max_age.is_some_and(|m| (now - session.auth_time).num_seconds() > i64::try_from(m).unwrap_or(i64::MAX));
    if !proved_since_request && (req.prompts("login") || too_old) {
        if silent {
            return ended(fail(ctx, req, "login_required", "A fresh sign-in is needed.")).await;
        }
        let stored = flows::current(&ctx.db, &app.handle).await?;
        let first: Vec<Method> = stored.flow.steps.first().map(|s| s.options.clone()).unwrap_or_default();
        let mut options: Vec<Method> = first.into_iter().filter(|m| subject.enrolled.contains(m)).collect();
        if options.is_empty() {
            options = [Method::Password, Method::Passkey].into_iter().filter(|m| subject.enrolled.contains(m)).collect();
        }
        return Ok(Next::Prove { options, again: true });
    }

    // Step-up: the application's own flow against what the session has shown.
    let stored = flows::current(&ctx.db, &app.handle).await?;
    match flow::next(&stored.flow, &subject, &session.methods_shown()) {
        flow::Next::Complete => {}
        flow::Next::Step { options, .. } => {
            if silent {
                return ended(fail(ctx, req, "interaction_required", "The application asks for another sign-in step.")).await;
            }
            return Ok(Next::Prove { options, again: false });
        }
        flow::Next::Blocked { index } => {
            requests::finish(&ctx.db, handle, now).await?;
            return Ok(Next::Page(format!(
                "Signing in to {} needs, at step {}, a sign-in method you have not set up. Set one up in My Account → Security, or ask an administrator.",
                app.name,
                index + 1
            )));
        }
    }

    // The person answered the consent page for this request.
    match &req.answer {
        Some(requests::ConsentAnswer::Denied) => {
            tracing::info!(app = %app.handle, user = %session.user_id, "consent denied");
            return ended(fail(ctx, req, "access_denied", "The person did not allow access.")).await;
        }
        Some(requests::ConsentAnswer::Allowed(asked_and_allowed)) => {
            let allowed = grants::remember_consent(&ctx.db, session.user_id, app.id, &req.scopes, asked_and_allowed, now).await?;
            let scopes: BTreeSet<String> = req.scopes.intersection(&allowed).cloned().collect();
            return issue(ctx, handle, req, app, session, &scopes, now).await;
        }
        None => {}
    }

    // Consent.
    let before = grants::consent(&ctx.db, session.user_id, app.id).await?.map(|c| c.scopes).unwrap_or_default();
    if client.trusted {
        grants::remember_consent(&ctx.db, session.user_id, app.id, &req.scopes, &req.scopes, now).await?;
        return issue(ctx, handle, req, app, session, &req.scopes, now).await;
    }
    let missing = !req.scopes.is_subset(&before);
    if missing || req.prompts("consent") {
        if silent {
            return ended(fail(ctx, req, "consent_required", "The person has not allowed this application yet.")).await;
        }
        return Ok(Next::Consent { asked: req.scopes.clone(), allowed_before: before });
    }
    let scopes: BTreeSet<String> = req.scopes.intersection(&before).cloned().collect();
    issue(ctx, handle, req, app, session, &scopes, now).await
}

/// The person answered the consent page: `allow`, with the `chosen` scopes
/// (`openid` can't be unticked; anything not asked is ignored). Taken only
/// when consent is what the request needs now: an answer can't skip a
/// sign-in step the application's flow still asks for. The answer is kept
/// on the request, and [`next`] acts on it when the browser resumes (so the
/// last hop to the application is never a form's redirect, which the
/// page's `form-action 'self'` policy would stop).
#[allow(clippy::too_many_arguments)]
pub async fn answer_consent(
    ctx: &Ctx,
    handle: &str,
    req: &AuthRequest,
    client: &Client,
    app: &App,
    session: &Authenticated,
    allow: bool,
    chosen: &BTreeSet<String>,
    now: DateTime<Utc>,
) -> Result<Next> {
    match next(ctx, handle, req, client, app, Some(session), now).await? {
        Next::Consent { .. } => {}
        other => return Ok(other),
    }
    let answer = if allow {
        let mut allowed: BTreeSet<String> = chosen.intersection(&req.scopes).cloned().collect();
        allowed.insert("openid".into());
        requests::ConsentAnswer::Allowed(allowed)
    } else {
        requests::ConsentAnswer::Denied
    };
    requests::save_answer(&ctx.db, handle, req, answer).await?;
    Ok(Next::Resume)
}

async fn issue(
    ctx: &Ctx,
    handle: &str,
    req: &AuthRequest,
    app: &App,
    session: &Authenticated,
    scopes: &BTreeSet<String>,
    now: DateTime<Utc>,
) -> Result<Next> {
    let code = grants::issue_code(&ctx.db, session, app, req, scopes, now).await?;
    requests::finish(&ctx.db, handle, now).await?;
    tracing::info!(app = %app.handle, user = %session.user_id, "authorization code issued");
    Ok(Next::Redirect(requests::redirect_to(&req.redirect_uri, &[("code", &code)], req.state.as_deref(), &ctx.origin)))
}
