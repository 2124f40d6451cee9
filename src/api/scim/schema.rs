//! The SCIM schemas, loaded from `scim-schemas/`: served by discovery, and
//! the source of each attribute's type and case-exactness for filters.

use std::sync::LazyLock;

use serde_json::Value;

use crate::domain::filter::{AttrPath, Attributes, Kind};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

fn load(text: &str) -> Value {
    serde_json::from_str(text).expect("scim-schemas/ holds valid JSON")
}

pub static USER_SCHEMA: LazyLock<Value> =
    LazyLock::new(|| load(include_str!("../../../scim-schemas/User.json")));
pub static GROUP_SCHEMA: LazyLock<Value> =
    LazyLock::new(|| load(include_str!("../../../scim-schemas/Group.json")));
pub static ENTERPRISE_SCHEMA: LazyLock<Value> =
    LazyLock::new(|| load(include_str!("../../../scim-schemas/EnterpriseUser.json")));
pub static RESOURCE_TYPES: LazyLock<Value> =
    LazyLock::new(|| load(include_str!("../../../scim-schemas/ResourceTypes.json")));
pub static SERVICE_PROVIDER_CONFIG: LazyLock<Value> = LazyLock::new(|| {
    load(include_str!(
        "../../../scim-schemas/ServiceProviderConfig.json"
    ))
});

pub fn all() -> [&'static Value; 3] {
    [&USER_SCHEMA, &GROUP_SCHEMA, &ENTERPRISE_SCHEMA]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    User,
    Group,
}

impl Resource {
    /// The resource type an endpoint serves (`Users`, `Groups`).
    pub fn from_endpoint(endpoint: &str) -> Option<Resource> {
        match endpoint {
            "Users" => Some(Resource::User),
            "Groups" => Some(Resource::Group),
            _ => None,
        }
    }
}

/// Attribute kinds of a resource, from its schemas.
pub struct ScimAttributes(pub Resource);

fn find<'a>(attributes: &'a Value, name: &str) -> Option<&'a Value> {
    attributes.as_array()?.iter().find(|a| {
        a["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    })
}

impl ScimAttributes {
    /// The definition `path` names, if any.
    pub fn definition(&self, path: &AttrPath) -> Option<&'static Value> {
        let schemas: Vec<&'static Value> = match (self.0, path.schema.as_deref()) {
            (Resource::User, None) => vec![&USER_SCHEMA, &ENTERPRISE_SCHEMA],
            (Resource::User, Some(s)) if s.eq_ignore_ascii_case(USER) => vec![&USER_SCHEMA],
            (Resource::User, Some(s)) if s.eq_ignore_ascii_case(ENTERPRISE) => {
                vec![&ENTERPRISE_SCHEMA]
            }
            (Resource::Group, None) => vec![&GROUP_SCHEMA],
            (Resource::Group, Some(s)) if s.eq_ignore_ascii_case(GROUP) => vec![&GROUP_SCHEMA],
            _ => return None,
        };
        let top = schemas
            .iter()
            .find_map(|s| find(&s["attributes"], &path.name))?;
        match &path.sub {
            None => Some(top),
            Some(sub) => find(&top["subAttributes"], sub),
        }
    }
}

fn kind_of(def: &Value) -> Option<Kind> {
    Some(match def["type"].as_str()? {
        "string" | "reference" | "binary" => Kind::Str {
            case_exact: def["caseExact"].as_bool().unwrap_or(false),
        },
        "boolean" => Kind::Bool,
        "dateTime" => Kind::DateTime,
        "integer" | "decimal" => Kind::Number,
        _ => return None,
    })
}

impl Attributes for ScimAttributes {
    fn kind(&self, path: &AttrPath) -> Option<Kind> {
        // Common attributes (RFC 7643 3.1) are in no schema.
        match path.key().as_str() {
            "id" | "externalid" => return Some(Kind::Str { case_exact: true }),
            "meta.created" | "meta.lastmodified" => return Some(Kind::DateTime),
            "meta.resourcetype" | "meta.location" | "meta.version" => {
                return Some(Kind::Str { case_exact: true })
            }
            _ => {}
        }
        let def = self.definition(path)?;
        if def["type"] == "complex" && path.sub.is_none() {
            // `emails` stands for `emails.value`.
            let value = find(&def["subAttributes"], "value")?;
            return kind_of(value);
        }
        kind_of(def)
    }

    fn is_multi_valued(&self, path: &AttrPath) -> bool {
        self.definition(path)
            .is_some_and(|d| d["multiValued"] == true && d["type"] == "complex")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_schemas() {
        let users = ScimAttributes(Resource::User);
        let p = |s: &str| crate::api::scim::filter::attr_path(s).unwrap();
        assert_eq!(
            users.kind(&p("userName")),
            Some(Kind::Str { case_exact: false })
        );
        assert_eq!(
            users.kind(&p("externalId")),
            Some(Kind::Str { case_exact: true })
        );
        assert_eq!(users.kind(&p("active")), Some(Kind::Bool));
        assert_eq!(users.kind(&p("emails.primary")), Some(Kind::Bool));
        assert_eq!(
            users.kind(&p("emails")),
            Some(Kind::Str { case_exact: false })
        );
        assert_eq!(users.kind(&p("meta.lastModified")), Some(Kind::DateTime));
        assert_eq!(
            users.kind(&p(&format!("{ENTERPRISE}:manager.value"))),
            Some(Kind::Str { case_exact: true })
        );
        assert_eq!(
            users.kind(&p("department")),
            Some(Kind::Str { case_exact: false })
        );
        assert_eq!(users.kind(&p("nonsense")), None);
        assert!(users.is_multi_valued(&p("emails")));
        assert!(!users.is_multi_valued(&p("name")));
        let groups = ScimAttributes(Resource::Group);
        assert_eq!(
            groups.kind(&p("displayName")),
            Some(Kind::Str { case_exact: false })
        );
        assert!(groups.is_multi_valued(&p("members")));
    }
}
