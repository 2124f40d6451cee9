//! First start and restarts (docs/deployment.md, One instance).

use serde_json::json;

use crate::support::{spawn, spawn_on, Backend, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD};

on_both_backends!(
    first_start_creates_the_default_tenant_and_platform_admin,
    without_a_configured_password_one_is_generated,
    a_weak_configured_admin_password_is_refused,
    restart_keeps_data_keys_and_sessions,
);

/// "On an empty database the server creates the tenant `default` and a
/// platform administrator (all permissions, may act on any tenant) with
/// ITHBAT_ADMIN_EMAIL/ITHBAT_ADMIN_PASSWORD".
async fn first_start_creates_the_default_tenant_and_platform_admin(b: Backend) {
    let app = spawn(b, |_| {}).await;
    assert!(app.generated_admin_password.is_none());
    let admin = app.admin().await;
    let tenant = admin.get("/api/v1/tenants/current").await;
    assert_eq!(tenant.ok()["slug"], "default");
    let me = admin.me().await;
    assert_eq!(me.ok()["email"], ADMIN_EMAIL);
    assert_eq!(me.ok()["roles"], json!(["owner"]));
    // Public auth endpoints without X-Tenant-ID mean `default`.
    let list = admin.get("/api/v1/tenants").await;
    assert_eq!(list.ok()["total"], 1);
}

/// "without them it uses admin@localhost and a random password printed once".
async fn without_a_configured_password_one_is_generated(b: Backend) {
    let app = spawn(b, |c| {
        c.admin_email = None;
        c.admin_password = None;
    })
    .await;
    let password = app
        .generated_admin_password
        .clone()
        .expect("a generated password");
    assert!(password.len() >= 16);
    let admin = app.api().login("admin@localhost", &password).await;
    assert_eq!(admin.me().await.ok()["email"], "admin@localhost");
}

/// A configured password must meet the default policy: the server refuses
/// to start rather than create a guessable administrator.
async fn a_weak_configured_admin_password_is_refused(b: Backend) {
    let db = TestDb::create(b).await;
    let mut config = crate::support::test_config(db.url.clone());
    config.admin_password = Some("password".into());
    let err = ithbat::startup::Server::build(config)
        .await
        .err()
        .expect("refused");
    assert!(err.contains("ITHBAT_ADMIN_PASSWORD"), "{err}");
}

/// A restart on the same database bootstraps nothing new, keeps the signing
/// key (old tokens still verify) and keeps sessions.
async fn restart_keeps_data_keys_and_sessions(b: Backend) {
    // A fixed issuer: the restarted server listens on another port.
    let issuer = "http://ithbat.test".to_string();
    let first_issuer = issuer.clone();
    let app = spawn(b, |c| {
        c.signing_key_pem = None;
        c.public_url = Some(first_issuer);
    })
    .await;
    let admin = app.admin().await;
    let jwks_before = app.api().get("/.well-known/jwks.json").await.body;
    app.stop().await;
    let app = {
        let db = std::mem::replace(&mut { app }.db, TestDb::create(b).await);
        spawn_on(db, |c| {
            c.signing_key_pem = None;
            c.public_url = Some(issuer);
            c.admin_password = Some("Different!Passw0rd".into());
        })
        .await
    };
    let jwks_after = app.api().get("/.well-known/jwks.json").await.body;
    assert_eq!(
        jwks_before, jwks_after,
        "the signing key is stored, not regenerated"
    );
    let admin = crate::support::Api {
        base: app.base.clone(),
        ..admin
    };
    assert_eq!(admin.me().await.status, 200, "old token still valid");
    assert_eq!(admin.get("/api/v1/tenants").await.ok()["total"], 1);
    // The original password still works; the new setting bootstrapped nothing.
    app.api().login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
}
