use leptos::html;
use leptos::prelude::*;

/// A labelled input with its hint and error, wired for assistive technology
/// (`aria-invalid`, `aria-describedby`).
#[component]
pub fn TextField(
    /// Visible label.
    #[prop(into)]
    label: String,
    /// Form field name sent to the server.
    #[prop(into)]
    name: String,
    /// Element id (unique on the page).
    #[prop(into)]
    id: String,
    /// The value. For a `controlled` field the box follows it as it changes
    /// (e.g. to the stored, normalised value after a save); otherwise it is
    /// only the initial value.
    #[prop(optional, into)]
    value: Signal<String>,
    #[prop(optional)] controlled: bool,
    /// `type` attribute.
    #[prop(default = "text")]
    kind: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional, into)] hint: MaybeProp<String>,
    #[prop(optional, into)] error: MaybeProp<String>,
    #[prop(optional)] required: bool,
    #[prop(optional)] autofocus: bool,
    #[prop(optional)] readonly: bool,
    /// Called with the new value on every keystroke.
    #[prop(optional, into)]
    on_input: Option<Callback<String>>,
    /// Called when the field loses focus.
    #[prop(optional, into)]
    on_blur: Option<Callback<()>>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let input_ref = NodeRef::<html::Input>::new();
    if controlled {
        // Client only (effects do not run on the server).
        Effect::new(move |_| {
            let v = value.get();
            if let Some(el) = input_ref.get()
                && el.value() != v
            {
                el.set_value(&v);
            }
        });
    }
    let initial = value.get_untracked();
    let described_by = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            let mut ids = Vec::new();
            if hint.get().is_some() {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:field--invalid=move || error.get().is_some()>
            <label class="field__label" for=id.clone()>
                {label}
                {required.then(|| view! { <span class="field__required" aria-hidden="true">" *"</span> })}
            </label>
            <input
                node_ref=input_ref
                class="field__input"
                id=id
                name=name
                type=kind
                value=initial
                autocomplete=autocomplete
                inputmode=inputmode
                required=required
                autofocus=autofocus
                readonly=readonly
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described_by
                on:input=move |ev| {
                    if let Some(cb) = on_input {
                        cb.run(event_target_value(&ev));
                    }
                }
                on:blur=move |_| {
                    if let Some(cb) = on_blur {
                        cb.run(());
                    }
                }
            />
            {move || hint.get().map(|h| view! { <p class="field__hint" id=hint_id.clone()>{h}</p> })}
            <p class="field__error" id=error_id aria-live="polite">{move || error.get()}</p>
        </div>
    }
}

/// A labelled `<select>`; `options` are `(value, label)` pairs and an empty
/// first option stands for "not set".
#[component]
pub fn SelectField(
    #[prop(into)] label: String,
    #[prop(into)] name: String,
    #[prop(into)] id: String,
    /// The selected value; the select follows it as it changes.
    #[prop(optional, into)]
    value: Signal<String>,
    options: Vec<(String, String)>,
    #[prop(into)] empty_label: String,
    #[prop(optional, into)] error: MaybeProp<String>,
    #[prop(optional, into)] on_change: Option<Callback<String>>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let described_by = {
        let error_id = error_id.clone();
        move || error.get().is_some().then(|| error_id.clone())
    };
    let select_ref = NodeRef::<html::Select>::new();
    Effect::new(move |_| {
        let v = value.get();
        if let Some(el) = select_ref.get()
            && el.value() != v
        {
            el.set_value(&v);
        }
    });
    let initial = value.get_untracked();
    let options = options
        .into_iter()
        .map(|(v, l)| {
            let selected = v == initial;
            view! { <option value=v selected=selected>{l}</option> }
        })
        .collect_view();
    view! {
        <div class="field" class:field--invalid=move || error.get().is_some()>
            <label class="field__label" for=id.clone()>{label}</label>
            <select
                node_ref=select_ref
                class="field__input"
                id=id
                name=name
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described_by
                on:change=move |ev| {
                    if let Some(cb) = on_change {
                        cb.run(event_target_value(&ev));
                    }
                }
            >
                <option value="">{empty_label}</option>
                {options}
            </select>
            <p class="field__error" id=error_id aria-live="polite">{move || error.get()}</p>
        </div>
    }
}
