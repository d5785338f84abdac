//! The runner's own account of the jobserver budget, which `build --json` reports as
//! `"jobserver"`: the tokens the jobserver was created with, what parbuild paid for each
//! child it started (a jobserver client's implicit token, a container's whole `-j` share),
//! and the most tokens parbuild held at once. These numbers come from the runner's
//! bookkeeping, not from watching processes, so a test can assert them exactly on a busy
//! machine.
//!
//! Why they prove the budget: every compiler job runs on a token of the jobserver's pipe or
//! on a child's implicit token; the pipe holds `tokens`, and each implicit token is paid
//! with one pipe token held from before the child starts until it has exited. A container's
//! cargo does not see the pipe, so it gets `-j N` and parbuild holds N pipe tokens for it.

use std::sync::{Mutex, PoisonError};

use crate::archive::Label;
use crate::manifest::BackendKind;

/// What parbuild paid for one child.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Child {
    /// The invocation's backend.
    pub backend: BackendKind,
    /// The targets it builds.
    pub labels: Vec<Label>,
    /// Whether the child was handed the jobserver (a container's cargo is not).
    pub jobserver: bool,
    /// Tokens parbuild held for it from before it started until it exited.
    pub tokens: usize,
}

/// The account, as `build --json` prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    /// The tokens the jobserver was created with (`--jobs`); 0 if it was not created.
    pub tokens: usize,
    /// The most tokens parbuild held at one time (never more than `tokens`).
    pub max_held_by_parbuild: usize,
    /// How many children were started.
    pub children: usize,
    /// What was paid for each, sorted by labels.
    pub paid: Vec<Child>,
}

/// Filled in by the runner while it runs; read with [`Ledger::account`] afterwards.
#[derive(Debug, Default)]
pub struct Ledger {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    tokens: usize,
    held: usize,
    max_held: usize,
    paid: Vec<Child>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The jobserver was created with `tokens`.
    pub fn created(&self, tokens: usize) {
        self.state().tokens = tokens;
    }

    /// Counts `acquired` as held by parbuild until the returned [`Held`] is dropped, which
    /// releases them. Call it after acquiring: the ledger never counts a token before it
    /// is held, nor after it is released, so its maximum is never above the real one.
    pub fn hold<T>(&self, acquired: Vec<T>) -> Held<'_, T> {
        let mut st = self.state();
        st.held += acquired.len();
        st.max_held = st.max_held.max(st.held);
        drop(st);
        Held {
            ledger: self,
            tokens: acquired,
        }
    }

    /// What was recorded.
    pub fn account(&self) -> Account {
        let st = self.state();
        let mut paid = st.paid.clone();
        paid.sort_by(|a, b| a.labels.cmp(&b.labels));
        Account {
            tokens: st.tokens,
            max_held_by_parbuild: st.max_held,
            children: paid.len(),
            paid,
        }
    }
}

/// Tokens parbuild holds; released (after the ledger stops counting them) when dropped.
#[derive(Debug)]
pub struct Held<'a, T> {
    ledger: &'a Ledger,
    tokens: Vec<T>,
}

impl<T> Held<'_, T> {
    /// A child is started on these tokens: records what was paid for it.
    pub fn pay_for(&self, backend: BackendKind, labels: &[Label], jobserver: bool) {
        self.ledger.state().paid.push(Child {
            backend,
            labels: labels.to_vec(),
            jobserver,
            tokens: self.tokens.len(),
        });
    }
}

impl<T> Drop for Held<'_, T> {
    fn drop(&mut self) {
        // The fields, the tokens themselves, are dropped after this: uncounted first.
        self.ledger.state().held -= self.tokens.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(s: &str) -> Label {
        Label::parse(s).unwrap()
    }

    #[test]
    fn counts_what_is_held_and_what_each_child_was_paid() {
        let ledger = Ledger::new();
        ledger.created(2);
        let zig = ledger.hold(vec![()]);
        zig.pay_for(
            BackendKind::Zig,
            &[label("x86_64-macos"), label("aarch64-linux")],
            true,
        );
        let cargo = ledger.hold(vec![()]);
        cargo.pay_for(BackendKind::Cargo, &[label("x86_64-linux")], true);
        drop((zig, cargo));
        let container = ledger.hold(vec![(), ()]);
        container.pay_for(BackendKind::Container, &[label("arm-linux")], false);
        drop(container);
        // Held and released before a child started (a cancelled invocation): no child.
        drop(ledger.hold(vec![()]));
        let child = |backend, labels: &[&str], jobserver, tokens| Child {
            backend,
            labels: labels.iter().map(|l| label(l)).collect(),
            jobserver,
            tokens,
        };
        assert_eq!(
            ledger.account(),
            Account {
                tokens: 2,
                max_held_by_parbuild: 2,
                children: 3,
                paid: vec![
                    child(BackendKind::Container, &["arm-linux"], false, 2),
                    child(BackendKind::Cargo, &["x86_64-linux"], true, 1),
                    child(
                        BackendKind::Zig,
                        &["x86_64-macos", "aarch64-linux"],
                        true,
                        1
                    ),
                ],
            }
        );
        assert_eq!(ledger.state().held, 0);
    }
}
