//! Authorization requests (`/oauth2/authorize`): checked once, then kept on
//! the server for a few minutes under a random handle (only its hash is
//! stored) while the person signs in, steps up or answers the consent page.
//!
//! Errors follow RFC 6749 §4.1.2.1: an unknown client or a redirect URI
//! that is not registered exactly is shown to the person on a page and
//! **never** redirected (the address could be an attacker's); every other
//! error goes back to the client's registered redirect URI.

use chrono::{DateTime, Utc};
use entity::oidc_requests;
use entity::prelude::*;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::time::Duration;

use super::clients::{self, Client};
use crate::apps::App;
use crate::crypto::{hash_token, random_token};
use crate::{Ctx, Error, Result};

/// How long a person has to finish an authorization (sign-in, consent).
pub const REQUEST_TTL: Duration = Duration::from_secs(15 * 60);
/// Longest `state` and `nonce` accepted, in bytes.
pub const MAX_STATE: usize = 2048;
pub const MAX_NONCE: usize = 512;
const MAX_HINT: usize = 256;
const MAX_OTHER: usize = 2048;

/// The prompt values Latchkey understands (OpenID Connect Core §3.1.2.1).
const PROMPTS: [&str; 4] = ["none", "login", "consent", "select_account"];

/// Userinfo claims by scope (OpenID Connect Core §5.4).
pub const SCOPE_CLAIMS: [(&str, &[&str]); 4] = [
    ("profile", &["name", "given_name", "family_name", "preferred_username", "picture", "locale", "zoneinfo", "updated_at"]),
    ("email", &["email", "email_verified"]),
    ("address", &["address"]),
    ("phone", &["phone_number", "phone_number_verified"]),
];

/// The scope a claim belongs to.
pub fn scope_of(claim: &str) -> Option<&'static str> {
    SCOPE_CLAIMS.iter().find(|(_, claims)| claims.contains(&claim)).map(|(s, _)| *s)
}

/// A checked authorization request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// Requested scopes the client may have (others are ignored, as
    /// OpenID Connect Core §3.1.2.1 asks), `openid` among them.
    pub scopes: BTreeSet<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// PKCE S256 challenge (RFC 7636).
    pub code_challenge: Option<String>,
    pub prompt: BTreeSet<String>,
    pub max_age: Option<u64>,
    /// Userinfo claims asked for one by one (the `claims` parameter).
    pub claims: BTreeSet<String>,
    pub login_hint: Option<String>,
    /// The subject of a valid `id_token_hint`.
    pub hint_subject: Option<String>,
    /// When the request arrived: `prompt=login` needs a sign-in after it.
    pub received_at: DateTime<Utc>,
    /// The person's answer on the consent page, once given.
    #[serde(default)]
    pub answer: Option<ConsentAnswer>,
}

/// What the person answered on the consent page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsentAnswer {
    Allowed(BTreeSet<String>),
    Denied,
}

impl AuthRequest {
    pub fn prompts(&self, p: &str) -> bool {
        self.prompt.contains(p)
    }
}

/// Why a request is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Shown on a page; never sent to an unverified address.
    Page(String),
    /// Sent back to the client (RFC 6749 §4.1.2.1).
    Client(ClientError),
}

/// An OAuth error for the client, at its registered redirect URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientError {
    pub redirect_uri: String,
    pub error: &'static str,
    pub description: String,
    pub state: Option<String>,
}

/// The redirect carrying `params` (plus `state` and the issuer, RFC 9207)
/// to `redirect_uri`, keeping any query it already has.
pub fn redirect_to(redirect_uri: &str, params: &[(&str, &str)], state: Option<&str>, issuer: &str) -> String {
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(u) => u,
        Err(_) => return redirect_uri.to_owned(),
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
        if let Some(s) = state {
            q.append_pair("state", s);
        }
        q.append_pair("iss", issuer);
    }
    url.to_string()
}

impl ClientError {
    pub fn location(&self, issuer: &str) -> String {
        redirect_to(&self.redirect_uri, &[("error", self.error), ("error_description", &self.description)], self.state.as_deref(), issuer)
    }
}

/// The value of `name`, refusing it when repeated (RFC 6749 §3.1).
fn single<'a>(params: &'a [(String, String)], name: &str) -> std::result::Result<Option<&'a str>, String> {
    let mut found = params.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let first = found.next();
    if found.next().is_some() {
        return Err(format!("The {name} parameter is repeated."));
    }
    Ok(first.filter(|v| !v.is_empty()))
}

/// Checks the parameters of an authorization request against the
/// client's registration. Unknown parameters are ignored.
pub async fn check(ctx: &Ctx, params: &[(String, String)], now: DateTime<Utc>) -> std::result::Result<(AuthRequest, Client, App), Refusal> {
    let page = Refusal::Page;
    let client_id =
        single(params, "client_id").map_err(page)?.ok_or_else(|| page("The request names no application (client_id).".into()))?;
    let found = clients::by_client_id(&ctx.db, client_id).await.map_err(|e| page(internal(e)))?;
    let Some((client, app)) = found else {
        return Err(page(
            "No application is registered with this client_id. Ask the application's administrator to check its settings.".into(),
        ));
    };
    let redirect_uri = single(params, "redirect_uri")
        .map_err(page)?
        .ok_or_else(|| page("The request has no redirect_uri. OpenID Connect requires one, registered exactly.".into()))?;
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(page(format!(
            "The address {redirect_uri:?} is not registered for {}, so Latchkey will not send you there. \
             Ask the application's administrator to register it exactly.",
            app.name
        )));
    }
    if !app.enabled {
        return Err(page(format!("{} is disabled by its administrator: signing in to it is not possible right now.", app.name)));
    }
    let state = single(params, "state").ok().flatten().filter(|s| s.len() <= MAX_STATE).map(str::to_owned);
    let to_client = |error: &'static str, description: String| {
        Refusal::Client(ClientError { redirect_uri: redirect_uri.to_owned(), error, description, state: state.clone() })
    };
    let invalid = |d: String| to_client("invalid_request", d);

    if params.iter().any(|(k, _)| k == "request") {
        return Err(to_client("request_not_supported", "Request objects are not supported; send the parameters as such.".into()));
    }
    if params.iter().any(|(k, _)| k == "request_uri") {
        return Err(to_client("request_uri_not_supported", "request_uri is not supported; send the parameters as such.".into()));
    }
    if params.iter().any(|(k, v)| k == "state" && v.len() > MAX_STATE) {
        return Err(invalid(format!("state is longer than {MAX_STATE} bytes.")));
    }
    for name in [
        "response_type",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "prompt",
        "max_age",
        "claims",
        "login_hint",
        "id_token_hint",
        "response_mode",
        "display",
        "ui_locales",
        "claims_locales",
        "acr_values",
    ] {
        single(params, name).map_err(invalid)?;
    }
    match single(params, "response_type").map_err(invalid)? {
        None => return Err(invalid("response_type is missing.".into())),
        Some("code") => {}
        Some(_) => {
            return Err(to_client(
                "unsupported_response_type",
                "Only the authorization code flow (response_type=code) is supported.".into(),
            ));
        }
    }
    if let Some(mode) = single(params, "response_mode").map_err(invalid)?
        && mode != "query"
    {
        return Err(invalid("Only response_mode=query is supported.".into()));
    }
    for name in ["display", "ui_locales", "claims_locales", "acr_values"] {
        if single(params, name).map_err(invalid)?.is_some_and(|v| v.len() > MAX_OTHER) {
            return Err(invalid(format!("{name} is too long.")));
        }
    }
    let asked: BTreeSet<&str> = single(params, "scope").map_err(invalid)?.unwrap_or_default().split_whitespace().collect();
    if !asked.contains("openid") {
        return Err(to_client("invalid_scope", "The scope must include openid.".into()));
    }
    let claims = requested_claims(single(params, "claims").map_err(invalid)?).map_err(invalid)?;
    let mut scopes: BTreeSet<String> = asked.iter().filter(|s| client.scopes.contains(**s)).map(|s| (*s).to_owned()).collect();
    // A claim asked for by name needs its scope's consent.
    scopes.extend(claims.iter().filter_map(|c| scope_of(c)).filter(|s| client.scopes.contains(*s)).map(str::to_owned));
    let nonce = single(params, "nonce").map_err(invalid)?;
    if nonce.is_some_and(|n| n.len() > MAX_NONCE) {
        return Err(invalid(format!("nonce is longer than {MAX_NONCE} bytes.")));
    }
    let code_challenge = pkce_challenge(params, client.public).map_err(invalid)?;
    let prompt: BTreeSet<String> =
        single(params, "prompt").map_err(invalid)?.unwrap_or_default().split_whitespace().map(str::to_owned).collect();
    if let Some(p) = prompt.iter().find(|p| !PROMPTS.contains(&p.as_str())) {
        return Err(invalid(format!("prompt={p} is not supported.")));
    }
    if prompt.contains("none") && prompt.len() > 1 {
        return Err(invalid("prompt=none can't be combined with other values.".into()));
    }
    let max_age = match single(params, "max_age").map_err(invalid)? {
        None => None,
        Some(v) => Some(v.parse::<u64>().map_err(|_| invalid("max_age must be a whole number of seconds.".into()))?),
    };
    let login_hint = single(params, "login_hint").map_err(invalid)?.filter(|h| h.len() <= MAX_HINT).map(str::to_owned);
    let hint_subject = match single(params, "id_token_hint").map_err(invalid)? {
        None => None,
        Some(hint) => Some(
            super::tokens::hint_subject(ctx, hint, &client.client_id)
                .await
                .map_err(|_| invalid("id_token_hint is not an ID token this server issued to this application.".into()))?,
        ),
    };
    let req = AuthRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        state,
        nonce: nonce.map(str::to_owned),
        code_challenge,
        prompt,
        max_age,
        claims,
        login_hint,
        hint_subject,
        received_at: now,
        answer: None,
    };
    Ok((req, client, app))
}

fn internal(e: Error) -> String {
    tracing::error!(error = %e, "authorization request check failed");
    "Latchkey could not check this request right now. Try again shortly.".into()
}

/// The PKCE challenge (S256 only; required from public clients).
fn pkce_challenge(params: &[(String, String)], public: bool) -> std::result::Result<Option<String>, String> {
    let challenge = single(params, "code_challenge")?;
    let method = single(params, "code_challenge_method")?;
    match (challenge, method) {
        (None, Some(_)) => Err("code_challenge_method was sent without a code_challenge.".into()),
        (None, None) if public => Err("This application must use PKCE (code_challenge with S256).".into()),
        (None, None) => Ok(None),
        (Some(_), None | Some("plain")) => Err("Only the S256 code_challenge_method is supported.".into()),
        (Some(_), Some(m)) if m != "S256" => Err(format!("code_challenge_method {m} is not supported; use S256.")),
        (Some(c), _) => {
            // RFC 7636 §4.2: BASE64URL(SHA256(verifier)), 43 characters.
            if c.len() != 43 || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                return Err("code_challenge is not an S256 challenge (43 base64url characters).".into());
            }
            Ok(Some(c.to_owned()))
        }
    }
}

/// The userinfo claims of a `claims` parameter (OpenID Connect Core §5.5).
fn requested_claims(raw: Option<&str>) -> std::result::Result<BTreeSet<String>, String> {
    let Some(raw) = raw else { return Ok(BTreeSet::new()) };
    if raw.len() > MAX_OTHER {
        return Err("claims is too long.".into());
    }
    let v: serde_json::Value = serde_json::from_str(raw).map_err(|_| "claims is not a JSON object.".to_owned())?;
    let obj = v.as_object().ok_or_else(|| "claims is not a JSON object.".to_owned())?;
    let mut out = BTreeSet::new();
    for member in ["userinfo", "id_token"] {
        match obj.get(member) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Object(m)) => out.extend(m.keys().filter(|k| scope_of(k).is_some()).cloned()),
            Some(_) => return Err(format!("claims.{member} must be an object.")),
        }
    }
    Ok(out)
}

/// Keeps `req` for [`REQUEST_TTL`]; returns the handle the browser carries.
pub async fn store(db: &impl ConnectionTrait, app: &App, req: &AuthRequest, now: DateTime<Utc>) -> Result<String> {
    let handle = random_token();
    oidc_requests::ActiveModel {
        handle_hash: Set(hash_token(&handle)),
        app_id: Set(app.id),
        params: Set(serde_json::to_string(req).map_err(|e| Error::Internal(e.to_string()))?),
        created_at: Set(now),
        expires_at: Set(crate::clock::after(now, REQUEST_TTL)),
    }
    .insert(db)
    .await?;
    Ok(handle)
}

/// The request `handle` names, with its client and application, if it is
/// still waiting (not expired, client still registered).
pub async fn load(db: &impl ConnectionTrait, handle: &str, now: DateTime<Utc>) -> Result<Option<(AuthRequest, Client, App)>> {
    if handle.is_empty() || handle.len() > 64 {
        return Ok(None);
    }
    let Some(row) = OidcRequests::find_by_id(hash_token(handle)).one(db).await? else { return Ok(None) };
    if row.expires_at <= now {
        return Ok(None);
    }
    let req: AuthRequest = serde_json::from_str(&row.params).map_err(|e| Error::Internal(format!("stored request: {e}")))?;
    Ok(clients::by_client_id(db, &req.client_id).await?.map(|(c, a)| (req, c, a)))
}

/// Records the person's consent answer on the request kept under `handle`.
pub async fn save_answer(db: &impl ConnectionTrait, handle: &str, req: &AuthRequest, answer: ConsentAnswer) -> Result<()> {
    let mut req = req.clone();
    req.answer = Some(answer);
    let params = serde_json::to_string(&req).map_err(|e| Error::Internal(e.to_string()))?;
    OidcRequests::update_many()
        .col_expr(oidc_requests::Column::Params, sea_orm::sea_query::Expr::value(params))
        .filter(oidc_requests::Column::HandleHash.eq(hash_token(handle)))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets a request once answered; and every expired one.
pub async fn finish(db: &impl ConnectionTrait, handle: &str, now: DateTime<Utc>) -> Result<()> {
    OidcRequests::delete_by_id(hash_token(handle)).exec(db).await?;
    OidcRequests::delete_many().filter(oidc_requests::Column::ExpiresAt.lte(now)).exec(db).await?;
    Ok(())
}
