//! `POST /v1/person/custom-field/create` and `/v1/person/custom-field/get`: the account's custom
//! person fields (types, ids and limit in `schema`).
//!
//! Create takes `{"type", "name", "values" (single_select and multi_select only, required there),
//! "track_changes" (not for multi_select)}` and answers `{"name", "field_id", "display_type",
//! "track_changes"[, "values"]}`; a duplicate name, an unknown type or a full account is a 400
//! saying so. Get answers `{"fields": [{"field": {"id", "name", "display_type", "liquid_name"[,
//! "dic_items"]}, "tracked_value"}]}` in creation order.

use super::schema::{slug, NewField};
use super::{error, read_body, AppState};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

const SELECTS: [&str; 2] = ["single_select", "multi_select"];

/// A create request, checked (not yet against the account's fields).
fn new_field(request: &Value) -> Result<NewField, String> {
    let field_type = request
        .get("type")
        .and_then(Value::as_str)
        .ok_or("A custom field needs a \"type\", such as \"text\" or \"integer\"")?;
    if field_type == "aggregate" {
        return Err("aggregate fields cannot be created through the API".into());
    }
    let name = request
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or("A custom field needs a \"name\"")?;
    let select = SELECTS.contains(&field_type);
    let values = match request.get("values") {
        Some(values) if select => Some(
            values
                .as_array()
                .and_then(|v| v.iter().map(|v| v.as_str().map(str::to_string)).collect())
                .filter(|v: &Vec<String>| !v.is_empty())
                .ok_or("values must be a non-empty array of texts")?,
        ),
        None if select => return Err(format!("A {field_type} field needs \"values\"")),
        _ => None,
    };
    let track_changes = match request.get("track_changes") {
        None | Some(Value::Null) => false,
        Some(v) => v.as_bool().ok_or("track_changes must be true or false")?,
    };
    if track_changes && field_type == "multi_select" {
        return Err("multi_select fields cannot track changes".into());
    }
    Ok(NewField {
        field_type: field_type.to_string(),
        name: name.to_string(),
        values,
        track_changes,
    })
}

pub(super) async fn create(
    State(shared): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let field = match read_body(body).map(|request| new_field(&request)) {
        Ok(Ok(field)) => field,
        Ok(Err(message)) => return error(StatusCode::BAD_REQUEST, &message),
        Err(refusal) => return refusal,
    };
    let limit = shared.control().ortto.custom_field_limit;
    let mut store = shared.store();
    match store.ortto.create(field, limit) {
        Ok(made) => {
            let mut answer = json!({"name": made.name, "field_id": made.id,
                "display_type": made.display_type, "track_changes": made.track_changes});
            if let Some(values) = &made.values {
                answer["values"] = json!(values);
            }
            Json(answer).into_response()
        }
        Err(message) => error(StatusCode::BAD_REQUEST, &message),
    }
}

pub(super) async fn list(State(shared): State<AppState>) -> Response {
    let store = shared.store();
    let fields: Vec<Value> = store
        .ortto
        .custom_fields()
        .iter()
        .map(|f| {
            let mut field = json!({"id": f.id, "name": f.name, "display_type": f.display_type,
                "liquid_name": format!("people.custom.{}", slug(&f.name))});
            if let Some(values) = &f.values {
                field["dic_items"] = json!(values);
            }
            json!({"field": field, "tracked_value": f.track_changes})
        })
        .collect();
    Json(json!({ "fields": fields })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_requests_are_checked() {
        let text = new_field(&json!({"type": "text", "name": " Loyalty Tier "})).unwrap();
        assert_eq!((text.name.as_str(), text.values), ("Loyalty Tier", None));
        let select = json!({"type": "single_select", "name": "Plan", "values": ["A", "B"],
                            "track_changes": true});
        assert_eq!(new_field(&select).unwrap().values.unwrap(), ["A", "B"]);
        for bad in [
            json!({"name": "No type"}),
            json!({"type": "text"}),
            json!({"type": "text", "name": "  "}),
            json!({"type": "aggregate", "name": "Sum"}),
            json!({"type": "single_select", "name": "Plan"}),
            json!({"type": "multi_select", "name": "Plan", "values": []}),
            json!({"type": "multi_select", "name": "Plan", "values": ["a"], "track_changes": true}),
            json!({"type": "text", "name": "T", "track_changes": "yes"}),
        ] {
            assert!(new_field(&bad).is_err(), "{bad}");
        }
    }
}
