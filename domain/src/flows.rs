//! Stored login flows: versioned JSON per application. The newest version
//! applies to the next sign-in; older ones are kept to compare and restore.

use chrono::{DateTime, Utc};
use entity::login_flows;
use entity::prelude::*;
use proto::flow::Flow;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::{Error, Result};

/// My Account's flow.
pub const MY_ACCOUNT: &str = "myaccount";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFlow {
    /// 0 for the built-in default (never saved).
    pub version: i32,
    pub flow: Flow,
    pub created_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
}

fn parse(m: login_flows::Model) -> Result<StoredFlow> {
    let flow = serde_json::from_str(&m.definition).map_err(|e| Error::Internal(format!("stored flow v{}: {e}", m.version)))?;
    Ok(StoredFlow { version: m.version, flow, created_at: Some(m.created_at), created_by: m.created_by })
}

/// The flow that applies now (the built-in default until one is saved).
pub async fn current(db: &impl ConnectionTrait, app: &str) -> Result<StoredFlow> {
    let latest = LoginFlows::find().filter(login_flows::Column::App.eq(app)).order_by_desc(login_flows::Column::Version).one(db).await?;
    match latest {
        Some(m) => parse(m),
        None => Ok(StoredFlow { version: 0, flow: Flow::default_my_account(), created_at: None, created_by: None }),
    }
}

/// Every saved version, newest first.
pub async fn history(db: &impl ConnectionTrait, app: &str) -> Result<Vec<StoredFlow>> {
    LoginFlows::find()
        .filter(login_flows::Column::App.eq(app))
        .order_by_desc(login_flows::Column::Version)
        .all(db)
        .await?
        .into_iter()
        .map(parse)
        .collect()
}

/// Saves `flow` as the next version. **Requires:** the caller validated it.
pub async fn save(db: &impl ConnectionTrait, app: &str, flow: &Flow, by: Option<Uuid>, now: DateTime<Utc>) -> Result<StoredFlow> {
    let problems = flow.validate();
    if let Some(p) = problems.first() {
        return Err(Error::invalid("flow", p.message.clone()));
    }
    let version = current(db, app).await?.version + 1;
    let definition = serde_json::to_string(flow).map_err(|e| Error::Internal(e.to_string()))?;
    let m = login_flows::ActiveModel {
        id: Set(Uuid::now_v7()),
        app: Set(app.to_owned()),
        version: Set(version),
        definition: Set(definition),
        created_at: Set(now),
        created_by: Set(by),
    }
    .insert(db)
    .await?;
    parse(m)
}
