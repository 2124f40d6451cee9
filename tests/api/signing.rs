//! Token-signing algorithms (`ITHBAT_SIGNING_ALG`): under RS256, ES256
//! (RFC 7518 3.4) and EdDSA (RFC 8037), access and ID tokens verify with an
//! independent JOSE implementation (jsonwebtoken's RustCrypto backend)
//! against the key the JWKS publishes, discovery names the algorithm, the
//! server's own verifiers accept the tokens, and a rotation to another
//! algorithm keeps the old tokens valid.

use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

use ithbat::domain::signing::SigningAlg;

use crate::support::{new_tenant, spawn, Api, Backend, ADMIN_EMAIL, ADMIN_PASSWORD};

on_both_backends!(
    es256_tokens_verify_with_the_jwks_and_survive_rotation_to_rs256,
    eddsa_tokens_verify_with_the_jwks_and_survive_rotation_to_rs256,
);

async fn es256_tokens_verify_with_the_jwks_and_survive_rotation_to_rs256(b: Backend) {
    every_verifier_accepts(b, SigningAlg::Es256, Algorithm::ES256).await;
}

async fn eddsa_tokens_verify_with_the_jwks_and_survive_rotation_to_rs256(b: Backend) {
    every_verifier_accepts(b, SigningAlg::EdDsa, Algorithm::EdDSA).await;
}

/// `token` verified by jsonwebtoken with the published key its header names.
async fn verify_with_jwks(api: &Api, token: &str, alg: Algorithm, aud: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, alg);
    let jwks: JwkSet =
        serde_json::from_value(api.get("/.well-known/jwks.json").await.body).unwrap();
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("the token's key is published");
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut v = Validation::new(alg);
    v.set_issuer(&[&api.base]);
    v.set_audience(&[aud]);
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .unwrap_or_else(|e| panic!("{alg:?} token does not verify with the JWKS: {e}"))
        .claims
}

async fn every_verifier_accepts(b: Backend, alg: SigningAlg, jose: Algorithm) {
    let app = spawn(b, |c| {
        c.signing_alg = alg;
        c.signing_key_pem = None;
        c.signing_key_refresh = Duration::from_secs(1);
    })
    .await;
    let api = app.api();

    let discovery = api.get("/.well-known/openid-configuration").await.body;
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!([alg.as_str()])
    );
    let jwks = api.get("/.well-known/jwks.json").await.body;
    let key = &jwks["keys"][0];
    assert_eq!(key["alg"], alg.as_str());
    assert_eq!(key["use"], "sig");
    assert!(
        key.get("d").is_none(),
        "no private part is published: {key}"
    );

    // A user's access and ID tokens.
    let login = api
        .post(
            "/api/v1/auth/login",
            json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.text);
    let access = login.body["data"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let id_token = login.body["data"]["idToken"].as_str().unwrap().to_string();
    let claims = verify_with_jwks(&api, &access, jose, &app.base).await;
    assert_eq!(claims["email"], ADMIN_EMAIL);
    verify_with_jwks(&api, &id_token, jose, &app.base).await;
    let admin = api.with_token(&access);
    admin.get("/api/v1/users/me").await.ok();
    // The server reads its own ID token as an id_token_hint (OpenID
    // Connect RP-Initiated Logout 1.0 2) and ends that session.
    let other = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let hint = {
        let r = api
            .post(
                "/api/v1/auth/login",
                json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }),
            )
            .await;
        let d = &r.body["data"];
        let token = d["accessToken"].as_str().unwrap().to_string();
        (
            api.with_token(&token),
            d["idToken"].as_str().unwrap().to_string(),
        )
    };
    api.get(&format!("/oauth/logout?id_token_hint={}", hint.1))
        .await;
    hint.0
        .get("/api/v1/users/me")
        .await
        .expect(401, "UNAUTHORIZED");
    other.get("/api/v1/users/me").await.ok();

    // A machine's token, used and introspected.
    let t = new_tenant(&api, &admin).await;
    let m = t.machine().await;
    let token = m.token().await;
    let claims = verify_with_jwks(&api, &token, jose, &app.base).await;
    assert_eq!(claims["client_id"], m.id.as_str());
    api.with_token(&token).get("/core/iam/v1/me").await.ok();
    let introspected = crate::support::oauth::post_form(
        &m.api,
        "/oauth/introspect",
        m.basic(),
        &[("token", token.as_str())],
    )
    .await;
    assert_eq!(introspected.body["active"], true, "{}", introspected.text);

    // Rotation to RS256: new tokens are RS256, the old ones still work,
    // and discovery names both.
    let mut config = ithbat::config::Config::new(app.db.url.clone());
    config.signing_alg = SigningAlg::Rs256;
    config.signing_key_refresh = Duration::from_secs(1);
    let new_kid = ithbat::service::tokens::rotate_offline(&config)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let rs256 = loop {
        let signed_in = api.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let token = signed_in.token.clone().unwrap();
        if jsonwebtoken::decode_header(&token).unwrap().kid.as_deref() == Some(&new_kid) {
            break token;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never signs with the new key"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    verify_with_jwks(&api, &rs256, Algorithm::RS256, &app.base).await;
    admin.get("/api/v1/users/me").await.ok();
    api.with_token(&token).get("/core/iam/v1/me").await.ok();
    verify_with_jwks(&api, &access, jose, &app.base).await;
    let discovery = api.get("/.well-known/openid-configuration").await.body;
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["RS256", alg.as_str()])
    );
}
