use sea_orm_migration::{prelude::*, schema::*};

use super::m20261124_000001_create_users::Users;

/// A person's security history: sign-ins, failures, enrolments, removals.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuthEvents::Table)
                    .if_not_exists()
                    .col(pk_uuid(AuthEvents::Id))
                    .col(uuid(AuthEvents::UserId))
                    .col(string_len(AuthEvents::Kind, 48))
                    .col(string_len_null(AuthEvents::Method, 32))
                    .col(string_len_null(AuthEvents::Ip, 45))
                    .col(string_len_null(AuthEvents::UserAgent, 512))
                    .col(string_len_null(AuthEvents::Detail, 255))
                    .col(timestamp_with_time_zone(AuthEvents::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_auth_events_user")
                            .from(AuthEvents::Table, AuthEvents::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_auth_events_user_time")
                    .table(AuthEvents::Table)
                    .col(AuthEvents::UserId)
                    .col(AuthEvents::CreatedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum AuthEvents {
    Table,
    Id,
    UserId,
    Kind,
    Method,
    Ip,
    UserAgent,
    Detail,
    CreatedAt,
}
