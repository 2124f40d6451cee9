//! The SCIM operations on Users and Groups, written once and called both
//! by the HTTP handlers and by Bulk: each takes the parsed request and
//! returns a `Reply` that either turns into an HTTP response or into a
//! bulk operation's result.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use serde_json::Value;
use uuid::Uuid;

use super::context::{Precondition, Scim};
use super::error::{ScimError, ScimResult, MEDIA_TYPE};
use super::list::{list_response, sort_key, ListParams, SortKey};
use super::patch;
use super::resources::{etag, group_json, group_record, user_json, user_record, Projection};
use super::schema::{Resource, ScimAttributes, GROUP, USER};
use crate::domain::filter::{FilterSpec, Names};
use crate::domain::group::{GroupQuery, GroupSort};
use crate::domain::list::PageRequest;
use crate::domain::user::{UserQuery, UserSort};
use crate::domain::Error;
use crate::service::{provisioning, App};

static USER_ATTRIBUTES: ScimAttributes = ScimAttributes(Resource::User);
static GROUP_ATTRIBUTES: ScimAttributes = ScimAttributes(Resource::Group);

/// The outcome of an operation, before it is an HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Option<Value>,
    /// The resource's version, sent as its ETag.
    pub version: Option<i32>,
    /// The resource's URL, sent as Location on creation.
    pub location: Option<String>,
}

impl Reply {
    fn resource(status: StatusCode, body: Value, version: i32) -> Reply {
        let location = body["meta"]["location"].as_str().map(str::to_string);
        Reply {
            status,
            body: Some(body),
            version: Some(version),
            location,
        }
    }

    fn empty(status: StatusCode, version: Option<i32>) -> Reply {
        Reply {
            status,
            body: None,
            version,
            location: None,
        }
    }

    pub fn into_response(self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        r.insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(v) = self.version {
            r.insert_header((header::ETAG, etag(v)));
        }
        if self.status == StatusCode::CREATED {
            if let Some(l) = &self.location {
                r.insert_header((header::LOCATION, l.as_str()));
            }
        }
        match self.body {
            Some(body) => r
                .insert_header((header::CONTENT_TYPE, MEDIA_TYPE))
                .body(body.to_string()),
            None => r.finish(),
        }
    }
}

fn core(resource: Resource) -> &'static str {
    match resource {
        Resource::User => USER,
        Resource::Group => GROUP,
    }
}

fn not_found(resource: Resource) -> Error {
    Error::NotFound(match resource {
        Resource::User => "User",
        Resource::Group => "Group",
    })
}

/// A resource id from a path: anything that is not one of ours is a 404.
pub fn resource_id(resource: Resource, raw: &str) -> ScimResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| not_found(resource).into())
}

/// GET a resource; 304 when If-None-Match names its current version.
pub async fn read(
    app: &App,
    scim: &Scim,
    resource: Resource,
    id: Uuid,
    projection: &Projection,
    if_none_match: Option<Precondition>,
) -> ScimResult<Reply> {
    let (body, version) = match resource {
        Resource::User => {
            let u = provisioning::get_user(app, &scim.caller, id).await?;
            (user_json(&u, &scim.base), u.user.version)
        }
        Resource::Group => {
            let members = projection.wants(GROUP, "members");
            let g = provisioning::get_group(app, &scim.caller, id, members).await?;
            (group_json(&g, &scim.base), g.group.version)
        }
    };
    if if_none_match.is_some_and(|p| p.matches(version)) {
        return Ok(Reply::empty(StatusCode::NOT_MODIFIED, Some(version)));
    }
    Ok(Reply::resource(
        StatusCode::OK,
        projection.apply(body, core(resource)),
        version,
    ))
}

fn user_sort(key: SortKey) -> Option<UserSort> {
    Some(match key {
        SortKey::UserName => UserSort::UserName,
        SortKey::GivenName => UserSort::FirstName,
        SortKey::FamilyName => UserSort::FamilyName,
        SortKey::Email => UserSort::Email,
        SortKey::Active => UserSort::Status,
        SortKey::ExternalId => UserSort::ExternalId,
        SortKey::Created => UserSort::CreatedAt,
        SortKey::LastModified => UserSort::UpdatedAt,
        SortKey::DisplayName => return None,
    })
}

fn group_sort(key: SortKey) -> Option<GroupSort> {
    Some(match key {
        SortKey::DisplayName => GroupSort::Name,
        SortKey::ExternalId => GroupSort::ExternalId,
        SortKey::Created => GroupSort::CreatedAt,
        SortKey::LastModified => GroupSort::UpdatedAt,
        _ => return None,
    })
}

/// A filtered, sorted page of a resource type.
pub async fn list(
    app: &App,
    scim: &Scim,
    resource: Resource,
    params: &ListParams,
) -> ScimResult<Reply> {
    let unsortable = |by: &str| {
        ScimError::invalid_value(format!(
            "sortBy: {by} is not an attribute this server sorts by"
        ))
    };
    let key = match &params.sort_by {
        Some(by) => Some(sort_key(resource, by).ok_or_else(|| unsortable(by))?),
        None => None,
    };
    let page = PageRequest::window(params.start_index - 1, params.count);
    let (resources, total) = match resource {
        Resource::User => {
            let sort = match key {
                Some(k) => Some((
                    user_sort(k)
                        .ok_or_else(|| unsortable(params.sort_by.as_deref().unwrap_or("")))?,
                    params.order,
                )),
                None => None,
            };
            let query = UserQuery {
                filter: params.filter.as_ref().map(|filter| FilterSpec {
                    filter,
                    attrs: &USER_ATTRIBUTES,
                    names: Names::Scim,
                }),
                sort: sort.into_iter().collect(),
                page,
                ..Default::default()
            };
            let listing = provisioning::list_users(app, &scim.caller, query).await?;
            let items = listing
                .items
                .iter()
                .map(|u| params.projection.apply(user_json(u, &scim.base), USER))
                .collect();
            (items, listing.total)
        }
        Resource::Group => {
            let sort = match key {
                Some(k) => Some((
                    group_sort(k)
                        .ok_or_else(|| unsortable(params.sort_by.as_deref().unwrap_or("")))?,
                    params.order,
                )),
                None => None,
            };
            let query = GroupQuery {
                filter: params.filter.as_ref().map(|filter| FilterSpec {
                    filter,
                    attrs: &GROUP_ATTRIBUTES,
                    names: Names::Scim,
                }),
                sort,
                page,
                ..Default::default()
            };
            let members = params.projection.wants(GROUP, "members");
            let listing = provisioning::list_groups(app, &scim.caller, query, members).await?;
            let items = listing
                .items
                .iter()
                .map(|g| params.projection.apply(group_json(g, &scim.base), GROUP))
                .collect();
            (items, listing.total)
        }
    };
    let body = list_response(
        u64::try_from(total).unwrap_or(0),
        params.start_index,
        resources,
    );
    Ok(Reply {
        status: StatusCode::OK,
        body: Some(body),
        version: None,
        location: None,
    })
}

/// POST: 201 with the resource, its ETag and Location.
pub async fn create(
    app: &App,
    scim: &Scim,
    resource: Resource,
    body: &Value,
    projection: &Projection,
) -> ScimResult<Reply> {
    let (json, version) = match resource {
        Resource::User => {
            let record = user_record(body)?;
            let u = provisioning::create_user(app, &scim.caller, record, &scim.origin).await?;
            (user_json(&u, &scim.base), u.user.version)
        }
        Resource::Group => {
            let record = group_record(body)?;
            let g = provisioning::create_group(app, &scim.caller, record, &scim.origin).await?;
            (group_json(&g, &scim.base), g.group.version)
        }
    };
    Ok(Reply::resource(
        StatusCode::CREATED,
        projection.apply(json, core(resource)),
        version,
    ))
}

/// PUT: replaces every attribute the client may write.
pub async fn replace(
    app: &App,
    scim: &Scim,
    resource: Resource,
    id: Uuid,
    body: &Value,
    pre: Precondition,
    projection: &Projection,
) -> ScimResult<Reply> {
    let (json, version) = match resource {
        Resource::User => {
            let record = user_record(body)?;
            let u = provisioning::replace_user(
                app,
                &scim.caller,
                id,
                record,
                pre.expected(),
                &scim.origin,
            )
            .await?;
            (user_json(&u, &scim.base), u.user.version)
        }
        Resource::Group => {
            let record = group_record(body)?;
            let g = provisioning::replace_group(
                app,
                &scim.caller,
                id,
                record,
                pre.expected(),
                &scim.origin,
            )
            .await?;
            (group_json(&g, &scim.base), g.group.version)
        }
    };
    Ok(Reply::resource(
        StatusCode::OK,
        projection.apply(json, core(resource)),
        version,
    ))
}

/// PATCH (RFC 7644 3.5.2). A user answers 200 with the resource (Okta and
/// Entra ID read it); a group answers 204, unless `attributes` asks for a
/// body, since its members may number tens of thousands.
pub async fn patch(
    app: &App,
    scim: &Scim,
    resource: Resource,
    id: Uuid,
    body: &Value,
    pre: Precondition,
    projection: &Projection,
) -> ScimResult<Reply> {
    let ops = patch::parse(body)?;
    match resource {
        Resource::User => {
            let u = provisioning::patch_user(
                app,
                &scim.caller,
                id,
                pre.expected(),
                &scim.origin,
                |current| {
                    let mut json = user_json(current, &scim.base);
                    patch::apply_to_user(&mut json, &ops, &USER_ATTRIBUTES)?;
                    user_record(&json)
                },
            )
            .await?;
            let json = projection.apply(user_json(&u, &scim.base), USER);
            Ok(Reply::resource(StatusCode::OK, json, u.user.version))
        }
        Resource::Group => {
            let change = patch::group_change(&ops)?;
            let body_wanted = !projection.only.is_empty();
            let members = body_wanted && projection.wants(GROUP, "members");
            let g = provisioning::change_group(
                app,
                &scim.caller,
                id,
                change,
                pre.expected(),
                &scim.origin,
                members,
            )
            .await?;
            if body_wanted {
                let json = projection.apply(group_json(&g, &scim.base), GROUP);
                Ok(Reply::resource(StatusCode::OK, json, g.group.version))
            } else {
                Ok(Reply::empty(StatusCode::NO_CONTENT, Some(g.group.version)))
            }
        }
    }
}

/// DELETE: 204.
pub async fn delete(
    app: &App,
    scim: &Scim,
    resource: Resource,
    id: Uuid,
    pre: Precondition,
) -> ScimResult<Reply> {
    match resource {
        Resource::User => {
            provisioning::delete_user(app, &scim.caller, id, pre.expected(), &scim.origin).await?
        }
        Resource::Group => {
            provisioning::delete_group(app, &scim.caller, id, pre.expected(), &scim.origin).await?
        }
    }
    Ok(Reply::empty(StatusCode::NO_CONTENT, None))
}
