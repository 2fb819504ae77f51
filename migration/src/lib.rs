//! Schema migrations, append-only. `server::build` and every test helper run
//! `Migrator::up`, so tests exercise exactly what production applies.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_users;
mod m20261124_000002_create_password_credentials;
mod m20261124_000003_create_user_sessions;
mod m20261124_000004_create_app_settings;
mod m20261124_000005_create_setup_tokens;
mod m20261125_000001_create_login_flows;
mod m20261125_000002_create_totp_credentials;
mod m20261125_000003_create_backup_codes;
mod m20261125_000004_create_passkeys;
mod m20261125_000005_create_ceremonies;
mod m20261125_000006_create_partial_logins;
mod m20261125_000007_create_auth_events;
mod m20261126_000001_create_mail_and_recovery;
mod m20261127_000001_create_rate_limits;
mod m20261130_000001_create_known_devices_and_guess_counters;
mod m20261130_000002_create_applications;
mod m20261130_000003_sign_in_in_fewer_statements;
mod m20261201_000001_create_oidc_clients_and_keys;
mod m20261201_000002_create_oidc_grants;
mod m20261201_000003_add_user_address;
mod m20261201_000004_sign_in_per_application;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_users::Migration),
            Box::new(m20261124_000002_create_password_credentials::Migration),
            Box::new(m20261124_000003_create_user_sessions::Migration),
            Box::new(m20261124_000004_create_app_settings::Migration),
            Box::new(m20261124_000005_create_setup_tokens::Migration),
            Box::new(m20261125_000001_create_login_flows::Migration),
            Box::new(m20261125_000002_create_totp_credentials::Migration),
            Box::new(m20261125_000003_create_backup_codes::Migration),
            Box::new(m20261125_000004_create_passkeys::Migration),
            Box::new(m20261125_000005_create_ceremonies::Migration),
            Box::new(m20261125_000006_create_partial_logins::Migration),
            Box::new(m20261125_000007_create_auth_events::Migration),
            Box::new(m20261126_000001_create_mail_and_recovery::Migration),
            Box::new(m20261127_000001_create_rate_limits::Migration),
            Box::new(m20261130_000001_create_known_devices_and_guess_counters::Migration),
            Box::new(m20261130_000002_create_applications::Migration),
            Box::new(m20261130_000003_sign_in_in_fewer_statements::Migration),
            Box::new(m20261201_000001_create_oidc_clients_and_keys::Migration),
            Box::new(m20261201_000002_create_oidc_grants::Migration),
            Box::new(m20261201_000003_add_user_address::Migration),
            Box::new(m20261201_000004_sign_in_per_application::Migration),
        ]
    }
}
