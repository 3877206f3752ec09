//! Who is asking: the IAM principal API Gateway authenticated and the Lambda request id, read
//! from an HTTP API request (payload 2.0, IAM authorizer). The principal is what the audit trail
//! records; a name a request body gives is never taken for it.

/// Who is asking, as API Gateway and Lambda tell it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// The Lambda request id: the function's log holds the details of an error under it.
    pub request_id: String,
    /// The IAM principal API Gateway authenticated (its ARN, else its caller id).
    pub principal: Option<String>,
}

impl Caller {
    /// Who the audit trail names: the principal, or `unknown` (an API without IAM auth).
    pub fn name(&self) -> &str {
        self.principal.as_deref().unwrap_or("unknown")
    }

    /// The caller of an HTTP API request (payload 2.0, IAM authorizer).
    pub fn of(request: &lambda_http::Request) -> Self {
        use lambda_http::request::RequestContext;
        use lambda_http::RequestExt;
        let principal = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => context
                .authorizer
                .as_ref()
                .and_then(|a| a.iam.as_ref())
                .and_then(|iam| iam.user_arn.clone().or_else(|| iam.caller_id.clone())),
            _ => None,
        };
        Self {
            request_id: request
                .lambda_context_ref()
                .map(|c| c.request_id.clone())
                .unwrap_or_default(),
            principal: principal.filter(|p| !p.trim().is_empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Caller;

    fn request(authorizer: serde_json::Value) -> lambda_http::Request {
        let event = serde_json::json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/destinations",
            "rawQueryString": "", "headers": {},
            "requestContext": {
                "accountId": "123456789012", "apiId": "api", "requestId": "gw-1",
                "routeKey": "$default", "stage": "$default", "timeEpoch": 0,
                "http": {"method": "POST", "path": "/destinations", "protocol": "HTTP/1.1",
                         "sourceIp": "127.0.0.1", "userAgent": "test"},
                "authorizer": authorizer,
            },
            "isBase64Encoded": false,
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    #[test]
    fn the_caller_is_the_iam_principal_api_gateway_authenticated() {
        let user = "arn:aws:iam::123456789012:user/alice";
        let both =
            request(serde_json::json!({"iam": {"userArn": user, "callerId": "AIDAEXAMPLE"}}));
        assert_eq!(Caller::of(&both).principal.as_deref(), Some(user));
        let id_only = request(serde_json::json!({"iam": {"callerId": "AIDAEXAMPLE"}}));
        assert_eq!(
            Caller::of(&id_only).principal.as_deref(),
            Some("AIDAEXAMPLE")
        );
        assert_eq!(Caller::of(&request(serde_json::json!({}))).principal, None);
    }
}
