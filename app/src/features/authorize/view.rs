use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::api::*;
use super::types::*;
use crate::components::{AppLogo, ErrorAlert, Spinner, hard_navigate, hydrated};
use crate::features::admin::types::AppSummary;
use crate::features::reauth::view::{Plain, ReauthPanel, plain_reauth};

/// `/oauth2/continue?request=…`: an application's sign-in waits here for
/// the person — a proof, then (unless they allowed it before) consent.
/// Works without JavaScript: the proof and consent forms are plain forms.
#[component]
pub fn AuthorizationPage() -> impl IntoView {
    let query = use_query_map();
    let request = query.with_untracked(|q| q.get("request").unwrap_or_default());
    let plain = plain_reauth();
    let handle = request.clone();
    let found = Resource::new(|| (), move |_| get_authorization(handle.clone()));
    view! {
        <Title text="Sign in to an application"/>
        <main class="center-page">
            <div class="card auth-card" data-testid="authorization">
                <p class="brand">"Latchkey"</p>
                <Transition fallback=|| view! { <Spinner/> }>
                    {move || {
                        let request = request.clone();
                        let plain = plain.clone();
                        Suspend::new(async move {
                            match found.await {
                                Ok(a) => view! { <Steps authorization=a request plain/> }.into_any(),
                                Err(e) => view! { <h1>"Can't continue"</h1><ErrorAlert error=e/> }.into_any(),
                            }
                        })
                    }}
                </Transition>
            </div>
        </main>
    }
}

#[component]
fn AppHeading(app: AppSummary, text: &'static str) -> impl IntoView {
    let (initial, hue) = (app.initial(), app.avatar_hue());
    view! {
        <div class="consent-app">
            <AppLogo logo=app.logo.clone() initial hue/>
            <h1>{text}" "<span data-testid="app-name">{app.name.clone()}</span></h1>
        </div>
    }
}

#[component]
fn Steps(authorization: Authorization, request: String, plain: Option<Plain>) -> impl IntoView {
    let Authorization { app, step, resume } = authorization;
    match step {
        Step::Go(to) => {
            // Nothing more is needed: on with JavaScript, or a link without.
            let target = to.clone();
            Effect::new(move |_| hard_navigate(&target));
            view! {
                <AppHeading app text="Signing in to"/>
                <p><a class="button button--primary" href=to data-testid="continue">"Continue"</a></p>
            }
            .into_any()
        }
        Step::Prove { options, again } => {
            let retry = RwSignal::new(Some(Callback::new(move |_: ()| hard_navigate(&resume))));
            let why = if again {
                "The application asks you to confirm it's you again before it signs you in."
            } else {
                "This application asks for another sign-in step than you have used so far."
            };
            view! {
                <AppHeading app text="Signing in to"/>
                <p class="muted" data-testid="step-up">{why}</p>
                <ReauthPanel retry options plain/>
            }
            .into_any()
        }
        Step::Consent { scopes } => view! { <ConsentForm app scopes request/> }.into_any(),
    }
}

#[component]
fn ConsentForm(app: AppSummary, scopes: Vec<ScopeChoice>, request: String) -> impl IntoView {
    let answer = ServerAction::<AnswerConsent>::new();
    Effect::new(move |_| {
        if let Some(Ok(to)) = answer.value().get() {
            hard_navigate(&to);
        }
    });
    let error = move || answer.value().get().and_then(Result::err);
    let pending = answer.pending();
    let js = hydrated();
    let name = app.name.clone();
    view! {
        <AppHeading app text="Allow"/>
        <p>{name}" would like to:"</p>
        {move || error().map(|e| view! { <ErrorAlert error=e/> })}
        <ActionForm action=answer>
            <input type="hidden" name="request" value=request/>
            <ul class="consent-scopes" data-testid="scopes">
                {scopes.into_iter().map(|s| {
                    let id = format!("scope-{}", s.scope);
                    let for_id = id.clone();
                    view! {
                        <li>
                            {if s.required {
                                view! { <span data-scope=s.scope.clone()>"✓ "{s.label.clone()}</span> }.into_any()
                            } else {
                                view! {
                                    <label for=for_id>
                                        <input type="checkbox" id=id name=format!("scopes[{}]", s.scope) value="on" checked=true data-scope=s.scope.clone()/>
                                        " "{s.label.clone()}
                                        {(!s.allowed_before).then(|| view! { <span class="badge">"New"</span> })}
                                    </label>
                                }.into_any()
                            }}
                        </li>
                    }
                }).collect_view()}
            </ul>
            <p class="small muted">"You can change or revoke this at any time in My Account → Connected applications."</p>
            <div class="form-actions">
                <button class="button button--primary" type="submit" name="allow" value="yes"
                    disabled=move || js.get() && pending.get() data-testid="allow">"Allow"</button>
                <button class="button" type="submit" name="allow" value="no"
                    disabled=move || js.get() && pending.get() data-testid="deny">"Deny"</button>
            </div>
        </ActionForm>
    }
}
