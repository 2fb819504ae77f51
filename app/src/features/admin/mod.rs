//! The admin console, in the same single-page app: applications (My Account
//! first), registering, editing, switching and deleting them, their OpenID
//! Connect clients (the Protocol tab), and each one's login flow.
//!
//! Pages under `/admin`. Functions under `/api/admin/`.
//! Security: every function requires an administrator (checked on the
//! server); changes also need a recent sign-in proof. The console never
//! depends on My Account being enabled, so the switch cannot lock admins out;
//! a login flow no administrator could complete is refused.

pub mod api;
pub mod app_form;
pub mod flow_editor;
pub mod protocol;
pub mod types;
pub mod view;
