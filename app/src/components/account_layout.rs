use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};
use leptos_router::hooks::use_location;

use crate::components::Spinner;
use crate::error::AppError;
use crate::features::auth::view::SignOutButton;
use crate::features::profile::api::get_me;
use crate::routes;

/// The My Account shell: header, section navigation and the current page.
/// Works from 360 px wide (navigation becomes a scrolling tab row) to desktop.
#[component]
pub fn AccountLayout() -> impl IntoView {
    let me = Resource::new(|| (), |_| get_me());
    let location = use_location();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <div class="shell">
            <header class="shell__top">
                <a class="brand" href=routes::ACCOUNT>"Latchkey"<span class="brand__sub">" My Account"</span></a>
                <div class="shell__user">
                    <Suspense fallback=|| view! { <Spinner label="Loading your account…"/> }>
                        {move || Suspend::new(async move {
                            match me.await {
                                Ok(me) => view! { <span class="shell__name" data-testid="shell-name">{me.display_name}</span> }.into_any(),
                                // The session ended (revoked or expired) while the app was open.
                                Err(AppError::Unauthenticated) => {
                                    let path = location.pathname.get_untracked();
                                    view! { <Redirect path=routes::login_with_next(&path)/> }.into_any()
                                }
                                Err(e) => view! { <span class="shell__name">{e.to_string()}</span> }.into_any(),
                            }
                        })}
                    </Suspense>
                    <SignOutButton/>
                </div>
            </header>
            <nav class="shell__nav" aria-label="My Account">
                <A href=routes::ACCOUNT exact=true>"Overview"</A>
                <A href=routes::PERSONAL_INFO>"Personal info"</A>
                <A href=routes::SECURITY>"Security"</A>
            </nav>
            <main class="shell__main" id="main" tabindex="-1">
                <Outlet/>
            </main>
        </div>
    }
}
