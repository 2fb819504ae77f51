//! Second factors and sensitive changes over HTTP: authenticator apps (TOTP),
//! backup codes, passkeys, re-authentication and the lock-out rule.
//!
//! TOTP codes are computed here as an authenticator app would, with totp-rs
//! from the otpauth URI the server hands out (never with Latchkey's own
//! helpers). Passkeys are played by webauthn-authenticator-rs's software
//! authenticator; it keeps no resident keys, so for username-less sign-in the
//! test plays the browser's part: it names the credential and returns the
//! user handle.

use crate::it_test;
use crate::support::*;
use reqwest::{Client, StatusCode};
use serde_json::Value;
use std::time::Duration;
use webauthn_authenticator_rs::WebauthnAuthenticator as _;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs_proto::{AllowCredentials, CreationChallengeResponse, Mediation, PublicKeyCredential, RequestChallengeResponse};

pub(crate) const STEP: Duration = Duration::from_secs(30);
const STALE: Duration = Duration::from_secs(6 * 60);

// ---- Small helpers ----------------------------------------------------------

pub(crate) async fn call(app: &TestApp, c: &Client, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    json(app.post(c, path, form).await).await
}

async fn overview(app: &TestApp, c: &Client) -> Value {
    let (status, body) = call(app, c, "/api/security/overview", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn activity(o: &Value) -> Vec<String> {
    o["activity"].as_array().unwrap().iter().map(|a| a["what"].as_str().unwrap().to_owned()).collect()
}

/// An authenticator app for `secret` (base32): RFC 6238, SHA-1, 6 digits,
/// 30-second steps, no skew.
pub(crate) fn authenticator(secret: &str) -> totp_rs::Totp {
    let secret = totp_rs::Secret::try_from_base32(secret).expect("base32 secret");
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(0)
        .with_secret(secret)
        .build()
        .expect("RFC 6238 parameters")
}

/// The code the app shows at the server's (manual) clock time, `offset` steps away.
pub(crate) fn code(app: &TestApp, secret: &str, offset: i64) -> String {
    let t = app.clock_now().timestamp() + offset * 30;
    authenticator(secret).generate(t as u64).to_string()
}

/// A 6-digit code that the server must refuse now (not valid one step either side).
fn wrong_code(app: &TestApp, secret: &str) -> String {
    let valid = [code(app, secret, -1), code(app, secret, 0), code(app, secret, 1)];
    ["000000", "111111", "222222", "333333"].into_iter().find(|c| !valid.iter().any(|v| v == c)).unwrap().to_owned()
}

/// The `secret` parameter of an `otpauth://` URI.
pub(crate) fn secret_of(otpauth_uri: &str) -> String {
    let uri = url::Url::parse(otpauth_uri).expect("otpauth URI");
    assert_eq!((uri.scheme(), uri.host_str()), ("otpauth", Some("totp")), "{otpauth_uri}");
    uri.query_pairs().find(|(k, _)| k == "secret").map(|(_, v)| v.into_owned()).expect("secret parameter")
}

/// Starts adding an authenticator app: the ceremony and the secret from the URI.
pub(crate) async fn totp_start(app: &TestApp, c: &Client) -> (String, String) {
    let (status, e) = call(app, c, "/api/security/totp_start", &[]).await;
    assert_eq!(status, StatusCode::OK, "{e}");
    let secret = secret_of(e["otpauth_uri"].as_str().unwrap());
    assert_eq!(secret, e["secret_base32"], "the key shown for typing matches the QR code's");
    (e["ceremony"].as_str().unwrap().to_owned(), secret)
}

/// Adds an authenticator app named "Phone" (the session's proof must be
/// recent); returns its secret.
pub(crate) async fn enrol_totp(app: &TestApp, c: &Client) -> String {
    let (ceremony, secret) = totp_start(app, c).await;
    let now = code(app, &secret, 0);
    let (status, body) = call(app, c, "/api/security/totp_finish", &[("ceremony", &ceremony), ("code", &now), ("name", "Phone")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    secret
}

/// Signs in with password then authenticator code, a step later than the
/// last code used (the clock moves on 30 s).
pub(crate) async fn sign_in_with_totp(app: &TestApp, name: &str, secret: &str) -> Client {
    let c = app.client();
    let (status, next) = json(app.login(&c, name, TEST_PASSWORD).await).await;
    assert_eq!((status, next.as_str()), (StatusCode::OK, Some("/login/verify")));
    app.advance(STEP);
    let now = code(app, secret, 0);
    let r = app.post(&c, "/api/auth/verify_sign_in", &[("method", "totp"), ("code", &now)]).await;
    assert!(session_cookie(&r).is_some());
    assert_eq!(json(r).await, (StatusCode::OK, Value::from("/myaccount")));
    c
}

fn origin(app: &TestApp) -> url::Url {
    url::Url::parse(&app.base).unwrap()
}

/// Registers a software passkey under `name` through the API (the session's
/// proof must be recent); returns it with its credential id.
async fn add_passkey(app: &TestApp, c: &Client, name: &str) -> (SoftPasskey, Vec<u8>) {
    let (status, ch) = call(app, c, "/api/security/passkey_start", &[]).await;
    assert_eq!(status, StatusCode::OK, "{ch}");
    let ccr: CreationChallengeResponse = serde_json::from_str(ch["options"].as_str().unwrap()).unwrap();
    let mut key = SoftPasskey::new(true);
    let reg = key.do_registration(origin(app), ccr).expect("the authenticator registers");
    let credential = serde_json::to_string(&reg).unwrap();
    let ceremony = ch["ceremony"].as_str().unwrap();
    let (status, body) =
        call(app, c, "/api/security/passkey_finish", &[("ceremony", ceremony), ("name", name), ("credential", &credential)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (key, reg.raw_id)
}

/// The browser's answer to `options` with `key`'s credential `cred_id`,
/// returning `user_handle` the way a discoverable credential would.
fn assertion(app: &TestApp, key: &mut SoftPasskey, options: &str, cred_id: &[u8], user_handle: Option<uuid::Uuid>) -> String {
    let mut rcr: RequestChallengeResponse = serde_json::from_str(options).unwrap();
    rcr.public_key.allow_credentials = vec![AllowCredentials { type_: "public-key".into(), id: cred_id.to_vec(), transports: None }];
    let mut answer: PublicKeyCredential = key.do_authentication(origin(app), rcr).expect("the authenticator signs");
    answer.response.user_handle = user_handle.map(|u| u.as_bytes().to_vec());
    serde_json::to_string(&answer).unwrap()
}

fn is_refusal(status: StatusCode, body: &Value) -> bool {
    status == StatusCode::CONFLICT && body["Refused"].as_str().is_some_and(|m| !m.is_empty())
}

// ---- Tests --------------------------------------------------------------------

/// Threat: a stolen password. With an authenticator app enrolled, the
/// password alone no longer opens a session; the app's secret is shown once
/// and never again.
async fn password_and_authenticator_app_sign_in(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    // A fresh sign-in is a recent proof: no re-authentication needed yet.
    let o = overview(&app, &c).await;
    let recent = o["reauth"]["recent_for_secs"].as_i64().unwrap();
    assert!((290..=300).contains(&recent), "{o}");
    assert!(o["totp"].as_array().unwrap().is_empty());
    let (ceremony, secret) = totp_start(&app, &c).await;
    assert_eq!(totp_rs::Secret::try_from_base32(&secret).unwrap().as_ref().len(), 20, "160-bit secret");

    // A wrong code saves nothing.
    let wrong = wrong_code(&app, &secret);
    let (status, body) = call(&app, &c, "/api/security/totp_finish", &[("ceremony", &ceremony), ("code", &wrong), ("name", "Phone")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(field_message(&body, "code").is_some(), "{body}");
    assert!(overview(&app, &c).await["totp"].as_array().unwrap().is_empty());
    // The right one (the enrolment stays open after a typo) saves it under its name.
    let right = code(&app, &secret, 0);
    let (status, body) =
        call(&app, &c, "/api/security/totp_finish", &[("ceremony", &ceremony), ("code", &right), ("name", " Phone ")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let o = overview(&app, &c).await;
    assert_eq!(o["totp"].as_array().unwrap().len(), 1, "{o}");
    assert_eq!(o["totp"][0]["name"], "Phone");
    assert_eq!(o["reauth"]["totp"], true);
    assert!(activity(&o).contains(&"Authenticator app added (Phone)".to_owned()), "{o}");
    assert!(!o.to_string().contains(&secret), "the secret is never shown again");
    // Stored sealed, not as typed into the app.
    use sea_orm::EntityTrait as _;
    let rows = entity::prelude::TotpCredentials::find().all(&app.services.ctx.db).await.unwrap();
    assert!(!rows[0].secret_enc.expose().contains(&secret));

    // Sign out; the password now leads to the second step only.
    assert_eq!(app.post(&c, "/api/auth/logout", &[]).await.status(), StatusCode::OK);
    let c = app.client();
    let r = app.login(&c, "alice", TEST_PASSWORD).await;
    assert!(session_cookie(&r).is_none(), "no session after the password alone");
    assert!(set_cookie_value(&r, "latchkey_signin").is_some_and(|t| !t.is_empty()));
    assert_eq!(json(r).await, (StatusCode::OK, Value::from("/login/verify")));
    assert!(!is_signed_in(&app, &c).await);
    let (status, pending) = call(&app, &c, "/api/auth/pending_sign_in", &[]).await;
    assert_eq!(status, StatusCode::OK, "{pending}");
    assert_eq!(pending["options"], serde_json::json!(["totp"]), "no backup codes yet, so none offered");
    assert_eq!((pending["step"].as_u64(), pending["steps"].as_u64()), (Some(2), Some(2)));
    assert_eq!(pending["failures_left"], 5);

    let wrong = wrong_code(&app, &secret);
    let (status, body) = call(&app, &c, "/api/auth/verify_sign_in", &[("method", "totp"), ("code", &wrong)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(field_message(&body, "code").is_some_and(|m| m.contains("4 tries left")), "{body}");
    assert!(!is_signed_in(&app, &c).await);

    app.advance(STEP);
    let right = code(&app, &secret, 0);
    let r = app.post(&c, "/api/auth/verify_sign_in", &[("method", "totp"), ("code", &right)]).await;
    assert!(session_cookie(&r).is_some(), "a session cookie");
    assert_eq!(set_cookie_value(&r, "latchkey_signin").as_deref(), Some(""), "the partial sign-in cookie is cleared");
    assert_eq!(json(r).await, (StatusCode::OK, Value::from("/myaccount")));
    let (status, me) = call(&app, &c, "/api/account/me", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "alice");
}
it_test!(password_and_authenticator_app_sign_in);

/// Threat: a code read over someone's shoulder (or phished) and replayed
/// within its 30 seconds. Each code opens one sign-in.
async fn a_totp_code_works_once(app: TestApp) {
    app.user("alice", false).await;
    let secret = enrol_totp(&app, &app.signed_in("alice").await).await;
    let enrolment_code = code(&app, &secret, 0);
    let first = sign_in_with_totp(&app, "alice", &secret).await;
    assert!(is_signed_in(&app, &first).await);

    let used = code(&app, &secret, 0);
    let c = app.client();
    assert_eq!(json(app.login(&c, "alice", TEST_PASSWORD).await).await.1, "/login/verify");
    for replay in [&used, &enrolment_code] {
        let r = app.post(&c, "/api/auth/verify_sign_in", &[("method", "totp"), ("code", replay)]).await;
        assert!(session_cookie(&r).is_none());
        let (status, body) = json(r).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(field_message(&body, "code").is_some_and(|m| m.contains("not right")), "{body}");
    }
    assert!(!is_signed_in(&app, &c).await);
}
it_test!(a_totp_code_works_once);

/// Threat: guessing a 6-digit code. Five wrong answers end the half-finished
/// sign-in on the server, and the person sees the failures afterwards.
async fn five_wrong_codes_end_the_sign_in(app: TestApp) {
    app.user("alice", false).await;
    let secret = enrol_totp(&app, &app.signed_in("alice").await).await;
    app.advance(STEP);
    let c = app.client();
    let r = app.login(&c, "alice", TEST_PASSWORD).await;
    let partial = set_cookie_value(&r, "latchkey_signin").unwrap();
    let wrong = wrong_code(&app, &secret);
    for left in (1..=4).rev() {
        let (status, body) = call(&app, &c, "/api/auth/verify_sign_in", &[("method", "totp"), ("code", &wrong)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = field_message(&body, "code").unwrap();
        assert!(message.contains(&format!("{left} {}", if left == 1 { "try" } else { "tries" })), "{message}");
        assert_eq!(call(&app, &c, "/api/auth/pending_sign_in", &[]).await.1["failures_left"], left);
    }
    let r = app.post(&c, "/api/auth/verify_sign_in", &[("method", "totp"), ("code", &wrong)]).await;
    assert_eq!(set_cookie_value(&r, "latchkey_signin").as_deref(), Some(""), "the browser forgets it");
    let (status, body) = json(r).await;
    assert!(is_refusal(status, &body), "{status} {body}");
    assert!(body["Refused"].as_str().unwrap().contains("Too many wrong answers"), "{body}");
    let (status, body) = call(&app, &c, "/api/auth/pending_sign_in", &[]).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, Value::from("SignInExpired")));

    // The server forgot it too: the old cookie, even with the right code, is dead.
    let right = code(&app, &secret, 0);
    for (path, form) in
        [("/api/auth/pending_sign_in", vec![]), ("/api/auth/verify_sign_in", vec![("method", "totp"), ("code", right.as_str())])]
    {
        let r = app
            .bare_client()
            .post(app.url(path))
            .header("Origin", &app.base)
            .header("Cookie", format!("latchkey_signin={partial}"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(session_cookie(&r).is_none());
        assert_eq!(json(r).await, (StatusCode::UNAUTHORIZED, Value::from("SignInExpired")), "{path}");
    }

    let c = sign_in_with_totp(&app, "alice", &secret).await;
    let what = activity(&overview(&app, &c).await);
    assert_eq!(what.iter().filter(|w| *w == "Wrong second-factor code or passkey").count(), 5, "{what:?}");
    assert!(what.contains(&"Sign-in stopped (too many wrong answers)".to_owned()), "{what:?}");
}
it_test!(five_wrong_codes_end_the_sign_in);

/// Threat: one backup code used twice at once, from two browsers half-way
/// through signing in. Exactly one wins.
async fn a_backup_code_signs_in_once_even_under_a_race(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    let (status, codes) = call(&app, &c, "/api/security/backup_codes_generate", &[]).await;
    assert_eq!(status, StatusCode::OK, "{codes}");
    let codes: Vec<String> = serde_json::from_value(codes).unwrap();
    assert_eq!(codes.len(), 10);
    for code in &codes {
        let (a, b) = code.split_once('-').unwrap_or_else(|| panic!("{code}"));
        assert!(
            [a, b].iter().all(|h| h.len() == 4 && h.bytes().all(|x| x.is_ascii_digit() || x.is_ascii_lowercase())),
            "xxxx-xxxx: {code}"
        );
    }
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 10);
    let o = overview(&app, &c).await;
    assert_eq!((o["backup_codes"]["total"].as_u64(), o["backup_codes"]["remaining"].as_u64()), (Some(10), Some(10)));
    assert!(!o.to_string().contains(&codes[0]), "codes are shown once");

    let (one, two) = (app.client(), app.client());
    for b in [&one, &two] {
        assert_eq!(json(app.login(b, "alice", TEST_PASSWORD).await).await.1, "/login/verify");
        assert_eq!(call(&app, b, "/api/auth/pending_sign_in", &[]).await.1["options"], serde_json::json!(["backup_code"]));
    }
    let form = [("method", "backup_code"), ("code", codes[0].as_str())];
    let (r1, r2) = tokio::join!(app.post(&one, "/api/auth/verify_sign_in", &form), app.post(&two, "/api/auth/verify_sign_in", &form));
    let sessions = [session_cookie(&r1).is_some(), session_cookie(&r2).is_some()];
    let mut answers = [json(r1).await, json(r2).await];
    answers.sort_by_key(|(s, _)| *s);
    assert_eq!(answers[0], (StatusCode::OK, Value::from("/myaccount")), "{answers:?}");
    assert_eq!(answers[1].0, StatusCode::BAD_REQUEST, "{answers:?}");
    assert!(field_message(&answers[1].1, "code").is_some_and(|m| m.contains("already used")), "{answers:?}");
    assert_eq!(sessions.iter().filter(|s| **s).count(), 1);
    let signed_in = [is_signed_in(&app, &one).await, is_signed_in(&app, &two).await];
    assert_eq!(signed_in, sessions);

    let winner = if signed_in[0] { &one } else { &two };
    let o = overview(&app, winner).await;
    assert_eq!(o["backup_codes"]["remaining"], 9, "{o}");
    assert!(activity(&o).contains(&"Backup code used".to_owned()));
}
it_test!(a_backup_code_signs_in_once_even_under_a_race);

/// Threat: a captured passkey answer replayed, and one person's passkey
/// presented as another's. Ceremonies are one-shot; a passkey counts only for
/// its owner.
async fn passkeys_register_sign_in_and_refuse_replay_and_other_peoples_keys(app: TestApp) {
    let alice = app.user("alice", false).await;
    app.user("bob", false).await;
    let c = app.signed_in("alice").await;
    let (mut key, cred_id) = add_passkey(&app, &c, "Laptop").await;
    let o = overview(&app, &c).await;
    assert_eq!(o["passkeys"].as_array().unwrap().len(), 1, "{o}");
    assert_eq!(o["passkeys"][0]["name"], "Laptop");
    assert_eq!(o["passkeys"][0]["last_used"], "Never");
    assert_eq!(o["reauth"]["passkey"], true);
    assert!(activity(&o).contains(&"Passkey added (Laptop)".to_owned()));
    let bob = app.signed_in("bob").await;
    let (mut bob_key, bob_cred_id) = add_passkey(&app, &bob, "Bob's key").await;
    assert_eq!(app.post(&c, "/api/auth/logout", &[]).await.status(), StatusCode::OK);

    // Username-less sign-in.
    let c = app.client();
    let (status, ch) = call(&app, &c, "/api/auth/passkey_start", &[("conditional", "false")]).await;
    assert_eq!(status, StatusCode::OK, "{ch}");
    let ceremony = ch["ceremony"].as_str().unwrap().to_owned();
    let options = ch["options"].as_str().unwrap();
    let rcr: RequestChallengeResponse = serde_json::from_str(options).unwrap();
    assert!(rcr.public_key.allow_credentials.is_empty(), "no username, so no credential list");
    assert!(rcr.mediation.is_none(), "a modal request (the button), not autofill");
    let (_, autofill) = call(&app, &c, "/api/auth/passkey_start", &[("conditional", "true")]).await;
    let autofill: RequestChallengeResponse = serde_json::from_str(autofill["options"].as_str().unwrap()).unwrap();
    assert!(matches!(autofill.mediation, Some(Mediation::Conditional)));
    let answer = assertion(&app, &mut key, options, &cred_id, Some(alice.id));
    let form = [("ceremony", ceremony.as_str()), ("credential", answer.as_str())];
    let r = app.post(&c, "/api/auth/passkey_finish", &form).await;
    assert!(session_cookie(&r).is_some());
    assert_eq!(json(r).await, (StatusCode::OK, Value::from("/myaccount")));
    let (_, me) = call(&app, &c, "/api/account/me", &[]).await;
    assert_eq!(me["username"], "alice");
    assert_ne!(overview(&app, &c).await["passkeys"][0]["last_used"], "Never");

    // The same answer again, from another browser: refused, no session.
    let thief = app.client();
    let r = app.post(&thief, "/api/auth/passkey_finish", &form).await;
    assert!(session_cookie(&r).is_none());
    let (status, body) = json(r).await;
    assert!(is_refusal(status, &body), "{status} {body}");
    assert!(!is_signed_in(&app, &thief).await);

    // Bob's passkey offered to confirm it's alice: refused, and the proof stays stale.
    app.advance(STALE);
    assert_eq!(call(&app, &c, "/api/security/totp_start", &[]).await, (StatusCode::FORBIDDEN, Value::from("ReauthRequired")));
    let (status, ch) = call(&app, &c, "/api/reauth/passkey_start", &[]).await;
    assert_eq!(status, StatusCode::OK, "{ch}");
    let answer = assertion(&app, &mut bob_key, ch["options"].as_str().unwrap(), &bob_cred_id, None);
    let (status, body) =
        call(&app, &c, "/api/reauth/passkey_finish", &[("ceremony", ch["ceremony"].as_str().unwrap()), ("credential", &answer)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(field_message(&body, "passkey").is_some(), "{body}");
    assert_eq!(call(&app, &c, "/api/security/totp_start", &[]).await.0, StatusCode::FORBIDDEN);
    assert!(activity(&overview(&app, &c).await).contains(&"Failed to confirm it's you".to_owned()));
    // Bob's key offered as alice's in a username-less sign-in (claiming her user handle) fails too.
    let thief = app.client();
    let (_, ch) = call(&app, &thief, "/api/auth/passkey_start", &[("conditional", "false")]).await;
    let forged = assertion(&app, &mut bob_key, ch["options"].as_str().unwrap(), &bob_cred_id, Some(alice.id));
    let r = app.post(&thief, "/api/auth/passkey_finish", &[("ceremony", ch["ceremony"].as_str().unwrap()), ("credential", &forged)]).await;
    assert!(session_cookie(&r).is_none());
    let (status, body) = json(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(field_message(&body, "passkey").is_some(), "{body}");

    // Her own passkey confirms it.
    let (_, ch) = call(&app, &c, "/api/reauth/passkey_start", &[]).await;
    let answer = assertion(&app, &mut key, ch["options"].as_str().unwrap(), &cred_id, None);
    let (status, body) =
        call(&app, &c, "/api/reauth/passkey_finish", &[("ceremony", ch["ceremony"].as_str().unwrap()), ("credential", &answer)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(call(&app, &c, "/api/security/totp_start", &[]).await.0, StatusCode::OK);
}
it_test!(passkeys_register_sign_in_and_refuse_replay_and_other_peoples_keys);

/// Threat: a borrowed, still-signed-in browser. Sensitive changes need a
/// proof of identity from the last five minutes, in this very session.
async fn sensitive_changes_need_a_recent_proof_in_this_session(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    let other = app.signed_in("alice").await;
    let secret = enrol_totp(&app, &c).await;
    let totp_id = overview(&app, &c).await["totp"][0]["id"].as_str().unwrap().to_owned();
    app.advance(STALE);

    let o = overview(&app, &c).await;
    assert_eq!(o["reauth"]["recent_for_secs"], 0, "{o}");
    assert_eq!((o["reauth"]["password"].as_bool(), o["reauth"]["totp"].as_bool()), (Some(true), Some(true)));
    let nil = uuid::Uuid::nil().to_string();
    let sensitive: [(&str, Vec<(&str, &str)>); 5] = [
        ("/api/security/totp_start", vec![]),
        ("/api/security/backup_codes_generate", vec![]),
        ("/api/security/passkey_start", vec![]),
        ("/api/security/totp_remove", vec![("id", totp_id.as_str())]),
        ("/api/security/passkey_remove", vec![("id", nil.as_str())]),
    ];
    for (path, form) in &sensitive {
        assert_eq!(call(&app, &c, path, form).await, (StatusCode::FORBIDDEN, Value::from("ReauthRequired")), "{path}");
    }
    assert_eq!(overview(&app, &c).await["totp"].as_array().unwrap().len(), 1, "nothing removed");

    let (status, body) = call(&app, &c, "/api/reauth/confirm", &[("method", "password"), ("secret", "not the password")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(field_message(&body, "password").is_some(), "{body}");
    assert_eq!(call(&app, &c, "/api/security/totp_start", &[]).await.0, StatusCode::FORBIDDEN, "a wrong password proves nothing");

    let (status, body) = call(&app, &c, "/api/reauth/confirm", &[("method", "password"), ("secret", TEST_PASSWORD)]).await;
    assert_eq!((status, body), (StatusCode::OK, Value::Null));
    assert_eq!(call(&app, &c, "/api/security/totp_start", &[]).await.0, StatusCode::OK);
    assert!(overview(&app, &c).await["reauth"]["recent_for_secs"].as_i64().unwrap() > 290);
    let what = activity(&overview(&app, &c).await);
    assert!(what.contains(&"Failed to confirm it's you".to_owned()) && what.contains(&"Confirmed it's you".to_owned()), "{what:?}");

    // The other session of the same person, signed in as long ago, is still stale.
    assert_eq!(overview(&app, &other).await["reauth"]["recent_for_secs"], 0);
    for (path, form) in &sensitive {
        assert_eq!(call(&app, &other, path, form).await, (StatusCode::FORBIDDEN, Value::from("ReauthRequired")), "{path}");
    }
    // An authenticator code confirms it too, once.
    let now = code(&app, &secret, 0);
    let (status, body) = call(&app, &other, "/api/reauth/confirm", &[("method", "totp"), ("secret", &now)]).await;
    assert_eq!((status, body), (StatusCode::OK, Value::Null));
    assert_eq!(call(&app, &other, "/api/security/backup_codes_generate", &[]).await.0, StatusCode::OK);
    app.advance(STALE);
    let (status, body) = call(&app, &c, "/api/reauth/confirm", &[("method", "totp"), ("secret", &now)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a spent code: {body}");
    assert!(field_message(&body, "code").is_some_and(|m| m.contains("already used")), "{body}");
}
it_test!(sensitive_changes_need_a_recent_proof_in_this_session);

/// Threat: locking oneself out. Removing a method is refused when nothing
/// would be left to sign in with; an optional second factor can go.
async fn removing_the_last_way_in_is_refused(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    enrol_totp(&app, &c).await;
    let id = overview(&app, &c).await["totp"][0]["id"].as_str().unwrap().to_owned();
    let (status, body) = call(&app, &c, "/api/security/totp_remove", &[("id", &id)]).await;
    assert_eq!((status, body), (StatusCode::OK, Value::Null));
    let o = overview(&app, &c).await;
    assert!(o["totp"].as_array().unwrap().is_empty());
    assert!(activity(&o).contains(&"Authenticator app removed (Phone)".to_owned()));
    // The password alone signs in again.
    assert_eq!(json(app.login(&app.client(), "alice", TEST_PASSWORD).await).await, (StatusCode::OK, Value::from("/myaccount")));

    // Bob signs in with a passkey only: no password.
    let bob = app.user("bob", false).await;
    let b = app.signed_in("bob").await;
    add_passkey(&app, &b, "Only key").await;
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
    let deleted = entity::prelude::PasswordCredentials::delete_many()
        .filter(entity::password_credentials::Column::UserId.eq(bob.id))
        .exec(&app.services.ctx.db)
        .await
        .unwrap();
    assert_eq!(deleted.rows_affected, 1);
    let o = overview(&app, &b).await;
    assert_eq!((o["reauth"]["password"].as_bool(), o["reauth"]["passkey"].as_bool()), (Some(false), Some(true)));
    let key_id = o["passkeys"][0]["id"].as_str().unwrap().to_owned();
    let (status, body) = call(&app, &b, "/api/security/passkey_remove", &[("id", &key_id)]).await;
    assert!(is_refusal(status, &body), "{status} {body}");
    let message = body["Refused"].as_str().unwrap();
    assert!(message.contains("last passkey") && message.contains("no password or passkey left"), "{message}");
    assert_eq!(overview(&app, &b).await["passkeys"].as_array().unwrap().len(), 1, "still there");
}
it_test!(removing_the_last_way_in_is_refused);

/// Threat: malformed or stale input probing for crashes. Each gets a clear
/// 4xx answer naming the problem; none a 500.
async fn bad_input_gets_clear_answers(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;

    // Authenticator app enrolment.
    let (ceremony, secret) = totp_start(&app, &c).await;
    let right = code(&app, &secret, 0);
    let long = "x".repeat(65);
    for (code, name, field) in [
        ("12ab56", "Phone", "code"),
        ("1234567", "Phone", "code"),
        ("", "Phone", "code"),
        (right.as_str(), "", "name"),
        (right.as_str(), "   ", "name"),
        (right.as_str(), long.as_str(), "name"),
        (right.as_str(), "two\nlines", "name"),
    ] {
        let (status, body) = call(&app, &c, "/api/security/totp_finish", &[("ceremony", &ceremony), ("code", code), ("name", name)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{code:?} {name:?}: {body}");
        assert!(field_message(&body, field).is_some_and(|m| !m.is_empty()), "{code:?} {name:?}: {body}");
    }
    assert!(overview(&app, &c).await["totp"].as_array().unwrap().is_empty(), "nothing saved");
    let (status, body) = call(&app, &c, "/api/security/totp_finish", &[("ceremony", "nope"), ("code", &right), ("name", "Phone")]).await;
    assert!(is_refusal(status, &body), "{status} {body}");
    // A missing field is a bad request, not a crash.
    let (status, _) = call(&app, &c, "/api/security/totp_finish", &[("ceremony", &ceremony)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Passkey registration.
    let (_, ch) = call(&app, &c, "/api/security/passkey_start", &[]).await;
    let live = ch["ceremony"].as_str().unwrap().to_owned();
    for (ceremony, credential) in [(live.as_str(), "not json"), (live.as_str(), "{}"), ("not-a-uuid", "{}")] {
        let (status, body) =
            call(&app, &c, "/api/security/passkey_finish", &[("ceremony", ceremony), ("name", "Key"), ("credential", credential)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{ceremony} {credential}: {body}");
        assert!(field_message(&body, "passkey").is_some(), "{body}");
    }
    let huge = "x".repeat(20 * 1024);
    let (status, body) =
        call(&app, &c, "/api/security/passkey_finish", &[("ceremony", &live), ("name", "Key"), ("credential", &huge)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // An expired ceremony, finished with a fresh proof, is refused.
    let ccr: CreationChallengeResponse = serde_json::from_str(ch["options"].as_str().unwrap()).unwrap();
    app.advance(STALE);
    reauthenticate(&app, &c).await;
    let reg = SoftPasskey::new(true).do_registration(origin(&app), ccr).unwrap();
    let credential = serde_json::to_string(&reg).unwrap();
    let (status, body) =
        call(&app, &c, "/api/security/passkey_finish", &[("ceremony", &live), ("name", "Key"), ("credential", &credential)]).await;
    assert!(is_refusal(status, &body), "{status} {body}");
    assert!(overview(&app, &c).await["passkeys"].as_array().unwrap().is_empty());

    // Another person's ceremonies are not this person's to finish.
    app.user("bob", false).await;
    let bob = app.signed_in("bob").await;
    let (bobs_totp, bobs_secret) = totp_start(&app, &bob).await;
    let bobs_code = code(&app, &bobs_secret, 0);
    let (status, body) =
        call(&app, &c, "/api/security/totp_finish", &[("ceremony", &bobs_totp), ("code", &bobs_code), ("name", "Stolen")]).await;
    assert!(is_refusal(status, &body), "{status} {body}");
    let (_, ch) = call(&app, &bob, "/api/security/passkey_start", &[]).await;
    let ccr: CreationChallengeResponse = serde_json::from_str(ch["options"].as_str().unwrap()).unwrap();
    let reg = serde_json::to_string(&SoftPasskey::new(true).do_registration(origin(&app), ccr).unwrap()).unwrap();
    let (status, body) = call(
        &app,
        &c,
        "/api/security/passkey_finish",
        &[("ceremony", ch["ceremony"].as_str().unwrap()), ("name", "Stolen"), ("credential", &reg)],
    )
    .await;
    assert!(is_refusal(status, &body), "{status} {body}");
    let o = overview(&app, &c).await;
    assert!(o["totp"].as_array().unwrap().is_empty() && o["passkeys"].as_array().unwrap().is_empty(), "{o}");

    // Second sign-in step.
    let secret = enrol_totp(&app, &c).await;
    let s = app.client();
    assert_eq!(json(app.login(&s, "alice", TEST_PASSWORD).await).await.1, "/login/verify");
    let now = code(&app, &secret, 1);
    for (method, code, field) in
        [("sms", now.as_str(), "method"), ("", now.as_str(), "method"), ("totp", "", "code"), ("totp", "12ab56", "code")]
    {
        let (status, body) = call(&app, &s, "/api/auth/verify_sign_in", &[("method", method), ("code", code)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {code}: {body}");
        assert!(field_message(&body, field).is_some(), "{method} {code}: {body}");
    }
    let too_long = "1".repeat(65);
    let (status, body) = call(&app, &s, "/api/auth/verify_sign_in", &[("method", "totp"), ("code", &too_long)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(call(&app, &s, "/api/auth/pending_sign_in", &[]).await.1["failures_left"], 5, "malformed input is not a guess");
    let nobody = app.client();
    let (status, body) = call(&app, &nobody, "/api/auth/verify_sign_in", &[("method", "totp"), ("code", &now)]).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, Value::from("SignInExpired")));
    let (status, _) = call(&app, &nobody, "/api/auth/passkey_step_start", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Unknown ids.
    for (path, id) in [("/api/security/totp_remove", "nope"), ("/api/security/passkey_remove", "nope")] {
        assert_eq!(call(&app, &c, path, &[("id", id)]).await, (StatusCode::NOT_FOUND, Value::from("NotFound")), "{path}");
    }
    let nil = uuid::Uuid::nil().to_string();
    assert_eq!(call(&app, &c, "/api/security/totp_remove", &[("id", &nil)]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&app, &c, "/api/security/totp_rename", &[("id", "nope"), ("name", "X")]).await.0, StatusCode::NOT_FOUND);

    // Reauthentication input.
    for (method, secret, field) in [("password", "", "password"), ("totp", "", "code"), ("totp", "12", "code"), ("sms", "123456", "method")]
    {
        let (status, body) = call(&app, &c, "/api/reauth/confirm", &[("method", method), ("secret", secret)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {secret}: {body}");
        assert!(field_message(&body, field).is_some(), "{method} {secret}: {body}");
    }
}
it_test!(bad_input_gets_clear_answers);

// ---- Without JavaScript -----------------------------------------------------

/// A plain form post (JavaScript off) from `page`: the answer is a redirect,
/// whose target this returns (relative to the server).
pub(crate) async fn plain_post(app: &TestApp, c: &Client, path: &str, page: &str, form: &[(&str, &str)]) -> String {
    let r = c.post(app.url(path)).header("Accept", "text/html").header("Referer", app.url(page)).form(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND, "{path}: a plain form post is answered with a redirect");
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    to.strip_prefix(&app.base).map(str::to_owned).unwrap_or(to)
}

/// The page at `path` as the server renders it (what a browser without
/// JavaScript shows).
pub(crate) async fn page_html(app: &TestApp, c: &Client, path: &str) -> String {
    let r = app.get(c, path.split('#').next().unwrap_or_default()).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.text().await.unwrap()
}

/// The text right after the element marked `data-testid="{id}"` opens.
fn text_of(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!(r#"data-testid="{id}""#))?;
    let after = &html[start..];
    let text = &after[after.find('>')? + 1..];
    Some(text.chars().take_while(|c| *c != '<').collect())
}

/// Backup codes (`xxxx-xxxx`) shown in a page.
fn codes_in(html: &str) -> Vec<String> {
    html.split("<code>")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .filter(|c| domain::backup_codes::normalize(c).is_some())
        .map(str::to_owned)
        .collect()
}

/// Threat: a person without JavaScript locked out of every sensitive change
/// (or pushed to type a password into a GET). A stale proof brings the page
/// back with "confirm it's you" as a plain form; a wrong password is said so
/// there; the right one goes back to the page, where the change then works.
async fn without_javascript_a_stale_proof_is_confirmed_with_a_plain_form(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    app.advance(STALE);
    const SECURITY: &str = "/myaccount/security";
    let back = plain_post(&app, &c, "/api/security/backup_codes_generate", SECURITY, &[]).await;
    assert!(back.starts_with("/myaccount/security?") && back.contains("__err="), "{back}");
    let page = page_html(&app, &c, &back).await;
    assert!(page.contains(r#"action="/api/reauth/confirm""#) && page.contains(r#"data-testid="reauth""#), "the panel is a plain form");
    assert_eq!(domain::backup_codes::status(&app.services.ctx.db, user_id(&app, "alice").await).await.unwrap().total, 0, "nothing changed");

    let again = plain_post(&app, &c, "/api/reauth/confirm", &back, &[("method", "password"), ("secret", "not the password")]).await;
    let page = page_html(&app, &c, &again).await;
    assert!(page.contains(r#"data-testid="reauth""#), "asked again: {again}");
    assert!(page.contains("not right"), "saying why");

    let confirmed = plain_post(&app, &c, "/api/reauth/confirm", &again, &[("method", "password"), ("secret", TEST_PASSWORD)]).await;
    assert_eq!(confirmed, "/myaccount/security?reauth=ok", "back to the page, without the old error");
    assert!(page_html(&app, &c, &confirmed).await.contains("confirmed. Now make your change again."));
    let shown = plain_post(&app, &c, "/api/security/backup_codes_generate", SECURITY, &[]).await;
    assert!(shown.starts_with("/myaccount/security?codes="), "{shown}");

    // A Referer from elsewhere never steers the redirect off this site.
    app.advance(STALE);
    let r = c
        .post(app.url("/api/reauth/confirm"))
        .header("Accept", "text/html")
        .header("Referer", "https://evil.example/myaccount")
        .form(&[("method", "password"), ("secret", TEST_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/myaccount");
}
it_test!(without_javascript_a_stale_proof_is_confirmed_with_a_plain_form);

async fn user_id(app: &TestApp, name: &str) -> uuid::Uuid {
    domain::users::find_by_login(&app.services.ctx.db, name).await.unwrap().unwrap().id
}

/// Threat: new backup codes seen by another person, or again later (the
/// address replayed from history on a shared computer). Without JavaScript
/// they are shown on the page the form leads to, to their person only, until
/// "I saved them".
async fn without_javascript_backup_codes_are_shown_once(app: TestApp) {
    app.user("alice", false).await;
    app.user("mallory", false).await;
    let c = app.signed_in("alice").await;
    let shown = plain_post(&app, &c, "/api/security/backup_codes_generate", "/myaccount/security", &[]).await;
    assert!(shown.starts_with("/myaccount/security?codes="), "{shown}");
    let mallory = app.signed_in("mallory").await;
    assert!(codes_in(&page_html(&app, &mallory, &shown).await).is_empty(), "another person sees nothing");
    let codes = codes_in(&page_html(&app, &c, &shown).await);
    assert_eq!(codes.len(), 10, "{codes:?}");
    let back = plain_post(&app, &c, "/api/security/backup_codes_saved", &shown, &[]).await;
    assert_eq!(back, "/myaccount/security");
    let again = page_html(&app, &c, &shown).await;
    assert!(codes_in(&again).is_empty() && again.contains("shown only until you say you saved them"), "a second look shows nothing");
    let alice = user_id(&app, "alice").await;
    assert!(domain::backup_codes::consume(&app.services.ctx, alice, &codes[0], app.clock_now()).await.unwrap(), "they are in force");
}
it_test!(without_javascript_backup_codes_are_shown_once);

/// Checks adding an authenticator app without JavaScript: the form leads to
/// the page showing the key; a wrong code comes back there, saying so, with
/// the same key; the right one saves it.
/// Threat: a wrong code saving an app the person cannot use (locking them out).
async fn without_javascript_an_authenticator_app_is_added_with_plain_forms(app: TestApp) {
    app.user("alice", false).await;
    let c = app.signed_in("alice").await;
    let enrolling = plain_post(&app, &c, "/api/security/totp_start", "/myaccount/security", &[]).await;
    assert!(enrolling.starts_with("/myaccount/security?totp="), "{enrolling}");
    let ceremony = enrolling.trim_start_matches("/myaccount/security?totp=").split('#').next().unwrap().to_owned();
    let page = page_html(&app, &c, &enrolling).await;
    let secret = text_of(&page, "totp-secret").expect("the key is shown");
    assert_eq!(secret_of(&text_of(&page, "totp-uri").unwrap().replace("&amp;", "&")), secret);
    let wrong = wrong_code(&app, &secret);
    let back =
        plain_post(&app, &c, "/api/security/totp_finish", &enrolling, &[("ceremony", &ceremony), ("code", &wrong), ("name", "Phone")])
            .await;
    let page = page_html(&app, &c, &back).await;
    assert!(page.contains("That code is not right"), "saying why");
    assert_eq!(text_of(&page, "totp-secret").as_deref(), Some(secret.as_str()), "the same enrolment, to try again");
    let alice = user_id(&app, "alice").await;
    assert!(domain::totp::list(&app.services.ctx.db, alice).await.unwrap().is_empty(), "nothing saved yet");

    let right = code(&app, &secret, 0);
    let done =
        plain_post(&app, &c, "/api/security/totp_finish", &back, &[("ceremony", &ceremony), ("code", &right), ("name", "Phone")]).await;
    assert_eq!(done, "/myaccount/security?done=totp_added");
    assert!(page_html(&app, &c, &done).await.contains("Authenticator app added."));
    assert_eq!(domain::totp::list(&app.services.ctx.db, alice).await.unwrap().len(), 1);
}
it_test!(without_javascript_an_authenticator_app_is_added_with_plain_forms);
