//! Rate limits (docs/api/ithbat.md, Rate limits and probes: free 100
//! requests/min, pro 1,000, enterprise custom; X-RateLimit-* on every response,
//! Retry-After and RATE_LIMIT_EXCEEDED on 429, sign-in also per address and
//! account; counters shared through Redis when REDIS_URL is set).

use serde_json::json;

use crate::support::{shared, spawn, Api, Backend, Resp, TestDb, PASSWORD};

on_both_backends!(
    responses_carry_the_rate_limit_headers,
    the_free_plan_allows_100_requests_a_minute,
    a_custom_limit_applies_at_once,
    requests_without_a_token_are_limited_per_address,
    sign_in_is_limited_per_address_and_per_account,
    instances_share_one_limit_through_redis,
);

fn header(r: &Resp, name: &str) -> i64 {
    r.header(name)
        .unwrap_or_else(|| panic!("{name} missing: {:?}", r.headers))
        .parse()
        .unwrap()
}

/// Fixed one-minute windows: start a counting test early in a window, so
/// that it does not straddle two. Exactly one request of `api` (this
/// probe) has then been counted in the current window.
async fn at_window_start(api: &Api, path: &str) {
    let r = api.get(path).await;
    let reset = header(&r, "x-ratelimit-reset");
    if reset < 15 {
        tokio::time::sleep(std::time::Duration::from_secs(reset as u64 + 1)).await;
        api.get(path).await;
    }
}

async fn responses_carry_the_rate_limit_headers(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let first = t.owner.me().await;
    let second = t.owner.me().await;
    assert_eq!(header(&first, "x-ratelimit-limit"), 1000, "a pro tenant");
    let (r1, r2) = (
        header(&first, "x-ratelimit-remaining"),
        header(&second, "x-ratelimit-remaining"),
    );
    let reset = header(&second, "x-ratelimit-reset");
    assert!((1..=60).contains(&reset));
    assert!(r2 < r1 || header(&second, "x-ratelimit-reset") > header(&first, "x-ratelimit-reset"));
    // Errors carry them too, and so do requests without a token.
    let missing = t.owner.get("/api/v1/users/not-a-uuid").await;
    assert_eq!(missing.status, 404);
    assert!(missing.header("x-ratelimit-limit").is_some());
    let anonymous = app.api().get("/.well-known/jwks.json").await;
    assert!(anonymous.header("x-ratelimit-remaining").is_some());
}

/// Free: 100 requests a minute. The 101st request in a minute is
/// refused with 429, RATE_LIMIT_EXCEEDED and Retry-After; other tenants
/// are not affected.
async fn the_free_plan_allows_100_requests_a_minute(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let admin = app.admin().await;
    admin
        .with_tenant(&t.id)
        .put("/api/v1/settings", json!({ "plan": "free" }))
        .await
        .ok();
    at_window_start(&t.owner, "/api/v1/tenants/current").await;
    let mut last = None;
    for _ in 0..100 {
        let r = t.owner.get("/api/v1/tenants/current").await;
        if r.status == 429 {
            break;
        }
        last = Some(r);
    }
    let last = last.unwrap();
    assert_eq!(header(&last, "x-ratelimit-limit"), 100);
    let refused = t.owner.me().await;
    refused.expect(429, "RATE_LIMIT_EXCEEDED");
    assert_eq!(header(&refused, "x-ratelimit-remaining"), 0);
    let retry = header(&refused, "retry-after");
    assert!((1..=60).contains(&retry));
    let other = app.new_tenant().await;
    assert_eq!(other.owner.me().await.status, 200);
}

/// A limit set per tenant, by a platform administrator.
async fn a_custom_limit_applies_at_once(b: Backend) {
    let app = shared(b).await;
    let t = app.new_tenant().await;
    let admin = app.admin().await;
    let r = admin
        .put(
            &format!("/api/v1/tenants/{}", t.id),
            json!({ "plan": "enterprise", "rateLimitPerMinute": 5 }),
        )
        .await;
    assert_eq!(r.ok()["rateLimitPerMinute"], 5);
    at_window_start(&t.owner, "/api/v1/users/me").await;
    let statuses: Vec<u16> = {
        let mut s = Vec::new();
        for _ in 0..6 {
            s.push(t.owner.me().await.status);
        }
        s
    };
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        2,
        "{statuses:?}"
    );
}

async fn requests_without_a_token_are_limited_per_address(b: Backend) {
    let app = spawn(b, |c| c.anonymous_rate_limit = 3).await;
    at_window_start(&app.api(), "/.well-known/jwks.json").await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(
            app.api()
                .get("/.well-known/openid-configuration")
                .await
                .status,
        );
    }
    assert_eq!(codes.iter().filter(|c| **c == 429).count(), 1, "{codes:?}");
    app.api()
        .get("/.well-known/jwks.json")
        .await
        .expect(429, "RATE_LIMIT_EXCEEDED");
    // Probes are not counted.
    assert_eq!(app.api().get("/healthz").await.status, 200);
    assert_eq!(app.api().get("/readyz").await.status, 200);
}

/// Sign-in and other public auth endpoints are also limited per client
/// address and per account.
async fn sign_in_is_limited_per_address_and_per_account(b: Backend) {
    let app = spawn(b, |c| {
        c.auth_rate_limit_per_account = 3;
        c.auth_rate_limit_per_ip = 7;
    })
    .await;
    // Windows are aligned for every key: start well inside one.
    at_window_start(&app.api(), "/.well-known/jwks.json").await;
    let admin = app.admin().await;
    let t = crate::support::new_tenant(&app.api(), &admin).await;
    let second = t.user("second").await;
    // Sign-ins from this address so far: admin, owner, second (3 of 7).
    let api = t.anonymous();
    let login = |email: String| {
        let api = api.clone();
        async move { api.try_login(&email, PASSWORD).await }
    };
    assert_eq!(login(second.email.clone()).await.status, 200);
    assert_eq!(login(second.email.clone()).await.status, 200);
    // Per account: `second` has signed in three times this minute.
    let r = login(second.email.clone()).await;
    r.expect(429, "RATE_LIMIT_EXCEEDED");
    assert!(r.header("retry-after").is_some());
    // Another account from the same address still may: the 7th sign-in.
    assert_eq!(login(t.owner_email.clone()).await.status, 200);
    // Per address: the 8th is refused, whatever the account or endpoint.
    login(t.owner_email.clone())
        .await
        .expect(429, "RATE_LIMIT_EXCEEDED");
    api.try_refresh("rt_x")
        .await
        .expect(429, "RATE_LIMIT_EXCEEDED");
}

/// With REDIS_URL, two instances count against one limit.
async fn instances_share_one_limit_through_redis(b: Backend) {
    if std::env::var("ITHBAT_TEST_SKIP_REDIS").is_ok_and(|v| v == "1") {
        eprintln!("skipping the Redis test: ITHBAT_TEST_SKIP_REDIS=1");
        return;
    }
    let redis =
        std::env::var("ITHBAT_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let db = TestDb::create(b).await;
    let url = db.url.clone();
    // Two instances of one deployment: one database, one issuer, one Redis.
    let issuer = "http://ithbat.test".to_string();
    let first = crate::support::spawn_on(db, |c| {
        c.redis_url = Some(redis.clone());
        c.public_url = Some(issuer.clone());
    })
    .await;
    let second = ithbat::startup::Server::build({
        let mut c = crate::support::test_config(url);
        c.redis_url = Some(redis.clone());
        c.public_url = Some(issuer.clone());
        c
    })
    .await
    .expect("second instance starts");
    let second_base = format!("http://{}", second.addr);
    let handle = second.handle();
    tokio::spawn(second.run());

    let admin = first.admin().await;
    let t = crate::support::new_tenant(&first.api(), &admin).await;
    admin
        .put(
            &format!("/api/v1/tenants/{}", t.id),
            json!({ "rateLimitPerMinute": 6 }),
        )
        .await
        .ok();
    let on_second = Api {
        base: second_base,
        ..t.owner.clone()
    };
    at_window_start(&t.owner, "/api/v1/users/me").await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let api = if i % 2 == 0 { &t.owner } else { &on_second };
        statuses.push(api.me().await.status);
    }
    // The window-start probe counted too: 7 requests against a limit of 6.
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        1,
        "{statuses:?}"
    );
    handle.stop(false).await;
}
