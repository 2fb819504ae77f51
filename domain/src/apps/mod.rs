//! Applications people sign in to. My Account is the built-in one (handle
//! [`MY_ACCOUNT`]), created by a migration; it can be switched off but not
//! edited or deleted. Each application has its own login flow (keyed by its
//! handle, see `flows`) and its own switch, read on every request so a
//! change applies at once on every instance sharing the database.

pub mod discover;
pub mod input;
pub mod logo;

use chrono::{DateTime, Utc};
use entity::prelude::*;
use entity::{app_settings, application_logos, applications, login_flows};
use sea_orm::sea_query::{Expr, Func, LikeExpr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, ExprTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{Error, Result};

/// My Account's handle (and the key of its login flow).
pub const MY_ACCOUNT: &str = "myaccount";
/// My Account's id, fixed by its migration.
pub const MY_ACCOUNT_ID: Uuid = Uuid::from_u128(1);

pub type App = applications::Model;

/// Handles no registered application gets: My Account's, and the
/// console's page for a new one (`/admin/applications/new`).
const RESERVED_HANDLES: &[&str] = &[MY_ACCOUNT, "new"];

/// Whether My Account is on, and the last change to that.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalState {
    pub enabled: bool,
    /// `None` until an administrator first changes it (it ships enabled).
    pub changed_at: Option<DateTime<Utc>>,
    pub changed_by: Option<Uuid>,
}

/// My Account's state. Cheap: one primary-key read of a few columns.
pub async fn my_account(db: &impl ConnectionTrait) -> Result<PortalState> {
    let row: Option<(bool, Option<DateTime<Utc>>, Option<Uuid>)> = Applications::find_by_id(MY_ACCOUNT_ID)
        .select_only()
        .columns([applications::Column::Enabled, applications::Column::SwitchedAt, applications::Column::SwitchedBy])
        .into_tuple()
        .one(db)
        .await?;
    let (enabled, changed_at, changed_by) = row.ok_or_else(|| Error::Internal("My Account's row is missing".into()))?;
    Ok(PortalState { enabled, changed_at, changed_by })
}

/// Switches My Account on or off (see [`set_enabled`]).
pub async fn set_my_account_enabled(db: &impl ConnectionTrait, enabled: bool, by: Uuid, now: DateTime<Utc>) -> Result<PortalState> {
    set_enabled(db, MY_ACCOUNT, enabled, by, now).await?;
    Ok(PortalState { enabled, changed_at: Some(now), changed_by: Some(by) })
}

/// The applications whose name contains `search` (any case), My Account
/// first, then by name.
pub async fn list(db: &impl ConnectionTrait, search: Option<&str>) -> Result<Vec<App>> {
    let mut q = Applications::find();
    if let Some(pattern) = like_pattern(search) {
        q = q.filter(Expr::expr(Func::lower(Expr::col(applications::Column::Name))).like(pattern));
    }
    Ok(q.order_by_desc(applications::Column::BuiltIn).order_by_asc(applications::Column::Name).all(db).await?)
}

/// `LIKE` pattern for "name contains `search`", or `None` for no filter.
pub(crate) fn like_pattern(search: Option<&str>) -> Option<LikeExpr> {
    let s = search.map(str::trim).filter(|s| !s.is_empty())?;
    let s: String = s.chars().take(100).flat_map(char::to_lowercase).collect();
    let escaped = s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    Some(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// The application with `handle`.
pub async fn get(db: &impl ConnectionTrait, handle: &str) -> Result<App> {
    Applications::find().filter(applications::Column::Handle.eq(handle)).one(db).await?.ok_or(Error::NotFound)
}

/// What an administrator sends to create or edit an application. Fields
/// are raw form text; every one is checked ([`input`]).
#[derive(Clone, Debug, Default)]
pub struct AppInput {
    pub name: String,
    pub description: String,
    pub access_url: String,
    pub logo_url: String,
    /// A new uploaded logo (raw file bytes), replacing any logo.
    pub logo_upload: Option<Vec<u8>>,
    /// Drop the current logo (ignored when a new one is given).
    pub remove_logo: bool,
    pub discoverable: bool,
}

/// An input checked field by field: every problem at once.
struct Checked {
    name: String,
    description: String,
    access_url: String,
    logo_url: Option<String>,
    logo: Option<logo::CleanLogo>,
}

fn check(input: &AppInput) -> Result<Checked> {
    let mut problems = Vec::new();
    let mut take =
        |field: &'static str, r: std::result::Result<String, String>| r.map_err(|m| problems.push((field, m))).unwrap_or_default();
    let name = take("name", input::name(&input.name));
    let description = take("description", input::description(&input.description));
    let access_url = take("access_url", input::access_url(&input.access_url));
    let logo = input.logo_upload.as_deref().map(logo::clean).transpose().map_err(|m| problems.push(("logo", m))).unwrap_or_default();
    let logo_url = input::logo_url(&input.logo_url).map_err(|m| problems.push(("logo_url", m))).unwrap_or_default();
    if !problems.is_empty() {
        return Err(Error::InvalidFields(problems));
    }
    Ok(Checked { name, description, access_url, logo_url, logo })
}

/// Registers an application (enabled; its login flow starts as the
/// default). Refused, storing nothing, with a message per field.
pub async fn create(db: &DatabaseConnection, input: &AppInput, by: Uuid, now: DateTime<Utc>) -> Result<App> {
    let txn = crate::db::begin_write(db).await?;
    let app = insert(&txn, input, Some(by), now).await?;
    txn.commit().await?;
    Ok(app)
}

/// [`create`] inside the caller's transaction; `by` is `None` from the CLI.
pub(crate) async fn insert(txn: &DatabaseTransaction, input: &AppInput, by: Option<Uuid>, now: DateTime<Utc>) -> Result<App> {
    let c = check(input)?;
    ensure_name_free(txn, &c.name, None).await?;
    let handle = free_handle(txn, &input::handle_from(&c.name)).await?;
    let id = Uuid::now_v7();
    let row = applications::ActiveModel {
        id: Set(id),
        handle: Set(handle),
        name: Set(c.name),
        description: Set(c.description),
        logo_url: Set(c.logo_url),
        logo_version: Set(None),
        access_url: Set(c.access_url),
        discoverable: Set(input.discoverable),
        enabled: Set(true),
        built_in: Set(false),
        created_at: Set(now),
        created_by: Set(by),
        updated_at: Set(now),
        updated_by: Set(by),
        switched_at: Set(None),
        switched_by: Set(None),
    };
    let mut app = row.insert(txn).await?;
    if let Some(l) = c.logo {
        app = store_logo(txn, app, l).await?;
    }
    tracing::info!(app = %app.handle, by = ?by, "application registered");
    Ok(app)
}

/// Edits an application's details (not its handle). My Account's are fixed.
pub async fn update(db: &DatabaseConnection, handle: &str, input: &AppInput, by: Uuid, now: DateTime<Utc>) -> Result<App> {
    let c = check(input)?;
    let txn = crate::db::begin_write(db).await?;
    let app = get(&txn, handle).await?;
    if app.built_in {
        return Err(Error::Refused("My Account is built in: its details can't be changed.".into()));
    }
    ensure_name_free(&txn, &c.name, Some(app.id)).await?;
    let had_upload = app.logo_version.is_some();
    let mut row = app.into_active_model();
    row.name = Set(c.name);
    row.description = Set(c.description);
    row.access_url = Set(c.access_url);
    row.discoverable = Set(input.discoverable);
    row.updated_at = Set(now);
    row.updated_by = Set(Some(by));
    // The logo changes when a file or an address is given, when asked to
    // drop it, or when the address field was emptied (an uploaded logo is
    // kept when the form leaves both empty).
    if c.logo.is_some() || c.logo_url.is_some() || input.remove_logo || !had_upload {
        if had_upload {
            ApplicationLogos::delete_by_id(*row.id.as_ref()).exec(&txn).await?;
            row.logo_version = Set(None);
        }
        row.logo_url = Set(c.logo_url);
    }
    let mut app = row.update(&txn).await?;
    if let Some(l) = c.logo {
        app = store_logo(&txn, app, l).await?;
    }
    txn.commit().await?;
    tracing::info!(app = %app.handle, by = %by, "application edited");
    Ok(app)
}

async fn store_logo(db: &impl ConnectionTrait, app: App, l: logo::CleanLogo) -> Result<App> {
    let version = hex::encode(&Sha256::digest(&l.bytes)[..8]);
    ApplicationLogos::insert(application_logos::ActiveModel {
        app_id: Set(app.id),
        content_type: Set(l.content_type.to_owned()),
        bytes: Set(l.bytes),
    })
    .exec(db)
    .await?;
    let mut row = app.into_active_model();
    row.logo_version = Set(Some(version));
    row.logo_url = Set(None);
    Ok(row.update(db).await?)
}

/// An uploaded logo: its content type and bytes.
pub async fn logo(db: &impl ConnectionTrait, app_id: Uuid) -> Result<(String, Vec<u8>)> {
    let l = ApplicationLogos::find_by_id(app_id).one(db).await?.ok_or(Error::NotFound)?;
    Ok((l.content_type, l.bytes))
}

async fn ensure_name_free(db: &impl ConnectionTrait, name: &str, except: Option<Uuid>) -> Result<()> {
    let mut q = Applications::find()
        .select_only()
        .column(applications::Column::Id)
        .filter(Expr::expr(Func::lower(Expr::col(applications::Column::Name))).eq(name.to_lowercase()));
    if let Some(id) = except {
        q = q.filter(applications::Column::Id.ne(id));
    }
    if q.into_tuple::<Uuid>().one(db).await?.is_some() {
        return Err(Error::InvalidFields(vec![("name", "Another application already has this name.".into())]));
    }
    Ok(())
}

/// `base`, or `base-2`, `base-3`… whichever is free (the unique index on
/// the handle stays the final guard).
async fn free_handle(db: &impl ConnectionTrait, base: &str) -> Result<String> {
    let taken: Vec<String> = Applications::find()
        .select_only()
        .column(applications::Column::Handle)
        .filter(applications::Column::Handle.like(format!("{base}%")))
        .into_tuple()
        .all(db)
        .await?;
    let free = |h: &String| !taken.contains(h) && !RESERVED_HANDLES.contains(&h.as_str());
    let mut handle = base.to_owned();
    let mut n = 1;
    while !free(&handle) {
        n += 1;
        handle = format!("{base}-{n}");
    }
    Ok(handle)
}

/// Switches an application on or off, recording who did it and when.
/// **Requires:** the caller is an administrator (checked by the caller).
pub async fn set_enabled(db: &impl ConnectionTrait, handle: &str, enabled: bool, by: Uuid, now: DateTime<Utc>) -> Result<App> {
    let app = get(db, handle).await?;
    let mut row = app.into_active_model();
    row.enabled = Set(enabled);
    row.switched_at = Set(Some(now));
    row.switched_by = Set(Some(by));
    let app = row.update(db).await?;
    tracing::info!(app = %app.handle, enabled, by = %by, "application switched");
    Ok(app)
}

/// Deletes an application, its login flow, logo, favourites and launches.
/// `confirm_name` must be its name as typed by the administrator. My
/// Account can't be deleted.
pub async fn delete(db: &DatabaseConnection, handle: &str, confirm_name: &str, by: Option<Uuid>) -> Result<()> {
    let txn = crate::db::begin_write(db).await?;
    let app = get(&txn, handle).await?;
    if app.built_in {
        return Err(Error::Refused("My Account is built in and can't be deleted. You can disable it instead.".into()));
    }
    if confirm_name.trim() != app.name {
        return Err(Error::InvalidFields(vec![("confirm_name", format!("Type the application's name, {}, to confirm.", app.name))]));
    }
    LoginFlows::delete_many().filter(login_flows::Column::App.eq(&app.handle)).exec(&txn).await?;
    Applications::delete_by_id(app.id).exec(&txn).await?;
    txn.commit().await?;
    tracing::info!(app = %app.handle, by = ?by, "application deleted");
    Ok(())
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
mod tests;
