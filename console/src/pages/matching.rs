//! Data matching (which snapshot column fills which field of the destination's API) and the
//! segments to export, then **Save**; **Preview** runs the dry run on the form's choices without
//! saving them and shows its result above the form, which keeps the choices. The API's name, its
//! standard fields, what it calls a list and the one-time step it needs come from its
//! [`Vocabulary`].

use super::layout::{field_error, notice, page, Notice};
use super::preview::{self, DryRun};
use crate::app::Snapshot;
use maud::{html, Markup};
use shared::audience_api::Vocabulary;

/// What the form shows: the stored choices, or what was posted when it was refused.
#[derive(Default)]
pub struct Choices {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// Other fields: (the API's field, column).
    pub extra: Vec<(String, String)>,
    /// Chosen segment names.
    pub segments: Vec<String>,
    /// The column names of headerless files, comma-separated (empty when the files have a
    /// header row).
    pub headerless: String,
    /// Whether the CSV files are unquoted text whose values a backslash escapes.
    pub escapes: bool,
}

#[derive(Default)]
pub struct Errors {
    pub email: Option<String>,
    pub segments: Option<String>,
    /// About the added fields (a standard field the API lacks).
    pub fields: Option<String>,
    pub other: Option<String>,
}

pub struct View<'a> {
    pub dest: &'a str,
    pub display_name: &'a str,
    /// The destination's API's words.
    pub words: &'static Vocabulary,
    pub columns: &'a [String],
    pub snapshots: &'a [Snapshot],
    pub snapshot_dir: &'a str,
    pub choices: &'a Choices,
    pub errors: &'a Errors,
    /// The dry run of the posted choices, after Preview.
    pub preview: Option<&'a DryRun>,
    pub profile_limit: u64,
}

fn column_select(
    id: &str,
    name: &str,
    columns: &[String],
    chosen: &str,
    required: bool,
    error: bool,
) -> Markup {
    html! {
        select id=(id) name=(name) required[required] aria-invalid=[error.then_some("true")]
            aria-describedby=(format!("{id}-error")) {
            option value="" { @if required { "Choose the column" } @else { "Not exported" } }
            @for c in columns { option value=(c) selected[c == chosen] { (c) } }
        }
    }
}

pub fn render(v: &View) -> Markup {
    let c = v.choices;
    let (api, audience) = (v.words.api, v.words.audience);
    page(
        &format!("Data matching for {}", v.display_name),
        &[
            ("Export destinations", "/"),
            (v.display_name, &format!("/destinations/{}", v.dest)),
        ],
        html! {
            ol.steps aria-label="Steps" {
                li.done { "Connect" }
                li.done { "Export user" }
                li aria-current="step" { "Data matching and segments" }
            }
            @if let Some(m) = &v.errors.other { (notice(Notice::Error, m)) }
            @if let Some(dry) = v.preview {
                section.card #preview-result tabindex="-1" aria-labelledby="preview-title" {
                    h2 #preview-title { "Preview of these choices" }
                    p.hint { "Not saved yet: Save keeps these choices. Nothing was sent; this was a dry run." }
                    (preview::result(v.words, v.profile_limit, dry))
                }
            }
            form.card.narrow method="post" action=(format!("/destinations/{}/matching", v.dest)) novalidate {
                h2 { "Data matching" }
                p.hint { "Which column of your snapshots fills each " (api) " field. The columns are read from the header rows of the snapshots in " code { (v.snapshot_dir) } ". Email is required; it is how " (api) " matches contacts." }
                @if v.columns.is_empty() {
                    (notice(Notice::Warning, "No snapshot with a header row was found: put your segments' CSV files in the snapshot folder and reload this page."))
                }
                div.grid {
                    div.field {
                        label for="email" { "Email" }
                        (column_select("email", "email", v.columns, &c.email, true, v.errors.email.is_some()))
                        (field_error("email", v.errors.email.as_deref()))
                    }
                    div.field {
                        label for="first_name" { "First name" }
                        (column_select("first_name", "first_name", v.columns, &c.first_name, false, false))
                        (field_error("first_name", None))
                    }
                    div.field {
                        label for="last_name" { "Last name" }
                        (column_select("last_name", "last_name", v.columns, &c.last_name, false, false))
                        (field_error("last_name", None))
                    }
                }
                div #extra-fields {
                    @for (i, (field, column)) in c.extra.iter().enumerate() {
                        (extra_row(api, i, field, column, v.columns))
                    }
                }
                template #extra-template { (extra_row(api, usize::MAX, "", "", v.columns)) }
                button type="button" #add-field aria-describedby="fields-hint fields-error" { "Add field" }
                p.hint #fields-hint { "A standard field " (api) " has (" (other_standard_fields(v.words)) ") or a typed custom field as type--Name (string--Loyalty--Tier, integer--Age): " (api) " gets a custom field of that name." }
                (field_error("fields", v.errors.fields.as_deref()))

                div.segments { fieldset aria-describedby="segments-error" {
                    legend { h2 { "Segments" } }
                    p.hint { "Each segment becomes " (with_article(api)) " " (audience) " of the same name. A segment is a snapshot file, a folder of unload parts (every data file in it, in name order), or an entity of a data-lake model (model.json)." }
                    @if let Some(step) = v.words.one_time_step { p.hint #one-time-step { (step) } }
                    @if v.snapshots.is_empty() {
                        p.muted { "No snapshot (*.csv, *.csv.gz, *.tsv, *.parquet, a folder of parts, a model.json) in " code { (v.snapshot_dir) } "." }
                    }
                    @for (i, s) in v.snapshots.iter().enumerate() {
                        div.check {
                            input type="checkbox" id=(format!("segment-{i}")) name="segment" value=(s.segment)
                                aria-describedby=(format!("segment-{i}-what"))
                                checked[c.segments.contains(&s.segment)];
                            label for=(format!("segment-{i}")) { (s.segment) }
                            " "
                            span.muted id=(format!("segment-{i}-what")) { "(" (s.what) ")" }
                        }
                    }
                    (field_error("segments", v.errors.segments.as_deref()))
                } }
                div.field {
                    label for="columns" { "Column names of headerless files" }
                    input type="text" id="columns" name="columns" value=(c.headerless)
                        placeholder="email,first_name,last_name" aria-describedby="columns-hint";
                    p.hint #columns-hint { "Only for CSV files without a header row (a warehouse unload): their column names in order, separated by commas. Models name their own columns." }
                }
                div.field {
                    div.check {
                        input type="checkbox" id="escapes" name="escapes" aria-describedby="escapes-hint" checked[c.escapes];
                        label for="escapes" { "Values are backslash-escaped" }
                    }
                    p.hint #escapes-hint { "Only for CSV unloads written without quotes, where a backslash escapes a separator in a value, as in " code { "Acme\\, Inc." } ", and " code { "\\N" } " is empty: PostgreSQL's COPY, MySQL's INTO OUTFILE, Snowflake's unload without FIELD_OPTIONALLY_ENCLOSED_BY." }
                }
                div.actions {
                    button.primary type="submit" { "Save" }
                    button type="submit" formaction=(format!("/destinations/{}/matching/preview", v.dest)) { "Preview" }
                    a.button.quiet href=(format!("/destinations/{}", v.dest)) { "Cancel" }
                }
            }
        },
    )
}

/// One "Add field" row; `usize::MAX` for the template the script copies.
fn extra_row(api: &str, i: usize, field: &str, column: &str, columns: &[String]) -> Markup {
    let n = if i == usize::MAX {
        "N".to_string()
    } else {
        i.to_string()
    };
    html! {
        div.grid.extra {
            div.field {
                label for=(format!("field-name-{n}")) { (api) " field" }
                input type="text" id=(format!("field-name-{n}")) name="field_name" value=(field);
            }
            div.field {
                label for=(format!("field-column-{n}")) { "Column" }
                select id=(format!("field-column-{n}")) name="field_column" {
                    option value="" { "Choose the column" }
                    @for c in columns { option value=(c) selected[c == column] { (c) } }
                }
            }
        }
    }
}

/// The API's standard fields besides the names, which have their own places.
fn other_standard_fields(words: &Vocabulary) -> String {
    let names = ["FirstName", "LastName"];
    let others = words.standard_fields.iter().filter(|f| !names.contains(f));
    others.copied().collect::<Vec<_>>().join(", ")
}

/// `word` after "a" or "an": "an Ortto".
pub fn with_article(word: &str) -> String {
    match word.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {word}"),
        _ => format!("a {word}"),
    }
}
