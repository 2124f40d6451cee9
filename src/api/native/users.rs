//! `/api/v1/users/me`: the caller's own profile (seed 001).

use actix_web::web::Data;
use actix_web::HttpResponse;
use serde::Deserialize;

use super::ok;
use super::views::UserView;
use crate::api::extract::{nullable, present, JsonBody};
use crate::domain::principal::Caller;
use crate::domain::session::Origin;
use crate::domain::Error;
use crate::service::users::ProfileChanges;
use crate::service::{users, App};

pub async fn me(app: Data<App>, caller: Caller) -> Result<HttpResponse, Error> {
    let me = app
        .run(move |app| async move { users::me(&app, &caller).await })
        .await?;
    Ok(ok(UserView::from(me)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PreferencesBody {
    #[serde(default, deserialize_with = "present")]
    theme: Option<String>,
    #[serde(default, deserialize_with = "present")]
    language: Option<String>,
    #[serde(default, deserialize_with = "present")]
    timezone: Option<String>,
}

/// Seed 001's four name fields, seed 000's `name` and `phoneNumber`, and
/// the preferences UserResponse shows. Only the fields sent change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateMeBody {
    #[serde(default, deserialize_with = "present")]
    first_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    father_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    grandfather_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    family_name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    phone_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    preferences: Option<PreferencesBody>,
}

pub async fn update_me(
    app: Data<App>,
    caller: Caller,
    origin: Origin,
    body: JsonBody<UpdateMeBody>,
) -> Result<HttpResponse, Error> {
    let b = body.0;
    let prefs = b.preferences.unwrap_or(PreferencesBody {
        theme: None,
        language: None,
        timezone: None,
    });
    let changes = ProfileChanges {
        name: b.name,
        first_name: b.first_name,
        father_name: b.father_name,
        grandfather_name: b.grandfather_name,
        family_name: b.family_name,
        phone_number: b.phone_number,
        theme: prefs.theme,
        language: prefs.language,
        timezone: prefs.timezone,
    };
    let me = app
        .run(move |app| async move { users::update_me(&app, &caller, changes, &origin).await })
        .await?;
    Ok(ok(UserView::from(me)))
}
