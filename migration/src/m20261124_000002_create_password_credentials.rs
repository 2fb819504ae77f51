use sea_orm_migration::{prelude::*, schema::*};

use super::m20261124_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PasswordCredentials::Table)
                    .if_not_exists()
                    .col(pk_uuid(PasswordCredentials::Id))
                    .col(uuid_uniq(PasswordCredentials::UserId))
                    .col(string_len(PasswordCredentials::PasswordHash, 255))
                    .col(timestamp_with_time_zone(PasswordCredentials::CreatedAt))
                    .col(timestamp_with_time_zone(PasswordCredentials::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_password_credentials_user")
                            .from(PasswordCredentials::Table, PasswordCredentials::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PasswordCredentials::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum PasswordCredentials {
    Table,
    Id,
    UserId,
    PasswordHash,
    CreatedAt,
    UpdatedAt,
}
