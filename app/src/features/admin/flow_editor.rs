//! The Login Flow tab: numbered steps, each with its authenticator options
//! and the condition under which it applies; nothing is saved until Update.
//! The browser checks the draft with the same rules as the server
//! (`proto::flow::Flow::validate`); the server also refuses stale drafts and
//! flows no administrator could complete.

use leptos::prelude::*;
use proto::flow::MAX_STEPS;
use proto::flow::{Condition, Flow, Method, Step};

use super::api::{RestoreLoginFlow, SaveLoginFlowForm, restore_login_flow, update_login_flow};
use super::types::*;
use super::view::Console;
use crate::components::{Alert, AlertKind, ErrorAlert};
use crate::error::{AppError, message_for};
use crate::features::reauth::view::{retryable, settle};

const LEAVE_WARNING: &str = "You have unsaved changes to the login flow. Leave without saving them?";

/// What a plain form post of this tab (no JavaScript) came back with. Read
/// at the top of the page, before anything awaits.
#[derive(Clone, Debug, Default)]
pub struct PlainResult {
    pub save_error: Option<AppError>,
    pub restore_error: Option<AppError>,
    pub notice: Option<String>,
}

impl PlainResult {
    pub fn read() -> Self {
        use leptos::server_fn::ServerFn;
        let error = |url| crate::components::plain_form_error(url)();
        let notice = leptos_router::hooks::use_query_map().with_untracked(|q| {
            let version = |key| q.get_str(key).and_then(|v| v.parse::<i32>().ok());
            match (version("saved"), version("restored")) {
                (Some(v), _) => Some(saved_message(v)),
                (_, Some(v)) => Some(restored_message(v)),
                _ => None,
            }
        });
        Self {
            save_error: error(<SaveLoginFlowForm as ServerFn>::url()),
            restore_error: error(<RestoreLoginFlow as ServerFn>::url()),
            notice,
        }
    }
}

fn saved_message(version: i32) -> String {
    format!("Saved as version {version}. It applies to the next sign-in.")
}

fn restored_message(version: i32) -> String {
    format!("Restored: it is now version {version} and applies to the next sign-in.")
}

fn people_count(n: u64) -> String {
    if n == 1 { "1 person".into() } else { format!("{n} people") }
}

/// How many people a refused save would have stopped, when that was why.
fn blocked_by(e: &Option<AppError>) -> Option<u64> {
    match e {
        Some(AppError::WouldBlock { people }) => Some(*people),
        _ => None,
    }
}

#[component]
pub fn LoginFlowTab(console: Console, info: LoginFlowInfo, #[prop(optional)] plain: PlainResult) -> impl IntoView {
    let base = RwSignal::new(info.clone());
    let draft = RwSignal::new(info.flow);
    let dirty = Memo::new(move |_| draft.with(|d| base.with(|b| *d != b.flow)));
    let problems = Memo::new(move |_| draft.with(Flow::validate));
    let busy = RwSignal::new(false);
    let plain_blocked = blocked_by(&plain.save_error);
    let error = RwSignal::new(plain.save_error);
    let notice = RwSignal::new(plain.notice);
    let js = crate::components::hydrated();
    // A memo: the step cards are rebuilt only when the number of steps
    // changes, so focus stays on the control a keyboard user just used.
    let step_count = Memo::new(move |_| draft.with(|d| d.steps.len()));
    guard_unsaved_changes(dirty);

    let add_step = move |_| {
        notice.set(None);
        draft.update(|d| {
            if d.steps.len() < MAX_STEPS {
                d.steps.push(Step { options: vec![], when: Condition::Always })
            }
        });
    };
    let full = move || step_count.get() >= MAX_STEPS;
    // Set when the server said how many people the flow would stop: the
    // admin confirms that number, or cancels.
    let blocking = RwSignal::new(None::<u64>);
    Effect::new(move |_| {
        if blocking.get().is_some() {
            crate::components::focus_soon("[data-testid=confirm-blocked]");
        }
    });
    let save = retryable(move |this| {
        let definition = match serde_json::to_string(&draft.get_untracked()) {
            Ok(d) => d,
            Err(e) => return error.set(Some(AppError::Request(e.to_string()))),
        };
        let confirmed = blocking.get_untracked();
        busy.set(true);
        error.set(None);
        blocking.set(None);
        leptos::task::spawn_local(async move {
            let result = update_login_flow(Some(console.app.get_value()), base.get_untracked().version, definition, confirmed).await;
            busy.set(false);
            if let Err(AppError::WouldBlock { people }) = result {
                return blocking.set(Some(people));
            }
            if let Some(saved) = settle(console.retry, result, this, error) {
                notice.set(Some(saved_message(saved.version)));
                draft.set(saved.flow.clone());
                base.set(saved);
            }
        });
    });
    let flow_problems = move || problems.get().into_iter().filter(|p| p.step.is_none()).map(|p| p.message).collect::<Vec<_>>();
    let server_problem = move || error.get().and_then(|e| message_for(e.field_errors(), "flow"));
    let other_error = move || error.get().filter(|e| e.field_errors().is_empty());

    view! {
        <div class="card">
            <h2>"Login Flow"</h2>
            <p class="muted">
                "How people sign in to My Account. Each step offers options; any one of them completes the step. \
                 Changes apply to the next sign-in, not to people already signed in."
            </p>
            <div class="status-slot">{move || notice.get().map(|m| view! { <Alert kind=AlertKind::Success message=m/> })}</div>
            {move || other_error().map(|e| view! { <ErrorAlert error=e/> })}
            {move || server_problem().map(|m| view! { <Alert kind=AlertKind::Error message=m/> })}
            // Without JavaScript (and until the app runs): the same flow as a plain form.
            <Show when=move || !js.get()>
                <PlainFlowForm app=console.app.get_value() info=base.get_untracked() blocked=plain_blocked/>
            </Show>
            <div hidden=move || !js.get()>
            <ol class="flow-steps" data-testid="flow-steps">
                <For each=move || 0..step_count.get() key=|i| *i let:i>
                    <StepCard index=i draft=draft problems=problems edit_notice=notice/>
                </For>
            </ol>
            <ul class="flow-problems" data-testid="flow-problems">
                {move || flow_problems().into_iter().map(|m| view! { <li class="field__error">{m}</li> }).collect_view()}
            </ul>
            {move || blocking.get().map(|people| view! {
                <div class="confirm-box" role="alertdialog" aria-label="Confirm the login flow" data-testid="blocked-warning">
                    <p>{AppError::WouldBlock { people }.to_string()}" Save it anyway?"</p>
                    <div class="form-actions">
                        <button class="button button--danger" type="button" data-testid="confirm-blocked"
                            on:click=move |_| save.run(())>{format!("Save, blocking {people}")}</button>
                        <button class="button button--quiet" type="button" on:click=move |_| blocking.set(None)>"Cancel"</button>
                    </div>
                </div>
            })}
            <div class="form-actions flow-actions">
                <button class="button" type="button" data-testid="add-step"
                    disabled=full on:click=add_step>
                    "Add step"
                </button>
                <span class="spacer"></span>
                <Show when=move || dirty.get()>
                    <span class="badge badge--warn" data-testid="unsaved">"Unsaved changes"</span>
                    <button class="button button--quiet" type="button"
                        on:click=move |_| { draft.set(base.get_untracked().flow); error.set(None); }>"Discard changes"</button>
                </Show>
                <button class="button button--primary" type="button" data-testid="update-flow"
                    disabled=move || busy.get() || !dirty.get() || !problems.get().is_empty()
                    on:click=move |_| save.run(())>
                    {move || if busy.get() { "Updating…" } else { "Update" }}
                </button>
            </div>
            </div>
        </div>
        <History console=console base=base draft=draft dirty=dirty plain_error=plain.restore_error/>
    }
    .into_any()
}

/// The Login Flow editor as a plain form: a row per possible step, a
/// checkbox per option. Ticking options in an empty row adds a step;
/// unticking all of a row's options removes it.
#[component]
fn PlainFlowForm(app: String, info: LoginFlowInfo, blocked: Option<u64>) -> impl IntoView {
    let url = <SaveLoginFlowForm as leptos::server_fn::ServerFn>::url();
    let rows = (0..MAX_STEPS)
        .map(|i| {
            let step = info.flow.steps.get(i).cloned().unwrap_or(Step { options: vec![], when: Condition::Always });
            let n = i + 1;
            let when_id = format!("plain-step-{n}-when");
            view! {
                <li class="flow-step">
                    <fieldset class="plain-step" data-testid=format!("plain-step-{n}")>
                        <legend>{format!("Step {n}")}</legend>
                        {Method::ALL.into_iter().map(|m| view! {
                            <label class="check">
                                <input type="checkbox" name=format!("steps[{i}][{}]", m.as_str()) value="on" checked=step.options.contains(&m)/>
                                {format!(" {}", m.label())}
                            </label>
                        }).collect_view()}
                        {if i == 0 {
                            view! {
                                <input type="hidden" name="steps[0][when]" value="always"/>
                                <p class="field__hint">"Step 1 always applies: it identifies the person (password or passkey)."</p>
                            }.into_any()
                        } else {
                            view! {
                                <div class="field">
                                    <label class="field__label" for=when_id.clone()>"Applies"</label>
                                    <select class="field__input" id=when_id.clone() name=format!("steps[{i}][when]")>
                                        {Condition::ALL.into_iter().map(|c| view! {
                                            <option value=c.as_str() selected=step.when == c>{c.label()}</option>
                                        }).collect_view()}
                                    </select>
                                </div>
                            }.into_any()
                        }}
                    </fieldset>
                </li>
            }
        })
        .collect_view();
    view! {
        <form method="post" action=url data-testid="plain-flow-form">
            <input type="hidden" name="app" value=app/>
            <input type="hidden" name="base_version" value=info.version.to_string()/>
            <ol class="flow-steps">{rows}</ol>
            <p class="field__hint">"Tick options in an empty step to add it; untick all of a step's options to remove it."</p>
            {blocked.map(|people| view! {
                <label class="check" data-testid="plain-confirm-blocked">
                    <input type="checkbox" name="confirm_blocked" value=people.to_string()/>
                    {format!(" Save even though it stops {} from signing in", people_count(people))}
                </label>
            })}
            <div class="form-actions">
                <button class="button button--primary" type="submit">"Update"</button>
            </div>
        </form>
    }
    .into_any()
}

/// One step of the draft: its options, its condition, and moving or removing it.
#[component]
fn StepCard(
    index: usize,
    draft: RwSignal<Flow>,
    problems: Memo<Vec<proto::flow::FlowProblem>>,
    edit_notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let n = index + 1;
    let step = move || draft.with(|d| d.steps.get(index).cloned()).unwrap_or(Step { options: vec![], when: Condition::Always });
    let edit = move |f: &dyn Fn(&mut Vec<Step>)| {
        edit_notice.set(None);
        draft.update(|d| {
            f(&mut d.steps);
            // Whatever ends up first identifies the person: it always applies.
            if let Some(first) = d.steps.first_mut() {
                first.when = Condition::Always;
            }
        });
    };
    let addable = move || Method::ALL.into_iter().filter(|m| !step().options.contains(m)).collect::<Vec<_>>();
    let to_add = RwSignal::new(String::new());
    // The option the select shows: the one picked, while it can still be added.
    let picked = move || {
        let options = addable();
        Method::parse(&to_add.get()).filter(|m| options.contains(m)).or_else(|| options.first().copied())
    };
    let add_option = move |_| {
        let pick = picked();
        if let Some(m) = pick {
            edit(&|s: &mut Vec<Step>| {
                if let Some(step) = s.get_mut(index)
                    && !step.options.contains(&m)
                {
                    step.options.push(m);
                }
            });
            to_add.set(String::new());
        }
    };
    let move_up = move |_| {
        edit(&|s: &mut Vec<Step>| {
            if index > 0 && index < s.len() {
                s.swap(index - 1, index)
            }
        })
    };
    let move_down = move |_| {
        edit(&|s: &mut Vec<Step>| {
            if index + 1 < s.len() {
                s.swap(index, index + 1)
            }
        })
    };
    let remove_step = move |_| {
        edit(&|s: &mut Vec<Step>| {
            if index < s.len() {
                s.remove(index);
            }
        })
    };
    let remove_option = move |m: Method| {
        edit(&|s: &mut Vec<Step>| {
            if let Some(step) = s.get_mut(index) {
                step.options.retain(|o| *o != m)
            }
        })
    };
    let set_when = move |ev: leptos::ev::Event| {
        if let Some(c) = Condition::parse(&event_target_value(&ev)) {
            edit(&|s: &mut Vec<Step>| {
                if let Some(step) = s.get_mut(index) {
                    step.when = c
                }
            });
        }
    };
    let first = index == 0;
    let messages = move || problems.get().into_iter().filter(|p| p.step == Some(index)).map(|p| p.message).collect::<Vec<_>>();
    let last = move || draft.with(|d| d.steps.len()) == n;
    let select_id = format!("step-{n}-add");
    let when_id = format!("step-{n}-when");
    view! {
        <li class="flow-step" class:flow-step--invalid=move || !messages().is_empty() data-testid=format!("step-{n}")>
            <div class="flow-step__head">
                <h3>{format!("Step {n}")}</h3>
                <div class="flow-step__tools">
                    <button class="button button--quiet" type="button" disabled=first
                        aria-label=format!("Move step {n} up")
                        on:click=move_up>"↑"</button>
                    <button class="button button--quiet" type="button" disabled=last
                        aria-label=format!("Move step {n} down")
                        on:click=move_down>"↓"</button>
                    <button class="button button--danger" type="button" aria-label=format!("Remove step {n}")
                        on:click=remove_step>"Remove step"</button>
                </div>
            </div>
            <ul class="chips" aria-label=format!("Options of step {n}")>
                {move || step().options.into_iter().map(|m| view! {
                    <li class="chip" data-option=m.as_str()>
                        <span>{m.label()}</span>
                        <button class="chip__remove" type="button" aria-label=format!("Remove {} from step {n}", m.label())
                            on:click=move |_| remove_option(m)>
                            "×"
                        </button>
                    </li>
                }).collect_view()}
                {move || step().options.is_empty().then(|| view! { <li class="empty">"No options yet."</li> })}
            </ul>
            <div class="inline-form flow-step__controls">
                <Show when=move || !addable().is_empty()>
                    <div class="field">
                        <label class="field__label" for=select_id.clone()>"Add an option"</label>
                        <select class="field__input" id=select_id.clone() data-testid=format!("step-{n}-add-select")
                            on:change=move |ev| to_add.set(event_target_value(&ev))
                            prop:value=move || picked().map(Method::as_str).unwrap_or_default()>
                            {move || addable().into_iter().map(|m| view! { <option value=m.as_str()>{m.label()}</option> }).collect_view()}
                        </select>
                    </div>
                    <button class="button" type="button" data-testid=format!("step-{n}-add") on:click=add_option>"Add"</button>
                </Show>
                {(!first).then(|| view! {
                    <div class="field">
                        <label class="field__label" for=when_id.clone()>"Applies"</label>
                        <select class="field__input" id=when_id.clone() data-testid=format!("step-{n}-when")
                            prop:value=move || step().when.as_str()
                            on:change=set_when>
                            {Condition::ALL.into_iter().map(|c| view! { <option value=c.as_str()>{c.label()}</option> }).collect_view()}
                        </select>
                    </div>
                })}
            </div>
            {first.then(|| view! { <p class="field__hint">"Step 1 always applies: it identifies the person (password or passkey)."</p> })}
            <ul class="flow-problems">
                {move || messages().into_iter().map(|m| view! { <li class="field__error">{m}</li> }).collect_view()}
            </ul>
        </li>
    }
    .into_any()
}

/// Saved versions, newest first, with what each changed; any older one can
/// be restored (saved again as the newest).
#[component]
fn History(
    console: Console,
    base: RwSignal<LoginFlowInfo>,
    draft: RwSignal<Flow>,
    dirty: Memo<bool>,
    /// A refused plain form post of Restore.
    plain_error: Option<AppError>,
) -> impl IntoView {
    let confirming = RwSignal::new(None::<i32>);
    let plain_blocked = blocked_by(&plain_error);
    let error = RwSignal::new(plain_error);
    let js = crate::components::hydrated();
    let restore_url = <RestoreLoginFlow as leptos::server_fn::ServerFn>::url();
    let notice = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if confirming.get().is_some() {
            crate::components::focus_soon("[data-testid=confirm-restore]");
        }
    });
    // People the restored version would stop from signing in, once the
    // server said so: the next Restore confirms that number.
    let blocking = RwSignal::new(None::<u64>);
    let restore = retryable(move |this| {
        let Some(version) = confirming.get_untracked() else { return };
        let confirmed = blocking.get_untracked();
        leptos::task::spawn_local(async move {
            let result = restore_login_flow(Some(console.app.get_value()), base.get_untracked().version, version, confirmed).await;
            if let Err(AppError::WouldBlock { people }) = result {
                error.set(Some(AppError::WouldBlock { people }));
                return blocking.set(Some(people));
            }
            blocking.set(None);
            if let Some(saved) = settle(console.retry, result, this, error) {
                confirming.set(None);
                notice.set(Some(restored_message(saved.version)));
                draft.set(saved.flow.clone());
                base.set(saved);
            }
        });
    });
    view! {
        <section class="card flow-history" aria-labelledby="history-title">
            <h2 id="history-title">"Versions"</h2>
            <div class="status-slot">{move || notice.get().map(|m| view! { <Alert kind=AlertKind::Success message=m/> })}</div>
            {move || error.get().map(|e| view! { <ErrorAlert error=e/> })}
            <ol class="versions" data-testid="versions">
                {move || base.get().history.into_iter().map(|v| {
                    let version = v.version;
                    let title = if version == 0 { "Built-in default".to_owned() } else { format!("Version {version}") };
                    view! {
                        <li class="version" data-testid=format!("version-{version}")>
                            <div class="version__head">
                                <strong>{title.clone()}</strong>
                                {v.current.then(|| view! { <span class="badge badge--ok">"In force"</span> })}
                                <span class="muted small">{v.saved.map(|c| format!("Saved by {} on {}", c.by, c.at))}</span>
                            </div>
                            <ul class="version__steps small">{v.steps.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}</ul>
                            {(!v.changes.is_empty()).then(|| view! {
                                <details class="small"><summary>"What changed"</summary>
                                    <ul>{v.changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
                                </details>
                            })}
                            {(!v.current).then(|| view! {
                                <Show when=move || !js.get()>
                                    <form class="inline-form" method="post" action=restore_url data-testid=format!("plain-restore-{version}")>
                                        <input type="hidden" name="app" value=console.app.get_value()/>
                                        <input type="hidden" name="base_version" value=move || base.get().version.to_string()/>
                                        <input type="hidden" name="version" value=version.to_string()/>
                                        {plain_blocked.map(|people| view! {
                                            <label class="check"><input type="checkbox" name="confirm_blocked" value=people.to_string()/>
                                                {format!(" Even though it stops {} from signing in", people_count(people))}</label>
                                        })}
                                        <label class="check"><input type="checkbox" name="confirm" value="yes" required=true/>
                                            " Yes, make it the flow for the next sign-in"</label>
                                        <button class="button" type="submit">"Restore"</button>
                                    </form>
                                </Show>
                                <Show when=move || js.get() && confirming.get() == Some(version)
                                    fallback=move || view! {
                                        <Show when=move || js.get()>
                                            <button class="button" type="button" data-testid=format!("restore-{version}")
                                                on:click=move |_| { confirming.set(Some(version)); notice.set(None); blocking.set(None); error.set(None); }>"Restore"</button>
                                        </Show>
                                    }>
                                    <div class="confirm-box" role="alertdialog" aria-label="Confirm restore">
                                        <p>{format!("Make {} the flow for the next sign-in?", title.to_lowercase())}
                                            {move || dirty.get().then_some(" Your unsaved changes will be discarded.")}</p>
                                        <div class="form-actions">
                                            <button class="button button--primary" type="button" data-testid="confirm-restore"
                                                on:click=move |_| restore.run(())>"Restore"</button>
                                            <button class="button button--quiet" type="button" on:click=move |_| confirming.set(None)>"Cancel"</button>
                                        </div>
                                    </div>
                                </Show>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
    }
    .into_any()
}

/// While `dirty`, asks before the page is left: reloads and closing the tab
/// (`beforeunload`), links to other pages of the app (a capturing click
/// listener that runs before the router's), the browser's Back and Forward
/// buttons ([`crate::leave_guard`]) and signing out. Tabs of the same page
/// are fine.
fn guard_unsaved_changes(dirty: Memo<bool>) {
    #[cfg(feature = "hydrate")]
    {
        use crate::leave_guard::Leave;
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        let window = leptos::prelude::window();
        // The router has not seen the `popstate` yet when the guard runs, so
        // its location is still this page's (tabs change the query): that is
        // the address to put back when the person stays.
        let location = leptos_router::hooks::use_location();
        crate::leave_guard::set(move |to_pathname| {
            let (Some(path), Some(search), Some(hash)) =
                (location.pathname.try_get_untracked(), location.search.try_get_untracked(), location.hash.try_get_untracked())
            else {
                return Leave::Allow;
            };
            let href = if search.is_empty() { format!("{path}{hash}") } else { format!("{path}?{search}{hash}") };
            let same_page = path == to_pathname;
            if same_page
                || !dirty.try_get_untracked().unwrap_or(false)
                || leptos::prelude::window().confirm_with_message(LEAVE_WARNING).unwrap_or(true)
            {
                Leave::Allow
            } else {
                Leave::Stay { href }
            }
        });
        let on_unload = Closure::<dyn Fn(web_sys::BeforeUnloadEvent)>::new(move |ev: web_sys::BeforeUnloadEvent| {
            if dirty.try_get_untracked().unwrap_or(false) {
                ev.prevent_default();
                ev.set_return_value(LEAVE_WARNING);
            }
        });
        let on_click = Closure::<dyn Fn(web_sys::MouseEvent)>::new(move |ev: web_sys::MouseEvent| {
            if !dirty.try_get_untracked().unwrap_or(false) {
                return;
            }
            let Some(anchor) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|e| e.closest("a[href]").ok().flatten())
                .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
            else {
                return;
            };
            let here = leptos::prelude::window().location().pathname().unwrap_or_default();
            if anchor.pathname() == here {
                return;
            }
            if !leptos::prelude::window().confirm_with_message(LEAVE_WARNING).unwrap_or(true) {
                ev.prevent_default();
                ev.stop_immediate_propagation();
            }
        });
        // Signing out (a form) leaves the page too.
        let on_submit = Closure::<dyn Fn(web_sys::Event)>::new(move |ev: web_sys::Event| {
            let leaving = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
                .and_then(|f| f.get_attribute("action"))
                .is_some_and(|a| a.ends_with("/logout"));
            if leaving
                && dirty.try_get_untracked().unwrap_or(false)
                && !leptos::prelude::window().confirm_with_message(LEAVE_WARNING).unwrap_or(true)
            {
                ev.prevent_default();
                ev.stop_immediate_propagation();
            }
        });
        let _ = window.add_event_listener_with_callback_and_bool("submit", on_submit.as_ref().unchecked_ref(), true);
        let _ = window.add_event_listener_with_callback("beforeunload", on_unload.as_ref().unchecked_ref());
        let _ = window.add_event_listener_with_callback_and_bool("click", on_click.as_ref().unchecked_ref(), true);
        let handles = send_wrapper::SendWrapper::new((on_unload, on_click, on_submit));
        on_cleanup(move || {
            let (on_unload, on_click, on_submit) = &*handles;
            let window = leptos::prelude::window();
            let _ = window.remove_event_listener_with_callback("beforeunload", on_unload.as_ref().unchecked_ref());
            let _ = window.remove_event_listener_with_callback_and_bool("click", on_click.as_ref().unchecked_ref(), true);
            let _ = window.remove_event_listener_with_callback_and_bool("submit", on_submit.as_ref().unchecked_ref(), true);
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (dirty, LEAVE_WARNING);
}
