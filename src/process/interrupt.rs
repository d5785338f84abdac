//! Ctrl-C and SIGTERM: every streamed child is registered with its process group, and
//! the handler forwards the signal to every group, so compilers stop too. Callers see
//! [`ProcessError::Interrupted`](super::ProcessError::Interrupted) once their child has
//! been waited for. Process-wide state (the handler, the registered groups, the stop
//! commands), apart from [`Cmd`](super::Cmd), which registers into it.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);
static GROUPS: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());
static STOPS: Mutex<Vec<(u64, super::Cmd)>> = Mutex::new(Vec::new());

/// Installs the handler (once; later calls do nothing).
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            REQUESTED.store(true, Ordering::SeqCst);
            signal_all();
        });
    });
}

/// Whether Ctrl-C or SIGTERM arrived.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Asks every registered child group to stop (also used by `--fail-fast`), then runs
/// every registered stop command (containers outlive their engine's client).
pub fn signal_all() {
    {
        let groups = GROUPS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for &pgid in groups.iter() {
            terminate_group(pgid);
        }
    }
    let stops: Vec<super::Cmd> = STOPS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .map(|(_, cmd)| cmd.clone())
        .collect();
    for cmd in stops {
        let _ = cmd.output_checked();
    }
}

/// A command that stops something a child started out of its process group's reach
/// (a container), run by [`signal_all`] for as long as the hook lives.
#[derive(Debug)]
pub struct StopHook {
    id: u64,
}

impl StopHook {
    /// Registers `cmd`; runs it at once if a stop was already requested.
    pub fn new(cmd: super::Cmd) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let id = NEXT.fetch_add(1, Ordering::SeqCst);
        if requested() {
            let _ = cmd.output_checked();
        }
        super::watchdog::stop_on_death(id, &cmd.to_string());
        STOPS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((id, cmd));
        Self { id }
    }
}

impl Drop for StopHook {
    fn drop(&mut self) {
        super::watchdog::forget_stop(self.id);
        STOPS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|(id, _)| *id != self.id);
    }
}

/// Sends SIGTERM to one process group.
pub fn terminate_group(pgid: u32) {
    if let Ok(raw) = i32::try_from(pgid) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(raw),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
}

/// Waits until nothing is left of process group `pgid` whose leader has exited: its other
/// members (cargo's rustc, a build script) got the signal too but may still be exiting,
/// and a caller told "interrupted" must be able to rely on every compiler being gone.
/// After one second they get SIGKILL; after three the wait gives up (a member that cannot
/// die is the kernel's business, and the watchdog still holds the group).
pub fn await_group(pgid: u32) {
    let Ok(raw) = i32::try_from(pgid) else {
        return;
    };
    let group = nix::unistd::Pid::from_raw(raw);
    let start = std::time::Instant::now();
    let mut killed = false;
    while nix::sys::signal::killpg(group, None).is_ok() {
        let waited = start.elapsed();
        if waited > std::time::Duration::from_secs(3) {
            return;
        }
        if !killed && waited > std::time::Duration::from_secs(1) {
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            killed = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Registers child process groups for as long as it lives.
#[derive(Debug, Default)]
pub struct Guard {
    pids: Mutex<Vec<u32>>,
}

impl Guard {
    /// An empty guard.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `pid`, the leader of its own process group.
    pub fn register(&self, pid: u32) {
        super::watchdog::watch(pid);
        GROUPS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(pid);
        self.pids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(pid);
        if requested() {
            terminate_group(pid);
        }
    }
}

impl Guard {
    /// After an interruption: waits for each registered group to be gone ([`await_group`]).
    pub fn await_groups(&self) {
        let pids = self
            .pids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        for pid in pids {
            await_group(pid);
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let mut groups = GROUPS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for pid in self
            .pids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            groups.remove(pid);
            super::watchdog::unwatch(*pid);
        }
    }
}
