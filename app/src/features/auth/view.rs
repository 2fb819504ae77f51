use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::api::{CreateFirstAdmin, Login, Logout, get_setup_info};
use super::types::SetupState;
use crate::components::{Alert, AlertKind, ErrorAlert, Spinner, TextField, hard_navigate};
use crate::error::{AppError, message_for};
use crate::routes;
use crate::validation::{password_policy_hint, validate_email, validate_new_password, validate_username};

/// The field error an action's last answer carries for `field`.
pub(crate) fn action_field_error<T, I>(
    action: ServerAction<I>,
    field: &'static str,
) -> impl Fn() -> Option<String> + Copy + Send + Sync + 'static
where
    T: Clone + Send + Sync + 'static,
    I: leptos::server_fn::ServerFn<Output = T, Error = AppError> + Clone + Send + Sync + 'static,
{
    move || match action.value().get() {
        Some(Err(e)) => message_for(e.field_errors(), field),
        _ => None,
    }
}

/// The action's error when it is not about one field.
pub(crate) fn action_form_error<T, I>(action: ServerAction<I>) -> impl Fn() -> Option<AppError> + Copy + Send + Sync + 'static
where
    T: Clone + Send + Sync + 'static,
    I: leptos::server_fn::ServerFn<Output = T, Error = AppError> + Clone + Send + Sync + 'static,
{
    move || match action.value().get() {
        Some(Err(AppError::Invalid(_))) | Some(Ok(_)) | None => None,
        Some(Err(e)) => Some(e),
    }
}

/// `/login`: username or email, and password.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let pending = login.pending();
    Effect::new(move |_| {
        if let Some(Ok(target)) = login.value().get() {
            hard_navigate(&target);
        }
    });
    let identifier_error = action_field_error(login, "identifier");
    let password_error = action_field_error(login, "password");
    let form_error = action_form_error(login);
    view! {
        <Title text="Sign in"/>
        <main class="center-page">
            <div class="card auth-card">
                <p class="brand">"Latchkey"</p>
                <h1>"Sign in"</h1>
                <p class="muted">"Use your username or email address."</p>
                {move || form_error().map(|e| view! { <ErrorAlert error=e/> })}
                <ActionForm action=login>
                    <input type="hidden" name="next" value=next/>
                    <TextField
                        label="Username or email"
                        name="identifier"
                        id="login-identifier"
                        autocomplete="username"
                        autofocus=true
                        error=Signal::derive(identifier_error)
                    />
                    <TextField
                        label="Password"
                        name="password"
                        id="login-password"
                        kind="password"
                        autocomplete="current-password"
                        error=Signal::derive(password_error)
                    />
                    <button class="button button--primary button--wide" type="submit" disabled=move || pending.get()>
                        {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}

/// The Sign out button of the account shell: a form, so it works without JavaScript.
#[component]
pub fn SignOutButton() -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(target)) = logout.value().get() {
            hard_navigate(&target);
        }
    });
    view! {
        <ActionForm action=logout>
            <button class="button button--quiet" type="submit" disabled=move || logout.pending().get()>
                "Sign out"
            </button>
        </ActionForm>
    }
}

/// `/setup?token=…`: creates the first administrator from the one-time link
/// the server logged at start.
#[component]
pub fn SetupPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let info = Resource::new(token, get_setup_info);
    view! {
        <Title text="Set up Latchkey"/>
        <main class="center-page">
            <div class="card auth-card">
                <p class="brand">"Latchkey"</p>
                <h1>"Create the first administrator"</h1>
                <Suspense fallback=|| view! { <Spinner/> }>
                    {move || Suspend::new(async move {
                        match info.await {
                            Ok(info) => match info.state {
                                SetupState::Ready => view! { <SetupForm token=token() min=info.password_min_length/> }.into_any(),
                                SetupState::AlreadySetUp => view! {
                                    <Alert kind=AlertKind::Info message="Latchkey already has an administrator."/>
                                    <p><a class="button button--primary" href=routes::LOGIN>"Go to sign in"</a></p>
                                }.into_any(),
                                SetupState::InvalidToken => view! {
                                    <Alert
                                        kind=AlertKind::Error
                                        message="This setup link is not valid: it is unknown, expired or already used. Restart Latchkey to get a new link in its log, or create an administrator with `latchkey admin create`."
                                    />
                                }.into_any(),
                            },
                            Err(e) => view! { <ErrorAlert error=e/> }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </main>
    }
}

#[component]
fn SetupForm(token: String, min: usize) -> impl IntoView {
    let create = ServerAction::<CreateFirstAdmin>::new();
    let token_value = token.clone();
    Effect::new(move |_| {
        if let Some(Ok(target)) = create.value().get() {
            hard_navigate(&target);
        }
    });
    let username = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let touched = RwSignal::new(Vec::<&'static str>::new());
    let touch = move |f: &'static str| {
        touched.update(|t| {
            if !t.contains(&f) {
                t.push(f)
            }
        })
    };
    let client_error = move |field: &'static str| -> Option<String> {
        if !touched.with(|t| t.contains(&field)) {
            return None;
        }
        match field {
            "username" => validate_username(&username.get()).err().map(|e| e.message),
            "email" => validate_email(&email.get(), "email").err().map(|e| e.message),
            _ => message_for(&validate_new_password(&password.get(), &confirm.get(), min), field),
        }
    };
    let error_for = move |field: &'static str| Signal::derive(move || client_error(field).or_else(action_field_error(create, field)));
    let form_error = action_form_error(create);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        touched.set(vec!["username", "email", "password", "confirm"]);
        let invalid = validate_username(&username.get_untracked()).is_err()
            || validate_email(&email.get_untracked(), "email").is_err()
            || !validate_new_password(&password.get_untracked(), &confirm.get_untracked(), min).is_empty();
        if invalid {
            return;
        }
        create.dispatch(CreateFirstAdmin {
            token: token_value.clone(),
            username: username.get_untracked(),
            email: email.get_untracked(),
            password: password.get_untracked(),
            confirm: confirm.get_untracked(),
        });
    };
    let url = <CreateFirstAdmin as leptos::server_fn::ServerFn>::url();
    view! {
        <p class="muted">"This account can manage Latchkey. The link that opened this page works once."</p>
        {move || form_error().map(|e| view! { <ErrorAlert error=e/> })}
        <form action=url method="post" novalidate on:submit=on_submit>
            <input type="hidden" name="token" value=token/>
            <TextField label="Username" name="username" id="setup-username" autocomplete="username" required=true
                hint="3 to 64 letters, digits, dots, dashes or underscores."
                error=error_for("username")
                on_input=move |v| username.set(v) on_blur=move |_| touch("username")/>
            <TextField label="Email" name="email" id="setup-email" kind="email" autocomplete="email" required=true
                error=error_for("email")
                on_input=move |v| email.set(v) on_blur=move |_| touch("email")/>
            <TextField label="Password" name="password" id="setup-password" kind="password" autocomplete="new-password" required=true
                hint=password_policy_hint(min)
                error=error_for("password")
                on_input=move |v| { password.set(v); touch("password") }/>
            <TextField label="Confirm password" name="confirm" id="setup-confirm" kind="password" autocomplete="new-password" required=true
                error=error_for("confirm")
                on_input=move |v| confirm.set(v) on_blur=move |_| touch("confirm")/>
            <button class="button button--primary button--wide" type="submit" disabled=move || create.pending().get()>
                {move || if create.pending().get() { "Creating…" } else { "Create administrator" }}
            </button>
        </form>
    }
}
