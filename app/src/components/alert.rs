use leptos::prelude::*;

use crate::error::AppError;
use crate::routes;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertKind {
    Error,
    Success,
    Info,
}

/// A message box; errors are announced to screen readers at once.
#[component]
pub fn Alert(kind: AlertKind, #[prop(into)] message: String) -> impl IntoView {
    let (class, role) = match kind {
        AlertKind::Error => ("alert alert--error", "alert"),
        AlertKind::Success => ("alert alert--success", "status"),
        AlertKind::Info => ("alert alert--info", "status"),
    };
    view! { <div class=class role=role>{message}</div> }
}

/// An error from a server function, with a way forward where there is one.
#[component]
pub fn ErrorAlert(error: AppError) -> impl IntoView {
    let signed_out = error == AppError::Unauthenticated;
    view! {
        <div class="alert alert--error" role="alert">
            {error.to_string()}
            {signed_out.then(|| view! { " " <a href=routes::LOGIN>"Sign in"</a> })}
        </div>
    }
}
