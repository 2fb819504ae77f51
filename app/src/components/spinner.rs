use leptos::prelude::*;

/// A loading indicator that screen readers announce.
#[component]
pub fn Spinner(#[prop(optional, into)] label: Option<String>) -> impl IntoView {
    let label = label.unwrap_or_else(|| "Loading…".to_owned());
    view! {
        <div class="spinner" role="status">
            <span class="spinner__wheel" aria-hidden="true"></span>
            <span class="spinner__label">{label}</span>
        </div>
    }
}
