use leptos::prelude::*;

use super::types::Authorization;
use crate::error::AppError;

#[cfg(feature = "ssr")]
mod map {
    use super::super::types::{Authorization, ScopeChoice, Step};
    use crate::error::AppError;
    use crate::features::admin::types::AppSummary;
    use crate::features::reauth::ReauthOptions;
    use domain::oidc::authorize::Next;

    /// The page's view of what the authorization needs next.
    pub fn authorization(next: Next, app: &domain::apps::App, handle: &str) -> Result<Authorization, AppError> {
        let resume = crate::routes::oidc_resume(handle);
        let step = match next {
            Next::SignIn => Step::Go(resume.clone()),
            Next::Prove { options, again } => Step::Prove { options: ReauthOptions::offering(&options), again },
            Next::Consent { asked, allowed_before } => Step::Consent {
                scopes: domain::oidc::claims::ordered(&asked)
                    .into_iter()
                    .map(|s| ScopeChoice {
                        label: domain::oidc::claims::describe(&s).to_owned(),
                        required: s == "openid",
                        allowed_before: allowed_before.contains(&s),
                        scope: s,
                    })
                    .collect(),
            },
            Next::Redirect(to) => Step::Go(to),
            Next::Resume => Step::Go(resume.clone()),
            Next::Page(message) => return Err(AppError::Refused(message)),
        };
        Ok(Authorization { app: AppSummary::from(app), step, resume })
    }

    pub fn expired() -> AppError {
        AppError::Refused("This sign-in has expired or already finished. Go back to the application and sign in again.".into())
    }
}

/// What the authorization `request` needs from the signed-in person now.
/// **Requires:** a session.
#[server(prefix = "/api/oauth2", endpoint = "authorization")]
pub async fn get_authorization(request: String) -> Result<Authorization, AppError> {
    use crate::ssr::*;
    let auth = require_user()?;
    let ctx = services()?.ctx;
    let now = crate::ssr::now();
    let (req, client, app) = domain::oidc::requests::load(&ctx.db, &request, now).await?.ok_or_else(map::expired)?;
    let next = domain::oidc::authorize::next(&ctx, &request, &req, &client, &app, Some(&auth), now).await?;
    map::authorization(next, &app, &request)
}

/// The person's answer on the consent page: `allow` is `"yes"` or `"no"`;
/// `scopes` has each optional permission ticked. Returns the address to go
/// to (the application's), where a plain form post is redirected.
/// **Requires:** a session (the one the authorization belongs to).
#[server(prefix = "/api/oauth2", endpoint = "consent")]
pub async fn answer_consent(request: String, allow: String, scopes: Option<super::types::Ticked>) -> Result<String, AppError> {
    use crate::ssr::*;
    let auth = require_user()?;
    let ctx = services()?.ctx;
    let now = crate::ssr::now();
    let (req, client, app) = domain::oidc::requests::load(&ctx.db, &request, now).await?.ok_or_else(map::expired)?;
    let chosen = scopes.unwrap_or_default().scopes();
    let next = domain::oidc::authorize::answer_consent(&ctx, &request, &req, &client, &app, &auth, allow == "yes", &chosen, now).await?;
    use domain::oidc::authorize::Next;
    let to = match next {
        // Recorded: the authorization goes on (a same-site address, so a plain
        // form's redirect stays within the page's `form-action 'self'`).
        Next::Resume => crate::routes::oidc_resume(&request),
        Next::Page(message) => return Err(AppError::Refused(message)),
        // A proof is still missing: the page asks for it first.
        _ => crate::routes::oidc_continue(&request),
    };
    redirect_plain_form(&to);
    Ok(to)
}

/// The application an authorization request is for (name and logo only),
/// so the sign-in page can say where the person is going. Needs no session:
/// the request handle is a secret only this browser holds.
#[server(prefix = "/api/oauth2", endpoint = "signing_in_to")]
pub async fn signing_in_to(request: String) -> Result<Option<crate::features::admin::types::AppSummary>, AppError> {
    use crate::ssr::*;
    let ctx = services()?.ctx;
    let found = domain::oidc::requests::load(&ctx.db, &request, crate::ssr::now()).await?;
    Ok(found.map(|(_, _, app)| crate::features::admin::types::AppSummary::from(&app)))
}
