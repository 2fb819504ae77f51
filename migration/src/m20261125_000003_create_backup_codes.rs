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
                    .table(BackupCodes::Table)
                    .if_not_exists()
                    .col(pk_uuid(BackupCodes::Id))
                    .col(uuid(BackupCodes::UserId))
                    .col(string_len(BackupCodes::CodeHash, 64))
                    .col(timestamp_with_time_zone(BackupCodes::CreatedAt))
                    .col(timestamp_with_time_zone_null(BackupCodes::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_backup_codes_user")
                            .from(BackupCodes::Table, BackupCodes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_backup_codes_user_hash")
                    .table(BackupCodes::Table)
                    .col(BackupCodes::UserId)
                    .col(BackupCodes::CodeHash)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum BackupCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    CreatedAt,
    UsedAt,
}
