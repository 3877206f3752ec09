//! The api function: serves every route of the HTTP API (API Gateway HTTP API, payload v2,
//! IAM-authorised), connect (`POST /destinations`) among them.

use api::{Api, Caller};
use lambda_glue as lambda;
use lambda_http::{service_fn, Body, Error, Request, Response};

async fn serve(api: &Api, request: Request) -> Result<Response<Body>, Error> {
    let caller = Caller::of(&request);
    let answer = api
        .handle(
            request.method().as_str(),
            request
                .uri()
                .path_and_query()
                .map_or(request.uri().path(), |p| p.as_str()),
            request.body().as_ref(),
            &caller,
        )
        .await;
    tracing::info!(method = %request.method(), status = answer.status, request_id = %caller.request_id, "request answered");
    Ok(Response::builder()
        .status(answer.status)
        .header("content-type", "application/json")
        .body(Body::Text(answer.body.to_string()))?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::memory::tune();
    lambda::init_logs();
    let (deps, settings) = lambda::deps().await?;
    let api = Api {
        deps,
        launcher: std::sync::Arc::new(lambda::executions(&settings).await?),
        default_requests_per_second: settings.default_requests_per_second,
        boundary: settings.boundary()?,
    };
    lambda_http::run(service_fn(|request| serve(&api, request))).await
}
