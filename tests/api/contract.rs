//! Every response any test receives is checked against the OpenAPI document the server
//! publishes: the status must be documented for the operation, the content type must be one
//! the response lists, and a JSON body must validate against its schema. The check sits in
//! the test HTTP client (an `awc` connector middleware), so it covers every request every
//! test sends, including tests written later. A schema that lies fails the suite.
//!
//! Paths the document does not describe are the fallback's (404, 405, answered with a
//! `Problem`), the docs UI, the document itself, and the test suite's own `/probe/` routes.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex, OnceLock};

use actix_http::{Method, Payload};
use actix_service::Service;
use actix_web::dev::ResourceDef;
use awc::error::SendRequestError;
use awc::middleware::Transform;
use awc::{ConnectRequest, ConnectResponse};
use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

/// The largest response body a test reads.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Paths outside the document on purpose.
fn undocumented(path: &str) -> bool {
    path == "/docs"
        || path.starts_with("/docs/")
        || path == "/"
        || path == "/app"
        || path.starts_with("/app/")
        || path == "/shop"
        || path.starts_with("/shop/")
        || path == "/api/v1/openapi.json"
        || path.starts_with("/probe/")
}

struct Contract {
    doc: Value,
    /// Each documented path template, literal ones first so that `/locations/import` is not
    /// taken for `/locations/{id}`.
    templates: Vec<(ResourceDef, String)>,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let doc = serde_json::to_value(secondmile::openapi::document())
            .expect("the OpenAPI document serializes");
        let mut templates: Vec<(ResourceDef, String)> = doc["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .map(|p| (ResourceDef::new(p.as_str()), p.clone()))
            .collect();
        templates.sort_by_key(|(_, p)| p.contains('{'));
        Contract {
            doc,
            templates,
            validators: Mutex::new(HashMap::new()),
        }
    })
}

impl Contract {
    /// A validator for `schema` (an inline schema of the document), with the document's
    /// components in reach of its `$ref`s.
    fn validator(&self, key: &str, schema: &Value) -> Arc<jsonschema::Validator> {
        let mut cache = self.validators.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = cache.get(key) {
            return v.clone();
        }
        let mut root = schema.clone();
        if let Some(object) = root.as_object_mut() {
            object.insert("components".into(), self.doc["components"].clone());
            object.insert(
                "$schema".into(),
                json!("https://json-schema.org/draft/2020-12/schema"),
            );
        }
        let validator = Arc::new(
            jsonschema::validator_for(&root)
                .unwrap_or_else(|e| panic!("the schema for {key} does not compile: {e}")),
        );
        cache.insert(key.to_string(), validator.clone());
        validator
    }

    fn validate(&self, key: &str, schema: &Value, body: &Value) -> Result<(), String> {
        let errors: Vec<String> = self
            .validator(key, schema)
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the body does not match the schema: {}",
                errors.join("; ")
            ))
        }
    }

    /// Checks one response of `method path`.
    fn check(
        &self,
        method: &Method,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(), String> {
        if undocumented(path) {
            return Ok(());
        }
        // A CORS preflight answered by the CORS layer (only for listed origins).
        if method == Method::OPTIONS && status == 200 && body.is_empty() {
            return Ok(());
        }
        let template = self
            .templates
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, template)| template.as_str());
        // HEAD is answered as the GET of the same path, without the body.
        let documented = if method == Method::HEAD {
            "get".to_string()
        } else {
            method.as_str().to_ascii_lowercase()
        };
        let operation = template.and_then(|t| {
            let item = &self.doc["paths"][t][documented.as_str()];
            item.is_object().then_some((t, item))
        });
        let Some((template, operation)) = operation else {
            // The fallback: an unknown path or a method the path does not have.
            if ![404, 405].contains(&status) {
                return Err(format!("an undocumented route answered {status}"));
            }
            return self.check_body(
                "fallback",
                &json!({"$ref": "#/components/schemas/Problem"}),
                content_type,
                "application/problem+json",
                body,
            );
        };
        let op = format!("{} {template} {status}", method.as_str());
        let Some(response) = operation["responses"].get(status.to_string()) else {
            return Err(format!("{op}: status {status} is not documented"));
        };
        if body.is_empty() {
            return Ok(());
        }
        let Some(content) = response["content"].as_object() else {
            return Err(format!(
                "{op}: a body came, but the response documents none"
            ));
        };
        let media = content_type
            .map(|c| c.split(';').next().unwrap_or("").trim().to_string())
            .unwrap_or_default();
        let declared = content
            .iter()
            .find(|(listed, _)| listed.split(';').next().unwrap_or("").trim() == media)
            .map(|(_, declared)| declared);
        let Some(declared) = declared else {
            let listed: Vec<&String> = content.keys().collect();
            return Err(format!(
                "{op}: content type `{media}` is not among the documented {listed:?}"
            ));
        };
        if !(media == "application/json" || media.ends_with("+json")) {
            return Ok(());
        }
        let body: Value = serde_json::from_slice(body)
            .map_err(|e| format!("{op}: the body is not JSON ({e})"))?;
        match declared.get("schema") {
            Some(schema) => self
                .validate(&format!("{op} {media}"), schema, &body)
                .map_err(|e| format!("{op}: {e}: {body}")),
            None => Ok(()),
        }
    }

    fn check_body(
        &self,
        key: &str,
        schema: &Value,
        content_type: Option<&str>,
        expected: &str,
        body: &[u8],
    ) -> Result<(), String> {
        if body.is_empty() {
            return Ok(());
        }
        let media = content_type.unwrap_or("").split(';').next().unwrap_or("");
        if media.trim() != expected {
            return Err(format!(
                "{key}: content type `{media}`, expected `{expected}`"
            ));
        }
        let body: Value =
            serde_json::from_slice(body).map_err(|e| format!("{key}: not JSON ({e})"))?;
        self.validate(key, schema, &body)
            .map_err(|e| format!("{key}: {e}: {body}"))
    }
}

/// The client middleware that checks every response.
pub struct ContractCheck;

impl<S> Transform<S, ConnectRequest> for ContractCheck
where
    S: Service<ConnectRequest, Response = ConnectResponse, Error = SendRequestError> + 'static,
{
    type Transform = ContractService<S>;

    fn new_transform(self, service: S) -> Self::Transform {
        ContractService(Rc::new(service))
    }
}

pub struct ContractService<S>(Rc<S>);

impl<S> Service<ConnectRequest> for ContractService<S>
where
    S: Service<ConnectRequest, Response = ConnectResponse, Error = SendRequestError> + 'static,
{
    type Response = ConnectResponse;
    type Error = SendRequestError;
    type Future = LocalBoxFuture<'static, Result<ConnectResponse, SendRequestError>>;

    fn poll_ready(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&self, req: ConnectRequest) -> Self::Future {
        let target = match &req {
            ConnectRequest::Client(head, _, _) => {
                let head = head.as_ref();
                Some((head.method.clone(), head.uri.path().to_string()))
            }
            ConnectRequest::Tunnel(..) => None,
        };
        let service = self.0.clone();
        Box::pin(async move {
            let response = service.call(req).await?;
            let (Some((method, path)), ConnectResponse::Client(mut response)) = (target, response)
            else {
                unreachable!("the API has no tunnelled (WebSocket) connections");
            };
            let body = response
                .body()
                .limit(BODY_LIMIT)
                .await
                .unwrap_or_else(|e| panic!("read the body of {method} {path}: {e}"));
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            if let Err(problem) = contract().check(
                &method,
                &path,
                response.status().as_u16(),
                content_type.as_deref(),
                &body,
            ) {
                panic!("response breaks the OpenAPI document: {method} {path}: {problem}");
            }
            Ok(ConnectResponse::Client(
                response.map_body(|_, _| Payload::from(body)),
            ))
        })
    }
}

#[test]
fn the_contract_check_refuses_what_the_document_does_not_say() {
    let c = contract();
    let get = Method::GET;
    let json = Some("application/json");
    // A body missing required fields, an undocumented status, an undocumented content type.
    assert!(c.check(&get, "/api/v1/me", 200, json, b"{}").is_err());
    assert!(c.check(&get, "/api/v1/me", 299, json, b"{}").is_err());
    assert!(
        c.check(&get, "/api/v1/me", 200, Some("text/html"), b"<p>")
            .is_err()
    );
    // An answer value of a type no question takes.
    let page = br#"{"items": [{"question": "q", "value": {"nested": 1}}], "next_cursor": null}"#;
    let answer = c.check(&get, "/api/v1/reports", 200, json, page);
    assert!(answer.is_err(), "{answer:?}");
    // The fallback answers problems only.
    let problem = br#"{"type": "urn:secondmile:problem:not_found", "title": "Not Found", "status": 404, "code": "not_found"}"#;
    let fallback = Some("application/problem+json");
    assert_eq!(c.check(&get, "/nowhere", 404, fallback, problem), Ok(()));
    assert!(c.check(&get, "/nowhere", 200, json, b"{}").is_err());
}
