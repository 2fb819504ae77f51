use leptos::prelude::*;

use super::ReauthOptions;
use super::api::*;
use crate::components::{Alert, AlertKind, ErrorAlert, TextField};
use crate::error::{AppError, message_for};
use crate::features::passkeys;

/// A callback that can hand itself to what it starts, so an action
/// interrupted by "confirm it's you" can be retried afterwards.
pub fn retryable(f: impl Fn(Callback<()>) + Send + Sync + 'static) -> Callback<()> {
    let me = StoredValue::new(None::<Callback<()>>);
    let cb = Callback::new(move |()| {
        if let Some(this) = me.get_value() {
            f(this)
        }
    });
    me.set_value(Some(cb));
    cb
}

/// The state a My Account page with sensitive changes shares between its
/// sections: the action waiting for "confirm it's you", a version bumped to
/// reload the page's data, and the last success message.
#[derive(Clone, Copy)]
pub struct Page {
    /// The action to retry once the person confirmed it's them.
    pub retry: RwSignal<Option<Callback<()>>>,
    /// Bumped to reload the page's data.
    pub version: RwSignal<u32>,
    pub notice: RwSignal<Option<String>>,
}

impl Page {
    pub fn new() -> Self {
        Self { retry: RwSignal::new(None), version: RwSignal::new(0), notice: RwSignal::new(None) }
    }

    pub fn reload(&self) {
        self.version.update(|v| *v += 1);
    }

    /// Shows `message` and reloads the page's data.
    pub fn done(&self, message: String) {
        self.notice.set(Some(message));
        self.reload();
    }

    /// Handles a server answer: a re-authentication request keeps `run` for
    /// later; other errors go to `error`.
    pub fn handle<T>(&self, result: Result<T, AppError>, run: Callback<()>, error: RwSignal<Option<AppError>>) -> Option<T> {
        settle(self.retry, result, run, error)
    }
}

impl Default for Page {
    fn default() -> Self {
        Self::new()
    }
}

/// Handles a server answer to a change: a request for a fresh proof keeps
/// `run` in `retry` (the panel then asks, and runs it again); other errors
/// go to `error`.
pub fn settle<T>(
    retry: RwSignal<Option<Callback<()>>>,
    result: Result<T, AppError>,
    run: Callback<()>,
    error: RwSignal<Option<AppError>>,
) -> Option<T> {
    match result {
        Ok(v) => {
            error.set(None);
            Some(v)
        }
        Err(AppError::ReauthRequired) => {
            retry.set(Some(run));
            None
        }
        Err(e) => {
            error.set(Some(e));
            None
        }
    }
}

/// What a plain form post (no JavaScript) brought back about "confirm it's
/// you", read from the query by [`plain_reauth`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plain {
    /// A change was refused for want of a recent proof: ask for one.
    Asked,
    /// The proof itself was refused (a wrong password, …): ask again, saying why.
    Refused(AppError),
    /// Confirmed: the person can send their change again.
    Confirmed,
}

/// What this page's address says about "confirm it's you" after a plain
/// form post. Call it at the top of a page, before anything awaits.
pub fn plain_reauth() -> Option<Plain> {
    use leptos::server_fn::ServerFn;
    if leptos_router::hooks::use_query_map().with_untracked(|q| q.get_str("reauth") == Some("ok")) {
        return Some(Plain::Confirmed);
    }
    let (path, error) = crate::components::plain_form_any_error()?;
    if path == <Reauthenticate as ServerFn>::url() {
        Some(Plain::Refused(error))
    } else {
        (error == AppError::ReauthRequired).then_some(Plain::Asked)
    }
}

/// Inline "confirm it's you": password, authenticator code or passkey. With
/// JavaScript it retries the interrupted change itself; without, it is a
/// plain form that comes back to the page, and the person sends again.
#[component]
pub fn ReauthPanel(
    /// The action waiting for a fresh proof; the panel shows while it is set.
    retry: RwSignal<Option<Callback<()>>>,
    options: ReauthOptions,
    /// What a plain form post brought back ([`plain_reauth`]).
    plain: Option<Plain>,
) -> impl IntoView {
    // Take keyboard and screen-reader users to the panel when it appears.
    Effect::new(move |_| {
        if retry.get().is_some() {
            crate::components::focus_soon("[data-testid=reauth] input:not([type=radio]), #reauth-title");
        }
    });
    let asked_plainly = RwSignal::new(matches!(plain, Some(Plain::Asked | Plain::Refused(_))));
    let confirmed = plain == Some(Plain::Confirmed);
    let js = crate::components::hydrated();
    let secret = RwSignal::new(String::new());
    let method = RwSignal::new(if options.password { "password" } else { "totp" });
    let error = RwSignal::new(match plain {
        Some(Plain::Refused(e)) => Some(e),
        _ => None,
    });
    let busy = RwSignal::new(false);
    let done = move || {
        busy.set(false);
        secret.set(String::new());
        asked_plainly.set(false);
        if let Some(run) = retry.get_untracked() {
            retry.set(None);
            run.run(());
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match reauthenticate(method.get_untracked().to_owned(), secret.get_untracked()).await {
                Ok(()) => done(),
                Err(e) => {
                    busy.set(false);
                    error.set(Some(e));
                }
            }
        });
    };
    let with_passkey = move |_| {
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = async {
                let c = start_reauth_passkey().await?;
                let credential = passkeys::get(&c.options).await.map_err(AppError::Refused)?;
                finish_reauth_passkey(c.ceremony, credential).await
            }
            .await;
            match result {
                Ok(()) => done(),
                Err(e) => {
                    busy.set(false);
                    error.set(Some(e));
                }
            }
        });
    };
    let field_error = Signal::derive(move || {
        error.get().and_then(|e| message_for(e.field_errors(), "password").or_else(|| message_for(e.field_errors(), "code")))
    });
    let other_error = move || error.get().filter(|e| e.field_errors().is_empty());
    let (has_password, has_totp, has_passkey) = (options.password, options.totp, options.passkey);
    let url = <Reauthenticate as leptos::server_fn::ServerFn>::url();
    view! {
        {confirmed.then(|| view! {
            <Alert kind=AlertKind::Success message="Thanks, that's confirmed. Now make your change again."/>
        })}
        <Show when=move || retry.get().is_some() || asked_plainly.get()>
            // Type-erased (into_any) to keep the view type within the
            // compiler's query depth in `server`.
            {view! {
            <section class="card reauth" aria-labelledby="reauth-title" data-testid="reauth">
                <h2 id="reauth-title" tabindex="-1">"Confirm it's you"</h2>
                <p class="muted">"For your safety, this change needs a fresh sign-in proof. It then stays valid for a few minutes."</p>
                {move || other_error().map(|e| view! { <ErrorAlert error=e/> })}
                // A plain form without JavaScript; a secret never goes into an address.
                <form method="post" action=url on:submit=submit novalidate>
                    // Type-erased (into_any), like the rename form below: keeps the
                    // view type within the compiler's query depth in `server`.
                    {if has_password && has_totp {
                        view! {
                            <div class="segmented" role="radiogroup" aria-label="Confirm with">
                                <label><input type="radio" name="method" value="password" checked=move || method.get() == "password"
                                    on:change=move |_| method.set("password")/>" Password"</label>
                                <label><input type="radio" name="method" value="totp" checked=move || method.get() == "totp"
                                    on:change=move |_| method.set("totp")/>" Authenticator code"</label>
                            </div>
                        }.into_any()
                    } else {
                        view! { <input type="hidden" name="method" value=move || method.get()/> }.into_any()
                    }}
                    {move || if method.get() == "password" && has_password {
                        view! { <TextField label="Your password" name="secret" id="reauth-password" kind="password"
                            autocomplete="current-password" autofocus=true error=field_error
                            value=secret controlled=true on_input=move |v| secret.set(v)/> }.into_any()
                    } else if has_totp {
                        view! { <TextField label="Code from your authenticator app" name="secret" id="reauth-code" inputmode="numeric"
                            autocomplete="one-time-code" autofocus=true error=field_error
                            value=secret controlled=true on_input=move |v| secret.set(v)/> }.into_any()
                    } else {
                        ().into_any()
                    }}
                    {(has_passkey && !has_password && !has_totp).then(|| view! {
                        <noscript><p class="small">"Confirming with a passkey needs JavaScript. You can sign out and sign in again instead."</p></noscript>
                    })}
                    <div class="form-actions">
                        {(has_password || has_totp).then(|| view! {
                            <button class="button button--primary" type="submit" disabled=move || busy.get()>"Confirm"</button>
                        })}
                        <Show when=move || js.get()>
                            {has_passkey.then(|| view! {
                                <button class="button" type="button" on:click=with_passkey disabled=move || busy.get()>"Use a passkey"</button>
                            })}
                            <button class="button button--quiet" type="button"
                                on:click=move |_| { retry.set(None); asked_plainly.set(false); }>"Cancel"</button>
                        </Show>
                    </div>
                </form>
            </section>
            }.into_any()}
        </Show>
    }
    .into_any()
}
