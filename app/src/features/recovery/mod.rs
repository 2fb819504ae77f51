//! Account recovery and email links.
//!
//! - My Account → Recovery (`/myaccount/recovery`, functions under
//!   `/api/recovery/`, covered by the My Account switch): a recovery email,
//!   verified by a link before it counts, and two security questions. Changes
//!   need a fresh sign-in proof ("Confirm it's you").
//! - Public pages: "Forgot password?" (`/forgot-password`), the reset link
//!   (`/reset-password?token=…`) and email confirmation links
//!   (`/verify-email?token=…`), functions under `/api/recover/`. They work
//!   without JavaScript.
//!
//! Security: the forgot-password answer is the same whether or not the
//! account exists, and takes the same time (the work happens after the
//! answer); links are random 256-bit tokens stored as SHA-256, single-use,
//! short-lived and bound to the address they went to; a link only shows a
//! button, so mail scanners that open links do not use them up.

pub mod api;
pub mod types;
pub mod view;
