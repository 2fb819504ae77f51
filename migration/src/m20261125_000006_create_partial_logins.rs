use sea_orm_migration::{prelude::*, schema::*};

use super::m20261124_000001_create_users::Users;

/// Half-finished sign-ins (step 1 passed). They grant nothing until the last
/// step; bound to the browser by a cookie whose hash is stored here.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PartialLogins::Table)
                    .if_not_exists()
                    .col(pk_uuid(PartialLogins::Id))
                    .col(string_len_uniq(PartialLogins::TokenHash, 64))
                    .col(uuid(PartialLogins::UserId))
                    .col(integer(PartialLogins::FlowVersion))
                    .col(string_len(PartialLogins::Methods, 255))
                    .col(integer(PartialLogins::Failures).default(0))
                    .col(boolean(PartialLogins::NewDevice).default(false))
                    .col(timestamp_with_time_zone(PartialLogins::CreatedAt))
                    .col(timestamp_with_time_zone(PartialLogins::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_partial_logins_user")
                            .from(PartialLogins::Table, PartialLogins::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum PartialLogins {
    Table,
    Id,
    TokenHash,
    UserId,
    FlowVersion,
    Methods,
    Failures,
    NewDevice,
    CreatedAt,
    ExpiresAt,
}
