//! Makefile syntax, as far as reading variables goes: assignments in every flavour, `\`
//! continuations, comments, `include` lines, and the expansion of `$(VAR)` references,
//! capped so that a hostile Makefile cannot make it exponential. Nothing here knows what
//! provider.mk's variables mean ([`super::provider_mk`] does).

use std::collections::BTreeMap;

/// One variable: its raw value and the line it was set on (from 1).
#[derive(Debug, Clone)]
pub(super) struct MakeVar {
    pub(super) value: String,
    pub(super) line: usize,
}

/// The variables and `include` lines of a Makefile.
pub(super) struct ParsedMake {
    pub(super) vars: BTreeMap<String, MakeVar>,
    pub(super) includes: Vec<String>,
}

/// Reads the variable assignments (`=`, `:=`, `::=`, `?=`, `+=`; `export`/`override`
/// prefixes; `\` continuations; `#` comments) and the `include` lines. Recipe lines (a
/// leading tab), rules and conditionals are skipped: every assignment counts, in order,
/// as make would see them with every condition true.
pub(super) fn parse_make(text: &str) -> ParsedMake {
    let mut vars: BTreeMap<String, MakeVar> = BTreeMap::new();
    let mut includes = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((index, first)) = lines.next() {
        if first.starts_with('\t') {
            continue;
        }
        let mut logical = first.to_owned();
        while ends_with_continuation(&logical) {
            logical.pop();
            match lines.next() {
                Some((_, next)) => {
                    logical.push(' ');
                    logical.push_str(next.trim_start());
                }
                None => break,
            }
        }
        let line = strip_comment(&logical).trim();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = ["include ", "-include ", "sinclude "]
            .iter()
            .find_map(|p| line.strip_prefix(p))
        {
            includes.push(rest.trim().to_owned());
            continue;
        }
        let Some((name, op, value)) = assignment(line) else {
            continue;
        };
        let value = value.trim().to_owned();
        let number = index + 1;
        match op {
            "?=" => {
                vars.entry(name).or_insert(MakeVar {
                    value,
                    line: number,
                });
            }
            "+=" => {
                let entry = vars.entry(name).or_insert(MakeVar {
                    value: String::new(),
                    line: number,
                });
                if !entry.value.is_empty() {
                    entry.value.push(' ');
                }
                entry.value.push_str(&value);
            }
            "!=" => {
                // The output of a shell command: unknown here.
                vars.insert(
                    name,
                    MakeVar {
                        value: format!("$(shell {value})"),
                        line: number,
                    },
                );
            }
            _ => {
                vars.insert(
                    name,
                    MakeVar {
                        value,
                        line: number,
                    },
                );
            }
        }
    }
    ParsedMake { vars, includes }
}

fn ends_with_continuation(line: &str) -> bool {
    line.bytes().rev().take_while(|b| *b == b'\\').count() % 2 == 1
}

/// `line` up to its first `#` that is not escaped as `\#`.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes[i - 1] != b'\\') {
            return &line[..i];
        }
    }
    line
}

/// `NAME OP VALUE` of an assignment line, or `None` for anything else (rules, directives).
fn assignment(line: &str) -> Option<(String, &'static str, &str)> {
    let line = line
        .strip_prefix("export ")
        .or_else(|| line.strip_prefix("override "))
        .unwrap_or(line)
        .trim_start();
    let eq = line.find('=')?;
    let left = &line[..eq];
    let (name, op) = if let Some(n) = left.strip_suffix("::") {
        (n, ":=")
    } else if let Some(n) = left.strip_suffix(':') {
        (n, ":=")
    } else if let Some(n) = left.strip_suffix('?') {
        (n, "?=")
    } else if let Some(n) = left.strip_suffix('+') {
        (n, "+=")
    } else if let Some(n) = left.strip_suffix('!') {
        (n, "!=")
    } else {
        (left, "=")
    };
    let name = name.trim();
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    valid.then(|| (name.to_owned(), op, &line[eq + 1..]))
}

/// At most this many variable references are followed, and at most this many bytes
/// produced, per value: a Makefile whose variables nest many references deep would
/// otherwise expand exponentially (found by fuzzing). No real provider value comes near.
const EXPAND_REFS: usize = 4096;
const EXPAND_BYTES: usize = 64 * 1024;

/// `value` with `$(VAR)`/`${VAR}` expanded from `vars` and `$$` as `$`; `None` when it
/// needs something make computes (`$(shell …)`, other functions, automatic variables) or
/// would expand past [`EXPAND_REFS`]/[`EXPAND_BYTES`].
pub(super) fn expand(
    value: &str,
    vars: &BTreeMap<String, MakeVar>,
    depth: usize,
) -> Option<String> {
    let mut budget = EXPAND_REFS;
    let mut out = String::new();
    expand_into(value, vars, depth, &mut budget, &mut out)?;
    Some(out)
}

fn expand_into(
    value: &str,
    vars: &BTreeMap<String, MakeVar>,
    depth: usize,
    refs: &mut usize,
    out: &mut String,
) -> Option<()> {
    if depth > 16 {
        return None;
    }
    let push =
        |out: &mut String, s: &str| (out.len() + s.len() <= EXPAND_BYTES).then(|| out.push_str(s));
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        push(out, &rest[..i])?;
        let after = &rest[i + 1..];
        let (close, body_start) = match after.chars().next() {
            Some('$') => {
                push(out, "$")?;
                rest = &after[1..];
                continue;
            }
            Some('(') => (')', 1),
            Some('{') => ('}', 1),
            _ => return None,
        };
        let end = after.find(close)?;
        let name = &after[body_start..end];
        if name.contains(|c: char| c.is_whitespace() || c == ',' || c == '$' || c == ':') {
            return None;
        }
        *refs = refs.checked_sub(1)?;
        let var = vars.get(name)?;
        expand_into(&var.value, vars, depth + 1, refs, out)?;
        rest = &after[end + 1..];
    }
    push(out, rest)
}

/// `"x"` or `'x'` as `x`: provider.mk hands these values to the shell, which strips them.
pub(super) fn unquote(value: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_stops_at_what_make_computes() {
        let vars: BTreeMap<String, MakeVar> = [
            ("A", "a$(B)"),
            ("B", "${C}b"),
            ("C", "c"),
            ("S", "$(shell x)"),
            ("L", "$(L)"),
        ]
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_owned(),
                MakeVar {
                    value: v.to_owned(),
                    line: 1,
                },
            )
        })
        .collect();
        assert_eq!(expand("$(A)-$$", &vars, 0).as_deref(), Some("acb-$"));
        assert_eq!(expand("$(S)", &vars, 0), None);
        assert_eq!(expand("$(L)", &vars, 0), None, "a loop ends");
        assert_eq!(expand("$(UNSET)", &vars, 0), None);
        assert_eq!(expand("$@", &vars, 0), None);
        // Eight references per level, fifteen levels: 8^15 expansions unbounded (found by
        // fuzzing; without the budget this test does not end).
        let mut nested: BTreeMap<String, MakeVar> = BTreeMap::new();
        nested.insert(
            "V0".to_owned(),
            MakeVar {
                value: "x".repeat(100),
                line: 1,
            },
        );
        for level in 1..16 {
            nested.insert(
                format!("V{level}"),
                MakeVar {
                    value: format!("$(V{})", level - 1).repeat(8),
                    line: 1,
                },
            );
        }
        assert_eq!(expand("$(V15)", &nested, 0), None);
        assert_eq!(expand("$(V2)", &nested, 0).map(|v| v.len()), Some(6400));
    }
}
