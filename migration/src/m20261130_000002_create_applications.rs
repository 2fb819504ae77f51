use sea_orm_migration::sea_orm::{ConnectionTrait, Value};
use sea_orm_migration::{prelude::*, schema::*};

use super::m20261124_000001_create_users::Users;

/// Applications people sign in to (`domain::apps`). My Account becomes the
/// built-in one, with a fixed id: its switch moves here from the
/// `app_settings` key `myaccount.enabled` (value, who and when carried
/// over, the key removed). Login flows stay keyed by the application's
/// handle, and My Account's handle is the key they already use.
///
/// Uploaded logos live in their own table, so listing applications never
/// reads image bytes. Favourites and recent launches are per person and
/// go with the account or the application.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// `domain::apps::MY_ACCOUNT_ID`.
const MY_ACCOUNT_ID: u128 = 1;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Applications::Table)
                    .if_not_exists()
                    .col(pk_uuid(Applications::Id))
                    .col(string_len_uniq(Applications::Handle, 64))
                    .col(string_len(Applications::Name, 100))
                    .col(text(Applications::Description))
                    .col(text_null(Applications::LogoUrl))
                    .col(string_len_null(Applications::LogoVersion, 64))
                    .col(text(Applications::AccessUrl))
                    .col(boolean(Applications::Discoverable))
                    .col(boolean(Applications::Enabled))
                    .col(boolean(Applications::BuiltIn))
                    .col(timestamp_with_time_zone(Applications::CreatedAt))
                    .col(uuid_null(Applications::CreatedBy))
                    .col(timestamp_with_time_zone(Applications::UpdatedAt))
                    .col(uuid_null(Applications::UpdatedBy))
                    .col(timestamp_with_time_zone_null(Applications::SwitchedAt))
                    .col(uuid_null(Applications::SwitchedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApplicationLogos::Table)
                    .if_not_exists()
                    .col(uuid(ApplicationLogos::AppId).primary_key())
                    .col(string_len(ApplicationLogos::ContentType, 32))
                    .col(blob(ApplicationLogos::Bytes))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_application_logos_app")
                            .from(ApplicationLogos::Table, ApplicationLogos::AppId)
                            .to(Applications::Table, Applications::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (table, at) in [(AppPicks::Favourites, AppPicks::CreatedAt), (AppPicks::Launches, AppPicks::UsedAt)] {
            manager
                .create_table(
                    Table::create()
                        .table(table)
                        .if_not_exists()
                        .col(uuid(AppPicks::UserId))
                        .col(uuid(AppPicks::AppId))
                        .col(timestamp_with_time_zone(at))
                        .primary_key(Index::create().col(AppPicks::UserId).col(AppPicks::AppId))
                        .foreign_key(
                            ForeignKey::create()
                                .name(format!("fk_{}_user", table.to_string()))
                                .from(table, AppPicks::UserId)
                                .to(Users::Table, Users::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .name(format!("fk_{}_app", table.to_string()))
                                .from(table, AppPicks::AppId)
                                .to(Applications::Table, Applications::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .to_owned(),
                )
                .await?;
        }
        carry_my_account_over(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [AppPicks::Launches, AppPicks::Favourites] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(ApplicationLogos::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Applications::Table).to_owned()).await
    }
}

/// Creates My Account's row with the state of the old `app_settings` switch.
async fn carry_my_account_over(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let old = db
        .query_one(
            &Query::select()
                .columns([AppSettings::Value, AppSettings::UpdatedAt, AppSettings::UpdatedBy])
                .from(AppSettings::Table)
                .and_where(Expr::col(AppSettings::Key).eq("myaccount.enabled"))
                .to_owned(),
        )
        .await?;
    let (enabled, switched_at, switched_by) = match &old {
        // As the old reader did: anything but an explicit "false" is on.
        Some(row) => (
            row.try_get::<String>("", "value")? != "false",
            Some(row.try_get::<chrono::DateTime<chrono::Utc>>("", "updated_at")?),
            row.try_get::<Option<uuid::Uuid>>("", "updated_by")?,
        ),
        None => (true, None, None),
    };
    // A migration runs once, at upgrade: when it ran is the real time.
    #[allow(clippy::disallowed_methods)]
    let now = chrono::Utc::now();
    let insert = Query::insert()
        .into_table(Applications::Table)
        .columns([
            Applications::Id,
            Applications::Handle,
            Applications::Name,
            Applications::Description,
            Applications::AccessUrl,
            Applications::Discoverable,
            Applications::Enabled,
            Applications::BuiltIn,
            Applications::CreatedAt,
            Applications::UpdatedAt,
            Applications::SwitchedAt,
            Applications::SwitchedBy,
        ])
        .values([
            Value::from(uuid::Uuid::from_u128(MY_ACCOUNT_ID)).into(),
            "myaccount".into(),
            "My Account".into(),
            "The self-service portal where people manage their profile, sign-in methods and security. Built in.".into(),
            "/myaccount".into(),
            false.into(),
            enabled.into(),
            true.into(),
            now.into(),
            now.into(),
            switched_at.into(),
            switched_by.into(),
        ])
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .to_owned();
    db.execute(&insert).await?;
    db.execute(&Query::delete().from_table(AppSettings::Table).and_where(Expr::col(AppSettings::Key).eq("myaccount.enabled")).to_owned())
        .await?;
    Ok(())
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
    Handle,
    Name,
    Description,
    LogoUrl,
    LogoVersion,
    AccessUrl,
    Discoverable,
    Enabled,
    BuiltIn,
    CreatedAt,
    CreatedBy,
    UpdatedAt,
    UpdatedBy,
    SwitchedAt,
    SwitchedBy,
}

#[derive(DeriveIden)]
enum ApplicationLogos {
    Table,
    AppId,
    ContentType,
    Bytes,
}

#[derive(DeriveIden, Clone, Copy)]
enum AppPicks {
    #[sea_orm(iden = "app_favourites")]
    Favourites,
    #[sea_orm(iden = "app_launches")]
    Launches,
    UserId,
    AppId,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum AppSettings {
    Table,
    Key,
    Value,
    UpdatedAt,
    UpdatedBy,
}
