//! The one-shot commands: `latchkey admin create` and `latchkey user
//! create` (accounts), `latchkey app …` (applications and their OpenID
//! Connect clients) and `latchkey keys rotate` (signing keys).

use domain::oidc::input::ClientSettings;
use std::io::{BufRead as _, IsTerminal as _};
use std::sync::Arc;

use crate::config::{AppCommand, Config, KeysCommand};

pub async fn create_account(config: &Config, username: &str, email: &str, is_admin: bool) -> Result<(), Box<dyn std::error::Error>> {
    use app::validation::*;
    let username = validate_username(username).map_err(|e| format!("--username: {}", e.message))?;
    let email = validate_email(email, "email").map_err(|e| format!("--email: {}", e.message))?;
    let min = config.password_min_length;
    let (password, confirm) = if std::io::stdin().is_terminal() {
        eprintln!("{}", password_policy_hint(min));
        let p = rpassword::prompt_password(format!("Password for {username}: "))?;
        let c = rpassword::prompt_password("Repeat the password: ")?;
        (p, c)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let p = line.trim_end_matches(['\r', '\n']).to_owned();
        (p.clone(), p)
    };
    if let Some(e) = validate_new_password(&password, &confirm, min).first() {
        return Err(e.message.clone().into());
    }
    domain::passwords::ensure_strong_for_new(&password, &username, &email, "password").await.map_err(|e| match e {
        domain::Error::Invalid { message, .. } => message,
        other => other.to_string(),
    })?;
    let built = crate::build(config, Arc::new(domain::clock::SystemClock)).await?;
    let ctx = &built.services.ctx;
    let user = domain::users::create_with_password(
        ctx,
        domain::users::NewUser { username: username.clone(), email, is_admin },
        &password,
        ctx.now(),
    )
    .await
    .map_err(|e| match e {
        domain::Error::Invalid { message, .. } => message,
        other => other.to_string(),
    })?;
    let kind = if is_admin { "Administrator" } else { "Account" };
    eprintln!("{kind} {} created (id {}).", user.username, user.id);
    Ok(())
}

/// `latchkey app …`: applications and their OpenID Connect clients.
pub async fn app(config: &Config, command: &AppCommand) -> Result<(), Box<dyn std::error::Error>> {
    let built = crate::build(config, Arc::new(domain::clock::SystemClock)).await?;
    let ctx = &built.services.ctx;
    let out = match command {
        AppCommand::Create {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            public,
            trusted,
            scopes,
            access_url,
            description,
            discoverable,
            id_token_alg,
        } => {
            let defaults = ClientSettings::defaults();
            let settings = ClientSettings {
                client_type: if *public { "public" } else { "confidential" }.into(),
                redirect_uris: redirect_uris.join("\n"),
                post_logout_redirect_uris: post_logout_redirect_uris.join("\n"),
                scopes: if scopes.is_empty() { defaults.scopes.clone() } else { scopes.clone() },
                trusted: *trusted,
                id_token_alg: id_token_alg.clone(),
                ..defaults
            };
            let client = settings.check().map_err(|problems| flag_messages(&problems))?;
            let access_url = access_url.clone().unwrap_or_else(|| origin_of(client.redirect_uris.first().map(String::as_str)));
            let input = domain::apps::AppInput {
                name: name.clone(),
                description: description.clone(),
                access_url,
                discoverable: *discoverable,
                ..Default::default()
            };
            let (app, issued) = domain::oidc::clients::create_app_with_client(&ctx.db, &ctx.keys, &input, &client, ctx.now())
                .await
                .map_err(domain_message)?;
            let mut out = serde_json::json!({
                "handle": app.handle,
                "name": app.name,
                "client_id": issued.client.client_id,
                "client_type": if issued.client.public { "public" } else { "confidential" },
                "issuer": ctx.origin.as_ref(),
            });
            if let Some(secret) = &issued.secret {
                out["client_secret"] = serde_json::Value::from(secret.as_str());
            }
            out
        }
        AppCommand::List => {
            let mut list = Vec::new();
            for app in domain::apps::list(&ctx.db, None).await? {
                let client = domain::oidc::clients::of_app(&ctx.db, app.id).await?;
                list.push(serde_json::json!({
                    "handle": app.handle,
                    "name": app.name,
                    "enabled": app.enabled,
                    "client_id": client.as_ref().map(|c| c.client_id.clone()),
                    "client_type": client.as_ref().map(|c| if c.public { "public" } else { "confidential" }),
                    "redirect_uris": client.map(|c| c.redirect_uris).unwrap_or_default(),
                }));
            }
            serde_json::Value::from(list)
        }
        AppCommand::Delete { handle } => {
            let app = domain::apps::get(&ctx.db, handle).await.map_err(|e| match e {
                domain::Error::NotFound => format!("--handle: no application has the handle {handle:?} (see `latchkey app list`)"),
                other => other.to_string(),
            })?;
            domain::apps::delete(&ctx.db, handle, &app.name, None).await.map_err(domain_message)?;
            serde_json::json!({ "deleted": app.handle })
        }
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// `latchkey keys rotate`.
pub async fn keys(config: &Config, command: &KeysCommand) -> Result<(), Box<dyn std::error::Error>> {
    let KeysCommand::Rotate { now } = command;
    let built = crate::build(config, Arc::new(domain::clock::SystemClock)).await?;
    let ctx = &built.services.ctx;
    let lead = if *now { std::time::Duration::ZERO } else { domain::oidc::keys::PUBLISH_LEAD };
    let rotated = domain::oidc::keys::rotate(&ctx.db, &ctx.keys, ctx.now(), lead).await.map_err(domain_message)?;
    let out: Vec<_> =
        rotated.iter().map(|r| serde_json::json!({ "alg": r.alg.name(), "kid": r.kid, "signs_from": r.signs_from.to_rfc3339() })).collect();
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// Field problems as the command line's flags name them.
fn flag_messages(problems: &[(&'static str, String)]) -> String {
    let flag = |field: &str| match field {
        "redirect_uris" => "--redirect-uri",
        "post_logout_redirect_uris" => "--post-logout-redirect-uri",
        "scopes" => "--scope",
        "trusted" => "--trusted",
        "id_token_alg" => "--id-token-alg",
        "name" => "--name",
        "description" => "--description",
        "access_url" => "--access-url",
        _ => "",
    };
    problems.iter().map(|(f, m)| format!("{}: {m}", flag(f))).collect::<Vec<_>>().join("\n")
}

fn domain_message(e: domain::Error) -> String {
    match e {
        domain::Error::InvalidFields(problems) => flag_messages(&problems),
        domain::Error::Invalid { field, message } => flag_messages(&[(field, message)]),
        domain::Error::Refused(message) => message,
        other => other.to_string(),
    }
}

/// `https://host:port/` of `uri`, or an empty string (then refused as the access URL).
fn origin_of(uri: Option<&str>) -> String {
    uri.and_then(|u| url::Url::parse(u).ok()).map(|u| format!("{}/", u.origin().ascii_serialization())).unwrap_or_default()
}
