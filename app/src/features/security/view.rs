use leptos::prelude::*;
use leptos_meta::Title;

use super::api::*;
use super::types::*;
use crate::components::{Alert, AlertKind, ErrorAlert, Spinner, TextField};
use crate::error::{AppError, message_for};
use crate::features::passkeys;
use crate::features::password::view::{ChangePasswordSection, changed_message};
use crate::features::reauth::view::{Page, ReauthPanel, plain_reauth, retryable};

/// `/myaccount/security`: passkeys, authenticator apps, backup codes and
/// recent security activity.
#[component]
pub fn SecurityPage() -> impl IntoView {
    use leptos::server_fn::ServerFn;
    let page = Page::new();
    // Read before anything awaits (context is not reachable after an `.await`).
    let query = leptos_router::hooks::use_query_map();
    // What a plain form post (no JavaScript) left to show once: an
    // enrolment in progress, new backup codes. Only on the first load: the
    // app's own reloads must not ask again.
    let (totp, codes) = query.with_untracked(|q| (q.get("totp"), q.get("codes")));
    let data = Resource::new(
        move || page.version.get(),
        move |v| {
            let (totp, codes) = if v == 0 { (totp.clone(), codes.clone()) } else { (None, None) };
            get_security(totp, codes)
        },
    );
    // After a plain form post the server redirects here with what it did.
    let changed = query.with_untracked(|q| {
        q.get_str("password_changed").and_then(|n| n.parse::<u64>().ok()).map(changed_message).or_else(|| match q.get_str("done") {
            Some("renamed") => Some("Renamed.".to_owned()),
            Some("removed") => Some("Removed.".to_owned()),
            Some("totp_added") => Some(TOTP_ADDED.to_owned()),
            _ => None,
        })
    });
    let password_error =
        StoredValue::new(crate::components::plain_form_error(<super::super::password::api::ChangePassword as ServerFn>::url())());
    let totp_error = StoredValue::new(crate::components::plain_form_error(<FinishTotpEnrolment as ServerFn>::url())());
    let reauth = StoredValue::new(plain_reauth());
    // A refused plain post (e.g. removing the last method a flow needs) comes back here.
    let plain_error = {
        let urls = [
            <RenamePasskey as ServerFn>::url(),
            <RemovePasskey as ServerFn>::url(),
            <RenameTotp as ServerFn>::url(),
            <RemoveTotp as ServerFn>::url(),
            <StartTotpEnrolment as ServerFn>::url(),
            <GenerateBackupCodes as ServerFn>::url(),
        ];
        urls.into_iter().find_map(|u| crate::components::plain_form_error(u)())
    };
    view! {
        <Title text="Security"/>
        <h1>"Security"</h1>
        <p class="muted">"How you sign in, and what happened on your account lately."</p>
        <noscript><p class="alert alert--info">"Adding a passkey needs JavaScript (your browser talks to your device). Everything else here works without it."</p></noscript>
        <div class="status-slot">{move || page.notice.get().or_else(|| changed.clone()).map(|m| view! { <Alert kind=AlertKind::Success message=m/> })}</div>
        {plain_error.map(|e| view! { <ErrorAlert error=e/> })}
        <Transition fallback=|| view! { <Spinner label="Loading…"/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(sec) => view! {
                        <ReauthPanel retry=page.retry options=sec.reauth.clone() plain=reauth.get_value()/>
                        <ChangePasswordSection min=sec.password_min_length initial_error=password_error.get_value()
                            on_changed=Callback::new(move |m| page.done(m))/>
                        <PasskeysSection page=page items=sec.passkeys.clone()/>
                        <TotpSection page=page items=sec.totp.clone() pending=sec.totp_enrolment.clone() plain_error=totp_error.get_value()/>
                        <BackupCodesSection page=page info=sec.backup_codes.clone() shown=sec.new_codes.clone()/>
                        <ActivitySection items=sec.activity.clone()/>
                    }.into_any(),
                    Err(e) => view! { <ErrorAlert error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// What a plain form post left to show, or why it is gone.
fn split<T>(left: Option<Result<T, AppError>>) -> (Option<T>, Option<AppError>) {
    match left.transpose() {
        Ok(shown) => (shown, None),
        Err(e) => (None, Some(e)),
    }
}

const TOTP_ADDED: &str = "Authenticator app added. You'll be asked for a code when you sign in.";

#[component]
fn PasskeysSection(page: Page, items: Vec<Credential>) -> impl IntoView {
    let name = RwSignal::new(String::from("Passkey"));
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let add = retryable(move |this| {
        error.set(None);
        if let Err(e) = crate::validation::validate_credential_name(&name.get_untracked()) {
            error.set(Some(AppError::Invalid(vec![e])));
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = async {
                let c = start_passkey_registration().await?;
                let credential = passkeys::create(&c.options).await.map_err(AppError::Refused)?;
                finish_passkey_registration(c.ceremony, name.get_untracked(), credential).await
            }
            .await;
            busy.set(false);
            if page.handle(result, this, error).is_some() {
                page.notice.set(Some(format!("Passkey “{}” added.", name.get_untracked())));
                page.reload();
            }
        });
    });
    let count = items.len();
    view! {
        <section class="card security-section" aria-labelledby="passkeys-title" data-testid="passkeys">
            <h2 id="passkeys-title">"Passkeys"</h2>
            <p class="muted">"Sign in with your fingerprint, face or device PIN instead of a password. Passkeys can't be phished."</p>
            {(count == 0).then(|| view! { <p class="empty">"No passkeys yet."</p> })}
            <ul class="cred-list">
                {items.into_iter().map(|c| view! { <CredentialRow page=page item=c kind=CredKind::Passkey/> }).collect_view()}
            </ul>
            {move || error.get().filter(|e| e.field_errors().is_empty()).map(|e| view! { <ErrorAlert error=e/> })}
            <form class="inline-form" method="post" on:submit=move |ev| { ev.prevent_default(); add.run(()); } novalidate>
                <TextField label="Name for a new passkey" name="name" id="passkey-name" value=name controlled=true
                    on_input=move |v| name.set(v)
                    error=Signal::derive(move || error.get().and_then(|e| message_for(e.field_errors(), "name")))/>
                <button class="button button--primary" type="submit" data-testid="add-passkey" disabled=move || busy.get()>
                    {move || if busy.get() { "Waiting for your device…" } else { "Add a passkey" }}
                </button>
            </form>
        </section>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CredKind {
    Passkey,
    Totp,
}

/// One passkey or authenticator app: rename inline, remove after confirming.
#[component]
fn CredentialRow(page: Page, item: Credential, kind: CredKind) -> impl IntoView {
    let editing = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let name = RwSignal::new(item.name.clone());
    let error = RwSignal::new(None::<AppError>);
    let id = StoredValue::new(item.id.clone());
    let shown_name = item.name.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        leptos::task::spawn_local(async move {
            let (id, n) = (id.get_value(), name.get_untracked());
            let r = match kind {
                CredKind::Passkey => rename_passkey(id, n).await,
                CredKind::Totp => rename_totp(id, n).await,
            };
            match r {
                Ok(()) => {
                    editing.set(false);
                    page.reload();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let remove = retryable(move |this| {
        leptos::task::spawn_local(async move {
            let r = match kind {
                CredKind::Passkey => remove_passkey(id.get_value()).await,
                CredKind::Totp => remove_totp(id.get_value()).await,
            };
            if page.handle(r, this, error).is_some() {
                confirming.set(false);
                page.notice.set(Some(format!("Removed “{}”.", name.get_untracked())));
                page.reload();
            }
        });
    });
    let what = if kind == CredKind::Passkey { "passkey" } else { "authenticator app" };
    // Without JavaScript (and until the app runs): plain forms instead of
    // the inline editor and the confirmation buttons.
    let js = crate::components::hydrated();
    let (rename_url, remove_url) = match kind {
        CredKind::Passkey => (<RenamePasskey as leptos::server_fn::ServerFn>::url(), <RemovePasskey as leptos::server_fn::ServerFn>::url()),
        CredKind::Totp => (<RenameTotp as leptos::server_fn::ServerFn>::url(), <RemoveTotp as leptos::server_fn::ServerFn>::url()),
    };
    let plain_id = item.id.clone();
    let plain_name = item.name.clone();
    view! {
        <li class="cred" data-testid="credential">
            <div class="cred__main">
                <Show when=move || editing.get() fallback={
                    let shown_name = shown_name.clone();
                    move || view! { <strong class="cred__name">{shown_name.clone()}</strong> }
                }>
                    // Type-erased (into_any): the nested view type otherwise overflows
                    // the compiler's query depth when `server` builds the page.
                    {view! {
                        <form class="inline-form" method="post" on:submit=save novalidate>
                            <TextField label="Name" name="name" id=format!("rename-{}", id.get_value()) value=name controlled=true
                                on_input=move |v| name.set(v)
                                error=Signal::derive(move || error.get().and_then(|e| message_for(e.field_errors(), "name")))/>
                            <button class="button button--primary" type="submit">"Save"</button>
                            <button class="button button--quiet" type="button" on:click=move |_| editing.set(false)>"Cancel"</button>
                        </form>
                    }.into_any()}
                </Show>
                <p class="muted small">
                    {format!("Added {} · Last used {}", item.created, item.last_used)}
                    {item.synced.then_some(" · Synced")}
                </p>
                {move || error.get().filter(|e| e.field_errors().is_empty()).map(|e| view! { <ErrorAlert error=e/> })}
            </div>
            <div class="cred__actions">
                <Show when=move || !js.get()>
                    // Type-erased (into_any), like the rename form above.
                    {
                        let (plain_id, plain_name) = (plain_id.clone(), plain_name.clone());
                        view! {
                    <form class="inline-form" action=rename_url method="post">
                        <input type="hidden" name="id" value=plain_id.clone()/>
                        <label class="sr-only" for=format!("plain-rename-{}", plain_id)>{format!("New name for {plain_name}")}</label>
                        <input class="field__input" type="text" name="name" id=format!("plain-rename-{}", plain_id) value=plain_name.clone() maxlength="64"/>
                        <button class="button button--quiet" type="submit">"Rename"</button>
                    </form>
                    <form class="inline-form" action=remove_url method="post">
                        <input type="hidden" name="id" value=plain_id.clone()/>
                        <label class="check"><input type="checkbox" name="confirm" value="yes" required=true/>{format!(" Yes, remove this {what}")}</label>
                        <button class="button button--danger" type="submit">"Remove"</button>
                    </form>
                        }.into_any()
                    }
                </Show>
                <Show when=move || js.get() && !editing.get() && !confirming.get()>
                    <button class="button button--quiet" type="button" on:click=move |_| editing.set(true)>"Rename"</button>
                    <button class="button button--danger" type="button" on:click=move |_| confirming.set(true)>"Remove"</button>
                </Show>
                <Show when=move || confirming.get()>
                    <span class="confirm">{format!("Remove this {what}?")}</span>
                    <button class="button button--danger" type="button" data-testid="confirm-remove" on:click=move |_| remove.run(())>
                        "Yes, remove"
                    </button>
                    <button class="button button--quiet" type="button" on:click=move |_| confirming.set(false)>"Keep"</button>
                </Show>
            </div>
        </li>
    }
}

#[component]
fn TotpSection(
    page: Page,
    items: Vec<Credential>,
    /// An enrolment a plain form post started (no JavaScript), or why it is gone.
    pending: Option<Result<TotpEnrolment, AppError>>,
    /// A refused plain post of the enrolment's code.
    plain_error: Option<AppError>,
) -> impl IntoView {
    let (pending, pending_error) = split(pending);
    let enrolment = RwSignal::new(pending);
    let error = RwSignal::new(plain_error.or(pending_error));
    let code = RwSignal::new(String::new());
    let name = RwSignal::new(String::from("Phone"));
    let busy = RwSignal::new(false);
    let start = retryable(move |this| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let r = start_totp_enrolment().await;
            busy.set(false);
            if let Some(e) = page.handle(r, this, error) {
                enrolment.set(Some(e));
            }
        });
    });
    let finish = retryable(move |this| {
        let Some(e) = enrolment.get_untracked() else { return };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let r = finish_totp_enrolment(e.ceremony.clone(), code.get_untracked(), name.get_untracked()).await;
            busy.set(false);
            if page.handle(r, this, error).is_some() {
                enrolment.set(None);
                code.set(String::new());
                page.notice.set(Some(TOTP_ADDED.into()));
                page.reload();
            }
        });
    });
    let field = move |f: &'static str| Signal::derive(move || error.get().and_then(|e| message_for(e.field_errors(), f)));
    let has_any = !items.is_empty();
    view! {
        <section class="card security-section" aria-labelledby="totp-title" data-testid="totp">
            <h2 id="totp-title">"Authenticator app"</h2>
            <p class="muted">"Codes from an app such as Google Authenticator, 1Password or Aegis, asked for after your password."</p>
            {(!has_any).then(|| view! { <p class="empty">"No authenticator app set up."</p> })}
            <ul class="cred-list">
                {items.into_iter().map(|c| view! { <CredentialRow page=page item=c kind=CredKind::Totp/> }).collect_view()}
            </ul>
            {move || error.get().filter(|e| e.field_errors().is_empty()).map(|e| view! { <ErrorAlert error=e/> })}
            {move || match enrolment.get() {
                None => view! {
                    <form method="post" action={<StartTotpEnrolment as leptos::server_fn::ServerFn>::url()}
                        on:submit=move |ev| { ev.prevent_default(); start.run(()); }>
                        <button class="button button--primary" type="submit" data-testid="totp-start" disabled=move || busy.get()>
                            {if has_any { "Add another app" } else { "Set up an authenticator app" }}
                        </button>
                    </form>
                }.into_any(),
                Some(e) => view! {
                    <div class="enrol" data-testid="totp-enrol">
                        <ol class="steps">
                            <li>"Scan this QR code with your app, or type the key."</li>
                        </ol>
                        <img class="qr" src=e.qr_data_uri.clone() alt="QR code for your authenticator app" width="200" height="200"/>
                        <p class="small">"Key: "<code class="secret" data-testid="totp-secret">{e.secret_base32.clone()}</code></p>
                        <details class="small"><summary>"Setup link"</summary><code class="secret" data-testid="totp-uri">{e.otpauth_uri.clone()}</code></details>
                        // A plain form without JavaScript; the code never goes into an address.
                        <form class="form-grid" method="post" action={<FinishTotpEnrolment as leptos::server_fn::ServerFn>::url()}
                            on:submit=move |ev| { ev.prevent_default(); finish.run(()); } novalidate>
                            <input type="hidden" name="ceremony" value=e.ceremony.clone()/>
                            <TextField label="Name" name="name" id="totp-name" value=name controlled=true
                                on_input=move |v| name.set(v) error=field("name")/>
                            <TextField label="Code shown in the app" name="code" id="totp-code" inputmode="numeric"
                                autocomplete="one-time-code" value=code controlled=true on_input=move |v| code.set(v) error=field("code")/>
                            <div class="form-actions">
                                <button class="button button--primary" type="submit" data-testid="totp-save" disabled=move || busy.get()>"Save"</button>
                                <a class="button button--quiet" href=crate::routes::SECURITY
                                    on:click=move |ev| { ev.prevent_default(); enrolment.set(None); error.set(None); }>"Cancel"</a>
                            </div>
                        </form>
                    </div>
                }.into_any(),
            }}
        </section>
    }
}

/// The codes as a file, for the Download link (works without scripts running).
fn download_href(codes: &[String]) -> String {
    let mut text = String::from("Latchkey backup codes\nEach code works once. Keep them somewhere safe.\n\n");
    for c in codes {
        text.push_str(c);
        text.push('\n');
    }
    let mut out = String::from("data:text/plain;charset=utf-8,");
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[component]
fn BackupCodesSection(
    page: Page,
    info: BackupCodesInfo,
    /// New codes a plain form post generated (no JavaScript), shown this once.
    shown: Option<Result<Vec<String>, AppError>>,
) -> impl IntoView {
    let (shown, shown_error) = split(shown);
    let codes = RwSignal::new(shown);
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(shown_error);
    let js = crate::components::hydrated();
    let copied = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let generate = retryable(move |this| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let r = generate_backup_codes().await;
            busy.set(false);
            if let Some(list) = page.handle(r, this, error) {
                confirming.set(false);
                codes.set(Some(list));
            }
        });
    });
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(list) = codes.get_untracked() {
            let clipboard = window().navigator().clipboard();
            let _ = clipboard.write_text(&list.join("\n"));
            copied.set(true);
        }
    };
    // Codes a plain form post left to show are kept until this says so.
    let saved = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        codes.set(None);
        leptos::task::spawn_local(async move {
            let _ = backup_codes_saved().await;
            page.reload();
        });
    };
    let has = info.total > 0;
    view! {
        <section class="card security-section" aria-labelledby="backup-title" data-testid="backup-codes">
            <h2 id="backup-title">"Backup codes"</h2>
            <p class="muted">"One-time codes for when you don't have your authenticator app."</p>
            {has.then(|| view! {
                <p data-testid="backup-remaining">
                    {format!("{} of {} codes left", info.remaining, info.total)}
                    {info.created.clone().map(|c| format!(" · created {c}"))}
                </p>
            })}
            {info.low.then(|| view! {
                <Alert kind=AlertKind::Error message="You are running out of backup codes. Generate new ones and keep them safe."/>
            })}
            {move || error.get().map(|e| view! { <ErrorAlert error=e/> })}
            {move || match codes.get() {
                Some(list) => view! {
                    <div class="codes" data-testid="backup-list">
                        <p><strong>"Save these codes now. They won't be shown again."</strong></p>
                        <ul class="codes__list">{list.iter().map(|c| view! { <li><code>{c.clone()}</code></li> }).collect_view()}</ul>
                        <div class="form-actions">
                            <Show when=move || js.get()>
                                <button class="button" type="button" on:click=copy>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
                            </Show>
                            <a class="button" href=download_href(&list) download="latchkey-backup-codes.txt">"Download"</a>
                            <form method="post" action={<BackupCodesSaved as leptos::server_fn::ServerFn>::url()} on:submit=saved>
                                <button class="button button--quiet" type="submit" data-testid="backup-saved">"I saved them"</button>
                            </form>
                        </div>
                    </div>
                }.into_any(),
                None if confirming.get() => view! {
                    <div class="confirm-box" role="alertdialog" aria-labelledby="regen-q">
                        <p id="regen-q">"New codes replace all your current ones: the old codes stop working at once. Continue?"</p>
                        <button class="button button--danger" type="button" data-testid="backup-confirm" on:click=move |_| generate.run(())
                            disabled=move || busy.get()>"Yes, generate new codes"</button>
                        <button class="button button--quiet" type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    </div>
                }.into_any(),
                None => view! {
                    // Without JavaScript (and until the app runs): a plain form,
                    // replacing codes confirmed with a required checkbox.
                    <Show when=move || !js.get()>
                        <form class="inline-form" method="post" action={<GenerateBackupCodes as leptos::server_fn::ServerFn>::url()}
                            data-testid="backup-form">
                            {has.then(|| view! {
                                <label class="check"><input type="checkbox" name="confirm" value="yes" required=true/>
                                    " Yes, replace my current codes (they stop working at once)"</label>
                            })}
                            <button class="button button--primary" type="submit" data-testid="backup-generate">
                                {if has { "Generate new codes" } else { "Generate backup codes" }}
                            </button>
                        </form>
                    </Show>
                    <Show when=move || js.get()>
                        <button class="button button--primary" type="button" data-testid="backup-generate" disabled=move || busy.get()
                            on:click=move |_| if has { confirming.set(true) } else { generate.run(()) }>
                            {if has { "Generate new codes" } else { "Generate backup codes" }}
                        </button>
                    </Show>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ActivitySection(items: Vec<Activity>) -> impl IntoView {
    view! {
        <section class="card security-section" aria-labelledby="activity-title">
            <h2 id="activity-title">"Recent security activity"</h2>
            {if items.is_empty() {
                view! { <p class="empty">"Nothing yet."</p> }.into_any()
            } else {
                view! {
                    <table class="activity" data-testid="activity">
                        <thead><tr><th scope="col">"When"</th><th scope="col">"What"</th><th scope="col">"From"</th></tr></thead>
                        <tbody>
                            {items.into_iter().map(|a| view! {
                                <tr><td>{a.when}</td><td>{a.what}</td><td>{a.ip.unwrap_or_default()}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
