//! Black-box tests: real HTTP against the real server on SQLite and on
//! PostgreSQL. Each test cites the document behaviour it checks.

mod support;

/// Runs each listed `async fn name(backend: Backend)` twice: `name::sqlite`
/// and `name::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::support::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if $crate::support::skip_postgres() {
                        return;
                    }
                    super::$name($crate::support::Backend::Postgres).await
                }
            }
        )*
    };
}

mod account_mail;
mod account_pages;
mod aritma;
mod aritma_iam;
mod aritma_policy_property;
mod aritma_users;
mod audit_settings;
mod auth;
mod bootstrap;
mod browser_signin;
mod bulk;
mod clients;
mod command_line;
mod concurrency;
mod docs_examples;
mod domains;
mod escalation;
mod escalation_property;
mod faults;
mod hostile_input;
mod instances;
mod jsonapi_accounts;
mod jsonapi_filter_property;
mod jsonapi_organizations_sessions;
mod jsonapi_query;
mod mfa;
mod oauth;
mod oidc;
mod openapi;
mod rate_limits;
mod roles_groups;
mod scim_attributes;
mod scim_bulk;
mod scim_cursors;
mod scim_discovery;
mod scim_filter_property;
mod scim_groups;
mod scim_me_root;
mod scim_provisioning_cycles;
mod scim_tokens;
mod scim_users;
mod sessions;
mod signing;
mod sso;
mod system;
mod tenant_names;
mod tenants;
mod users_admin;
mod users_me;
mod users_without_email;
