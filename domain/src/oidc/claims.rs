//! Userinfo claims (OpenID Connect Core §5.1, §5.3): what a token may
//! read about its person, by the scopes it carries.

use std::collections::BTreeSet;

use super::grants::Access;
use crate::{Error, Result};

/// The claims `access` releases about `user`. Empty values are left out.
pub fn userinfo(user: &entity::users::Model, access: &Access) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    out.insert("sub".into(), user.id.to_string().into());
    let has = |scope: &str| access.scopes.contains(scope);
    let mut put = |k: &str, v: Option<serde_json::Value>| {
        if let Some(v) = v {
            out.insert(k.to_owned(), v);
        }
    };
    if has("profile") {
        let name = user.display_name.clone().or_else(|| {
            let full = [user.given_name.as_deref(), user.family_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
            (!full.is_empty()).then_some(full)
        });
        put("name", name.map(Into::into));
        put("given_name", user.given_name.clone().map(Into::into));
        put("family_name", user.family_name.clone().map(Into::into));
        put("preferred_username", Some(user.username.clone().into()));
        put("picture", user.picture_url.clone().map(Into::into));
        put("locale", user.locale.clone().map(Into::into));
        put("zoneinfo", user.time_zone.clone().map(Into::into));
        put("updated_at", Some(user.updated_at.timestamp().into()));
    }
    if has("email") {
        put("email", Some(user.email.clone().into()));
        put("email_verified", Some(user.email_verified.into()));
    }
    if has("address")
        && let Some(a) = &user.address
    {
        put("address", Some(serde_json::json!({ "formatted": a })));
    }
    if has("phone") && user.phone.is_some() {
        put("phone_number", user.phone.clone().map(Into::into));
        put("phone_number_verified", Some(false.into()));
    }
    serde_json::Value::Object(out)
}

/// The person a live access token speaks for, and what it may read.
pub async fn for_token(db: &impl sea_orm::ConnectionTrait, token: &str, now: chrono::DateTime<chrono::Utc>) -> Result<serde_json::Value> {
    use sea_orm::EntityTrait as _;
    let access = super::grants::live_token(db, token, now).await?.filter(|a| a.kind == "access").ok_or(Error::Unauthenticated)?;
    let user = entity::prelude::Users::find_by_id(access.user_id).one(db).await?.ok_or(Error::Unauthenticated)?;
    Ok(userinfo(&user, &access))
}

/// Scopes in plain words, as the consent page and My Account show them.
pub fn describe(scope: &str) -> &'static str {
    match scope {
        "openid" => "Know who you are (sign you in)",
        "profile" => "Your name, username and profile picture",
        "email" => "Your email address",
        "address" => "Your postal address",
        "phone" => "Your phone number",
        "offline_access" => "Stay signed in (offline access)",
        _ => "Other access",
    }
}

/// The scopes of `set` in the order the console lists them.
pub fn ordered(set: &BTreeSet<String>) -> Vec<String> {
    super::input::SCOPES.iter().filter(|s| set.contains(**s)).map(|s| (*s).to_owned()).collect()
}
