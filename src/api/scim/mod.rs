//! The SCIM 2.0 dialect (RFC 7643, RFC 7644) at `/scim/v2`.

pub mod filter;
