//! The OpenID Connect endpoints (`/.well-known/openid-configuration`,
//! `/oauth2/*`). They sit in the protocol router: no CSRF origin check
//! (relying parties post here from their own sites) and no session layer;
//! only the authorization and logout endpoints read the session cookie,
//! themselves. The rules live in `domain::oidc`; this file turns HTTP into
//! calls and answers into HTTP.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use domain::oidc::authorize::Next;
use domain::oidc::requests::Refusal;
use domain::oidc::{OAuthError, clients, grants};
use std::net::SocketAddr;

use crate::state::AppState;
use app::ssr::Services;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/oauth2/authorize", get(authorize).post(authorize))
        .route("/oauth2/authorize/resume", get(resume))
        .route("/oauth2/token", axum::routing::post(token))
        .route("/oauth2/userinfo", get(userinfo).post(userinfo))
        .route("/oauth2/revoke", axum::routing::post(revoke))
        .route("/oauth2/introspect", axum::routing::post(introspect))
        .route("/oauth2/logout", get(logout).post(logout))
        .route("/oauth2/logout/confirm", axum::routing::post(logout_confirm))
        // Every request here is a few parameters: refuse bodies beyond that (413).
        .layer(axum::extract::DefaultBodyLimit::max(crate::MAX_BODY_BYTES))
}

/// Public, cacheable documents any origin may read.
fn public_json(value: impl serde::Serialize, max_age: u64) -> Response {
    (
        [(header::CACHE_CONTROL, format!("public, max-age={max_age}")), (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*".to_owned())],
        axum::Json(value),
    )
        .into_response()
}

async fn discovery(State(services): State<Services>) -> Response {
    public_json(domain::oidc::discovery::document(&services.ctx.origin), 300)
}

/// Text made safe inside HTML (content and quoted attribute values).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A single-card page in Latchkey's style, never cached. `title` is
/// escaped here; `head` and `card` are HTML the caller escaped.
fn shell(status: StatusCode, title: &str, head: &str, card: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         {head}<title>{t} · Latchkey</title><link rel=\"stylesheet\" href=\"/pkg/latchkey.css\"></head>\
         <body><main class=\"center-page\"><div class=\"card auth-card\"><p class=\"brand\">Latchkey</p><h1>{t}</h1>\
         {card}</div></main></body></html>",
        t = esc(title)
    );
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

/// A page for the person (an error that must not go to an unverified
/// address), in Latchkey's own style. `message` is escaped.
pub fn page(status: StatusCode, title: &str, message: &str) -> Response {
    shell(status, title, "", &format!("<p role=\"alert\">{}</p>", esc(message)))
}

/// A page that sends the browser on to `to` (an address of the application,
/// checked against its registration) by itself, with a link as well.
fn handoff(app_name: &str, to: &str) -> Response {
    let (u, a) = (esc(to), esc(app_name));
    let head = format!("<meta http-equiv=\"refresh\" content=\"0; url={u}\"><meta name=\"referrer\" content=\"no-referrer\">");
    let card = format!("<p><a class=\"button button--primary\" href=\"{u}\" data-testid=\"continue\">Continue to {a}</a></p>");
    shell(StatusCode::OK, &format!("Back to {app_name}"), &head, &card)
}

fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => {
            (StatusCode::SEE_OTHER, [(header::LOCATION, v), (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))]).into_response()
        }
        Err(_) => page(StatusCode::BAD_REQUEST, "Can't continue", "The address to go back to is not valid."),
    }
}

/// The request's parameters: the query of a GET, the form body of a POST,
/// as pairs (repeats kept, so they can be refused).
fn params(method: &Method, uri: &axum::http::Uri, headers: &HeaderMap, body: &Bytes) -> Result<Vec<(String, String)>, String> {
    if method == Method::POST {
        if !is_form(headers) {
            return Err("Send the parameters as application/x-www-form-urlencoded.".into());
        }
        Ok(url::form_urlencoded::parse(body).into_owned().collect())
    } else {
        Ok(url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect())
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

async fn session(services: &Services, headers: &HeaderMap) -> Result<Option<domain::sessions::Authenticated>, Response> {
    let ctx = &services.ctx;
    let Some(token) = services.cookie.read(headers) else { return Ok(None) };
    domain::sessions::resolve(&ctx.db, &token, &ctx.policy, ctx.now()).await.map_err(|e| {
        tracing::error!(error = %e, "session lookup failed");
        unavailable()
    })
}

fn unavailable() -> Response {
    page(StatusCode::SERVICE_UNAVAILABLE, "Try again shortly", "Latchkey can't reach its database right now.")
}

/// `/oauth2/authorize` (GET and POST).
async fn authorize(State(services): State<Services>, method: Method, uri: axum::http::Uri, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = &services.ctx;
    let now = ctx.now();
    let params = match params(&method, &uri, &headers, &body) {
        Ok(p) => p,
        Err(m) => return page(StatusCode::BAD_REQUEST, "Can't sign you in", &m),
    };
    let (req, client, app) = match domain::oidc::requests::check(ctx, &params, now).await {
        Ok(found) => found,
        Err(Refusal::Page(m)) => return page(StatusCode::BAD_REQUEST, "Can't sign you in", &m),
        Err(Refusal::Client(e)) => return see_other(&e.location(&ctx.origin)),
    };
    let handle = match domain::oidc::requests::store(&ctx.db, &app, &req, now).await {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "cannot keep an authorization request");
            return unavailable();
        }
    };
    proceed(&services, &headers, &handle, &req, &client, &app, false).await
}

/// Back from the sign-in, a proof or the consent page.
async fn resume(State(services): State<Services>, headers: HeaderMap, Query(q): Query<Vec<(String, String)>>) -> Response {
    let ctx = &services.ctx;
    let handle = q.iter().find(|(k, _)| k == "request").map(|(_, v)| v.as_str()).unwrap_or_default();
    match domain::oidc::requests::load(&ctx.db, handle, ctx.now()).await {
        Ok(Some((req, client, app))) => proceed(&services, &headers, handle, &req, &client, &app, true).await,
        Ok(None) => page(
            StatusCode::BAD_REQUEST,
            "This sign-in has expired",
            "It was started too long ago or already finished. Go back to the application and sign in again.",
        ),
        Err(e) => {
            tracing::error!(error = %e, "cannot read an authorization request");
            unavailable()
        }
    }
}

/// Acts on what the authorization needs next. `from_latchkey`: the browser
/// came from one of Latchkey's own pages (maybe through a plain form's
/// redirect), so the last hop to the application is a page that moves on by
/// itself ([`handoff`]) rather than a redirect, which the `form-action 'self'`
/// policy of the page that sent the form would block.
async fn proceed(
    services: &Services,
    headers: &HeaderMap,
    handle: &str,
    req: &domain::oidc::requests::AuthRequest,
    client: &clients::Client,
    app: &domain::apps::App,
    from_latchkey: bool,
) -> Response {
    let ctx = &services.ctx;
    let session = match session(services, headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let next = domain::oidc::authorize::next(ctx, handle, req, client, app, session.as_ref(), ctx.now()).await;
    match next {
        Ok(Next::SignIn) => see_other(&app::routes::oidc_sign_in(handle, req.login_hint.as_deref())),
        Ok(Next::Prove { .. } | Next::Consent { .. }) => see_other(&app::routes::oidc_continue(handle)),
        Ok(Next::Redirect(to)) if from_latchkey => handoff(&app.name, &to),
        Ok(Next::Redirect(to)) => see_other(&to),
        Ok(Next::Resume) => see_other(&app::routes::oidc_resume(handle)),
        Ok(Next::Page(m)) => page(StatusCode::FORBIDDEN, "Can't sign you in", &m),
        Err(e) => {
            tracing::error!(error = %e, "authorization failed");
            unavailable()
        }
    }
}

/// A JSON answer the client must not cache (RFC 6749 §5.1).
fn no_store(status: StatusCode, value: serde_json::Value) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store")), (header::PRAGMA, HeaderValue::from_static("no-cache"))],
        axum::Json(value),
    )
        .into_response()
}

fn oauth_error(e: OAuthError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut res = no_store(status, serde_json::json!({ "error": e.error, "error_description": e.description }));
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"latchkey\""));
    }
    res
}

/// The form of a client-authenticated POST: its fields once each, and how
/// the client identified itself.
struct ClientForm {
    fields: Vec<(String, String)>,
    presented: clients::Presented,
}

impl ClientForm {
    fn parse(headers: &HeaderMap, body: &Bytes) -> Result<Self, OAuthError> {
        if !is_form(headers) {
            return Err(OAuthError::bad_request("invalid_request", "Send the parameters as application/x-www-form-urlencoded."));
        }
        let fields: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
        let mut seen = std::collections::BTreeSet::new();
        if let Some((k, _)) = fields.iter().find(|(k, _)| !seen.insert(k.clone())) {
            return Err(OAuthError::bad_request("invalid_request", &format!("The {k} parameter is repeated.")));
        }
        let basic = match headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
            None => None,
            Some(v) => Some(
                basic_credentials(v)
                    .ok_or_else(|| OAuthError::invalid_client("The Authorization header is not valid Basic credentials."))?,
            ),
        };
        let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let presented = clients::Presented { basic, client_id: get("client_id"), client_secret: get("client_secret") };
        Ok(Self { fields, presented })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }
}

/// `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
fn basic_credentials(header: &str) -> Option<(String, String)> {
    let encoded = header.strip_prefix("Basic ").or_else(|| header.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((decode(id)?, decode(secret)?))
}

/// A client-authenticated POST (token, revocation, introspection): its
/// form, and the client that proved who it is. Refused with an OAuth error
/// otherwise; failures count against the caller's address.
struct ClientCall {
    form: ClientForm,
    client: clients::Client,
}

impl FromRequest<AppState> for ClientCall {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Response> {
        let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        let form = ClientForm::parse(&headers, &body).map_err(oauth_error)?;
        let ip = crate::middleware::session::client_ip(&state.web, &headers, peer);
        let (client, _) = clients::authenticate(&state.services.ctx, &form.presented, ip.as_deref()).await.map_err(oauth_error)?;
        Ok(Self { form, client })
    }
}

/// `/oauth2/token`.
async fn token(State(services): State<Services>, ClientCall { form, client }: ClientCall) -> Response {
    let ctx = &services.ctx;
    let now = ctx.now();
    let issued = match form.get("grant_type") {
        Some("authorization_code") => match form.get("code") {
            Some(code) => grants::exchange_code(ctx, &client, code, form.get("redirect_uri"), form.get("code_verifier"), now).await,
            None => Err(OAuthError::bad_request("invalid_request", "code is missing.")),
        },
        Some("refresh_token") => match form.get("refresh_token") {
            Some(t) => grants::refresh(ctx, &client, t, form.get("scope"), now).await,
            None => Err(OAuthError::bad_request("invalid_request", "refresh_token is missing.")),
        },
        Some(_) => Err(OAuthError::bad_request("unsupported_grant_type", "Use authorization_code or refresh_token.")),
        None => Err(OAuthError::bad_request("invalid_request", "grant_type is missing.")),
    };
    match issued {
        Ok(t) => no_store(
            StatusCode::OK,
            serde_json::json!({
                "access_token": t.access_token,
                "token_type": "Bearer",
                "expires_in": t.expires_in,
                "refresh_token": t.refresh_token,
                "id_token": t.id_token,
                "scope": domain::oidc::claims::ordered(&t.scopes).join(" "),
            }),
        ),
        Err(e) => oauth_error(e),
    }
}

/// `/oauth2/userinfo` (GET and POST, RFC 6750 Bearer token in the header).
async fn userinfo(State(services): State<Services>, headers: HeaderMap) -> Response {
    let ctx = &services.ctx;
    let refuse = |error: &str| {
        let challenge = format!("Bearer realm=\"latchkey\", error=\"{error}\"");
        let mut res = no_store(StatusCode::UNAUTHORIZED, serde_json::json!({ "error": error }));
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        res
    };
    let token = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ").map(str::trim));
    let Some(token) = token else { return refuse("invalid_request") };
    match domain::oidc::claims::for_token(&ctx.db, token, ctx.now()).await {
        Ok(claims) => no_store(StatusCode::OK, claims),
        Err(domain::Error::Unauthenticated) => refuse("invalid_token"),
        Err(e) => oauth_error(OAuthError::server(e)),
    }
}

/// `/oauth2/revoke` (RFC 7009): always 200 for a known client.
async fn revoke(State(services): State<Services>, ClientCall { form, client }: ClientCall) -> Response {
    let ctx = &services.ctx;
    let Some(token) = form.get("token") else { return oauth_error(OAuthError::bad_request("invalid_request", "token is missing.")) };
    match grants::revoke_token(&ctx.db, &client, token, ctx.now()).await {
        Ok(()) => no_store(StatusCode::OK, serde_json::json!({})),
        Err(e) => oauth_error(OAuthError::server(e)),
    }
}

/// `/oauth2/introspect` (RFC 7662): confidential clients, their own tokens.
async fn introspect(State(services): State<Services>, ClientCall { form, client }: ClientCall) -> Response {
    let ctx = &services.ctx;
    if client.public {
        return oauth_error(OAuthError::invalid_client("Introspection is for confidential clients."));
    }
    let Some(token) = form.get("token") else { return oauth_error(OAuthError::bad_request("invalid_request", "token is missing.")) };
    match grants::live_token(&ctx.db, token, ctx.now()).await {
        Ok(Some(a)) if a.app_id == client.app_id => no_store(
            StatusCode::OK,
            serde_json::json!({
                "active": true,
                "scope": domain::oidc::claims::ordered(&a.scopes).join(" "),
                "client_id": client.client_id,
                "sub": a.user_id.to_string(),
                "exp": a.expires_at.timestamp(),
                "iat": a.issued_at.timestamp(),
                "iss": ctx.origin.as_ref(),
                "aud": client.client_id,
                "token_type": if a.kind == "access" { "Bearer" } else { "refresh_token" },
            }),
        ),
        Ok(_) => no_store(StatusCode::OK, serde_json::json!({ "active": false })),
        Err(e) => oauth_error(OAuthError::server(e)),
    }
}

/// What a logout request asked for, checked: where to go afterwards (a
/// registered post-logout address of the client the hint or `client_id`
/// names) and whether the hint names the current session.
struct LogoutAsk {
    then: Option<String>,
    hint_matches: bool,
}

async fn check_logout(
    services: &Services,
    params: &[(String, String)],
    session: Option<&domain::sessions::Authenticated>,
) -> Result<LogoutAsk, Response> {
    let ctx = &services.ctx;
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
    let refuse = |m: &str| page(StatusCode::BAD_REQUEST, "Can't sign you out from here", m);
    let mut seen = std::collections::BTreeSet::new();
    if let Some((k, _)) = params.iter().find(|(k, _)| !seen.insert(k.as_str())) {
        return Err(refuse(&format!("The {k} parameter is repeated.")));
    }
    let hint = match get("id_token_hint") {
        None => None,
        Some(h) => Some(
            domain::oidc::tokens::verify_own(ctx, h, None)
                .await
                .map_err(|_| refuse("The id_token_hint is not an ID token Latchkey issued."))?,
        ),
    };
    let client_id = match (get("client_id"), &hint) {
        (Some(c), Some(h)) if c != h.aud => return Err(refuse("client_id does not match the id_token_hint.")),
        (Some(c), _) => Some(c.to_owned()),
        (None, Some(h)) => Some(h.aud.clone()),
        (None, None) => None,
    };
    let then = match get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let client = match &client_id {
                Some(id) => clients::by_client_id(&ctx.db, id).await.map_err(|_| unavailable())?,
                None => None,
            };
            let registered = client.is_some_and(|(c, _)| c.post_logout_redirect_uris.iter().any(|r| r == uri));
            if !registered {
                return Err(refuse("The address to return to after signing out is not registered for this application."));
            }
            let mut url = url::Url::parse(uri).map_err(|_| refuse("The address to return to is not valid."))?;
            if let Some(state) = get("state") {
                url.query_pairs_mut().append_pair("state", state);
            }
            Some(url.to_string())
        }
    };
    let hint_matches = match (&hint, session) {
        (Some(h), Some(s)) => h.sub == s.user_id.to_string() && h.sid.as_deref().is_none_or(|sid| sid == s.session_id.to_string()),
        _ => false,
    };
    Ok(LogoutAsk { then, hint_matches })
}

/// Ends the session and says so, or goes back to the application.
async fn sign_out(services: &Services, session: &domain::sessions::Authenticated, then: Option<&str>, from_form: bool) -> Response {
    let ctx = &services.ctx;
    if let Err(e) = domain::sessions::revoke(&ctx.db, session.session_id, ctx.now()).await {
        tracing::error!(error = %e, "sign-out failed");
        return unavailable();
    }
    tracing::info!(event = "signed_out", user = %session.user_id, session = %session.session_id, via = "rp_initiated_logout", "signed out");
    let mut res = match (then, from_form) {
        (Some(to), false) => see_other(to),
        // After Latchkey's own confirmation form: not a redirect (form-action 'self').
        (Some(to), true) => handoff("the application", to),
        (None, _) => page(StatusCode::OK, "You're signed out", "You have signed out of Latchkey. You can close this page."),
    };
    if let Ok(v) = HeaderValue::from_str(&services.cookie.clear()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The value that proves a logout confirmation came from the page Latchkey
/// showed to this session (the protocol router has no CSRF origin check),
/// with this return address (so the form can't be turned into an open redirect).
fn logout_token(services: &Services, session: &domain::sessions::Authenticated, then: Option<&str>) -> String {
    services.ctx.keys.mac(format!("rp-logout:{}:{}", session.session_id, then.unwrap_or_default()).as_bytes())
}

/// `/oauth2/logout` (RP-initiated logout 1.0). A hint that names the
/// current session signs it out at once; otherwise the person confirms.
async fn logout(State(services): State<Services>, method: Method, uri: axum::http::Uri, headers: HeaderMap, body: Bytes) -> Response {
    let params = match params(&method, &uri, &headers, &body) {
        Ok(p) => p,
        Err(m) => return page(StatusCode::BAD_REQUEST, "Can't sign you out from here", &m),
    };
    let session = match session(&services, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let ask = match check_logout(&services, &params, session.as_ref()).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match session {
        None => match ask.then {
            Some(to) => see_other(&to),
            None => page(StatusCode::OK, "You're signed out", "Nobody is signed in to Latchkey in this browser."),
        },
        Some(s) if ask.hint_matches => sign_out(&services, &s, ask.then.as_deref(), false).await,
        Some(s) => confirm_page(&logout_token(&services, &s, ask.then.as_deref()), ask.then.as_deref()),
    }
}

fn confirm_page(token: &str, then: Option<&str>) -> Response {
    let then = then.map(|t| format!("<input type=\"hidden\" name=\"then\" value=\"{}\">", esc(t))).unwrap_or_default();
    let card = format!(
        "<p>An application asked to sign you out. This ends your Latchkey session in this browser.</p>\
         <form method=\"post\" action=\"/oauth2/logout/confirm\"><input type=\"hidden\" name=\"confirm\" value=\"{}\">{then}\
         <div class=\"form-actions\"><button class=\"button button--primary\" type=\"submit\" data-testid=\"confirm-logout\">Sign out</button>\
         <a class=\"button\" href=\"/myaccount\">Stay signed in</a></div></form>",
        esc(token)
    );
    shell(StatusCode::OK, "Sign out of Latchkey?", "", &card)
}

/// The person confirmed signing out on [`confirm_page`].
async fn logout_confirm(State(services): State<Services>, headers: HeaderMap, body: Bytes) -> Response {
    if !is_form(&headers) {
        return page(StatusCode::BAD_REQUEST, "Can't sign you out from here", "Send the form as Latchkey's page does.");
    }
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let session = match session(&services, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return page(StatusCode::OK, "You're signed out", "Nobody is signed in to Latchkey in this browser."),
        Err(r) => return r,
    };
    use subtle::ConstantTimeEq as _;
    let then = get("then").filter(|t| !t.is_empty());
    let expected = logout_token(&services, &session, then);
    if !bool::from(get("confirm").unwrap_or_default().as_bytes().ct_eq(expected.as_bytes())) {
        // Threat: another site signing people out (logout CSRF), or sending
        // them somewhere unregistered afterwards.
        return page(StatusCode::FORBIDDEN, "Can't sign you out from here", "This confirmation did not come from Latchkey's page.");
    }
    sign_out(&services, &session, then, true).await
}
