use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::components::{Shell, Spinner, refused};
use crate::error::AppError;
use crate::features::admin::notice::TwoFactorsNeeded;
use crate::features::auth::view::SignOutButton;
use crate::features::profile::api::get_me;
use crate::routes;

/// The My Account shell: header, section navigation and the current page.
/// Works from 360 px wide (navigation becomes a scrolling tab row) to desktop.
/// When an administrator has disabled My Account, it shows that instead.
#[component]
pub fn AccountLayout() -> impl IntoView {
    let me = Resource::new(|| (), |_| get_me());
    let location = use_location();
    view! {
        <Suspense fallback=|| view! { <Spinner label="Loading your account…"/> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(me) => {
                        let console = me.is_admin.then(|| view! {
                            <a class="button button--quiet" href=routes::ADMIN data-testid="console-link">"Console"</a>
                        }.into_any());
                        view! {
                            <Shell sub="My Account" home=routes::ACCOUNT nav_label="My Account" name=me.display_name extra=console
                                notice=me.admin_needs_second_factor.then(|| view! { <TwoFactorsNeeded/> }.into_any())>
                                <A href=routes::ACCOUNT exact=true>"Overview"</A>
                                <A href=routes::PERSONAL_INFO>"Personal info"</A>
                                <A href=routes::SECURITY>"Security"</A>
                                <A href=routes::SESSIONS>"Sessions"</A>
                                <A href=routes::RECOVERY>"Recovery"</A>
                                <A href=routes::MY_APPLICATIONS>"Applications"</A>
                                <A href=routes::CONSENTS>"Connected apps"</A>
                            </Shell>
                        }.into_any()
                    }
                    Err(e) => refused(e, &location.pathname.get_untracked(), |e| match e {
                        AppError::PortalDisabled => Ok(view! { <PortalDisabled/> }.into_any()),
                        other => Err(other),
                    }),
                }
            })}
        </Suspense>
    }
}

/// What people see while an administrator has switched My Account off.
#[component]
fn PortalDisabled() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::set_status(403);
    view! {
        <Title text="My Account is disabled"/>
        <main class="center-page">
            <div class="card auth-card" data-testid="portal-disabled">
                <p class="brand">"Latchkey"</p>
                <h1>"My Account is disabled"</h1>
                <p>{AppError::PortalDisabled.to_string()}" You are still signed in to other applications."</p>
                <p class="muted small">"Administrators can turn it back on in the "<a href=routes::ADMIN>"admin console"</a>"."</p>
                <SignOutButton/>
            </div>
        </main>
    }
}
