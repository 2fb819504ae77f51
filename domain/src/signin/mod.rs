//! Sign-in driven by the login flow. The first step identifies the person
//! (password or passkey); when the flow asks for more, a half-finished
//! sign-in is kept on the server (bound to the browser by a random cookie
//! token, of which only the hash is stored) for a few minutes. It grants
//! nothing: a session starts only when the last applicable step is done.
//! Wrong second-factor codes are counted; after [`MAX_FAILURES`] the
//! half-finished sign-in is dropped and the person starts again.

use chrono::{DateTime, Utc};
use entity::partial_logins;
use entity::prelude::*;
use proto::flow::{self, Flow, Method, Next};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;
use webauthn_rs::prelude::{PublicKeyCredential, RequestChallengeResponse};

use crate::auth::{self, SignedIn};
use crate::budget::{self, Who};
use crate::clock::after;
use crate::crypto::{hash_token, random_token};
use crate::events::{self, Kind};
use crate::{ClientMeta, Ctx, Error, Result, backup_codes, factors, flows, passkeys, totp, users};

mod first;
mod steps;

pub use first::*;
pub use steps::*;

/// Wrong answers allowed in one half-finished sign-in.
pub const MAX_FAILURES: i32 = 5;

/// Where a sign-in stands after a step.
#[derive(Debug)]
#[allow(clippy::large_enum_variant, reason = "one value per sign-in request, moved once; a Box would only add an allocation")]
pub enum Outcome {
    /// Every step is done: a new session.
    Complete(SignedIn),
    /// More is needed; `token` goes into the browser's partial sign-in cookie.
    Continue { token: String, next: NextStep },
}

/// The step a person must do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NextStep {
    /// Zero-based step of the flow.
    pub index: usize,
    pub steps: usize,
    /// Options this person can use, in the flow's order.
    pub options: Vec<Method>,
    pub display_name: String,
    pub expires_at: DateTime<Utc>,
    pub failures_left: i32,
}

/// The browser signing in: its known-device cookie, if any (see
/// [`crate::devices`]), and the application it is signing in to.
#[derive(Clone, Debug, Default)]
pub struct Browser {
    pub known_cookie: Option<String>,
    /// The handle of the application whose login flow applies (an
    /// OpenID Connect sign-in); `None` for My Account.
    pub app: Option<String>,
}

/// A proof offered for a step after the first.
pub enum Proof<'a> {
    Password(&'a str),
    Totp(&'a str),
    BackupCode(&'a str),
    Passkey { ceremony: Uuid, credential: &'a PublicKeyCredential },
}

impl Proof<'_> {
    pub fn method(&self) -> Method {
        match self {
            Proof::Password(_) => Method::Password,
            Proof::Totp(_) => Method::Totp,
            Proof::BackupCode(_) => Method::BackupCode,
            Proof::Passkey { .. } => Method::Passkey,
        }
    }
}

/// The `amr` of a sign-in that used `done` (RFC 8176), with `mfa` when more
/// than one kind of factor was used.
pub fn amr(done: &[Method]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for m in done {
        for v in m.amr() {
            if !out.contains(v) {
                out.push(v);
            }
        }
    }
    let strong_passkey = done.contains(&Method::Passkey);
    if (done.len() > 1 || strong_passkey) && !out.contains(&"mfa") {
        out.push("mfa");
    }
    out
}

async fn flow_at(db: &impl ConnectionTrait, app: &str, version: i32) -> Result<Flow> {
    let current = flows::current(db, app).await?;
    if current.version == version {
        return Ok(current.flow);
    }
    // A sign-in that began before an admin saved a new flow finishes under
    // the flow it began with.
    Ok(flows::history(db, app).await?.into_iter().find(|f| f.version == version).map(|f| f.flow).unwrap_or(current.flow))
}

/// Every step is done: a new session, which records whether it also met
/// My Account's flow (a sign-in for My Account always does).
#[allow(clippy::too_many_arguments)]
async fn complete(
    ctx: &Ctx,
    user: &entity::users::Model,
    app: &str,
    subject: &proto::flow::Subject,
    done: &[Method],
    meta: &ClientMeta,
    previous_token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let my_account = app == flows::MY_ACCOUNT || flows::my_account_next(&ctx.db, user, subject, done).await? == Next::Complete;
    let values = amr(done);
    let signed = auth::start_session(ctx, user, &values, my_account, meta, previous_token, now).await?;
    events::record(&ctx.db, user.id, Kind::SignedIn, Some(&values.join(" ")), None, meta, now).await?;
    Ok(Outcome::Complete(signed))
}

/// After the first step: a session, or a half-finished sign-in.
#[allow(clippy::too_many_arguments)]
async fn advance(
    ctx: &Ctx,
    user: &entity::users::Model,
    first: Method,
    // What the account has enrolled, when the first step already read it.
    enrolled: Option<std::collections::BTreeSet<Method>>,
    browser: Browser,
    meta: &ClientMeta,
    previous_token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Outcome> {
    let app = browser.app.as_deref().unwrap_or(flows::MY_ACCOUNT);
    let mut stored = flows::current(&ctx.db, app).await?;
    stored.flow = flows::for_user(stored.flow, user);
    let new_device = !crate::devices::is_known(&ctx.db, browser.known_cookie.as_deref(), user.id, now).await?;
    let subject = match enrolled {
        Some(enrolled) => proto::flow::Subject { enrolled, is_admin: user.is_admin, new_device },
        None => factors::subject(&ctx.db, user, new_device).await?,
    };
    let done = vec![first];
    match flow::next(&stored.flow, &subject, &done) {
        Next::Complete => complete(ctx, user, app, &subject, &done, meta, previous_token, now).await,
        Next::Blocked { index } => {
            events::record(
                &ctx.db,
                user.id,
                Kind::SignInFailed,
                None,
                Some(format!("step {} has no method you enrolled", index + 1)),
                meta,
                now,
            )
            .await?;
            Err(blocked(index))
        }
        Next::Step { index, options } => {
            let token = random_token();
            let expires_at = after(now, ctx.policy.partial_login_ttl);
            partial_logins::ActiveModel {
                id: Set(Uuid::now_v7()),
                token_hash: Set(hash_token(&token).into()),
                user_id: Set(user.id),
                app: Set(app.to_owned()),
                flow_version: Set(stored.version),
                methods: Set(serde_json::to_string(&done).map_err(|e| Error::Internal(e.to_string()))?),
                failures: Set(0),
                new_device: Set(new_device),
                created_at: Set(now),
                expires_at: Set(expires_at),
            }
            .insert(&ctx.db)
            .await?;
            let next = NextStep {
                index,
                steps: stored.flow.steps.len(),
                options,
                display_name: user.display_name.clone().unwrap_or_else(|| user.username.clone()),
                expires_at,
                failures_left: MAX_FAILURES,
            };
            Ok(Outcome::Continue { token, next })
        }
    }
}

fn blocked(index: usize) -> Error {
    Error::Refused(format!(
        "Sign-in step {} asks for a method you have not set up, so you can't finish signing in. Ask an administrator for help.",
        index + 1
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, PASSWORD, TestDb};
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    use webauthn_authenticator_rs::softpasskey::SoftPasskey;

    fn meta() -> ClientMeta {
        ClientMeta { ip: Some("192.0.2.1".into()), user_agent: Some("test".into()) }
    }

    fn origin() -> webauthn_rs::prelude::Url {
        webauthn_rs::prelude::Url::parse(testing::ORIGIN).unwrap()
    }

    async fn enrol_totp(ctx: &Ctx, user: &entity::users::Model, now: DateTime<Utc>) -> Vec<u8> {
        let e = totp::start_enrolment(ctx, user, now).await.unwrap();
        let secret = totp_rs::Secret::try_from_base32(&e.secret_base32).unwrap().as_bytes().to_vec();
        totp::finish_enrolment(ctx, user.id, e.ceremony, &totp::code_at(&secret, now).unwrap(), "Phone", &meta(), now).await.unwrap();
        secret
    }

    fn pending_token(o: Outcome) -> (String, NextStep) {
        match o {
            Outcome::Continue { token, next } => (token, next),
            Outcome::Complete(_) => panic!("expected a second step"),
        }
    }

    async fn session_amr(ctx: &Ctx, o: Outcome, now: DateTime<Utc>) -> Vec<String> {
        let Outcome::Complete(s) = o else { panic!("expected a session") };
        crate::sessions::resolve(&ctx.db, &s.session.token, &ctx.policy, now).await.unwrap().unwrap().amr
    }

    async fn password_alone_signs_in_without_second_factors(t: TestDb) {
        let ctx = t.ctx();
        testing::user(&ctx, "alice", false).await;
        let now = testing::t0();
        let o = with_password(&ctx, "alice", PASSWORD, Browser::default(), &meta(), None, now).await.unwrap();
        assert_eq!(session_amr(&ctx, o, now).await, ["pwd"]);
    }
    crate::db_test!(password_alone_signs_in_without_second_factors);

    /// The SQL statements a successful password sign-in runs: a budget, so
    /// that none is added unnoticed (each costs a round trip, on PostgreSQL
    /// over the network, while argon2 already holds the CPU). Six: the
    /// account with its password hash and enrolled methods; the guessing
    /// budget reserved; the login flow; the session; the activity entry;
    /// the budget given back. The list is printed when the count changes.
    async fn a_password_sign_in_runs_a_bounded_number_of_statements(t: TestDb) {
        const BUDGET: usize = 6;
        let mut ctx = t.ctx();
        testing::user(&ctx, "alice", false).await;
        let statements = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let log = statements.clone();
        ctx.db.set_metric_callback(move |info| log.lock().unwrap().push(info.statement.sql.clone()));
        let o = with_password(&ctx, "alice", PASSWORD, Browser::default(), &meta(), None, testing::t0()).await.unwrap();
        assert!(matches!(o, Outcome::Complete(_)));
        let run = statements.lock().unwrap().clone();
        let listing =
            run.iter().enumerate().map(|(i, s)| format!("{:2} {}", i + 1, s.chars().take(110).collect::<String>())).collect::<Vec<_>>();
        assert_eq!(run.len(), BUDGET, "statements of one password sign-in:\n{}", listing.join("\n"));
    }
    crate::db_test!(a_password_sign_in_runs_a_bounded_number_of_statements);

    async fn enrolled_totp_is_asked_for_and_completes_with_mfa(t: TestDb) {
        let ctx = t.ctx();
        let user = testing::user(&ctx, "alice", false).await;
        let now = testing::t0();
        let secret = enrol_totp(&ctx, &user, now).await;
        let later = now + chrono::Duration::seconds(60);
        let (token, next) = pending_token(with_password(&ctx, "alice", PASSWORD, Browser::default(), &meta(), None, later).await.unwrap());
        assert_eq!((next.index, next.options.clone()), (1, vec![Method::Totp]), "backup codes not offered: none generated");
        // The half-finished sign-in grants nothing: it is not a session.
        assert!(crate::sessions::resolve(&ctx.db, &token, &ctx.policy, later).await.unwrap().is_none());
        assert_eq!(pending(&ctx, &token, later).await.unwrap(), next);
        let code = totp::code_at(&secret, later).unwrap();
        let o = verify(&ctx, &token, Proof::Totp(&code), &meta(), None, later).await.unwrap();
        assert_eq!(session_amr(&ctx, o, later).await, ["pwd", "otp", "mfa"]);
        // The token is spent, and so is the code (replay in a new sign-in).
        assert!(matches!(pending(&ctx, &token, later).await, Err(Error::SignInExpired)));
        let (token2, _) = pending_token(with_password(&ctx, "alice", PASSWORD, Browser::default(), &meta(), None, later).await.unwrap());
        assert!(matches!(verify(&ctx, &token2, Proof::Totp(&code), &meta(), None, later).await, Err(Error::Invalid { field: "code", .. })));
    }
    crate::db_test!(enrolled_totp_is_asked_for_and_completes_with_mfa);

    /// alice with an authenticator app, her sign-in waiting for its code:
    /// the account, the half-finished sign-in, a right and a wrong code, and when.
    async fn waiting_for_totp(ctx: &Ctx) -> (entity::users::Model, String, String, &'static str, DateTime<Utc>) {
        let user = testing::user(ctx, "alice", false).await;
        let now = testing::t0();
        let secret = enrol_totp(ctx, &user, now).await;
        let later = now + chrono::Duration::seconds(90);
        let (token, _) = pending_token(with_password(ctx, "alice", PASSWORD, Browser::default(), &meta(), None, later).await.unwrap());
        let right = totp::code_at(&secret, later).unwrap();
        let wrong = if right == "000000" { "111111" } else { "000000" };
        (user, token, right, wrong, later)
    }

    /// Threat: guessing a 6-digit code. Five wrong answers drop the
    /// half-finished sign-in, so the password must be given again.
    async fn five_wrong_codes_drop_the_half_finished_sign_in(t: TestDb) {
        let ctx = t.ctx();
        let (user, token, right, wrong, later) = waiting_for_totp(&ctx).await;
        for left in (1..5).rev() {
            match verify(&ctx, &token, Proof::Totp(wrong), &meta(), None, later).await {
                Err(Error::Invalid { field: "code", message }) => assert!(message.contains(&format!("{left} tr")), "{message}"),
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(verify(&ctx, &token, Proof::Totp(wrong), &meta(), None, later).await, Err(Error::TooManyFailures)));
        assert!(matches!(verify(&ctx, &token, Proof::Totp(&right), &meta(), None, later).await, Err(Error::SignInExpired)));
        let kinds: Vec<String> = events::recent(&ctx.db, user.id, 20).await.unwrap().into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds.iter().filter(|k| *k == "second_factor_failed").count(), 5);
        assert!(kinds.contains(&"sign_in_abandoned".to_string()));
    }
    crate::db_test!(five_wrong_codes_drop_the_half_finished_sign_in);

    /// Threat: parallel guesses at one half-finished sign-in. Each try is
    /// reserved before its code is checked, so twenty wrong codes at once
    /// still spend at most five tries, then the sign-in is gone.
    async fn parallel_wrong_codes_spend_at_most_five_tries(t: TestDb) {
        let ctx = t.ctx();
        let (user, token, right, wrong, later) = waiting_for_totp(&ctx).await;
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (ctx, token) = (ctx.clone(), token.clone());
            tasks.push(tokio::spawn(async move { verify(&ctx, &token, Proof::Totp(wrong), &meta(), None, later).await }));
        }
        let mut checked = 0;
        for t in tasks {
            match t.await.unwrap() {
                Err(Error::Invalid { .. } | Error::TooManyFailures) => checked += 1,
                Err(Error::SignInExpired | Error::RateLimited { .. }) => {}
                other => panic!("{other:?}"),
            }
        }
        let failed = events::recent(&ctx.db, user.id, 50).await.unwrap().into_iter().filter(|e| e.kind == "second_factor_failed").count();
        assert_eq!(failed, 5, "codes checked: {checked}");
        assert!(matches!(verify(&ctx, &token, Proof::Totp(&right), &meta(), None, later).await, Err(Error::SignInExpired)));
    }
    crate::db_test!(parallel_wrong_codes_spend_at_most_five_tries);

    /// Threat: spreading guesses over the ways to prove who one is. A wrong
    /// password at sign-in (by username or by email), at re-authentication
    /// and when changing it all draw on the account's one budget.
    async fn every_proof_draws_on_one_account_budget(t: TestDb) {
        let ctx = t.ctx();
        testing::user(&ctx, "alice", false).await;
        let now = testing::t0();
        let session = testing::signed_in(&ctx, "alice", now).await;
        for i in 0..crate::budget::SLOW_AFTER {
            let r = match i % 4 {
                0 => with_password(&ctx, "alice", "wrong", Browser::default(), &meta(), None, now).await.map(|_| ()),
                1 => with_password(&ctx, "ALICE@example.com", "wrong", Browser::default(), &meta(), None, now).await.map(|_| ()),
                2 => crate::reauth::prove(&ctx, &session, crate::reauth::Proof::Password("wrong"), &meta(), now).await,
                _ => crate::passwords::change(
                    &ctx,
                    &session,
                    crate::passwords::Change { current: "wrong", new: "ample tuba cinder orbit", sign_out_others: false },
                    &meta(),
                    now,
                )
                .await
                .map(|_| ()),
            };
            assert!(matches!(r, Err(Error::InvalidCredentials | Error::Invalid { .. })), "{i}: {r:?}");
        }
        // Now every way is slowed down, the right password included.
        assert!(matches!(
            with_password(&ctx, "alice", PASSWORD, Browser::default(), &meta(), None, now).await,
            Err(Error::RateLimited { .. })
        ));
        assert!(matches!(
            crate::reauth::prove(&ctx, &session, crate::reauth::Proof::Password(PASSWORD), &meta(), now).await,
            Err(Error::RateLimited { .. })
        ));
        // A minute later the right password gets through, and the count starts again.
        let later = now + chrono::Duration::seconds(60);
        assert!(matches!(with_password(&ctx, "alice", PASSWORD, Browser::default(), &meta(), None, later).await, Ok(Outcome::Complete(_))));
        assert!(with_password(&ctx, "alice", "wrong", Browser::default(), &meta(), None, later).await.is_err());
        assert!(matches!(with_password(&ctx, "alice", PASSWORD, Browser::default(), &meta(), None, later).await, Ok(Outcome::Complete(_))));
    }
    crate::db_test!(every_proof_draws_on_one_account_budget);

    async fn half_finished_sign_in_expires(t: TestDb) {
        let ctx = t.ctx();
        let user = testing::user(&ctx, "alice", false).await;
        let now = testing::t0();
        let secret = enrol_totp(&ctx, &user, now).await;
        let (token, next) = pending_token(with_password(&ctx, "alice", PASSWORD, Browser::default(), &meta(), None, now).await.unwrap());
        assert_eq!(next.expires_at, now + chrono::Duration::minutes(5));
        let late = now + chrono::Duration::minutes(5);
        let code = totp::code_at(&secret, late).unwrap();
        assert!(matches!(verify(&ctx, &token, Proof::Totp(&code), &meta(), None, late).await, Err(Error::SignInExpired)));
        assert_eq!(purge_expired(&ctx.db, late).await.unwrap(), 1);
    }
    crate::db_test!(half_finished_sign_in_expires);

    async fn a_backup_code_completes_the_second_step_once(t: TestDb) {
        let ctx = t.ctx();
        let user = testing::user(&ctx, "alice", false).await;
        let now = testing::t0();
        enrol_totp(&ctx, &user, now).await;
        let codes = backup_codes::regenerate(&ctx, user.id, &meta(), now).await.unwrap();
        let (token, next) = pending_token(with_password(&ctx, "alice", PASSWORD, Browser::default(), &meta(), None, now).await.unwrap());
        assert_eq!(next.options, vec![Method::Totp, Method::BackupCode]);
        assert!(matches!(
            verify(&ctx, &token, Proof::BackupCode("not a code"), &meta(), None, now).await,
            Err(Error::Invalid { field: "code", .. })
        ));
        let o = verify(&ctx, &token, Proof::BackupCode(&codes[0]), &meta(), None, now).await.unwrap();
        assert_eq!(session_amr(&ctx, o, now).await, ["pwd", "otp", "mfa"]);
        let (token, _) = pending_token(with_password(&ctx, "alice", PASSWORD, Browser::default(), &meta(), None, now).await.unwrap());
        assert!(verify(&ctx, &token, Proof::BackupCode(&codes[0]), &meta(), None, now).await.is_err(), "spent");
        assert_eq!(backup_codes::status(&ctx.db, user.id).await.unwrap().remaining, 9);
    }
    crate::db_test!(a_backup_code_completes_the_second_step_once);

    /// Registers a software passkey for `user`; returns the authenticator.
    async fn soft_passkey(ctx: &Ctx, user: &entity::users::Model, now: DateTime<Utc>) -> SoftPasskey {
        let mut key = SoftPasskey::new(true);
        let (ceremony, ccr) = passkeys::start_registration(ctx, user, "Alice", now).await.unwrap();
        let reg = key.do_registration(origin(), ccr).unwrap();
        passkeys::finish_registration(ctx, user.id, ceremony, "Laptop", &reg, &meta(), now).await.unwrap();
        key
    }

    /// The software authenticator has no resident keys: the test plays the
    /// browser's part by naming the credential and returning the user handle.
    fn discoverable_assertion(key: &mut SoftPasskey, mut rcr: RequestChallengeResponse, cred: &passkeys_row::Model) -> PublicKeyCredential {
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&cred.credential_id).unwrap();
        rcr.public_key.allow_credentials =
            vec![webauthn_rs_proto::AllowCredentials { type_: "public-key".into(), id: raw, transports: None }];
        let mut assertion = key.do_authentication(origin(), rcr).unwrap();
        assertion.response.user_handle = Some(cred.user_id.as_bytes().to_vec());
        assertion
    }
    use entity::passkeys as passkeys_row;

    async fn a_passkey_alone_signs_in_even_with_totp_enrolled(t: TestDb) {
        let ctx = t.ctx();
        let user = testing::user(&ctx, "alice", false).await;
        let now = testing::t0();
        enrol_totp(&ctx, &user, now).await;
        let mut key = soft_passkey(&ctx, &user, now).await;
        let row = passkeys::list(&ctx.db, user.id).await.unwrap().remove(0);
        let (ceremony, rcr) = start_passkey(&ctx, false, &meta(), now).await.unwrap();
        let assertion = discoverable_assertion(&mut key, rcr, &row);
        let o = with_passkey(&ctx, ceremony, &assertion, Browser::default(), &meta(), None, now).await.unwrap();
        assert_eq!(session_amr(&ctx, o, now).await, ["hwk", "user", "mfa"]);
        assert_eq!(passkeys::list(&ctx.db, user.id).await.unwrap()[0].last_used_at, Some(now));
        // Threat: replay of a captured assertion. The ceremony is one-shot.
        assert!(matches!(
            with_passkey(&ctx, ceremony, &assertion, Browser::default(), &meta(), None, now).await,
            Err(Error::CeremonyExpired)
        ));
    }
    crate::db_test!(a_passkey_alone_signs_in_even_with_totp_enrolled);

    /// Threat: a credential of one person presented as another's.
    async fn another_persons_passkey_is_refused_as_a_second_step(t: TestDb) {
        let ctx = t.ctx();
        let alice = testing::user(&ctx, "alice", false).await;
        let bob = testing::user(&ctx, "bob", false).await;
        let now = testing::t0();
        // Alice's flow asks for a second step because she has TOTP; she
        // also has a passkey. Bob's passkey must not satisfy her step.
        enrol_totp(&ctx, &alice, now).await;
        let _alice_key = soft_passkey(&ctx, &alice, now).await;
        let mut bob_key = soft_passkey(&ctx, &bob, now).await;
        let bob_row = passkeys::list(&ctx.db, bob.id).await.unwrap().remove(0);
        // A flow where step 2 offers a passkey.
        let mut flow = Flow::default_my_account();
        flow.steps[1].options.push(Method::Passkey);
        flows::save(&ctx.db, flows::MY_ACCOUNT, &flow, None, now).await.unwrap();
        let (token, next) = pending_token(with_password(&ctx, "alice", PASSWORD, Browser::default(), &meta(), None, now).await.unwrap());
        assert!(next.options.contains(&Method::Passkey));
        let (ceremony, rcr) = start_passkey_step(&ctx, &token, now).await.unwrap();
        let assertion = discoverable_assertion(&mut bob_key, rcr, &bob_row);
        let r = verify(&ctx, &token, Proof::Passkey { ceremony, credential: &assertion }, &meta(), None, now).await;
        assert!(matches!(r, Err(Error::Invalid { field: "passkey", .. })), "{r:?}");
        assert_eq!(pending(&ctx, &token, now).await.unwrap().failures_left, MAX_FAILURES - 1);
    }
    crate::db_test!(another_persons_passkey_is_refused_as_a_second_step);

    /// Saves the shipped flow with step 2 (authenticator app or backup code)
    /// asked only from browsers not seen before.
    async fn ask_the_app_only_on_new_devices(ctx: &Ctx, now: DateTime<Utc>) {
        let mut flow = Flow::default_my_account();
        flow.steps[1].when = proto::flow::Condition::IfNewDevice;
        flows::save(&ctx.db, flows::MY_ACCOUNT, &flow, None, now).await.unwrap();
    }

    async fn a_new_device_rule_asks_only_unknown_browsers(t: TestDb) {
        let ctx = t.ctx();
        let user = testing::user(&ctx, "alice", false).await;
        let now = testing::t0();
        let secret = enrol_totp(&ctx, &user, now).await;
        ask_the_app_only_on_new_devices(&ctx, now).await;
        let later = now + chrono::Duration::seconds(30);
        let (token, _) = pending_token(with_password(&ctx, "alice", PASSWORD, Browser::default(), &meta(), None, later).await.unwrap());
        let code = totp::code_at(&secret, later).unwrap();
        assert!(matches!(verify(&ctx, &token, Proof::Totp(&code), &meta(), None, later).await.unwrap(), Outcome::Complete(_)));
        // The browser now carries a signed "alice signed in here" entry.
        let known = Browser { known_cookie: Some(crate::devices::remember(&ctx.db, None, user.id, later).await.unwrap()), app: None };
        let o = with_password(&ctx, "alice", PASSWORD, known, &meta(), None, later).await.unwrap();
        assert_eq!(session_amr(&ctx, o, later).await, ["pwd"]);
    }
    crate::db_test!(a_new_device_rule_asks_only_unknown_browsers);

    /// Resets the password of `name` through a mailed link.
    async fn reset_by_mail(ctx: &Ctx, name: &str, now: DateTime<Utc>) {
        assert!(crate::recovery::issue_reset(ctx, name, &meta(), now).await.unwrap());
        let token = testing::mailed_token(ctx, &format!("{name}@example.com"), crate::recovery::RESET_PATH).await;
        assert!(crate::recovery::reset_info(ctx, &token, now).await.unwrap().keeps_second_factor);
        crate::recovery::reset(ctx, &token, &[], "ample tuba cinder orbit", &meta(), now).await.unwrap();
    }

    /// Threat: an attacker who reads the person's mailbox (or takes over the
    /// address) resetting the password of an account protected by a passkey
    /// and signing in with the new password alone. After the reset the next
    /// sign-in still asks for the passkey, whatever the flow says.
    async fn a_reset_never_lets_the_password_alone_past_a_passkey(t: TestDb) {
        let ctx = t.ctx();
        let user = testing::user(&ctx, "alice", false).await;
        let now = testing::t0();
        let _key = soft_passkey(&ctx, &user, now).await;
        // The shipped flow: a password alone is enough for step 1, and a
        // passkey-only person has no second step.
        assert!(matches!(with_password(&ctx, "alice", PASSWORD, Browser::default(), &meta(), None, now).await, Ok(Outcome::Complete(_))));
        reset_by_mail(&ctx, "alice", now).await;
        let (_, next) =
            pending_token(with_password(&ctx, "alice", "ample tuba cinder orbit", Browser::default(), &meta(), None, now).await.unwrap());
        assert_eq!(next.options, vec![Method::Passkey], "the password alone opens no session");
    }
    crate::db_test!(a_reset_never_lets_the_password_alone_past_a_passkey);

    /// The same for an authenticator app: one right code after the reset, and
    /// the flow's own rules apply again.
    async fn after_a_reset_the_authenticator_app_is_asked_once(t: TestDb) {
        let ctx = t.ctx();
        let user = testing::user(&ctx, "alice", false).await;
        let now = testing::t0();
        let secret = enrol_totp(&ctx, &user, now).await;
        // A flow that asks for the app only on new devices, from a known one.
        ask_the_app_only_on_new_devices(&ctx, now).await;
        let later = now + chrono::Duration::seconds(60);
        reset_by_mail(&ctx, "alice", later).await;
        let device = Browser { known_cookie: Some(crate::devices::remember(&ctx.db, None, user.id, later).await.unwrap()), app: None };
        let new_password = "ample tuba cinder orbit";
        let (token, next) = pending_token(with_password(&ctx, "alice", new_password, device.clone(), &meta(), None, later).await.unwrap());
        assert_eq!(next.options, vec![Method::Totp]);
        let code = totp::code_at(&secret, later).unwrap();
        assert!(matches!(verify(&ctx, &token, Proof::Totp(&code), &meta(), None, later).await, Ok(Outcome::Complete(_))));
        let o = with_password(&ctx, "alice", new_password, device, &meta(), None, later).await.unwrap();
        assert_eq!(session_amr(&ctx, o, later).await, ["pwd"], "from a known device the flow's rule is back");
    }
    crate::db_test!(after_a_reset_the_authenticator_app_is_asked_once);

    /// An application (its handle) whose login flow is `flow`.
    async fn app_with_flow(ctx: &Ctx, flow: &Flow, now: DateTime<Utc>) -> String {
        let admin = testing::user(ctx, "root", true).await;
        let input = crate::apps::AppInput { name: "Wiki".into(), access_url: "https://wiki.example.com".into(), ..Default::default() };
        let app = crate::apps::create(&ctx.db, &input, admin.id, now).await.unwrap();
        flows::save(&ctx.db, &app.handle, flow, None, now).await.unwrap();
        app.handle
    }

    fn one_step(options: Vec<Method>, when: flow::Condition) -> flow::Step {
        flow::Step { options, when }
    }

    /// Threat: a sign-in through an application whose flow asks for less (a
    /// password alone) opening My Account, whose own flow also asks for the
    /// authenticator app. The application's flow signs the person in to the
    /// application; My Account asks for the missing step before it opens.
    async fn an_applications_weaker_flow_signs_in_to_it_and_my_account_asks_for_the_rest(t: TestDb) {
        let ctx = t.ctx();
        let user = testing::user(&ctx, "alice", false).await;
        let now = testing::t0();
        let secret = enrol_totp(&ctx, &user, now).await;
        let password_only = Flow { steps: vec![one_step(vec![Method::Password, Method::Passkey], flow::Condition::Always)] };
        let wiki = app_with_flow(&ctx, &password_only, now).await;
        let later = now + chrono::Duration::seconds(60);
        let for_wiki = Browser { app: Some(wiki), ..Default::default() };
        let o = with_password(&ctx, "alice", PASSWORD, for_wiki, &meta(), None, later).await.unwrap();
        let Outcome::Complete(signed) = o else { panic!("the application's flow asks for a password alone") };
        let session = crate::sessions::resolve(&ctx.db, &signed.session.token, &ctx.policy, later).await.unwrap().unwrap();
        assert_eq!((session.amr.clone(), session.my_account_flow), (vec!["pwd".to_owned()], false));
        assert_eq!(crate::reauth::my_account_step(&ctx, &session).await.unwrap(), Next::Step { index: 1, options: vec![Method::Totp] });
        // A password again is not the step My Account asks for.
        crate::reauth::prove(&ctx, &session, crate::reauth::Proof::Password(PASSWORD), &meta(), later).await.unwrap();
        let session = crate::sessions::resolve(&ctx.db, &signed.session.token, &ctx.policy, later).await.unwrap().unwrap();
        assert!(!session.my_account_flow);
        // The code completes My Account's flow for this session.
        let code = totp::code_at(&secret, later).unwrap();
        crate::reauth::prove(&ctx, &session, crate::reauth::Proof::Totp(&code), &meta(), later).await.unwrap();
        let session = crate::sessions::resolve(&ctx.db, &signed.session.token, &ctx.policy, later).await.unwrap().unwrap();
        assert!(session.my_account_flow);
        assert_eq!(crate::reauth::my_account_step(&ctx, &session).await.unwrap(), Next::Complete);
        // My Account's own sign-in still asks for the code.
        let (_, next) = pending_token(with_password(&ctx, "alice", PASSWORD, Browser::default(), &meta(), None, later).await.unwrap());
        assert_eq!(next.options, vec![Method::Totp]);
    }
    crate::db_test!(an_applications_weaker_flow_signs_in_to_it_and_my_account_asks_for_the_rest);

    /// The later steps follow the application's flow too (its version, not
    /// My Account's): here My Account asks for a password alone and the
    /// application also for the authenticator app.
    async fn an_applications_stronger_flow_asks_its_later_steps(t: TestDb) {
        let ctx = t.ctx();
        let user = testing::user(&ctx, "alice", false).await;
        let now = testing::t0();
        let secret = enrol_totp(&ctx, &user, now).await;
        let first = one_step(vec![Method::Password, Method::Passkey], flow::Condition::Always);
        flows::save(&ctx.db, flows::MY_ACCOUNT, &Flow { steps: vec![first.clone()] }, None, now).await.unwrap();
        let with_code = Flow { steps: vec![first, one_step(vec![Method::Totp], flow::Condition::Always)] };
        let wiki = app_with_flow(&ctx, &with_code, now).await;
        let later = now + chrono::Duration::seconds(60);
        let o = with_password(&ctx, "alice", PASSWORD, Browser::default(), &meta(), None, later).await.unwrap();
        assert!(matches!(o, Outcome::Complete(_)), "My Account asks for a password alone");
        let for_wiki = Browser { app: Some(wiki), ..Default::default() };
        let (token, next) = pending_token(with_password(&ctx, "alice", PASSWORD, for_wiki, &meta(), None, later).await.unwrap());
        assert_eq!((next.index, next.steps, next.options.clone()), (1, 2, vec![Method::Totp]));
        assert_eq!(pending(&ctx, &token, later).await.unwrap(), next);
        let o = verify(&ctx, &token, Proof::Totp(&totp::code_at(&secret, later).unwrap()), &meta(), None, later).await.unwrap();
        let Outcome::Complete(signed) = o else { panic!("two steps done") };
        let session = crate::sessions::resolve(&ctx.db, &signed.session.token, &ctx.policy, later).await.unwrap().unwrap();
        assert!(session.my_account_flow, "a password and a code meet My Account's flow as well");
    }
    crate::db_test!(an_applications_stronger_flow_asks_its_later_steps);

    #[test]
    fn amr_lists_each_value_once_and_mfa_for_two_factors() {
        assert_eq!(amr(&[Method::Password]), ["pwd"]);
        assert_eq!(amr(&[Method::Password, Method::Totp]), ["pwd", "otp", "mfa"]);
        assert_eq!(amr(&[Method::Passkey]), ["hwk", "user", "mfa"]);
    }
}
