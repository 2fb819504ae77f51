use sea_orm_migration::{prelude::*, schema::*};

/// Versioned login-flow definitions (JSON) per application; the highest
/// version is current, older ones stay for history and restore.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginFlows::Table)
                    .if_not_exists()
                    .col(pk_uuid(LoginFlows::Id))
                    .col(string_len(LoginFlows::App, 64))
                    .col(integer(LoginFlows::Version))
                    .col(text(LoginFlows::Definition))
                    .col(timestamp_with_time_zone(LoginFlows::CreatedAt))
                    .col(uuid_null(LoginFlows::CreatedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_login_flows_app_version")
                    .table(LoginFlows::Table)
                    .col(LoginFlows::App)
                    .col(LoginFlows::Version)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum LoginFlows {
    Table,
    Id,
    App,
    Version,
    Definition,
    CreatedAt,
    CreatedBy,
}
