//! The claims payload: wascap's `Claims<CapabilityProvider>` with its keys in wascap's
//! order (spec §3.3), so the JSON parbuild signs is the JSON wash would sign, and the
//! deterministic `jti` derived from the content.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// The `wascap_revision` wascap ≥ 0.11 writes.
pub const WASCAP_REVISION: u32 = 3;

/// The provider metadata that goes into `wascap` (also carried by parts, hence `Deserialize`).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderMeta {
    /// `wascap.name`.
    pub name: String,
    /// `wascap.vendor`.
    pub vendor: String,
    /// `wascap.ver`.
    pub version: Option<String>,
    /// `wascap.rev`.
    pub revision: Option<i32>,
    /// `wascap.capid` (pre-1.0 hosts require it).
    pub capid: Option<String>,
    /// `wascap.config_schema`.
    pub config_schema: Option<serde_json::Value>,
}

/// The JWT payload. Field order is wascap's; `None` fields are omitted as wascap does.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Claims {
    /// Expiry (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    /// Unique id.
    pub jti: String,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Issuer: an account public key.
    pub iss: String,
    /// Subject: a service public key.
    pub sub: String,
    /// Not before (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// The provider metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wascap: Option<Wascap>,
    /// wascap's internal revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wascap_revision: Option<u32>,
}

/// wascap's `CapabilityProvider`, in its field order.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Wascap {
    /// Display name (wascap emits `null` when absent; parbuild always sets it).
    #[serde(default)]
    pub name: Option<String>,
    /// Contract id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capid: Option<String>,
    /// Vendor (required by every wascap version).
    pub vendor: String,
    /// Revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev: Option<i32>,
    /// Version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ver: Option<String>,
    /// Uppercase hex SHA-256 per target label, and `world.wasm`.
    pub target_hashes: BTreeMap<String, String>,
    /// Configuration schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_schema: Option<serde_json::Value>,
}

impl Wascap {
    /// The wascap object for `meta` and these hashes.
    pub fn new(meta: &ProviderMeta, target_hashes: BTreeMap<String, String>) -> Self {
        Self {
            name: Some(meta.name.clone()),
            capid: meta.capid.clone(),
            vendor: meta.vendor.clone(),
            rev: meta.revision,
            ver: meta.version.clone(),
            target_hashes,
            config_schema: meta.config_schema.clone(),
        }
    }

    /// Back to metadata (an absent name reads as wasmCloud's `Unnamed Provider`).
    pub fn meta(&self) -> ProviderMeta {
        ProviderMeta {
            name: self
                .name
                .clone()
                .unwrap_or_else(|| "Unnamed Provider".to_owned()),
            vendor: self.vendor.clone(),
            version: self.ver.clone(),
            revision: self.rev,
            capid: self.capid.clone(),
            config_schema: self.config_schema.clone(),
        }
    }
}

impl Claims {
    /// The compact JSON wascap would emit.
    pub fn to_json(&self) -> String {
        // Serializing these plain structs cannot fail: all keys are strings.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A `jti` that depends only on the content: the same claims (with any `jti`) give
    /// the same id, so `SOURCE_DATE_EPOCH` builds are byte-identical.
    pub fn content_jti(&self) -> String {
        let mut probe = self.clone();
        probe.jti = String::new();
        let digest = Sha256::digest(probe.to_json().as_bytes());
        base62_id(&digest)
    }
}

/// 22 base62 characters (like a NUID) from the first 16 bytes of `bytes`.
pub fn base62_id(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut first = [0u8; 16];
    for (dst, src) in first.iter_mut().zip(bytes) {
        *dst = *src;
    }
    let mut n = u128::from_be_bytes(first);
    let mut out = [b'0'; 22];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Uppercase hex, as `data_encoding::HEXUPPER` writes hashes.
pub fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02X}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_order_matches_wascap() {
        let meta = ProviderMeta {
            name: "n".into(),
            vendor: "v".into(),
            version: Some("1".into()),
            revision: Some(2),
            capid: Some("c:d".into()),
            config_schema: Some(serde_json::json!({"z": 1, "a": 2})),
        };
        let claims = Claims {
            exp: None,
            jti: "j".into(),
            iat: 5,
            iss: "A".into(),
            sub: "V".into(),
            nbf: None,
            wascap: Some(Wascap::new(
                &meta,
                BTreeMap::from([("b-x".into(), "H".into()), ("a-x".into(), "G".into())]),
            )),
            wascap_revision: Some(WASCAP_REVISION),
        };
        assert_eq!(
            claims.to_json(),
            r#"{"jti":"j","iat":5,"iss":"A","sub":"V","wascap":{"name":"n","capid":"c:d","vendor":"v","rev":2,"ver":"1","target_hashes":{"a-x":"G","b-x":"H"},"config_schema":{"z":1,"a":2}},"wascap_revision":3}"#
        );
        assert_eq!(claims.wascap.as_ref().unwrap().meta(), meta);
        let jti = claims.content_jti();
        assert_eq!(jti.len(), 22);
        let mut other = claims.clone();
        other.jti = "different".into();
        assert_eq!(
            other.content_jti(),
            jti,
            "the jti itself does not feed the id"
        );
        other.iat = 6;
        assert_ne!(other.content_jti(), jti);
    }

    #[test]
    fn encodings() {
        assert_eq!(base62_id(&[0; 16]), "0000000000000000000000");
        assert_eq!(base62_id(&[0xff; 16]).len(), 22);
        assert_eq!(hex_upper(&[0x0a, 0xff]), "0AFF");
    }
}
