//! Aritma domains under /core/iam (docs/api/iam.md, Domains):
//! register (`POST /v1/domains?domain=` -> Pending with a verification
//! token), publish the token as a DNS TXT record, `GET /v1/domains/status`
//! until Confirmed, list (`filter`), unregister. Verification asks a real
//! DNS server on loopback (`support::dns`) through the server's resolver.

use serde_json::Value;

use crate::support::dns::shared_dns;
use crate::support::{pluck, shared, tenant, Backend, Resp, TestTenant};

on_both_backends!(
    a_domain_is_registered_then_verified_over_dns,
    names_are_normalized_and_bad_ones_change_nothing,
    only_one_tenant_owns_a_verified_domain,
    concurrent_verifications_leave_one_owner,
    another_tenants_domains_are_not_found,
    permissions_and_dns_failures,
);

fn q(name: &str) -> String {
    serde_urlencoded::to_string([("domain", name)]).unwrap()
}

async fn register(t: &TestTenant, name: &str) -> Resp {
    t.owner
        .post(&format!("/core/iam/v1/domains?{}", q(name)), Value::Null)
        .await
}

async fn status(t: &TestTenant, name: &str) -> Resp {
    t.owner
        .get(&format!("/core/iam/v1/domains/status?{}", q(name)))
        .await
}

async fn list(t: &TestTenant) -> Vec<Value> {
    let r = t.owner.get("/core/iam/v1/domains").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body.as_array().unwrap().clone()
}

/// The audit actions recorded on the tenant's domains, oldest first.
async fn domain_events(t: &TestTenant) -> Vec<String> {
    let r = t.audit("targetType=domain&sortOrder=asc&limit=100").await;
    r.ok()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

/// A domain name no other test uses (the DNS server is shared).
fn fresh(t: &TestTenant, label: &str) -> String {
    format!("{label}.{}.example", t.slug)
}

/// Register answers `{"domain","status":"Pending",
/// "verificationToken":"ithbat-verify-<uuid>"}` (docs/api/iam.md, Domains);
/// the token goes into a TXT record; status is Pending, then Confirmed
/// with the token left out.
async fn a_domain_is_registered_then_verified_over_dns(b: Backend) {
    let t = tenant(b).await;
    let name = fresh(&t, "acme");
    let r = register(&t, &name.to_uppercase()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["domain"], name.as_str());
    assert_eq!(r.body["status"], "Pending");
    let token = r.body["verificationToken"].as_str().unwrap().to_string();
    let uuid = token.strip_prefix("ithbat-verify-").expect("prefix");
    assert!(uuid::Uuid::parse_str(uuid).is_ok(), "{token}");
    // Registering again answers the same registration and changes nothing.
    let again = register(&t, &name).await;
    assert_eq!(again.body["verificationToken"], token.as_str());

    // Nothing published yet, then something else: still pending.
    let r = status(&t, &name).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "Pending");
    assert_eq!(r.body["verificationToken"], token.as_str());
    shared_dns().publish(&name, "v=spf1 -all");
    shared_dns().publish(&name, "ithbat-verify-00000000-0000-0000-0000-000000000000");
    assert_eq!(status(&t, &name).await.body["status"], "Pending");

    // The token in a TXT record at the domain: confirmed.
    shared_dns().publish(&name, &token);
    let r = status(&t, &name).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "Confirmed");
    assert!(r.body.get("verificationToken").is_none(), "{}", r.text);
    // Confirmed stays confirmed when the record goes.
    shared_dns().withdraw(&name);
    assert_eq!(status(&t, &name).await.body["status"], "Confirmed");

    let domains = list(&t).await;
    assert_eq!(domains.len(), 1);
    assert_eq!(domains[0]["domain"], name.as_str());
    assert_eq!(domains[0]["status"], "Confirmed");
    assert_eq!(
        domain_events(&t).await,
        ["domain.registered", "domain.verified"]
    );
}

/// Names are compared as DNS does: lowercase, IDNA (UTS 46) to A-labels,
/// no trailing dot. Anything that is not a domain is refused naming
/// `domain`, and nothing is registered.
async fn names_are_normalized_and_bad_ones_change_nothing(b: Backend) {
    let t = tenant(b).await;
    let unicode = format!("Bücher.{}.Example.", t.slug);
    let ascii = format!("xn--bcher-kva.{}.example", t.slug);
    let r = register(&t, &unicode).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["domain"], ascii.as_str());
    // The same name in either spelling is the same registration.
    let token = r.body["verificationToken"].clone();
    assert_eq!(register(&t, &ascii).await.body["verificationToken"], token);
    assert_eq!(status(&t, &ascii).await.body["status"], "Pending");
    register(&t, &fresh(&t, "other")).await;

    for bad in [
        "",
        "localhost",
        "192.168.0.1",
        "*.example.com",
        "exa mple.com",
        "-bad.example",
        "a@b.example",
        "https://example.com/",
    ] {
        let r = register(&t, bad).await;
        assert_eq!(r.status, 400, "{bad:?}: {}", r.text);
        assert_eq!(r.fields(), ["domain"], "{bad:?}");
        assert!(r.problem().is_some());
    }
    let r = t.owner.post("/core/iam/v1/domains", Value::Null).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.fields(), ["domain"]);
    assert_eq!(list(&t).await.len(), 2);

    // An unknown name is NotRegistered, without a token.
    let r = status(&t, &fresh(&t, "unknown")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "NotRegistered");
    assert!(r.body.get("verificationToken").is_none());

    // filter: a part of the name, in either spelling.
    let r = t.owner.get("/core/iam/v1/domains?filter=B%C3%BCcher").await;
    let names: Vec<&str> = pluck(&r.body, "/domain");
    assert_eq!(names, [ascii.as_str()]);
    let r = t
        .owner
        .get("/core/iam/v1/domains?filter=nothing-like-it")
        .await;
    assert_eq!(r.body, serde_json::json!([]));
    assert_eq!(domain_events(&t).await.len(), 2);
}

/// Only one tenant can own a verified domain. Another
/// tenant may register it, but not verify it while it is owned (409),
/// even with its own token published; once the owner lets go, it can.
async fn only_one_tenant_owns_a_verified_domain(b: Backend) {
    let app = shared(b).await;
    let a = app.new_tenant().await;
    let other = app.new_tenant().await;
    let name = fresh(&a, "contested");
    let token_a = register(&a, &name).await.body["verificationToken"]
        .as_str()
        .unwrap()
        .to_string();
    shared_dns().publish(&name, &token_a);
    assert_eq!(status(&a, &name).await.body["status"], "Confirmed");

    let r = register(&other, &name).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token_b = r.body["verificationToken"].as_str().unwrap().to_string();
    assert_ne!(token_a, token_b);
    shared_dns().publish(&name, &token_b);
    let r = status(&other, &name).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.code(), "CONFLICT");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("another tenant"),
        "{}",
        r.text
    );
    assert_eq!(list(&other).await[0]["status"], "Pending");
    assert_eq!(status(&a, &name).await.body["status"], "Confirmed");
    assert_eq!(domain_events(&other).await, ["domain.registered"]);

    // The owner unregisters it: the other tenant's record now counts.
    let r = a
        .owner
        .delete(&format!("/core/iam/v1/domains?{}", q(&name)))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, "");
    assert_eq!(status(&other, &name).await.body["status"], "Confirmed");
    // ... and the first tenant cannot take it back.
    register(&a, &name).await;
    let r = status(&a, &name).await;
    assert_eq!(r.status, 409, "{}", r.text);
}

/// Two tenants with their tokens both published verify at the same moment:
/// the unique index on verified names lets exactly one win; the other is
/// 409 as if it had come later.
async fn concurrent_verifications_leave_one_owner(b: Backend) {
    let app = shared(b).await;
    let a = app.new_tenant().await;
    let other = app.new_tenant().await;
    for round in 0..3 {
        let name = fresh(&a, &format!("race{round}"));
        for t in [&a, &other] {
            let token = register(t, &name).await.body["verificationToken"]
                .as_str()
                .unwrap()
                .to_string();
            shared_dns().publish(&name, &token);
        }
        let (ra, rb) = tokio::join!(status(&a, &name), status(&other, &name));
        let mut statuses = [ra.status, rb.status];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{} / {}", ra.text, rb.text);
        let winner = if ra.status == 200 { &ra } else { &rb };
        assert_eq!(winner.body["status"], "Confirmed", "{}", winner.text);
        let confirmed = [list(&a).await, list(&other).await]
            .iter()
            .flatten()
            .filter(|d| d["domain"] == name.as_str() && d["status"] == "Confirmed")
            .count();
        assert_eq!(confirmed, 1);
    }
}

/// Another tenant's resources are indistinguishable from
/// ones that do not exist.
async fn another_tenants_domains_are_not_found(b: Backend) {
    let app = shared(b).await;
    let a = app.new_tenant().await;
    let other = app.new_tenant().await;
    let name = fresh(&a, "private");
    register(&a, &name).await;
    assert!(list(&other).await.is_empty());
    let r = status(&other, &name).await;
    assert_eq!(r.body["status"], "NotRegistered");
    assert!(r.body.get("verificationToken").is_none());
    let r = other
        .owner
        .delete(&format!("/core/iam/v1/domains?{}", q(&name)))
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.code(), "RESOURCE_NOT_FOUND");
    assert_eq!(r.body["detail"], "Domain not found");
    assert_eq!(list(&a).await.len(), 1);
}

/// `domain:read` lists and reads status, `domain:write` registers and
/// deletes; a DNS server that fails is 503, not a verdict; delete is
/// audited and a second delete is 404.
async fn permissions_and_dns_failures(b: Backend) {
    let t = tenant(b).await;
    let name = fresh(&t, "perm");
    register(&t, &name).await;
    let member = t.user("member").await;
    for r in [
        member.api.get("/core/iam/v1/domains").await,
        member
            .api
            .get(&format!("/core/iam/v1/domains/status?{}", q(&name)))
            .await,
        member
            .api
            .post(
                &format!("/core/iam/v1/domains?{}", q(&fresh(&t, "m"))),
                Value::Null,
            )
            .await,
        member
            .api
            .delete(&format!("/core/iam/v1/domains?{}", q(&name)))
            .await,
    ] {
        assert_eq!(r.status, 403, "{}", r.text);
        assert_eq!(r.code(), "FORBIDDEN");
    }
    assert_eq!(list(&t).await.len(), 1);

    shared_dns().fail(&name);
    let r = status(&t, &name).await;
    assert_eq!(r.status, 503, "{}", r.text);
    assert!(r.problem().is_some());
    assert_eq!(list(&t).await[0]["status"], "Pending");

    let path = format!("/core/iam/v1/domains?{}", q(&name));
    assert_eq!(t.owner.delete(&path).await.status, 200);
    let r = t.owner.delete(&path).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert!(list(&t).await.is_empty());
    assert_eq!(status(&t, &name).await.body["status"], "NotRegistered");
    assert_eq!(
        domain_events(&t).await,
        ["domain.registered", "domain.deleted"]
    );
}
