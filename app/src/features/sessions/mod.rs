//! The Sessions section: every signed-in browser of the person, and ending them.
//!
//! Page: `/myaccount/sessions`. Functions under `/api/sessions/`.
//! Security: only the person's own live sessions are listed or ended (another
//! person's session id is "not found"); an ended session is refused on its
//! very next request; ending the current one signs this browser out.

pub mod api;
pub mod types;
pub mod view;
