//! The admin console, in the same single-page app: applications (My Account
//! first), registering, editing, switching and deleting them, their OpenID
//! Connect clients (the Protocol tab), and each one's login flow.
//!
//! Pages under `/admin`. Functions under `/api/admin/`.
//! Security: every function requires an administrator (checked on the
//! server); changes also need a recent sign-in proof. The console never
//! depends on My Account being enabled, so the switch cannot lock admins out;
//! a login flow no administrator could complete is refused.
//!
//! Its pages and functions are compiled only with the `console` feature (the
//! server, and the administrators' browser bundle); people who are not
//! administrators load a bundle without them. `types` (an application's
//! summary) and `notice` are shared with My Account.

#[cfg(feature = "console")]
pub mod api;
#[cfg(feature = "console")]
pub mod app_form;
#[cfg(feature = "console")]
pub mod flow_editor;
pub mod notice;
#[cfg(feature = "console")]
pub mod protocol;
pub mod types;
#[cfg(feature = "console")]
pub mod view;
