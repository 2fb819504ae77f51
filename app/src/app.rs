use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::{AccountLayout, NotFound};
// The console's pages are in the administrators' bundle only; in the other
// bundle its routes load the server's page (which, for someone who is not an
// administrator, loads no app: see `shell`).
#[cfg(not(feature = "console"))]
use crate::components::{
    ServerPage as AdminLayout, ServerPage as ApplicationPage, ServerPage as ApplicationsPage, ServerPage as NewApplicationPage,
};
#[cfg(feature = "console")]
use crate::features::admin::view::{AdminLayout, ApplicationPage, ApplicationsPage, NewApplicationPage};
use crate::features::applications::view::MyApplicationsPage;
use crate::features::auth::view::{SetupPage, StepUpPage};
// The sign-in pages are served without the app (`routes::SERVED_WITHOUT_APP`):
// in the browser's bundle their routes load the server's page, so their
// code is not in the bundle.
#[cfg(feature = "hydrate")]
use crate::components::{ServerPage as LoginPage, ServerPage as VerifyPage};
#[cfg(not(feature = "hydrate"))]
use crate::features::auth::view::{LoginPage, VerifyPage};
use crate::features::authorize::view::AuthorizationPage;
use crate::features::consents::view::ConsentsPage;
use crate::features::profile::view::{OverviewPage, PersonalInfoPage};
use crate::features::recovery::view::{ForgotPasswordPage, RecoveryPage, ResetPasswordPage, VerifyEmailPage};
use crate::features::security::view::SecurityPage;
use crate::features::sessions::view::SessionsPage;

/// The HTML document around the app. The server renders it; the browser
/// hydrates `<App/>`.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::provide_csp_nonce();
    #[cfg(feature = "ssr")]
    let bundle = crate::ssr::bundle_for_request();
    #[cfg(not(feature = "ssr"))]
    let bundle = crate::routes::Bundle::App;
    let scripts = match bundle {
        // The sign-in pages load one small script instead of the app.
        crate::routes::Bundle::SignIn => {
            view! { <script type="module" src="/pkg/signin.js" nonce=leptos::nonce::use_nonce()></script> }.into_any()
        }
        crate::routes::Bundle::None => ().into_any(),
        crate::routes::Bundle::App => view! { <HydrationScripts options/> }.into_any(),
        crate::routes::Bundle::Console => {
            let mut options = options;
            options.site_pkg_dir = crate::routes::CONSOLE_PKG_DIR.into();
            view! { <HydrationScripts options/> }.into_any()
        }
    };
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="stylesheet" href="/pkg/latchkey.css"/>
                <link rel="icon" href="/favicon.ico"/>
                {scripts}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The one route table.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|page: String| if page.is_empty() { "Latchkey".to_owned() } else { format!("{page} · Latchkey") }/>
        <Router>
            <Routes fallback=NotFound>
                // Async rendering: every page arrives complete, so it works
                // with JavaScript off (no out-of-order streaming to reassemble).
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/login/verify") view=VerifyPage ssr=SsrMode::Async/>
                <Route path=path!("/login/step-up") view=StepUpPage ssr=SsrMode::Async/>
                <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async/>
                <Route path=path!("/forgot-password") view=ForgotPasswordPage ssr=SsrMode::Async/>
                <Route path=path!("/reset-password") view=ResetPasswordPage ssr=SsrMode::Async/>
                <Route path=path!("/verify-email") view=VerifyEmailPage ssr=SsrMode::Async/>
                <Route path=path!("/oauth2/continue") view=AuthorizationPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("/myaccount") view=AccountLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=OverviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/personal-info") view=PersonalInfoPage ssr=SsrMode::Async/>
                    <Route path=path!("/security") view=SecurityPage ssr=SsrMode::Async/>
                    <Route path=path!("/sessions") view=SessionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/recovery") view=RecoveryPage ssr=SsrMode::Async/>
                    <Route path=path!("/applications") view=MyApplicationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/consents") view=ConsentsPage ssr=SsrMode::Async/>
                </ParentRoute>
                <ParentRoute path=path!("/admin") view=AdminLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=|| view! { <Redirect path=crate::routes::ADMIN_APPLICATIONS/> } ssr=SsrMode::Async/>
                    <Route path=path!("/applications") view=ApplicationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/applications/new") view=NewApplicationPage ssr=SsrMode::Async/>
                    <Route path=path!("/applications/:app") view=ApplicationPage ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
