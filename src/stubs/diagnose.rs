//! Turns a failed macOS link against generated framework stubs into an error a user can
//! act on: which symbol no stub exports (or which framework has no stub), the frameworks on
//! the link line, and the fix (an SDK, or `[macos-stubs]` in `par.toml`). Never a binary
//! that would crash at load time: a symbol parbuild cannot attribute stays undefined, the
//! link fails, and this says why.
//!
//! zig says `error: undefined symbol: _SecFoo` (then `note: referenced by …` lines) and
//! `error: unable to find system framework "Metal". searched paths:`; rustc passes the
//! linker's lines through, indented or after `= note: `, with the link command quoted
//! (`"-framework" "Security"`), so each is found anywhere in a line. Pure: lines in, text out.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::archive::frameworks;

/// What a failed link said about the stubs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkFailure {
    /// Mach-O symbols the linker could not resolve (`_SecFoo`).
    pub undefined: BTreeSet<String>,
    /// Frameworks the linker could not find at all.
    pub missing_frameworks: BTreeSet<String>,
    /// Frameworks named on the link line (`-framework X`).
    pub frameworks: BTreeSet<String>,
}

impl LinkFailure {
    /// Reads a log; `None` when it shows no stub-related link failure.
    pub fn from_log<S: AsRef<str>>(lines: &[S]) -> Option<Self> {
        let mut out = Self::default();
        for line in lines.iter().map(AsRef::as_ref) {
            if let Some(rest) = after(line, "undefined symbol:") {
                let symbol = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .trim_matches(|c| c == '"' || c == '\'' || c == '`');
                if !symbol.is_empty() {
                    out.undefined.insert(symbol.to_owned());
                }
            }
            if let Some(rest) = after(line, "unable to find system framework") {
                let name = rest
                    .trim()
                    .trim_start_matches(['"', '\''])
                    .split(['"', '\'', ' ', '.'])
                    .next()
                    .unwrap_or("");
                if !name.is_empty() {
                    out.missing_frameworks.insert(name.to_owned());
                }
            }
            out.frameworks.extend(framework_flags(line));
        }
        (!out.undefined.is_empty() || !out.missing_frameworks.is_empty()).then_some(out)
    }

    /// The error text: what, where and how to fix it.
    pub fn message(&self) -> String {
        let mut out = String::from(
            "the link against parbuild's generated macOS framework stubs (not an SDK) failed\n",
        );
        for name in &self.missing_frameworks {
            let _ = writeln!(
                out,
                "the link needs the Apple framework `{name}`, for which parbuild has no stub: \
                 its framework table does not know which symbols `{name}` exports"
            );
        }
        for symbol in &self.undefined {
            let c_name = symbol.strip_prefix('_').unwrap_or(symbol);
            let _ = match frameworks::attribute(c_name) {
                Some(f) => writeln!(
                    out,
                    "the link needs `{symbol}` ({}'s, by parbuild's framework table), but no \
                     dependency declares it where parbuild reads declarations, so its stub \
                     lacks it",
                    f.name
                ),
                None => writeln!(
                    out,
                    "the link needs `{symbol}`, which parbuild cannot attribute to any Apple \
                     framework, so no stub exports it"
                ),
            };
        }
        if !self.frameworks.is_empty() {
            let flags: Vec<String> = self
                .frameworks
                .iter()
                .map(|f| format!("-framework {f}"))
                .collect();
            let _ = writeln!(out, "frameworks on the link line: {}", flags.join(" "));
        }
        let _ = write!(out, "fix: {}", self.fix());
        out
    }

    /// How to fix it.
    fn fix(&self) -> String {
        let mut table = Vec::new();
        for name in &self.missing_frameworks {
            table.push(format!("{name} = [\"…\"]"));
        }
        for symbol in &self.undefined {
            let c_name = symbol.strip_prefix('_').unwrap_or(symbol);
            let framework = frameworks::attribute(c_name).map_or("FRAMEWORK", |f| f.name);
            table.push(format!("{framework} = [\"{c_name}\"]"));
        }
        table.sort();
        table.dedup();
        format!(
            "link against a real macOS SDK (set SDKROOT, or `sdk = \"…\"` on the target in \
             par.toml), or say in par.toml which framework exports it (C names, the \
             framework that really exports each):\n  [macos-stubs]\n  {}",
            table.join("\n  ")
        )
    }
}

fn after<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    line.find(marker).map(|i| &line[i + marker.len()..])
}

/// The `X` of every `"-framework" "X"` (rustc's quoting) or `-framework X` on a line.
fn framework_flags(line: &str) -> Vec<String> {
    let words: Vec<&str> = line
        .split_whitespace()
        .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
        .collect();
    words
        .windows(2)
        .filter(|w| w[0] == "-framework")
        .map(|w| w[1].to_owned())
        .filter(|f| !f.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn zigs_words_as_rustc_passes_them_are_recognized() {
        // Verbatim from zig 0.17.1 under rustc (cargo-zigbuild's wrapper as the linker).
        let log = lines(
            "error: linking with `/t/zigcc-aarch64-apple-darwin.sh` failed: exit status: 1
  |
  = note:  \"/t/zigcc-aarch64-apple-darwin.sh\" \"<1 object files omitted>\" \"-framework\" \"SystemConfiguration\" \"-framework\" \"Security\" \"-framework\" \"CoreFoundation\" \"-liconv\" \"-lSystem\"
  = note: some arguments are omitted. use `--verbose` to show all linker arguments
  = note: error: undefined symbol: _SecNotInAnyStub
              note: referenced by /root/.cache/zig/o/1aed/u.o:_main
          error: undefined symbol: _SecCertificateCopyPublicKey$LEGACYMAC
          error: unable to find system framework \"Metal\". searched paths:
            sdk/System/Library/Frameworks/Metal.framework/Metal.tbd",
        );
        let failure = LinkFailure::from_log(&log).unwrap();
        assert_eq!(
            failure.undefined,
            BTreeSet::from([
                "_SecCertificateCopyPublicKey$LEGACYMAC".to_owned(),
                "_SecNotInAnyStub".to_owned()
            ])
        );
        assert_eq!(
            failure.missing_frameworks,
            BTreeSet::from(["Metal".to_owned()])
        );
        let m = failure.message();
        assert!(m.contains("`_SecNotInAnyStub` (Security's"), "{m}");
        assert!(m.contains("Apple framework `Metal`"), "{m}");
        assert!(
            m.contains(
                "frameworks on the link line: -framework CoreFoundation -framework Security -framework SystemConfiguration"
            ),
            "{m}"
        );
        assert!(m.contains("Security = [\"SecNotInAnyStub\"]"), "{m}");
        assert!(m.contains("Metal = [\"…\"]"), "{m}");
        assert!(m.contains("SDKROOT"), "{m}");
    }

    #[test]
    fn unattributable_symbol_gets_a_placeholder_framework() {
        let log = lines("error: undefined symbol: _MTLCreateSystemDefaultDevice");
        let m = LinkFailure::from_log(&log).unwrap().message();
        assert!(m.contains("cannot attribute"), "{m}");
        assert!(
            m.contains("FRAMEWORK = [\"MTLCreateSystemDefaultDevice\"]"),
            "{m}"
        );
    }

    #[test]
    fn other_failures_are_not_stub_failures() {
        let log =
            lines("error[E0425]: cannot find value `x` in this scope\nerror: could not compile");
        assert_eq!(LinkFailure::from_log(&log), None);
    }
}
