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
    move || query.with(|q| returned(q).filter(|(path, _)| *path == url).map(|(_, e)| e))
}

/// The server function a plain form post went to and the error it came
/// back with, whichever form it was (e.g. "confirm it's you" asked by any).
pub fn plain_form_any_error() -> Option<(String, AppError)> {
    use_query_map().with_untracked(|q| returned(q).map(|(path, e)| (path.to_owned(), e)))
}

fn returned(q: &leptos_router::params::ParamsMap) -> Option<(&str, AppError)> {
    Some((q.get_str("__path")?, ServerFnUrlError::<AppError>::decode_err(q.get_str("__err")?)))
}
