//! `--stack NAME`: the console's stack settings from the stack's outputs (`DataBucketName`,
//! `StateMachineArn`) and parameters (`SnapshotBucket`, `SnapshotPrefix`,
//! `AllowedAutopilotHosts`, `ScheduleExpression`, `ScheduleState`), its secret prefix from its
//! name as the template makes it (`NAME/`); a flag given explicitly wins over the stack's value.
//! Without `--stack` the flags alone name the stack's resources.

use super::Stack;
use crate::schedule::Deployed;
use aws_adapters::stack::{describe, StackDescription};

/// What the command line gave.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub stack: Option<String>,
    pub data_bucket: Option<String>,
    pub state_machine_arn: Option<String>,
    pub snapshot_bucket: Option<String>,
    pub snapshot_prefix: Option<String>,
    pub allowed_hosts: Option<Vec<String>>,
    pub secret_prefix: Option<String>,
    pub force_path_style: bool,
}

/// The stack the flags name (and its schedule, with `--stack`), or `None` for the local console.
pub async fn resolve(flags: Flags) -> Result<Option<(Stack, Option<Deployed>)>, String> {
    let Some(name) = flags.stack.clone() else {
        return from_flags(flags).map(|stack| stack.map(|s| (s, None)));
    };
    let sdk = aws_adapters::sdk_config().await;
    let described = describe(&aws_sdk_cloudformation::Client::new(&sdk), &name).await?;
    merge(&described, flags).map(Some)
}

fn from_flags(flags: Flags) -> Result<Option<Stack>, String> {
    let Some(data_bucket) = flags.data_bucket else {
        let others = [
            &flags.state_machine_arn,
            &flags.snapshot_bucket,
            &flags.secret_prefix,
        ];
        if others.iter().any(|f| f.is_some()) {
            return Err("give --stack NAME (or --bucket with the stack's other resources)".into());
        }
        return Ok(None);
    };
    let need = |value: Option<String>, flag: &str| {
        value.ok_or_else(|| format!("--bucket needs {flag} too, or give --stack NAME instead"))
    };
    Ok(Some(Stack {
        data_bucket,
        state_machine_arn: need(flags.state_machine_arn, "--state-machine-arn")?,
        snapshot_bucket: need(flags.snapshot_bucket, "--snapshot-bucket")?,
        snapshot_prefix: flags.snapshot_prefix.unwrap_or_default(),
        allowed_hosts: flags.allowed_hosts.unwrap_or_default(),
        secret_prefix: need(flags.secret_prefix, "--secret-prefix")?,
        force_path_style: flags.force_path_style,
    }))
}

/// The stack `described` says, with the flags given explicitly taking precedence.
pub fn merge(
    described: &StackDescription,
    flags: Flags,
) -> Result<(Stack, Option<Deployed>), String> {
    let pick = |given: Option<String>, found: Result<&str, String>| match given {
        Some(value) => Ok(value),
        None => found.map(str::to_string),
    };
    let parameter = |key: &str| described.parameters.get(key).cloned();
    let stack = Stack {
        data_bucket: pick(flags.data_bucket, described.output("DataBucketName"))?,
        state_machine_arn: pick(flags.state_machine_arn, described.output("StateMachineArn"))?,
        snapshot_bucket: pick(flags.snapshot_bucket, described.parameter("SnapshotBucket"))?,
        snapshot_prefix: flags
            .snapshot_prefix
            .or_else(|| parameter("SnapshotPrefix"))
            .unwrap_or_default(),
        allowed_hosts: flags.allowed_hosts.unwrap_or_else(|| {
            let hosts = parameter("AllowedAutopilotHosts").unwrap_or_default();
            hosts
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(str::to_string)
                .collect()
        }),
        secret_prefix: flags
            .secret_prefix
            .unwrap_or_else(|| format!("{}/", described.name)),
        force_path_style: flags.force_path_style,
    };
    let schedule = parameter("ScheduleExpression").map(|expression| Deployed {
        expression,
        enabled: parameter("ScheduleState").is_none_or(|s| s != "DISABLED"),
        anchor: described
            .created_at
            .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
            .unwrap_or_default(),
    });
    Ok((stack, schedule))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described() -> StackDescription {
        let pairs = |items: &[(&str, &str)]| {
            items
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        StackDescription {
            name: "shop".into(),
            outputs: pairs(&[
                ("DataBucketName", "shop-data"),
                (
                    "StateMachineArn",
                    "arn:aws:states:us-east-1:1:stateMachine:x",
                ),
            ]),
            parameters: pairs(&[
                ("SnapshotBucket", "cdp"),
                ("SnapshotPrefix", "segments/"),
                ("AllowedAutopilotHosts", "a.example, b.example:8443"),
                ("ScheduleExpression", "cron(0 6 * * ? *)"),
                ("ScheduleState", "ENABLED"),
            ]),
            created_at: Some(1_767_225_600),
        }
    }

    #[test]
    fn the_stack_fills_what_the_flags_do_not_give() {
        let flags = Flags {
            stack: Some("shop".into()),
            snapshot_prefix: Some("other/".into()),
            ..Flags::default()
        };
        let (stack, schedule) = merge(&described(), flags).unwrap();
        assert_eq!(stack.data_bucket, "shop-data");
        assert_eq!(
            stack.state_machine_arn,
            "arn:aws:states:us-east-1:1:stateMachine:x"
        );
        assert_eq!(stack.snapshot_bucket, "cdp");
        assert_eq!(stack.snapshot_prefix, "other/");
        assert_eq!(stack.allowed_hosts, ["a.example", "b.example:8443"]);
        assert_eq!(stack.secret_prefix, "shop/");
        let schedule = schedule.unwrap();
        assert_eq!(schedule.expression, "cron(0 6 * * ? *)");
        assert!(schedule.enabled);
        assert_eq!(schedule.anchor.to_rfc3339(), "2026-01-01T00:00:00+00:00");
    }

    #[test]
    fn a_missing_output_is_named_with_the_fix_unless_a_flag_gives_it() {
        let mut old = described();
        old.outputs.remove("StateMachineArn");
        let flags = Flags::default();
        let e = merge(&old, flags.clone()).unwrap_err();
        assert!(
            e.contains("the stack 'shop' has no output StateMachineArn"),
            "{e}"
        );
        assert!(e.contains("sam deploy"), "{e}");
        let given = Flags {
            state_machine_arn: Some("arn:given".into()),
            ..flags
        };
        assert_eq!(merge(&old, given).unwrap().0.state_machine_arn, "arn:given");
    }

    #[test]
    fn without_a_stack_the_flags_name_everything_or_nothing() {
        assert!(from_flags(Flags::default()).unwrap().is_none());
        let partial = Flags {
            data_bucket: Some("b".into()),
            ..Flags::default()
        };
        let e = from_flags(partial).unwrap_err();
        assert!(e.contains("--state-machine-arn"), "{e}");
        let stray = Flags {
            secret_prefix: Some("s/".into()),
            ..Flags::default()
        };
        assert!(from_flags(stray).unwrap_err().contains("--stack NAME"));
    }
}
