use leptos::prelude::*;
use leptos_meta::Title;

use super::api::*;
use crate::components::{Alert, AlertKind, ErrorAlert, Spinner, hard_navigate};
use crate::error::AppError;

/// `/myaccount/sessions`: every browser signed in to the account, this one
/// first; end one, or all others.
#[component]
pub fn SessionsPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let data = Resource::new(move || version.get(), |_| get_sessions());
    let notice = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let end_others = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        notice.set(None);
        leptos::task::spawn_local(async move {
            let result = revoke_other_sessions().await;
            busy.set(false);
            match result {
                Ok(n) => {
                    error.set(None);
                    notice.set(Some(others_message(n)));
                    version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let end_one = move |ev: leptos::ev::SubmitEvent, id: String, current: bool| {
        ev.prevent_default();
        busy.set(true);
        notice.set(None);
        leptos::task::spawn_local(async move {
            let result = revoke_session(id).await;
            busy.set(false);
            match result {
                // This browser's own session: it is signed out now.
                Ok(Some(target)) => hard_navigate(&target),
                Ok(None) => {
                    error.set(None);
                    notice.set(Some(if current { "Signed out.".into() } else { "That session was signed out.".into() }));
                    version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    // After a plain form post (no JavaScript) the server redirects back here
    // with `ended=one` or `ended=N` (other sessions).
    let query = leptos_router::hooks::use_query_map();
    let ended_without_js = move || {
        query.read().get("ended").map(|n| match n.as_str() {
            "one" => "That session was signed out.".to_owned(),
            n => others_message(n.parse().unwrap_or(0)),
        })
    };
    let revoke_url = <RevokeSession as leptos::server_fn::ServerFn>::url();
    let others_url = <RevokeOtherSessions as leptos::server_fn::ServerFn>::url();
    view! {
        <Title text="Sessions"/>
        <h1>"Sessions"</h1>
        <p class="muted">"Browsers and devices signed in to your account. Sign out any you do not recognise, then change your password."</p>
        <div class="status-slot">{move || notice.get().or_else(ended_without_js).map(|m| view! { <Alert kind=AlertKind::Success message=m/> })}</div>
        {move || error.get().map(|e| view! { <ErrorAlert error=e/> })}
        <Transition fallback=|| view! { <Spinner label="Loading…"/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(list) => {
                        let others = list.iter().filter(|s| !s.current).count();
                        view! {
                            <section class="card security-section" aria-labelledby="sessions-title">
                                <h2 id="sessions-title">{format!("Signed in ({})", list.len())}</h2>
                                <ul class="cred-list" data-testid="sessions">
                                    {list.into_iter().map(|s| {
                                        let (id, current) = (s.id.clone(), s.current);
                                        let label = if current { "Sign out this device".to_owned() } else { format!("Sign out {} on {}", s.browser, s.os) };
                                        view! {
                                            <li class="cred" data-testid="session" data-current=current.to_string()>
                                                <div class="cred__main">
                                                    <strong class="cred__name">{format!("{} on {}", s.browser, s.os)}</strong>
                                                    {current.then(|| view! { " " <span class="badge badge--ok">"This device"</span> })}
                                                    <p class="muted small">
                                                        {s.ip.clone().map(|ip| format!("{ip} · ")).unwrap_or_default()}
                                                        "Last active "{s.last_active.clone()}
                                                    </p>
                                                    <p class="muted small">"Signed in "{s.started.clone()}" with "{s.methods.clone()}</p>
                                                    {(!s.apps.is_empty()).then(|| view! {
                                                        <p class="small" data-testid="session-apps">"Signed in to "{s.apps.join(", ")}</p>
                                                    })}
                                                </div>
                                                <form class="cred__actions" action=revoke_url method="post"
                                                    on:submit={
                                                        let id = id.clone();
                                                        move |ev| end_one(ev, id.clone(), current)
                                                    }>
                                                    <input type="hidden" name="id" value=id.clone()/>
                                                    <button class="button button--danger" type="submit" aria-label=label
                                                        disabled=move || busy.get()>"Sign out"</button>
                                                </form>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                                {(others > 0).then(|| view! {
                                    <form action=others_url method="post" on:submit=end_others>
                                        <button class="button" type="submit" data-testid="sign-out-others"
                                            disabled=move || busy.get()>"Sign out everywhere else"</button>
                                    </form>
                                })}
                            </section>
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorAlert error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

/// What the page says after signing out the other sessions.
fn others_message(n: u64) -> String {
    match n {
        0 => "No other sessions were signed in.".to_owned(),
        1 => "Signed out of 1 other session.".to_owned(),
        n => format!("Signed out of {n} other sessions."),
    }
}
