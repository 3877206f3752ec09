//! Set up: connect an account (its type — Autopilot or Ortto, chosen by a link so the page never
//! needs a script —, Ortto's region, display name, API key, the data-privacy notice, Connect),
//! then say who the exports run as (Export user, Next). The key field is never filled back in.

use super::layout::{field_error, notice, page, Notice};
use maud::{html, Markup};
use shared::audience_api::ApiKind;
use shared::audience_api::Region;

/// What the connect form shows again after a refusal (never the key).
#[derive(Default)]
pub struct ConnectForm {
    pub display_name: String,
    pub api: ApiKind,
    /// Ortto's region, by name.
    pub region: String,
    pub api_url: String,
    pub agreed: bool,
    pub error: Option<FormError>,
}

/// Where a refusal is shown.
pub enum FormError {
    Name(String),
    Key(String),
    Agree(String),
    Url(String),
    Other(String),
}

/// The API URL the form starts with: the console's own (a sandbox, or Autopilot's public API) for
/// Autopilot; none for Ortto, whose region gives its host.
pub fn default_url(api: ApiKind, console_url: &str) -> String {
    match api {
        ApiKind::Ortto => String::new(),
        _ => console_url.to_string(),
    }
}

pub fn connect(form: &ConnectForm) -> Markup {
    let words = form.api.vocabulary();
    let api = words.api;
    let err = |want: fn(&FormError) -> Option<&str>| form.error.as_ref().and_then(want);
    let name_error = err(|e| {
        if let FormError::Name(m) = e {
            Some(m.as_str())
        } else {
            None
        }
    });
    let key_error = err(|e| {
        if let FormError::Key(m) = e {
            Some(m.as_str())
        } else {
            None
        }
    });
    let agree_error = err(|e| {
        if let FormError::Agree(m) = e {
            Some(m.as_str())
        } else {
            None
        }
    });
    let url_error = err(|e| {
        if let FormError::Url(m) = e {
            Some(m.as_str())
        } else {
            None
        }
    });
    let other = err(|e| {
        if let FormError::Other(m) = e {
            Some(m.as_str())
        } else {
            None
        }
    });
    page(
        &format!("Set up {api}"),
        &[("Export destinations", "/")],
        html! {
            ol.steps aria-label="Steps" {
                li aria-current="step" { "Connect" }
                li { "Export user" }
                li { "Data matching and segments" }
            }
            @if let Some(m) = other { (notice(Notice::Error, m)) }
            nav.account-type aria-label="Account type" {
                span { "Account type: " }
                @for (kind, href) in [(ApiKind::Autopilot, "/setup"), (ApiKind::Ortto, "/setup?api=ortto")] {
                    @if kind == form.api {
                        a.button href=(href) aria-current="page" { (kind.vocabulary().api) }
                    } @else {
                        a.button.quiet href=(href) { (kind.vocabulary().api) }
                    }
                }
            }
            form.card.narrow method="post" action="/setup" novalidate {
                input type="hidden" name="api" value=(form.api.as_str());
                div.field {
                    label for="display_name" { "Display name" }
                    p.hint #display_name-hint { "How this destination is named here, e.g. Marketing." }
                    input #display_name type="text" name="display_name" value=(form.display_name)
                        required autocomplete="off" aria-describedby="display_name-hint display_name-error"
                        aria-invalid=[name_error.map(|_| "true")];
                    (field_error("display_name", name_error))
                }
                @if form.api == ApiKind::Ortto {
                    div.field {
                        label for="region" { "Region" }
                        p.hint #region-hint { "Where your Ortto account is: its key works only there." }
                        select #region name="region" aria-describedby="region-hint" {
                            @for region in Region::ALL {
                                option value=(region.as_str()) selected[form.region == region.as_str()] {
                                    (region_label(region))
                                }
                            }
                        }
                    }
                }
                div.field {
                    label for="api_key" { (api) " API key" }
                    p.hint #api_key-hint { (key_hint(form.api)) }
                    input #api_key type="password" name="api_key" required autocomplete="off"
                        aria-describedby="api_key-hint api_key-error"
                        aria-invalid=[key_error.map(|_| "true")];
                    (field_error("api_key", key_error))
                }
                fieldset.notice-box {
                    legend { "Data privacy and compliance" }
                    p { "Exporting copies the profiles of the segments you choose — email addresses, names and the fields you match — out of this platform into your " (api) " account. From then on " (api) " holds and processes them under your agreement with " (api) "." }
                    p { "You are responsible for making sure that sending these profiles to " (api) ", and " (api) "'s handling of them, meets your obligations: consent, data-protection law and your own policies." }
                    @if form.api == ApiKind::Ortto {
                        p { "Ortto subscribes the people it creates to email by default; this connector never changes a subscription. Each segment becomes a tag of its name: in Ortto, build an audience on \"Tag is <segment name>\" once per segment." }
                    }
                    div.check {
                        input #agree type="checkbox" name="agree" checked[form.agreed]
                            aria-describedby="agree-error" aria-invalid=[agree_error.map(|_| "true")];
                        label for="agree" { "I agree" }
                    }
                    (field_error("agree", agree_error))
                }
                details.advanced open[url_error.is_some()] {
                    summary { "Advanced" }
                    div.field {
                        label for="api_url" { (api) " API URL" }
                        input #api_url type="url" name="api_url" value=(form.api_url)
                            aria-describedby="api_url-error" aria-invalid=[url_error.map(|_| "true")];
                        (field_error("api_url", url_error))
                    }
                }
                div.actions {
                    button.primary type="submit" { "Connect" }
                    a.button.quiet href="/" { "Cancel" }
                }
            }
        },
    )
}

/// A region in words, with its host: "Europe (api.eu.ap3api.com)".
pub fn region_label(region: Region) -> &'static str {
    match region {
        Region::Global => "Global (api.ap3api.com)",
        Region::Au => "Australia (api.au.ap3api.com)",
        Region::Eu => "Europe (api.eu.ap3api.com)",
    }
}

/// Where the account's API key is found in its tool.
pub fn key_place(api: ApiKind) -> &'static str {
    match api {
        ApiKind::Ortto => "Settings → Data sources → Custom API (advanced)",
        _ => "Settings → Autopilot API",
    }
}

fn key_hint(api: ApiKind) -> String {
    let name = api.vocabulary().api;
    format!("In {name}: {}. It is checked with {name}, then kept in the data folder's secrets; it is never shown again.", key_place(api))
}

/// Step two: who the exports run as.
pub fn export_user(
    dest: &str,
    display_name: &str,
    api: &str,
    account: Option<&str>,
    current: &str,
    yourself: Option<&str>,
    error: Option<&str>,
) -> Markup {
    page(
        &format!("Set up {display_name}"),
        &[("Export destinations", "/")],
        html! {
            ol.steps aria-label="Steps" {
                li.done { "Connect" }
                li aria-current="step" { "Export user" }
                li { "Data matching and segments" }
            }
            (notice(Notice::Done, &match account {
                Some(a) => format!("The key was checked and stored: connected to the {api} account {a}"),
                None => format!("Connected to {api}. The key was checked and stored."),
            }))
            form.card.narrow method="post" action=(format!("/destinations/{dest}/export-user")) {
                div.field {
                    label for="export_user" { "Export user" }
                    p.hint #export_user-hint { "Who the exports run as: the person answerable for them." }
                    div.inline {
                        input #export_user type="text" name="export_user" value=(current)
                            required aria-describedby="export_user-hint export_user-error"
                            aria-invalid=[error.map(|_| "true")];
                        @if let Some(me) = yourself {
                            button type="button" data-fill="export_user" data-value=(me) { "Add yourself as export user" }
                        }
                    }
                    (field_error("export_user", error))
                }
                div.actions {
                    button.primary type="submit" { "Next" }
                }
            }
        },
    )
}
