use sea_orm_migration::{prelude::*, schema::*};

use super::m20261124_000001_create_users::Users;

/// A sign-in in fewer statements:
/// - `guess_counters.tat`: an account's hourly bucket of failures (GCRA
///   theoretical arrival time, Unix ms) lives in its guess-counter row, so
///   one statement reserves an attempt against both rules and one gives it
///   back (`domain::budget`). Their old `rate_limits` rows are left to
///   expire.
/// - `users.last_login_at` / `last_login_ip` go: nothing read them (the
///   last sign-ins are the session rows and the activity log), and writing
///   them cost every sign-in an UPDATE.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(GuessCounters::Table).add_column(big_integer(GuessCounters::Tat).default(0)).to_owned())
            .await?;
        // One column per statement: SQLite alters one thing at a time.
        for column in [Alias::new("last_login_at"), Alias::new("last_login_ip")] {
            manager.alter_table(Table::alter().table(Users::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Users::Table).add_column(timestamp_with_time_zone_null(Alias::new("last_login_at"))).to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table(Users::Table).add_column(string_len_null(Alias::new("last_login_ip"), 45)).to_owned())
            .await?;
        manager.alter_table(Table::alter().table(GuessCounters::Table).drop_column(GuessCounters::Tat).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum GuessCounters {
    Table,
    Tat,
}
