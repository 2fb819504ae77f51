//! My Account → Connected applications: each application the person let
//! sign them in (OpenID Connect consent), what it may read, when access
//! was granted and last used; untick a permission, or revoke access, which
//! ends every token the application holds at once.
//!
//! Page `/myaccount/consents`. Functions under `/api/account/`, so the My
//! Account switch applies to them.

pub mod api;
pub mod types;
pub mod view;
