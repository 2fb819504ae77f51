use sea_orm::entity::prelude::*;

use crate::Secret;

/// An application's OpenID Connect client registration (see `domain::oidc::clients`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oidc_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub app_id: Uuid,
    /// Random, public, unique: what the application sends as `client_id`.
    #[sea_orm(unique)]
    pub client_id: String,
    /// A public client (a browser or native app) has no secret and must use PKCE.
    pub public: bool,
    /// Keyed hash (HMAC-SHA-256 under the server key) of the client secret.
    pub secret_hash: Option<Secret>,
    pub secret_set_at: Option<DateTimeUtc>,
    /// A new secret awaiting display (sealed), after a form sent without
    /// JavaScript; cleared once the administrator saved it.
    pub pending_secret: Option<Secret>,
    pub pending_secret_until: Option<DateTimeUtc>,
    /// JSON array of exact redirect URIs.
    pub redirect_uris: String,
    /// JSON array of exact post-logout redirect URIs.
    pub post_logout_redirect_uris: String,
    /// Space-separated scopes the client may ask for.
    pub scopes: String,
    /// First-party: people are not asked for consent (confidential clients only).
    pub trusted: bool,
    pub access_token_seconds: i32,
    pub refresh_token_seconds: i32,
    /// `RS256`, `ES256` or `EdDSA`.
    pub id_token_alg: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::applications::Entity",
        from = "Column::AppId",
        to = "super::applications::Column::Id",
        on_delete = "Cascade"
    )]
    App,
}

impl Related<super::applications::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::App.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
