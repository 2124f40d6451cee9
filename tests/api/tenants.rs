//! Tenants (docs/api/ithbat.md, Tenants; docs/security.md, Tenancy): platform
//! administration, X-Tenant-ID semantics, suspension.

use serde_json::json;

use crate::support::{pluck, shared, Backend, PASSWORD};

on_both_backends!(
    platform_admin_creates_and_reads_tenants,
    tenant_create_rejects_bad_input_and_writes_nothing,
    tenant_list_filters_sorts_and_counts,
    tenant_update_and_delete,
    tenant_owners_see_only_their_own_tenant,
    x_tenant_id_selects_a_tenant_only_for_platform_admins,
    suspended_tenant_refuses_logins_and_tokens,
    platform_tenant_cannot_be_suspended_or_deleted,
);

const FIELDS: [&str; 8] = [
    "id",
    "name",
    "slug",
    "plan",
    "status",
    "rateLimitPerMinute",
    "createdAt",
    "updatedAt",
];

async fn platform_admin_creates_and_reads_tenants(b: Backend) {
    let app = shared(b).await;
    let admin = app.admin().await;
    let slug = format!("acme-{}", uuid::Uuid::new_v4().simple());
    let r = admin
        .post(
            "/api/v1/tenants",
            json!({ "name": "Acme Corporation", "slug": slug, "plan": "pro" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let t = r.ok().clone();
    for f in FIELDS {
        assert!(t.get(f).is_some(), "{f}: {t}");
    }
    assert_eq!(t["name"], "Acme Corporation");
    assert_eq!(t["slug"], slug.as_str());
    assert_eq!(t["plan"], "pro");
    assert_eq!(t["status"], "active");
    assert!(t["adminUserId"].is_null());
    let id = t["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());

    let got = admin.get(&format!("/api/v1/tenants/{id}")).await;
    assert_eq!(got.ok()["slug"], slug.as_str());
    // plan defaults to free
    let r = admin
        .post(
            "/api/v1/tenants",
            json!({ "name": "Free Co", "slug": format!("free-{}", &slug[5..20]) }),
        )
        .await;
    assert_eq!(r.ok()["plan"], "free");
    // The tenant owner given at creation can sign in to it.
    let t2 = app.new_tenant().await;
    assert_eq!(
        t2.owner.get("/api/v1/tenants/current").await.ok()["id"],
        t2.id.as_str()
    );
}

async fn tenant_create_rejects_bad_input_and_writes_nothing(b: Backend) {
    let app = shared(b).await;
    let admin = app.admin().await;
    let existing = app.new_tenant().await;
    let cases = [
        (json!({ "name": "X", "slug": "Bad Slug" }), vec!["slug"]),
        // X-Tenant-ID reads a UUID as an id, so no slug may look like one.
        (
            json!({ "name": "X", "slug": uuid::Uuid::now_v7().to_string() }),
            vec!["slug"],
        ),
        (json!({ "name": "", "slug": "okay-slug-1" }), vec!["name"]),
        (
            json!({ "name": "X", "slug": "okay-slug-2", "plan": "growth" }),
            vec!["plan"],
        ),
        (json!({ "slug": "okay-slug-3" }), vec!["name"]),
        (json!({ "name": "X", "slug": 7 }), vec!["slug"]),
        (
            json!({ "name": "X", "slug": "okay-slug-4", "region": "ksa" }),
            vec!["region"],
        ),
        (
            json!({ "name": "X", "slug": "okay-slug-5", "adminEmail": "not-an-email" }),
            vec!["adminEmail"],
        ),
        (
            json!({ "name": "X", "slug": "okay-slug-6", "adminEmail": "a@b.io", "adminPassword": "weak" }),
            vec!["adminPassword"],
        ),
        (
            json!({ "name": "X", "slug": "okay-slug-7", "adminPassword": "Str0ng!pass" }),
            vec!["adminEmail"],
        ),
    ];
    for (body, fields) in cases {
        let r = admin.post("/api/v1/tenants", body.clone()).await;
        r.expect(400, "VALIDATION_ERROR");
        assert_eq!(r.fields(), fields, "{body}");
    }
    let dup = admin
        .post(
            "/api/v1/tenants",
            json!({ "name": "Again", "slug": existing.slug }),
        )
        .await;
    dup.expect(409, "CONFLICT");
    assert_eq!(dup.fields(), ["slug"]);
    // Nothing was written: none of the slugs exist.
    let all = admin
        .get("/api/v1/tenants?search=okay-slug&limit=100")
        .await;
    assert_eq!(all.ok()["total"], 0);
}

async fn tenant_list_filters_sorts_and_counts(b: Backend) {
    let app = shared(b).await;
    let admin = app.admin().await;
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    for (i, plan) in ["free", "pro", "enterprise", "pro", "pro"]
        .iter()
        .enumerate()
    {
        let r = admin
            .post(
                "/api/v1/tenants",
                json!({ "name": format!("Zeta {tag} {i}"), "slug": format!("list-{tag}-{i}"), "plan": plan }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = admin
        .get(&format!(
            "/api/v1/tenants?search=ZETA%20{tag}&plan=pro&sortBy=name&sortOrder=desc&limit=2"
        ))
        .await;
    let data = r.ok();
    assert_eq!(data["total"], 3);
    assert_eq!(
        r.body["pagination"],
        json!({ "page": 1, "limit": 2, "total": 3, "totalPages": 2 })
    );
    let names: Vec<&str> = pluck(&data["tenants"], "/name");
    assert_eq!(names, [format!("Zeta {tag} 4"), format!("Zeta {tag} 3")]);
    let page2 = admin
        .get(&format!(
            "/api/v1/tenants?search={tag}&plan=pro&sortBy=name&sortOrder=desc&limit=2&page=2"
        ))
        .await;
    assert_eq!(page2.ok()["tenants"][0]["name"], format!("Zeta {tag} 1"));

    for (query, field) in [
        ("plan=growth", "plan"),
        ("status=gone", "status"),
        ("sortBy=password", "sortBy"),
        ("sortOrder=up", "sortOrder"),
        ("limit=0", "limit"),
    ] {
        let r = admin.get(&format!("/api/v1/tenants?{query}")).await;
        r.expect(400, "VALIDATION_ERROR");
        assert_eq!(r.fields(), [field], "{query}");
    }
    // LIKE wildcards in the search are literal.
    let r = admin.get("/api/v1/tenants?search=%25").await;
    assert_eq!(r.ok()["total"], 0);
}

async fn tenant_update_and_delete(b: Backend) {
    let app = shared(b).await;
    let admin = app.admin().await;
    let t = app.new_tenant().await;
    let path = format!("/api/v1/tenants/{}", t.id);
    let r = admin
        .put(
            &path,
            json!({ "name": "Renamed", "plan": "enterprise", "rateLimitPerMinute": 5000 }),
        )
        .await;
    let d = r.ok();
    assert_eq!(
        (
            d["name"].as_str(),
            d["plan"].as_str(),
            d["rateLimitPerMinute"].as_i64()
        ),
        (Some("Renamed"), Some("enterprise"), Some(5000))
    );
    assert_eq!(d["slug"], t.slug.as_str());
    let r = admin.put(&path, json!({ "plan": "gold" })).await;
    r.expect(400, "VALIDATION_ERROR");
    assert_eq!(admin.get(&path).await.ok()["plan"], "enterprise");

    // Owners may rename their own tenant, not change its plan.
    let r = t.owner.put(&path, json!({ "name": "Owner's name" })).await;
    assert_eq!(r.ok()["name"], "Owner's name");
    t.owner
        .put(&path, json!({ "plan": "free" }))
        .await
        .expect(403, "FORBIDDEN");

    let r = admin.delete(&path).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["message"], "Tenant deleted");
    assert!(r.body["deletedAt"].is_string());
    admin.get(&path).await.expect(404, "TENANT_NOT_FOUND");
    admin.delete(&path).await.expect(404, "TENANT_NOT_FOUND");
    // Its users' sessions went with it.
    t.owner.me().await.expect(401, "UNAUTHORIZED");
    admin
        .get("/api/v1/tenants/not-a-uuid")
        .await
        .expect(404, "TENANT_NOT_FOUND");
}

async fn tenant_owners_see_only_their_own_tenant(b: Backend) {
    let app = shared(b).await;
    let a = app.new_tenant().await;
    let other = app.new_tenant().await;
    a.owner
        .get("/api/v1/tenants")
        .await
        .expect(403, "FORBIDDEN");
    a.owner
        .post(
            "/api/v1/tenants",
            json!({ "name": "Mine", "slug": "mine-x" }),
        )
        .await
        .expect(403, "FORBIDDEN");
    assert_eq!(
        a.owner.get(&format!("/api/v1/tenants/{}", a.id)).await.ok()["id"],
        a.id.as_str()
    );
    // Another tenant is indistinguishable from a missing one.
    a.owner
        .get(&format!("/api/v1/tenants/{}", other.id))
        .await
        .expect(404, "TENANT_NOT_FOUND");
    a.owner
        .put(
            &format!("/api/v1/tenants/{}", other.id),
            json!({ "name": "Hijacked" }),
        )
        .await
        .expect(404, "TENANT_NOT_FOUND");
    a.owner
        .delete(&format!("/api/v1/tenants/{}", other.id))
        .await
        .expect(404, "TENANT_NOT_FOUND");
    a.owner
        .post(&format!("/api/v1/tenants/{}/suspend", other.id), json!({}))
        .await
        .expect(403, "FORBIDDEN");
    assert_eq!(
        other.owner.get("/api/v1/tenants/current").await.ok()["name"],
        format!("Tenant {}", other.slug)
    );
}

/// X-Tenant-ID must name the caller's tenant, except for a
/// platform administrator, for whom it selects the tenant to act on.
async fn x_tenant_id_selects_a_tenant_only_for_platform_admins(b: Backend) {
    let app = shared(b).await;
    let a = app.new_tenant().await;
    let other = app.new_tenant().await;
    let r = a
        .owner
        .with_tenant(&other.id)
        .get("/api/v1/tenants/current")
        .await;
    r.expect(404, "TENANT_NOT_FOUND");
    let r = a.owner.with_tenant(&other.id).me().await;
    r.expect(404, "TENANT_NOT_FOUND");
    let admin = app.admin().await;
    let r = admin
        .with_tenant(&other.id)
        .get("/api/v1/tenants/current")
        .await;
    assert_eq!(r.ok()["id"], other.id.as_str());
    admin
        .with_tenant("00000000-0000-4000-8000-000000000000")
        .get("/api/v1/tenants/current")
        .await
        .expect(404, "TENANT_NOT_FOUND");
    admin
        .with_tenant("Nope!")
        .get("/api/v1/tenants/current")
        .await
        .expect(400, "VALIDATION_ERROR");
}

/// A suspended tenant's logins fail with TENANT_SUSPENDED, and so do its
/// existing tokens; reactivation restores both.
async fn suspended_tenant_refuses_logins_and_tokens(b: Backend) {
    let app = shared(b).await;
    let admin = app.admin().await;
    let t = app.new_tenant().await;
    let r = admin
        .post(
            &format!("/api/v1/tenants/{}/suspend", t.id),
            json!({ "reason": "unpaid" }),
        )
        .await;
    assert_eq!(r.ok()["status"], "suspended");
    let login = t.anonymous().try_login(&t.owner_email, PASSWORD).await;
    login.expect(403, "TENANT_SUSPENDED");
    t.owner.me().await.expect(403, "TENANT_SUSPENDED");
    app.api()
        .try_refresh(t.owner.refresh_token.as_deref().unwrap())
        .await
        .expect(403, "TENANT_SUSPENDED");
    // A body is optional on suspend; unknown fields are still refused.
    let path = format!("/api/v1/tenants/{}/suspend", t.id);
    let r = crate::support::Api::send(admin.request(reqwest::Method::POST, &path)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    admin
        .post(&path, json!({ "why": "x" }))
        .await
        .expect(400, "VALIDATION_ERROR");

    let r = admin
        .post(&format!("/api/v1/tenants/{}/reactivate", t.id), json!({}))
        .await;
    assert_eq!(r.ok()["status"], "active");
    assert_eq!(t.owner.me().await.status, 200);
    t.anonymous().login(&t.owner_email, PASSWORD).await;
}

async fn platform_tenant_cannot_be_suspended_or_deleted(b: Backend) {
    let app = shared(b).await;
    let admin = app.admin().await;
    let home = admin.get("/api/v1/tenants/current").await.ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    admin
        .post(&format!("/api/v1/tenants/{home}/suspend"), json!({}))
        .await
        .expect(409, "CONFLICT");
    admin
        .delete(&format!("/api/v1/tenants/{home}"))
        .await
        .expect(409, "CONFLICT");
    assert_eq!(
        admin.get("/api/v1/tenants/current").await.ok()["status"],
        "active"
    );
}
