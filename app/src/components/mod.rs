//! Small building blocks shared by the pages.

mod account_layout;
mod alert;
mod app_logo;
mod field;
mod not_found;
mod plain_form;
mod search_form;
mod shell;
mod spinner;

pub use account_layout::AccountLayout;
pub use alert::{Alert, AlertKind, ErrorAlert};
pub use app_logo::AppLogo;
pub use field::{SelectField, TextField};
pub use not_found::NotFound;
pub use plain_form::{plain_form_any_error, plain_form_error};
pub use search_form::SearchForm;
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

/// In the browser's app, a page the server serves without the app
/// ([`crate::routes::bundle_for`]): reached by a link or a redirect
/// inside the app, it loads the server's page.
#[leptos::prelude::component]
pub fn ServerPage() -> impl leptos::prelude::IntoView {
    #[cfg(feature = "hydrate")]
    leptos::prelude::Effect::new(|_| {
        let location = leptos::prelude::window().location();
        if let Ok(href) = location.href() {
            let _ = location.replace(&href);
        }
    });
}

/// False in the server's HTML and until the app has hydrated in the browser:
/// hides controls that need JavaScript (e.g. passkeys) when it is off.
pub fn hydrated() -> leptos::prelude::ReadSignal<bool> {
    use leptos::prelude::*;
    let (ready, set_ready) = signal(false);
    Effect::new(move |_| set_ready.set(true));
    ready
}

/// Moves keyboard focus to the first element matching `selector`, once the
/// browser has drawn what was just inserted (e.g. a panel that appeared).
pub fn focus_soon(selector: &'static str) {
    #[cfg(feature = "hydrate")]
    leptos::prelude::request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Some(el) =
            leptos::prelude::document().query_selector(selector).ok().flatten().and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = selector;
}
