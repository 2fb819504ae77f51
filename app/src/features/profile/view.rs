use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::api::{UpdateProfile, get_overview, get_profile, resend_verification};
use super::time_zones::TIME_ZONES;
use super::types::{Profile, ProfileForm, validate_profile};
use crate::components::{Alert, AlertKind, ErrorAlert, SelectField, Spinner, TextField};
use crate::error::{AppError, message_for};
use crate::features::reauth::api::get_reauth_options;
use crate::features::reauth::view::{ReauthPanel, plain_reauth};
use crate::routes;
use crate::validation::LOCALES;

/// `/myaccount`: who is signed in and when they last signed in.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="My Account"/>
        <h1>"Overview"</h1>
        <Suspense fallback=|| view! { <Spinner/> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => view! {
                        <section class="card overview" aria-labelledby="overview-name">
                            <div class="overview__who">
                                {o.picture_url.clone().map(|src| view! {
                                    <img class="avatar" src=src alt="" width="64" height="64" referrerpolicy="no-referrer"/>
                                })}
                                <div>
                                    <h2 id="overview-name" class="overview__name">{o.display_name.clone()}</h2>
                                    <p class="muted">"@"{o.username.clone()}{o.is_admin.then_some(" · Administrator")}</p>
                                </div>
                            </div>
                            <dl class="facts">
                                <dt>"Email"</dt>
                                <dd>
                                    <span data-testid="overview-email">{o.email.clone()}</span>" "
                                    {if o.email_verified {
                                        view! { <span class="badge badge--ok">"Verified"</span> }.into_any()
                                    } else {
                                        view! { <span class="badge badge--warn">"Unverified"</span> }.into_any()
                                    }}
                                </dd>
                                <dt>"This sign-in"</dt>
                                <dd data-testid="overview-this-sign-in">
                                    {o.this_sign_in.as_ref().map(ToString::to_string)}
                                </dd>
                                <dt>"Previous sign-in"</dt>
                                <dd data-testid="overview-last-login">
                                    {o.previous_sign_in.as_ref().map(ToString::to_string)
                                        .unwrap_or_else(|| "None before this one.".into())}
                                </dd>
                                <dt>"Member since"</dt>
                                <dd>{o.member_since.clone()}</dd>
                            </dl>
                            <p><a class="button" href=routes::PERSONAL_INFO>"Edit personal info"</a></p>
                        </section>
                    }.into_any(),
                    Err(e) => view! { <ErrorAlert error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/myaccount/personal-info`: view and edit the profile.
#[component]
pub fn PersonalInfoPage() -> impl IntoView {
    let update = ServerAction::<UpdateProfile>::new();
    let profile = Resource::new(|| (), |_| get_profile());
    // Changing the email address needs a fresh sign-in proof (reset links go there).
    let retry = RwSignal::new(None::<Callback<()>>);
    let reauth = Resource::new(|| (), |_| get_reauth_options());
    let plain = StoredValue::new(plain_reauth());
    let query = use_query_map();
    // After a plain form post (no JavaScript) the server redirects here with `saved=1`.
    let saved_without_js = move || query.read().get("saved").is_some() && update.value().get().is_none();
    let status = move || {
        match update.value().get() {
        Some(Ok(p)) if p.verification_sent => Some(view! {
            <Alert kind=AlertKind::Success message=format!(
                "Your personal info was saved. We sent a confirmation link to {}; your address shows as unverified until you follow it.",
                p.form.email
            )/>
        }.into_any()),
        Some(Ok(_)) => Some(view! { <Alert kind=AlertKind::Success message="Your personal info was saved."/> }.into_any()),
        Some(Err(AppError::Invalid(_))) => None,
        Some(Err(AppError::ReauthRequired)) => Some(view! {
            <Alert kind=AlertKind::Info message="Changing your email address needs a recent sign-in proof: confirm it's you, or sign in again, then save."/>
        }.into_any()),
        Some(Err(e)) => Some(view! { <ErrorAlert error=e/> }.into_any()),
        None if saved_without_js() => Some(view! { <Alert kind=AlertKind::Success message="Your personal info was saved."/> }.into_any()),
        None => None,
    }
    };
    view! {
        <Title text="Personal info"/>
        <h1>"Personal info"</h1>
        <p class="muted">"How you appear to applications that you sign in to with Latchkey."</p>
        <div class="status-slot">{status}</div>
        <Transition fallback=|| view! { <Spinner/> }>
            {move || Suspend::new(async move {
                match profile.await {
                    Ok(p) => view! {
                        {reauth.await.ok().map(|options| view! { <ReauthPanel retry options plain=plain.get_value()/> }.into_any())}
                        <ProfileEditor profile=p update retry/>
                    }.into_any(),
                    Err(e) => view! { <ErrorAlert error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

const FIELDS: [&str; 9] = ["given_name", "family_name", "display_name", "email", "phone", "locale", "time_zone", "picture_url", "address"];

#[component]
fn ProfileEditor(profile: Profile, update: ServerAction<UpdateProfile>, retry: RwSignal<Option<Callback<()>>>) -> impl IntoView {
    let form = RwSignal::new(profile.form.clone());
    // Asked to confirm it's them: save again once they have.
    Effect::new(move |_| {
        if let Some(Err(AppError::ReauthRequired)) = update.value().get() {
            retry.set(Some(Callback::new(move |()| {
                update.dispatch(UpdateProfile { profile: form.get_untracked() });
            })));
        }
    });
    // After a save the fields show what was stored (normalised values).
    Effect::new(move |_| {
        if let Some(Ok(saved)) = update.value().get() {
            form.set(saved.form);
        }
    });
    let field = move |f: fn(&ProfileForm) -> &String| Signal::derive(move || form.with(|p| f(p).clone()));
    let touched = RwSignal::new(Vec::<&'static str>::new());
    let touch = move |f: &'static str| {
        touched.update(|t| {
            if !t.contains(&f) {
                t.push(f)
            }
        })
    };
    let client_errors = Memo::new(move |_| form.with(validate_profile).err().unwrap_or_default());
    let error_for = move |field: &'static str| {
        Signal::derive(move || {
            let client = touched.with(|t| t.contains(&field)).then(|| message_for(&client_errors.get(), field)).flatten();
            client.or_else(|| match update.value().get() {
                Some(Err(e)) => message_for(e.field_errors(), field),
                _ => None,
            })
        })
    };
    let set = move |f: fn(&mut ProfileForm, String)| Callback::new(move |v: String| form.update(|p| f(p, v)));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        touched.set(FIELDS.to_vec());
        if !client_errors.get_untracked().is_empty() {
            return;
        }
        update.dispatch(UpdateProfile { profile: form.get_untracked() });
    };
    let locales = LOCALES.iter().map(|(tag, name)| (tag.to_string(), format!("{name} ({tag})"))).collect::<Vec<_>>();
    let zones = TIME_ZONES.iter().map(|z| (z.to_string(), z.replace('_', " "))).collect::<Vec<_>>();
    let verified = RwSignal::new(profile.email_verified);
    Effect::new(move |_| {
        if let Some(Ok(saved)) = update.value().get() {
            verified.set(saved.email_verified);
        }
    });
    let url = <UpdateProfile as leptos::server_fn::ServerFn>::url();
    view! {
        <form class="card form-grid" action=url method="post" novalidate on:submit=on_submit>
            <div class="field">
                <span class="field__label">"Username"</span>
                <p class="field__static" data-testid="username">{profile.username.clone()}</p>
            </div>
            <TextField label="Given name" name="profile[given_name]" id="pi-given-name" value=field(|p| &p.given_name) controlled=true
                autocomplete="given-name" error=error_for("given_name")
                on_input=set(|f, v| f.given_name = v) on_blur=move |_| touch("given_name")/>
            <TextField label="Family name" name="profile[family_name]" id="pi-family-name" value=field(|p| &p.family_name) controlled=true
                autocomplete="family-name" error=error_for("family_name")
                on_input=set(|f, v| f.family_name = v) on_blur=move |_| touch("family_name")/>
            <TextField label="Display name" name="profile[display_name]" id="pi-display-name" value=field(|p| &p.display_name) controlled=true
                autocomplete="nickname" hint="Shown instead of your full name when set."
                error=error_for("display_name")
                on_input=set(|f, v| f.display_name = v) on_blur=move |_| touch("display_name")/>
            <TextField label="Email" name="profile[email]" id="pi-email" kind="email" value=field(|p| &p.email) controlled=true
                autocomplete="email" required=true
                hint=Signal::derive(move || Some(if verified.get() { "Verified." } else { "Not verified yet." }.to_owned()))
                error=error_for("email")
                on_input=set(|f, v| f.email = v) on_blur=move |_| touch("email")/>
            <ResendVerification verified=verified/>
            <TextField label="Phone" name="profile[phone]" id="pi-phone" kind="tel" value=field(|p| &p.phone) controlled=true
                autocomplete="tel" inputmode="tel" hint="International format, e.g. +44 7700 900123."
                error=error_for("phone")
                on_input=set(|f, v| f.phone = v) on_blur=move |_| touch("phone")/>
            <SelectField label="Language" name="profile[locale]" id="pi-locale" value=field(|p| &p.locale)
                options=locales empty_label="Not set" error=error_for("locale")
                on_change=Callback::new(move |v: String| { form.update(|f| f.locale = v); touch("locale") })/>
            <SelectField label="Time zone" name="profile[time_zone]" id="pi-time-zone" value=field(|p| &p.time_zone)
                options=zones empty_label="Not set (UTC)" error=error_for("time_zone")
                on_change=Callback::new(move |v: String| { form.update(|f| f.time_zone = v); touch("time_zone") })/>
            <TextField label="Picture URL" name="profile[picture_url]" id="pi-picture-url" kind="url" value=field(|p| &p.picture_url) controlled=true
                inputmode="url" hint="An https:// address of an image."
                error=error_for("picture_url")
                on_input=set(|f, v| f.picture_url = v) on_blur=move |_| touch("picture_url")/>
            <div class="field" class:field--invalid=move || error_for("address").get().is_some()>
                <label class="field__label" for="pi-address">"Postal address"</label>
                <textarea class="field__input" id="pi-address" name="profile[address]" rows="3" autocomplete="street-address"
                    prop:value=move || form.with(|f| f.address.clone())
                    on:input=move |ev| form.update(|f| f.address = event_target_value(&ev)) on:blur=move |_| touch("address")>
                    {form.with_untracked(|f| f.address.clone())}
                </textarea>
                <p class="field__hint">"Shared only with applications you allow to read it."</p>
                {move || error_for("address").get().map(|m| view! { <p class="field__error" id="pi-address-error">{m}</p> })}
            </div>
            <div class="form-actions">
                <button class="button button--primary" type="submit" disabled=move || update.pending().get()>
                    {move || if update.pending().get() {
                        view! { <span class="button__spinner" aria-hidden="true"></span>"Saving…" }.into_any()
                    } else {
                        "Save".into_any()
                    }}
                </button>
            </div>
        </form>
    }
    .into_any()
}

/// "Send the link again", while the primary address is unverified.
#[component]
fn ResendVerification(verified: RwSignal<bool>) -> impl IntoView {
    let result = RwSignal::new(None::<Result<String, AppError>>);
    let busy = RwSignal::new(false);
    let resend = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            result.set(Some(resend_verification().await));
            busy.set(false);
        });
    };
    view! {
        <Show when=move || !verified.get()>
            <div class="field field--aside" data-testid="resend-verification">
                {move || match result.get() {
                    Some(Ok(m)) => view! { <Alert kind=AlertKind::Success message=m/> }.into_any(),
                    Some(Err(e)) => view! { <ErrorAlert error=e/> }.into_any(),
                    None => ().into_any(),
                }}
                <button class="button button--quiet" type="button" on:click=resend disabled=move || busy.get()>
                    "Send the confirmation link again"
                </button>
            </div>
        </Show>
    }
}
