//! Applications people sign in to. My Account is the built-in one; an
//! administrator can switch it off. The switch lives in `app_settings` and is
//! read on every My Account request, so it applies at once on every server
//! instance sharing the database, without a restart.

use chrono::{DateTime, Utc};
use entity::app_settings;
use entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use uuid::Uuid;

use crate::Result;

/// The `app_settings` key holding My Account's switch (`true` / `false`).
const MY_ACCOUNT_ENABLED: &str = "myaccount.enabled";

/// Whether My Account is on, and the last change to that.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalState {
    pub enabled: bool,
    /// `None` until an administrator first changes it (it ships enabled).
    pub changed_at: Option<DateTime<Utc>>,
    pub changed_by: Option<Uuid>,
}

/// My Account's state. Cheap: one primary-key read.
pub async fn my_account(db: &impl ConnectionTrait) -> Result<PortalState> {
    Ok(match AppSettings::find_by_id(MY_ACCOUNT_ENABLED).one(db).await? {
        // Anything but an explicit "false" means enabled: a damaged row must
        // not silently take the portal down.
        Some(row) => PortalState { enabled: row.value != "false", changed_at: Some(row.updated_at), changed_by: row.updated_by },
        None => PortalState { enabled: true, changed_at: None, changed_by: None },
    })
}

/// Switches My Account on or off, recording who did it and when.
/// **Requires:** the caller is an administrator (checked by the caller).
pub async fn set_my_account_enabled(db: &impl ConnectionTrait, enabled: bool, by: Uuid, now: DateTime<Utc>) -> Result<PortalState> {
    put_setting(db, MY_ACCOUNT_ENABLED, &enabled.to_string(), Some(by), now).await?;
    tracing::info!(enabled, by = %by, "My Account switched");
    Ok(PortalState { enabled, changed_at: Some(now), changed_by: Some(by) })
}

/// Writes the `app_settings` row `key` (insert or replace), recording who
/// and when.
pub(crate) async fn put_setting(db: &impl ConnectionTrait, key: &str, value: &str, by: Option<Uuid>, now: DateTime<Utc>) -> Result<()> {
    let row =
        app_settings::ActiveModel { key: Set(key.to_owned()), value: Set(value.to_owned()), updated_at: Set(now), updated_by: Set(by) };
    AppSettings::insert(row)
        .on_conflict(
            OnConflict::column(app_settings::Column::Key)
                .update_columns([app_settings::Column::Value, app_settings::Column::UpdatedAt, app_settings::Column::UpdatedBy])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{self, TestDb};

    async fn the_portal_ships_enabled_and_the_switch_is_recorded(t: TestDb) {
        let ctx = t.ctx();
        let admin = testing::user(&ctx, "root", true).await;
        let now = testing::t0();
        assert_eq!(my_account(&ctx.db).await.unwrap(), PortalState { enabled: true, changed_at: None, changed_by: None });
        set_my_account_enabled(&ctx.db, false, admin.id, now).await.unwrap();
        let s = my_account(&ctx.db).await.unwrap();
        assert_eq!((s.enabled, s.changed_at, s.changed_by), (false, Some(now), Some(admin.id)));
        let later = now + chrono::Duration::minutes(3);
        set_my_account_enabled(&ctx.db, true, admin.id, later).await.unwrap();
        let s = my_account(&ctx.db).await.unwrap();
        assert_eq!((s.enabled, s.changed_at), (true, Some(later)));
    }
    crate::db_test!(the_portal_ships_enabled_and_the_switch_is_recorded);
}
