use sea_orm::entity::prelude::*;

use crate::Secret;

/// A person's answer to one security question, as an argon2id hash of the
/// normalised answer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "security_answers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// A question id from `proto::recovery::QUESTIONS`.
    pub question: String,
    pub answer_hash: Secret,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
