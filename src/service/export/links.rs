//! Signed download links for the exports: a browser cannot send `Authorization: Bearer` with a
//! plain link, and fetching a large export into memory to save it defeats the streaming. So a
//! client with a token asks for a link (`POST /export/links`), and a `GET` of that link needs no
//! header: its `link` parameter is the credential.
//!
//! A link is stateless, so any instance checks it: `{user id}.{expires, unix seconds}.{MAC}`,
//! where the MAC is HMAC-SHA256, under a key derived from `LEADSYNC_SECRET_KEY` for this purpose
//! only, of `export-link|{user id}|{expires}|{path}|{canonical query}`. The canonical query is
//! the link's other parameters, decoded, sorted and encoded again, so the link is bound to its
//! path and to every filter: changing, adding or removing one breaks it. It is valid for
//! `VALID_FOR`; when used, its user is checked again as a token's is (enabled, roles that export).

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;

use super::{Dataset, Format};

/// How long a link works after it is made.
pub const VALID_FOR: Duration = Duration::from_secs(60);

/// The query parameter that carries a link's signature.
pub const PARAMETER: &str = "link";

/// The label the link key is derived under: no other MAC of leadsync uses this key.
const KEY_LABEL: &[u8] = b"leadsync export-link key v1";
/// The first field of every signed message.
const MESSAGE_LABEL: &str = "export-link";

/// The URL path of an export.
pub fn path_of(dataset: Dataset, format: Format) -> &'static str {
    match (dataset, format) {
        (Dataset::Leads, Format::Csv) => "/export/leads.csv",
        (Dataset::Leads, Format::Ndjson) => "/export/leads.ndjson",
        (Dataset::Submissions, Format::Csv) => "/export/submissions.csv",
        (Dataset::Submissions, Format::Ndjson) => "/export/submissions.ndjson",
    }
}

/// The export at a URL path, if it is one of the four.
pub fn export_at(path: &str) -> Option<(Dataset, Format)> {
    [
        (Dataset::Leads, Format::Csv),
        (Dataset::Leads, Format::Ndjson),
        (Dataset::Submissions, Format::Csv),
        (Dataset::Submissions, Format::Ndjson),
    ]
    .into_iter()
    .find(|(d, f)| path_of(*d, *f) == path)
}

/// The paths links may be made for.
pub fn paths() -> [&'static str; 4] {
    [
        "/export/leads.csv",
        "/export/leads.ndjson",
        "/export/submissions.csv",
        "/export/submissions.ndjson",
    ]
}

/// Query parameters as the MAC covers them: decoded pairs sorted, then form-encoded. The order
/// of parameters and the way a value is percent-encoded do not matter; any value does.
pub fn canonical_query(params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in sorted {
        serializer.append_pair(key, value);
    }
    serializer.finish()
}

/// Why a link is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not of the form `{user}.{expires}.{signature}`.
    Malformed,
    /// The signature is not this path's and query's (or not leadsync's).
    Mismatch,
    /// Signed, but past its expiry.
    Expired,
}

impl Refusal {
    /// The words sent to the client.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Malformed => {
                "the link parameter is not a download link: ask POST /export/links for one"
            }
            Refusal::Mismatch => {
                "this download link was not made for this URL (a link is bound to its path and \
                 every parameter): ask POST /export/links for one"
            }
            Refusal::Expired => {
                "this download link has expired (links work for 60 seconds): ask POST \
                 /export/links for a new one"
            }
        }
    }
}

/// Signs and checks download links with a key derived from the deployment's secret key.
#[derive(Clone)]
pub struct LinkSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner([redacted])")
    }
}

type HmacSha256 = Hmac<sha2::Sha256>;

impl LinkSigner {
    pub fn new(secret_key: &[u8; 32]) -> Self {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(secret_key).expect("any key length");
        mac.update(KEY_LABEL);
        Self {
            key: mac.finalize().into_bytes().into(),
        }
    }

    fn mac(
        &self,
        user_id: i64,
        expires: i64,
        path: &str,
        params: &[(String, String)],
    ) -> HmacSha256 {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key).expect("any key length");
        let message = format!(
            "{MESSAGE_LABEL}|{user_id}|{expires}|{path}|{}",
            canonical_query(params)
        );
        mac.update(message.as_bytes());
        mac
    }

    /// The `link` value that lets `user_id` GET `path` with exactly `params` until `expires`.
    pub fn sign(
        &self,
        user_id: i64,
        path: &str,
        params: &[(String, String)],
        expires: DateTime<Utc>,
    ) -> String {
        let expires = expires.timestamp();
        let signature = self
            .mac(user_id, expires, path, params)
            .finalize()
            .into_bytes();
        format!(
            "{user_id}.{expires}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature)
        )
    }

    /// The user a `link` value was signed for, if it signs `path` with `params` (the request's
    /// parameters without `link`) and has not expired at `now`. The signature is compared in
    /// constant time, before the expiry is looked at.
    pub fn verify(
        &self,
        link: &str,
        path: &str,
        params: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Result<i64, Refusal> {
        let mut parts = link.split('.');
        let (Some(user), Some(expires), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Refusal::Malformed);
        };
        let user_id = user
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0 && id.to_string() == user)
            .ok_or(Refusal::Malformed)?;
        let expires_at = expires
            .parse::<i64>()
            .ok()
            .filter(|t| t.to_string() == expires)
            .ok_or(Refusal::Malformed)?;
        let given = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .ok()
            .filter(|bytes| bytes.len() == 32)
            .ok_or(Refusal::Malformed)?;
        let expected: [u8; 32] = self
            .mac(user_id, expires_at, path, params)
            .finalize()
            .into_bytes()
            .into();
        if !bool::from(expected.ct_eq(given.as_slice())) {
            return Err(Refusal::Mismatch);
        }
        if now.timestamp() > expires_at {
            return Err(Refusal::Expired);
        }
        Ok(user_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_link_is_bound_to_its_user_path_query_and_time() {
        let signer = LinkSigner::new(&[7; 32]);
        let now = Utc::now();
        let expires = now + chrono::TimeDelta::seconds(60);
        let params = p(&[("source", "MANUAL"), ("search", "a b&c")]);
        let link = signer.sign(42, "/export/leads.csv", &params, expires);
        assert_eq!(
            signer.verify(&link, "/export/leads.csv", &params, now),
            Ok(42)
        );
        // The order of the parameters does not matter.
        let reordered = p(&[("search", "a b&c"), ("source", "MANUAL")]);
        assert_eq!(
            signer.verify(&link, "/export/leads.csv", &reordered, now),
            Ok(42)
        );
        for (path, params) in [
            ("/export/leads.ndjson", params.clone()),
            ("/export/leads.csv", p(&[("source", "MANUAL")])),
            (
                "/export/leads.csv",
                p(&[("source", "IMPORT"), ("search", "a b&c")]),
            ),
            (
                "/export/leads.csv",
                p(&[("source", "MANUAL"), ("search", "a b&c"), ("bom", "true")]),
            ),
        ] {
            assert_eq!(
                signer.verify(&link, path, &params, now),
                Err(Refusal::Mismatch),
                "{path} {params:?}"
            );
        }
        // Another user, or another expiry, in the same signature.
        let (_, rest) = link.split_once('.').unwrap();
        let other_user = format!("43.{rest}");
        assert_eq!(
            signer.verify(&other_user, "/export/leads.csv", &params, now),
            Err(Refusal::Mismatch)
        );
        let parts: Vec<&str> = link.split('.').collect();
        let later = format!("42.{}.{}", expires.timestamp() + 3600, parts[2]);
        assert_eq!(
            signer.verify(&later, "/export/leads.csv", &params, now),
            Err(Refusal::Mismatch)
        );
        // Another key.
        assert_eq!(
            LinkSigner::new(&[8; 32]).verify(&link, "/export/leads.csv", &params, now),
            Err(Refusal::Mismatch)
        );
        // Expired.
        assert_eq!(
            signer.verify(
                &link,
                "/export/leads.csv",
                &params,
                expires + chrono::TimeDelta::seconds(1)
            ),
            Err(Refusal::Expired)
        );
        for bad in [
            "",
            "42",
            "42.1",
            &format!("42.{}", expires.timestamp()),
            &format!("42.{}.", expires.timestamp()),
            &format!("42.{}.{}.x", expires.timestamp(), parts[2]),
            &format!("+42.{}.{}", expires.timestamp(), parts[2]),
            &format!("0.{}.{}", expires.timestamp(), parts[2]),
            &format!("42.{}.{}", expires.timestamp(), &parts[2][..20]),
            &format!("42.{}.{}!", expires.timestamp(), parts[2]),
        ] {
            assert_eq!(
                signer.verify(bad, "/export/leads.csv", &params, now),
                Err(Refusal::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_link_key_is_not_the_secret_key() {
        let secret = [9; 32];
        assert_ne!(LinkSigner::new(&secret).key, secret);
    }

    #[test]
    fn the_four_exports_have_paths() {
        for path in paths() {
            let (dataset, format) = export_at(path).unwrap();
            assert_eq!(path_of(dataset, format), path);
        }
        assert_eq!(export_at("/export/links"), None);
        assert_eq!(export_at("/graphql"), None);
    }
}
