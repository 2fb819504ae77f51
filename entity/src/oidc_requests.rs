use sea_orm::entity::prelude::*;

/// An authorization request waiting for the person (see `domain::oidc::requests`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oidc_requests")]
pub struct Model {
    /// SHA-256 of the random handle the browser carries.
    #[sea_orm(primary_key, auto_increment = false)]
    pub handle_hash: String,
    pub app_id: Uuid,
    /// The checked request parameters, as JSON.
    pub params: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
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
}

impl Related<super::applications::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::App.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
