//! Labelled form fields with their hints and errors as sentences, and the CSRF field.

use leptos::prelude::*;

use crate::shell::Notice;
use crate::words::L;

/// The hidden CSRF field every state-changing form carries, with the session's `token`.
pub fn csrf(token: &str) -> impl IntoView {
    view! { <input type="hidden" name="csrf" value=token.to_owned()/> }
}

/// Errors of a posted form, each a sentence tied to its field.
#[derive(Clone, Debug, Default)]
pub struct Errors(Vec<(String, String)>);

impl Errors {
    pub fn add(&mut self, field: impl Into<String>, sentence: impl Into<String>) {
        self.0.push((field.into(), sentence.into()));
    }

    pub fn get(&self, field: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, s)| s.clone())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The notice on top of the page: how many fields need attention (the sentences are
    /// next to them). A single error without a field is shown in full.
    pub fn notice(&self, l: L) -> Option<Notice> {
        match self.0.as_slice() {
            [] => None,
            [(field, sentence)] if field.is_empty() => Some(Notice::error(sentence.clone())),
            [_] => Some(Notice::error(l.t(
                "Le formulaire n'a pas été enregistré : corrigez le champ signalé ci-dessous.",
                "The form was not saved: fix the field marked below.",
            ))),
            many => Some(Notice::error(l.f(
                || {
                    format!(
                        "Le formulaire n'a pas été enregistré : corrigez les {} champs signalés ci-dessous.",
                        many.len()
                    )
                },
                || {
                    format!(
                        "The form was not saved: fix the {} fields marked below.",
                        many.len()
                    )
                },
            ))),
        }
    }
}

/// The id of the control for field `name`.
pub fn field_id(name: &str) -> String {
    format!("f-{}", name.replace(':', "-"))
}

/// The sentence under a field when it was refused, tied to the control by `aria-describedby`.
pub fn field_error(name: &str, error: Option<String>) -> impl IntoView {
    error.map(|e| {
        view! { <p class="field-error" id=format!("{}-error", field_id(name))>{e}</p> }
    })
}

/// `aria-describedby` for a control: its hint and its error, when present.
pub fn described_by(name: &str, hint: bool, error: bool) -> Option<String> {
    let id = field_id(name);
    let mut ids = Vec::new();
    if hint {
        ids.push(format!("{id}-hint"));
    }
    if error {
        ids.push(format!("{id}-error"));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// A labelled one-line text input with its hint and error.
pub struct Input<'a> {
    pub name: &'static str,
    pub label: String,
    pub value: String,
    pub kind: &'static str,
    pub hint: Option<String>,
    pub required: bool,
    pub errors: &'a Errors,
    pub autocomplete: Option<&'static str>,
}

impl<'a> Input<'a> {
    pub fn new(name: &'static str, label: impl Into<String>, errors: &'a Errors) -> Self {
        Input {
            name,
            label: label.into(),
            value: String::new(),
            kind: "text",
            hint: None,
            required: false,
            errors,
            autocomplete: None,
        }
    }

    pub fn value(mut self, v: impl Into<String>) -> Self {
        self.value = v.into();
        self
    }

    pub fn kind(mut self, k: &'static str) -> Self {
        self.kind = k;
        self
    }

    pub fn hint(mut self, h: impl Into<String>) -> Self {
        self.hint = Some(h.into());
        self
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn autocomplete(mut self, a: &'static str) -> Self {
        self.autocomplete = Some(a);
        self
    }

    pub fn view(self) -> impl IntoView {
        let id = field_id(self.name);
        let error = self.errors.get(self.name);
        let describe = described_by(self.name, self.hint.is_some(), error.is_some());
        let invalid = error.is_some().then_some("true");
        let hint_id = format!("{id}-hint");
        view! {
            <div class="field">
                <label for=id.clone()>{self.label}</label>
                {self.hint.map(|h| view! { <p class="field-hint" id=hint_id>{h}</p> })}
                <input
                    id=id
                    type=self.kind
                    name=self.name
                    value=self.value
                    required=self.required
                    autocomplete=self.autocomplete
                    aria-describedby=describe
                    aria-invalid=invalid
                />
                {field_error(self.name, error)}
            </div>
        }
    }
}

/// A labelled Markdown textarea with its error.
pub fn textarea(
    name: &'static str,
    label: String,
    value: String,
    rows: u32,
    errors: &Errors,
) -> impl IntoView {
    let id = field_id(name);
    let error = errors.get(name);
    let describe = described_by(name, false, error.is_some());
    let invalid = error.is_some().then_some("true");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <textarea
                id=id
                name=name
                rows=rows
                required=true
                aria-describedby=describe
                aria-invalid=invalid
                inner_html=textarea_text(&value)
            ></textarea>
            {field_error(name, error)}
        </div>
    }
}

/// The markup for a `<textarea>`'s text. Leptos 0.8 (tachys 0.2.19, the latest 0.2) writes a
/// textarea's children unescaped, as if they were a script's (tachys 0.3 escapes them), so
/// `</textarea>` in a message would end the field. The text is therefore rendered by the view
/// layer as any text node of a page is (`to_html`, escaped by construction) and given to the
/// textarea as markup. An empty text stays empty (Leptos writes an empty text node as one
/// space). The leading newline keeps a text that starts with one: HTML drops the first
/// newline after `<textarea>`.
pub fn textarea_text(text: &str) -> String {
    let markup = if text.is_empty() {
        String::new()
    } else {
        text.to_html()
    };
    format!("\n{markup}")
}

/// `<option>`s: `(value, words)`, the one equal to `selected` preselected.
pub fn options(values: Vec<(String, String)>, selected: &str) -> impl IntoView {
    values
        .into_iter()
        .map(|(value, words)| {
            let sel = value == selected;
            view! { <option value=value selected=sel>{words}</option> }
        })
        .collect_view()
}

/// A labelled select with its error.
pub fn select(
    name: &'static str,
    label: String,
    values: Vec<(String, String)>,
    selected: &str,
    errors: &Errors,
) -> impl IntoView {
    let id = field_id(name);
    let error = errors.get(name);
    let describe = described_by(name, false, error.is_some());
    let invalid = error.is_some().then_some("true");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id name=name aria-describedby=describe aria-invalid=invalid>
                {options(values, selected)}
            </select>
            {field_error(name, error)}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_in_a_page_is_escaped_by_construction() {
        let html = Owner::new().with(|| {
            let evil = "<script>alert(1)</script>\"'".to_owned();
            let attr = evil.clone();
            view! { <p title=attr>{evil}</p> }.to_html()
        });
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(
            !html.contains("title=\"<script>alert(1)</script>\"\""),
            "{html}"
        );
        let html = Owner::new().with(|| {
            let errors = Errors::default();
            textarea(
                "message",
                "Message".to_owned(),
                "a</textarea><script>alert(1)</script>".to_owned(),
                3,
                &errors,
            )
            .to_html()
        });
        assert!(
            html.contains(">\na&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>"),
            "{html}"
        );
        // An empty field stays empty; a text that starts with a newline keeps it.
        assert_eq!(textarea_text(""), "\n");
        assert_eq!(textarea_text("\nx & y"), "\n\nx &amp; y");
    }
}
