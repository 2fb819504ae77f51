//! An application's General form (new and edit) and its deletion. Both
//! are plain forms that work without JavaScript (a logo is then given as
//! an https address; uploading a file needs the page's script, which
//! reads it and sends it with the form).

use leptos::prelude::*;

use super::api::*;
use super::types::*;
use super::view::Console;
use crate::components::{Alert, AlertKind, ErrorAlert, TextField};
use crate::error::{AppError, message_for};
use crate::features::reauth::view::{retryable, settle};
use crate::routes;

/// New (`detail` is `None`) or edit.
#[component]
pub fn AppFormCard(
    console: Console,
    detail: Option<RwSignal<AppDetail>>,
    /// A refused plain form post, brought back by the redirect.
    plain_error: Option<AppError>,
) -> impl IntoView {
    let start = detail.map(|d| d.get_untracked());
    let field = |f: fn(&AppDetail) -> String| RwSignal::new(start.as_ref().map(f).unwrap_or_default());
    let name = field(|d| d.app.name.clone());
    let description = field(|d| d.app.description.clone());
    let access_url = field(|d| d.app.access_url.clone());
    let logo_url = field(|d| d.logo_url.clone());
    let discoverable = RwSignal::new(start.as_ref().is_none_or(|d| d.app.discoverable));
    let logo_file = RwSignal::new(None::<String>);
    let remove_logo = RwSignal::new(false);
    let error = RwSignal::new(plain_error);
    let notice = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let js = crate::components::hydrated();
    let editing = detail.is_some();
    let url = if editing {
        <UpdateApplication as leptos::server_fn::ServerFn>::url()
    } else {
        <CreateApplication as leptos::server_fn::ServerFn>::url()
    };
    let navigate = leptos_router::hooks::use_navigate();
    let err = move |f: &'static str| Signal::derive(move || error.with(|e| e.as_ref().and_then(|e| message_for(e.field_errors(), f))));
    let submit = retryable(move |this| {
        let form = AppForm {
            name: name.get_untracked(),
            description: description.get_untracked(),
            access_url: access_url.get_untracked(),
            logo_url: logo_url.get_untracked(),
            logo_file: logo_file.get_untracked(),
            remove_logo: remove_logo.get_untracked().then(|| "on".into()),
            discoverable: discoverable.get_untracked().then(|| "on".into()),
        };
        busy.set(true);
        notice.set(None);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let result = match detail {
                Some(_) => update_application(console.app.get_value(), form).await,
                None => create_application(form).await,
            };
            busy.set(false);
            if let Some(saved) = settle(console.retry, result, this, error) {
                match detail {
                    Some(d) => {
                        logo_file.set(None);
                        remove_logo.set(false);
                        logo_url.set(saved.logo_url.clone());
                        d.set(saved);
                        notice.set(Some("Saved.".into()));
                    }
                    None => navigate(&format!("{}/{}?created=1", routes::ADMIN_APPLICATIONS, saved.app.id), Default::default()),
                }
            }
        });
    });
    let current_logo = move || detail.and_then(|d| d.with(|d| d.app.logo.clone()));
    view! {
        <form class="card app-form" method="post" action=url data-testid="app-form" novalidate=move || js.get()
            on:submit=move |ev| { ev.prevent_default(); submit.run(()); }>
            <h2>{if editing { "General" } else { "Details" }}</h2>
            <div class="status-slot">{move || notice.get().map(|m| view! { <Alert kind=AlertKind::Success message=m/> })}</div>
            {move || error.get().filter(|e| e.field_errors().is_empty()).map(|e| view! { <ErrorAlert error=e/> })}
            {editing.then(|| view! { <input type="hidden" name="app" value=console.app.get_value()/> })}
            <TextField label="Name" name="form[name]" id="app-name" value=name controlled=true required=true
                error=err("name") on_input=move |v| name.set(v)/>
            <div class="field" class:field--invalid=move || err("description").get().is_some()>
                <label class="field__label" for="app-description">"Description"</label>
                <textarea class="field__input" id="app-description" name="form[description]" rows="3" maxlength="500"
                    prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev))>
                    {description.get_untracked()}
                </textarea>
                {move || err("description").get().map(|m| view! { <p class="field__error">{m}</p> })}
            </div>
            <TextField label="Access URL" name="form[access_url]" id="app-access-url" kind="url" value=access_url controlled=true
                required=true hint="Where Launch in My Account opens it: https://…, or http://localhost… while developing."
                error=err("access_url") on_input=move |v| access_url.set(v)/>
            <fieldset class="logo-field">
                <legend>"Logo"</legend>
                {move || current_logo().map(|src| view! {
                    <p class="logo-field__current"><img class="app-logo" src=src alt="Current logo" width="40" height="40"/>
                        <label class="check"><input type="checkbox" name="form[remove_logo]" value="on"
                            prop:checked=move || remove_logo.get() on:change=move |ev| remove_logo.set(event_target_checked(&ev))/>
                            " Remove the logo"</label>
                    </p>
                })}
                <Show when=move || js.get()>
                    <div class="field" class:field--invalid=move || err("logo").get().is_some()>
                        <label class="field__label" for="app-logo-file">"Upload an image"</label>
                        <input class="field__input" id="app-logo-file" type="file" accept="image/png,image/jpeg,image/svg+xml"
                            data-testid="logo-file" on:change=move |ev| read_logo(ev, logo_file, error)/>
                        <p class="field__hint">{format!("PNG, JPEG or SVG, at most {} KiB.", proto::MAX_LOGO_BYTES / 1024)}</p>
                        {move || err("logo").get().map(|m| view! { <p class="field__error" data-testid="logo-error">{m}</p> })}
                    </div>
                </Show>
                <TextField label="…or an image address" name="form[logo_url]" id="app-logo-url" kind="url" value=logo_url controlled=true
                    hint="An https:// address of the image." error=err("logo_url") on_input=move |v| logo_url.set(v)/>
            </fieldset>
            <label class="check">
                <input type="checkbox" name="form[discoverable]" value="on" data-testid="discoverable"
                    prop:checked=move || discoverable.get() on:change=move |ev| discoverable.set(event_target_checked(&ev))/>
                " Discoverable: list it in My Account's Applications"
            </label>
            <div class="form-actions">
                <button class="button button--primary" type="submit" disabled=move || busy.get() data-testid="save-app">
                    {if editing { "Update" } else { "Register" }}
                </button>
            </div>
        </form>
    }
    .into_any()
}

/// Reads the chosen logo file into `into` (a `data:` URL), refusing
/// oversize files at once (the server checks everything again).
fn read_logo(ev: leptos::ev::Event, into: RwSignal<Option<String>>, error: RwSignal<Option<AppError>>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return into.set(None) };
        if file.size() > proto::MAX_LOGO_BYTES as f64 {
            into.set(None);
            let m = format!("The logo is too large: at most {} KiB.", proto::MAX_LOGO_BYTES / 1024);
            return error.set(Some(AppError::field("logo", m)));
        }
        let Ok(reader) = web_sys::FileReader::new() else { return };
        let done = reader.clone();
        let onload = wasm_bindgen::closure::Closure::once_into_js(move || {
            into.set(done.result().ok().and_then(|v| v.as_string()));
        });
        reader.set_onload(Some(onload.unchecked_ref()));
        let _ = reader.read_as_data_url(&file);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, into, error);
}

/// Deleting an application, confirmed by typing its name.
#[component]
pub fn DeleteApp(console: Console, app: RwSignal<AppDetail>, plain_error: Option<AppError>) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let error = RwSignal::new(plain_error);
    let busy = RwSignal::new(false);
    let name = move || app.read().app.name.clone();
    let js = crate::components::hydrated();
    let navigate = leptos_router::hooks::use_navigate();
    let delete = retryable(move |this| {
        busy.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let result = delete_application(console.app.get_value(), typed.get_untracked()).await;
            busy.set(false);
            if settle(console.retry, result, this, error).is_some() {
                navigate(&format!("{}?deleted=1", routes::ADMIN_APPLICATIONS), Default::default());
            }
        });
    });
    let confirm_error = Signal::derive(move || error.with(|e| e.as_ref().and_then(|e| message_for(e.field_errors(), "confirm_name"))));
    view! {
        <form class="card danger-zone" method="post" action={<DeleteApplication as leptos::server_fn::ServerFn>::url()}
            data-testid="delete-form" on:submit=move |ev| { ev.prevent_default(); delete.run(()); }>
            <h3>"Delete application"</h3>
            <p class="muted">"Deleting removes the application, its login flow and logo, and takes it off everyone's favourites. \
                It can't be undone."</p>
            {move || error.get().filter(|e| e.field_errors().is_empty()).map(|e| view! { <ErrorAlert error=e/> })}
            <input type="hidden" name="app" value=console.app.get_value()/>
            <TextField label=format!("Type {} to confirm", name()) name="confirm_name" id="confirm-name" required=true
                error=confirm_error on_input=move |v| typed.set(v)/>
            <button class="button button--danger" type="submit" data-testid="delete-app"
                disabled=move || busy.get() || (js.get() && typed.get().trim() != name())>"Delete"</button>
        </form>
    }
    .into_any()
}
