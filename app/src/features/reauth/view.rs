use leptos::prelude::*;

use super::ReauthOptions;
use super::api::*;
use crate::components::{ErrorAlert, TextField};
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

/// Inline "confirm it's you": password, authenticator code or passkey.
#[component]
pub fn ReauthPanel(
    /// The action waiting for a fresh proof; the panel shows while it is set.
    retry: RwSignal<Option<Callback<()>>>,
    options: ReauthOptions,
) -> impl IntoView {
    // Take keyboard and screen-reader users to the panel when it appears.
    Effect::new(move |_| {
        if retry.get().is_some() {
            crate::components::focus_soon("[data-testid=reauth] input:not([type=radio]), #reauth-title");
        }
    });
    let secret = RwSignal::new(String::new());
    let method = RwSignal::new(if options.password { "password" } else { "totp" });
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let done = move || {
        busy.set(false);
        secret.set(String::new());
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
    view! {
        <Show when=move || retry.get().is_some()>
            <section class="card reauth" aria-labelledby="reauth-title" data-testid="reauth">
                <h2 id="reauth-title" tabindex="-1">"Confirm it's you"</h2>
                <p class="muted">"For your safety, this change needs a fresh sign-in proof. It then stays valid for a few minutes."</p>
                {move || other_error().map(|e| view! { <ErrorAlert error=e/> })}
                // POST even though only the app submits it: a secret never goes into an address.
                <form method="post" on:submit=submit novalidate>
                    // Type-erased (into_any), like the rename form below: keeps the
                    // view type within the compiler's query depth in `server`.
                    {(has_password && has_totp).then(|| view! {
                        <div class="segmented" role="radiogroup" aria-label="Confirm with">
                            <label><input type="radio" name="reauth-method" checked=move || method.get() == "password"
                                on:change=move |_| method.set("password")/>" Password"</label>
                            <label><input type="radio" name="reauth-method" checked=move || method.get() == "totp"
                                on:change=move |_| method.set("totp")/>" Authenticator code"</label>
                        </div>
                    }.into_any())}
                    {move || if method.get() == "password" && has_password {
                        view! { <TextField label="Your password" name="password" id="reauth-password" kind="password"
                            autocomplete="current-password" autofocus=true error=field_error
                            value=secret controlled=true on_input=move |v| secret.set(v)/> }.into_any()
                    } else if has_totp {
                        view! { <TextField label="Code from your authenticator app" name="code" id="reauth-code" inputmode="numeric"
                            autocomplete="one-time-code" autofocus=true error=field_error
                            value=secret controlled=true on_input=move |v| secret.set(v)/> }.into_any()
                    } else {
                        ().into_any()
                    }}
                    <div class="form-actions">
                        {(has_password || has_totp).then(|| view! {
                            <button class="button button--primary" type="submit" disabled=move || busy.get()>"Confirm"</button>
                        })}
                        {has_passkey.then(|| view! {
                            <button class="button" type="button" on:click=with_passkey disabled=move || busy.get()>"Use a passkey"</button>
                        })}
                        <button class="button button--quiet" type="button" on:click=move |_| retry.set(None)>"Cancel"</button>
                    </div>
                </form>
            </section>
        </Show>
    }
}
