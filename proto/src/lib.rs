//! Types and rules shared by the browser (the flow editor) and the server
//! (sign-in): no I/O, compiles to wasm32. Kanidm's `proto` plays this part.

pub mod flow;
pub mod recovery;
pub mod scopes;

/// Largest application logo an administrator may upload, in bytes (the
/// console checks it before sending; the server enforces it).
pub const MAX_LOGO_BYTES: usize = 256 * 1024;
