//! My Account's Applications: what a person may launch, their favourites
//! and the applications they used last. Only enabled, discoverable
//! applications other than My Account are ever listed or launched.

use chrono::{DateTime, Utc};
use entity::prelude::*;
use entity::{app_favourites, app_launches, applications};
use sea_orm::sea_query::{Expr, Func, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use std::collections::HashSet;
use uuid::Uuid;

use super::{App, like_pattern};
use crate::{Error, Result};

/// How many recently used applications are kept per person.
pub const RECENT: u64 = 5;

/// An application as a person sees it in My Account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub app: App,
    pub favourite: bool,
}

/// The Applications page of one person.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Discover {
    /// Matching `search`: favourites first, then by name.
    pub apps: Vec<Listed>,
    /// Last used first (at most [`RECENT`]); not filtered by `search`.
    pub recent: Vec<App>,
}

fn launchable() -> sea_orm::Select<Applications> {
    Applications::find()
        .filter(applications::Column::Enabled.eq(true))
        .filter(applications::Column::Discoverable.eq(true))
        .filter(applications::Column::BuiltIn.eq(false))
}

/// What `user` may launch, whose name contains `search`. Three statements.
pub async fn list(db: &impl ConnectionTrait, user: Uuid, search: Option<&str>) -> Result<Discover> {
    let mut q = launchable();
    if let Some(pattern) = like_pattern(search) {
        q = q.filter(Expr::expr(Func::lower(Expr::col(applications::Column::Name))).like(pattern));
    }
    let apps = q.order_by_asc(applications::Column::Name).all(db).await?;
    let favourites: HashSet<Uuid> = AppFavourites::find()
        .select_only()
        .column(app_favourites::Column::AppId)
        .filter(app_favourites::Column::UserId.eq(user))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut apps: Vec<Listed> = apps.into_iter().map(|app| Listed { favourite: favourites.contains(&app.id), app }).collect();
    apps.sort_by_key(|l| !l.favourite); // stable: by name within each group
    let recent = launchable()
        .inner_join(AppLaunches)
        .filter(app_launches::Column::UserId.eq(user))
        .order_by_desc(app_launches::Column::UsedAt)
        .limit(RECENT)
        .all(db)
        .await?;
    Ok(Discover { apps, recent })
}

/// Whether anything at all is listed for people.
pub async fn any(db: &impl ConnectionTrait) -> Result<bool> {
    Ok(launchable().select_only().column(applications::Column::Id).into_tuple::<Uuid>().one(db).await?.is_some())
}

/// The launchable application with `handle`; `NotFound` for any other
/// (unknown, disabled, hidden, or My Account), alike.
pub async fn launchable_app(db: &impl ConnectionTrait, handle: &str) -> Result<App> {
    launchable().filter(applications::Column::Handle.eq(handle)).one(db).await?.ok_or(Error::NotFound)
}

/// Stars or un-stars an application for `user`.
pub async fn set_favourite(db: &impl ConnectionTrait, user: Uuid, handle: &str, on: bool, now: DateTime<Utc>) -> Result<()> {
    let app = launchable_app(db, handle).await?;
    if on {
        let row = app_favourites::ActiveModel { user_id: Set(user), app_id: Set(app.id), created_at: Set(now) };
        AppFavourites::insert(row)
            .on_conflict(OnConflict::columns([app_favourites::Column::UserId, app_favourites::Column::AppId]).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
    } else {
        AppFavourites::delete_by_id((user, app.id)).exec(db).await?;
    }
    Ok(())
}

/// Records that `user` launched (or signed in to) `app` now, keeping only
/// their [`RECENT`] latest.
pub async fn record_use(db: &impl ConnectionTrait, user: Uuid, app: Uuid, now: DateTime<Utc>) -> Result<()> {
    let row = app_launches::ActiveModel { user_id: Set(user), app_id: Set(app), used_at: Set(now) };
    AppLaunches::insert(row)
        .on_conflict(
            OnConflict::columns([app_launches::Column::UserId, app_launches::Column::AppId])
                .update_column(app_launches::Column::UsedAt)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let keep = Query::select()
        .column(app_launches::Column::AppId)
        .from(AppLaunches)
        .and_where(app_launches::Column::UserId.eq(user))
        .order_by(app_launches::Column::UsedAt, sea_orm::Order::Desc)
        .limit(RECENT)
        .to_owned();
    AppLaunches::delete_many()
        .filter(app_launches::Column::UserId.eq(user))
        .filter(app_launches::Column::AppId.not_in_subquery(keep))
        .exec(db)
        .await?;
    Ok(())
}
