pub use super::app_settings::Entity as AppSettings;
pub use super::password_credentials::Entity as PasswordCredentials;
pub use super::setup_tokens::Entity as SetupTokens;
pub use super::user_sessions::Entity as UserSessions;
pub use super::users::Entity as Users;
