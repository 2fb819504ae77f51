use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_location, use_query_map};

use super::api::*;
use super::app_form::{AppFormCard, DeleteApp};
use super::flow_editor::LoginFlowTab;
use super::notice::TwoFactorsNeeded;
use super::types::*;
use crate::components::{Alert, AlertKind, AppLogo, ErrorAlert, SearchForm, Shell, Spinner, refused};
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

/// `/admin/applications`: My Account pinned at the top, then the others
/// by name; search by name (a GET form, so it works without JavaScript,
/// and the list follows the box as the administrator types).
#[component]
pub fn ApplicationsPage() -> impl IntoView {
    let query = use_query_map();
    let initial = query.with_untracked(|q| q.get("search").unwrap_or_default());
    let deleted = query.with_untracked(|q| q.get_str("deleted").is_some());
    let search = RwSignal::new(initial.clone());
    let apps = Resource::new(move || search.get(), |s| list_applications((!s.trim().is_empty()).then_some(s)));
    view! {
        <Title text="Applications"/>
        <div class="page-head">
            <div>
                <h1>"Applications"</h1>
                <p class="muted">"Applications people sign in to through Latchkey."</p>
            </div>
            <a class="button button--primary" href=routes::ADMIN_NEW_APPLICATION data-testid="new-application">"New application"</a>
        </div>
        {deleted.then(|| view! { <Alert kind=AlertKind::Success message="The application was deleted.".to_owned()/> })}
        <SearchForm label="Search applications by name" value=initial search/>
        <Transition fallback=|| view! { <Spinner/> }>
            {move || Suspend::new(async move {
                match apps.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty" data-testid="no-match">"No application has a name containing “"{search.get_untracked()}"”."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="app-list" data-testid="applications">
                            {list.into_iter().map(|a| {
                                let href = format!("{}/{}", routes::ADMIN_APPLICATIONS, a.id);
                                let (initial, hue) = (a.initial(), a.avatar_hue());
                                view! {
                                    <li class="card app-item" data-testid=format!("app-{}", a.id)>
                                        <AppLogo logo=a.logo.clone() initial hue/>
                                        <div class="app-item__main">
                                            <h2 class="app-item__name"><a href=href>{a.name.clone()}</a></h2>
                                            <p class="muted">{a.description.clone()}</p>
                                            <p class="small"><span class="muted">"Access URL "</span><code>{a.access_url.clone()}</code></p>
                                        </div>
                                        <div class="app-item__badges">
                                            {a.built_in.then(|| view! { <span class="badge">"Built in"</span> })}
                                            {(!a.built_in && !a.discoverable).then(|| view! { <span class="badge">"Hidden"</span> })}
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
        </Transition>
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
    Protocol,
    LoginFlow,
    DangerZone,
}

impl Tab {
    const ALL: [Tab; 4] = [Tab::General, Tab::Protocol, Tab::LoginFlow, Tab::DangerZone];

    fn slug(self) -> &'static str {
        match self {
            Tab::General => "general",
            Tab::Protocol => "protocol",
            Tab::LoginFlow => "login-flow",
            Tab::DangerZone => "danger-zone",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::General => "General",
            Tab::Protocol => "Protocol",
            Tab::LoginFlow => "Login Flow",
            Tab::DangerZone => "Danger Zone",
        }
    }
}

/// Shared by the page's tabs: the application, and a change interrupted
/// by "confirm it's you" waiting until the administrator confirmed.
#[derive(Clone, Copy)]
pub struct Console {
    /// The application's handle.
    pub app: StoredValue<String>,
    pub retry: RwSignal<Option<Callback<()>>>,
}

/// The "confirm it's you" panel of a console page: shown when a change
/// (or a plain form post) needs a fresh proof.
#[component]
fn ConsoleReauth(console: Console) -> impl IntoView {
    let plain = StoredValue::new(plain_reauth());
    let reauth = Resource::new(
        move || console.retry.get().is_some() || plain.with_value(Option::is_some),
        |wanted| async move { if wanted { get_reauth_options().await.map(Some) } else { Ok(None) } },
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match reauth.await {
                    Ok(Some(options)) => view! { <ReauthPanel retry=console.retry options plain=plain.get_value()/> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(e) => view! { <ErrorAlert error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `/admin/applications/new`: register an application.
#[component]
pub fn NewApplicationPage() -> impl IntoView {
    let console = Console { app: StoredValue::new(String::new()), retry: RwSignal::new(None) };
    let form_error = StoredValue::new(crate::components::plain_form_error(<CreateApplication as leptos::server_fn::ServerFn>::url())());
    view! {
        <Title text="New application · Applications"/>
        <p class="small"><a href=routes::ADMIN_APPLICATIONS>"← Applications"</a></p>
        <h1>"New application"</h1>
        <ConsoleReauth console/>
        <AppFormCard console detail=None plain_error=form_error.get_value()/>
    }
}

/// `/admin/applications/{app}`: General, Login Flow and Danger Zone tabs
/// (`?tab=`). Every tab stays mounted, so switching tabs keeps unsaved edits.
#[component]
pub fn ApplicationPage() -> impl IntoView {
    let query = use_query_map();
    let params = leptos_router::hooks::use_params_map();
    let handle = params.with_untracked(|p| p.get("app").unwrap_or_default());
    // What plain form posts (no JavaScript) came back with. Read here,
    // before anything awaits: context (the query) is not reachable from
    // components created after an `.await` on the server.
    let plain = StoredValue::new(PlainResults::read());
    let tab = Memo::new(move |_| {
        let q = query.read().get("tab").unwrap_or_default();
        Tab::ALL.into_iter().find(|t| t.slug() == q).unwrap_or(Tab::General)
    });
    let console = Console { app: StoredValue::new(handle.clone()), retry: RwSignal::new(None) };
    let flow_result = StoredValue::new(super::flow_editor::PlainResult::read());
    let app = Resource::new(move || console.app.get_value(), |h| get_application(Some(h)));
    let flow = Resource::new(move || console.app.get_value(), |h| get_login_flow(Some(h)));
    let client = Resource::new(move || console.app.get_value(), get_client);
    view! {
        <Title text="Application · Applications"/>
        <p class="small"><a href=routes::ADMIN_APPLICATIONS>"← Applications"</a></p>
        <ConsoleReauth console/>
        <Suspense fallback=|| view! { <Spinner/> }>
            {move || Suspend::new(async move {
                let (app, flow, client) = (app.await, flow.await, client.await);
                match (app, flow, client) {
                    (Ok(app), Ok(flow), Ok(client)) => {
                        let name = app.app.name.clone();
                        let built_in = app.app.built_in;
                        let app = RwSignal::new(app);
                        let plain = plain.get_value();
                        view! {
                            <Title text=format!("{name} · Applications")/>
                            <h1 data-testid="app-name">{move || app.read().app.name.clone()}</h1>
                            // Tabs as links (`?tab=`): each is a real address, works without
                            // JavaScript, and the browser's Back button moves between them.
                            <nav class="tabs" aria-label=format!("{name} settings")>
                                {Tab::ALL.into_iter().map(|t| view! {
                                    <a class="tabs__tab" id=format!("tab-{}", t.slug()) href=format!("?tab={}", t.slug())
                                        aria-current=move || (tab.get() == t).then_some("page")>{t.label()}</a>
                                }).collect_view()}
                            </nav>
                            <section id="panel-general" data-testid="panel-general" hidden=move || tab.get() != Tab::General>
                                {if built_in {
                                    view! { <BuiltInGeneral app/> }.into_any()
                                } else {
                                    view! {
                                        {plain.edited.then(|| view! { <Alert kind=AlertKind::Success message="Saved.".to_owned()/> })}
                                        {plain.created.then(|| view! { <Alert kind=AlertKind::Success message="The application is registered and enabled. It signs people in with the default login flow until you change it.".to_owned()/> })}
                                        <AppFormCard console detail=Some(app) plain_error=plain.edit_error.clone()/>
                                    }.into_any()
                                }}
                            </section>
                            <section id="panel-protocol" data-testid="panel-protocol" hidden=move || tab.get() != Tab::Protocol>
                                <super::protocol::ProtocolTab console built_in client plain=plain.protocol.clone()/>
                            </section>
                            <section id="panel-login-flow" data-testid="panel-login-flow" hidden=move || tab.get() != Tab::LoginFlow>
                                <LoginFlowTab console=console info=flow plain=flow_result.get_value()/>
                            </section>
                            <section id="panel-danger-zone" data-testid="panel-danger-zone" hidden=move || tab.get() != Tab::DangerZone>
                                <DangerZoneTab console=console app=app switch_error=plain.switch_error
                                    switched=plain.switched.map(|on| switched_message(&name, on))/>
                                {(!built_in).then(|| view! { <DeleteApp console app=app plain_error=plain.delete_error/> })}
                            </section>
                        }.into_any()
                    }
                    (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => view! { <ErrorAlert error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// What plain form posts of an application's page came back with.
#[derive(Clone, Debug, Default)]
struct PlainResults {
    switch_error: Option<AppError>,
    edit_error: Option<AppError>,
    delete_error: Option<AppError>,
    /// Switched on (`true`) or off.
    switched: Option<bool>,
    edited: bool,
    created: bool,
    protocol: super::protocol::Plain,
}

impl PlainResults {
    fn read() -> Self {
        use leptos::server_fn::ServerFn;
        let error = |url| crate::components::plain_form_error(url)();
        let q = use_query_map();
        Self {
            switch_error: error(<SetApplicationEnabled as ServerFn>::url()),
            edit_error: error(<UpdateApplication as ServerFn>::url()),
            delete_error: error(<DeleteApplication as ServerFn>::url()),
            switched: q.with_untracked(|q| match q.get_str("switched") {
                Some("on") => Some(true),
                Some("off") => Some(false),
                _ => None,
            }),
            edited: q.with_untracked(|q| q.get_str("edited").is_some()),
            created: q.with_untracked(|q| q.get_str("created").is_some()),
            protocol: super::protocol::Plain::read(),
        }
    }
}

fn switched_message(name: &str, enabled: bool) -> String {
    format!("{name} is {}.", if enabled { "enabled" } else { "disabled" })
}

/// My Account's General tab: its details are fixed.
#[component]
fn BuiltInGeneral(app: RwSignal<AppDetail>) -> impl IntoView {
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
            <p class="muted small">"My Account is built in: its details can't be changed, and it can't be deleted."</p>
        </div>
    }
    .into_any()
}
/// Enable or disable an application, after a confirmation dialog.
#[component]
fn DangerZoneTab(
    console: Console,
    app: RwSignal<AppDetail>,
    /// A refused plain form post, brought back by the redirect.
    switch_error: Option<AppError>,
    /// The result of a plain form post, brought back by the redirect.
    switched: Option<String>,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    // The state the administrator asked for, while the dialog is open.
    let asked = RwSignal::new(None::<bool>);
    let busy = RwSignal::new(false);
    let url = <SetApplicationEnabled as leptos::server_fn::ServerFn>::url();
    let name = move || app.read().app.name.clone();
    let built_in = move || app.read().app.built_in;
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
            let result = set_application_enabled(Some(console.app.get_value()), want).await;
            busy.set(false);
            if let Some(updated) = settle(console.retry, result, this, error) {
                asked.set(None);
                notice.set(Some(switched_message(&name(), want)));
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
                    <p class="muted">{move || if built_in() {
                        "When disabled, nobody can open My Account or use its functions; they see that it was disabled by the \
                         administrator. Sessions stay valid for other applications, and administrators keep this console."
                    } else {
                        "When disabled, nobody can sign in to it through Latchkey, and My Account no longer lists it. \
                         Its settings and login flow are kept."
                    }}</p>
                    <p class="small" data-testid="switched">
                        {move || app.read().switched.clone().map(|c| format!(
                            "{} by {} on {}.", if enabled() { "Enabled" } else { "Disabled" }, c.by, c.at))}
                    </p>
                </div>
                // Without JavaScript (and until the app runs): a plain form,
                // confirmed with a required checkbox instead of the dialog.
                <Show when=move || !js.get()>
                    <form action=url method="post" class="danger-form" data-testid="switch-form">
                        <input type="hidden" name="app" value=console.app.get_value()/>
                        <input type="hidden" name="enabled" value=move || (!enabled()).to_string()/>
                        <label class="check">
                            <input type="checkbox" name="confirm" value="yes" required=true/>
                            {move || format!(" Yes, {} {} for everyone now", if enabled() { "disable" } else { "enable" }, name())}
                        </label>
                        <button class="button button--danger" type="submit">
                            {move || format!("{} {}", if enabled() { "Disable" } else { "Enable" }, name())}
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
            <h2 id="dialog-title">{move || format!("{} {}?", if disabling() { "Disable" } else { "Enable" }, name())}</h2>
            <p>{move || match (disabling(), built_in()) {
                (true, true) => "People who open My Account, or whose browser calls it, will be told it was disabled by the administrator, \
                 until you enable it again. Nobody is signed out of other applications. You keep access to this console.".to_owned(),
                (true, false) => format!("Nobody can sign in to {} through Latchkey until you enable it again.", name()),
                (false, _) => format!("People can use {} again at once.", name()),
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
