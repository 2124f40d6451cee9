//! Several instances on one PostgreSQL database (docs/deployment.md):
//! two real server processes started at the same instant on
//! a fresh database, tokens crossing between them, and a key rotation by
//! `ithbat rotate-keys` that both see: A by reading its keys again every
//! second, B (which would wait an hour) the moment a token names the new
//! key. Prints a transcript.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

use crate::support::instance::{self, Instance};
use crate::support::{spawn, Api, Backend, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD};

on_both_backends!(
    rotation_keeps_old_tokens_until_their_key_expires,
    a_change_on_one_instance_reaches_the_next_request_on_the_other,
);

/// The `kid` in a JWT's header.
fn kid(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_string()
}

/// The `kid`s a JWKS lists, sorted.
async fn jwks(api: &Api) -> Vec<String> {
    let r = api.get("/.well-known/jwks.json").await;
    let mut kids: Vec<String> = r.body["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.text))
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect();
    kids.sort();
    kids
}

fn short(kid: &str) -> &str {
    &kid[..8]
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ithbat-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Signs in at `api` until the access token is signed with `wanted`; the
/// instances pick a rotation up within their key refresh interval.
async fn sign_in_with_key(api: &Api, wanted: &str) -> (Api, usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let signed_in = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        if kid(signed_in.token.as_deref().unwrap()) == wanted {
            return (signed_in, attempts);
        }
        assert!(
            Instant::now() < deadline,
            "{} never signs with {wanted}",
            api.base
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The token of `who` (signed by one instance) against `at` (the other).
async fn status_of(who: &Api, at: &Api) -> u16 {
    Api {
        base: at.base.clone(),
        ..who.clone()
    }
    .get("/api/v1/users/me")
    .await
    .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_database_and_its_keys() {
    if crate::support::skip_postgres() {
        return;
    }
    let db = TestDb::create(Backend::Postgres).await;
    let ithbat::db::DatabaseUrl::Postgres(url) = db.url.clone() else {
        unreachable!()
    };
    let env = [
        ("DATABASE_URL", url.clone()),
        ("ITHBAT_LISTEN", "127.0.0.1:0".to_string()),
        // Behind one load balancer: one public URL, one issuer.
        ("ITHBAT_PUBLIC_URL", "http://iam.ithbat.test".into()),
        ("ITHBAT_ADMIN_EMAIL", ADMIN_EMAIL.into()),
        ("ITHBAT_ADMIN_PASSWORD", ADMIN_PASSWORD.into()),
        ("ITHBAT_ARGON2_MEMORY_KIB", "256".into()),
        ("ITHBAT_ARGON2_ITERATIONS", "1".into()),
        ("RUST_LOG", "info".into()),
    ];
    let with_refresh = |secs: &str| {
        let mut env = env.to_vec();
        env.push(("ITHBAT_SIGNING_KEY_REFRESH", secs.to_string()));
        env
    };
    let (env_a, env_b) = (with_refresh("1"), with_refresh("3600"));
    let say = |line: String| eprintln!("[two instances] {line}");
    say(format!(
        "fresh PostgreSQL database {}; starting A and B at the same instant",
        url.rsplit('/').next().unwrap()
    ));
    let (dir_a, dir_b) = (temp_dir("a"), temp_dir("b"));
    let (a, b) = tokio::join!(
        Instance::start(&dir_a, &env_a),
        Instance::start(&dir_b, &env_b)
    );
    let (a, b) = match (a, b) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => panic!(
            "an instance did not start\nA: {:#?}\nB: {:#?}",
            a.map(|i| i.log).unwrap_or_else(|log| log),
            b.map(|i| i.log).unwrap_or_else(|log| log)
        ),
    };
    say(format!("A listens on {}, B on {}", a.base, b.base));
    for (name, i) in [("A", &a), ("B", &b)] {
        for line in i.log.iter().filter(|l| {
            l.contains("first start") || l.contains("signing key") || l.contains("migration")
        }) {
            say(format!(
                "  {name} log: {}",
                line.split_once(" INFO ").map_or(line.as_str(), |(_, l)| l)
            ));
        }
    }

    let tenants = db.texts("SELECT slug AS v FROM tenants").await;
    let admins = db
        .texts("SELECT email AS v FROM users WHERE is_platform_admin")
        .await;
    let keys = db
        .texts("SELECT kid AS v FROM signing_keys WHERE retired_at IS NULL")
        .await;
    say(format!(
        "database: tenants {tenants:?}, platform administrators {admins:?}, signing keys {:?}",
        keys.iter().map(|k| short(k)).collect::<Vec<_>>()
    ));
    assert_eq!(tenants, ["default"]);
    assert_eq!(admins, [ADMIN_EMAIL]);
    assert_eq!(keys.len(), 1, "one signing key for both");
    let first_key = keys[0].clone();

    let (api_a, api_b) = (Api::new(&a.base), Api::new(&b.base));
    let old_a = api_a.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let old_b = api_b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (a_on_b, b_on_a) = (
        status_of(&old_a, &api_b).await,
        status_of(&old_b, &api_a).await,
    );
    say(format!(
        "token signed by A (kid {}) on B: {a_on_b}; token signed by B (kid {}) on A: {b_on_a}",
        short(&kid(old_a.token.as_deref().unwrap())),
        short(&kid(old_b.token.as_deref().unwrap()))
    ));
    assert_eq!((a_on_b, b_on_a), (200, 200));

    let (ok, stdout, stderr) = instance::run(&dir_a, &env_a, &["rotate-keys"]).await;
    say(format!("`ithbat rotate-keys`: {}", stdout.trim()));
    assert!(ok, "rotate-keys failed: {stdout}{stderr}");
    let keys = db
        .texts("SELECT kid AS v FROM signing_keys WHERE retired_at IS NULL")
        .await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let new_key = keys[0].clone();
    assert_ne!(new_key, first_key);

    let (new_a, tries) = sign_in_with_key(&api_a, &new_key).await;
    say(format!(
        "A signs with the new key {} (sign-in #{tries}, after its refresh)",
        short(&new_key)
    ));
    let a_on_b = status_of(&new_a, &api_b).await;
    say(format!(
        "new token of A on B: {a_on_b} (B had not read the new key yet)"
    ));
    assert_eq!(a_on_b, 200);
    let new_b = api_b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let kid_b = kid(new_b.token.as_deref().unwrap());
    say(format!("B signs with {} now", short(&kid_b)));
    assert_eq!(kid_b, new_key, "B read every key, the new signing key too");
    let crossings = [
        ("new token of B on A", status_of(&new_b, &api_a).await),
        ("old token of A on A", status_of(&old_a, &api_a).await),
        ("old token of A on B", status_of(&old_a, &api_b).await),
        ("old token of B on A", status_of(&old_b, &api_a).await),
        ("old token of B on B", status_of(&old_b, &api_b).await),
    ];
    say(crossings
        .iter()
        .map(|(what, status)| format!("{what}: {status}"))
        .collect::<Vec<_>>()
        .join("; "));
    for (what, status) in crossings {
        assert_eq!(status, 200, "{what}");
    }
    let mut both = vec![first_key.clone(), new_key.clone()];
    both.sort();
    let (jwks_a, jwks_b) = (jwks(&api_a).await, jwks(&api_b).await);
    say(format!(
        "JWKS of A: {:?}; JWKS of B: {:?}",
        jwks_a.iter().map(|k| short(k)).collect::<Vec<_>>(),
        jwks_b.iter().map(|k| short(k)).collect::<Vec<_>>()
    ));
    assert_eq!(jwks_a, both);
    assert_eq!(jwks_b, both);
    a.stop().await;
    let log_b = b.stop().await;
    let learned = log_b
        .iter()
        .find(|l| l.contains("read the signing keys for the new key"))
        .expect("B read the keys for the new kid");
    say(format!(
        "B log: {}",
        learned
            .split_once(" INFO ")
            .map_or(learned.as_str(), |(_, l)| l)
    ));
    say("both stopped".into());
}

/// A token whose header names `kid` (its signature is then wrong).
fn naming(token: &str, kid: &str) -> String {
    let header = serde_json::json!({ "alg": "RS256", "typ": "at+jwt", "kid": kid });
    let (_, rest) = token.split_once('.').unwrap();
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()))
}

/// Polls the server's JWKS until it is `wanted` (the server reads its keys
/// again every second here).
async fn wait_for_jwks(api: &Api, wanted: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while jwks(api).await != wanted {
        assert!(Instant::now() < deadline, "JWKS never became {wanted:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// RFC 7517 key rotation: after `rotate`, the new key signs, tokens of the
/// old one verify until they could have expired, and the JWKS lists both
/// until then; tokens naming keys nobody has are refused.
async fn rotation_keeps_old_tokens_until_their_key_expires(b: Backend) {
    let app = spawn(b, |c| c.signing_key_refresh = Duration::from_secs(1)).await;
    let api = app.api();
    let old = app.admin().await;
    let old_key = kid(old.token.as_deref().unwrap());
    let forged = old.with_token(&naming(old.token.as_deref().unwrap(), "no-such-key"));
    let flood = futures_util::future::join_all((0..20).map(|_| forged.get("/api/v1/users/me")));
    for r in flood.await {
        r.expect(401, "UNAUTHORIZED");
    }

    let mut config = ithbat::config::Config::new(app.db.url.clone());
    config.signing_key_refresh = Duration::from_secs(1);
    let new_key = ithbat::service::tokens::rotate_offline(&config)
        .await
        .unwrap();
    let (new, _) = sign_in_with_key(&api, &new_key).await;
    new.get("/api/v1/users/me").await.ok();
    old.get("/api/v1/users/me").await.ok();
    let mut both = vec![old_key.clone(), new_key.clone()];
    both.sort();
    assert_eq!(jwks(&api).await, both);

    // Retired longer ago than any token it signed can live: gone.
    app.db
        .execute(&format!(
            "UPDATE signing_keys SET retired_at = '2000-01-01T00:00:00.000000Z' WHERE kid = '{old_key}'"
        ))
        .await;
    wait_for_jwks(&api, &[new_key]).await;
    old.get("/api/v1/users/me")
        .await
        .expect(401, "UNAUTHORIZED");
    new.get("/api/v1/users/me").await.ok();
}

/// `api`'s credentials, sent to the server at `base`.
fn at(api: &Api, base: &str) -> Api {
    Api {
        base: base.to_string(),
        ..api.clone()
    }
}

/// Each instance keeps the callers it resolved (docs/design/authorization.md,
/// "Caching callers"); a change made through one instance reaches the very
/// next request on the other: a role given and taken away, a session
/// ended, a user suspended, a client disabled, a tenant suspended. B
/// resolved each caller (and would keep it) before A changed it.
async fn a_change_on_one_instance_reaches_the_next_request_on_the_other(b: Backend) {
    // Behind one load balancer: one public URL, one issuer.
    let issuer = Some("http://iam.ithbat.test".to_string());
    let a = spawn(b, |c| c.public_url = issuer.clone()).await;
    let mut config_b = crate::support::test_config(a.db.url.clone());
    config_b.public_url = issuer;
    let server_b = ithbat::startup::Server::build(config_b)
        .await
        .expect("B starts on A's database");
    let base_b = format!("http://{}", server_b.addr);
    let handle_b = server_b.handle();
    tokio::spawn(server_b.run());

    let admin = a.admin().await;
    let t = crate::support::new_tenant(&a.api(), &admin).await;
    let u = t.user("casey").await;
    let on_b = at(&u.api, &base_b);

    // A role given on A lets the next request on B through; taken away on
    // A, the next one on B is refused again.
    on_b.get("/api/v1/users").await.expect(403, "FORBIDDEN");
    on_b.get("/api/v1/users").await.expect(403, "FORBIDDEN");
    let role = t.role_with("readers", &["user:read"]).await;
    t.give_role(&u.id, &role).await;
    on_b.get("/api/v1/users").await.ok();
    on_b.get("/api/v1/users").await.ok();
    t.owner
        .delete(&format!("/api/v1/users/{}/roles/{role}", u.id))
        .await
        .ok();
    on_b.get("/api/v1/users").await.expect(403, "FORBIDDEN");

    // A SCIM token made by a user who holds user:write through a role:
    // the role taken away on A, the token holds nothing on B; revoked on
    // A, it is refused on B.
    let maker = t
        .user_holding("maker", &["user:read", "user:write", "scim:write"])
        .await;
    let made = maker
        .api
        .post("/api/v1/scim/tokens", serde_json::json!({ "name": "sync" }))
        .await;
    let scim_token = made.ok()["token"].as_str().unwrap().to_string();
    let scim_id = made.ok()["id"].as_str().unwrap().to_string();
    let scim_on_b = Api::new(&base_b).with_token(&scim_token);
    for _ in 0..2 {
        assert_eq!(scim_on_b.get("/scim/v2/Users?count=1").await.status, 200);
    }
    let maker_role = t.role_id("maker role").await;
    t.owner
        .delete(&format!("/api/v1/users/{}/roles/{maker_role}", maker.id))
        .await
        .ok();
    assert_eq!(scim_on_b.get("/scim/v2/Users?count=1").await.status, 403);
    t.owner
        .delete(&format!("/api/v1/scim/tokens/{scim_id}"))
        .await
        .ok();
    assert_eq!(scim_on_b.get("/scim/v2/Users?count=1").await.status, 401);

    // A session ended on A.
    let second = u
        .api
        .anonymous()
        .login(&u.email, crate::support::PASSWORD)
        .await;
    let second_on_b = at(&second, &base_b);
    second_on_b.me().await.ok();
    second.post_empty("/api/v1/auth/logout").await.ok();
    second_on_b.me().await.expect(401, "UNAUTHORIZED");
    on_b.me().await.ok();

    // A client disabled on A.
    let m = t.machine().await;
    let machine_on_b = at(&m.bearer().await, &base_b);
    assert_eq!(machine_on_b.get("/core/iam/v1/scopes").await.status, 200);
    t.owner
        .put(
            &format!("/core/iam/v1/clients/{}", m.id),
            serde_json::json!({ "enabled": false }),
        )
        .await
        .ok();
    assert_eq!(machine_on_b.get("/core/iam/v1/scopes").await.status, 401);

    // The user suspended on A.
    t.owner
        .post(
            &format!("/api/v1/users/{}/suspend", u.id),
            serde_json::json!({}),
        )
        .await
        .ok();
    on_b.me().await.expect(401, "UNAUTHORIZED");

    // The tenant suspended on A: its owner's next request on B is refused.
    let owner_on_b = at(&t.owner, &base_b);
    owner_on_b.me().await.ok();
    admin
        .post(
            &format!("/api/v1/tenants/{}/suspend", t.id),
            serde_json::json!({}),
        )
        .await
        .ok();
    let r = owner_on_b.me().await;
    assert!(
        r.status == 401 || r.status == 403,
        "a suspended tenant's owner on B: {} {}",
        r.status,
        r.text
    );
    handle_b.stop(true).await;
}
