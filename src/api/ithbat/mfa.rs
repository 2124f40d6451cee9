//! `/api/v1/auth/mfa/*` (docs/api/ithbat.md, Multi-factor sign-in;
//! docs/design/sign-in.md): TOTP enrolment of the signed-in
//! user, and the second step of a sign-in that answered `mfaRequired`.

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use super::auth::token_response;
use super::{message, ok};
use crate::api::extract::{present, requested_tenant, JsonBody, OptionalJsonBody};
use crate::api::openapi::schemas::{AnyObject, Message, Success};
use crate::api::openapi::NATIVE;
use crate::domain::mfa::{parse_backup_code, parse_totp_code};
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::{Error, Problems};
use crate::service::mfa::{self, Proof};
use crate::service::passwords::Password;
use crate::service::Gate;

/// A client may name a method; TOTP is the one offered (SMS, email and
/// WebAuthn are not).
fn check_method(problems: &mut Problems, method: Option<&str>) {
    if method.is_some_and(|m| m != "totp") {
        problems.add("method", "must be totp, the only method offered");
    }
}

fn check_password(problems: &mut Problems, password: &Password) {
    if password.expose().is_empty() {
        problems.add("password", "must not be empty");
    }
}

/// No body, or `{"method", "password"}`.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = native::mfa::SetupBody)]
pub struct SetupBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    method: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    #[schema(value_type = Option<String>)]
    password: Option<Password>,
}

/// `{"secret", "qrCodeUrl", "backupCodes": []}`, `qrCode` (another name
/// for the same image) and `otpauthUrl`, the URI the image
/// carries. Backup codes come with verify-setup, once MFA is on.
#[utoipa::path(post, path = "/api/v1/auth/mfa/setup", tag = NATIVE, request_body = Option<SetupBody>,
    responses((status = 200, description = "`{secret, qrCodeUrl, qrCode, otpauthUrl, backupCodes: []}`: enrolment starts; POST verify-setup turns it on", body = Success<AnyObject>)))]
pub async fn setup(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: OptionalJsonBody<SetupBody>,
) -> Result<HttpResponse, Error> {
    let body = body.0.unwrap_or_default();
    let mut problems = Problems::default();
    check_method(&mut problems, body.method.as_deref());
    if let Some(p) = &body.password {
        check_password(&mut problems, p);
    }
    problems.into_result()?;
    let password = body.password;
    let enrolment = gate
        .run(move |app| async move { mfa::setup(&app, &caller, password, &origin).await })
        .await?;
    let qr = qr_png_data_url(&enrolment.otpauth_url)?;
    Ok(ok(json!({
        "secret": enrolment.secret,
        "qrCodeUrl": qr,
        "qrCode": qr,
        "otpauthUrl": enrolment.otpauth_url,
        "backupCodes": [],
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = native::mfa::VerifySetupBody)]
pub struct VerifySetupBody {
    code: String,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    method: Option<String>,
}

/// Turns MFA on; the ten backup codes are shown this once.
#[utoipa::path(post, path = "/api/v1/auth/mfa/verify-setup", tag = NATIVE, request_body = VerifySetupBody,
    responses((status = 200, description = "`{message, backupCodes}`: MFA is on; the backup codes are shown this once", body = Success<AnyObject>)))]
pub async fn verify_setup(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<VerifySetupBody>,
) -> Result<HttpResponse, Error> {
    let body = body.0;
    let mut problems = Problems::default();
    check_method(&mut problems, body.method.as_deref());
    let code = problems.check("code", parse_totp_code(&body.code));
    problems.into_result()?;
    let code = code.unwrap_or_default();
    let codes = gate
        .run(move |app| async move { mfa::verify_setup(&app, &caller, &code, &origin).await })
        .await?;
    Ok(ok(
        json!({ "message": "MFA enabled", "backupCodes": codes }),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = native::mfa::DisableBody)]
pub struct DisableBody {
    #[schema(value_type = String)]
    password: Password,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    method: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/auth/mfa/disable", tag = NATIVE, request_body = DisableBody,
    responses((status = 200, description = "MFA is off", body = Message)))]
pub async fn disable(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<DisableBody>,
) -> Result<HttpResponse, Error> {
    let body = body.0;
    let mut problems = Problems::default();
    check_method(&mut problems, body.method.as_deref());
    check_password(&mut problems, &body.password);
    problems.into_result()?;
    let password = body.password;
    gate.run(move |app| async move { mfa::disable(&app, &caller, &password, &origin).await })
        .await?;
    Ok(message("MFA disabled", json!({})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = native::mfa::BackupCodesBody)]
pub struct BackupCodesBody {
    #[schema(value_type = String)]
    password: Password,
}

/// Ten new backup codes; the old ones stop working.
#[utoipa::path(post, path = "/api/v1/auth/mfa/backup-codes", tag = NATIVE, request_body = BackupCodesBody,
    responses((status = 200, description = "`{backupCodes}`: new codes; the old ones no longer work", body = Success<AnyObject>)))]
pub async fn backup_codes(
    gate: Data<Gate>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<BackupCodesBody>,
) -> Result<HttpResponse, Error> {
    let password = body.0.password;
    let mut problems = Problems::default();
    check_password(&mut problems, &password);
    problems.into_result()?;
    let codes = gate
        .run(move |app| async move {
            mfa::regenerate_backup_codes(&app, &caller, &password, &origin).await
        })
        .await?;
    Ok(ok(json!({ "backupCodes": codes })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = native::mfa::VerifyBody)]
pub struct VerifyBody {
    mfa_token: String,
    code: String,
}

/// Both second steps: the same body, the same token response as a
/// sign-in, a different kind of code.
async fn second_step(
    req: HttpRequest,
    gate: Data<Gate>,
    origin: Origin,
    body: VerifyBody,
    proof: fn(&str) -> Result<Proof, String>,
) -> Result<HttpResponse, Error> {
    let mut problems = Problems::default();
    if body.mfa_token.is_empty() {
        problems.add("mfaToken", "must not be empty");
    }
    let proof = problems.check("code", proof(&body.code));
    problems.into_result()?;
    let Some(proof) = proof else {
        return Err(Error::invalid("code", "is required"));
    };
    let tenant = requested_tenant(&req)?;
    let token = body.mfa_token;
    let tokens =
        gate.run(move |app| async move {
            mfa::verify(&app, tenant.as_ref(), &token, proof, &origin).await
        })
        .await?;
    Ok(token_response(tokens))
}

#[utoipa::path(post, path = "/api/v1/auth/mfa/verify", tag = NATIVE, request_body = VerifyBody, security(()),
    responses((status = 200, description = "Signed in: the tokens, as POST /api/v1/auth/login answers", body = Success<AnyObject>)))]
pub async fn verify(
    req: HttpRequest,
    gate: Data<Gate>,
    origin: Origin,
    body: JsonBody<VerifyBody>,
) -> Result<HttpResponse, Error> {
    second_step(req, gate, origin, body.0, |c| {
        parse_totp_code(c).map(Proof::Totp)
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/auth/mfa/verify-backup", tag = NATIVE, request_body = VerifyBody, security(()),
    responses((status = 200, description = "Signed in with a backup code, which is used up", body = Success<AnyObject>)))]
pub async fn verify_backup(
    req: HttpRequest,
    gate: Data<Gate>,
    origin: Origin,
    body: JsonBody<VerifyBody>,
) -> Result<HttpResponse, Error> {
    second_step(req, gate, origin, body.0, |c| {
        parse_backup_code(c).map(Proof::BackupCode)
    })
    .await
}

/// Pixels per QR module, and the quiet zone around the symbol in modules
/// (ISO/IEC 18004 asks for four).
const QR_SCALE: usize = 6;
const QR_QUIET: usize = 4;

/// The otpauth URI as a QR code in a `data:image/png;base64,` URL, which a
/// page can show as is (`<img src>`): black modules on white, 8-bit grey.
fn qr_png_data_url(text: &str) -> Result<String, Error> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(Error::internal)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QR_QUIET) * QR_SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + QR_QUIET, i / modules + QR_QUIET);
        for y in my * QR_SCALE..(my + 1) * QR_SCALE {
            pixels[y * side + mx * QR_SCALE..y * side + (mx + 1) * QR_SCALE].fill(0);
        }
    }
    let mut png = Vec::new();
    {
        let side = u32::try_from(side).map_err(Error::internal)?;
        let mut encoder = png::Encoder::new(&mut png, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(Error::internal)?;
        writer.write_image_data(&pixels).map_err(Error::internal)?;
    }
    Ok(format!("data:image/png;base64,{}", STANDARD.encode(png)))
}
