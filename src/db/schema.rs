//! Table definitions shared by both backends. Hand-maintained (not generated
//! by `diesel print-schema`) because it uses the cross-backend types in
//! `db::types`; the migration-comparison test keeps it honest.

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    tenants (id) {
        id -> DbUuid,
        name -> Text,
        name_key -> Text,
        slug -> Text,
        plan -> Text,
        status -> Text,
        rate_limit_per_minute -> Nullable<Integer>,
        settings -> DbJson,
        created_at -> DbTimestamptz,
        updated_at -> DbTimestamptz,
        access_version -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    users (id) {
        id -> DbUuid,
        tenant_id -> DbUuid,
        email -> Nullable<Text>,
        email_key -> Nullable<Text>,
        search_key -> Text,
        first_name -> Text,
        father_name -> Text,
        grandfather_name -> Text,
        family_name -> Text,
        phone_number -> Nullable<Text>,
        status -> Text,
        email_verified -> Bool,
        password_hash -> Nullable<Text>,
        password_changed_at -> Nullable<DbTimestamptz>,
        mfa_enabled -> Bool,
        is_platform_admin -> Bool,
        preferences -> DbJson,
        metadata -> DbJson,
        external_ids -> DbJson,
        last_login_at -> Nullable<DbTimestamptz>,
        created_at -> DbTimestamptz,
        updated_at -> DbTimestamptz,
        user_name -> Text,
        user_name_key -> Text,
        external_id -> Nullable<Text>,
        version -> Integer,
        organization_id -> Nullable<DbUuid>,
        name_key -> Text,
        picture_url -> Nullable<Text>,
        sso_channel -> Nullable<Text>,
        joined_at -> Nullable<DbTimestamptz>,
        invitation_expires_at -> Nullable<DbTimestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    user_attributes (user_id) {
        user_id -> DbUuid,
        display_name -> Nullable<Text>,
        nick_name -> Nullable<Text>,
        title -> Nullable<Text>,
        user_type -> Nullable<Text>,
        preferred_language -> Nullable<Text>,
        locale -> Nullable<Text>,
        timezone -> Nullable<Text>,
        profile_url -> Nullable<Text>,
        employee_number -> Nullable<Text>,
        cost_center -> Nullable<Text>,
        organization -> Nullable<Text>,
        division -> Nullable<Text>,
        department -> Nullable<Text>,
        manager_id -> Nullable<DbUuid>,
        addresses -> Nullable<DbJson>,
        other_attributes -> Nullable<DbJson>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    user_emails (user_id, position) {
        user_id -> DbUuid,
        position -> Integer,
        value -> Text,
        value_key -> Text,
        #[sql_name = "type"]
        kind -> Nullable<Text>,
        is_primary -> Bool,
        display -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    user_phone_numbers (user_id, position) {
        user_id -> DbUuid,
        position -> Integer,
        value -> Text,
        #[sql_name = "type"]
        kind -> Nullable<Text>,
        is_primary -> Bool,
        display -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    scim_tokens (id) {
        id -> DbUuid,
        tenant_id -> DbUuid,
        name -> Text,
        provider -> Nullable<Text>,
        provider_display_name -> Nullable<Text>,
        token_hash -> Text,
        token_hint -> Text,
        created_by -> Nullable<DbUuid>,
        created_at -> DbTimestamptz,
        last_used_at -> Nullable<DbTimestamptz>,
        minted_by -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    roles (id) {
        id -> DbUuid,
        tenant_id -> DbUuid,
        name -> Text,
        name_key -> Text,
        description -> Text,
        builtin -> Nullable<Text>,
        created_at -> DbTimestamptz,
        updated_at -> DbTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    role_permissions (role_id, permission) {
        role_id -> DbUuid,
        permission -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    user_roles (user_id, role_id) {
        user_id -> DbUuid,
        role_id -> DbUuid,
        assigned_at -> DbTimestamptz,
        scope -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    groups (id) {
        id -> DbUuid,
        tenant_id -> DbUuid,
        name -> Text,
        name_key -> Text,
        description -> Text,
        created_at -> DbTimestamptz,
        updated_at -> DbTimestamptz,
        external_id -> Nullable<Text>,
        version -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    group_members (group_id, user_id) {
        group_id -> DbUuid,
        user_id -> DbUuid,
        added_at -> DbTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    sessions (id) {
        id -> DbUuid,
        tenant_id -> DbUuid,
        user_id -> DbUuid,
        user_agent -> Text,
        ip_address -> Nullable<Text>,
        device_type -> Text,
        device_name -> Text,
        location -> Nullable<DbJson>,
        remember_me -> Bool,
        refresh_seq -> Integer,
        created_at -> DbTimestamptz,
        last_activity_at -> DbTimestamptz,
        expires_at -> DbTimestamptz,
        revoked_at -> Nullable<DbTimestamptz>,
        nonce -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> DbUuid,
        created_at -> DbTimestamptz,
        expires_at -> DbTimestamptz,
        used_at -> Nullable<DbTimestamptz>,
        client_id -> Nullable<DbUuid>,
        scope -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    login_throttles (tenant_id, email_key) {
        tenant_id -> DbUuid,
        email_key -> Text,
        failed_count -> Integer,
        pending_count -> Integer,
        window_started_at -> DbTimestamptz,
        locked_until -> Nullable<DbTimestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    signing_keys (kid) {
        kid -> Text,
        algorithm -> Text,
        private_key_pem -> Text,
        public_jwk -> DbJson,
        created_at -> DbTimestamptz,
        retired_at -> Nullable<DbTimestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    audit_events (id) {
        id -> DbUuid,
        tenant_id -> DbUuid,
        actor_type -> Text,
        actor_id -> Nullable<DbUuid>,
        actor_label -> Nullable<Text>,
        action -> Text,
        target_type -> Nullable<Text>,
        target_id -> Nullable<Text>,
        status -> Text,
        ip_address -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        details -> DbJson,
        created_at -> DbTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    organizations (id) {
        id -> DbUuid,
        tenant_id -> DbUuid,
        name -> Text,
        name_key -> Text,
        created_at -> DbTimestamptz,
        updated_at -> DbTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    account_tokens (token_hash) {
        token_hash -> Text,
        tenant_id -> DbUuid,
        user_id -> DbUuid,
        purpose -> Text,
        redirect_url -> Nullable<Text>,
        created_at -> DbTimestamptz,
        expires_at -> DbTimestamptz,
        used_at -> Nullable<DbTimestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    authorization_requests (id) {
        id -> DbUuid,
        tenant_id -> DbUuid,
        client_id -> DbUuid,
        redirect_uri -> Text,
        scope -> Text,
        state -> Nullable<Text>,
        nonce -> Nullable<Text>,
        code_challenge -> Text,
        csrf_hash -> Text,
        created_at -> DbTimestamptz,
        expires_at -> DbTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    authorization_codes (code_hash) {
        code_hash -> Text,
        tenant_id -> DbUuid,
        client_id -> DbUuid,
        session_id -> DbUuid,
        redirect_uri -> Text,
        scope -> Text,
        nonce -> Nullable<Text>,
        code_challenge -> Text,
        created_at -> DbTimestamptz,
        expires_at -> DbTimestamptz,
        used_at -> Nullable<DbTimestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    browser_sessions (token_hash) {
        token_hash -> Text,
        tenant_id -> DbUuid,
        session_id -> DbUuid,
        created_at -> DbTimestamptz,
        expires_at -> DbTimestamptz,
    }
}

diesel::joinable!(users -> tenants (tenant_id));
diesel::joinable!(users -> organizations (organization_id));
diesel::joinable!(organizations -> tenants (tenant_id));
diesel::joinable!(account_tokens -> users (user_id));
diesel::joinable!(roles -> tenants (tenant_id));
diesel::joinable!(role_permissions -> roles (role_id));
diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(user_roles -> roles (role_id));
diesel::joinable!(groups -> tenants (tenant_id));
diesel::joinable!(user_emails -> users (user_id));
diesel::joinable!(user_phone_numbers -> users (user_id));
diesel::joinable!(scim_tokens -> tenants (tenant_id));
diesel::joinable!(group_members -> groups (group_id));
diesel::joinable!(group_members -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(sessions -> tenants (tenant_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(audit_events -> tenants (tenant_id));

diesel::joinable!(authorization_codes -> sessions (session_id));
diesel::joinable!(browser_sessions -> sessions (session_id));

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    users,
    roles,
    role_permissions,
    user_roles,
    groups,
    group_members,
    user_attributes,
    user_emails,
    user_phone_numbers,
    scim_tokens,
    sessions,
    refresh_tokens,
    login_throttles,
    signing_keys,
    audit_events,
    organizations,
    account_tokens,
    authorization_requests,
    authorization_codes,
    browser_sessions,
);

// ---- OAuth clients (migration 2026-12-01-000200_oauth_clients) ----

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    oauth_clients (id) {
        id -> DbUuid,
        tenant_id -> DbUuid,
        name -> Text,
        description -> Text,
        search_key -> Text,
        grant_types -> DbJson,
        redirect_uris -> DbJson,
        scopes -> DbJson,
        enabled -> Bool,
        created_by -> Nullable<DbUuid>,
        created_at -> DbTimestamptz,
        updated_at -> DbTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    oauth_client_secrets (id) {
        id -> DbUuid,
        client_id -> DbUuid,
        description -> Text,
        secret_hash -> Text,
        expires_at -> Nullable<DbTimestamptz>,
        created_by -> Nullable<DbUuid>,
        created_at -> DbTimestamptz,
        last_used_at -> Nullable<DbTimestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    oauth_grants (id) {
        id -> DbUuid,
        client_id -> DbUuid,
        grant_type -> Text,
        scope -> Text,
        created_at -> DbTimestamptz,
        expires_at -> DbTimestamptz,
        revoked_at -> Nullable<DbTimestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    oauth_refresh_tokens (token_hash) {
        token_hash -> Text,
        grant_id -> DbUuid,
        created_at -> DbTimestamptz,
        expires_at -> DbTimestamptz,
        used_at -> Nullable<DbTimestamptz>,
    }
}

diesel::joinable!(oauth_clients -> tenants (tenant_id));
diesel::joinable!(oauth_client_secrets -> oauth_clients (client_id));
diesel::joinable!(oauth_grants -> oauth_clients (client_id));
diesel::joinable!(oauth_refresh_tokens -> oauth_grants (grant_id));

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    oauth_clients,
    oauth_client_secrets,
    oauth_grants,
    oauth_refresh_tokens,
);

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    sealing_keys (name) {
        name -> Text,
        secret -> Text,
        created_at -> DbTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    user_mfa (user_id) {
        user_id -> DbUuid,
        tenant_id -> DbUuid,
        totp_secret -> Text,
        enabled_at -> Nullable<DbTimestamptz>,
        last_used_step -> Nullable<BigInt>,
        created_at -> DbTimestamptz,
        updated_at -> DbTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    mfa_backup_codes (user_id, code_hash) {
        user_id -> DbUuid,
        code_hash -> Text,
        used_at -> Nullable<DbTimestamptz>,
        created_at -> DbTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    mfa_challenges (token_hash) {
        token_hash -> Text,
        tenant_id -> DbUuid,
        user_id -> DbUuid,
        remember_me -> Bool,
        attempts -> Integer,
        created_at -> DbTimestamptz,
        expires_at -> DbTimestamptz,
        used_at -> Nullable<DbTimestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    sso_providers (id) {
        id -> BigInt,
        tenant_id -> DbUuid,
        kind -> Text,
        scheme -> Text,
        display_name -> Text,
        enabled -> Bool,
        protocol -> Text,
        properties -> DbJson,
        client_secret_sealed -> Nullable<Text>,
        icon -> Nullable<Binary>,
        icon_type -> Nullable<Text>,
        created_at -> DbTimestamptz,
        updated_at -> DbTimestamptz,
        configured_by -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    user_identities (id) {
        id -> DbUuid,
        tenant_id -> DbUuid,
        user_id -> DbUuid,
        provider_id -> BigInt,
        subject -> Text,
        email -> Nullable<Text>,
        created_at -> DbTimestamptz,
        last_login_at -> Nullable<DbTimestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    sso_logins (state_hash) {
        state_hash -> Text,
        tenant_id -> DbUuid,
        provider_id -> BigInt,
        purpose -> Text,
        authorization_request_id -> Nullable<DbUuid>,
        user_id -> Nullable<DbUuid>,
        nonce -> Text,
        code_verifier_sealed -> Text,
        browser_hash -> Text,
        redirect_uri -> Text,
        created_at -> DbTimestamptz,
        expires_at -> DbTimestamptz,
        used_at -> Nullable<DbTimestamptz>,
    }
}

diesel::joinable!(user_identities -> sso_providers (provider_id));
diesel::allow_tables_to_appear_in_same_query!(sso_providers, user_identities);

// ---- a tenant's email domains (migration 2026-12-02-000200_domains) ----

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    tenant_domains (id) {
        id -> DbUuid,
        tenant_id -> DbUuid,
        name -> Text,
        verification_token -> Text,
        verified_at -> Nullable<DbTimestamptz>,
        created_by -> Nullable<DbUuid>,
        created_at -> DbTimestamptz,
        updated_at -> DbTimestamptz,
    }
}

// ---- IAM policies (migration 2026-12-02-000100_policies) ----

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    policies (id) {
        id -> DbUuid,
        tenant_id -> DbUuid,
        subject -> Text,
        user_id -> Nullable<DbUuid>,
        client_id -> Nullable<DbUuid>,
        group_id -> Nullable<DbUuid>,
        action -> Text,
        scope -> Text,
        created_at -> DbTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    group_client_members (group_id, client_id) {
        group_id -> DbUuid,
        client_id -> DbUuid,
        added_at -> DbTimestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    iam_actions (tenant_id, name) {
        tenant_id -> DbUuid,
        name -> Text,
        description -> Text,
        created_at -> DbTimestamptz,
    }
}

diesel::joinable!(group_client_members -> groups (group_id));
diesel::joinable!(group_client_members -> oauth_clients (client_id));

diesel::allow_tables_to_appear_in_same_query!(policies, group_client_members, iam_actions);
diesel::allow_tables_to_appear_in_same_query!(policies, groups);
diesel::allow_tables_to_appear_in_same_query!(policies, users);
diesel::allow_tables_to_appear_in_same_query!(policies, oauth_clients);
diesel::allow_tables_to_appear_in_same_query!(policies, group_members);
diesel::allow_tables_to_appear_in_same_query!(group_client_members, groups);
diesel::allow_tables_to_appear_in_same_query!(group_client_members, users);
diesel::allow_tables_to_appear_in_same_query!(group_client_members, oauth_clients);
diesel::allow_tables_to_appear_in_same_query!(group_client_members, group_members);

// ---- Maintained totals (migration 2026-12-03-000800_list_totals) ----

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::*;

    /// Each tenant's users and groups, kept by triggers.
    list_totals (tenant_id) {
        tenant_id -> DbUuid,
        users -> BigInt,
        groups -> BigInt,
    }
}
