//! Types and rules shared by the browser (the flow editor) and the server
//! (sign-in): no I/O, compiles to wasm32. Kanidm's `proto` plays this part.

pub mod flow;
pub mod recovery;
