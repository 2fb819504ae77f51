use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect};

use crate::components::ErrorAlert;
use crate::error::AppError;
use crate::features::auth::view::SignOutButton;
use crate::routes;

/// The frame of My Account and of the admin console: top bar (brand, who is
/// signed in, sign-out), section navigation (the children), and the current page.
#[component]
pub fn Shell(
    /// Words after the brand ("My Account", "Console").
    sub: &'static str,
    /// Where the brand links to.
    home: &'static str,
    /// The navigation's accessible name.
    nav_label: &'static str,
    /// The signed-in person's name.
    name: String,
    /// Links shown before the name (e.g. to the console).
    #[prop(default = None)]
    extra: Option<AnyView>,
    /// A message above every page (e.g. what an administrator must do).
    #[prop(default = None)]
    notice: Option<AnyView>,
    /// The section links.
    children: Children,
) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <div class="shell">
            <header class="shell__top">
                <a class="brand" href=home>"Latchkey"<span class="brand__sub">" "{sub}</span></a>
                <div class="shell__user">
                    {extra}
                    <span class="shell__name" data-testid="shell-name">{name}</span>
                    <SignOutButton/>
                </div>
            </header>
            <nav class="shell__nav" aria-label=nav_label>{children()}</nav>
            <main class="shell__main" id="main" tabindex="-1">
                {notice}
                <Outlet/>
            </main>
        </div>
    }
}

/// What a layout shows when its guard refused: sign-in for a lost session
/// (returning to `path`), the page for a known refusal, the error otherwise.
pub fn refused(error: AppError, path: &str, known: impl FnOnce(AppError) -> Result<AnyView, AppError>) -> AnyView {
    match error {
        // The session ended (revoked or expired) while the app was open.
        AppError::Unauthenticated => view! { <Redirect path=routes::login_with_next(path)/> }.into_any(),
        // Signed in through an application whose flow asks for less.
        AppError::StepUpRequired => view! { <Redirect path=routes::step_up_with_next(path)/> }.into_any(),
        other => known(other).unwrap_or_else(|e| view! { <main class="center-page"><ErrorAlert error=e/></main> }.into_any()),
    }
}
