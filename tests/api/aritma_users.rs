//! Aritma users under /core/iam (docs/api/iam.md, Roles and users): list
//! (searchText, page, pageSize, the items/metadata/links envelope), get
//! (UserDto), a user's roles, invite (email, redirectUrl: mailed, and the link
//! returns to redirectUrl) and "Creates a user subject if their domain is
//! verified".

use serde_json::{json, Value};

use crate::support::dns::shared_dns;
use crate::support::smtp::shared_sink;
use crate::support::web::{field, Web};
use crate::support::{pluck, shared, Backend, Resp, TestTenant, PASSWORD};

on_both_backends!(
    users_are_listed_and_shown_as_user_dtos,
    roles_are_added_and_removed,
    an_invitation_returns_to_an_allowed_redirect_url,
    invitations_refuse_what_is_not_allowed,
    users_are_created_directly_only_on_verified_domains,
);

fn query(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

async fn invite(t: &TestTenant, pairs: &[(&str, &str)]) -> Resp {
    t.owner
        .post(
            &format!("/core/iam/v1/users/invite?{}", query(pairs)),
            Value::Null,
        )
        .await
}

/// Allows invitations to lead to `urls` (tenant settings `redirectUrls`).
async fn allow_redirects(t: &TestTenant, urls: &[&str]) {
    let r = t
        .owner
        .put("/api/v1/settings", json!({ "redirectUrls": urls }))
        .await;
    assert_eq!(r.ok()["redirectUrls"], json!(urls), "{}", r.text);
}

/// The user list: "items" of UserDto (id, userName, email,
/// phoneNumber, twoFactorEnabled, roles [RoleDto {id, name}]), "metadata"
/// {page (1-based), pageSize, totalCount}, "links" {first, previous,
/// next, last}. Get user: one UserDto.
async fn users_are_listed_and_shown_as_user_dtos(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let alice = t.user("alice").await;
    let r = t
        .owner
        .patch(
            &format!("/api/v1/users/{}", alice.id),
            json!({ "phoneNumber": "+4712345678" }),
        )
        .await;
    r.ok();
    t.user("alvin").await;
    t.user("bob").await;

    let r = t
        .owner
        .get("/core/iam/v1/users?searchText=al&page=1&pageSize=1")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["metadata"],
        json!({ "page": 1, "pageSize": 1, "totalCount": 2 })
    );
    let links = &r.body["links"];
    assert!(links["first"]
        .as_str()
        .unwrap()
        .ends_with("/core/iam/v1/users?searchText=al&page=1&pageSize=1"));
    assert!(links["next"].as_str().unwrap().contains("page=2"));
    assert_eq!(links["previous"], Value::Null);
    assert!(links["last"].as_str().unwrap().contains("page=2"));
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let keys: Vec<&String> = items[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "id",
            "userName",
            "email",
            "phoneNumber",
            "twoFactorEnabled",
            "roles"
        ]
    );

    let r = t
        .owner
        .get(&format!("/core/iam/v1/users/{}", alice.id))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let member = t.role_id("member").await;
    assert_eq!(
        r.body,
        json!({
            "id": alice.id, "userName": alice.email, "email": alice.email,
            "phoneNumber": "+4712345678", "twoFactorEnabled": false,
            "roles": [{ "id": member, "name": "member" }],
        })
    );
    let all = t.owner.get("/core/iam/v1/users").await;
    assert_eq!(all.body["metadata"]["totalCount"], 4, "{}", all.text);
    let bob = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"].as_str().unwrap().starts_with("bob@"))
        .unwrap()
        .clone();
    assert_eq!(bob["phoneNumber"], "", "required, so empty when unknown");

    // Bad input names the parameter; unknown and foreign ids are 404.
    let r = t.owner.get("/core/iam/v1/users?page=0&pageSize=1000").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.fields(), ["page", "pageSize"]);
    let other = app.new_tenant().await;
    for path in [
        "/core/iam/v1/users/not-a-uuid".to_string(),
        format!("/core/iam/v1/users/{}", uuid::Uuid::new_v4()),
        format!("/core/iam/v1/users/{}", other.owner_id),
    ] {
        let r = t.owner.get(&path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
        assert_eq!(r.body["detail"], "User not found");
    }
    let r = alice.api.get("/core/iam/v1/users").await;
    assert_eq!(r.status, 403, "{}", r.text);
}

/// A user's roles: POST and
/// DELETE /v1/users/{userId}/roles/{roleId}, 200 with no content.
async fn roles_are_added_and_removed(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let u = t.user("carol").await;
    let admin = t.role_id("admin").await;
    let path = format!("/core/iam/v1/users/{}/roles/{admin}", u.id);
    let r = t.owner.post(&path, Value::Null).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, "");
    let shown = t.owner.get(&format!("/core/iam/v1/users/{}", u.id)).await;
    let names: Vec<&str> = pluck(&shown.body["roles"], "/name");
    assert!(names.contains(&"admin"), "{}", shown.text);
    // Adding it again changes nothing.
    assert_eq!(t.owner.post(&path, Value::Null).await.status, 200);

    let r = t.owner.delete(&path).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = t.owner.delete(&path).await;
    assert_eq!(r.status, 404, "{}", r.text);
    let shown = t.owner.get(&format!("/core/iam/v1/users/{}", u.id)).await;
    assert_eq!(shown.body["roles"].as_array().unwrap().len(), 1);

    // Another tenant's role or user, or nonsense, is 404; nothing changes.
    let other = app.new_tenant().await;
    let foreign_role = other.role_id("admin").await;
    for path in [
        format!("/core/iam/v1/users/{}/roles/{foreign_role}", u.id),
        format!("/core/iam/v1/users/{}/roles/{admin}", other.owner_id),
        format!("/core/iam/v1/users/{}/roles/nope", u.id),
    ] {
        let r = t.owner.post(&path, Value::Null).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
        assert!(r.problem().is_some());
    }
    let shown = t.owner.get(&format!("/core/iam/v1/users/{}", u.id)).await;
    assert_eq!(shown.body["roles"].as_array().unwrap().len(), 1);
    // A member holds no role:write.
    let r = u.api.post(&path, Value::Null).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let events = t.audit(&format!("targetId={}&sortOrder=asc", u.id)).await;
    let actions: Vec<&str> = pluck(&events.ok()["events"], "/action");
    assert!(
        actions.ends_with(&["role.assigned", "role.revoked"]),
        "{actions:?}"
    );
}

/// Invite: the email address to send the invitation to, and the URL the
/// user is redirected to after accepting it (e.g.
/// https://app.example.com/accept-invite); No Content.
/// The mail links to the hosted join page; choosing a password there
/// leads to the redirect URL.
async fn an_invitation_returns_to_an_allowed_redirect_url(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let origin = format!("https://app.{}.example", t.slug);
    allow_redirects(&t, &[&origin]).await;
    let email = t.email("newcomer");
    let redirect = format!("{origin}/accept-invite?from=mail");
    let r = invite(&t, &[("email", &email), ("redirectUrl", &redirect)]).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(r.text, "");

    let mail = shared_sink().mail_to(&email).await;
    assert!(
        mail.subject.contains(&format!("Tenant {}", t.slug)),
        "{}",
        mail.subject
    );
    assert!(mail.text.contains("invited to join"), "{}", mail.text);
    let link = mail.link();
    assert!(
        link.starts_with(&format!("{}/account/join?token=inv_", app.base)),
        "{link}"
    );
    // Pending until accepted: no sign-in yet.
    let listed = t
        .owner
        .get("/api/v1/users?search=newcomer&status=pending")
        .await;
    assert_eq!(listed.ok()["total"], 1, "{}", listed.text);

    let mut web = Web::new(&app.base);
    let page = web.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains(&email));
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains(&format!("form-action 'self' {origin}")),
        "{csp}"
    );
    let token = field(&page.text, "token");
    let r = web
        .post_form(
            "/account/join",
            &[
                ("token", &token),
                ("csrf", &field(&page.text, "csrf")),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.header("location"), Some(redirect.as_str()));
    t.anonymous().login(&email, PASSWORD).await;

    // Inviting someone who has joined is a duplicate.
    let r = invite(&t, &[("email", &email)]).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.code(), "DUPLICATE_EMAIL");
}

/// Only redirect URLs on the tenant's allow-list (docs/security.md, Invitation
/// redirects): anything else is 400 naming redirectUrl, and nothing is created
/// or mailed. A pending invitee invited again gets a fresh link; the old one
/// dies.
async fn invitations_refuse_what_is_not_allowed(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let allowed = format!("https://portal.{}.example/welcome", t.slug);
    allow_redirects(&t, &[&allowed]).await;
    let email = t.email("careful");
    for bad in [
        format!("{allowed}/more"),
        format!("https://portal.{}.example/", t.slug),
        "https://evil.example/welcome".to_string(),
        format!("http://portal.{}.example/welcome", t.slug),
        "javascript:alert(1)".to_string(),
        "/relative".to_string(),
    ] {
        let r = invite(&t, &[("email", &email), ("redirectUrl", &bad)]).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        assert_eq!(r.fields(), ["redirectUrl"], "{bad}");
    }
    let r = invite(&t, &[("email", "not-an-email"), ("redirectUrl", &allowed)]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.fields(), ["email"]);
    let r = invite(&t, &[]).await;
    assert_eq!(r.fields(), ["email"], "{}", r.text);
    let listed = t.owner.get("/api/v1/users?search=careful").await;
    assert_eq!(listed.ok()["total"], 0, "{}", listed.text);
    assert!(shared_sink()
        .try_mail_to(&email, std::time::Duration::from_millis(500))
        .await
        .is_none());

    // The allow-list itself is checked; a bad one changes nothing.
    let r = t
        .owner
        .put(
            "/api/v1/settings",
            json!({ "redirectUrls": ["http://insecure.example"] }),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.fields(), ["redirectUrls"]);
    let settings = t.owner.get("/api/v1/settings").await;
    assert_eq!(settings.ok()["redirectUrls"], json!([allowed]));

    // Invited, invited again: the second link works, the first does not.
    assert_eq!(invite(&t, &[("email", &email)]).await.status, 204);
    let first = shared_sink().mail_to(&email).await.link();
    let r = invite(&t, &[("email", &email), ("redirectUrl", &allowed)]).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let second = shared_sink().mail_to(&email).await.link();
    assert_ne!(first, second);
    let mut web = Web::new(&app.base);
    let dead = web.get(&first).await;
    assert_eq!(dead.status, 400, "{}", dead.text);
    let page = web.get(&second).await;
    let r = web
        .post_form(
            "/account/join",
            &[
                ("token", &field(&page.text, "token")),
                ("csrf", &field(&page.text, "csrf")),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.header("location"), Some(allowed.as_str()), "{}", r.text);
    // A member may not invite.
    let member = t.user("plain").await;
    let r = member
        .api
        .post(
            &format!(
                "/core/iam/v1/users/invite?{}",
                query(&[("email", &t.email("x"))])
            ),
            Value::Null,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
}

/// Creates a user subject if their domain is verified: query
/// email, fullName, phoneNumber; 200 {userId, email, phoneNumber,
/// fullName}. A verified domain lets POST /v1/users/users create users
/// whose email is on that domain, with no invitation (docs/api/iam.md,
/// Domains).
async fn users_are_created_directly_only_on_verified_domains(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let domain = format!("staff.{}.example", t.slug);
    let email = format!("jane.doe@{domain}");
    let create = |pairs: Vec<(&'static str, String)>| {
        let owner = t.owner.clone();
        async move {
            let q = serde_urlencoded::to_string(&pairs).unwrap();
            owner
                .post(&format!("/core/iam/v1/users/users?{q}"), Value::Null)
                .await
        }
    };
    let jane = || {
        vec![
            ("email", email.clone()),
            ("fullName", "Jane Doe".to_string()),
            ("phoneNumber", "+4712345678".to_string()),
        ]
    };
    // Not registered, then registered but pending: refused, naming email.
    let r = create(jane()).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.fields(), ["email"]);
    assert!(r.text.contains("verified"), "{}", r.text);
    let token = t
        .owner
        .post(
            &format!("/core/iam/v1/domains?{}", query(&[("domain", &domain)])),
            Value::Null,
        )
        .await
        .body["verificationToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(create(jane()).await.status, 400);
    let listed = t.owner.get("/core/iam/v1/users?searchText=jane").await;
    assert_eq!(listed.body["metadata"]["totalCount"], 0);

    shared_dns().publish(&domain, &token);
    let r = t
        .owner
        .get(&format!(
            "/core/iam/v1/domains/status?{}",
            query(&[("domain", &domain)])
        ))
        .await;
    assert_eq!(r.body["status"], "Confirmed", "{}", r.text);

    let r = create(jane()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.body["userId"].as_str().unwrap().to_string();
    assert_eq!(
        r.body,
        json!({ "userId": id, "email": email, "phoneNumber": "+4712345678", "fullName": "Jane Doe" })
    );
    let shown = t.owner.get(&format!("/core/iam/v1/users/{id}")).await;
    assert_eq!(shown.body["email"], email.as_str());
    // No invitation: no mail.
    assert!(shared_sink()
        .try_mail_to(&email, std::time::Duration::from_millis(500))
        .await
        .is_none());

    // Again: a duplicate. An unencoded + (as Aritma clients send it) still
    // works.
    let r = create(jane()).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.code(), "DUPLICATE_EMAIL");
    let raw = format!(
        "/core/iam/v1/users/users?email=john@{domain}&fullName=John%20Roe&phoneNumber=+4798765432"
    );
    let r = t.owner.post(&raw, Value::Null).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["phoneNumber"], "+4798765432");

    // Missing or bad fields are named; a subdomain is another domain.
    let r = create(vec![("email", format!("x@{domain}"))]).await;
    assert_eq!(r.fields(), ["fullName"], "{}", r.text);
    let r = create(vec![
        ("email", format!("x@{domain}")),
        ("fullName", "X Y".into()),
        ("phoneNumber", "call me".into()),
    ])
    .await;
    assert_eq!(r.fields(), ["phoneNumber"], "{}", r.text);
    let r = create(vec![
        ("email", format!("x@eu.{domain}")),
        ("fullName", "X Y".into()),
    ])
    .await;
    assert_eq!(r.fields(), ["email"], "{}", r.text);

    // Another tenant cannot create users on this tenant's domain.
    let other = app.new_tenant().await;
    let r = other
        .owner
        .post(
            &format!(
                "/core/iam/v1/users/users?{}",
                query(&[
                    ("email", &format!("intruder@{domain}")),
                    ("fullName", "In Truder")
                ])
            ),
            Value::Null,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.fields(), ["email"]);

    // Unregistering stops direct creation; existing users stay.
    let r = t
        .owner
        .delete(&format!(
            "/core/iam/v1/domains?{}",
            query(&[("domain", &domain)])
        ))
        .await;
    assert_eq!(r.status, 200);
    let r = create(vec![
        ("email", format!("late@{domain}")),
        ("fullName", "Late Comer".into()),
    ])
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        t.owner
            .get(&format!("/core/iam/v1/users/{id}"))
            .await
            .status,
        200
    );
}
