//! A deployed stack's outputs and parameters, read with CloudFormation `DescribeStacks`, for the
//! tools that work on a stack from outside it (the console's `--stack NAME`). A stack that does
//! not exist, or lacks an output or parameter asked for, is an error that names it and says what
//! to do.

use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use std::collections::BTreeMap;

/// What `DescribeStacks` says of one stack.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackDescription {
    pub name: String,
    pub outputs: BTreeMap<String, String>,
    pub parameters: BTreeMap<String, String>,
    /// When the stack was created, in seconds since 1970 (UTC).
    pub created_at: Option<i64>,
}

impl StackDescription {
    /// The output `key`, or an error naming the stack, the output and the fix.
    pub fn output(&self, key: &str) -> Result<&str, String> {
        self.outputs.get(key).map(String::as_str).ok_or_else(|| {
            format!(
                "the stack '{}' has no output {key}: deploy the current template (sam deploy) or give the value with its flag",
                self.name
            )
        })
    }

    /// The parameter `key`, or an error naming the stack, the parameter and the fix.
    pub fn parameter(&self, key: &str) -> Result<&str, String> {
        self.parameters.get(key).map(String::as_str).ok_or_else(|| {
            format!(
                "the stack '{}' has no parameter {key}: deploy the current template (sam deploy) or give the value with its flag",
                self.name
            )
        })
    }
}

/// Describes the stack `name` with `client`.
pub async fn describe(
    client: &aws_sdk_cloudformation::Client,
    name: &str,
) -> Result<StackDescription, String> {
    let answer = client
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| {
            let message = e.as_service_error().and_then(|s| s.message()).unwrap_or("");
            if message.contains("does not exist") {
                missing(name)
            } else {
                tracing::warn!(stack = name, error = ?e, "DescribeStacks failed");
                let code = e.as_service_error().and_then(|s| s.code());
                format!(
                    "the stack '{name}' cannot be read ({}): check your AWS credentials (they need cloudformation:DescribeStacks) and region",
                    code.unwrap_or("no answer from CloudFormation")
                )
            }
        })?;
    let stack = answer
        .stacks()
        .iter()
        .find(|s| s.stack_name() == Some(name) || s.stack_id() == Some(name))
        .or_else(|| answer.stacks().first())
        .ok_or_else(|| missing(name))?;
    let outputs = stack
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
        .collect();
    let parameters = stack
        .parameters()
        .iter()
        .filter_map(|p| {
            let value = p.resolved_value().or(p.parameter_value())?;
            Some((p.parameter_key()?.to_string(), value.to_string()))
        })
        .collect();
    Ok(StackDescription {
        name: stack.stack_name().unwrap_or(name).to_string(),
        outputs,
        parameters,
        created_at: stack.creation_time().map(|t| t.secs()),
    })
}

fn missing(name: &str) -> String {
    format!(
        "there is no stack '{name}' in this account and region: check the name (aws cloudformation describe-stacks) and the region (AWS_REGION)"
    )
}
