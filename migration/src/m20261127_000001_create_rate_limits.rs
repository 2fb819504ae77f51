use sea_orm_migration::{prelude::*, schema::*};

/// Rate-limit buckets shared by every instance on the database (GCRA: one
/// "theoretical arrival time" per key, in Unix milliseconds). Keys are
/// SHA-256 hashes, so the account names people tried are not stored.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateLimits::Table)
                    .if_not_exists()
                    .col(string_len(RateLimits::Key, 64).primary_key())
                    .col(big_integer(RateLimits::Tat))
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("idx_rate_limits_tat").table(RateLimits::Table).col(RateLimits::Tat).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RateLimits::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum RateLimits {
    Table,
    Key,
    Tat,
}
