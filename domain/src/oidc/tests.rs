use super::clients::{self, Client};
use super::input::{ClientInput, ClientSettings};
use super::keys::{self, PUBLISH_LEAD, RETIRED_PUBLISHED, SigningAlg};
use crate::Error;
use crate::apps::{self, AppInput};
use crate::testing::{self, TestDb};
use jsonwebtoken::{DecodingKey, Validation};
use std::collections::BTreeSet;

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Claims {
    sub: String,
    exp: i64,
}

fn kids(set: &jsonwebtoken::jwk::JwkSet) -> Vec<String> {
    set.keys.iter().map(|k| k.common.key_id.clone().unwrap()).collect()
}

/// Signs with `alg` and verifies the token against the published set,
/// returning the `kid` it carries.
async fn signed_kid(t: &crate::Ctx, alg: SigningAlg, now: chrono::DateTime<chrono::Utc>) -> String {
    let claims = Claims { sub: "someone".into(), exp: (now + chrono::Duration::hours(1)).timestamp() };
    let jwt = keys::sign(&t.db, &t.keys, alg, &claims, now).await.unwrap();
    let header = jsonwebtoken::decode_header(&jwt).unwrap();
    let kid = header.kid.unwrap();
    let set = keys::jwks(&t.db, &t.keys, now).await.unwrap();
    let jwk = set.find(&kid).expect("the signing key is published");
    let mut v = Validation::new(header.alg);
    v.validate_exp = false;
    v.required_spec_claims.clear();
    let back = jsonwebtoken::decode::<Claims>(&jwt, &DecodingKey::from_jwk(jwk).unwrap(), &v).unwrap();
    assert_eq!(back.claims, claims);
    kid
}

async fn every_algorithm_has_a_sealed_key_whose_kid_is_its_thumbprint(t: TestDb) {
    let ctx = t.ctx();
    let now = testing::t0();
    keys::ensure(&ctx.db, &ctx.keys, now).await.unwrap();
    keys::ensure(&ctx.db, &ctx.keys, now).await.unwrap();
    let set = keys::jwks(&ctx.db, &ctx.keys, now).await.unwrap();
    assert_eq!(set.keys.len(), 3, "one key per algorithm, created once");
    let distinct: BTreeSet<_> = kids(&set).into_iter().collect();
    assert_eq!(distinct.len(), 3);
    for jwk in &set.keys {
        let thumb = jwk.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256).unwrap();
        assert_eq!(jwk.common.key_id.as_deref(), Some(thumb.as_str()), "kid is the RFC 7638 thumbprint");
        let text = serde_json::to_string(jwk).unwrap();
        assert!(!text.contains("\"d\""), "no private part is published: {text}");
    }
    for alg in SigningAlg::ALL {
        signed_kid(&ctx, alg, now).await;
    }
    // Threat: a copy of the database signs tokens. The private keys are
    // stored sealed with the server key, not as DER or PEM.
    use sea_orm::EntityTrait as _;
    for row in entity::prelude::SigningKeys::find().all(&ctx.db).await.unwrap() {
        // (Not "does not start with MI": a sealed value does, one time in 4,096.)
        let stored = row.private_key.expose();
        let der = ctx.keys.open(stored, keys::SEAL_CONTEXT).unwrap();
        use base64::Engine as _;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let clear = [STANDARD.encode(&der[..24]), URL_SAFE_NO_PAD.encode(&der[..24])];
        assert!(!clear.iter().any(|c| stored.contains(c.as_str())) && !stored.contains("PRIVATE"), "the key is not stored in the clear");
        assert!(ctx.keys.open(stored, "totp").is_err(), "sealed for signing only");
    }
}
crate::db_test!(every_algorithm_has_a_sealed_key_whose_kid_is_its_thumbprint);

/// Threat: relying parties that cached the key set reject tokens signed by a
/// key they have not seen, or tokens still valid when an old key vanishes.
async fn rotation_publishes_before_signing_and_keeps_old_keys_until_their_tokens_expire(t: TestDb) {
    let ctx = t.ctx();
    let t0 = testing::t0();
    keys::ensure(&ctx.db, &ctx.keys, t0).await.unwrap();
    let old = signed_kid(&ctx, SigningAlg::Rs256, t0).await;
    let rotated = keys::rotate(&ctx.db, &ctx.keys, t0, PUBLISH_LEAD).await.unwrap();
    assert_eq!(rotated.len(), 3);
    let new = rotated.iter().find(|r| r.alg == SigningAlg::Rs256).unwrap().kid.clone();
    assert_ne!(new, old);
    let published = kids(&keys::jwks(&ctx.db, &ctx.keys, t0).await.unwrap());
    assert!(published.contains(&new) && published.contains(&old), "both published at once");
    assert_eq!(signed_kid(&ctx, SigningAlg::Rs256, t0 + chrono::Duration::minutes(9)).await, old, "the old key signs during the lead");
    let switched = t0 + chrono::Duration::from_std(PUBLISH_LEAD).unwrap();
    assert_eq!(signed_kid(&ctx, SigningAlg::Rs256, switched).await, new);
    let keep = chrono::Duration::from_std(RETIRED_PUBLISHED).unwrap();
    assert!(kids(&keys::jwks(&ctx.db, &ctx.keys, switched + keep - chrono::Duration::seconds(1)).await.unwrap()).contains(&old));
    let later = switched + keep + chrono::Duration::seconds(1);
    assert!(!kids(&keys::jwks(&ctx.db, &ctx.keys, later).await.unwrap()).contains(&old), "unpublished once its tokens expired");
    // A later rotation deletes keys retired that long ago.
    keys::rotate(&ctx.db, &ctx.keys, later, std::time::Duration::ZERO).await.unwrap();
    use sea_orm::{EntityTrait as _, PaginatorTrait as _};
    assert_eq!(entity::prelude::SigningKeys::find().count(&ctx.db).await.unwrap(), 6, "3 current + 3 just retired");
}
crate::db_test!(rotation_publishes_before_signing_and_keeps_old_keys_until_their_tokens_expire);

fn settings(redirect: &str) -> ClientInput {
    ClientSettings { redirect_uris: redirect.into(), ..ClientSettings::defaults() }.check().unwrap()
}

async fn app(ctx: &crate::Ctx, name: &str) -> apps::App {
    let admin = testing::user(ctx, "root", true).await;
    let input = AppInput { name: name.into(), access_url: "https://rp.example.com".into(), ..Default::default() };
    apps::create(&ctx.db, &input, admin.id, testing::t0()).await.unwrap()
}

async fn a_confidential_client_gets_a_secret_shown_once_and_stored_hashed(t: TestDb) {
    let ctx = t.ctx();
    let now = testing::t0();
    let pay = app(&ctx, "Payroll").await;
    let issued = clients::save(&ctx.db, &ctx.keys, &pay, &settings("https://rp.example.com/cb"), None, now).await.unwrap();
    let secret = issued.secret.expect("a confidential client gets a secret");
    let c: Client = issued.client;
    assert_eq!(c.client_id.len(), 22);
    assert!(clients::secret_matches(&ctx.db, &ctx.keys, &c, &secret).await.unwrap());
    assert!(!clients::secret_matches(&ctx.db, &ctx.keys, &c, "wrong").await.unwrap());
    use sea_orm::EntityTrait as _;
    let row = entity::prelude::OidcClients::find_by_id(pay.id).one(&ctx.db).await.unwrap().unwrap();
    assert!(!row.secret_hash.unwrap().expose().contains(secret.as_str()), "never stored in clear");
    let (found, found_app) = clients::by_client_id(&ctx.db, &c.client_id).await.unwrap().unwrap();
    assert_eq!((found.client_id, found_app.id), (c.client_id.clone(), pay.id));

    // Editing keeps the secret; regenerating replaces it at once.
    let edited = clients::save(&ctx.db, &ctx.keys, &pay, &settings("https://rp.example.com/cb2"), None, now).await.unwrap();
    assert!(edited.secret.is_none());
    assert!(clients::secret_matches(&ctx.db, &ctx.keys, &c, &secret).await.unwrap());
    let fresh = clients::regenerate_secret(&ctx.db, &ctx.keys, &pay, None, now).await.unwrap();
    assert!(!clients::secret_matches(&ctx.db, &ctx.keys, &c, &secret).await.unwrap(), "the old secret stops working");
    assert!(clients::secret_matches(&ctx.db, &ctx.keys, &c, &fresh).await.unwrap());

    // Becoming public drops the secret; a public client has none to regenerate.
    let public = ClientInput { public: true, ..settings("https://rp.example.com/cb") };
    assert!(clients::save(&ctx.db, &ctx.keys, &pay, &public, None, now).await.unwrap().secret.is_none());
    assert!(!clients::secret_matches(&ctx.db, &ctx.keys, &c, &fresh).await.unwrap());
    assert!(matches!(clients::regenerate_secret(&ctx.db, &ctx.keys, &pay, None, now).await, Err(Error::Refused(_))));
    assert_eq!(clients::of_app(&ctx.db, pay.id).await.unwrap().unwrap().client_id, c.client_id, "the client id never changes");

    // Deleting the application deletes its client.
    let admin = testing::user(&ctx, "other", true).await;
    apps::delete(&ctx.db, &pay.handle, "Payroll", Some(admin.id)).await.unwrap();
    assert!(clients::by_client_id(&ctx.db, &c.client_id).await.unwrap().is_none());
}
crate::db_test!(a_confidential_client_gets_a_secret_shown_once_and_stored_hashed);

async fn my_account_has_no_client_and_the_cli_path_is_all_or_nothing(t: TestDb) {
    let ctx = t.ctx();
    let now = testing::t0();
    let mine = apps::get(&ctx.db, apps::MY_ACCOUNT).await.unwrap();
    assert!(matches!(
        clients::save(&ctx.db, &ctx.keys, &mine, &settings("https://x.example.com/cb"), None, now).await,
        Err(Error::Refused(_))
    ));
    let input = AppInput { name: "Wiki".into(), access_url: "https://wiki.example.com".into(), ..Default::default() };
    let (wiki, issued) =
        clients::create_app_with_client(&ctx.db, &ctx.keys, &input, &settings("https://wiki.example.com/cb"), now).await.unwrap();
    assert_eq!(issued.client.app_id, wiki.id);
    assert_eq!(wiki.created_by, None, "created from the command line");
    // A taken name refuses the whole registration: no second client appears.
    let again = clients::create_app_with_client(&ctx.db, &ctx.keys, &input, &settings("https://wiki.example.com/cb"), now).await;
    assert!(matches!(again, Err(Error::InvalidFields(_))));
    use sea_orm::{EntityTrait as _, PaginatorTrait as _};
    assert_eq!(entity::prelude::OidcClients::find().count(&ctx.db).await.unwrap(), 1);
}
crate::db_test!(my_account_has_no_client_and_the_cli_path_is_all_or_nothing);
