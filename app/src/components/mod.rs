//! Small building blocks shared by the pages.

mod account_layout;
mod alert;
mod field;
mod not_found;
mod shell;
mod spinner;

pub use account_layout::AccountLayout;
pub use alert::{Alert, AlertKind, ErrorAlert};
pub use field::{SelectField, TextField};
pub use not_found::NotFound;
pub use shell::{Shell, refused};
pub use spinner::Spinner;

/// Leaves the single-page app for `url` (full page load), e.g. after signing
/// in or out, so no state of the previous session survives in memory.
pub fn hard_navigate(url: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = leptos::prelude::window().location().assign(url);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = url;
}

/// False in the server's HTML and until the app has hydrated in the browser:
/// hides controls that need JavaScript (e.g. passkeys) when it is off.
pub fn hydrated() -> leptos::prelude::ReadSignal<bool> {
    use leptos::prelude::*;
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| set_ready.set(true));
    ready
}
