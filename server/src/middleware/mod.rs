//! The HTTP edge, outermost first: security headers (with the CSP nonce),
//! cross-site request refusal, session lookup, page guards, and API statuses.

pub mod api_status;
pub mod body_limit;
pub mod csrf;
pub mod form_errors;
pub mod headers;
pub mod session;
