use sea_orm_migration::{prelude::*, schema::*};

/// Sign-in runs the login flow of the application the person signs in to.
/// A half-finished sign-in remembers which application's flow it follows;
/// a session remembers whether it has met My Account's flow, which an
/// application's weaker flow may not (My Account then asks for the missing
/// step before it opens). Existing rows were all made by My Account's flow.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one column at a time.
        manager
            .alter_table(Table::alter().table(PartialLogins::Table).add_column(string(PartialLogins::App).default("myaccount")).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter().table(UserSessions::Table).add_column(boolean(UserSessions::MyAccountFlow).default(true)).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(UserSessions::Table).drop_column(UserSessions::MyAccountFlow).to_owned()).await?;
        manager.alter_table(Table::alter().table(PartialLogins::Table).drop_column(PartialLogins::App).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum PartialLogins {
    Table,
    App,
}

#[derive(DeriveIden)]
enum UserSessions {
    Table,
    MyAccountFlow,
}
