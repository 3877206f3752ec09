//! Set up: connect an Autopilot account (display name, API key, the data-privacy notice, Connect),
//! then say who the exports run as (Export user, Next). The key field is never filled back in.

use super::layout::{field_error, notice, page, Notice};
use maud::{html, Markup};

/// What the connect form shows again after a refusal (never the key).
#[derive(Default)]
pub struct ConnectForm {
    pub display_name: String,
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

pub fn connect(form: &ConnectForm) -> Markup {
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
        "Set up Autopilot",
        &[("Export destinations", "/")],
        html! {
            ol.steps aria-label="Steps" {
                li aria-current="step" { "Connect" }
                li { "Export user" }
                li { "Data matching and segments" }
            }
            @if let Some(m) = other { (notice(Notice::Error, m)) }
            form.card.narrow method="post" action="/setup" novalidate {
                div.field {
                    label for="display_name" { "Display name" }
                    p.hint #display_name-hint { "How this destination is named here, e.g. Marketing." }
                    input #display_name type="text" name="display_name" value=(form.display_name)
                        required autocomplete="off" aria-describedby="display_name-hint display_name-error"
                        aria-invalid=[name_error.map(|_| "true")];
                    (field_error("display_name", name_error))
                }
                div.field {
                    label for="api_key" { "Autopilot API key" }
                    p.hint #api_key-hint { "In Autopilot: Settings → Autopilot API. It is checked with Autopilot, then kept in the data folder's secrets; it is never shown again." }
                    input #api_key type="password" name="api_key" required autocomplete="off"
                        aria-describedby="api_key-hint api_key-error"
                        aria-invalid=[key_error.map(|_| "true")];
                    (field_error("api_key", key_error))
                }
                fieldset.notice-box {
                    legend { "Data privacy and compliance" }
                    p { "Exporting copies the profiles of the segments you choose — email addresses, names and the fields you match — out of this platform into your Autopilot account. From then on Autopilot holds and processes them under your agreement with Autopilot." }
                    p { "You are responsible for making sure that sending these profiles to Autopilot, and Autopilot's handling of them, meets your obligations: consent, data-protection law and your own policies." }
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
                        label for="api_url" { "Autopilot API URL" }
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

/// Step two: who the exports run as.
pub fn export_user(
    dest: &str,
    display_name: &str,
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
                Some(a) => format!("The key was checked and stored: connected to the Autopilot account {a}"),
                None => "Connected to Autopilot. The key was checked and stored.".to_string(),
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
