use sea_orm_migration::{prelude::*, schema::*};

use super::m20261124_000001_create_users::Users;

/// OpenID Connect authorizations (`domain::oidc`):
///
/// - `oidc_requests`: an authorization request waiting for the person
///   (sign-in, step-up, consent); minutes long, named by a random handle of
///   which only the hash is stored.
/// - `oidc_consents`: what a person allowed an application, one row per
///   person and application, shown and revoked in My Account.
/// - `oidc_grants`: one authorization: its single-use code, and the tokens
///   issued under it (`oidc_tokens`, hashed), which go with it.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OidcRequests::Table)
                    .if_not_exists()
                    .col(string_len(OidcRequests::HandleHash, 64).primary_key())
                    .col(uuid(OidcRequests::AppId))
                    .col(text(OidcRequests::Params))
                    .col(timestamp_with_time_zone(OidcRequests::CreatedAt))
                    .col(timestamp_with_time_zone(OidcRequests::ExpiresAt))
                    .foreign_key(&mut fk(
                        "fk_oidc_requests_app",
                        OidcRequests::Table,
                        OidcRequests::AppId,
                        Applications::Table,
                        Applications::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OidcConsents::Table)
                    .if_not_exists()
                    .col(uuid(OidcConsents::UserId))
                    .col(uuid(OidcConsents::AppId))
                    .col(string_len(OidcConsents::Scopes, 200))
                    .col(timestamp_with_time_zone(OidcConsents::GrantedAt))
                    .col(timestamp_with_time_zone(OidcConsents::UpdatedAt))
                    .col(timestamp_with_time_zone_null(OidcConsents::LastUsedAt))
                    .primary_key(Index::create().col(OidcConsents::UserId).col(OidcConsents::AppId))
                    .foreign_key(&mut fk("fk_oidc_consents_user", OidcConsents::Table, OidcConsents::UserId, Users::Table, Users::Id))
                    .foreign_key(&mut fk(
                        "fk_oidc_consents_app",
                        OidcConsents::Table,
                        OidcConsents::AppId,
                        Applications::Table,
                        Applications::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OidcGrants::Table)
                    .if_not_exists()
                    .col(pk_uuid(OidcGrants::Id))
                    .col(uuid(OidcGrants::UserId))
                    .col(uuid(OidcGrants::AppId))
                    .col(uuid_null(OidcGrants::SessionId))
                    .col(string_len(OidcGrants::Scopes, 200))
                    .col(text(OidcGrants::Claims))
                    .col(text_null(OidcGrants::Nonce))
                    .col(timestamp_with_time_zone(OidcGrants::AuthTime))
                    .col(string_len(OidcGrants::Amr, 100))
                    .col(string_len_uniq(OidcGrants::CodeHash, 64))
                    .col(timestamp_with_time_zone(OidcGrants::CodeExpiresAt))
                    .col(timestamp_with_time_zone_null(OidcGrants::CodeUsedAt))
                    .col(text(OidcGrants::RedirectUri))
                    .col(string_len_null(OidcGrants::CodeChallenge, 128))
                    .col(timestamp_with_time_zone(OidcGrants::CreatedAt))
                    .col(timestamp_with_time_zone_null(OidcGrants::RevokedAt))
                    .foreign_key(&mut fk("fk_oidc_grants_user", OidcGrants::Table, OidcGrants::UserId, Users::Table, Users::Id))
                    .foreign_key(&mut fk("fk_oidc_grants_app", OidcGrants::Table, OidcGrants::AppId, Applications::Table, Applications::Id))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_oidc_grants_user_app")
                    .table(OidcGrants::Table)
                    .col(OidcGrants::UserId)
                    .col(OidcGrants::AppId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_oidc_grants_session").table(OidcGrants::Table).col(OidcGrants::SessionId).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OidcTokens::Table)
                    .if_not_exists()
                    .col(string_len(OidcTokens::TokenHash, 64).primary_key())
                    .col(uuid(OidcTokens::GrantId))
                    .col(string_len(OidcTokens::Kind, 8))
                    .col(string_len(OidcTokens::Scopes, 200))
                    .col(timestamp_with_time_zone(OidcTokens::CreatedAt))
                    .col(timestamp_with_time_zone(OidcTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(OidcTokens::UsedAt))
                    .foreign_key(&mut fk("fk_oidc_tokens_grant", OidcTokens::Table, OidcTokens::GrantId, OidcGrants::Table, OidcGrants::Id))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_oidc_tokens_grant").table(OidcTokens::Table).col(OidcTokens::GrantId).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in
            [OidcTokens::Table.into_iden(), OidcGrants::Table.into_iden(), OidcConsents::Table.into_iden(), OidcRequests::Table.into_iden()]
        {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}

/// A foreign key that goes with the row it points at.
fn fk(name: &str, table: impl IntoTableRef, col: impl IntoIden, to: impl IntoTableRef, to_col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(table, col).to(to, to_col).on_delete(ForeignKeyAction::Cascade).to_owned()
}

#[derive(DeriveIden, Clone, Copy)]
enum Applications {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum OidcRequests {
    Table,
    HandleHash,
    AppId,
    Params,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OidcConsents {
    Table,
    UserId,
    AppId,
    Scopes,
    GrantedAt,
    UpdatedAt,
    LastUsedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OidcGrants {
    Table,
    Id,
    UserId,
    AppId,
    SessionId,
    Scopes,
    Claims,
    Nonce,
    AuthTime,
    Amr,
    CodeHash,
    CodeExpiresAt,
    CodeUsedAt,
    RedirectUri,
    CodeChallenge,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OidcTokens {
    Table,
    TokenHash,
    GrantId,
    Kind,
    Scopes,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}
