//! What a plain HTML form post (JavaScript off) brings back. The server
//! answers such a post with a redirect: to a page saying it worked, or back to
//! the form's page with the error in the query (`__path`, `__err`; the server
//! signs them and drops unsigned ones, so a link cannot plant a message).

use leptos::prelude::*;
use leptos::server_fn::error::ServerFnUrlError;
use leptos_router::hooks::use_query_map;

use crate::error::AppError;

/// The error a plain form post to the server function at `url` came back
/// with, if this page was reached that way.
pub fn plain_form_error(url: &'static str) -> impl Fn() -> Option<AppError> + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move || {
        query.with(|q| {
            (q.get_str("__path") == Some(url)).then(|| q.get_str("__err").map(ServerFnUrlError::<AppError>::decode_err)).flatten()
        })
    }
}
