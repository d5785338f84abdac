//! Fuzzes the claims token and the key parsing: `archive::jwt::decode` (every archive's
//! `claims.jwt`), the `Claims` model, `jwt::encode`, and the seed and public-key reading
//! of `keystore` (seed files, `$WASH_ISSUER_KEY`) and of `verify`'s `key-types` check.
//!
//! Byte 0 picks the mode (modulo 4), the rest is its text:
//! - 0, a whole token: `decode` never panics; a valid signature implies readable claims
//!   whose issuer is a public key, and readable claims survive `to_json` and back (the
//!   config schema aside, whose floats serde_json reads only approximately);
//! - 1, a payload, signed here with the test account key under wascap's header: the
//!   signature verifies exactly when the payload is claims whose `iss` is that key;
//! - 2, claims JSON, signed with `jwt::encode`: what `decode` gives back is those claims,
//!   signed by the test account exactly when `iss` names it;
//! - 3, a key: whatever nkeys takes as a seed, `keystore::looks_like_seed` recognises
//!   (so `init`, error snippets and logs never echo it), `read_seed_file` reads the same
//!   as the text, and a seed's public key reads back as a public key of the same type.

#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use libfuzzer_sys::fuzz_target;
use parbuild::archive::Claims;
use parbuild::archive::jwt;
use parbuild::keystore;
use parbuild_fuzz::{ACCOUNT_PUB, ACCOUNT_SEED};

fn account() -> &'static nkeys::KeyPair {
    static KP: std::sync::OnceLock<nkeys::KeyPair> = std::sync::OnceLock::new();
    KP.get_or_init(|| nkeys::KeyPair::from_seed(ACCOUNT_SEED).expect("the test seed"))
}

/// Claims without the config schema, for comparisons.
fn comparable(c: &Claims) -> Claims {
    let mut c = c.clone();
    if let Some(w) = c.wascap.as_mut() {
        w.config_schema = None;
    }
    c
}

fn token(text: &str) {
    let d = jwt::decode(text);
    if d.signature.is_ok() {
        let c = d
            .claims
            .as_ref()
            .expect("a valid signature over unreadable claims");
        nkeys::KeyPair::from_public_key(&c.iss).expect("a valid signature by a non-key");
    }
    if let Ok(c) = &d.claims {
        let back: Claims = serde_json::from_str(&c.to_json()).expect("to_json reads back");
        assert_eq!(comparable(&back), comparable(c), "to_json is lossy");
        let _ = (c.content_jti(), c.wascap.as_ref().map(|w| w.meta()));
    }
}

fn signed_payload(payload: &[u8]) {
    let input = format!("{}.{}", B64.encode(jwt::HEADER), B64.encode(payload));
    let sig = account().sign(input.as_bytes()).expect("sign");
    let d = jwt::decode(&format!("{input}.{}", B64.encode(sig)));
    assert_eq!(d.header.as_deref(), Ok(jwt::HEADER));
    let ours = d.claims.as_ref().is_ok_and(|c| c.iss == ACCOUNT_PUB);
    assert_eq!(
        d.signature.is_ok(),
        ours,
        "{:?} for {:?}",
        d.signature,
        d.claims
    );
}

fn encoded(json: &[u8]) {
    let Ok(claims) = serde_json::from_slice::<Claims>(json) else {
        return;
    };
    let t = jwt::encode(&claims, account()).expect("encode with a seed");
    let d = jwt::decode(&t);
    assert_eq!(d.header.as_deref(), Ok(jwt::HEADER));
    let back = d.claims.expect("encoded claims decode");
    assert_eq!(comparable(&back), comparable(&claims));
    assert_eq!(
        d.signature.is_ok(),
        claims.iss == ACCOUNT_PUB,
        "{:?}",
        d.signature
    );
}

fn key(text: &str) {
    let seed = nkeys::KeyPair::from_seed(text.trim());
    if let Ok(kp) = &seed {
        assert!(
            keystore::looks_like_seed(text),
            "a usable seed is not seed-shaped"
        );
        assert!(parbuild::manifest::diagnostic::looks_like_seed(text.trim()));
        let public = nkeys::KeyPair::from_public_key(&kp.public_key()).expect("its public key");
        assert_eq!(public.key_pair_type(), kp.key_pair_type());
        assert_eq!(public.public_key(), kp.public_key());
    }
    let file = parbuild_fuzz::scratch_file("key.nk", text.as_bytes());
    match keystore::read_seed_file(&file, "issuer") {
        Ok(kp) => assert_eq!(
            Some(kp.public_key()),
            seed.as_ref().ok().map(nkeys::KeyPair::public_key),
            "the seed file reads differently from its text"
        ),
        Err(e) => {
            assert!(
                seed.is_err(),
                "a seed file of a usable seed is refused: {e}"
            );
            let rendered = parbuild::Error::from(e).render();
            if keystore::looks_like_seed(text) {
                assert!(!rendered.contains(text.trim()), "the error shows the seed");
            }
        }
    }
    if let Ok(kp) = nkeys::KeyPair::from_public_key(text) {
        assert_eq!(kp.public_key(), text, "a public key with two spellings");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => token(&parbuild_fuzz::text(rest)),
        1 => signed_payload(rest),
        2 => encoded(rest),
        _ => key(&parbuild_fuzz::text(rest)),
    }
});
