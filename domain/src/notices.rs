//! "Your security changed" notices. Every change to how a person signs in or
//! recovers their account is recorded in their security activity and mailed
//! to them, in the same transaction as the change: one short message saying
//! what changed, when, from which browser and address, and where to look if
//! it wasn't them. (A password change or reset has its own message:
//! `passwords::changed_mail`.)

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::events::{self, Kind};
use crate::{ClientMeta, Ctx, Result, mail, sessions, users};

/// A change to the person's sign-in or recovery methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change<'a> {
    PasskeyAdded(&'a str),
    PasskeyRemoved(&'a str),
    TotpAdded(&'a str),
    TotpRemoved(&'a str),
    BackupCodesGenerated,
    RecoveryEmailSet(&'a str),
    RecoveryEmailRemoved,
    SecurityQuestionsSet,
    SecurityQuestionsRemoved,
}

impl Change<'_> {
    fn kind(self) -> Kind {
        match self {
            Change::PasskeyAdded(_) => Kind::PasskeyAdded,
            Change::PasskeyRemoved(_) => Kind::PasskeyRemoved,
            Change::TotpAdded(_) => Kind::TotpAdded,
            Change::TotpRemoved(_) => Kind::TotpRemoved,
            Change::BackupCodesGenerated => Kind::BackupCodesGenerated,
            Change::RecoveryEmailSet(_) => Kind::RecoveryEmailSet,
            Change::RecoveryEmailRemoved => Kind::RecoveryEmailRemoved,
            Change::SecurityQuestionsSet => Kind::SecurityQuestionsSet,
            Change::SecurityQuestionsRemoved => Kind::SecurityQuestionsRemoved,
        }
    }

    /// The name or address concerned, for the activity list.
    fn detail(self) -> Option<String> {
        match self {
            Change::PasskeyAdded(n) | Change::PasskeyRemoved(n) | Change::TotpAdded(n) | Change::TotpRemoved(n) => Some(n.to_owned()),
            Change::RecoveryEmailSet(e) => Some(e.to_owned()),
            _ => None,
        }
    }

    /// The subject line: what happened, in a few words.
    pub fn subject(self) -> &'static str {
        match self {
            Change::PasskeyAdded(_) => "a passkey was added to your account",
            Change::PasskeyRemoved(_) => "a passkey was removed from your account",
            Change::TotpAdded(_) => "an authenticator app was added to your account",
            Change::TotpRemoved(_) => "an authenticator app was removed from your account",
            Change::BackupCodesGenerated => "new backup codes were generated",
            Change::RecoveryEmailSet(_) => "your recovery email was changed",
            Change::RecoveryEmailRemoved => "your recovery email was removed",
            Change::SecurityQuestionsSet => "your security questions were changed",
            Change::SecurityQuestionsRemoved => "your security questions were removed",
        }
    }

    fn sentence(self, username: &str) -> String {
        match self {
            Change::PasskeyAdded(n) => format!("A passkey named \"{n}\" was added to your account {username}."),
            Change::PasskeyRemoved(n) => format!("The passkey \"{n}\" was removed from your account {username}."),
            Change::TotpAdded(n) => format!("An authenticator app named \"{n}\" was added to your account {username}."),
            Change::TotpRemoved(n) => format!("The authenticator app \"{n}\" was removed from your account {username}."),
            Change::BackupCodesGenerated => {
                format!("New backup codes were generated for your account {username}; the earlier ones no longer work.")
            }
            Change::RecoveryEmailSet(e) => format!("The recovery email of your account {username} was set to {e}."),
            Change::RecoveryEmailRemoved => format!("The recovery email of your account {username} was removed."),
            Change::SecurityQuestionsSet => format!("The security questions of your account {username} were changed."),
            Change::SecurityQuestionsRemoved => format!("The security questions of your account {username} were removed."),
        }
    }
}

/// Records `change` in the person's activity and queues the notice. Call
/// inside the change's transaction; [`mail::wake`] after the commit.
pub async fn security_changed(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    user_id: Uuid,
    change: Change<'_>,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<()> {
    events::record(db, user_id, change.kind(), None, change.detail(), meta, now).await?;
    let user = users::get(db, user_id).await?;
    let (browser, system) = sessions::describe_agent(meta.user_agent.as_deref());
    let whence = format!(
        "This happened on {} from {browser} on {system}{}.",
        now.format("%-d %b %Y at %H:%M UTC"),
        meta.ip.as_deref().map(|ip| format!(" (IP address {ip})")).unwrap_or_default()
    );
    let message = mail::compose(
        &user.email,
        &users::greeting(&user),
        change.subject(),
        &[change.sentence(&user.username), whence, "If this was you, there is nothing to do.".into()],
        Some(("Review your account's security", &ctx.link("/myaccount/security"))),
        "If this wasn't you, someone may be signed in to your account: review it now, sign out your other sessions and change your password.",
    );
    mail::enqueue(db, ctx, &message, now).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, TestDb};

    /// Threat: an intruder adding their own second factor (or removing the
    /// owner's) unnoticed. Each change mails the owner once, with when and
    /// from where, and a change that is refused mails nothing.
    async fn security_changes_mail_the_owner_once_each(t: TestDb) {
        let ctx = t.ctx();
        let now = testing::t0();
        let user = testing::user(&ctx, "alice", false).await;
        let meta = ClientMeta {
            ip: Some("198.51.100.7".into()),
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0".into()),
        };
        let e = crate::totp::start_enrolment(&ctx, &user, now).await.unwrap();
        let secret = totp_rs::Secret::try_from_base32(&e.secret_base32).unwrap().as_bytes().to_vec();
        let code = crate::totp::code_at(&secret, now).unwrap();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        assert!(crate::totp::finish_enrolment(&ctx, user.id, e.ceremony, wrong, "Phone", &meta, now).await.is_err());
        assert!(testing::mailed_texts(&ctx, "alice@example.com").await.is_empty(), "a wrong code changes nothing and mails nothing");
        let cred = crate::totp::finish_enrolment(&ctx, user.id, e.ceremony, &code, "Phone", &meta, now).await.unwrap();
        crate::backup_codes::regenerate(&ctx, user.id, &meta, now).await.unwrap();
        crate::methods::remove_totp(&ctx, &user, cred.id, &meta).await.unwrap();
        let texts = testing::mailed_texts(&ctx, "alice@example.com").await;
        assert_eq!(texts.len(), 3, "{texts:#?}");
        for subject in [
            "Latchkey: an authenticator app was added to your account",
            "Latchkey: new backup codes were generated",
            "Latchkey: an authenticator app was removed from your account",
        ] {
            assert_eq!(texts.iter().filter(|t| t.starts_with(subject)).count(), 1, "{subject}");
        }
        let added = texts.iter().find(|t| t.contains("was added")).unwrap();
        assert!(added.contains("\"Phone\"") && added.contains("Firefox 128 on Linux") && added.contains("198.51.100.7"), "{added}");
        assert!(added.contains("/myaccount/security") && added.contains("If this wasn't you"));
        let mut kinds: Vec<String> = events::recent(&ctx.db, user.id, 10).await.unwrap().into_iter().map(|e| e.kind).collect();
        kinds.sort();
        assert_eq!(kinds, ["backup_codes_generated", "totp_added", "totp_removed"]);
    }
    crate::db_test!(security_changes_mail_the_owner_once_each);
}
