//! `latchkey admin create` and `latchkey user create`: accounts from the command line.

use std::io::{BufRead as _, IsTerminal as _};
use std::sync::Arc;

use crate::config::Config;

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
