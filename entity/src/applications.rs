use sea_orm::entity::prelude::*;

/// An application people sign in to (see `domain::apps`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// URL-safe, unique, fixed at creation; keys the login flow.
    #[sea_orm(unique)]
    pub handle: String,
    pub name: String,
    pub description: String,
    /// An https logo address, when the logo is not uploaded.
    pub logo_url: Option<String>,
    /// Set when a logo is uploaded (`application_logos`): a hash of its
    /// bytes, which versions its address so browsers may cache it.
    pub logo_version: Option<String>,
    /// Where Launch goes.
    pub access_url: String,
    /// Listed in My Account's Applications.
    pub discoverable: bool,
    pub enabled: bool,
    /// Shipped with Latchkey (My Account): cannot be deleted or edited.
    pub built_in: bool,
    pub created_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<Uuid>,
    /// The last time it was enabled or disabled, and by whom.
    pub switched_at: Option<DateTimeUtc>,
    pub switched_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::app_launches::Entity")]
    Launches,
    #[sea_orm(has_many = "super::app_favourites::Entity")]
    Favourites,
}

impl Related<super::app_launches::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Launches.def()
    }
}

impl Related<super::app_favourites::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Favourites.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
