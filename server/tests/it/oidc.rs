//! OpenID Connect provider: the published signing keys, checked by an
//! unmodified relying-party library (the `openidconnect` crate).

use crate::it_test;
use crate::support::*;
use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::{ClientId, IssuerUrl, Nonce};
use reqwest::StatusCode;
use reqwest::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE};

/// An ID token's required claims (OpenID Connect Core §2), for `client`.
fn id_claims(app: &TestApp, client: &str) -> serde_json::Value {
    let now = app.clock_now().timestamp();
    serde_json::json!({ "iss": app.base, "sub": "someone", "aud": client, "iat": now, "exp": now + 3600 })
}

async fn fetch_jwks(app: &TestApp) -> CoreJsonWebKeySet {
    let r = app.bare_client().get(app.url("/oauth2/jwks")).header("cookie", "latchkey_session=garbage").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "no session needed, a stray cookie ignored");
    assert!(r.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("application/json"));
    assert_eq!(r.headers()[CACHE_CONTROL], "public, max-age=300");
    assert_eq!(r.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    serde_json::from_str(&r.text().await.unwrap()).expect("a key set the library reads")
}

/// Threat: ID tokens a relying party can't verify, or could verify with a
/// key that isn't Latchkey's. An unmodified library checks signatures made
/// with each algorithm against the published set, and a token signed by a
/// key outside it is refused.
async fn the_published_keys_verify_id_tokens_in_an_unmodified_library(app: TestApp) {
    let ctx = &app.services.ctx;
    let jwks = fetch_jwks(&app).await;
    assert_eq!(jwks.keys().len(), 3, "RS256, ES256 and EdDSA");
    let now = app.clock_now();
    let verifier = CoreIdTokenVerifier::new_public_client(ClientId::new("rp".into()), IssuerUrl::new(app.base.clone()).unwrap(), jwks)
        .set_allowed_algs([
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            CoreJwsSigningAlgorithm::EdDsa,
        ])
        .set_time_fn(move || now);
    for alg in domain::oidc::keys::SigningAlg::ALL {
        let jwt = domain::oidc::keys::sign(&ctx.db, &ctx.keys, alg, &id_claims(&app, "rp"), now).await.unwrap();
        let token: CoreIdToken = jwt.parse().unwrap();
        let claims = token.claims(&verifier, |_: Option<&Nonce>| Ok(())).unwrap_or_else(|e| panic!("{}: {e}", alg.name()));
        assert_eq!(claims.subject().as_str(), "someone");
    }

    // A rotation in another process publishes a key signing only later;
    // once it signs, a library holding the old copy of the set refuses it
    // (which is why it is published ten minutes ahead), a fresh copy accepts.
    domain::oidc::keys::rotate(&ctx.db, &ctx.keys, now, domain::oidc::keys::PUBLISH_LEAD).await.unwrap();
    assert_eq!(fetch_jwks(&app).await.keys().len(), 6, "new keys published before they sign");
    let later = now + chrono::Duration::from_std(domain::oidc::keys::PUBLISH_LEAD).unwrap();
    let jwt =
        domain::oidc::keys::sign(&ctx.db, &ctx.keys, domain::oidc::keys::SigningAlg::Rs256, &id_claims(&app, "rp"), later).await.unwrap();
    let token: CoreIdToken = jwt.parse().unwrap();
    assert!(token.claims(&verifier, |_: Option<&Nonce>| Ok(())).is_err(), "signed by a key the old copy lacks");
    let fresh = CoreIdTokenVerifier::new_public_client(
        ClientId::new("rp".into()),
        IssuerUrl::new(app.base.clone()).unwrap(),
        fetch_jwks(&app).await,
    )
    .set_time_fn(move || later);
    assert!(token.claims(&fresh, |_: Option<&Nonce>| Ok(())).is_ok());
}
it_test!(the_published_keys_verify_id_tokens_in_an_unmodified_library);

// ---- The authorization code flow, driven by the `openidconnect` crate ------

use crate::security::{STEP, call, code, enrol_totp};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientSecret, CsrfToken, OAuth2TokenResponse as _, PkceCodeChallenge, RedirectUrl, Scope,
    TokenResponse as _,
};
use reqwest::header::LOCATION;

const REDIRECT: &str = "https://rp.example.com/callback";

/// Registers an application with a confidential client; (client id, secret).
async fn register(app: &TestApp, name: &str, tweak: impl FnOnce(&mut domain::oidc::input::ClientSettings)) -> (String, Option<String>) {
    let ctx = &app.services.ctx;
    let mut settings = domain::oidc::input::ClientSettings {
        redirect_uris: REDIRECT.into(),
        scopes: ["openid", "profile", "email", "offline_access"].map(String::from).to_vec(),
        ..domain::oidc::input::ClientSettings::defaults()
    };
    tweak(&mut settings);
    let input = domain::apps::AppInput { name: name.into(), access_url: "https://rp.example.com/".into(), ..Default::default() };
    let (_, issued) =
        domain::oidc::clients::create_app_with_client(&ctx.db, &ctx.keys, &input, &settings.check().unwrap(), app.clock_now())
            .await
            .unwrap();
    (issued.client.client_id, issued.secret.map(|s| s.to_string()))
}

/// The relying party's HTTP client: no redirects followed, `localhost` is the test server.
fn rp_http(app: &TestApp) -> openidconnect::reqwest::Client {
    openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .resolve("localhost", app.addr)
        .build()
        .unwrap()
}

type Rp = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

async fn relying_party(app: &TestApp, client_id: &str, secret: Option<&str>) -> Rp {
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).unwrap(), &rp_http(app)).await.expect("discovery");
    CoreClient::from_provider_metadata(metadata, ClientId::new(client_id.into()), secret.map(|s| ClientSecret::new(s.into())))
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

fn query_of(url: &str) -> std::collections::BTreeMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

/// Where a GET sends the browser next: its redirect, or the address of a
/// hand-off page (the last hop from Latchkey's own pages to the application).
async fn follow(browser: &reqwest::Client, url: &str) -> String {
    let r = browser.get(url).send().await.unwrap();
    if r.status() == StatusCode::SEE_OTHER {
        return location(&r);
    }
    let status = r.status();
    let html = r.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{html}");
    let start = html.find("url=").expect("a hand-off page") + 4;
    html[start..].split('"').next().unwrap().replace("&amp;", "&")
}

/// Follows the browser through Latchkey from the authorization URL until it
/// leaves for the relying party, allowing consent when asked; returns the
/// address at the relying party.
async fn browse(app: &TestApp, browser: &reqwest::Client, start: &str) -> String {
    let mut to = follow(browser, start).await;
    loop {
        if to.starts_with(REDIRECT) {
            return to;
        }
        if to.starts_with(app::routes::OIDC_RESUME) {
            to = follow(browser, &app.url(&to)).await;
            continue;
        }
        assert!(to.starts_with("/oauth2/continue?request="), "unexpected stop: {to}");
        let handle = query_of(&app.url(&to))["request"].clone();
        let (status, a) = call(app, browser, "/api/oauth2/authorization", &[("request", &handle)]).await;
        assert_eq!(status, StatusCode::OK, "{a}");
        let step = &a["step"];
        if let Some(go) = step.get("Go") {
            to = go.as_str().unwrap().to_owned();
            continue;
        }
        assert!(step.get("Consent").is_some(), "a proof was asked: {step}");
        let (status, r) = call(
            app,
            browser,
            "/api/oauth2/consent",
            &[
                ("request", &handle),
                ("allow", "yes"),
                ("scopes[profile]", "on"),
                ("scopes[email]", "on"),
                ("scopes[address]", "on"),
                ("scopes[offline_access]", "on"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{r}");
        to = r.as_str().unwrap().to_owned();
    }
}

/// The whole flow with an unmodified, certified relying-party library:
/// discovery, code with PKCE, consent, token, ID token verified against the
/// key set (signature, nonce, at_hash), userinfo, refresh, revocation.
async fn a_relying_party_signs_a_person_in_with_code_and_pkce(app: TestApp) {
    app.user("alice", false).await;
    let (client_id, secret) = register(&app, "Wiki", |_| {}).await;
    let rp = relying_party(&app, &client_id, secret.as_deref()).await;
    let http = rp_http(&app);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = rp
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let browser = app.signed_in("alice").await;
    let back = browse(&app, &browser, url.as_str()).await;
    let q = query_of(&back);
    assert_eq!(q["state"], *csrf.secret(), "state echoed");
    assert_eq!(q["iss"], app.base, "RFC 9207 iss");

    let tokens = rp
        .exchange_code(AuthorizationCode::new(q["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let now = app.clock_now();
    let verifier = rp.id_token_verifier().set_time_fn(move || now);
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token.claims(&verifier, &nonce).expect("ID token verifies");
    let alice = domain::users::find_by_login(&app.services.ctx.db, "alice").await.unwrap().unwrap();
    assert_eq!(claims.subject().as_str(), alice.id.to_string(), "sub is the account id, not the username");
    let expected =
        AccessTokenHash::from_token(tokens.access_token(), id_token.signing_alg().unwrap(), id_token.signing_key(&verifier).unwrap())
            .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected), "at_hash");
    assert_eq!(tokens.scopes().unwrap().iter().map(|s| s.as_str()).collect::<Vec<_>>(), ["openid", "profile", "email"]);

    let info: CoreUserInfoClaims = rp.user_info(tokens.access_token().clone(), None).unwrap().request_async(&http).await.expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("alice"));

    // Refresh rotates; the spent refresh token presented again revokes the grant.
    let refresh = tokens.refresh_token().unwrap().clone();
    let fresh = rp.exchange_refresh_token(&refresh).unwrap().request_async(&http).await.expect("refresh");
    assert_ne!(fresh.access_token().secret(), tokens.access_token().secret());
    // Threat: a stolen refresh token replayed after the client used it.
    assert!(rp.exchange_refresh_token(&refresh).unwrap().request_async(&http).await.is_err());
    let after: Result<CoreUserInfoClaims, _> = rp.user_info(fresh.access_token().clone(), None).unwrap().request_async(&http).await;
    assert!(after.is_err(), "the grant is revoked");
    assert!(rp.exchange_refresh_token(fresh.refresh_token().unwrap()).unwrap().request_async(&http).await.is_err());
}
it_test!(a_relying_party_signs_a_person_in_with_code_and_pkce);

/// Exchanges `code` as the confidential client `(id, secret)`: (status, answer).
async fn exchange(app: &TestApp, client: (&str, &str), code: &str) -> (StatusCode, serde_json::Value) {
    token_call(app, &[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", REDIRECT)], Some(client)).await
}

/// Raw HTTP for the cases a well-behaved library will not produce.
async fn token_call(app: &TestApp, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (StatusCode, serde_json::Value) {
    let mut rb = app.bare_client().post(app.url("/oauth2/token")).form(form);
    if let Some((id, secret)) = basic {
        rb = rb.basic_auth(id, Some(secret));
    }
    json(rb.send().await.unwrap()).await
}

fn authorize_url(app: &TestApp, client_id: &str, extra: &[(&str, &str)]) -> String {
    scoped_authorize_url(app, client_id, "openid email", extra)
}

fn scoped_authorize_url(app: &TestApp, client_id: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&app.url("/oauth2/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("scope", scope)
        .append_pair("state", "s-1");
    for (k, v) in extra {
        url.query_pairs_mut().append_pair(k, v);
    }
    url.to_string()
}

/// A code for alice through `client_id`, after consent.
async fn code_for(app: &TestApp, browser: &reqwest::Client, client_id: &str, extra: &[(&str, &str)]) -> String {
    query_of(&browse(app, browser, &authorize_url(app, client_id, extra)).await)["code"].clone()
}

async fn userinfo_status(app: &TestApp, token: &str) -> StatusCode {
    app.bare_client().get(app.url("/oauth2/userinfo")).bearer_auth(token).send().await.unwrap().status()
}

async fn the_authorization_and_token_endpoints_refuse_what_they_must(app: TestApp) {
    app.user("alice", false).await;
    let (wiki, secret) = register(&app, "Wiki", |_| {}).await;
    let secret = secret.unwrap();
    let (other, other_secret) = register(&app, "Other", |_| {}).await;
    let browser = app.signed_in("alice").await;

    // Threat: codes delivered to an attacker's address. An unregistered
    // redirect URI or an unknown client gets a page, never a redirect.
    let bad = authorize_url(&app, &wiki, &[]).replace("callback", "evil");
    let r = browser.get(&bad).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get(LOCATION).is_none());
    assert!(r.text().await.unwrap().contains("not registered"));
    let r = browser.get(authorize_url(&app, "nobody", &[])).send().await.unwrap();
    assert_eq!((r.status(), r.headers().get(LOCATION).is_none()), (StatusCode::BAD_REQUEST, true));
    // Other errors go back to the client, with state and iss.
    let r = browser.get(authorize_url(&app, &wiki, &[("request", "x")])).send().await.unwrap();
    let q = query_of(&location(&r));
    assert_eq!((q["error"].as_str(), q["state"].as_str(), q["iss"].as_str()), ("request_not_supported", "s-1", app.base.as_str()));
    let r = browser.get(authorize_url(&app, &wiki, &[("scope", "email")])).send().await.unwrap();
    assert_eq!(query_of(&location(&r))["error"], "invalid_request", "scope repeated");
    let r = browser
        .get(authorize_url(&app, &wiki, &[("code_challenge_method", "plain"), ("code_challenge", &"a".repeat(43))]))
        .send()
        .await
        .unwrap();
    assert_eq!(query_of(&location(&r))["error"], "invalid_request", "plain PKCE refused");

    // Threat: a leaked code replayed. The second exchange fails and revokes
    // the grant: the access token from the first stops working at once.
    let code = code_for(&app, &browser, &wiki, &[]).await;
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT)];
    let (status, first) = token_call(&app, &form, Some((&wiki, &secret))).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(userinfo_status(&app, access).await, StatusCode::OK);
    let (status, again) = token_call(&app, &form, Some((&wiki, &secret))).await;
    assert_eq!((status, again["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    assert_eq!(userinfo_status(&app, access).await, StatusCode::UNAUTHORIZED);

    // Threat: a client guessing or stealing another's secret or code.
    let code = code_for(&app, &browser, &wiki, &[]).await;
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT)];
    let (status, e) = token_call(&app, &form, Some((&wiki, "wrong"))).await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));
    let (status, e) = token_call(&app, &form, Some((&other, other_secret.as_deref().unwrap()))).await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "another client's code");
    let (status, _) = token_call(&app, &form, Some((&wiki, &secret))).await;
    assert_eq!(status, StatusCode::OK, "the code was not burnt by the other client's try");

    // Threat: PKCE downgrade, both ways.
    let verifier = "v".repeat(43);
    let code = code_for(&app, &browser, &wiki, &[("code_challenge", &pkce_s256(&verifier)), ("code_challenge_method", "S256")]).await;
    let (status, e) = exchange(&app, (&wiki, &secret), &code).await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "challenge without verifier");
    let code = code_for(&app, &browser, &wiki, &[]).await;
    let with_verifier =
        [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT), ("code_verifier", verifier.as_str())];
    let (status, e) = token_call(&app, &with_verifier, Some((&wiki, &secret))).await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "verifier without challenge");

    // Threat: a code intercepted and used later. Codes live 60 s.
    let code = code_for(&app, &browser, &wiki, &[]).await;
    app.advance(std::time::Duration::from_secs(61));
    let (status, e) = exchange(&app, (&wiki, &secret), &code).await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));

    // Bad input: wrong content type, repeated and missing parameters.
    let r = app
        .bare_client()
        .post(app.url("/oauth2/token"))
        .basic_auth(&wiki, Some(&secret))
        .body("{}")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let (status, e) = token_call(&app, &[("grant_type", "password"), ("grant_type", "x")], Some((&wiki, &secret))).await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
    let (status, e) = token_call(&app, &[("grant_type", "password")], Some((&wiki, &secret))).await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("unsupported_grant_type")));
}
it_test!(the_authorization_and_token_endpoints_refuse_what_they_must);

fn pkce_s256(verifier: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// prompt=none never shows a page: without a session the client hears
/// `login_required`, without consent `consent_required`.
async fn prompt_none_answers_without_asking(app: TestApp) {
    app.user("alice", false).await;
    let (wiki, _) = register(&app, "Wiki", |_| {}).await;
    let r = app.client().get(authorize_url(&app, &wiki, &[("prompt", "none")])).send().await.unwrap();
    assert_eq!(query_of(&location(&r))["error"], "login_required");
    let browser = app.signed_in("alice").await;
    let r = browser.get(authorize_url(&app, &wiki, &[("prompt", "none")])).send().await.unwrap();
    assert_eq!(query_of(&location(&r))["error"], "consent_required");
    code_for(&app, &browser, &wiki, &[]).await;
    let r = browser.get(authorize_url(&app, &wiki, &[("prompt", "none")])).send().await.unwrap();
    assert!(query_of(&location(&r)).contains_key("code"), "allowed before: a code at once");
    // Without a session, the sign-in page comes first and returns here.
    let r = app.client().get(authorize_url(&app, &wiki, &[("login_hint", "alice")])).send().await.unwrap();
    let to = location(&r);
    assert!(to.starts_with("/login?next=/oauth2/authorize/resume%3Frequest%3D") && to.ends_with("&login_hint=alice"), "{to}");
}
it_test!(prompt_none_answers_without_asking);

/// max_age: a sign-in older than allowed is proved again, and the new ID
/// token's auth_time is later.
async fn max_age_asks_for_a_fresh_proof(app: TestApp) {
    app.user("alice", false).await;
    let (wiki, secret) = register(&app, "Wiki", |_| {}).await;
    let secret = secret.unwrap();
    let browser = app.signed_in("alice").await;
    let signed_in_at = app.clock_now().timestamp();
    code_for(&app, &browser, &wiki, &[]).await;
    app.advance(std::time::Duration::from_secs(5));
    let r = browser.get(authorize_url(&app, &wiki, &[("max_age", "1")])).send().await.unwrap();
    let to = location(&r);
    let handle = query_of(&app.url(&to))["request"].clone();
    let (_, a) = call(&app, &browser, "/api/oauth2/authorization", &[("request", &handle)]).await;
    assert_eq!(a["step"]["Prove"]["again"], true, "{a}");
    let (status, _) = call(&app, &browser, "/api/reauth/confirm", &[("method", "password"), ("secret", TEST_PASSWORD)]).await;
    assert_eq!(status, StatusCode::OK);
    let code = query_of(&follow(&browser, &app.url(&app::routes::oidc_resume(&handle))).await)["code"].clone();
    let (status, t) = exchange(&app, (&wiki, &secret), &code).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let claims = domain::oidc::tokens::verify_own(&app.services.ctx, t["id_token"].as_str().unwrap(), Some(&wiki)).await.unwrap();
    assert_eq!(claims.auth_time, signed_in_at + 5);
}
it_test!(max_age_asks_for_a_fresh_proof);

/// Step-up: the application's own flow asks for an authenticator code; a
/// password-only session is asked for just that step.
async fn an_application_flow_asks_only_the_missing_step(app: TestApp) {
    app.user("alice", false).await;
    let (wiki, secret) = register(&app, "Wiki", |_| {}).await;
    let secret = secret.unwrap();
    let browser = app.signed_in("alice").await;
    crate::support::reauthenticate(&app, &browser).await;
    let totp = enrol_totp(&app, &browser).await;
    let ctx = &app.services.ctx;
    use proto::flow::Method::{Password, Totp};
    set_flow(&app, "wiki", &[&[Password], &[Totp]]).await;

    let r = browser.get(authorize_url(&app, &wiki, &[])).send().await.unwrap();
    let handle = query_of(&app.url(&location(&r)))["request"].clone();
    let (_, a) = call(&app, &browser, "/api/oauth2/authorization", &[("request", &handle)]).await;
    let prove = &a["step"]["Prove"];
    assert_eq!(
        (prove["again"].as_bool(), prove["options"]["totp"].as_bool(), prove["options"]["password"].as_bool()),
        (Some(false), Some(true), Some(false)),
        "{a}"
    );
    // Consent can't jump the missing step.
    let (_, skipped) = call(&app, &browser, "/api/oauth2/consent", &[("request", &handle), ("allow", "yes")]).await;
    assert!(skipped.as_str().unwrap().starts_with("/oauth2/continue"), "{skipped}");
    app.advance(STEP);
    let (status, _) = call(&app, &browser, "/api/reauth/confirm", &[("method", "totp"), ("secret", &code(&app, &totp, 0))]).await;
    assert_eq!(status, StatusCode::OK);
    let back = browse(&app, &browser, &app.url(&app::routes::oidc_resume(&handle))).await;
    let code = query_of(&back)["code"].clone();
    let (_, t) = exchange(&app, (&wiki, &secret), &code).await;
    let claims = domain::oidc::tokens::verify_own(ctx, t["id_token"].as_str().unwrap(), Some(&wiki)).await.unwrap();
    assert!(claims.amr.contains(&"otp".to_owned()) && claims.amr.contains(&"mfa".to_owned()), "{:?}", claims.amr);
    assert_eq!(claims.acr, "2");
}
it_test!(an_application_flow_asks_only_the_missing_step);

/// Saves `steps` (each step's options, asked every time) as the login flow
/// of the application `handle`, as an administrator.
async fn set_flow(app: &TestApp, handle: &str, steps: &[&[proto::flow::Method]]) {
    let ctx = &app.services.ctx;
    let steps = steps.iter().map(|o| proto::flow::Step { options: o.to_vec(), when: Default::default() }).collect();
    let admin = app.user("root", true).await;
    let base = domain::flows::current(&ctx.db, handle).await.unwrap().version;
    domain::flows::update(&ctx.db, handle, base, &proto::flow::Flow { steps }, admin.id, None, app.clock_now()).await.unwrap();
}

/// Threat: an application whose flow asks for a password alone used as a
/// way into My Account and the console, whose own flow also asks this
/// person for an authenticator code. Signing in through the application
/// runs its flow (no code asked) and signs in to it; My Account, the
/// console and their calls then ask for the missing step first.
async fn an_applications_own_flow_signs_in_and_my_account_asks_for_the_rest(app: TestApp) {
    app.user("alice", true).await;
    let (wiki, _) = register(&app, "Wiki", |s| s.trusted = true).await;
    let enrolling = app.signed_in("alice").await;
    reauthenticate(&app, &enrolling).await;
    let totp = enrol_totp(&app, &enrolling).await;
    use proto::flow::Method::{Passkey, Password};
    set_flow(&app, "wiki", &[&[Password, Passkey]]).await;

    // A browser with no session: the authorization sends it to sign in.
    let browser = app.client();
    let to = location(&browser.get(authorize_url(&app, &wiki, &[])).send().await.unwrap());
    let next = query_of(&app.url(&to))["next"].clone();
    let (status, went) =
        call(&app, &browser, "/api/auth/login", &[("identifier", "alice"), ("password", TEST_PASSWORD), ("next", &next)]).await;
    assert_eq!((status, went.as_str()), (StatusCode::OK, Some(next.as_str())), "no code asked: the application's flow");
    let back = browse(&app, &browser, &app.url(&next)).await;
    assert!(query_of(&back).contains_key("code"), "{back}");

    // The same session is not My Account's: its pages and calls ask for the code.
    let r = browser.get(app.url("/myaccount/security")).send().await.unwrap();
    assert_eq!(location(&r), "/login/step-up?next=/myaccount/security");
    for path in ["/api/account/me", "/api/admin/applications"] {
        let (status, body) = call(&app, &browser, path, &[]).await;
        assert_eq!((status, body.as_str()), (StatusCode::FORBIDDEN, Some("StepUpRequired")), "{path}");
    }
    let (_, step) = call(&app, &browser, "/api/auth/step_up", &[]).await;
    assert_eq!((step["Prove"]["totp"].as_bool(), step["Prove"]["password"].as_bool()), (Some(true), Some(false)), "{step}");
    // A password again is not the step asked for.
    reauthenticate(&app, &browser).await;
    assert_eq!(call(&app, &browser, "/api/account/me", &[]).await.0, StatusCode::FORBIDDEN);
    app.advance(STEP);
    let (status, _) = call(&app, &browser, "/api/reauth/confirm", &[("method", "totp"), ("secret", &code(&app, &totp, 0))]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(call(&app, &browser, "/api/auth/step_up", &[]).await.1, "Done");
    assert_eq!(call(&app, &browser, "/api/account/me", &[]).await.0, StatusCode::OK);
    assert_eq!(browser.get(app.url("/myaccount/security")).send().await.unwrap().status(), StatusCode::OK);
}
it_test!(an_applications_own_flow_signs_in_and_my_account_asks_for_the_rest);

/// Revoking access ends every token under the consent at once; the next
/// sign-in asks for consent again.
async fn revoking_a_consent_kills_its_tokens_at_once(app: TestApp) {
    app.user("alice", false).await;
    let (wiki, secret) = register(&app, "Wiki", |_| {}).await;
    let secret = secret.unwrap();
    let browser = app.signed_in("alice").await;
    let code = code_for(&app, &browser, &wiki, &[]).await;
    let (_, t) = exchange(&app, (&wiki, &secret), &code).await;
    let access = t["access_token"].as_str().unwrap();
    let introspect = |token: String| {
        let (app, wiki, secret) = (&app, wiki.clone(), secret.clone());
        async move {
            let r = app
                .bare_client()
                .post(app.url("/oauth2/introspect"))
                .basic_auth(&wiki, Some(&secret))
                .form(&[("token", token)])
                .send()
                .await
                .unwrap();
            json(r).await.1
        }
    };
    assert_eq!(introspect(access.to_owned()).await["active"], true);
    let (status, list) = call(&app, &browser, "/api/account/consents", &[]).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list[0]["app"]["name"], "Wiki");
    // Unticking a permission keeps the rest; the token loses that claim at once.
    let info = |token: String| {
        let app = &app;
        async move { json(app.bare_client().get(app.url("/oauth2/userinfo")).bearer_auth(token).send().await.unwrap()).await.1 }
    };
    assert_eq!(info(access.to_owned()).await["email"], "alice@example.com");
    let (status, body) = call(&app, &browser, "/api/account/consent_update", &[("app", "wiki"), ("scopes[profile]", "on")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let narrowed = info(access.to_owned()).await;
    assert!(narrowed.get("email").is_none() && narrowed["sub"].is_string(), "{narrowed}");
    let (status, body) = call(&app, &browser, "/api/account/consent_revoke", &[("app", "wiki")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(userinfo_status(&app, access).await, StatusCode::UNAUTHORIZED);
    assert_eq!(introspect(access.to_owned()).await["active"], false);
    let (status, e) = token_call(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"].as_str().unwrap())],
        Some((&wiki, &secret)),
    )
    .await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let r = browser.get(authorize_url(&app, &wiki, &[])).send().await.unwrap();
    assert!(location(&r).starts_with("/oauth2/continue"), "consent is asked again");
}
it_test!(revoking_a_consent_kills_its_tokens_at_once);

/// Bad input on every OpenID Connect endpoint (missing, repeated, oversize
/// and undecodable parameters, wrong content types, junk credentials): an
/// OAuth error or a 4xx page, never a 5xx, and never a redirect to an
/// address that is not registered.
async fn every_endpoint_answers_bad_input_with_a_client_error(app: TestApp) {
    app.user("alice", false).await;
    let (wiki, secret) = register(&app, "Wiki", |_| {}).await;
    let secret = secret.unwrap();
    let browser = app.signed_in("alice").await;
    let big = "x".repeat(70 * 1024);
    let long = "y".repeat(9000);
    // A new connection per request: a refused oversize body closes its
    // connection, which a pooled client could otherwise try to reuse.
    let c = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .resolve("localhost", app.addr)
        .build()
        .unwrap();
    let endpoints = [
        "/oauth2/authorize",
        "/oauth2/token",
        "/oauth2/userinfo",
        "/oauth2/revoke",
        "/oauth2/introspect",
        "/oauth2/logout",
        "/oauth2/logout/confirm",
        "/oauth2/authorize/resume",
    ];
    let queries = [
        String::new(),
        "client_id=&redirect_uri=".into(),
        format!("client_id={wiki}&client_id={wiki}"),
        format!("client_id={wiki}&redirect_uri={REDIRECT}&response_type=token&scope=openid"),
        format!("client_id={wiki}&redirect_uri={REDIRECT}&response_type=code&scope=openid&max_age=-1"),
        format!("client_id={wiki}&redirect_uri={REDIRECT}&response_type=code&scope=openid&claims=%7Bnot-json"),
        format!("client_id={wiki}&redirect_uri={REDIRECT}&response_type=code&scope=openid&prompt=none%20login"),
        format!("client_id={wiki}&redirect_uri={REDIRECT}&response_type=code&scope=openid&state={long}"),
        format!("client_id={wiki}&redirect_uri={REDIRECT}&response_type=code&scope=openid&id_token_hint=a.b.c"),
        "request=%FF%FE&client_id=%C0".into(),
        format!("id_token_hint={long}&post_logout_redirect_uri=https://evil.example/"),
        "token=abc&grant_type=authorization_code&code=zzz".into(),
    ];
    for path in endpoints {
        for q in &queries {
            for who in [&c, &browser] {
                let r = who.get(format!("{}?{q}", app.url(path))).send().await;
                check(path, "GET", &r, q);
                let r = who.post(app.url(path)).header("content-type", "application/x-www-form-urlencoded").body(q.clone()).send().await;
                check(path, "POST form", &r, q);
                let r = who
                    .post(app.url(path))
                    .basic_auth(&wiki, Some("wrong"))
                    .header("content-type", "application/json")
                    .body(q.clone())
                    .send()
                    .await;
                check(path, "POST json", &r, q);
            }
        }
        let r = c.post(app.url(path)).basic_auth(&wiki, Some(&secret)).form(&[("token", big.as_str())]).send().await;
        check(path, "POST oversize", &r, "");
        let r = c
            .post(app.url(path))
            .header("authorization", "Basic !!!")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(vec![0xffu8, 0xfe, b'=', 0x00])
            .send()
            .await;
        check(path, "POST junk", &r, "");
        let r = c.get(app.url(path)).header("authorization", "Bearer ~~ junk ~~").send().await;
        check(path, "GET junk bearer", &r, "");
    }

    /// A client error; or the connection closed while the body was still
    /// being sent (the server answered without reading a body it refused).
    fn check(path: &str, how: &str, r: &Result<reqwest::Response, reqwest::Error>, q: &str) {
        let r = match r {
            Ok(r) => r,
            Err(e) if e.is_request() && format!("{e:?}").contains("BodyWrite") => return,
            Err(e) => panic!("{how} {path}: {e:?}"),
        };
        let status = r.status();
        assert!(!status.is_server_error(), "{how} {path}?{}: {status}", q.chars().take(80).collect::<String>());
        if let Some(to) = r.headers().get(LOCATION).and_then(|v| v.to_str().ok()) {
            assert!(to.starts_with('/') || to.starts_with(REDIRECT), "{how} {path}: redirected to {to}");
        }
    }
}
it_test!(every_endpoint_answers_bad_input_with_a_client_error);

/// Threat: tokens outliving the sign-in they came from. Signing a session
/// out ends the refresh tokens issued from it, unless the person granted
/// offline access; and no client can introspect another's tokens.
async fn signing_a_session_out_ends_its_refresh_tokens_unless_offline(app: TestApp) {
    app.user("alice", false).await;
    let (wiki, secret) = register(&app, "Wiki", |_| {}).await;
    let secret = secret.unwrap();
    let (other, other_secret) = register(&app, "Other", |_| {}).await;
    let browser = app.signed_in("alice").await;
    let tokens = |scope: &'static str| {
        let (app, browser, wiki, secret) = (&app, &browser, wiki.clone(), secret.clone());
        async move {
            let code = query_of(&browse(app, browser, &scoped_authorize_url(app, &wiki, scope, &[])).await)["code"].clone();
            let (status, t) = exchange(app, (&wiki, &secret), &code).await;
            assert_eq!(status, StatusCode::OK, "{t}");
            t
        }
    };
    let online = tokens("openid email").await;
    let offline = tokens("openid email offline_access").await;
    assert!(offline["scope"].as_str().unwrap().contains("offline_access"));

    let r = app
        .bare_client()
        .post(app.url("/oauth2/introspect"))
        .basic_auth(&other, other_secret.as_deref())
        .form(&[("token", online["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(json(r).await.1["active"], false, "another client's token");

    let (status, _) = call(&app, &browser, "/api/auth/logout", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let refresh = |t: &serde_json::Value| {
        [("grant_type", "refresh_token".to_owned()), ("refresh_token", t["refresh_token"].as_str().unwrap().to_owned())]
    };
    let (status, e) =
        token_call(&app, &refresh(&online).iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(), Some((&wiki, &secret))).await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")), "{e}");
    let (status, t) =
        token_call(&app, &refresh(&offline).iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>(), Some((&wiki, &secret))).await;
    assert_eq!(status, StatusCode::OK, "offline access outlives the session: {t}");
}
it_test!(signing_a_session_out_ends_its_refresh_tokens_unless_offline);

/// RP-initiated logout: a hint naming this session signs it out at once and
/// returns to a registered address with `state`; otherwise the person
/// confirms on Latchkey's page. Threats: another site signing people out
/// (logout CSRF) and an unregistered address after logout (open redirect).
async fn rp_initiated_logout_needs_the_session_or_a_confirmation(app: TestApp) {
    app.user("alice", false).await;
    let after = "https://rp.example.com/bye";
    let (wiki, secret) = register(&app, "Wiki", |s| s.post_logout_redirect_uris = after.into()).await;
    let secret = secret.unwrap();
    let browser = app.signed_in("alice").await;
    let code = code_for(&app, &browser, &wiki, &[]).await;
    let (_, t) = exchange(&app, (&wiki, &secret), &code).await;
    let hint = t["id_token"].as_str().unwrap();

    let logout = |q: &[(&str, &str)]| {
        let mut url = url::Url::parse(&app.url("/oauth2/logout")).unwrap();
        for (k, v) in q {
            url.query_pairs_mut().append_pair(k, v);
        }
        url.to_string()
    };
    // An unregistered address is refused with a page, and nobody is signed out.
    let r = browser.get(logout(&[("id_token_hint", hint), ("post_logout_redirect_uri", "https://evil.example/")])).send().await.unwrap();
    assert_eq!((r.status(), r.headers().get(LOCATION).is_none()), (StatusCode::BAD_REQUEST, true));
    assert!(is_signed_in(&app, &browser).await);

    // Without a hint: a confirmation page; a forged confirmation is refused.
    let r = browser.get(logout(&[("client_id", &wiki), ("post_logout_redirect_uri", after), ("state", "z")])).send().await.unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("Sign out of Latchkey?"), "{html}");
    let confirm = html.split("name=\"confirm\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let then = format!("{after}?state=z");
    let r = browser.post(app.url("/oauth2/logout/confirm")).form(&[("confirm", "forged"), ("then", then.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = browser
        .post(app.url("/oauth2/logout/confirm"))
        .form(&[("confirm", confirm.as_str()), ("then", "https://evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "the token binds the return address");
    assert!(is_signed_in(&app, &browser).await);
    let r = browser
        .post(app.url("/oauth2/logout/confirm"))
        .form(&[("confirm", confirm.as_str()), ("then", then.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains(&then), "a hand-off page back to the application");
    assert!(!is_signed_in(&app, &browser).await);

    // With a hint naming the current session: signed out at once, back with state.
    let browser = app.signed_in("alice").await;
    let code = code_for(&app, &browser, &wiki, &[]).await;
    let (_, t) = exchange(&app, (&wiki, &secret), &code).await;
    let r = browser
        .get(logout(&[("id_token_hint", t["id_token"].as_str().unwrap()), ("post_logout_redirect_uri", after), ("state", "s-9")]))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), format!("{after}?state=s-9"));
    assert!(!is_signed_in(&app, &browser).await);
}
it_test!(rp_initiated_logout_needs_the_session_or_a_confirmation);

/// The `claims` parameter: a claim asked for by name (with only `openid`
/// as scope) comes from userinfo once its scope was allowed.
async fn a_claim_asked_for_by_name_is_released(app: TestApp) {
    app.user("alice", false).await;
    let (wiki, secret) = register(&app, "Wiki", |_| {}).await;
    let secret = secret.unwrap();
    let browser = app.signed_in("alice").await;
    let claims = r#"{"userinfo":{"email":{"essential":true}}}"#;
    let code = query_of(&browse(&app, &browser, &scoped_authorize_url(&app, &wiki, "openid", &[("claims", claims)])).await)["code"].clone();
    let (_, t) = exchange(&app, (&wiki, &secret), &code).await;
    let r = app.bare_client().get(app.url("/oauth2/userinfo")).bearer_auth(t["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(json(r).await.1["email"], "alice@example.com");
    // Threat: a client using another client's refresh token.
    let (other, other_secret) = register(&app, "Other", |_| {}).await;
    let (status, e) = token_call(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"].as_str().unwrap())],
        Some((&other, other_secret.as_deref().unwrap())),
    )
    .await;
    assert_eq!((status, e["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let (status, _) = token_call(
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"].as_str().unwrap())],
        Some((&wiki, &secret)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "not burnt by the other client's try");
}
it_test!(a_claim_asked_for_by_name_is_released);

/// The `address` scope releases the postal address of Personal info (as
/// `formatted`), and only what was allowed: no email without `email`.
async fn the_address_scope_releases_the_postal_address(app: TestApp) {
    let alice = app.user("alice", false).await;
    let (wiki, secret) = register(&app, "Wiki", |s| s.scopes = vec!["openid".into(), "address".into()]).await;
    let secret = secret.unwrap();
    let ctx = &app.services.ctx;
    let update = domain::profile::ProfileUpdate {
        email: alice.email.clone(),
        address: Some("1 Main Street\nSpringfield".into()),
        ..Default::default()
    };
    domain::profile::update(ctx, alice.id, update, false, &domain::ClientMeta::default(), app.clock_now()).await.unwrap();
    let browser = app.signed_in("alice").await;
    let url = scoped_authorize_url(&app, &wiki, "openid address email", &[]);
    let code = query_of(&browse(&app, &browser, &url).await)["code"].clone();
    let (_, t) = exchange(&app, (&wiki, &secret), &code).await;
    assert_eq!(t["scope"], "openid address", "email is not among the client's scopes");
    let r = app.bare_client().get(app.url("/oauth2/userinfo")).bearer_auth(t["access_token"].as_str().unwrap()).send().await.unwrap();
    let info = json(r).await.1;
    assert_eq!(info["address"]["formatted"], "1 Main Street\nSpringfield");
    assert!(info.get("email").is_none(), "{info}");
}
it_test!(the_address_scope_releases_the_postal_address);
