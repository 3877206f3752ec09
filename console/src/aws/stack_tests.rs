//! `--stack NAME` against moto's CloudFormation: a small stack with the template's outputs and
//! parameters is read into the console's settings; a stack that does not exist, or lacks an
//! output, is refused naming it.

use super::resolve::{resolve, Flags};

const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:export";

/// Creates a stack on moto with the outputs given (`DataBucketName` always) and returns its name.
async fn stack(with_machine: bool) -> String {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "this test needs moto: run it through scripts/test"
    );
    let mut outputs = serde_json::json!({ "DataBucketName": { "Value": { "Ref": "DataBucket" } } });
    if with_machine {
        outputs["StateMachineArn"] = serde_json::json!({ "Value": MACHINE });
    }
    let string = serde_json::json!({ "Type": "String" });
    let template = serde_json::json!({
        "Parameters": {
            "SnapshotBucket": string, "SnapshotPrefix": string, "AllowedAutopilotHosts": string,
            "ScheduleExpression": string, "ScheduleState": string,
        },
        "Resources": { "DataBucket": { "Type": "AWS::S3::Bucket" } },
        "Outputs": outputs,
    });
    let name = format!("console-stack-{}", fastrand::u32(..));
    let parameter = |key: &str, value: &str| {
        aws_sdk_cloudformation::types::Parameter::builder()
            .parameter_key(key)
            .parameter_value(value)
            .build()
    };
    let sdk = aws_adapters::sdk_config().await;
    aws_sdk_cloudformation::Client::new(&sdk)
        .create_stack()
        .stack_name(&name)
        .template_body(template.to_string())
        .parameters(parameter("SnapshotBucket", "cdp-snapshots"))
        .parameters(parameter("SnapshotPrefix", "segments/"))
        .parameters(parameter("AllowedAutopilotHosts", "sandbox.example:8443"))
        .parameters(parameter("ScheduleExpression", "cron(0 6 * * ? *)"))
        .parameters(parameter("ScheduleState", "ENABLED"))
        .send()
        .await
        .unwrap();
    name
}

fn named(stack: &str) -> Flags {
    Flags {
        stack: Some(stack.to_string()),
        ..Flags::default()
    }
}

#[tokio::test]
async fn a_stack_gives_the_console_its_resources_and_schedule() {
    let name = stack(true).await;
    let (stack, schedule) = resolve(named(&name)).await.unwrap().unwrap();
    assert!(!stack.data_bucket.is_empty());
    assert_eq!(stack.state_machine_arn, MACHINE);
    assert_eq!(stack.snapshot_bucket, "cdp-snapshots");
    assert_eq!(stack.snapshot_prefix, "segments/");
    assert_eq!(stack.allowed_hosts, ["sandbox.example:8443"]);
    assert_eq!(stack.secret_prefix, format!("{name}/"));
    let schedule = schedule.unwrap();
    assert_eq!(schedule.expression, "cron(0 6 * * ? *)");
    assert!(schedule.enabled);
    // An explicit flag wins over the stack's value.
    let flags = Flags {
        snapshot_bucket: Some("elsewhere".into()),
        ..named(&name)
    };
    let (stack, _) = resolve(flags).await.unwrap().unwrap();
    assert_eq!(stack.snapshot_bucket, "elsewhere");
}

#[tokio::test]
async fn a_missing_stack_or_output_is_named_with_the_fix() {
    let e = resolve(named("no-such-console-stack")).await.unwrap_err();
    assert!(
        e.contains("there is no stack 'no-such-console-stack'"),
        "{e}"
    );
    assert!(e.contains("AWS_REGION"), "{e}");
    let name = stack(false).await;
    let e = resolve(named(&name)).await.unwrap_err();
    assert!(
        e.contains(&format!("the stack '{name}' has no output StateMachineArn")),
        "{e}"
    );
}
