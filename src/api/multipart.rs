//! Just enough of multipart/form-data (RFC 7578) to take one file field
//! from a body already read within the size limit: the boundary from the
//! media type, parts split on it, each part's headers read until the blank
//! line.

use crate::domain::Error;

/// The media type and bytes of the part named `field`.
pub fn file_field(
    content_type: &str,
    body: &[u8],
    field: &str,
) -> Result<(String, Vec<u8>), Error> {
    let bad = |why: &str| Error::invalid(field, why.to_string());
    let mut params = content_type.split(';').map(str::trim);
    if !params
        .next()
        .is_some_and(|m| m.eq_ignore_ascii_case("multipart/form-data"))
    {
        return Err(Error::UnsupportedMediaType(
            "Send the icon as multipart/form-data".into(),
        ));
    }
    let boundary = params
        .find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| v.trim().trim_matches('"').to_string())
        })
        .filter(|b| !b.is_empty() && b.len() <= 70)
        .ok_or_else(|| bad("the multipart body has no boundary"))?;
    let delimiter = format!("--{boundary}");
    let d = delimiter.as_bytes();
    let mut rest = body;
    // The preamble, up to the first delimiter.
    let start = find(rest, d).ok_or_else(|| bad("is missing from the multipart body"))?;
    rest = &rest[start + d.len()..];
    loop {
        if rest.starts_with(b"--") {
            break;
        }
        rest = rest
            .strip_prefix(b"\r\n")
            .ok_or_else(|| bad("the multipart body is malformed"))?;
        let end = find(rest, &[b"\r\n", d].concat())
            .ok_or_else(|| bad("the multipart body is not terminated"))?;
        let part = &rest[..end];
        rest = &rest[end + 2 + d.len()..];
        let split = find(part, b"\r\n\r\n").ok_or_else(|| bad("a part has no headers"))?;
        let headers = std::str::from_utf8(&part[..split])
            .map_err(|_| bad("a part's headers are not text"))?;
        let content = &part[split + 4..];
        let mut name = None;
        let mut media = None;
        for line in headers.split("\r\n") {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            if key.trim().eq_ignore_ascii_case("content-disposition") {
                name = value.split(';').map(str::trim).find_map(|p| {
                    p.strip_prefix("name=")
                        .map(|n| n.trim_matches('"').to_string())
                });
            } else if key.trim().eq_ignore_ascii_case("content-type") {
                media = Some(value.trim().to_ascii_lowercase());
            }
        }
        if name.as_deref() == Some(field) {
            let media = media.ok_or_else(|| bad("the part has no Content-Type"))?;
            return Ok((media, content.to_vec()));
        }
    }
    Err(bad("is required (a multipart file field)"))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_named_file() {
        let body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nhello\r\n--XyZ\r\nContent-Disposition: form-data; name=\"icon\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x00\x01\r\n--XyZ--\r\n";
        let (media, bytes) = file_field("multipart/form-data; boundary=XyZ", body, "icon").unwrap();
        assert_eq!(media, "image/png");
        assert_eq!(bytes, b"\x89PNG\r\n\x00\x01");
    }

    #[test]
    fn refuses_what_is_not_there() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--";
        assert!(file_field("multipart/form-data; boundary=b", body, "icon").is_err());
        assert!(file_field("application/json", body, "icon").is_err());
        assert!(file_field("multipart/form-data", body, "icon").is_err());
        assert!(file_field("multipart/form-data; boundary=b", b"--b\r\nno end", "icon").is_err());
    }
}
