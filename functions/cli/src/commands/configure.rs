//! `autopilot-export configure DEST`: a destination's data matching and segments, where its
//! finished exports are posted (`--notify-url`, `--no-notify`) and the secret that signs those
//! posts (`--rotate-notify-secret`; a new one is printed once), and how many pages of each list
//! are read back after an export (`--verify-pages`); alone, those change only themselves.

use super::Context;
use crate::args::ConfigureArgs;
use crate::failure::{BoxError, Outcome};
use crate::output;
use secrecy::{ExposeSecret, SecretString};
use shared::app::audit::Action;
use shared::app::notify;
use shared::destination::{DataMatching, Segment};
use shared::jobs::configure;
use shared::snapshot::sources;

pub async fn run(ctx: &Context, args: ConfigureArgs) -> Result<Outcome, BoxError> {
    let url = match (&args.notify_url, args.no_notify) {
        (Some(url), _) => Some(Some(url.clone())),
        (None, true) => Some(None),
        (None, false) => None,
    };
    let secret = match &url {
        Some(url) => notify::set_url(&ctx.deps, &args.dest, url.as_deref()).await?,
        None if args.rotate_notify_secret => {
            Some(notify::rotate_secret(&ctx.deps, &args.dest).await?)
        }
        None => None,
    };
    let pages = args.verify_pages;
    if let Some(pages) = pages {
        configure::set_verify_pages(&ctx.deps, &args.dest, pages).await?;
    }
    let dest = args.dest.clone();
    match args.email_field.clone() {
        Some(email) => {
            let out = configure::run(input(args, email), &ctx.deps).await?;
            match &secret {
                // One JSON document: the configuration's, with the new secret.
                Some(secret) if ctx.json => {
                    let mut body = serde_json::to_value(&out)?;
                    body["signing_secret"] = secret.expose_secret().into();
                    println!("{}", serde_json::to_string_pretty(&body)?);
                }
                _ => output::configured(&out, ctx.json)?,
            }
            if !ctx.json {
                signing_secret(secret);
            }
        }
        None if url.is_some() => notified(ctx, &dest, url.flatten().as_deref(), secret)?,
        None if secret.is_some() => rotated(ctx, &dest, secret)?,
        None if ctx.json => {
            let body = serde_json::json!({"destination_id": dest, "verify_pages": pages});
            println!("{}", serde_json::to_string_pretty(&body)?);
        }
        None => {}
    }
    if let (Some(pages), false) = (pages, ctx.json) {
        verify_pages(&dest, pages);
    }
    let recorded = ctx.record(Action::Configure, &dest, "configured", None);
    recorded.await?;
    Ok(Outcome::Done)
}

/// Says what the light verify after each export of `dest` reads now.
fn verify_pages(dest: &str, pages: u32) {
    match pages {
        0 => println!("No list of {dest} is read back after an export (run `autopilot-export verify {dest}` for a full check)."),
        1 => println!("After each export of {dest}, the first page of each list is read back."),
        n => println!("After each export of {dest}, the first {n} pages of each list are read back."),
    }
}

/// Says where finished exports of `dest` go now (the URL's host only: its path can be a secret),
/// and the secret that signs them, this once.
fn notified(
    ctx: &Context,
    dest: &str,
    url: Option<&str>,
    secret: Option<SecretString>,
) -> Result<(), BoxError> {
    let shown = url.map(notify::shown);
    if ctx.json {
        let body = serde_json::json!({
            "destination_id": dest,
            "notify": shown,
            "signing_secret": secret.as_ref().map(ExposeSecret::expose_secret),
        });
        println!("{}", serde_json::to_string_pretty(&body)?);
    } else if let Some(shown) = shown {
        println!("Finished exports of {dest} are posted to {shown}");
        signing_secret(secret);
    } else {
        println!("Finished exports of {dest} are no longer posted anywhere.");
    }
    Ok(())
}

/// Shows the new signing secret of `dest`'s webhook, this once.
fn rotated(ctx: &Context, dest: &str, secret: Option<SecretString>) -> Result<(), BoxError> {
    if ctx.json {
        let body = serde_json::json!({
            "destination_id": dest,
            "signing_secret": secret.as_ref().map(ExposeSecret::expose_secret),
        });
        println!("{}", serde_json::to_string_pretty(&body)?);
    } else {
        println!("The posts to the webhook of {dest} are signed with a new secret from now on.");
        signing_secret(secret);
    }
    Ok(())
}

fn signing_secret(secret: Option<SecretString>) {
    if let Some(secret) = secret {
        println!(
            "Signing secret (shown this once; give it to the receiver): {}",
            secret.expose_secret()
        );
        println!(
            "Each post carries the header {}: t=TIMESTAMP,v1=HMAC-SHA-256 of \"TIMESTAMP.BODY\"; refuse posts older than {} minutes.",
            notify::signature::HEADER,
            notify::signature::TOLERANCE_SECONDS / 60
        );
    }
}

fn input(args: ConfigureArgs, email: String) -> configure::Input {
    configure::Input {
        destination_id: args.dest,
        data_matching: DataMatching {
            email,
            first_name: args.first_name_field,
            last_name: args.last_name_field,
            fields: args.fields.into_iter().collect(),
            custom: args.custom.into_iter().collect(),
        },
        segments: args
            .segments
            .into_iter()
            .map(|(name, source)| {
                let model = sources::names_model(&source);
                Segment {
                    columns: if model { None } else { args.columns.clone() },
                    backslash_escapes: !model && args.backslash_escapes,
                    ..Segment::new(name, source)
                }
            })
            .collect(),
        profile_limit: args.profile_limit,
        requests_per_second: None,
        schedule: None,
        max_removal_percent: args.max_removal_percent,
        max_shrink_percent: args.max_shrink_percent,
    }
}
