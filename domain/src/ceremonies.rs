//! One-shot, server-side state of multi-request ceremonies: WebAuthn
//! registration and authentication, TOTP enrolment, new backup codes
//! waiting to be shown once. The browser only ever
//! holds the ceremony's id; the state is deleted before it is used, so a
//! replayed finish finds nothing (webauthn-rs tutorial: never in a cookie).

use chrono::{DateTime, Utc};
use entity::ceremonies;
use entity::prelude::*;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Serialize, de::DeserializeOwned};
use std::time::Duration;
use uuid::Uuid;

use crate::clock::after;
use crate::{Error, Result};

/// What a ceremony is for; a state stored for one kind never opens another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    PasskeyRegistration,
    PasskeyDiscoverable,
    PasskeyForUser,
    TotpEnrolment,
    /// New backup codes waiting to be shown once on the no-JavaScript page.
    BackupCodesReveal,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::PasskeyRegistration => "passkey_registration",
            Kind::PasskeyDiscoverable => "passkey_discoverable",
            Kind::PasskeyForUser => "passkey_for_user",
            Kind::TotpEnrolment => "totp_enrolment",
            Kind::BackupCodesReveal => "backup_codes_reveal",
        }
    }
}

/// How long a ceremony may take.
pub const TTL: Duration = Duration::from_secs(5 * 60);

/// Stores `state` and returns the id the browser will send back.
pub async fn put(
    db: &impl ConnectionTrait,
    user_id: Option<Uuid>,
    kind: Kind,
    state: &impl Serialize,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<Uuid> {
    let id = Uuid::new_v4();
    let json = serde_json::to_string(state).map_err(|e| Error::Internal(format!("ceremony state: {e}")))?;
    ceremonies::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        kind: Set(kind.as_str().to_owned()),
        state: Set(json.into()),
        created_at: Set(now),
        expires_at: Set(after(now, ttl)),
    }
    .insert(db)
    .await?;
    Ok(id)
}

async fn find(db: &impl ConnectionTrait, id: Uuid, user_id: Option<Uuid>, kind: Kind, now: DateTime<Utc>) -> Result<ceremonies::Model> {
    Ceremonies::find_by_id(id)
        .filter(ceremonies::Column::Kind.eq(kind.as_str()))
        .one(db)
        .await?
        .filter(|c| c.user_id == user_id && c.expires_at > now)
        .ok_or(Error::CeremonyExpired)
}

fn decode<T: DeserializeOwned>(c: &ceremonies::Model) -> Result<T> {
    serde_json::from_str(c.state.expose()).map_err(|e| Error::Internal(format!("ceremony state: {e}")))
}

/// Takes the state out (deleting it first): of two concurrent finishes, one
/// gets it. Unknown, expired, another person's or another kind's ids fail.
pub async fn take<T: DeserializeOwned>(
    db: &impl ConnectionTrait,
    id: Uuid,
    user_id: Option<Uuid>,
    kind: Kind,
    now: DateTime<Utc>,
) -> Result<T> {
    let c = find(db, id, user_id, kind, now).await?;
    if !end(db, id).await? {
        return Err(Error::CeremonyExpired);
    }
    decode(&c)
}

/// Reads the state without ending the ceremony (TOTP enrolment allows
/// another try after a mistyped code).
pub async fn peek<T: DeserializeOwned>(
    db: &impl ConnectionTrait,
    id: Uuid,
    user_id: Option<Uuid>,
    kind: Kind,
    now: DateTime<Utc>,
) -> Result<T> {
    decode(&find(db, id, user_id, kind, now).await?)
}

/// Ends a ceremony; true when this call ended it.
pub async fn end(db: &impl ConnectionTrait, id: Uuid) -> Result<bool> {
    Ok(Ceremonies::delete_many().filter(ceremonies::Column::Id.eq(id)).exec(db).await?.rows_affected == 1)
}

/// Ends every ceremony of `kind` that belongs to `user_id`.
pub async fn end_all(db: &impl ConnectionTrait, user_id: Uuid, kind: Kind) -> Result<u64> {
    Ok(Ceremonies::delete_many()
        .filter(ceremonies::Column::UserId.eq(user_id))
        .filter(ceremonies::Column::Kind.eq(kind.as_str()))
        .exec(db)
        .await?
        .rows_affected)
}

/// Removes expired ceremonies.
pub async fn purge_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64> {
    Ok(Ceremonies::delete_many().filter(ceremonies::Column::ExpiresAt.lte(now)).exec(db).await?.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, TestDb};

    async fn ceremonies_are_one_shot_and_scoped(t: TestDb) {
        let db = &t.db;
        let now = testing::t0();
        let user = Some(Uuid::new_v4());
        let id = put(db, user, Kind::PasskeyRegistration, &"state", TTL, now).await.unwrap();
        assert!(
            matches!(take::<String>(db, id, None, Kind::PasskeyRegistration, now).await, Err(Error::CeremonyExpired)),
            "another person"
        );
        assert!(matches!(take::<String>(db, id, user, Kind::TotpEnrolment, now).await, Err(Error::CeremonyExpired)), "another kind");
        assert_eq!(peek::<String>(db, id, user, Kind::PasskeyRegistration, now).await.unwrap(), "state");
        assert_eq!(take::<String>(db, id, user, Kind::PasskeyRegistration, now).await.unwrap(), "state");
        assert!(matches!(take::<String>(db, id, user, Kind::PasskeyRegistration, now).await, Err(Error::CeremonyExpired)), "replay");

        let id = put(db, user, Kind::PasskeyRegistration, &"state", TTL, now).await.unwrap();
        let late = after(now, TTL + Duration::from_secs(1));
        assert!(matches!(take::<String>(db, id, user, Kind::PasskeyRegistration, late).await, Err(Error::CeremonyExpired)), "expired");
        assert_eq!(purge_expired(db, late).await.unwrap(), 1);
    }
    crate::db_test!(ceremonies_are_one_shot_and_scoped);
}
