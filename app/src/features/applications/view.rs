use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::api::*;
use super::types::*;
use crate::components::{AppLogo, ErrorAlert, SearchForm, Spinner};
use crate::error::AppError;
use crate::features::admin::types::AppSummary;

/// `/myaccount/applications`: what the person may launch. The search box
/// filters as they type, and is a GET form without JavaScript; stars are
/// small forms too.
#[component]
pub fn MyApplicationsPage() -> impl IntoView {
    let query = use_query_map();
    let initial = query.with_untracked(|q| q.get("search").unwrap_or_default());
    let search = RwSignal::new(initial.clone());
    let version = RwSignal::new(0u32);
    let apps = Resource::new(move || (search.get(), version.get()), |(s, _)| list_my_applications((!s.trim().is_empty()).then_some(s)));
    let error = RwSignal::new(None::<AppError>);
    view! {
        <Title text="Applications · My Account"/>
        <h1>"Applications"</h1>
        <p class="muted">"Applications you can sign in to with this account."</p>
        <SearchForm label="Search applications by name" value=initial search/>
        {move || error.get().map(|e| view! { <ErrorAlert error=e/> })}
        <Transition fallback=|| view! { <Spinner/> }>
            {move || Suspend::new(async move {
                match apps.await {
                    Ok(found) if !found.any => view! {
                        <div class="card empty" data-testid="no-applications">
                            <h2>"No applications yet"</h2>
                            <p class="muted">"Your administrator can make applications discoverable; they will appear here."</p>
                        </div>
                    }.into_any(),
                    Ok(found) => {
                        let searching = !search.get_untracked().trim().is_empty();
                        view! {
                            {(!searching && !found.recent.is_empty()).then(|| view! {
                                <section aria-labelledby="recent-title">
                                    <h2 id="recent-title">"Recently used"</h2>
                                    <ul class="app-grid app-grid--recent" data-testid="recent">
                                        {found.recent.into_iter().map(|a| view! { <li><AppTile app=a/></li> }).collect_view()}
                                    </ul>
                                </section>
                            })}
                            <section aria-labelledby="all-title">
                                <h2 id="all-title">{if searching { "Search results" } else { "All applications" }}</h2>
                                {found.apps.is_empty().then(|| view! {
                                    <p class="empty" data-testid="no-match">"No application has a name containing “"{search.get_untracked()}"”."</p>
                                })}
                                <ul class="app-grid" data-testid="my-applications">
                                    {found.apps.into_iter().map(|c| view! {
                                        <li><AppCardView card=c version error/></li>
                                    }).collect_view()}
                                </ul>
                            </section>
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorAlert error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn launch_href(app: &AppSummary) -> String {
    format!("{}?app={}", <LaunchApplication as leptos::server_fn::ServerFn>::url(), app.id)
}

/// A recently used application: logo, name and Launch.
#[component]
fn AppTile(app: AppSummary) -> impl IntoView {
    let (initial, hue) = (app.initial(), app.avatar_hue());
    view! {
        <a class="app-tile" href=launch_href(&app) target="_blank" rel="noopener noreferrer">
            <AppLogo logo=app.logo.clone() initial hue/>
            <span>{app.name.clone()}</span>
            <span class="sr-only">" (opens in a new tab)"</span>
        </a>
    }
}

/// An application with its star and Launch.
#[component]
fn AppCardView(card: AppCard, version: RwSignal<u32>, error: RwSignal<Option<AppError>>) -> impl IntoView {
    let AppCard { app, favourite, signed_in } = card;
    let (initial, hue) = (app.initial(), app.avatar_hue());
    let handle = app.id.clone();
    let star_label = if favourite { format!("Remove {} from favourites", app.name) } else { format!("Add {} to favourites", app.name) };
    let toggle = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let handle = handle.clone();
        leptos::task::spawn_local(async move {
            match set_favourite(handle, !favourite).await {
                Ok(()) => {
                    error.set(None);
                    version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <article class="card app-card" data-testid=format!("my-app-{}", app.id)>
            <AppLogo logo=app.logo.clone() initial hue/>
            <div class="app-card__main">
                <h3 class="app-card__name">{app.name.clone()}
                    {signed_in.then(|| view! { " "<span class="badge" data-testid="signed-in">"Signed in"</span> })}</h3>
                <p class="muted small">{app.description.clone()}</p>
            </div>
            <div class="app-card__actions">
                <form method="post" action={<SetFavourite as leptos::server_fn::ServerFn>::url()} on:submit=toggle>
                    <input type="hidden" name="app" value=app.id.clone()/>
                    <input type="hidden" name="on" value=(!favourite).to_string()/>
                    <button class="star" class:star--on=favourite type="submit" aria-pressed=favourite.to_string()
                        aria-label=star_label.clone() title=star_label data-testid="star">
                        {if favourite { "★" } else { "☆" }}
                    </button>
                </form>
                <a class="button button--primary" href=launch_href(&app) target="_blank" rel="noopener noreferrer" data-testid="launch">
                    "Launch"<span class="sr-only">{format!(" {} (opens in a new tab)", app.name)}</span>
                </a>
            </div>
        </article>
    }
}
