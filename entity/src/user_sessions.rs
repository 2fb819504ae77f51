use sea_orm::entity::prelude::*;

use crate::Secret;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// Hex SHA-256 of the cookie token; the token itself is never stored.
    #[sea_orm(unique)]
    pub token_hash: Secret,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    pub idle_expires_at: DateTimeUtc,
    pub absolute_expires_at: DateTimeUtc,
    /// When the person last proved who they are in this session.
    pub auth_time: DateTimeUtc,
    /// JSON array of RFC 8176 `amr` values, e.g. `["pwd"]`.
    pub amr: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub revoked_at: Option<DateTimeUtc>,
    /// Whether this session has met My Account's login flow (false when
    /// it began through an application's weaker flow: My Account asks for
    /// the missing step first).
    pub my_account_flow: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::users::Entity", from = "Column::UserId", to = "super::users::Column::Id", on_delete = "Cascade")]
    User,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
