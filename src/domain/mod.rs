//! Plain types and rules: no database, no HTTP.

pub mod access;
pub mod account;
pub mod audit;
pub mod client;
pub mod code_flow;
pub mod denial;
pub mod error;
pub mod filter;
pub mod group;
pub mod list;
pub mod mfa;
pub mod permission;
pub mod principal;
pub mod redirect;
pub mod role;
pub mod scim_token;
pub mod scope;
pub mod secret;
pub mod session;
pub mod settings;
pub mod signing;
pub mod sso;
pub mod tenant;
pub mod tenant_domain;
pub mod text;
pub mod user;

pub use error::{Error, FieldError, OAuthError, Problems, Result};
