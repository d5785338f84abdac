//! What ends the children of a parbuild that died without the chance to (SIGKILL, a
//! crash): they run in their own process groups, which nothing would signal, and cargo
//! goes on starting compilers until it next writes to its closed pipes.
//!
//! At the first streamed child, parbuild starts one watchdog: `sh` in a process group of
//! its own (so neither Ctrl-C at the terminal nor a signal to parbuild's group reaches
//! it), reading from a pipe whose write end only parbuild holds (close-on-exec, so no
//! child inherits it). parbuild writes `+PGID` when a child group starts and `-PGID` once
//! it has been reaped, and `S<id> <shell line>`/`s<id>` for each container stop command
//! (`interrupt::StopHook`) while it lives. When the pipe closes, parbuild is gone: if
//! groups or stop commands are still listed, the watchdog sends each group SIGTERM, runs
//! each stop command, waits two seconds and sends SIGKILL; after a normal exit none is
//! listed and it just exits.

use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::sync::Mutex;

/// The watchdog's script: POSIX sh, so it runs wherever parbuild's builds do.
const SCRIPT: &str = r#"groups=" "
stops=$(mktemp -d 2>/dev/null) || stops=
while IFS= read -r line; do
  case $line in
    +*) groups="$groups${line#+} " ;;
    -*) groups=$(printf '%s' "$groups" | sed "s/ ${line#-} / /") ;;
    S*) id=${line%% *}; [ -n "$stops" ] && printf '%s\n' "${line#* }" > "$stops/${id#S}" ;;
    s*) [ -n "$stops" ] && rm -f "$stops/${line#s}" ;;
  esac
done
left=
[ -n "$stops" ] && left=$(ls "$stops")
if [ "$groups" != " " ] || [ -n "$left" ]; then
  for g in $groups; do kill -s TERM -- "-$g" 2>/dev/null; done
  for f in $left; do sh "$stops/$f" >/dev/null 2>&1; done
  sleep 2
  for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done
fi
[ -n "$stops" ] && rm -rf "$stops"
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

/// Runs `shell_line` (a [`super::Cmd`] as a shell line: a container's `rm --force`) if
/// parbuild dies while hook `id` lives: a container outlives its engine's client.
pub(super) fn stop_on_death(id: u64, shell_line: &str) {
    if !shell_line.contains('\n') {
        send(&format!("S{id} {shell_line}"));
    }
}

/// Forgets hook `id` (its container has ended or was stopped).
pub(super) fn forget_stop(id: u64) {
    send(&format!("s{id}"));
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

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::os::unix::process::CommandExt as _;

    /// The script itself, on its own pipe: what is still listed when the pipe closes is
    /// ended (a process group) or run (a stop command); what was unlisted is left alone.
    #[test]
    fn when_its_pipe_closes_the_watchdog_ends_what_is_still_listed() {
        let dir = tempfile::tempdir().unwrap();
        let ran = dir.path().join("ran");
        let forgotten = dir.path().join("forgotten");
        let spawn_sleeper = || {
            duct::cmd("sleep", ["30"])
                .unchecked()
                .before_spawn(|cmd| {
                    cmd.process_group(0);
                    Ok(())
                })
                .start()
                .unwrap()
        };
        let (listed, unlisted) = (spawn_sleeper(), spawn_sleeper());
        let (mut pipe, watchdog) = super::start().expect("sh runs");
        let pid = |h: &duct::Handle| h.pids()[0];
        writeln!(pipe, "+{}", pid(&listed)).unwrap();
        writeln!(pipe, "+{}", pid(&unlisted)).unwrap();
        writeln!(pipe, "-{}", pid(&unlisted)).unwrap();
        writeln!(pipe, "S1 touch '{}'", ran.display()).unwrap();
        writeln!(pipe, "S2 touch '{}'", forgotten.display()).unwrap();
        writeln!(pipe, "s2").unwrap();
        drop(pipe);
        watchdog.wait().unwrap();
        assert!(ran.exists(), "a listed stop command runs");
        assert!(!forgotten.exists(), "a forgotten one does not");
        let status = listed.wait().unwrap().status;
        assert!(!status.success(), "the listed group was ended: {status:?}");
        assert!(
            unlisted.try_wait().unwrap().is_none(),
            "the unlisted one still runs"
        );
        unlisted.kill().unwrap();
    }
}
