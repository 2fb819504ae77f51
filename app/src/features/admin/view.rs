use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_query_map};

use super::api::*;
use super::flow_editor::LoginFlowTab;
use super::types::*;
use crate::components::{Alert, AlertKind, ErrorAlert, Shell, Spinner, refused};
use crate::error::AppError;
use crate::features::reauth::api::get_reauth_options;
use crate::features::reauth::view::{ReauthPanel, plain_reauth, retryable, settle};
use crate::routes;

/// The console's shell: only administrators get past it (the server refuses
/// everyone else's calls too); others see a "not allowed" page.
#[component]
pub fn AdminLayout() -> impl IntoView {
    let me = Resource::new(|| (), |_| get_admin_me());
    let location = use_location();
    view! {
        <Suspense fallback=|| view! { <Spinner label="Loading the console…"/> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(me) => view! {
                        <Shell sub="Console" home=routes::ADMIN nav_label="Console" name=me.name
                            notice=(!me.multi_factor).then(|| view! { <TwoFactorsNeeded/> }.into_any())>
                            <A href=routes::ADMIN_APPLICATIONS>"Applications"</A>
                            <a href=routes::ACCOUNT>"My Account ↗"</a>
                        </Shell>
                    }.into_any(),
                    Err(e) => refused(e, &location.pathname.get_untracked(), |e| match e {
                        AppError::Forbidden => Ok(view! { <NotAllowed/> }.into_any()),
                        other => Err(other),
                    }),
                }
            })}
        </Suspense>
    }
}

/// Shown to an administrator signed in with one factor: reads work, changes
/// are refused until a second factor is shown.
#[component]
pub fn TwoFactorsNeeded() -> impl IntoView {
    view! {
        <div class="alert alert--info" role="status" data-testid="needs-two-factors">
            <p>{NEEDS_TWO_FACTORS}</p>
            <p><a href=routes::SECURITY>"Go to Security"</a></p>
        </div>
    }
}

/// For signed-in people who are not administrators.
#[component]
fn NotAllowed() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::ssr::set_status(403);
    view! {
        <Title text="Not allowed"/>
        <main class="center-page">
            <div class="card auth-card" data-testid="not-allowed">
                <h1>"Not allowed"</h1>
                <p>"The admin console is for administrators only. Your account is not an administrator."</p>
                <p><a href=routes::ACCOUNT>"Go to My Account"</a></p>
            </div>
        </main>
    }
}

/// `/admin/applications`: My Account pinned at the top.
#[component]
pub fn ApplicationsPage() -> impl IntoView {
    let apps = Resource::new(|| (), |_| list_applications());
    view! {
        <Title text="Applications"/>
        <h1>"Applications"</h1>
        <p class="muted">"Applications people sign in to through Latchkey."</p>
        <Suspense fallback=|| view! { <Spinner/> }>
            {move || Suspend::new(async move {
                match apps.await {
                    Ok(list) => view! {
                        <ul class="app-list" data-testid="applications">
                            {list.into_iter().map(|a| {
                                let href = format!("{}/{}", routes::ADMIN_APPLICATIONS, a.id);
                                view! {
                                    <li class="card app-item">
                                        <div class="app-item__main">
                                            <h2 class="app-item__name"><a href=href>{a.name.clone()}</a></h2>
                                            <p class="muted">{a.description.clone()}</p>
                                            <p class="small"><span class="muted">"Access URL "</span><code>{a.access_url.clone()}</code></p>
                                        </div>
                                        <div class="app-item__badges">
                                            {a.built_in.then(|| view! { <span class="badge">"Built in"</span> })}
                                            <StatusBadge enabled=a.enabled/>
                                        </div>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <ErrorAlert error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn StatusBadge(enabled: bool) -> impl IntoView {
    if enabled {
        view! { <span class="badge badge--ok" data-testid="app-status">"Enabled"</span> }
    } else {
        view! { <span class="badge badge--warn" data-testid="app-status">"Disabled"</span> }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    General,
    LoginFlow,
    DangerZone,
}

impl Tab {
    const ALL: [Tab; 3] = [Tab::General, Tab::LoginFlow, Tab::DangerZone];

    fn slug(self) -> &'static str {
        match self {
            Tab::General => "general",
            Tab::LoginFlow => "login-flow",
            Tab::DangerZone => "danger-zone",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::General => "General",
            Tab::LoginFlow => "Login Flow",
            Tab::DangerZone => "Danger Zone",
        }
    }
}

/// Shared by the page's tabs: a change interrupted by "confirm it's you"
/// waits here until the administrator confirmed.
#[derive(Clone, Copy)]
pub struct Console {
    pub retry: RwSignal<Option<Callback<()>>>,
}

/// `/admin/applications/myaccount`: General, Login Flow and Danger Zone tabs
/// (`?tab=`). Every tab stays mounted, so switching tabs keeps unsaved edits.
#[component]
pub fn MyAccountAppPage() -> impl IntoView {
    let query = use_query_map();
    // What a plain form post of the Danger Zone (no JavaScript) came back
    // with. Read here, before anything awaits: context (the query) is not
    // reachable from components created after an `.await` on the server.
    let switch_error = StoredValue::new(crate::components::plain_form_error(<SetMyAccountEnabled as leptos::server_fn::ServerFn>::url())());
    let switched = StoredValue::new(query.with_untracked(|q| match q.get_str("switched") {
        Some("on") => Some("My Account is enabled.".to_owned()),
        Some("off") => Some("My Account is disabled.".to_owned()),
        _ => None,
    }));
    let tab = Memo::new(move |_| {
        let q = query.read().get("tab").unwrap_or_default();
        Tab::ALL.into_iter().find(|t| t.slug() == q).unwrap_or(Tab::General)
    });
    let console = Console { retry: RwSignal::new(None) };
    let plain = StoredValue::new(plain_reauth());
    let flow_result = StoredValue::new(super::flow_editor::PlainResult::read());
    let app = Resource::new(|| (), |_| get_my_account_app());
    let flow = Resource::new(|| (), |_| get_login_flow());
    // Asked for only when a change needs a fresh proof.
    let reauth = Resource::new(
        move || console.retry.get().is_some() || plain.with_value(Option::is_some),
        |wanted| async move { if wanted { get_reauth_options().await.map(Some) } else { Ok(None) } },
    );
    view! {
        <Title text="My Account · Applications"/>
        <p class="small"><a href=routes::ADMIN_APPLICATIONS>"← Applications"</a></p>
        <h1>"My Account"</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match reauth.await {
                    Ok(Some(options)) => view! { <ReauthPanel retry=console.retry options plain=plain.get_value()/> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(e) => view! { <ErrorAlert error=e/> }.into_any(),
                }
            })}
        </Transition>
        // Tabs as links (`?tab=`): each is a real address, works without
        // JavaScript, and the browser's Back button moves between them.
        <nav class="tabs" aria-label="My Account settings">
            {Tab::ALL.into_iter().map(|t| view! {
                <a class="tabs__tab" id=format!("tab-{}", t.slug()) href=format!("?tab={}", t.slug())
                    aria-current=move || (tab.get() == t).then_some("page")>{t.label()}</a>
            }).collect_view()}
        </nav>
        <Suspense fallback=|| view! { <Spinner/> }>
            {move || Suspend::new(async move {
                let (app, flow) = (app.await, flow.await);
                match (app, flow) {
                    (Ok(app), Ok(flow)) => {
                        let app = RwSignal::new(app);
                        view! {
                            <section id="panel-general" data-testid="panel-general" hidden=move || tab.get() != Tab::General>
                                <GeneralTab app=app/>
                            </section>
                            <section id="panel-login-flow" data-testid="panel-login-flow" hidden=move || tab.get() != Tab::LoginFlow>
                                <LoginFlowTab console=console info=flow plain=flow_result.get_value()/>
                            </section>
                            <section id="panel-danger-zone" data-testid="panel-danger-zone" hidden=move || tab.get() != Tab::DangerZone>
                                <DangerZoneTab console=console app=app switch_error=switch_error.get_value() switched=switched.get_value()/>
                            </section>
                        }.into_any()
                    }
                    (Err(e), _) | (_, Err(e)) => view! { <ErrorAlert error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn GeneralTab(app: RwSignal<MyAccountApp>) -> impl IntoView {
    view! {
        <div class="card">
            <h2>"General"</h2>
            <dl class="facts">
                <dt>"Name"</dt><dd>{move || app.read().app.name.clone()}</dd>
                <dt>"Description"</dt><dd>{move || app.read().app.description.clone()}</dd>
                <dt>"Access URL"</dt>
                <dd><a href=move || app.read().app.access_url.clone() data-testid="access-url">{move || app.read().app.access_url.clone()}</a></dd>
                <dt>"Status"</dt><dd>{move || view! { <StatusBadge enabled=app.read().app.enabled/> }}</dd>
            </dl>
        </div>
    }
    .into_any()
}

/// Enable or disable My Account, after a confirmation dialog.
#[component]
fn DangerZoneTab(
    console: Console,
    app: RwSignal<MyAccountApp>,
    /// A refused plain form post, brought back by the redirect.
    switch_error: Option<AppError>,
    /// The result of a plain form post, brought back by the redirect.
    switched: Option<String>,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    // The state the administrator asked for, while the dialog is open.
    let asked = RwSignal::new(None::<bool>);
    let busy = RwSignal::new(false);
    let url = <SetMyAccountEnabled as leptos::server_fn::ServerFn>::url();
    let error = RwSignal::new(switch_error);
    let notice = RwSignal::new(switched);
    let enabled = move || app.read().app.enabled;
    let js = crate::components::hydrated();
    let open = move |ev: leptos::ev::MouseEvent| {
        // The switch only moves once the change is saved.
        ev.prevent_default();
        asked.set(Some(!enabled()));
        error.set(None);
        notice.set(None);
        #[cfg(feature = "hydrate")]
        if let Some(d) = dialog.get() {
            let _ = d.show_modal();
        }
    };
    let close = move || {
        #[cfg(feature = "hydrate")]
        if let Some(d) = dialog.get_untracked() {
            d.close();
        }
    };
    let apply = retryable(move |this| {
        let Some(want) = asked.get_untracked() else { return };
        close();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = set_my_account_enabled(want).await;
            busy.set(false);
            if let Some(updated) = settle(console.retry, result, this, error) {
                asked.set(None);
                notice.set(Some(if want { "My Account is enabled.".into() } else { "My Account is disabled.".into() }));
                app.set(updated);
            }
        });
    });
    let disabling = move || asked.get() == Some(false);
    view! {
        <div class="card danger-zone">
            <h2>"Danger Zone"</h2>
            <div class="status-slot">{move || notice.get().map(|m| view! { <Alert kind=AlertKind::Success message=m/> })}</div>
            {move || error.get().map(|e| view! { <ErrorAlert error=e/> })}
            <div class="danger-row">
                <div class="danger-row__text">
                    <h3 id="disable-title">"Disable application"</h3>
                    <p class="muted">
                        "When disabled, nobody can open My Account or use its functions; they see that it was disabled by the \
                         administrator. Sessions stay valid for other applications, and administrators keep this console."
                    </p>
                    <p class="small" data-testid="switched">
                        {move || app.read().switched.clone().map(|c| format!(
                            "{} by {} on {}.", if enabled() { "Enabled" } else { "Disabled" }, c.by, c.at))}
                    </p>
                </div>
                // Without JavaScript (and until the app runs): a plain form,
                // confirmed with a required checkbox instead of the dialog.
                <Show when=move || !js.get()>
                    <form action=url method="post" class="danger-form" data-testid="switch-form">
                        <input type="hidden" name="enabled" value=move || (!enabled()).to_string()/>
                        <label class="check">
                            <input type="checkbox" name="confirm" value="yes" required=true/>
                            {move || if enabled() {
                                " Yes, disable My Account for everyone now"
                            } else {
                                " Yes, enable My Account for everyone now"
                            }}
                        </label>
                        <button class="button button--danger" type="submit">
                            {move || if enabled() { "Disable My Account" } else { "Enable My Account" }}
                        </button>
                    </form>
                </Show>
                // Named "Disable application" (checked: disabled); the state
                // word beside it is for sighted people, the switch says it too.
                <label class="switch" hidden=move || !js.get()>
                    <input type="checkbox" role="switch" data-testid="disable-switch" aria-labelledby="disable-title"
                        prop:checked=move || !enabled() disabled=move || busy.get() on:click=open/>
                    <span class="switch__track" aria-hidden="true"></span>
                    <span class="switch__label" aria-hidden="true">{move || if enabled() { "Enabled" } else { "Disabled" }}</span>
                </label>
            </div>
        </div>
        <dialog node_ref=dialog class="dialog" aria-labelledby="dialog-title" on:close=move |_| if !busy.get_untracked() { asked.set(None) }>
            <h2 id="dialog-title">{move || if disabling() { "Disable My Account?" } else { "Enable My Account?" }}</h2>
            <p>{move || if disabling() {
                "People who open My Account, or whose browser calls it, will be told it was disabled by the administrator, \
                 until you enable it again. Nobody is signed out of other applications. You keep access to this console."
            } else {
                "People can use My Account again at once."
            }}</p>
            <div class="form-actions">
                <button class="button" class:button--danger=disabling class:button--primary=move || !disabling() type="button"
                    data-testid="confirm-switch" on:click=move |_| apply.run(())>
                    {move || if disabling() { "Disable" } else { "Enable" }}
                </button>
                <button class="button button--quiet" type="button" autofocus on:click=move |_| close()>"Cancel"</button>
            </div>
        </dialog>
    }
    .into_any()
}
