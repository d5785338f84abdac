//! The claims token, written and read by hand.
//!
//! Why not `jsonwebtoken`: wascap's header is `{"typ":"jwt","alg":"Ed25519"}`, with a
//! non-standard `alg` (JOSE says `EdDSA`) and lowercase `typ`; `jsonwebtoken` can emit
//! neither, and wascap rejects anything else. So the token is assembled here:
//! base64url without padding of the header, the payload and an Ed25519 signature made
//! by `nkeys` over `header.payload`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::claims::Claims;

/// The only header parbuild writes and accepts, byte for byte.
pub const HEADER: &str = r#"{"typ":"jwt","alg":"Ed25519"}"#;

/// Signs `claims` with `issuer` (which must hold a seed) and returns the token.
pub fn encode(claims: &Claims, issuer: &nkeys::KeyPair) -> Result<String, nkeys::error::Error> {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(HEADER),
        URL_SAFE_NO_PAD.encode(claims.to_json())
    );
    let signature = issuer.sign(signing_input.as_bytes())?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

/// A token taken apart, each part kept as found so that every check can report on it.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The header JSON, or why it could not be decoded.
    pub header: Result<String, String>,
    /// The payload parsed as claims, or why not.
    pub claims: Result<Claims, String>,
    /// The payload as a JSON value (for tolerant display), if it is JSON.
    pub payload: Option<serde_json::Value>,
    /// Whether the signature verifies against `iss`, with the reason when it does not.
    pub signature: Result<(), String>,
}

/// Takes `token` apart. Never fails: every problem is recorded in its part.
pub fn decode(token: &str) -> Decoded {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        let why = format!(
            "a token has 3 parts separated by `.`, this one has {}",
            parts.len()
        );
        return Decoded {
            header: Err(why.clone()),
            claims: Err(why.clone()),
            payload: None,
            signature: Err(why),
        };
    }
    let header = b64(parts[0], "header")
        .and_then(|b| String::from_utf8(b).map_err(|_| "the header is not UTF-8".to_owned()));
    let payload_bytes = b64(parts[1], "payload");
    let payload = payload_bytes
        .as_ref()
        .ok()
        .and_then(|b| serde_json::from_slice(b).ok());
    let claims = payload_bytes.and_then(|b| {
        serde_json::from_slice::<Claims>(&b)
            .map_err(|e| format!("the payload is not valid claims: {e}"))
    });
    let signature = match (&claims, b64(parts[2], "signature")) {
        (_, Err(e)) => Err(e),
        (_, Ok(sig)) if sig.is_empty() => Err("the signature is empty".to_owned()),
        (Err(_), _) => {
            Err("the payload cannot be read, so there is no issuer to check against".to_owned())
        }
        (Ok(c), Ok(sig)) => verify(&c.iss, parts[0], parts[1], &sig),
    };
    Decoded {
        header,
        claims,
        payload,
        signature,
    }
}

fn b64(part: &str, what: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|e| format!("the {what} is not unpadded base64url: {e}"))
}

fn verify(iss: &str, header: &str, payload: &str, sig: &[u8]) -> Result<(), String> {
    let key = nkeys::KeyPair::from_public_key(iss)
        .map_err(|e| format!("issuer `{iss}` is not a public key: {e}"))?;
    key.verify(format!("{header}.{payload}").as_bytes(), sig)
        .map_err(|_| format!("the signature does not verify against issuer `{iss}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "SAABCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEIRCEN4YE";

    fn claims(iss: &str) -> Claims {
        Claims {
            exp: None,
            jti: "j".into(),
            iat: 1,
            iss: iss.into(),
            sub: "V".into(),
            nbf: None,
            wascap: None,
            wascap_revision: None,
        }
    }

    #[test]
    fn sign_then_decode() {
        let kp = nkeys::KeyPair::from_seed(SEED).unwrap();
        let token = encode(&claims(&kp.public_key()), &kp).unwrap();
        assert!(token.starts_with("eyJ0eXAiOiJqd3QiLCJhbGciOiJFZDI1NTE5In0."));
        assert!(!token.contains('='));
        let d = decode(&token);
        assert_eq!(d.header.unwrap(), HEADER);
        assert_eq!(d.claims.unwrap(), claims(&kp.public_key()));
        assert!(d.signature.is_ok());
    }

    #[test]
    fn malformed_tokens_never_panic() {
        for t in [
            "",
            ".",
            "..",
            "a.b.c",
            "a.b.c.d",
            "eyJ.eyJ.",
            "\u{0}.\u{ff}.x",
            "====.==.=",
        ] {
            let d = decode(t);
            assert!(d.signature.is_err(), "{t}");
        }
        let kp = nkeys::KeyPair::from_seed(SEED).unwrap();
        let token = encode(&claims(&kp.public_key()), &kp).unwrap();
        let (head, _) = token.rsplit_once('.').unwrap();
        assert_eq!(
            decode(&format!("{head}.")).signature.unwrap_err(),
            "the signature is empty"
        );
        assert!(
            decode(&format!("{token}==")).signature.is_err(),
            "padding is rejected"
        );
    }
}
