//! Fake Payments: the example capability provider of the wasmCloud documentation
//! (contract `examples:payments`). It authorizes and completes payments without moving
//! money, which is all an example needs; parbuild builds it as a `cdylib` for every
//! platform of the root `par.toml`.

use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_AUTH: AtomicU64 = AtomicU64::new(1);

/// Authorizes a payment of `amount_cents`; returns an authorization code, or 0 when the
/// amount is refused (zero, or more than the fake limit of 10 000.00).
#[no_mangle]
pub extern "C" fn fakepay_authorize(amount_cents: u64) -> u64 {
    if amount_cents == 0 || amount_cents > 1_000_000 {
        return 0;
    }
    NEXT_AUTH.fetch_add(1, Ordering::Relaxed)
}

/// Completes an authorized payment; returns the amount charged after the fake 2.9 % fee
/// is added, or 0 for an unknown authorization code.
#[no_mangle]
pub extern "C" fn fakepay_complete(auth_code: u64, amount_cents: u64) -> u64 {
    if auth_code == 0 || auth_code >= NEXT_AUTH.load(Ordering::Relaxed) {
        return 0;
    }
    amount_cents + amount_cents * 29 / 1000
}

/// The contract id this provider implements, NUL-terminated.
#[no_mangle]
pub extern "C" fn fakepay_contract_id() -> *const std::ffi::c_char {
    c"examples:payments".as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorize_then_complete() {
        let code = fakepay_authorize(10_000);
        assert_ne!(code, 0);
        assert_eq!(fakepay_complete(code, 10_000), 10_290);
        assert_eq!(fakepay_authorize(0), 0);
        assert_eq!(fakepay_complete(u64::MAX, 1), 0);
    }
}
