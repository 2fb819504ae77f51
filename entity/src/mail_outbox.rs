use sea_orm::entity::prelude::*;

use crate::Secret;

/// Mail waiting to be sent. The message (subject, bodies, links) is sealed
/// with the server key: links in it are live credentials until used.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub to_address: String,
    /// The subject, for logs (never holds a link or code).
    pub subject: String,
    pub sealed: Secret,
    pub attempts: i32,
    pub created_at: DateTimeUtc,
    /// Due time; while a sender works on it, a lease a few minutes ahead.
    pub next_attempt_at: DateTimeUtc,
    /// Set when every retry failed; the row is kept for an operator.
    pub failed_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
