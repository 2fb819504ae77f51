use sea_orm_migration::{prelude::*, schema::*};

/// One-shot server-side state of multi-request ceremonies (WebAuthn
/// registration and authentication, TOTP enrolment). Never sent to the client.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Ceremonies::Table)
                    .if_not_exists()
                    .col(pk_uuid(Ceremonies::Id))
                    .col(uuid_null(Ceremonies::UserId))
                    .col(string_len(Ceremonies::Kind, 32))
                    .col(text(Ceremonies::State))
                    .col(timestamp_with_time_zone(Ceremonies::CreatedAt))
                    .col(timestamp_with_time_zone(Ceremonies::ExpiresAt))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Ceremonies {
    Table,
    Id,
    UserId,
    Kind,
    State,
    CreatedAt,
    ExpiresAt,
}
