use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(pk_uuid(Users::Id))
                    .col(string_len_uniq(Users::Username, 64))
                    .col(string_len_uniq(Users::Email, 254))
                    .col(boolean(Users::EmailVerified).default(false))
                    .col(string_len_null(Users::GivenName, 100))
                    .col(string_len_null(Users::FamilyName, 100))
                    .col(string_len_null(Users::DisplayName, 100))
                    .col(string_len_null(Users::Phone, 16))
                    .col(string_len_null(Users::Locale, 35))
                    .col(string_len_null(Users::TimeZone, 64))
                    .col(string_len_null(Users::PictureUrl, 2048))
                    .col(boolean(Users::IsAdmin).default(false))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Users::LastLoginAt))
                    .col(string_len_null(Users::LastLoginIp, 45))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Users::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Users {
    Table,
    Id,
    Username,
    Email,
    EmailVerified,
    GivenName,
    FamilyName,
    DisplayName,
    Phone,
    Locale,
    TimeZone,
    PictureUrl,
    IsAdmin,
    CreatedAt,
    UpdatedAt,
    LastLoginAt,
    LastLoginIp,
}
