//! `autopilot-export configure DEST`: a destination's data matching and segments.

use super::Context;
use crate::args::ConfigureArgs;
use crate::failure::{BoxError, Outcome};
use crate::output;
use shared::destination::{DataMatching, Segment};
use shared::jobs::configure;

pub async fn run(ctx: &Context, args: ConfigureArgs) -> Result<Outcome, BoxError> {
    let out = configure::run(input(args), &ctx.deps).await?;
    output::configured(&out, ctx.json)?;
    Ok(Outcome::Done)
}

fn input(args: ConfigureArgs) -> configure::Input {
    configure::Input {
        destination_id: args.dest,
        data_matching: DataMatching {
            email: args.email_field,
            first_name: args.first_name_field,
            last_name: args.last_name_field,
            fields: args.fields.into_iter().collect(),
            custom: args.custom.into_iter().collect(),
        },
        segments: args
            .segments
            .into_iter()
            .map(|(name, source)| Segment { name, source })
            .collect(),
        profile_limit: args.profile_limit,
        requests_per_second: None,
        schedule: None,
        max_removal_percent: args.max_removal_percent,
        max_shrink_percent: args.max_shrink_percent,
    }
}
