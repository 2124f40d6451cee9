//! DNS lookups for domain verification, through hickory's resolver: the
//! system's (`/etc/resolv.conf`) or the server `ITHBAT_DNS_RESOLVER` names.
//!
//! A resolver is built per lookup rather than kept: verification is rare,
//! and a shared resolver's cache would keep answering "no record" for its
//! TTL after the tenant has published the token.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::ProtoErrorKind;
use hickory_resolver::{ResolveError, Resolver};

use crate::domain::{Error, Result};

/// The TXT records at `name` (each record's strings joined, RFC 7208 3.3);
/// none when the name does not exist or has none. Any other failure
/// (timeout, server failure) is an error: the answer is unknown, not "no".
pub async fn txt_records(server: Option<SocketAddr>, name: &str) -> Result<Vec<String>> {
    let provider = TokioConnectionProvider::default();
    let mut builder = match server {
        Some(addr) => Resolver::builder_with_config(
            ResolverConfig::from_parts(
                None,
                Vec::new(),
                NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true),
            ),
            provider,
        ),
        None => Resolver::builder(provider).map_err(lookup_failed)?,
    };
    let options = builder.options_mut();
    options.timeout = Duration::from_secs(3);
    options.attempts = 2;
    let resolver = builder.build();
    // Fully qualified, so no search domain is tried.
    match resolver.txt_lookup(format!("{name}.")).await {
        Ok(lookup) => Ok(lookup
            .iter()
            .map(|txt| {
                txt.txt_data()
                    .iter()
                    .map(|part| String::from_utf8_lossy(part))
                    .collect::<String>()
            })
            .collect()),
        Err(e) if absent(&e) => Ok(Vec::new()),
        Err(e) => Err(lookup_failed(e)),
    }
}

/// Did the server answer that there is no such record (NXDOMAIN, or no
/// TXT at the name)? A failure answer (SERVFAIL, REFUSED) says nothing.
fn absent(e: &ResolveError) -> bool {
    matches!(
        e.proto().map(|p| p.kind()),
        Some(ProtoErrorKind::NoRecordsFound {
            response_code: ResponseCode::NoError | ResponseCode::NXDomain,
            ..
        })
    )
}

fn lookup_failed(e: ResolveError) -> Error {
    log::warn!("DNS lookup failed: {e}");
    Error::Unavailable("The DNS lookup failed; try again later".into())
}
