use sea_orm::entity::prelude::*;

use crate::Secret;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "partial_logins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// SHA-256 of the browser's partial sign-in cookie.
    #[sea_orm(unique)]
    pub token_hash: Secret,
    pub user_id: Uuid,
    /// The application whose login flow this sign-in follows (its handle),
    /// at `flow_version`.
    pub app: String,
    pub flow_version: i32,
    /// JSON array of completed `proto::flow::Method`s.
    pub methods: String,
    pub failures: i32,
    pub new_device: bool,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
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
