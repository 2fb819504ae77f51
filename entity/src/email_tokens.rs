use sea_orm::entity::prelude::*;

use crate::Secret;

/// One-time links sent by mail: verify an address, reset a password. Only
/// the SHA-256 of the token is kept; each is bound to the address it went to.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// `verify_email`, `verify_recovery_email` or `reset_password`.
    pub purpose: String,
    #[sea_orm(unique)]
    pub token_hash: Secret,
    pub address: String,
    /// Wrong answers given with this link (password reset).
    pub failures: i32,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
