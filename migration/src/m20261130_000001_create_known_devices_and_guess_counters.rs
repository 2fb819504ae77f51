use sea_orm_migration::{prelude::*, schema::*};

use super::m20261124_000001_create_users::Users;

/// Known devices: a random token per browser and account, stored hashed,
/// with an expiry, so "this browser signed in before" can be revoked (by a
/// password change or reset, or "sign out everywhere else").
///
/// `users.second_factor_after_reset`: see `domain::recovery::reset`.
///
/// Guess counters: consecutive failed proofs per account (or per unknown
/// account name), for the slow-down after ten in a row. Keys are SHA-256
/// hashes, like `rate_limits`; times are Unix milliseconds.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KnownDevices::Table)
                    .if_not_exists()
                    .col(pk_uuid(KnownDevices::Id))
                    .col(string_len_uniq(KnownDevices::TokenHash, 64))
                    .col(uuid(KnownDevices::UserId))
                    .col(timestamp_with_time_zone(KnownDevices::CreatedAt))
                    .col(timestamp_with_time_zone(KnownDevices::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_known_devices_user")
                            .from(KnownDevices::Table, KnownDevices::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("idx_known_devices_user").table(KnownDevices::Table).col(KnownDevices::UserId).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GuessCounters::Table)
                    .if_not_exists()
                    .col(string_len(GuessCounters::Key, 64).primary_key())
                    .col(integer(GuessCounters::Consecutive).default(0))
                    .col(big_integer(GuessCounters::LastAttempt))
                    .col(boolean(GuessCounters::Alerted).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Users::Table).add_column(boolean(Alias::new("second_factor_after_reset")).default(false)).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(GuessCounters::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(KnownDevices::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum KnownDevices {
    Table,
    Id,
    TokenHash,
    UserId,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum GuessCounters {
    Table,
    Key,
    Consecutive,
    LastAttempt,
    Alerted,
}
