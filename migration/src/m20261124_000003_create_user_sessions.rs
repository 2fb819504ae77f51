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
                    .table(UserSessions::Table)
                    .if_not_exists()
                    .col(pk_uuid(UserSessions::Id))
                    .col(uuid(UserSessions::UserId))
                    .col(string_len_uniq(UserSessions::TokenHash, 64))
                    .col(timestamp_with_time_zone(UserSessions::CreatedAt))
                    .col(timestamp_with_time_zone(UserSessions::LastSeenAt))
                    .col(timestamp_with_time_zone(UserSessions::IdleExpiresAt))
                    .col(timestamp_with_time_zone(UserSessions::AbsoluteExpiresAt))
                    .col(timestamp_with_time_zone(UserSessions::AuthTime))
                    .col(string_len(UserSessions::Amr, 255))
                    .col(string_len_null(UserSessions::Ip, 45))
                    .col(string_len_null(UserSessions::UserAgent, 512))
                    .col(timestamp_with_time_zone_null(UserSessions::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_sessions_user")
                            .from(UserSessions::Table, UserSessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("idx_user_sessions_user_id").table(UserSessions::Table).col(UserSessions::UserId).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(UserSessions::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum UserSessions {
    Table,
    Id,
    UserId,
    TokenHash,
    CreatedAt,
    LastSeenAt,
    IdleExpiresAt,
    AbsoluteExpiresAt,
    AuthTime,
    Amr,
    Ip,
    UserAgent,
    RevokedAt,
}
