//! Editing one's profile (a use case over the account store): a changed
//! email address becomes unverified, needs a recent sign-in proof, is rate
//! limited, and sends a confirmation link to the new address and a notice
//! to the old one.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, Set};
use uuid::Uuid;

use crate::users::{self, User};
use crate::{Ctx, Error, Result};

/// The editable part of a profile, already validated and normalised.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileUpdate {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub picture_url: Option<String>,
    pub address: Option<String>,
}

/// Saves a profile. A changed email address becomes unverified, and needs
/// `recent_proof` (a fresh sign-in proof): reset links go to that address, so
/// a borrowed signed-in browser must not be able to redirect them.
/// Returns the saved account and whether the email changed.
pub async fn update(
    ctx: &Ctx,
    id: Uuid,
    update: ProfileUpdate,
    recent_proof: bool,
    meta: &crate::ClientMeta,
    now: DateTime<Utc>,
) -> Result<(User, bool)> {
    if users::get(&ctx.db, id).await?.email != update.email {
        if !recent_proof {
            return Err(Error::ReauthRequired);
        }
        // A change mails an address the person chose, and its refusal hints
        // that the address has an account: both are bounded per account.
        // Outside the transaction, so a refused change still counts.
        ctx.limits.email_change.check(&ctx.db, &id.to_string(), now).await?;
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    let current = users::get(&txn, id).await?;
    let email_changed = current.email != update.email;
    let old_email = current.email.clone();
    if email_changed {
        if !recent_proof {
            return Err(Error::ReauthRequired);
        }
        // No enumeration: the refusal does not say another account has it.
        if users::ensure_email_free(&txn, &update.email, Some(id)).await.is_err() {
            return Err(users::email_unavailable());
        }
    }
    let mut active: entity::users::ActiveModel = current.into();
    active.given_name = Set(update.given_name);
    active.family_name = Set(update.family_name);
    active.display_name = Set(update.display_name);
    active.phone = Set(update.phone);
    active.locale = Set(update.locale);
    active.time_zone = Set(update.time_zone);
    active.picture_url = Set(update.picture_url);
    active.address = Set(update.address);
    if email_changed {
        active.email = Set(update.email);
        active.email_verified = Set(false);
    }
    active.updated_at = Set(now);
    let saved = active.update(&txn).await.map_err(|e| match users::unique_to_invalid(e) {
        Error::Invalid { field: "email", .. } => users::email_unavailable(),
        other => other,
    })?;
    if email_changed {
        // A link to the new address, a notice to the old one: sent after the commit.
        crate::recovery::queue_email_verification(&txn, ctx, &saved, now).await?;
        crate::recovery::queue_email_changed_notice(&txn, ctx, &saved, &old_email, now).await?;
        let kind = crate::events::Kind::EmailChanged;
        crate::events::record(&txn, id, kind, None, Some(format!("{old_email} → {}", saved.email)), meta, now).await?;
    }
    txn.commit().await?;
    if email_changed {
        crate::mail::wake(ctx);
    }
    Ok((saved, email_changed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, TestDb};
    use users::NewUser;

    fn new_user(name: &str) -> NewUser {
        NewUser { username: name.into(), email: format!("{name}@example.com"), is_admin: false }
    }

    async fn changing_email_marks_it_unverified_and_checks_uniqueness(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let a = users::create_with_password(&ctx, new_user("alice"), "a long password", now).await.unwrap();
        users::create_with_password(&ctx, new_user("bob"), "a long password", now).await.unwrap();
        // Pretend alice verified her address.
        let mut active: entity::users::ActiveModel = a.clone().into();
        active.email_verified = Set(true);
        active.update(&ctx.db).await.unwrap();

        let same_email = ProfileUpdate { email: a.email.clone(), given_name: Some("Alice".into()), ..Default::default() };
        let (saved, changed) = update(&ctx, a.id, same_email, false, &Default::default(), now).await.unwrap();
        assert!(!changed);
        assert!(saved.email_verified);
        assert_eq!(saved.given_name.as_deref(), Some("Alice"));

        // Threat: account enumeration through the email field. The refusal
        // does not say that another account uses the address.
        let taken = ProfileUpdate { email: "bob@example.com".into(), ..Default::default() };
        match update(&ctx, a.id, taken, true, &Default::default(), now).await {
            Err(Error::Invalid { field: "email", message }) => assert!(!message.contains("another account"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(users::get(&ctx.db, a.id).await.unwrap().given_name.as_deref(), Some("Alice"), "a refused update changes nothing");

        let later = now + chrono::Duration::minutes(5);
        let new_email = ProfileUpdate { email: "alice@new.example".into(), ..Default::default() };
        // Threat: a borrowed signed-in browser redirecting reset links to another mailbox.
        let stale = update(&ctx, a.id, new_email.clone(), false, &Default::default(), later).await;
        assert!(matches!(stale, Err(Error::ReauthRequired)), "{stale:?}");
        assert_eq!(users::get(&ctx.db, a.id).await.unwrap().email, a.email, "nothing changed");
        let (saved, changed) = update(&ctx, a.id, new_email, true, &Default::default(), later).await.unwrap();
        assert!(changed);
        assert!(!saved.email_verified);
        assert_eq!(saved.updated_at, later);
    }
    crate::db_test!(changing_email_marks_it_unverified_and_checks_uniqueness);

    /// Threat: mail bombing an arbitrary address, and probing which
    /// addresses have accounts, through repeated email changes. Changes are
    /// limited per account, refused ones included.
    async fn email_changes_are_rate_limited_per_account(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let a = users::create_with_password(&ctx, new_user("alice"), testing::PASSWORD, now).await.unwrap();
        let mut limited = None;
        for i in 0..10 {
            let u = ProfileUpdate { email: format!("victim{i}@example.com"), ..Default::default() };
            if let Err(e) = update(&ctx, a.id, u, true, &Default::default(), now).await {
                limited = Some((i, e));
                break;
            }
        }
        let Some((i, Error::RateLimited { .. })) = limited else { panic!("no limit: {limited:?}") };
        assert_eq!(i, 3, "three changes, then a wait");
        // Other fields can still be saved meanwhile.
        let same = users::get(&ctx.db, a.id).await.unwrap().email;
        update(
            &ctx,
            a.id,
            ProfileUpdate { email: same, given_name: Some("A".into()), ..Default::default() },
            false,
            &Default::default(),
            now,
        )
        .await
        .unwrap();
    }
    crate::db_test!(email_changes_are_rate_limited_per_account);
}
