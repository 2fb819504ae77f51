//! A person's security history: sign-ins, failed attempts, enrolments and
//! removals. Written for every outcome; read on the Security page.

use chrono::{DateTime, Utc};
use entity::auth_events;
use entity::prelude::*;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use crate::{ClientMeta, Result};

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    SignedIn,
    SignInFailed,
    SecondFactorFailed,
    SignInAbandoned,
    Reauthenticated,
    ReauthFailed,
    TotpAdded,
    TotpRemoved,
    BackupCodesGenerated,
    BackupCodeUsed,
    PasskeyAdded,
    PasskeyRemoved,
    PasswordChanged,
    PasswordResetRequested,
    PasswordReset,
    RecoveryAnswerFailed,
    EmailChanged,
    EmailVerified,
    RecoveryEmailSet,
    RecoveryEmailRemoved,
    RecoveryEmailVerified,
    SecurityQuestionsSet,
    SecurityQuestionsRemoved,
    SignedOut,
    SessionRevoked,
    /// An administrator changed an instance-wide setting.
    AdminChange,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SignedIn => "signed_in",
            Kind::SignInFailed => "sign_in_failed",
            Kind::SecondFactorFailed => "second_factor_failed",
            Kind::SignInAbandoned => "sign_in_abandoned",
            Kind::Reauthenticated => "reauthenticated",
            Kind::ReauthFailed => "reauth_failed",
            Kind::TotpAdded => "totp_added",
            Kind::TotpRemoved => "totp_removed",
            Kind::BackupCodesGenerated => "backup_codes_generated",
            Kind::BackupCodeUsed => "backup_code_used",
            Kind::PasskeyAdded => "passkey_added",
            Kind::PasskeyRemoved => "passkey_removed",
            Kind::PasswordChanged => "password_changed",
            Kind::PasswordResetRequested => "password_reset_requested",
            Kind::PasswordReset => "password_reset",
            Kind::RecoveryAnswerFailed => "recovery_answer_failed",
            Kind::EmailChanged => "email_changed",
            Kind::EmailVerified => "email_verified",
            Kind::RecoveryEmailSet => "recovery_email_set",
            Kind::RecoveryEmailRemoved => "recovery_email_removed",
            Kind::RecoveryEmailVerified => "recovery_email_verified",
            Kind::SecurityQuestionsSet => "security_questions_set",
            Kind::SecurityQuestionsRemoved => "security_questions_removed",
            Kind::SignedOut => "signed_out",
            Kind::SessionRevoked => "session_revoked",
            Kind::AdminChange => "admin_change",
        }
    }
}

/// Records an event. `detail` is for a person to read (no secrets).
pub async fn record(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    kind: Kind,
    method: Option<&str>,
    detail: Option<String>,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<()> {
    auth_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        kind: Set(kind.as_str().to_owned()),
        method: Set(method.map(str::to_owned)),
        ip: Set(meta.ip.clone()),
        user_agent: Set(meta.user_agent.as_deref().map(|u| u.chars().take(512).collect())),
        detail: Set(detail.map(|d| d.chars().take(255).collect())),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The newest `limit` events of a person.
pub async fn recent(db: &impl ConnectionTrait, user_id: Uuid, limit: u64) -> Result<Vec<auth_events::Model>> {
    Ok(AuthEvents::find()
        .filter(auth_events::Column::UserId.eq(user_id))
        .order_by_desc(auth_events::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?)
}
