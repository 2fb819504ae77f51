use sea_orm::entity::prelude::*;

use crate::Secret;

/// One authorization: its code and the tokens issued under it (see `domain::oidc::grants`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oidc_grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub app_id: Uuid,
    /// The Latchkey session the person authorized from.
    pub session_id: Option<Uuid>,
    /// Space-separated scopes granted.
    pub scopes: String,
    /// JSON array of userinfo claims asked for one by one (`claims` parameter).
    pub claims: String,
    pub nonce: Option<String>,
    pub auth_time: DateTimeUtc,
    /// JSON array of RFC 8176 values.
    pub amr: String,
    /// SHA-256 of the authorization code.
    #[sea_orm(unique)]
    pub code_hash: Secret,
    pub code_expires_at: DateTimeUtc,
    pub code_used_at: Option<DateTimeUtc>,
    pub redirect_uri: String,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::applications::Entity",
        from = "Column::AppId",
        to = "super::applications::Column::Id",
        on_delete = "Cascade"
    )]
    App,
    #[sea_orm(belongs_to = "super::users::Entity", from = "Column::UserId", to = "super::users::Column::Id", on_delete = "Cascade")]
    User,
    #[sea_orm(has_many = "super::oidc_tokens::Entity")]
    Tokens,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::oidc_tokens::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tokens.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
