//! `accounts` (docs/api/jsonapi.md): users as JSON:API resources, with
//! invitations.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::Value;

use super::document::shapes::{Collection, Input, Single};
use super::document::{self, drop_read_only, Fields, Resource};
use super::error::{JsonApiError, JsonApiResult};
use super::query::{self, FieldKind, FieldNames, FilterField, Spec};
use super::{attributes, opt_timestamp, path_id, timestamp, Body, Request};
use crate::api::extract::{nullable, present};
use crate::api::openapi::schemas::JsonApiList;
use crate::api::openapi::JSONAPI;
use crate::domain::list::Listing;
use crate::domain::user::{UserQuery, UserSort, UserStatus};
use crate::domain::Error;
use crate::service::accounts::AccountChanges;
use crate::service::passwords::Password;
use crate::service::users::{NewUser, ProfileChanges, RoleChoice, UserDetails};
use crate::service::{accounts, invitations, organizations, users, App, Gate};

pub const KIND: &str = "accounts";

/// Attributes and relationships, as `fields[accounts]` names them.
pub const FIELDS: &[&str] = &[
    "name",
    "email",
    "user_name",
    "sso_channel",
    "enabled",
    "status",
    "role_name",
    "role_scope",
    "picture_url",
    "joined_at",
    "invitation_expired_at",
    "created_at",
    "updated_at",
    "organization",
];

/// Sent back by clients, never changed by them.
const READ_ONLY: &[&str] = &[
    "status",
    "joined_at",
    "invitation_expired_at",
    "created_at",
    "updated_at",
];

/// The filter fields of accounts (docs/api/jsonapi.md, The query language).
pub static SPEC: Spec = Spec {
    kind: KIND,
    filters: &[
        FilterField::new("id", FieldKind::Id),
        FilterField::new("name", FieldKind::Text { ci: true }),
        // null for an account without email (docs/api/jsonapi.md).
        FilterField::nullable("email", FieldKind::Text { ci: true }),
        FilterField::new("user_name", FieldKind::Text { ci: true }),
        FilterField::nullable("password_reset_token", FieldKind::Text { ci: false }),
        FilterField::nullable("password_reset_token_expires_at", FieldKind::Time),
        FilterField::nullable("sso_channel", FieldKind::Text { ci: true }),
        FilterField::new("enabled", FieldKind::Bool),
        FilterField::nullable("role_name", FieldKind::Text { ci: true }),
        FilterField::nullable("role_scope", FieldKind::Text { ci: false }),
        FilterField::nullable("picture_url", FieldKind::Text { ci: false }),
        FilterField::nullable("joined_at", FieldKind::Time),
        FilterField::nullable("invitation_expired_at", FieldKind::Time),
        FilterField::new("created_at", FieldKind::Time),
        FilterField::new("updated_at", FieldKind::Time),
    ],
    role_scope_filter: true,
    sorts: &[
        "name",
        "email",
        "user_name",
        "enabled",
        "sso_channel",
        "joined_at",
        "invitation_expired_at",
        "created_at",
        "updated_at",
    ],
    fields: FIELDS,
    includes: &["organization"],
};

/// The types an accounts document may show.
pub const TYPES: FieldNames = &[
    (KIND, FIELDS),
    (super::organizations::KIND, super::organizations::FIELDS),
];

fn sort_key(name: &str) -> UserSort {
    match name {
        "name" => UserSort::Name,
        "email" => UserSort::Email,
        "user_name" => UserSort::UserName,
        "enabled" => UserSort::Enabled,
        "sso_channel" => UserSort::SsoChannel,
        "joined_at" => UserSort::JoinedAt,
        "invitation_expired_at" => UserSort::InvitationExpiresAt,
        "updated_at" => UserSort::UpdatedAt,
        _ => UserSort::CreatedAt,
    }
}

/// An account as a resource object. `role_name`/`role_scope` show the
/// account's first role (owner, admin, custom roles, member).
pub fn resource(d: &UserDetails) -> Resource {
    let u = &d.user;
    let role = d.assignments.first();
    Resource::new(KIND, u.id)
        .attr("name", u.name.full())
        .attr("email", u.email.clone())
        .attr("user_name", u.user_name.clone())
        .attr("sso_channel", u.account.sso_channel.clone())
        .attr("enabled", u.status != UserStatus::Suspended)
        .attr("status", u.status.as_str())
        .attr("role_name", role.map(|r| r.role_name.clone()))
        .attr("role_scope", role.map(|r| r.scope.clone()))
        .attr("picture_url", u.account.picture_url.clone())
        .attr("joined_at", opt_timestamp(u.account.joined_at))
        .attr(
            "invitation_expired_at",
            opt_timestamp(u.account.invitation_expires_at),
        )
        .attr("created_at", timestamp(u.created_at))
        .attr("updated_at", timestamp(u.updated_at))
        .to_one(
            "organization",
            super::organizations::KIND,
            u.account.organization_id.map(|o| o.to_string()),
        )
}

/// The organizations of `accounts`, when `included` asks for them.
async fn included(
    app: &App,
    caller: &crate::domain::principal::Caller,
    accounts: &[Resource],
    include: &[&str],
) -> Result<Vec<Resource>, Error> {
    if !include.contains(&"organization") {
        return Ok(Vec::new());
    }
    let mut ids: Vec<uuid::Uuid> = accounts
        .iter()
        .filter_map(|a| a.related("organization"))
        .filter_map(|(_, id)| id.parse().ok())
        .collect();
    ids.sort();
    ids.dedup();
    let orgs = organizations::find_many(app, caller, &ids).await?;
    Ok(orgs.iter().map(super::organizations::resource).collect())
}

#[utoipa::path(get, path = "/api/v1/accounts", tag = JSONAPI,
    description = "Filters are `filter[<field>__<op>]=value` (ops: eq, ne, match, in, lt, lte, gt, gte, null); sparse fieldsets `fields[<type>]=a,b`.",
    params(JsonApiList,
        ("include" = Option<String>, Query, description = "Related resources to include (`included=` is accepted too)")),
    responses((status = 200, description = "The tenant's accounts", content_type = "application/vnd.api+json", body = Collection)))]
pub async fn index(gate: Data<Gate>, r: Request) -> JsonApiResult<HttpResponse> {
    let caller = r.caller()?;
    let q = query::parse_list(&r.query, &SPEC, TYPES)?;
    let (fields, counted) = (q.fields.clone(), q.count);
    let (listing, included) = gate
        .run(move |app| async move {
            let query = UserQuery {
                filter: q.filter_spec(&SPEC),
                sort: q.sort.iter().map(|(n, o)| (sort_key(n), *o)).collect(),
                page: q.page,
                skip_count: !q.count,
                ..Default::default()
            };
            let listing = users::list(&app, &caller, query).await?;
            let listing: Listing<Resource> = listing.map(|d| resource(&d));
            let included = included(&app, &caller, &listing.items, &q.include).await?;
            Ok::<_, Error>((listing, included))
        })
        .await?;
    Ok(document::collection(
        KIND, &listing, counted, &included, &fields, &r.query,
    ))
}

#[utoipa::path(get, path = "/api/v1/accounts/{id}", tag = JSONAPI,
    params(("include" = Option<String>, Query, description = "Related resources to include")),
    responses((status = 200, description = "The account", content_type = "application/vnd.api+json", body = Single)))]
pub async fn show(gate: Data<Gate>, r: Request, id: Path<String>) -> JsonApiResult<HttpResponse> {
    let caller = r.caller()?;
    let id = path_id(&id, "Account")?;
    let q = query::parse_show(&r.query, &SPEC, TYPES)?;
    let fields = q.fields.clone();
    let (account, included) = gate
        .run(move |app| async move {
            let account = resource(&users::get(&app, &caller, id).await?);
            let included =
                included(&app, &caller, std::slice::from_ref(&account), &q.include).await?;
            Ok::<_, Error>((account, included))
        })
        .await?;
    Ok(document::single(
        StatusCode::OK,
        &account,
        &included,
        &fields,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateAttributes {
    name: String,
    /// Optional when `user_name` is given: such an account signs in by its
    /// user name and is not invited (nothing can be mailed to it).
    #[serde(default, deserialize_with = "present")]
    email: Option<String>,
    #[serde(default, deserialize_with = "present")]
    user_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    password: Option<Password>,
    #[serde(default, deserialize_with = "present")]
    role_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    role_scope: Option<String>,
    #[serde(default)]
    picture_url: Option<String>,
    #[serde(default)]
    sso_channel: Option<String>,
    #[serde(default, deserialize_with = "present")]
    enabled: Option<bool>,
}

const RELATIONSHIPS: &[(&str, &str)] = &[("organization", super::organizations::KIND)];

/// The organization a document names: a UUID of the tenant's, or nothing.
fn organization(incoming: &document::Incoming) -> Result<Option<Option<uuid::Uuid>>, Error> {
    match incoming.relationships.get("organization") {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(id)) => uuid::Uuid::parse_str(id)
            .map(|u| Some(Some(u)))
            .map_err(|_| Error::NotFound("Organization")),
    }
}

/// Creates an account. Without a password it is invited: pending until
/// its owner joins through the mailed link. Answers 200 with the account.
#[utoipa::path(post, path = "/api/v1/accounts", tag = JSONAPI,
    description = "Attributes: name, email (or user_name), user_name?, password?, enabled?, role_name?, role_scope?, picture_url?, sso_channel?; relationship organization?.",
    request_body(content = Input, content_type = "application/vnd.api+json"),
    responses((status = 201, description = "Created; without a password the account is invited (pending until it joins)", content_type = "application/vnd.api+json", body = Single)))]
pub async fn create(gate: Data<Gate>, r: Request, body: Body) -> JsonApiResult<HttpResponse> {
    let caller = r.caller()?;
    query::no_parameters(&r.query)?;
    let mut incoming = document::read(body.0, KIND, None, RELATIONSHIPS)?;
    drop_read_only(&mut incoming.attributes, READ_ONLY);
    let organization_id = organization(&incoming)?.flatten();
    let a: CreateAttributes = attributes(incoming.attributes)?;
    let role = match (a.role_name, a.role_scope) {
        (None, None) => None,
        (name, scope) => Some(RoleChoice {
            name: name.unwrap_or_else(|| "member".into()),
            scope: scope.unwrap_or_else(|| "/".into()),
        }),
    };
    let input = NewUser {
        email: a.email,
        user_name: a.user_name,
        name: Some(a.name),
        password: a.password,
        organization_id,
        picture_url: a.picture_url,
        sso_channel: a.sso_channel,
        role,
        invite: true,
        suspended: a.enabled == Some(false),
        // The JSON:API dialect has no verification step: an administrator
        // creates the account for a known address, and an invitation proves it
        // anyway.
        skip_email_verification: true,
        ..Default::default()
    };
    let origin = r.origin;
    let account = gate
        .run(move |app| async move {
            users::create(&app, &caller, input, &origin)
                .await
                .map(|d| resource(&d))
        })
        .await?;
    Ok(document::created(&account))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateAttributes {
    #[serde(default, deserialize_with = "present")]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    email: Option<String>,
    #[serde(default, deserialize_with = "present")]
    enabled: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    role_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    role_scope: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    picture_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    sso_channel: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/api/v1/accounts/{id}", tag = JSONAPI,
    request_body(content = Input, content_type = "application/vnd.api+json"),
    responses((status = 200, description = "Updated", content_type = "application/vnd.api+json", body = Single)))]
pub async fn update(
    gate: Data<Gate>,
    r: Request,
    id: Path<String>,
    body: Body,
) -> JsonApiResult<HttpResponse> {
    let caller = r.caller()?;
    query::no_parameters(&r.query)?;
    let id_text = id.into_inner();
    let id = path_id(&id_text, "Account")?;
    let mut incoming = document::read(body.0, KIND, Some(&id_text), RELATIONSHIPS)?;
    drop_read_only(&mut incoming.attributes, READ_ONLY);
    let organization_id = organization(&incoming)?;
    let a: UpdateAttributes = attributes(incoming.attributes)?;
    let changes = AccountChanges {
        profile: ProfileChanges {
            email: a.email,
            name: a.name,
            picture_url: a.picture_url,
            sso_channel: a.sso_channel,
            organization_id,
            ..Default::default()
        },
        enabled: a.enabled,
        role_name: a.role_name,
        role_scope: a.role_scope,
    };
    let origin = r.origin;
    let account = gate
        .run(move |app| async move {
            accounts::update(&app, &caller, id, changes, &origin)
                .await
                .map(|d| resource(&d))
        })
        .await?;
    Ok(document::single(
        StatusCode::OK,
        &account,
        &[],
        &Fields::new(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/accounts/{id}", tag = JSONAPI,
    responses((status = 204, description = "Deleted")))]
pub async fn delete(gate: Data<Gate>, r: Request, id: Path<String>) -> JsonApiResult<HttpResponse> {
    let caller = r.caller()?;
    query::no_parameters(&r.query)?;
    let id = path_id(&id, "Account")?;
    let origin = r.origin;
    gate.run(move |app| async move { users::delete(&app, &caller, id, &origin).await })
        .await?;
    Ok(document::no_content())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JoinAttributes {
    password: Password,
}

/// Accepts an invitation (`join`): the token from the mailed link
/// and the password the owner chose; 204.
#[utoipa::path(patch, path = "/api/v1/accounts/{token}/join", tag = JSONAPI,
    description = "The token from the mailed invitation link; attributes: password (and name?).",
    request_body(content = Input, content_type = "application/vnd.api+json"),
    security(()),
    responses((status = 204, description = "Joined: the invitation is accepted and the password set")))]
pub async fn join(
    gate: Data<Gate>,
    r: Request,
    token: Path<String>,
    body: Body,
) -> JsonApiResult<HttpResponse> {
    query::no_parameters(&r.query)?;
    let token = token.into_inner();
    let (fields, wrapped) = document::plain_or_attributes(body.0)?;
    let a: JoinAttributes = attributes(fields).map_err(|e| {
        if wrapped {
            JsonApiError::from(e)
        } else {
            JsonApiError::plain(e)
        }
    })?;
    let origin = r.origin;
    gate.run(move |app| async move { invitations::join(&app, &token, a.password, &origin).await })
        .await
        .map_err(|e| match e {
            // The token is in the path, not the body.
            Error::Validation(f) if f.iter().any(|f| f.field == "token") => JsonApiError::from(
                Error::invalid("", format!("The invitation token {}", f[0].message)),
            ),
            other if wrapped => other.into(),
            other => JsonApiError::plain(other),
        })?;
    Ok(document::no_content())
}

/// Mails a fresh invitation to a pending account; the old link stops
/// working; 204.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/resend_invitation", tag = JSONAPI,
    responses((status = 204, description = "A fresh invitation is mailed; the old link stops working")))]
pub async fn resend_invitation(
    gate: Data<Gate>,
    r: Request,
    id: Path<String>,
    body: Body,
) -> JsonApiResult<HttpResponse> {
    let caller = r.caller()?;
    query::no_parameters(&r.query)?;
    let id = path_id(&id, "Account")?;
    match body.0 {
        Value::Null => {}
        Value::Object(o) if o.is_empty() || o.contains_key("data") || o.contains_key("meta") => {}
        _ => return Err(Error::invalid("body", "must be empty or a JSON object").into()),
    }
    let origin = r.origin;
    gate.run(move |app| async move { invitations::resend(&app, &caller, id, &origin).await })
        .await?;
    Ok(document::no_content())
}
