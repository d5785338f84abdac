//! What ends the children of a parbuild that died without the chance to (SIGKILL, a
//! crash): they run in their own process groups, which nothing would signal, and cargo
//! goes on starting compilers until it next writes to its closed pipes.
//!
//! At the first streamed child, parbuild starts one watchdog: `sh` in a process group of
//! its own (so neither Ctrl-C at the terminal nor a signal to parbuild's group reaches
//! it), reading from a pipe whose write end only parbuild holds (close-on-exec, so no
//! child inherits it). parbuild writes `+PGID` when a child group starts and `-PGID` once
//! it has been reaped. When the pipe closes, parbuild is gone: if groups are still
//! listed, the watchdog sends each SIGTERM, waits two seconds and sends SIGKILL; after a
//! normal exit none is listed and it just exits.

use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::sync::Mutex;

/// The watchdog's script: POSIX sh, so it runs wherever parbuild's builds do.
const SCRIPT: &str = r#"groups=" "
while IFS= read -r line; do
  case $line in
+*) groups="$groups${line#+} " ;;
-*) groups=$(printf '%s' "$groups" | sed "s/ ${line#-} / /") ;;
  esac
done
[ "$groups" = " " ] && exit 0
for g in $groups; do kill -s TERM -- "-$g" 2>/dev/null; done
sleep 2
for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done
"#;

/// The pipe to the watchdog, and its handle (kept, never waited for: it outlives us).
static WATCHDOG: Mutex<Option<(os_pipe::PipeWriter, duct::Handle)>> = Mutex::new(None);

/// Watches the process group `pgid`.
pub(super) fn watch(pgid: u32) {
    send(&format!("+{pgid}"));
}

/// Stops watching `pgid` (its leader has been reaped).
pub(super) fn unwatch(pgid: u32) {
    send(&format!("-{pgid}"));
}

fn send(line: &str) {
    let mut watchdog = WATCHDOG
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if watchdog.is_none() {
        *watchdog = start();
    }
    let failed = watchdog
        .as_mut()
        .is_some_and(|(pipe, _)| writeln!(pipe, "{line}").is_err());
    if failed {
        // The watchdog is gone (killed with us, or never started): carry on without.
        *watchdog = None;
    }
}

fn start() -> Option<(os_pipe::PipeWriter, duct::Handle)> {
    let (reader, writer) = os_pipe::pipe().ok()?;
    let handle = duct::cmd("sh", ["-c", SCRIPT])
        .stdin_file(reader)
        .stdout_null()
        .stderr_null()
        .unchecked()
        .before_spawn(|cmd| {
            cmd.process_group(0);
            Ok(())
        })
        .start()
        .ok()?;
    Some((writer, handle))
}
