use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Lower-case, unique.
    #[sea_orm(unique)]
    pub username: String,
    /// Lower-case, unique.
    #[sea_orm(unique)]
    pub email: String,
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    /// E.164, e.g. `+447700900123`.
    pub phone: Option<String>,
    /// BCP 47 tag, e.g. `en-GB`.
    pub locale: Option<String>,
    /// IANA zone, e.g. `Europe/Paris`.
    pub time_zone: Option<String>,
    pub picture_url: Option<String>,
    /// Postal address, as the person wrote it (lines).
    pub address: Option<String>,
    pub is_admin: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Where password-reset links also go, once verified.
    pub recovery_email: Option<String>,
    pub recovery_email_verified: bool,
    /// Set by a password reset on an account with passkeys or an
    /// authenticator app: the next sign-in needs one of them, whatever the
    /// flow says, so a reset by mail never downgrades the account.
    pub second_factor_after_reset: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_one = "super::password_credentials::Entity")]
    PasswordCredential,
    #[sea_orm(has_many = "super::user_sessions::Entity")]
    Sessions,
}

impl Related<super::password_credentials::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PasswordCredential.def()
    }
}

impl Related<super::user_sessions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Sessions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
