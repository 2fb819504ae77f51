use leptos::prelude::*;

/// An application's logo, or a coloured circle with its initial when it
/// has none. Decorative: the name is always written beside it.
#[component]
pub fn AppLogo(
    logo: Option<String>,
    /// `AppSummary::initial`.
    initial: String,
    /// `AppSummary::avatar_hue` (0–7).
    hue: usize,
) -> impl IntoView {
    match logo {
        Some(src) => {
            view! { <img class="app-logo" src=src alt="" width="40" height="40" loading="lazy" referrerpolicy="no-referrer"/> }.into_any()
        }
        None => {
            view! { <span class=format!("app-logo app-logo--initial app-logo--hue{hue}") aria-hidden="true">{initial}</span> }.into_any()
        }
    }
}
