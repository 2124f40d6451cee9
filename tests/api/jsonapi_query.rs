//! The JSON:API query language (docs/api/jsonapi.md) on accounts, evaluated in
//! the database: page[number]/page[size], sort, count, filter[field] (comma
//! lists and repeats), __match, __in, __nin, __gte, __lte, with_role_scope, and
//! errors naming the parameter.

use serde_json::{json, Value};

use crate::support::{tenant, Backend, TestTenant, PASSWORD};

on_both_backends!(
    paging_count_and_links,
    pages_past_the_middle_hold_the_same_rows,
    sorting_on_several_keys,
    equality_lists_and_repeats,
    match_is_case_insensitive_and_escapes_wildcards,
    in_nin_and_time_ranges,
    with_role_scope_and_null,
    bad_parameters_are_named,
);

async fn index(t: &TestTenant, query: &str) -> Value {
    let r = t
        .owner
        .jsonapi_get(&format!("/api/v1/accounts?{query}"))
        .await;
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    r.body.clone()
}

fn emails(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["attributes"]["email"].as_str().unwrap().to_string())
        .collect()
}

/// Ten accounts `a0@..` to `a9@..`, named "Person N", besides the owner.
async fn ten(t: &TestTenant) -> Vec<String> {
    let mut out = Vec::new();
    for n in 0..10 {
        let email = t.email(&format!("a{n}"));
        t.create_account(
            json!({ "name": format!("Person {n}"), "email": email, "password": PASSWORD }),
        )
        .await;
        out.push(email);
    }
    out
}

/// page[number] (default 1), page[size] (default 1000), count=true
/// gives the exact total in meta.count.
async fn paging_count_and_links(b: Backend) {
    let t = tenant(b).await;
    let made = ten(&t).await;
    let all = index(&t, "").await;
    assert_eq!(emails(&all).len(), 11, "default page size 1000 holds all");
    assert!(all.get("meta").is_none(), "no count unless asked");
    assert_eq!(all["links"]["next"], Value::Null);

    let page = index(&t, "page[size]=3&page[number]=2&sort=email&count=true").await;
    assert_eq!(page["meta"]["count"], 11);
    let mut sorted: Vec<String> = made.clone();
    sorted.push(t.owner_email.clone());
    sorted.sort();
    assert_eq!(emails(&page), sorted[3..6].to_vec());
    let links = &page["links"];
    for (name, number) in [
        ("self", 2),
        ("first", 1),
        ("prev", 1),
        ("next", 3),
        ("last", 4),
    ] {
        let link = links[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: {links}"));
        assert!(link.starts_with("/api/v1/accounts?"), "{link}");
        assert!(
            link.contains(&format!("page%5Bnumber%5D={number}")),
            "{name}: {link}"
        );
        assert!(
            link.contains("page%5Bsize%5D=3") && link.contains("sort=email"),
            "{link}"
        );
    }
    // Following next without a count still knows when to stop.
    let last = index(&t, "page[size]=3&page[number]=4&sort=email").await;
    assert_eq!(emails(&last).len(), 2);
    assert_eq!(last["links"]["next"], Value::Null);
    let beyond = index(&t, "page[size]=3&page[number]=9").await;
    assert!(beyond["data"].as_array().unwrap().is_empty());
    assert!(index(&t, "page[size]=1000").await["data"].is_array());
}

/// A counted page past the middle of its list is read from the far end
/// (ARCHITECTURE.md, "Lists at scale"): every page, counted or not, holds
/// the rows of the same window of the one order, with ties broken by id
/// and absent values last (docs/api/jsonapi.md, `sort`; docs/api/ithbat.md,
/// `sortBy`).
async fn pages_past_the_middle_hold_the_same_rows(b: Backend) {
    let t = tenant(b).await;
    for n in 0..9 {
        let name = ["Ann Same", "Bo Other", "Cy Third"][n % 3];
        let sso = if n % 2 == 0 {
            json!("okta")
        } else {
            Value::Null
        };
        t.create_account(json!({
            "name": name, "email": t.email(&format!("p{n}")), "password": PASSWORD,
            "sso_channel": sso,
        }))
        .await;
    }
    for sort in [
        "name",
        "-name,email",
        "sso_channel",
        "-sso_channel",
        "-created_at",
    ] {
        for filter in ["", "&filter[email__match]=p"] {
            let whole = emails(&index(&t, &format!("page[size]=1000&sort={sort}{filter}")).await);
            for size in [2, 3, 4] {
                let mut counted = Vec::new();
                let mut uncounted = Vec::new();
                for number in 1..=whole.len().div_ceil(size) + 1 {
                    let q = format!("page[size]={size}&page[number]={number}&sort={sort}{filter}");
                    let page = index(&t, &format!("{q}&count=true")).await;
                    assert_eq!(page["meta"]["count"], whole.len(), "{q}");
                    counted.extend(emails(&page));
                    uncounted.extend(emails(&index(&t, &q).await));
                }
                assert_eq!(counted, whole, "sort={sort}{filter}, size {size}, counted");
                assert_eq!(uncounted, whole, "sort={sort}{filter}, size {size}");
            }
        }
    }
    // The native list counts every page; its unfiltered total is the
    // maintained one.
    let native = |q: String| {
        let owner = &t.owner;
        async move {
            let r = owner.get(&format!("/api/v1/users?{q}")).await;
            assert_eq!(r.status, 200, "{q}: {}", r.text);
            r.body["data"]["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["email"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    for sort in [
        "sortBy=email&sortOrder=desc",
        "sortBy=createdAt&sortOrder=asc",
    ] {
        let whole = native(format!("limit=100&{sort}")).await;
        assert_eq!(whole.len(), 10);
        let mut paged = Vec::new();
        for page in 1..=4 {
            paged.extend(native(format!("limit=3&page={page}&{sort}")).await);
        }
        assert_eq!(paged, whole, "{sort}");
    }
}

/// sort is a comma list, `-` for descending.
async fn sorting_on_several_keys(b: Backend) {
    let t = tenant(b).await;
    for (name, local) in [("Bea Same", "z1"), ("Bea Same", "a1"), ("Al First", "m1")] {
        t.create_account(json!({ "name": name, "email": t.email(local), "password": PASSWORD }))
            .await;
    }
    let body = index(&t, "sort=name,-email&filter[email__match]=1@").await;
    assert_eq!(emails(&body), [t.email("m1"), t.email("z1"), t.email("a1")]);
    let body = index(&t, "sort=-created_at&filter[email__match]=1@").await;
    assert_eq!(emails(&body), [t.email("m1"), t.email("a1"), t.email("z1")]);
    let body = index(&t, "sort=enabled,email&filter[email__match]=1@").await;
    assert_eq!(emails(&body).len(), 3);
}

/// filter[field] takes a comma list or repeats, meaning any of.
async fn equality_lists_and_repeats(b: Backend) {
    let t = tenant(b).await;
    let made = ten(&t).await;
    let body = index(
        &t,
        &format!("filter[email]={},{}&sort=email", made[1], made[2]),
    )
    .await;
    assert_eq!(emails(&body), [made[1].clone(), made[2].clone()]);
    let body = index(
        &t,
        &format!(
            "filter[email]={}&filter[email]={}&sort=email",
            made[3],
            made[4].to_uppercase()
        ),
    )
    .await;
    assert_eq!(
        emails(&body),
        [made[3].clone(), made[4].clone()],
        "emails compare without case"
    );
    let body = index(&t, "filter[name]=person 5").await;
    assert_eq!(emails(&body), [made[5].clone()]);
    let body = index(&t, "filter[enabled]=true&count=true").await;
    assert_eq!(body["meta"]["count"], 11);
    // Two filters on different fields must both hold.
    let body = index(
        &t,
        &format!("filter[email]={}&filter[name]=Person 7", made[6]),
    )
    .await;
    assert!(emails(&body).is_empty());
    let id = index(&t, &format!("filter[email]={}", made[8])).await["data"][0]["id"].clone();
    let body = index(&t, &format!("filter[id]={}", id.as_str().unwrap())).await;
    assert_eq!(emails(&body), [made[8].clone()]);
}

/// `__match`: a case-insensitive substring; `%`, `_` and `\` are
/// taken literally.
async fn match_is_case_insensitive_and_escapes_wildcards(b: Backend) {
    let t = tenant(b).await;
    for (name, local) in [
        ("Ålice Ünicode", "alice"),
        ("Percent Sign", "pct%x"),
        ("Under Score", "und_x"),
        ("Plain Person", "undxx"),
    ] {
        t.create_account(json!({ "name": name, "email": t.email(local), "password": PASSWORD }))
            .await;
    }
    let body = index(&t, "filter[name__match]=ålice").await;
    assert_eq!(emails(&body), [t.email("alice")]);
    let body = index(&t, "filter[name__match]=ÜNICODE").await;
    assert_eq!(emails(&body), [t.email("alice")]);
    let body = index(&t, "filter[email__match]=%25").await;
    assert_eq!(emails(&body), [t.email("pct%x")], "% is literal");
    let body = index(&t, "filter[email__match]=und_").await;
    assert_eq!(emails(&body), [t.email("und_x")], "_ is literal");
    let body = index(&t, "filter[email__match]=%5C").await;
    assert!(emails(&body).is_empty(), "\\ is literal");
    let body = index(
        &t,
        &format!("filter[email__match]={}", t.slug.to_uppercase()),
    )
    .await;
    assert_eq!(emails(&body).len(), 5);
}

/// `role_name__in`, `role_name__nin`, `joined_at__gte`,
/// `created_at__lte` (dates or date-times).
async fn in_nin_and_time_ranges(b: Backend) {
    let t = tenant(b).await;
    for (local, role) in [("ad", "admin"), ("m1", "member"), ("m2", "member")] {
        t.create_account(json!({ "name": "Role Holder", "email": t.email(local), "password": PASSWORD, "role_name": role }),
        )
        .await;
    }
    let body = index(&t, "filter[role_name__in]=admin,owner&sort=email").await;
    assert_eq!(emails(&body), [t.email("ad"), t.owner_email.clone()]);
    let body = index(&t, "filter[role_name__nin]=member&sort=email").await;
    assert_eq!(emails(&body), [t.email("ad"), t.owner_email.clone()]);
    let body = index(&t, "filter[role_name]=ADMIN").await;
    assert_eq!(emails(&body), [t.email("ad")]);

    let middle = index(&t, &format!("filter[email]={}", t.email("m1"))).await["data"][0]
        ["attributes"]["created_at"]
        .as_str()
        .unwrap()
        .to_string();
    let encoded = |s: &str| s.replace('+', "%2B");
    let body = index(
        &t,
        &format!("filter[created_at__gte]={}&sort=email", encoded(&middle)),
    )
    .await;
    assert_eq!(emails(&body), [t.email("m1"), t.email("m2")]);
    let body = index(
        &t,
        &format!(
            "filter[created_at__lte]={}&filter[email__match]=@&sort=email",
            encoded(&middle)
        ),
    )
    .await;
    assert!(emails(&body).contains(&t.email("m1")) && !emails(&body).contains(&t.email("m2")));
    let body = index(&t, "filter[joined_at__gte]=2000-01-01&count=true").await;
    assert_eq!(body["meta"]["count"], 4);
    let body = index(&t, "filter[joined_at__lte]=2000-01-01").await;
    assert!(emails(&body).is_empty());
    let body = index(&t, &format!("filter[created_at]={}", encoded(&middle))).await;
    assert_eq!(
        emails(&body),
        [t.email("m1")],
        "a timestamp read back finds its account"
    );
}

/// `filter[with_role_scope]=P`: accounts whose role applies to P, held on
/// it or on a scope above it; `filter[joined_at]=null` finds the invited.
async fn with_role_scope_and_null(b: Backend) {
    let t = tenant(b).await;
    for (local, scope) in [
        ("org7", "/organizations/7"),
        ("org7p", "/organizations/7/projects/1"),
        ("org8", "/organizations/8"),
    ] {
        t.create_account(json!({ "name": "Scoped One", "email": t.email(local), "password": PASSWORD, "role_name": "admin", "role_scope": scope }),
        )
        .await;
    }
    t.create_account(json!({ "name": "Invited One", "email": t.email("inv") }))
        .await;
    let body = index(&t, "filter[with_role_scope]=/organizations/7&sort=email").await;
    let found = emails(&body);
    assert!(found.contains(&t.email("org7")) && found.contains(&t.owner_email));
    assert!(!found.contains(&t.email("org8")) && !found.contains(&t.email("org7p")));
    let body = index(&t, "filter[with_role_scope]=/organizations/7/projects/1").await;
    let found = emails(&body);
    assert!(found.contains(&t.email("org7")) && found.contains(&t.email("org7p")));
    let body = index(&t, "filter[role_scope]=/organizations/8").await;
    assert_eq!(emails(&body), [t.email("org8")]);
    let body = index(&t, "filter[joined_at]=null").await;
    assert_eq!(emails(&body), [t.email("inv")]);
    let body = index(&t, "filter[invitation_expired_at__gte]=2000-01-01").await;
    assert_eq!(emails(&body), [t.email("inv")]);
}

/// Unknown filter fields, unknown operators, malformed values and bad
/// paging are 400 with source.parameter naming the parameter.
async fn bad_parameters_are_named(b: Backend) {
    let t = tenant(b).await;
    for (query, parameter) in [
        ("page[size]=0", "page[size]"),
        ("page[size]=1001", "page[size]"),
        ("page[size]=ten", "page[size]"),
        ("page[number]=-1", "page[number]"),
        ("sort=password_hash", "sort"),
        ("sort=email,email", "sort"),
        ("count=yes", "count"),
        ("filter[password]=x", "filter[password]"),
        ("filter[email__gte]=a", "filter[email__gte]"),
        ("filter[email__regex]=a", "filter[email__regex]"),
        ("filter[enabled]=maybe", "filter[enabled]"),
        ("filter[id]=not-a-uuid", "filter[id]"),
        (
            "filter[created_at__gte]=last week",
            "filter[created_at__gte]",
        ),
        (
            "filter[with_role_scope]=no-slash",
            "filter[with_role_scope]",
        ),
        ("fields[accounts]=password_reset_token", "fields[accounts]"),
        ("included=roles", "included"),
        ("frobnicate=1", "frobnicate"),
    ] {
        let r = t
            .owner
            .jsonapi_get(&format!("/api/v1/accounts?{query}"))
            .await;
        r.jsonapi_error(400, Some(json!({ "parameter": parameter })));
        assert_eq!(r.error()["code"], "VALIDATION_ERROR");
    }
    let r = t
        .owner
        .jsonapi_get("/api/v1/accounts?filter[bogus]=1&page[size]=0")
        .await;
    assert_eq!(
        r.body["errors"].as_array().unwrap().len(),
        2,
        "every problem reported"
    );
}
