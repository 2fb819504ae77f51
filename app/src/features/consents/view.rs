use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::api::*;
use super::types::*;
use crate::components::{Alert, AlertKind, AppLogo, ErrorAlert, Spinner};
use crate::error::AppError;

/// `/myaccount/consents`: the applications the person allowed. Every form
/// works without JavaScript; with it, the list updates in place.
#[component]
pub fn ConsentsPage() -> impl IntoView {
    let query = use_query_map();
    let version = RwSignal::new(0u32);
    let list = Resource::new(move || version.get(), |_| list_consents());
    let error = RwSignal::new(None::<AppError>);
    let notice = RwSignal::new(query.with_untracked(|q| {
        if q.get("revoked").is_some() {
            Some("Access revoked. The application was signed out and will ask you again next time.")
        } else if q.get("saved").is_some() {
            Some("Saved. The application can no longer read what you unticked.")
        } else {
            None
        }
    }));
    view! {
        <Title text="Connected applications · My Account"/>
        <h1>"Connected applications"</h1>
        <p class="muted">"Applications you allowed to sign you in with this account, and what they can read about you."</p>
        {move || notice.get().map(|m| view! { <Alert kind=AlertKind::Success message=m/> })}
        {move || error.get().map(|e| view! { <ErrorAlert error=e/> })}
        <Transition fallback=|| view! { <Spinner/> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(apps) if apps.is_empty() => view! {
                        <div class="card empty" data-testid="no-consents">
                            <h2>"No connected applications"</h2>
                            <p class="muted">"When you sign in to an application with Latchkey and allow it, it appears here."</p>
                        </div>
                    }.into_any(),
                    Ok(apps) => view! {
                        <ul class="consent-list" data-testid="consents">
                            {apps.into_iter().map(|c| view! { <li><Connected c version error notice/></li> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <ErrorAlert error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Connected(
    c: ConnectedApp,
    version: RwSignal<u32>,
    error: RwSignal<Option<AppError>>,
    notice: RwSignal<Option<&'static str>>,
) -> impl IntoView {
    let ConnectedApp { app, permissions, granted_on, last_used } = c;
    let (initial, hue) = (app.initial(), app.avatar_hue());
    let handle = app.id.clone();
    let done = move |r: Result<(), AppError>, message: &'static str| match r {
        Ok(()) => {
            error.set(None);
            notice.set(Some(message));
            version.update(|v| *v += 1);
        }
        Err(e) => error.set(Some(e)),
    };
    let revoke = {
        let handle = handle.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let handle = handle.clone();
            leptos::task::spawn_local(async move {
                done(revoke_consent(handle).await, "Access revoked. The application was signed out and will ask you again next time.")
            });
        }
    };
    // The optional permissions and whether each is ticked.
    let ticks: Vec<(String, RwSignal<bool>)> =
        permissions.iter().filter(|p| !p.required).map(|p| (p.scope.clone(), RwSignal::new(true))).collect();
    let save = {
        let handle = handle.clone();
        let ticks = ticks.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let scopes = proto::scopes::Ticked::from_fn(|scope| ticks.iter().any(|(s, t)| s == scope && t.get_untracked()));
            let handle = handle.clone();
            leptos::task::spawn_local(async move {
                done(update_consent(handle, Some(scopes)).await, "Saved. The application can no longer read what you unticked.")
            });
        }
    };
    let name = app.name.clone();
    view! {
        <article class="card consent-card" data-testid=format!("consent-{}", app.id)>
            <div class="consent-app">
                <AppLogo logo=app.logo.clone() initial hue/>
                <div>
                    <h2 class="app-card__name">{app.name.clone()}</h2>
                    <p class="muted small">"Access granted on "{granted_on}
                        {last_used.map(|t| view! { " · Last used "{t} })}</p>
                </div>
            </div>
            <form method="post" action=UpdateConsent::url() on:submit=save>
                <input type="hidden" name="app" value=handle.clone()/>
                <fieldset>
                    <legend>"It can"</legend>
                    <ul class="consent-scopes">
                        {permissions.into_iter().map(|p| {
                            let id = format!("{}-{}", handle, p.scope);
                            let for_id = id.clone();
                            if p.required {
                                view! { <li>"✓ "{p.label}</li> }.into_any()
                            } else {
                                let tick = ticks.iter().find(|(s, _)| *s == p.scope).map(|(_, t)| *t).unwrap_or_else(|| RwSignal::new(true));
                                view! {
                                    <li><label for=for_id>
                                        <input type="checkbox" id=id name=format!("scopes[{}]", p.scope) value="on" data-scope=p.scope.clone()
                                            checked=true on:change=move |_| tick.update(|t| *t = !*t)/>
                                        " "{p.label}
                                    </label></li>
                                }.into_any()
                            }
                        }).collect_view()}
                    </ul>
                </fieldset>
                <button class="button" type="submit" data-testid="save-permissions">"Save permissions"</button>
            </form>
            <details class="danger-confirm">
                <summary class="button button--danger" data-testid="revoke">"Revoke access"</summary>
                <p>{format!("{name} will be signed out: every token it holds stops working at once, and it will have to ask you again before it can sign you in.")}</p>
                <form method="post" action=RevokeConsent::url() on:submit=revoke>
                    <input type="hidden" name="app" value=handle/>
                    <button class="button button--danger" type="submit" data-testid="confirm-revoke">{format!("Revoke access for {}", app.name)}</button>
                </form>
            </details>
        </article>
    }
}
