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
                    .table(TotpCredentials::Table)
                    .if_not_exists()
                    .col(pk_uuid(TotpCredentials::Id))
                    .col(uuid(TotpCredentials::UserId))
                    .col(string_len(TotpCredentials::Name, 64))
                    .col(text(TotpCredentials::SecretEnc))
                    .col(timestamp_with_time_zone(TotpCredentials::CreatedAt))
                    .col(timestamp_with_time_zone_null(TotpCredentials::LastUsedAt))
                    .col(big_integer_null(TotpCredentials::LastUsedStep))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_totp_credentials_user")
                            .from(TotpCredentials::Table, TotpCredentials::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_totp_credentials_user").table(TotpCredentials::Table).col(TotpCredentials::UserId).to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum TotpCredentials {
    Table,
    Id,
    UserId,
    Name,
    SecretEnc,
    CreatedAt,
    LastUsedAt,
    LastUsedStep,
}
