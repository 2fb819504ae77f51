//! Latchkey's My Account single-page app: components and server functions.
//! Compiled twice: with `ssr` into the server (rendering and server
//! functions), and with `hydrate` into the browser bundle.
#![recursion_limit = "256"]

pub mod app;
pub mod components;
pub mod error;
pub mod features;
pub mod leave_guard;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod validation;

pub use app::{App, shell};
