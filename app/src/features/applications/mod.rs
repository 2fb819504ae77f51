//! My Account → Applications: the applications a person may launch
//! (enabled and discoverable ones, never My Account itself), with search,
//! favourites (a star per application, stored per person) and the ones they
//! used last (at most five, stored server-side).
//!
//! Page `/myaccount/applications`. Functions under `/api/account/`, so the
//! My Account switch applies to them like to every other part of it.

pub mod api;
pub mod types;
pub mod view;
