use sea_orm_migration::{prelude::*, schema::*};

use super::m20261124_000001_create_users::Users;

/// A postal address on the profile (Personal info), released to
/// applications as the OpenID Connect `address` claim (`formatted`) when the
/// person allows the `address` scope.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Users::Table).add_column(text_null(Address::Address)).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Users::Table).drop_column(Address::Address).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Address {
    Address,
}
