//! The OCI image of a provider archive, as wash pushes it and wasmCloud hosts pull it:
//! an image manifest with one layer (the archive's bytes, wasmCloud's PAR media type) and
//! the config `{}` with wasmCloud's config media type. Pure: bytes in, bytes out, so the
//! same archive and annotations always give the same manifest digest.

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};

/// The layer's media type (wash's `PROVIDER_ARCHIVE_MEDIA_TYPE`).
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.wasmcloud.provider.archive.layer.v1+par";
/// The config's media type (wash's `PROVIDER_ARCHIVE_CONFIG_MEDIA_TYPE`).
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasmcloud.provider.archive.config";
/// The manifest's media type: an OCI image manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// The config blob: an empty JSON object, as wash writes it.
pub const CONFIG: &[u8] = b"{}";
/// The largest manifest parbuild accepts (registry:2's own limit).
pub const MAX_MANIFEST: usize = 4 << 20;

/// A content descriptor: what the manifest says about one blob.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Blob {
    /// `sha256:…`.
    pub digest: String,
    /// Bytes.
    pub size: u64,
    /// Media type.
    pub media_type: String,
}

/// The image of one archive, ready to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The manifest's bytes, canonical JSON (sorted keys, no spaces: the form oci-client
    /// itself pushes).
    pub manifest: Vec<u8>,
    /// `sha256:` of [`Self::manifest`]: what the registry will call it.
    pub digest: String,
    /// The config blob.
    pub config: Blob,
    /// The archive layer.
    pub layer: Blob,
}

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for b in hash {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The image of `archive` with `annotations` on its manifest.
pub fn image(archive: &[u8], annotations: &BTreeMap<String, String>) -> Image {
    let config = Blob {
        digest: digest(CONFIG),
        size: CONFIG.len() as u64,
        media_type: CONFIG_MEDIA_TYPE.to_owned(),
    };
    let layer = Blob {
        digest: digest(archive),
        size: archive.len() as u64,
        media_type: LAYER_MEDIA_TYPE.to_owned(),
    };
    let descriptor = |b: &Blob| serde_json::json!({ "digest": b.digest, "mediaType": b.media_type, "size": b.size });
    let mut manifest = serde_json::Map::new();
    if !annotations.is_empty() {
        manifest.insert("annotations".into(), serde_json::json!(annotations));
    }
    manifest.insert("config".into(), descriptor(&config));
    manifest.insert("layers".into(), serde_json::json!([descriptor(&layer)]));
    manifest.insert("mediaType".into(), MANIFEST_MEDIA_TYPE.into());
    manifest.insert("schemaVersion".into(), 2.into());
    let manifest = canonical(&serde_json::Value::Object(manifest));
    Image {
        digest: digest(&manifest),
        manifest,
        config,
        layer,
    }
}

/// Canonical JSON: object keys sorted at every level, no whitespace.
fn canonical(value: &serde_json::Value) -> Vec<u8> {
    fn sort(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(map) => {
                let sorted: BTreeMap<&String, serde_json::Value> =
                    map.iter().map(|(k, v)| (k, sort(v))).collect();
                serde_json::Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(sort).collect())
            }
            other => other.clone(),
        }
    }
    serde_json::to_vec(&sort(value)).unwrap_or_default()
}

/// Why a pulled manifest is not a provider archive parbuild will download.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestProblem {
    /// Larger than [`MAX_MANIFEST`].
    #[error("its manifest is {size} bytes, more than the {MAX_MANIFEST} a registry may serve")]
    TooLarge {
        /// Bytes.
        size: usize,
    },
    /// Not JSON, or not an image manifest.
    #[error("its manifest is not an OCI image manifest ({reason})")]
    NotAManifest {
        /// What is wrong.
        reason: String,
    },
    /// Another kind of artifact (a container image, a wasm component, …).
    #[error(
        "it is not a provider archive: its layers are {found} and its config is `{config}` (a provider archive has one `{LAYER_MEDIA_TYPE}` layer)"
    )]
    NotAProvider {
        /// The layers' media types.
        found: String,
        /// The config's media type.
        config: String,
    },
    /// A layer larger than the caller allows.
    #[error("its archive layer is {size} bytes, more than the limit of {max} (`--max-unpacked`)")]
    LayerTooLarge {
        /// Declared bytes.
        size: u64,
        /// The limit.
        max: u64,
    },
}

/// The archive layer of a pulled manifest, checked to be a provider archive no larger
/// than `max` bytes.
pub fn archive_layer(manifest: &[u8], max: u64) -> Result<Blob, ManifestProblem> {
    if manifest.len() > MAX_MANIFEST {
        return Err(ManifestProblem::TooLarge {
            size: manifest.len(),
        });
    }
    let not = |reason: &str| ManifestProblem::NotAManifest {
        reason: reason.to_owned(),
    };
    let json: serde_json::Value =
        serde_json::from_slice(manifest).map_err(|e| not(&format!("not JSON: {e}")))?;
    if json
        .get("schemaVersion")
        .and_then(serde_json::Value::as_u64)
        != Some(2)
    {
        return Err(not("`schemaVersion` is not 2"));
    }
    let descriptor = |v: &serde_json::Value| -> Option<Blob> {
        Some(Blob {
            digest: v.get("digest")?.as_str()?.to_owned(),
            size: v.get("size")?.as_u64()?,
            media_type: v.get("mediaType")?.as_str()?.to_owned(),
        })
    };
    if json.get("manifests").is_some() {
        return Err(not(
            "it is an image index (a multi-platform image), not one image",
        ));
    }
    let config = json
        .get("config")
        .and_then(descriptor)
        .ok_or_else(|| not("no `config` descriptor"))?;
    let layers: Vec<Blob> = json
        .get("layers")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| not("no `layers`"))?
        .iter()
        .map(|l| {
            descriptor(l).ok_or_else(|| not("a layer descriptor lacks digest, size or mediaType"))
        })
        .collect::<Result<_, _>>()?;
    let par: Vec<&Blob> = layers
        .iter()
        .filter(|l| l.media_type == LAYER_MEDIA_TYPE)
        .collect();
    let [layer] = par.as_slice() else {
        return Err(ManifestProblem::NotAProvider {
            found: if layers.is_empty() {
                "none".to_owned()
            } else {
                layers
                    .iter()
                    .map(|l| format!("`{}`", l.media_type))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            config: config.media_type,
        });
    };
    if !is_sha256(&layer.digest) {
        return Err(not("the layer's digest is not `sha256:` and 64 hex digits"));
    }
    if layer.size > max {
        return Err(ManifestProblem::LayerTooLarge {
            size: layer.size,
            max,
        });
    }
    Ok((*layer).clone())
}

/// `sha256:` followed by 64 lowercase hex digits.
pub fn is_sha256(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_input_same_digest_and_wash_media_types() {
        let notes = BTreeMap::from([
            (
                "org.opencontainers.image.version".to_owned(),
                "1.0.0".to_owned(),
            ),
            (
                "org.opencontainers.image.created".to_owned(),
                "2023-11-14T22:13:20Z".to_owned(),
            ),
        ]);
        let a = image(b"archive bytes", &notes);
        assert_eq!(a, image(b"archive bytes", &notes));
        assert_ne!(a.digest, image(b"archive bytez", &notes).digest);
        let text = String::from_utf8(a.manifest.clone()).unwrap();
        assert_eq!(
            text,
            format!(
                "{{\"annotations\":{{\"org.opencontainers.image.created\":\"2023-11-14T22:13:20Z\",\"org.opencontainers.image.version\":\"1.0.0\"}},\"config\":{{\"digest\":\"{}\",\"mediaType\":\"{CONFIG_MEDIA_TYPE}\",\"size\":2}},\"layers\":[{{\"digest\":\"{}\",\"mediaType\":\"{LAYER_MEDIA_TYPE}\",\"size\":13}}],\"mediaType\":\"{MANIFEST_MEDIA_TYPE}\",\"schemaVersion\":2}}",
                digest(b"{}"),
                digest(b"archive bytes")
            )
        );
        // The well-known digest of `{}`.
        assert_eq!(
            a.config.digest,
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(archive_layer(&a.manifest, 13).unwrap(), a.layer);
    }

    #[test]
    fn refuses_what_is_not_a_provider_archive() {
        let wasm = br#"{"schemaVersion":2,"config":{"digest":"sha256:1","size":2,"mediaType":"application/vnd.wasm.config.v0+json"},"layers":[{"digest":"sha256:2","size":9,"mediaType":"application/wasm"}]}"#;
        let e = archive_layer(wasm, 100).unwrap_err();
        assert!(matches!(e, ManifestProblem::NotAProvider { .. }), "{e}");
        assert!(e.to_string().contains("`application/wasm`"), "{e}");
        let big = image(&[0u8; 64], &BTreeMap::new());
        assert_eq!(
            archive_layer(&big.manifest, 63).unwrap_err(),
            ManifestProblem::LayerTooLarge { size: 64, max: 63 }
        );
        for bad in [
            &b"not json"[..],
            br#"{"schemaVersion":1}"#,
            br#"{"schemaVersion":2,"manifests":[]}"#,
            br#"{"schemaVersion":2,"config":{"digest":"sha256:1","size":2,"mediaType":"x"},"layers":[{"size":1}]}"#,
        ] {
            assert!(
                matches!(archive_layer(bad, 100), Err(ManifestProblem::NotAManifest { .. })),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let huge = vec![b' '; MAX_MANIFEST + 1];
        assert!(matches!(
            archive_layer(&huge, 1),
            Err(ManifestProblem::TooLarge { .. })
        ));
        let two = String::from_utf8(big.manifest.clone()).unwrap().replace(
            "}],\"mediaType\"",
            &format!("}},{{\"digest\":\"{}\",\"mediaType\":\"{LAYER_MEDIA_TYPE}\",\"size\":1}}],\"mediaType\"", digest(b"x")),
        );
        assert!(matches!(
            archive_layer(two.as_bytes(), 100),
            Err(ManifestProblem::NotAProvider { .. })
        ));
    }
}
