//! Shapes the handlers build with `json!` rather than with a type: the
//! envelopes and error bodies of each dialect. They describe what
//! `api::error`, `ithbat::{ok, list, message}` and each dialect's error
//! module write; the schemathesis test checks every response against them.

use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// The native success envelope: `{"success": true, "data": ...}`.
#[derive(ToSchema)]
pub struct Success<T> {
    #[schema(value_type = bool, example = true)]
    pub success: bool,
    pub data: T,
}

/// `{"success": true, "message": "..."}`, with the extra fields some
/// operations add (a user, a count).
#[derive(ToSchema)]
#[schema(example = json!({"success": true, "message": "Role deleted"}))]
pub struct Message {
    pub success: bool,
    pub message: String,
}

/// The native list envelope: `data.{<key>, total}` and `pagination`.
#[derive(ToSchema)]
pub struct Listing<T> {
    pub success: bool,
    /// The items under the list's key (`users`, `roles`, ...) and `total`.
    pub data: T,
    pub pagination: Pagination,
}

#[derive(ToSchema)]
#[allow(non_snake_case)]
pub struct Pagination {
    #[schema(minimum = 1)]
    pub page: u64,
    #[schema(minimum = 1)]
    pub limit: u64,
    pub total: u64,
    pub totalPages: u64,
}

/// The native error envelope (`api::error::native_body`).
#[derive(ToSchema)]
#[schema(example = json!({"success": false, "error": {"code": "VALIDATION_ERROR", "message": "Validation failed", "details": [{"field": "email", "message": "is required"}]}}))]
pub struct NativeError {
    #[schema(value_type = bool, example = false)]
    pub success: bool,
    pub error: NativeErrorBody,
}

#[derive(ToSchema)]
pub struct NativeErrorBody {
    /// Machine-readable: `VALIDATION_ERROR`, `UNAUTHORIZED`, `FORBIDDEN`,
    /// `RESOURCE_NOT_FOUND`, `CONFLICT`, `RATE_LIMIT_EXCEEDED`, ...
    pub code: String,
    pub message: String,
    /// Present when the error is about fields.
    pub details: Option<Vec<FieldProblem>>,
}

#[derive(ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// A JSON:API error document (JSON:API 1.1, "Error Objects").
#[derive(ToSchema)]
pub struct JsonApiErrors {
    pub errors: Vec<JsonApiError>,
    #[schema(value_type = Object)]
    pub jsonapi: Value,
}

#[derive(ToSchema)]
pub struct JsonApiError {
    /// The HTTP status, as a string.
    pub status: String,
    pub code: String,
    pub title: String,
    pub detail: String,
    /// `{"pointer": ...}`, `{"parameter": ...}` or `{"header": ...}`.
    #[schema(value_type = Option<Object>)]
    pub source: Option<Value>,
}

/// RFC 7807 problem details, as the Aritma IAM API answers errors.
#[derive(ToSchema)]
#[schema(example = json!({"type": "https://tools.ietf.org/html/rfc9110#section-15.5.5", "title": "Not Found", "status": 404, "detail": "Client not found", "instance": "/core/iam/v1/clients/x", "code": "RESOURCE_NOT_FOUND"}))]
pub struct Problem {
    #[schema(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub instance: String,
    pub code: String,
    /// Field name -> messages, when the error is about fields.
    #[schema(value_type = Option<Object>)]
    pub errors: Option<Value>,
}

/// RFC 6749 5.2 error response.
#[derive(ToSchema)]
#[schema(example = json!({"error": "invalid_client", "error_description": "Client authentication failed"}))]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`,
    /// `unauthorized_client`, `unsupported_grant_type`, `invalid_scope`,
    /// `temporarily_unavailable`.
    pub error: String,
    pub error_description: String,
}

/// The native list parameters (`api::query::Query`): pages, search, sort.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(non_snake_case, dead_code)]
pub struct NativeList {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000)]
    page: Option<u32>,
    /// Items a page, 1 to 100 (`pageSize` is accepted too).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// Text the items' names or emails contain (`searchText` is accepted too).
    search: Option<String>,
    /// A sortable field, `-` first for descending.
    sort: Option<String>,
}

/// The JSON:API list parameters (`jsonapi::query`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct JsonApiList {
    /// `page[number]`, from 1.
    #[param(rename = "page[number]", minimum = 1)]
    page_number: Option<u32>,
    /// `page[size]`, 1 to 1000.
    #[param(rename = "page[size]", minimum = 1, maximum = 1000)]
    page_size: Option<u32>,
    /// Fields, comma-separated, `-` first for descending.
    sort: Option<String>,
    /// `true` to count the matches (`meta.count`).
    count: Option<bool>,
}

/// A JSON object whose members the operation's description names.
pub struct AnyObject;

impl utoipa::PartialSchema for AnyObject {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new().into()
    }
}

impl ToSchema for AnyObject {}
