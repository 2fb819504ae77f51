use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use super::api::{CancelSignIn, CreateFirstAdmin, Login, Logout, VerifySignIn, get_pending_sign_in, get_setup_info, get_step_up};
use super::types::{SetupState, StepUp};
use crate::components::{Alert, AlertKind, ErrorAlert, Spinner, TextField, hard_navigate};
use crate::error::{AppError, message_for};
use crate::features::reauth::view::{Plain, ReauthPanel, plain_reauth};
use crate::routes;
use crate::validation::{password_policy_hint, validate_email, validate_new_password, validate_username};
use proto::flow::Method;

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
                <SigningInTo next=next_untracked(query)/>
                <p class="muted">"Use your username or email address."</p>
                {move || (query.read().get("reset").is_some() && login.value().get().is_none()).then(|| view! {
                    <Alert kind=AlertKind::Success message="Your password was changed and every session signed out. Sign in with your new password."/>
                })}
                {move || form_error().map(|e| view! { <ErrorAlert error=e/> })}
                <ActionForm action=login>
                    <input type="hidden" name="next" value=next/>
                    <TextField
                        label="Username or email"
                        name="identifier"
                        id="login-identifier"
                        autocomplete="username webauthn"
                        autofocus=true
                        // An application signing the person in may name them (OpenID Connect `login_hint`).
                        value=Signal::derive(move || query.read().get("login_hint").unwrap_or_default())
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
                    <p class="field-link"><a href=routes::FORGOT_PASSWORD>"Forgot password?"</a></p>
                    <button class="button button--primary button--wide" type="submit" disabled=move || pending.get()>
                        {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
                <div class="divider" role="separator"><span>"or"</span></div>
                // Shown, and run, by `/pkg/signin.js` where the browser has passkeys.
                <button class="button button--wide" hidden=true type="button" data-testid="passkey-sign-in" data-passkey="sign-in">
                    "Sign in with a passkey"
                </button>
                <noscript><p class="muted">"Signing in with a passkey needs JavaScript."</p></noscript>
            </div>
        </main>
    }
}

fn next_untracked(query: Memo<leptos_router::params::ParamsMap>) -> String {
    query.with_untracked(|q| q.get("next").unwrap_or_default())
}

/// `/login/verify`: the next step of a sign-in, showing only the options the
/// flow offers at this step and the person has.
#[component]
pub fn VerifyPage() -> impl IntoView {
    let pending = Resource::new(|| (), |_| get_pending_sign_in());
    let query = use_query_map();
    view! {
        <Title text="Confirm it's you"/>
        <main class="center-page">
            <div class="card auth-card">
                <p class="brand">"Latchkey"</p>
                <Suspense fallback=|| view! { <Spinner/> }>
                    {move || Suspend::new(async move {
                        match pending.await {
                            Ok(p) => view! { <VerifyStep pending=p query=query/> }.into_any(),
                            Err(e) => view! {
                                <h1>"Sign in"</h1>
                                <ErrorAlert error=e/>
                                <p><a class="button button--primary" href=routes::LOGIN>"Start again"</a></p>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </main>
    }
}

#[component]
fn VerifyStep(pending: super::types::PendingSignIn, query: Memo<leptos_router::params::ParamsMap>) -> impl IntoView {
    let next = move || query.read().get("next").unwrap_or_default();
    let verify = ServerAction::<VerifySignIn>::new();
    let cancel = ServerAction::<CancelSignIn>::new();
    Effect::new(move |_| {
        if let Some(Ok(target)) = verify.value().get() {
            hard_navigate(&target);
        }
        if let Some(Ok(target)) = cancel.value().get() {
            hard_navigate(&target);
        }
    });
    let code_error = action_field_error(verify, "code");
    let form_error = action_form_error(verify);
    // Which form was sent last, so its field shows the answer.
    let last = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(i) = verify.input().get() {
            last.set(Some(i.method));
        }
    });
    let last_method = move || last.get();
    let error_for =
        move |method: &'static str| Signal::derive(move || if last_method().as_deref() == Some(method) { code_error() } else { None });
    // Without JavaScript the server's redirect brings the error back but not
    // which form was sent: show it above the forms instead of not at all.
    let unplaced_code_error = move || if last_method().is_none() { code_error() } else { None };
    let options = pending.options.clone();
    let first = options.first().copied();
    let show_totp = options.contains(&Method::Totp);
    let show_backup = options.contains(&Method::BackupCode);
    let show_passkey = options.contains(&Method::Passkey);
    let show_password = options.contains(&Method::Password);
    view! {
        <h1>"Confirm it's you"</h1>
        <p class="muted" data-testid="verify-step">
            {format!("Step {} of {} · Signing in as {}", pending.step, pending.steps, pending.display_name)}
        </p>
        {move || form_error().map(|e| view! { <ErrorAlert error=e/> })}
        {move || unplaced_code_error().map(|m| view! { <Alert kind=AlertKind::Error message=m/> })}
        {show_totp.then(|| view! {
            <section class="verify-option" aria-labelledby="verify-totp">
                <h2 id="verify-totp">"Authenticator app"</h2>
                <ActionForm action=verify>
                    <input type="hidden" name="method" value="totp"/>
                    <input type="hidden" name="next" value=next/>
                    <TextField label="6-digit code" name="code" id="verify-totp-code" inputmode="numeric"
                        autocomplete="one-time-code" autofocus=first == Some(Method::Totp) required=true
                        hint="Open your authenticator app and type the code it shows for Latchkey."
                        error=error_for("totp")/>
                    <button class="button button--primary button--wide" type="submit" disabled=move || verify.pending().get()>"Verify"</button>
                </ActionForm>
            </section>
        })}
        {show_passkey.then(|| view! {
            <section class="verify-option" aria-labelledby="verify-passkey">
                <h2 id="verify-passkey">"Passkey"</h2>
                // Shown, and run, by `/pkg/signin.js` where the browser has passkeys.
                <button class="button button--wide" hidden=true type="button" data-testid="verify-passkey" data-passkey="step">
                    "Use a passkey"
                </button>
                <noscript><p class="muted">"Using a passkey needs JavaScript."</p></noscript>
            </section>
        })}
        {show_backup.then(|| view! {
            <section class="verify-option" aria-labelledby="verify-backup">
                <h2 id="verify-backup">"Backup code"</h2>
                <ActionForm action=verify>
                    <input type="hidden" name="method" value="backup_code"/>
                    <input type="hidden" name="next" value=next/>
                    <TextField label="Backup code" name="code" id="verify-backup-code" autocomplete="off"
                        autofocus=first == Some(Method::BackupCode)
                        hint="One of the codes you saved, like abcd-2345. Each works once."
                        error=error_for("backup_code")/>
                    <button class="button button--wide" type="submit" disabled=move || verify.pending().get()>"Use backup code"</button>
                </ActionForm>
            </section>
        })}
        {show_password.then(|| view! {
            <Alert kind=AlertKind::Info message="This step asks for your password again: sign in from the start."/>
        })}
        // After an answer, the error message itself says how many tries are left.
        {move || verify.value().with(Option::is_none).then(|| view! {
            <p class="muted small">{format!("{} wrong answers allowed before you must start again.", pending.failures_left)}</p>
        })}
        <ActionForm action=cancel>
            <button class="button button--quiet" type="submit">"Cancel and start again"</button>
        </ActionForm>
    }
}

/// `/login/step-up?next=…`: the person signed in through an application
/// whose login flow asks for less than My Account's (a password alone, say,
/// where My Account also asks for an authenticator code). My Account and
/// the console ask here for the missing step, then open `next`. Works
/// without JavaScript: the proof is a plain form that comes back here.
#[component]
pub fn StepUpPage() -> impl IntoView {
    let next = routes::safe_next(use_query_map().with_untracked(|q| q.get("next")).as_deref());
    let plain = plain_reauth();
    let found = Resource::new(|| (), |_| get_step_up());
    view! {
        <Title text="One more step"/>
        <main class="center-page">
            <div class="card auth-card" data-testid="step-up-page">
                <p class="brand">"Latchkey"</p>
                <h1>"One more step"</h1>
                <Transition fallback=|| view! { <Spinner/> }>
                    {move || {
                        let (next, plain) = (next.clone(), plain.clone());
                        Suspend::new(async move {
                            match found.await {
                                Ok(step) => view! { <StepUpStep step next plain/> }.into_any(),
                                Err(AppError::Unauthenticated) => view! { <Redirect path=routes::login_with_next(&next)/> }.into_any(),
                                Err(e) => view! { <ErrorAlert error=e/> }.into_any(),
                            }
                        })
                    }}
                </Transition>
                <SignOutButton/>
            </div>
        </main>
    }
}

#[component]
fn StepUpStep(step: StepUp, next: String, plain: Option<Plain>) -> impl IntoView {
    match step {
        StepUp::Done => {
            let target = next.clone();
            Effect::new(move |_| hard_navigate(&target));
            view! { <p><a class="button button--primary" href=next data-testid="continue">"Continue"</a></p> }.into_any()
        }
        StepUp::Prove(options) => {
            let retry = RwSignal::new(Some(Callback::new(move |_: ()| hard_navigate(&next))));
            view! {
                <p class="muted" data-testid="step-up">
                    "You signed in for an application that asks for fewer sign-in steps than My Account. Confirm it's you to open My Account."
                </p>
                <ReauthPanel retry options plain/>
            }
            .into_any()
        }
        StepUp::Blocked { step } => view! {
            <Alert kind=AlertKind::Error message=format!(
                "My Account asks, at sign-in step {step}, for a method you have not set up, so it can't open with this sign-in. Sign out and sign in to My Account directly, or ask an administrator."
            )/>
        }
        .into_any(),
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

/// "to continue to {application}" when the sign-in is for an application
/// signing the person in through Latchkey (OpenID Connect).
#[component]
fn SigningInTo(next: String) -> impl IntoView {
    let request = crate::routes::oidc_request_in(&next);
    let app = Resource::new(
        move || request.clone(),
        |r| async move {
            match r {
                Some(r) => crate::features::authorize::api::signing_in_to(r).await.ok().flatten(),
                None => None,
            }
        },
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                app.await.map(|a| view! {
                    <p class="signing-in-to" data-testid="signing-in-to">"to continue to "<strong>{a.name}</strong></p>
                })
            })}
        </Suspense>
    }
}
