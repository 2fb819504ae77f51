use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::api::*;
use super::types::*;
use crate::components::{Alert, AlertKind, ErrorAlert, SelectField, Spinner, TextField, hard_navigate, plain_form_error};
use crate::error::{AppError, message_for};
use crate::features::auth::view::{action_field_error, action_form_error};
use crate::features::reauth::view::{Page, ReauthPanel, plain_reauth, retryable};
use crate::routes;
use crate::validation::{password_policy_hint, validate_email, validate_new_password};

/// `/myaccount/recovery`: how the person gets back in if they forget their password.
#[component]
pub fn RecoveryPage() -> impl IntoView {
    let page = Page::new();
    let data = Resource::new(move || page.version.get(), |_| get_recovery());
    // Refused plain form posts (no JavaScript), read before anything awaits.
    let url = |u: &'static str| plain_form_error(u)();
    let email_error = StoredValue::new(
        url(<SetRecoveryEmail as leptos::server_fn::ServerFn>::url())
            .or_else(|| url(<RemoveRecoveryEmail as leptos::server_fn::ServerFn>::url())),
    );
    let questions_error = StoredValue::new(
        url(<SetSecurityQuestions as leptos::server_fn::ServerFn>::url())
            .or_else(|| url(<RemoveSecurityQuestions as leptos::server_fn::ServerFn>::url())),
    );
    let reauth = StoredValue::new(plain_reauth());
    // After a plain form post (no JavaScript) the server redirects here with `done=…`.
    let query = use_query_map();
    let done_without_js = move || {
        query.read().get("done").and_then(|d| match d.as_str() {
            "email_set" => Some("We sent a confirmation link to your recovery email. It counts once you follow that link.".to_owned()),
            "email_removed" => Some("Your recovery email was removed.".to_owned()),
            "questions_set" => Some("Your security questions were saved.".to_owned()),
            "questions_removed" => Some("Your security questions were removed.".to_owned()),
            _ => None,
        })
    };
    view! {
        <Title text="Recovery"/>
        <h1>"Account recovery"</h1>
        <p class="muted">"If you forget your password, “Forgot password?” on the sign-in page sends a link to your email and recovery email, then asks your security questions."</p>
        <div class="status-slot">{move || page.notice.get().or_else(done_without_js).map(|m| view! { <Alert kind=AlertKind::Success message=m/> })}</div>
        <Transition fallback=|| view! { <Spinner label="Loading…"/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(r) => view! {
                        <ReauthPanel retry=page.retry options=r.reauth.clone() plain=reauth.get_value()/>
                        <RecoveryEmailSection page=page email=r.recovery_email.clone() verified=r.recovery_email_verified
                            initial_error=email_error.get_value()/>
                        <QuestionsSection page=page current=r.questions.clone() initial_error=questions_error.get_value()/>
                    }.into_any(),
                    Err(e) => view! { <ErrorAlert error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn RecoveryEmailSection(page: Page, email: Option<String>, verified: bool, initial_error: Option<AppError>) -> impl IntoView {
    let set_url = <SetRecoveryEmail as leptos::server_fn::ServerFn>::url();
    let remove_url = <RemoveRecoveryEmail as leptos::server_fn::ServerFn>::url();
    let value = RwSignal::new(String::new());
    let error = RwSignal::new(initial_error);
    let busy = RwSignal::new(false);
    let touched = RwSignal::new(false);
    let save = retryable(move |this| {
        touched.set(true);
        let Ok(address) = validate_email(&value.get_untracked(), "recovery_email") else { return };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let r = set_recovery_email(address.clone()).await;
            busy.set(false);
            if page.handle(r, this, error).is_some() {
                value.set(String::new());
                touched.set(false);
                page.done(format!("We sent a confirmation link to {address}. It counts once you follow that link."));
            }
        });
    });
    let remove = retryable(move |this| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let r = remove_recovery_email().await;
            busy.set(false);
            if page.handle(r, this, error).is_some() {
                page.done("Your recovery email was removed.".into());
            }
        });
    });
    let field_error = Signal::derive(move || {
        let client = if touched.get() { validate_email(&value.get(), "recovery_email").err().map(|e| e.message) } else { None };
        client.or_else(|| error.get().and_then(|e| message_for(e.field_errors(), "recovery_email")))
    });
    let has = email.is_some();
    view! {
        <section class="card security-section" aria-labelledby="recovery-email-title" data-testid="recovery-email">
            <h2 id="recovery-email-title">"Recovery email"</h2>
            <p class="muted">"A second address, such as a personal one, where password-reset links also go."</p>
            {match email.clone() {
                Some(e) => view! {
                    <p data-testid="recovery-email-current">
                        <span>{e}</span>" "
                        {if verified {
                            view! { <span class="badge badge--ok">"Verified"</span> }.into_any()
                        } else {
                            view! { <span class="badge badge--warn">"Waiting for confirmation"</span> }.into_any()
                        }}
                    </p>
                    {(!verified).then(|| view! { <p class="small muted">"Follow the link we sent to it. It works for 24 hours; save the address again to get a new one."</p> })}
                }.into_any(),
                None => view! { <p class="empty">"No recovery email yet."</p> }.into_any(),
            }}
            {move || error.get().filter(|e| e.field_errors().is_empty()).map(|e| view! { <ErrorAlert error=e/> })}
            <form class="inline-form" action=set_url method="post" on:submit=move |ev| { ev.prevent_default(); save.run(()); } novalidate>
                <TextField label=if has { "New recovery email" } else { "Recovery email" } name="email" id="recovery-email"
                    kind="email" autocomplete="email" value=value controlled=true
                    on_input=move |v| value.set(v) on_blur=move |_| touched.set(!value.get_untracked().is_empty()) error=field_error/>
                <button class="button button--primary" type="submit" data-testid="recovery-email-save" disabled=move || busy.get()>
                    "Save and send link"
                </button>
            </form>
            {has.then(|| view! {
                <form action=remove_url method="post" on:submit=move |ev| { ev.prevent_default(); remove.run(()); }>
                    <button class="button button--quiet" type="submit" disabled=move || busy.get()>"Remove recovery email"</button>
                </form>
            })}
        </section>
    }
}

#[component]
fn QuestionsSection(page: Page, current: Vec<Question>, initial_error: Option<AppError>) -> impl IntoView {
    let set_url = <SetSecurityQuestions as leptos::server_fn::ServerFn>::url();
    let remove_url = <RemoveSecurityQuestions as leptos::server_fn::ServerFn>::url();
    let form = RwSignal::new(QuestionsForm::default());
    let error = RwSignal::new(initial_error);
    let busy = RwSignal::new(false);
    let touched = RwSignal::new(Vec::<&'static str>::new());
    let touch = move |f: &'static str| {
        touched.update(|t| {
            if !t.contains(&f) {
                t.push(f)
            }
        })
    };
    let live = Memo::new(move |_| form.with(validate_questions));
    let field = move |f: &'static str| {
        Signal::derive(move || {
            let client = touched.with(|t| t.contains(&f)).then(|| message_for(&live.get(), f)).flatten();
            client.or_else(|| error.get().and_then(|e| message_for(e.field_errors(), f)))
        })
    };
    let save = retryable(move |this| {
        touched.set(vec!["question1", "answer1", "question2", "answer2"]);
        if !live.get_untracked().is_empty() {
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let r = set_security_questions(form.get_untracked()).await;
            busy.set(false);
            if page.handle(r, this, error).is_some() {
                form.set(QuestionsForm::default());
                touched.set(Vec::new());
                page.done("Your security questions were saved.".into());
            }
        });
    });
    let remove = retryable(move |this| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let r = remove_security_questions().await;
            busy.set(false);
            if page.handle(r, this, error).is_some() {
                page.done("Your security questions were removed.".into());
            }
        });
    });
    let has = !current.is_empty();
    let select = move |n: u8| {
        let (name, id) = if n == 1 { ("question1", "sq-question1") } else { ("question2", "sq-question2") };
        let options = all_questions().into_iter().map(|q| (q.id, q.text)).collect::<Vec<_>>();
        view! {
            <SelectField label=format!("Question {n}") name=format!("form[{name}]") id=id options empty_label="Choose a question" error=field(name)
                value=Signal::derive(move || form.with(|f| if n == 1 { f.question1.clone() } else { f.question2.clone() }))
                on_change=Callback::new(move |v: String| { form.update(|f| if n == 1 { f.question1 = v } else { f.question2 = v }); touch(name) })/>
        }
    };
    let answer = move |n: u8| {
        let (name, id) = if n == 1 { ("answer1", "sq-answer1") } else { ("answer2", "sq-answer2") };
        view! {
            <TextField label=format!("Answer {n}") name=format!("form[{name}]") id=id autocomplete="off" controlled=true
                value=Signal::derive(move || form.with(|f| if n == 1 { f.answer1.clone() } else { f.answer2.clone() }))
                hint="Case, spaces and punctuation don't matter."
                on_input=move |v: String| form.update(|f| if n == 1 { f.answer1 = v } else { f.answer2 = v })
                on_blur=move |_| touch(name) error=field(name)/>
        }
    };
    view! {
        <section class="card security-section" aria-labelledby="questions-title" data-testid="security-questions">
            <h2 id="questions-title">"Security questions"</h2>
            <p class="muted">"Asked before a new password can be set with a reset link. Choose answers only you know."</p>
            {if has {
                view! {
                    <ol class="question-list" data-testid="questions-current">
                        {current.iter().map(|q| view! { <li>{q.text.clone()}</li> }).collect_view()}
                    </ol>
                }.into_any()
            } else {
                view! { <p class="empty">"No security questions yet."</p> }.into_any()
            }}
            {move || error.get().filter(|e| e.field_errors().is_empty()).map(|e| view! { <ErrorAlert error=e/> })}
            <form class="form-grid" action=set_url method="post" on:submit=move |ev| { ev.prevent_default(); save.run(()); } novalidate>
                {select(1)}
                {answer(1)}
                {select(2)}
                {answer(2)}
                <div class="form-actions">
                    <button class="button button--primary" type="submit" data-testid="questions-save" disabled=move || busy.get()>
                        {if has { "Replace questions" } else { "Save questions" }}
                    </button>
                </div>
            </form>
            {has.then(|| view! {
                <form action=remove_url method="post" on:submit=move |ev| { ev.prevent_default(); remove.run(()); }>
                    <button class="button button--quiet" type="submit" disabled=move || busy.get()>"Remove questions"</button>
                </form>
            })}
        </section>
    }
    .into_any()
}

/// `/forgot-password`: asks for the username or email; the answer is the
/// same whether or not the account exists.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let forgot = ServerAction::<ForgotPassword>::new();
    let query = use_query_map();
    let sent =
        move || matches!(forgot.value().get(), Some(Ok(_))) || (query.read().get("sent").is_some() && forgot.value().get().is_none());
    let identifier_error = action_field_error(forgot, "identifier");
    let form_error = action_form_error(forgot);
    view! {
        <Title text="Forgot password"/>
        <main class="center-page">
            <div class="card auth-card">
                <p class="brand">"Latchkey"</p>
                <h1>"Forgot your password?"</h1>
                <Show when=sent fallback=move || view! {
                    <p class="muted">"Enter your username or email address. We'll send a link to set a new password to the addresses on your account."</p>
                    {move || form_error().map(|e| view! { <ErrorAlert error=e/> })}
                    <ActionForm action=forgot>
                        <TextField label="Username or email" name="identifier" id="forgot-identifier" autocomplete="username" autofocus=true
                            required=true error=Signal::derive(identifier_error)/>
                        <button class="button button--primary button--wide" type="submit" disabled=move || forgot.pending().get()>
                            {move || if forgot.pending().get() { "Sending…" } else { "Send reset link" }}
                        </button>
                    </ActionForm>
                }>
                    <div data-testid="forgot-sent"><Alert kind=AlertKind::Success message=FORGOT_SENT/></div>
                </Show>
                <p><a href=routes::LOGIN>"Back to sign in"</a></p>
            </div>
        </main>
    }
}

/// `/reset-password?token=…`: the security questions (when set), then a new password.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let info = Resource::new(token, get_reset_info);
    view! {
        <Title text="Choose a new password"/>
        <main class="center-page">
            <div class="card auth-card">
                <p class="brand">"Latchkey"</p>
                <h1>"Choose a new password"</h1>
                <Suspense fallback=|| view! { <Spinner/> }>
                    {move || Suspend::new(async move {
                        match info.await {
                            Ok(i) => view! { <ResetForm token=token() info=i/> }.into_any(),
                            Err(e) => view! {
                                <ErrorAlert error=e/>
                                <p><a class="button button--primary" href=routes::FORGOT_PASSWORD>"Ask for a new link"</a></p>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </main>
    }
}

#[component]
fn ResetForm(token: String, info: ResetInfo) -> impl IntoView {
    let reset = ServerAction::<ResetPassword>::new();
    Effect::new(move |_| {
        if let Some(Ok(target)) = reset.value().get() {
            hard_navigate(&target);
        }
    });
    let min = info.password_min_length;
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let answers = [RwSignal::new(String::new()), RwSignal::new(String::new())];
    let touched = RwSignal::new(false);
    let live = Memo::new(move |_| validate_new_password(&password.get(), &confirm.get(), min));
    let error_for = move |f: &'static str| {
        Signal::derive(move || {
            let client = if touched.get() { message_for(&live.get(), f) } else { None };
            client.or_else(action_field_error(reset, f))
        })
    };
    let answers_error = action_field_error(reset, "answers");
    let form_error = action_form_error(reset);
    // The questions' ids go back with the answers (hidden fields without JavaScript).
    let ids = StoredValue::new(info.questions.iter().map(|q| q.id.clone()).collect::<Vec<_>>());
    let id = move |i: usize| ids.with_value(|v| v.get(i).cloned().unwrap_or_default());
    let token_value = token.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        touched.set(true);
        if !live.get_untracked().is_empty() {
            return;
        }
        reset.dispatch(ResetPassword {
            token: token_value.clone(),
            question1: id(0),
            answer1: answers[0].get_untracked(),
            question2: id(1),
            answer2: answers[1].get_untracked(),
            password: password.get_untracked(),
            confirm: confirm.get_untracked(),
        });
    };
    let url = <ResetPassword as leptos::server_fn::ServerFn>::url();
    let has_questions = !info.questions.is_empty();
    view! {
        <p class="muted" data-testid="reset-for">{format!("For the account {}.", info.username)}</p>
        {info.keeps_second_factor.then(|| view! {
            <p class="alert alert--info" data-testid="reset-keeps-second-factor">
                "Your account is protected by a passkey or an authenticator app. After the reset you will still need it to sign in: \
                 a new password alone will not open your account."
            </p>
        })}
        {move || form_error().map(|e| view! { <ErrorAlert error=e/> })}
        <form action=url method="post" novalidate on:submit=on_submit>
            <input type="hidden" name="token" value=token/>
            {has_questions.then(|| view! {
                <fieldset class="fieldset">
                    <legend>"Your security questions"</legend>
                    {move || answers_error().map(|m| view! { <Alert kind=AlertKind::Error message=m/> })}
                    {info.questions.iter().take(2).enumerate().map(|(i, q)| {
                        let n = i + 1;
                        view! {
                            <input type="hidden" name=format!("question{n}") value=q.id.clone()/>
                            <TextField label=q.text.clone() name=format!("answer{n}") id=format!("reset-answer{n}")
                                autocomplete="off" required=true on_input=move |v| answers[i].set(v)/>
                        }
                    }).collect_view()}
                </fieldset>
            }.into_any())}
            <TextField label="New password" name="password" id="reset-password" kind="password" autocomplete="new-password" required=true
                hint=password_policy_hint(min) error=error_for("password") on_input=move |v| { password.set(v); touched.set(true) }/>
            <TextField label="Confirm new password" name="confirm" id="reset-confirm" kind="password" autocomplete="new-password" required=true
                error=error_for("confirm") on_input=move |v| confirm.set(v)/>
            <p class="small muted">"Afterwards you'll be signed out everywhere and can sign in with the new password."</p>
            <button class="button button--primary button--wide" type="submit" disabled=move || reset.pending().get()>
                {move || if reset.pending().get() { "Saving…" } else { "Set new password" }}
            </button>
        </form>
    }
    .into_any()
}

/// `/verify-email?token=…`: confirms an address with one click (a button, so
/// mail scanners that open links do not use it up).
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let verify = ServerAction::<VerifyEmail>::new();
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let done_without_js = move || query.read().get("done").is_some() && verify.value().get().is_none();
    let form_error = action_form_error(verify);
    view! {
        <Title text="Confirm your email address"/>
        <main class="center-page">
            <div class="card auth-card">
                <p class="brand">"Latchkey"</p>
                <h1>"Confirm your email address"</h1>
                {move || match verify.value().get() {
                    Some(Ok(m)) => view! { <div data-testid="verify-done"><Alert kind=AlertKind::Success message=m/></div> }.into_any(),
                    _ if done_without_js() => view! {
                        <div data-testid="verify-done"><Alert kind=AlertKind::Success message="Thank you: your address is confirmed."/></div>
                    }.into_any(),
                    _ => view! {
                        {move || form_error().map(|e| view! { <ErrorAlert error=e/> })}
                        <p class="muted">"Confirm that this address belongs to you."</p>
                        <ActionForm action=verify>
                            <input type="hidden" name="token" value=token/>
                            <button class="button button--primary button--wide" type="submit" data-testid="verify-email-submit"
                                disabled=move || verify.pending().get()>"Confirm email address"</button>
                        </ActionForm>
                    }.into_any(),
                }}
                <p><a href=routes::ACCOUNT>"Go to My Account"</a></p>
            </div>
        </main>
    }
}
