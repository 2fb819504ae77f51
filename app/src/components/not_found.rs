use leptos::prelude::*;
use leptos_meta::Title;

use crate::routes;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::set_status(404);
    view! {
        <Title text="Page not found"/>
        <main class="center-page">
            <div class="card">
                <h1>"Page not found"</h1>
                <p>"There is no page at this address."</p>
                <p><a href=routes::ACCOUNT>"Go to My Account"</a></p>
            </div>
        </main>
    }
}
