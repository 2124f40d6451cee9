//! The SCIM operations on Users and Groups, written once and called both
//! by the HTTP handlers and by Bulk: each takes the parsed request and
//! returns a `Reply` that either turns into an HTTP response or into a
//! bulk operation's result.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use serde_json::Value;
use uuid::Uuid;

use super::context::{Precondition, Scim};
use super::cursor::{Cursors, Position};
use super::error::{ScimError, ScimResult, MEDIA_TYPE};
use super::list::{cursor_response, list_response, sort_key, ListParams, SortKey};
use super::patch;
use super::resources::{etag, group_json, group_record, user_json, user_record, Projection};
use super::schema::{Resource, ScimAttributes, GROUP, USER};
use crate::domain::filter::{AttrPath, Filter, FilterSpec, Names, Restricted};
use crate::domain::group::{GroupQuery, GroupSort};
use crate::domain::list::{Anchor, Listing, PageRequest, Seek, SortOrder};
use crate::domain::user::{UserQuery, UserSort};
use crate::domain::Error;
use crate::service::provisioning::{self, ProvisionedUser, UserRecord};
use crate::service::App;

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

/// One resource type's page, as JSON before projection.
struct Fetched {
    items: Vec<Value>,
    total: i64,
    /// Another page follows.
    more: bool,
    /// The page's last row, where a keyset page after it starts.
    last: Option<Anchor>,
}

impl Fetched {
    /// A page as JSON (`json` of each row), and the anchor (creation time
    /// and id) of its last row.
    fn of<T>(
        listing: Listing<T>,
        json: impl Fn(&T) -> Value,
        anchor: impl Fn(&T) -> (chrono::DateTime<chrono::Utc>, Uuid),
    ) -> Fetched {
        Fetched {
            items: listing.items.iter().map(json).collect(),
            total: listing.total,
            more: listing.more,
            last: listing
                .items
                .last()
                .map(anchor)
                .map(|(created, id)| Anchor { created, id }),
        }
    }
}

/// One resource type's page.
#[allow(clippy::too_many_arguments)]
async fn fetch(
    app: &App,
    scim: &Scim,
    resource: Resource,
    filter: Option<&Filter>,
    sort: Option<(SortKey, SortOrder)>,
    sort_by: &str,
    page: PageRequest,
    members: bool,
) -> ScimResult<Fetched> {
    let unsortable = || {
        ScimError::invalid_value(format!(
            "sortBy: {sort_by} is not an attribute this server sorts by"
        ))
    };
    Ok(match resource {
        Resource::User => {
            let sort = match sort {
                Some((k, order)) => Some((user_sort(k).ok_or_else(unsortable)?, order)),
                None => None,
            };
            let query = UserQuery {
                filter: filter.map(|filter| FilterSpec {
                    filter,
                    attrs: &USER_ATTRIBUTES,
                    names: Names::Scim,
                }),
                sort: sort.into_iter().collect(),
                page,
                ..Default::default()
            };
            let listing = provisioning::list_users(app, &scim.caller, query).await?;
            Fetched::of(
                listing,
                |u| user_json(u, &scim.base),
                |u| (u.user.created_at, u.user.id),
            )
        }
        Resource::Group => {
            let sort = match sort {
                Some((k, order)) => Some((group_sort(k).ok_or_else(unsortable)?, order)),
                None => None,
            };
            let query = GroupQuery {
                filter: filter.map(|filter| FilterSpec {
                    filter,
                    attrs: &GROUP_ATTRIBUTES,
                    names: Names::Scim,
                }),
                sort,
                page,
                ..Default::default()
            };
            let listing = provisioning::list_groups(app, &scim.caller, query, members).await?;
            Fetched::of(
                listing,
                |g| group_json(g, &scim.base),
                |g| (g.group.created_at, g.group.id),
            )
        }
    })
}

fn list_reply(body: Value) -> Reply {
    Reply {
        status: StatusCode::OK,
        body: Some(body),
        version: None,
        location: None,
    }
}

/// How a list query pages: by index (`startIndex`), or by cursor (RFC
/// 9865) when it sends one.
struct Paging<'a> {
    page: PageRequest,
    cursors: Option<Cursors<'a>>,
}

impl<'a> Paging<'a> {
    /// `scope` names what is listed (a resource type, or the root);
    /// `keyset`: the query is in its default order, so its cursors can
    /// hold an anchor rather than an offset.
    fn of(
        app: &'a App,
        scim: &Scim,
        scope: &str,
        params: &ListParams,
        keyset: bool,
    ) -> ScimResult<Self> {
        let Some(cursor) = &params.cursor else {
            let page = PageRequest::window(params.start_index - 1, params.count);
            return Ok(Paging {
                page,
                cursors: None,
            });
        };
        let cursors = Cursors::new(&app.sealer, scim.caller.tenant_id, scope, &params.query_key);
        let position = match (cursor.is_empty(), keyset) {
            (true, true) => Position::Seek(Seek::First),
            (true, false) => Position::Offset(0),
            (false, _) => cursors.open(cursor, chrono::Utc::now())?,
        };
        let page = match (position, keyset) {
            (Position::Seek(seek), true) => PageRequest::seek(seek, params.count),
            (Position::Offset(start), false) => PageRequest::window(start, params.count),
            // Sealed for this query, so only a server bug gets here.
            _ => {
                return Err(ScimError::new(
                    400,
                    "invalidCursor",
                    "cursor: not one of this query",
                ))
            }
        };
        Ok(Paging {
            page,
            cursors: Some(cursors),
        })
    }

    /// Where the page starts, from 0.
    fn start(&self) -> u64 {
        u64::try_from(self.page.offset()).unwrap_or(0)
    }

    /// The ListResponse of the page: `total`, whether `more` follow, and
    /// the `last` row of a keyset page.
    fn reply(
        &self,
        total: i64,
        more: bool,
        last: Option<Anchor>,
        resources: Vec<Value>,
    ) -> ScimResult<Reply> {
        let total = u64::try_from(total).unwrap_or(0);
        let Some(cursors) = &self.cursors else {
            return Ok(list_reply(list_response(
                total,
                self.start() + 1,
                resources,
            )));
        };
        let next = match (more, self.page.seek, last) {
            (false, _, _) => None,
            (true, Some(_), Some(last)) => Some(Position::Seek(Seek::After(last))),
            (true, _, _) => Some(Position::Offset(self.start() + resources.len() as u64)),
        };
        let next = match next {
            Some(p) => Some(cursors.seal(p, chrono::Utc::now())?),
            None => None,
        };
        Ok(list_reply(cursor_response(total, next, resources)))
    }
}

/// A filtered, sorted page of a resource type.
pub async fn list(
    app: &App,
    scim: &Scim,
    resource: Resource,
    params: &ListParams,
) -> ScimResult<Reply> {
    let by = params.sort_by.as_deref().unwrap_or("");
    let key = match &params.sort_by {
        Some(by) => Some(sort_key(resource, by).ok_or_else(|| unsortable(by))?),
        None => None,
    };
    let paging = Paging::of(app, scim, core(resource), params, key.is_none())?;
    let members = params.projection.wants(GROUP, "members");
    let sort = key.map(|k| (k, params.order));
    let fetched = fetch(
        app,
        scim,
        resource,
        params.filter.as_ref(),
        sort,
        by,
        paging.page,
        members,
    )
    .await?;
    let items = fetched
        .items
        .into_iter()
        .map(|r| params.projection.apply(r, core(resource)))
        .collect();
    paging.reply(fetched.total, fetched.more, fetched.last, items)
}

fn unsortable(by: &str) -> ScimError {
    ScimError::invalid_value(format!(
        "sortBy: {by} is not an attribute this server sorts by"
    ))
}

/// How deep a sorted root query pages: it reads this many resources of
/// each type to merge them (docs/api/scim.md, Queries).
pub const MAX_ROOT_WINDOW: u64 = 10_000;

/// Does `resource` have the attribute `path` (its schemas, or the common
/// attributes of RFC 7643 3.1)?
fn has(resource: Resource, path: &AttrPath) -> bool {
    let attrs = ScimAttributes(resource);
    matches!(
        path.name.to_ascii_lowercase().as_str(),
        "id" | "externalid" | "meta" | "schemas"
    ) || attrs.definition(path).is_some()
}

/// The value a root query merges on, for `key`: only whether it is there
/// matters unless both types have the attribute (externalId and the meta
/// times, compared as stored: case-exact, and RFC 3339 text in time order).
fn merge_value(key: SortKey, r: &Value) -> Option<String> {
    let text = |v: &Value| v.as_str().map(str::to_string);
    match key {
        SortKey::ExternalId => text(&r["externalId"]),
        SortKey::Created => text(&r["meta"]["created"]),
        SortKey::LastModified => text(&r["meta"]["lastModified"]),
        SortKey::UserName => text(&r["userName"]),
        SortKey::GivenName => text(&r["name"]["givenName"]),
        SortKey::FamilyName => text(&r["name"]["familyName"]),
        SortKey::Email => r["emails"].as_array().map(|_| String::new()),
        SortKey::Active => r["active"].as_bool().map(|_| String::new()),
        SortKey::DisplayName => text(&r["displayName"]),
    }
}

/// Does `a` come before `b` in `order`? Absent values come last either way
/// (as the database sorts them).
fn before(a: &Option<String>, b: &Option<String>, order: SortOrder) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => match order {
            SortOrder::Asc => a < b,
            SortOrder::Desc => a > b,
        },
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// A query at the service root (RFC 7644 3.4.3): Users and Groups in one
/// ListResponse, each resource with its `schemas` and `meta.resourceType`.
/// A filter term on an attribute only one type has matches nothing of the
/// other; `sortBy`, `startIndex` and `count` apply to the union: unsorted,
/// users come first, then groups; sorted, the two sorted lists are merged
/// (resources without the attribute last, users before groups on a tie).
pub async fn list_all(app: &App, scim: &Scim, params: &ListParams) -> ScimResult<Reply> {
    const TYPES: [Resource; 2] = [Resource::User, Resource::Group];
    if let Some(filter) = &params.filter {
        if let Some(path) = filter
            .paths()
            .into_iter()
            .find(|p| !TYPES.iter().any(|r| has(*r, p)))
        {
            return Err(ScimError::new(
                400,
                "invalidFilter",
                format!("{path}: no attribute of User or Group"),
            ));
        }
    }
    // Per type: None when its filter matches nothing.
    let filters: Vec<Option<Option<Filter>>> = TYPES
        .iter()
        .map(|r| match &params.filter {
            None => Some(None),
            Some(f) => match f.restrict(&|p| has(*r, p)) {
                Restricted::All => Some(None),
                Restricted::Nothing => None,
                Restricted::Only(f) => Some(Some(f)),
            },
        })
        .collect();
    let by = params.sort_by.as_deref().unwrap_or("");
    let mut keys: Vec<Option<SortKey>> = Vec::new();
    if let Some(sort_by) = &params.sort_by {
        let path = super::filter::attr_path(sort_by).map_err(|_| unsortable(sort_by))?;
        for r in TYPES {
            match sort_key(r, sort_by) {
                Some(k) => keys.push(Some(k)),
                None if has(r, &path) => return Err(unsortable(sort_by)),
                None => keys.push(None),
            }
        }
        if keys.iter().all(Option::is_none) {
            return Err(unsortable(sort_by));
        }
    }
    let paging = Paging::of(app, scim, "root", params, false)?;
    let start = paging.start();
    let count = u64::from(params.count);
    let members = params.projection.wants(GROUP, "members");
    let mut items: Vec<(Resource, Value)> = Vec::new();
    let mut total = 0;
    if params.sort_by.is_none() {
        // Users, then groups: the window splits between them by the count
        // of users.
        let mut skipped = 0;
        for (i, r) in TYPES.iter().enumerate() {
            let Some(filter) = &filters[i] else { continue };
            let offset = start.saturating_sub(skipped);
            let wanted = count.saturating_sub(items.len() as u64);
            let page = PageRequest::window(offset, u32::try_from(wanted).unwrap_or(0));
            let found = fetch(app, scim, *r, filter.as_ref(), None, by, page, members).await?;
            items.extend(found.items.into_iter().map(|v| (*r, v)));
            total += found.total;
            skipped += u64::try_from(found.total).unwrap_or(0);
        }
    } else {
        if start + count > MAX_ROOT_WINDOW {
            return Err(ScimError::invalid_value(format!(
                "startIndex and count: a sorted query at the root reads at most {MAX_ROOT_WINDOW} resources; query /Users or /Groups"
            )));
        }
        let page = PageRequest::window(0, u32::try_from(start + count).unwrap_or(u32::MAX));
        let mut lists: Vec<Vec<(Resource, Option<String>, Value)>> = Vec::new();
        for (i, r) in TYPES.iter().enumerate() {
            let Some(filter) = &filters[i] else {
                lists.push(Vec::new());
                continue;
            };
            let sort = keys[i].map(|k| (k, params.order));
            let found = fetch(app, scim, *r, filter.as_ref(), sort, by, page, members).await?;
            total += found.total;
            lists.push(
                found
                    .items
                    .into_iter()
                    .map(|v| (*r, keys[i].and_then(|k| merge_value(k, &v)), v))
                    .collect(),
            );
        }
        let groups = lists.pop().unwrap_or_default();
        let users = lists.pop().unwrap_or_default();
        let (mut u, mut g) = (users.into_iter().peekable(), groups.into_iter().peekable());
        let mut merged = Vec::new();
        while merged.len() < (start + count) as usize {
            let take_group = match (u.peek(), g.peek()) {
                (Some(a), Some(b)) => before(&b.1, &a.1, params.order),
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (None, None) => break,
            };
            let next = if take_group { g.next() } else { u.next() };
            merged.extend(next.map(|(r, _, v)| (r, v)));
        }
        items = merged.into_iter().skip(start as usize).collect();
    }
    let resources = items
        .into_iter()
        .map(|(r, v)| params.projection.apply(v, core(r)))
        .collect::<Vec<_>>();
    let more = u64::try_from(total).unwrap_or(0) > start + resources.len() as u64;
    paging.reply(total, more, None, resources)
}

// ---- /Me (RFC 7644 3.11): the caller's own User resource ----

/// `GET /Me`; 304 when If-None-Match names its current version.
pub async fn me_read(
    app: &App,
    scim: &Scim,
    projection: &Projection,
    if_none_match: Option<Precondition>,
) -> ScimResult<Reply> {
    let u = provisioning::get_self(app, &scim.caller).await?;
    let version = u.user.version;
    if if_none_match.is_some_and(|p| p.matches(version)) {
        return Ok(Reply::empty(StatusCode::NOT_MODIFIED, Some(version)));
    }
    let body = projection.apply(user_json(&u, &scim.base), USER);
    Ok(Reply::resource(StatusCode::OK, body, version))
}

/// `PUT /Me`: the whole resource, within self-service.
pub async fn me_replace(
    app: &App,
    scim: &Scim,
    body: &Value,
    pre: Precondition,
    projection: &Projection,
) -> ScimResult<Reply> {
    let record = user_record(body)?;
    let u =
        provisioning::replace_self(app, &scim.caller, record, pre.expected(), &scim.origin).await?;
    let json = projection.apply(user_json(&u, &scim.base), USER);
    Ok(Reply::resource(StatusCode::OK, json, u.user.version))
}

/// `PATCH /Me`: the operations, within self-service.
pub async fn me_patch(
    app: &App,
    scim: &Scim,
    body: &Value,
    pre: Precondition,
    projection: &Projection,
) -> ScimResult<Reply> {
    let ops = patch::parse(body)?;
    let u = provisioning::patch_self(
        app,
        &scim.caller,
        pre.expected(),
        &scim.origin,
        patched_user(scim, &ops),
    )
    .await?;
    let json = projection.apply(user_json(&u, &scim.base), USER);
    Ok(Reply::resource(StatusCode::OK, json, u.user.version))
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

/// A user's PATCH: the operations applied to its JSON, read back as the
/// record that replaces it (for /Users/{id} and /Me alike).
fn patched_user<'a>(
    scim: &'a Scim,
    ops: &'a [patch::Operation],
) -> impl Fn(&ProvisionedUser) -> ScimResult<UserRecord> + Send + Sync + 'a {
    move |current| {
        let mut json = user_json(current, &scim.base);
        patch::apply_to_user(&mut json, ops, &USER_ATTRIBUTES)?;
        user_record(&json)
    }
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
                patched_user(scim, &ops),
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
