use sea_orm_migration::{prelude::*, schema::*};

use super::m20261124_000001_create_users::Users;

/// Mail waiting to be sent (bodies sealed with the server key), one-time
/// email links (only their SHA-256), security-question answers (argon2id),
/// and the recovery email address on the account.
#[derive(DeriveMigrationName)]
pub struct Migration;

fn user_fk(name: &str, from: impl IntoTableRef, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from, col).to(Users::Table, Users::Id).on_delete(ForeignKeyAction::Cascade).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    .if_not_exists()
                    .col(pk_uuid(MailOutbox::Id))
                    .col(string_len(MailOutbox::ToAddress, 254))
                    .col(string_len(MailOutbox::Subject, 200))
                    .col(text(MailOutbox::Sealed))
                    .col(integer(MailOutbox::Attempts))
                    .col(timestamp_with_time_zone(MailOutbox::CreatedAt))
                    .col(timestamp_with_time_zone(MailOutbox::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(MailOutbox::FailedAt))
                    .col(string_len_null(MailOutbox::LastError, 500))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("idx_mail_outbox_due").table(MailOutbox::Table).col(MailOutbox::NextAttemptAt).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EmailTokens::Table)
                    .if_not_exists()
                    .col(pk_uuid(EmailTokens::Id))
                    .col(uuid(EmailTokens::UserId))
                    .col(string_len(EmailTokens::Purpose, 32))
                    .col(string_len_uniq(EmailTokens::TokenHash, 64))
                    .col(string_len(EmailTokens::Address, 254))
                    .col(integer(EmailTokens::Failures))
                    .col(timestamp_with_time_zone(EmailTokens::CreatedAt))
                    .col(timestamp_with_time_zone(EmailTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(EmailTokens::UsedAt))
                    .foreign_key(&mut user_fk("fk_email_tokens_user", EmailTokens::Table, EmailTokens::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_email_tokens_user")
                    .table(EmailTokens::Table)
                    .col(EmailTokens::UserId)
                    .col(EmailTokens::Purpose)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SecurityAnswers::Table)
                    .if_not_exists()
                    .col(pk_uuid(SecurityAnswers::Id))
                    .col(uuid(SecurityAnswers::UserId))
                    .col(string_len(SecurityAnswers::Question, 32))
                    .col(text(SecurityAnswers::AnswerHash))
                    .col(timestamp_with_time_zone(SecurityAnswers::CreatedAt))
                    .foreign_key(&mut user_fk("fk_security_answers_user", SecurityAnswers::Table, SecurityAnswers::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_security_answers_user_question")
                    .table(SecurityAnswers::Table)
                    .col(SecurityAnswers::UserId)
                    .col(SecurityAnswers::Question)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // SQLite takes one column per ALTER TABLE.
        manager
            .alter_table(Table::alter().table(Users::Table).add_column(string_len_null(Recovery::RecoveryEmail, 254)).to_owned())
            .await?;
        manager
            .alter_table(Table::alter().table(Users::Table).add_column(boolean(Recovery::RecoveryEmailVerified).default(false)).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    ToAddress,
    Subject,
    Sealed,
    Attempts,
    CreatedAt,
    NextAttemptAt,
    FailedAt,
    LastError,
}

#[derive(DeriveIden)]
enum EmailTokens {
    Table,
    Id,
    UserId,
    Purpose,
    TokenHash,
    Address,
    Failures,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum SecurityAnswers {
    Table,
    Id,
    UserId,
    Question,
    AnswerHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Recovery {
    RecoveryEmail,
    RecoveryEmailVerified,
}
