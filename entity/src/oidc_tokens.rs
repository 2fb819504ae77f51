use sea_orm::entity::prelude::*;

/// An access or refresh token, by its SHA-256 (see `domain::oidc::grants`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oidc_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub grant_id: Uuid,
    /// `access` or `refresh`.
    pub kind: String,
    /// Space-separated scopes this token carries.
    pub scopes: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// A refresh token is used once; using it again revokes the grant.
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::oidc_grants::Entity",
        from = "Column::GrantId",
        to = "super::oidc_grants::Column::Id",
        on_delete = "Cascade"
    )]
    Grant,
}

impl Related<super::oidc_grants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Grant.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
