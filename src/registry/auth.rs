//! Registry credentials the way container users already keep them: wash's variables,
//! podman's `auth.json`, docker's `config.json` (inline `auths` and credential helpers),
//! wash's credentials file. Pure over its inputs: files are read here, but a credential
//! helper is run by the caller's closure (only the process module starts programs).
//!
//! No value of this module ever prints a password: [`Secret`]'s `Debug` and `Display`
//! are redacted, and errors name files and registries, never their contents.
//!
//! One file because [`resolve`] tries every source in one order, and wash's, podman's and
//! docker's files share one lookup of a registry's keys.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;

/// A password or token: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// How to authenticate to one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// No credentials: anonymous access (a registry may still allow it).
    Anonymous,
    /// A user name and password (or a token used as the password).
    Basic {
        /// The user.
        user: String,
        /// The password.
        password: Secret,
    },
    /// An identity token (docker's `identitytoken`, a helper's `<token>` user).
    Token(Secret),
}

/// Where credentials came from, for `-v` output and errors (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--user` with `--password-stdin` (or `$WASH_REG_PASSWORD`).
    CommandLine,
    /// `$WASH_REG_USER` and `$WASH_REG_PASSWORD`.
    WashEnv,
    /// An entry of a JSON file (wash's credentials file, podman's or docker's).
    File(PathBuf),
    /// A docker credential helper (`docker-credential-NAME`), named by a file.
    Helper {
        /// The helper's suffix, e.g. `pass` or `secretservice`.
        name: String,
        /// The file that names it.
        file: PathBuf,
    },
    /// Nothing found.
    None,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CommandLine => f.write_str("--user"),
            Self::WashEnv => f.write_str("$WASH_REG_USER/$WASH_REG_PASSWORD"),
            Self::File(p) => write!(f, "`{}`", p.display()),
            Self::Helper { name, file } => {
                write!(
                    f,
                    "docker-credential-{name} (named in `{}`)",
                    file.display()
                )
            }
            Self::None => f.write_str("no credentials (anonymous)"),
        }
    }
}

/// A credentials file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The file cannot be read.
    #[error("cannot read the registry credentials file `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not the JSON it should be (the parser's position, never the text).
    #[error("the registry credentials file `{path}` is not valid JSON ({reason})")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Line and column of the problem.
        reason: String,
    },
    /// An `auth` entry that is not base64 of `user:password`.
    #[error("the `auth` entry for `{registry}` in `{path}` is not base64 of `user:password`")]
    BadAuthEntry {
        /// The file.
        path: PathBuf,
        /// The registry key.
        registry: String,
    },
    /// A credential helper failed or answered something else than its JSON.
    #[error(
        "the credential helper docker-credential-{name} gave no credentials for `{registry}`: {reason}"
    )]
    Helper {
        /// The helper.
        name: String,
        /// The registry.
        registry: String,
        /// What went wrong (its stderr, never its stdout).
        reason: String,
    },
    /// A user without a password.
    #[error("`{user_from}` is set but no password was given")]
    NoPassword {
        /// `--user` or `$WASH_REG_USER`.
        user_from: &'static str,
    },
}

/// Everything credentials may come from, gathered by the command layer.
#[derive(Debug, Default)]
pub struct Inputs {
    /// `--user`, with the password read from stdin or `$WASH_REG_PASSWORD`.
    pub user: Option<(String, Option<Secret>)>,
    /// `$WASH_REG_USER` and `$WASH_REG_PASSWORD`.
    pub wash_env: (Option<String>, Option<Secret>),
    /// wash's credentials file (`[publish] credentials`): registry → username/password/token.
    pub wash_file: Option<PathBuf>,
    /// Container tools' files, in order: `$REGISTRY_AUTH_FILE`, podman's
    /// `$XDG_RUNTIME_DIR/containers/auth.json`, `$DOCKER_CONFIG/config.json` or
    /// `~/.docker/config.json`. Missing files are skipped.
    pub files: Vec<PathBuf>,
}

/// A credential helper run: `(helper suffix, server) → stdout`, or the reason it failed.
pub type HelperFn<'a> = dyn Fn(&str, &str) -> Result<Secret, String> + 'a;

/// The credentials for `registry` (`host[:port]`), the first source that has some.
pub fn resolve(
    registry: &str,
    inputs: &Inputs,
    helper: &HelperFn<'_>,
) -> Result<(Credentials, Source), AuthError> {
    if let Some((user, password)) = &inputs.user {
        let password = password.clone().ok_or(AuthError::NoPassword {
            user_from: "--user",
        })?;
        return Ok((basic(user, password), Source::CommandLine));
    }
    match &inputs.wash_env {
        (Some(user), Some(password)) => {
            return Ok((basic(user, password.clone()), Source::WashEnv));
        }
        (Some(_), None) => {
            return Err(AuthError::NoPassword {
                user_from: "$WASH_REG_USER",
            });
        }
        _ => {}
    }
    if let Some(path) = &inputs.wash_file {
        let json = read_json(path)?;
        if let Some(found) = wash_entry(&json, registry) {
            return Ok((found, Source::File(path.clone())));
        }
    }
    for path in &inputs.files {
        if !path.is_file() {
            continue;
        }
        let json = read_json(path)?;
        if let Some(found) = container_entry(&json, path, registry, helper)? {
            return Ok(found);
        }
    }
    Ok((Credentials::Anonymous, Source::None))
}

fn basic(user: &str, password: Secret) -> Credentials {
    Credentials::Basic {
        user: user.to_owned(),
        password,
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value, AuthError> {
    let text = std::fs::read(path).map_err(|source| AuthError::Read {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|e| AuthError::Malformed {
        path: path.to_owned(),
        reason: format!("line {}, column {}", e.line(), e.column()),
    })
}

/// The keys a registry may be stored under: `host`, `https://host`, `http://host`, with
/// or without `/v1/`, and Docker Hub's historical names.
fn keys_for(registry: &str) -> Vec<String> {
    let mut hosts = vec![registry.to_owned()];
    if matches!(
        registry,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    ) {
        hosts = vec![
            "https://index.docker.io/v1/".to_owned(),
            "docker.io".to_owned(),
            "index.docker.io".to_owned(),
        ];
    }
    let mut keys = Vec::new();
    for h in hosts {
        keys.push(h.clone());
        if !h.contains("://") {
            for scheme in ["https://", "http://"] {
                keys.push(format!("{scheme}{h}"));
                keys.push(format!("{scheme}{h}/"));
                keys.push(format!("{scheme}{h}/v1/"));
                keys.push(format!("{scheme}{h}/v2/"));
            }
        }
    }
    keys
}

fn lookup<'a>(table: &'a serde_json::Value, registry: &str) -> Option<&'a serde_json::Value> {
    let map = table.as_object()?;
    keys_for(registry).iter().find_map(|k| map.get(k))
}

/// wash's file: `{ "host": { "username": …, "password": …, "token": … } }`.
fn wash_entry(json: &serde_json::Value, registry: &str) -> Option<Credentials> {
    let entry = lookup(json, registry)?;
    let text = |k: &str| {
        entry
            .get(k)
            .and_then(serde_json::Value::as_str)
            .filter(|v| !v.is_empty())
    };
    if let Some(token) = text("token") {
        return Some(Credentials::Token(Secret::new(token)));
    }
    Some(basic(text("username")?, Secret::new(text("password")?)))
}

/// docker's `config.json` / podman's `auth.json`: `credHelpers`, then `auths`, then
/// `credsStore` (docker's order).
fn container_entry(
    json: &serde_json::Value,
    path: &Path,
    registry: &str,
    helper: &HelperFn<'_>,
) -> Result<Option<(Credentials, Source)>, AuthError> {
    if let Some(name) = json
        .get("credHelpers")
        .and_then(|h| lookup(h, registry))
        .and_then(serde_json::Value::as_str)
    {
        return run_helper(name, path, registry, helper).map(Some);
    }
    if let Some(entry) = json.get("auths").and_then(|a| lookup(a, registry)) {
        if let Some(token) = entry
            .get("identitytoken")
            .and_then(serde_json::Value::as_str)
        {
            return Ok(Some((
                Credentials::Token(Secret::new(token)),
                Source::File(path.to_owned()),
            )));
        }
        if let Some(auth) = entry.get("auth").and_then(serde_json::Value::as_str) {
            let bad = || AuthError::BadAuthEntry {
                path: path.to_owned(),
                registry: registry.to_owned(),
            };
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| bad())?;
            let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
            let (user, password) = decoded.split_once(':').ok_or_else(bad)?;
            return Ok(Some((
                basic(user, Secret::new(password)),
                Source::File(path.to_owned()),
            )));
        }
        // An entry without `auth`: docker keeps such stubs when a store holds the secret.
    }
    if let Some(name) = json.get("credsStore").and_then(serde_json::Value::as_str) {
        return run_helper(name, path, registry, helper).map(Some);
    }
    Ok(None)
}

/// Runs `docker-credential-NAME get` for `registry` and reads `{ "Username", "Secret" }`.
fn run_helper(
    name: &str,
    path: &Path,
    registry: &str,
    helper: &HelperFn<'_>,
) -> Result<(Credentials, Source), AuthError> {
    let err = |reason: String| AuthError::Helper {
        name: name.to_owned(),
        registry: registry.to_owned(),
        reason,
    };
    let stdout = helper(name, registry).map_err(err)?;
    let json: serde_json::Value = serde_json::from_str(stdout.expose())
        .map_err(|_| err("its answer is not JSON".to_owned()))?;
    let user = json
        .get("Username")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("");
    let secret = json
        .get("Secret")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| err("its answer has no `Secret`".to_owned()))?;
    let source = Source::Helper {
        name: name.to_owned(),
        file: path.to_owned(),
    };
    // docker's convention: the user `<token>` means the secret is an identity token.
    if user == "<token>" || user.is_empty() {
        Ok((Credentials::Token(Secret::new(secret)), source))
    } else {
        Ok((basic(user, Secret::new(secret)), source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_helper(_: &str, _: &str) -> Result<Secret, String> {
        Err("no helper in this test".to_owned())
    }

    fn file(dir: &tempfile::TempDir, name: &str, json: &str) -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, json).unwrap();
        p
    }

    #[test]
    fn order_of_sources() {
        let dir = tempfile::tempdir().unwrap();
        let docker = file(
            &dir,
            "config.json",
            r#"{"auths":{"https://localhost:5000":{"auth":"ZG9jazpkcGFzcw=="}}}"#,
        );
        let mut inputs = Inputs {
            files: vec![dir.path().join("missing.json"), docker.clone()],
            ..Inputs::default()
        };
        let (c, s) = resolve("localhost:5000", &inputs, &no_helper).unwrap();
        assert_eq!(c, basic("dock", Secret::new("dpass")));
        assert_eq!(s, Source::File(docker));
        assert_eq!(
            resolve("other:5000", &inputs, &no_helper).unwrap().0,
            Credentials::Anonymous
        );
        inputs.wash_env = (Some("w".into()), Some(Secret::new("wp")));
        assert_eq!(
            resolve("localhost:5000", &inputs, &no_helper).unwrap(),
            (basic("w", Secret::new("wp")), Source::WashEnv)
        );
        inputs.user = Some(("cli".into(), Some(Secret::new("cp"))));
        assert_eq!(
            resolve("localhost:5000", &inputs, &no_helper).unwrap().1,
            Source::CommandLine
        );
        inputs.user = Some(("cli".into(), None));
        assert!(matches!(
            resolve("localhost:5000", &inputs, &no_helper),
            Err(AuthError::NoPassword { .. })
        ));
    }

    #[test]
    fn helpers_tokens_and_wash_files() {
        let dir = tempfile::tempdir().unwrap();
        let docker = file(
            &dir,
            "config.json",
            r#"{"credHelpers":{"ghcr.io":"pass"},"credsStore":"secretservice","auths":{"quay.io":{}}}"#,
        );
        let inputs = Inputs {
            files: vec![docker],
            ..Inputs::default()
        };
        let helper = |name: &str, server: &str| -> Result<Secret, String> {
            Ok(Secret::new(match (name, server) {
                ("pass", "ghcr.io") => r#"{"ServerURL":"ghcr.io","Username":"me","Secret":"s1"}"#,
                ("secretservice", _) => r#"{"Username":"<token>","Secret":"t1"}"#,
                _ => "nonsense",
            }))
        };
        assert_eq!(
            resolve("ghcr.io", &inputs, &helper).unwrap().0,
            basic("me", Secret::new("s1"))
        );
        // A stub entry in `auths` falls through to the store.
        assert_eq!(
            resolve("quay.io", &inputs, &helper).unwrap().0,
            Credentials::Token(Secret::new("t1"))
        );
        let wash = file(
            &dir,
            "wash.json",
            r#"{"localhost:5000":{"username":"u","password":"p"},"tok.io":{"token":"t"}}"#,
        );
        let inputs = Inputs {
            wash_file: Some(wash),
            ..Inputs::default()
        };
        assert_eq!(
            resolve("localhost:5000", &inputs, &no_helper).unwrap().0,
            basic("u", Secret::new("p"))
        );
        assert_eq!(
            resolve("tok.io", &inputs, &no_helper).unwrap().0,
            Credentials::Token(Secret::new("t"))
        );
    }

    #[test]
    fn bad_files_name_the_file_never_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let broken = file(
            &dir,
            "config.json",
            r#"{"auths":{"r.io":{"auth":"c2VjcmV0LXBhc3N3b3Jk"}}"#,
        );
        let inputs = Inputs {
            files: vec![broken],
            ..Inputs::default()
        };
        let e = resolve("r.io", &inputs, &no_helper)
            .unwrap_err()
            .to_string();
        assert!(e.contains("config.json") && e.contains("line 1"), "{e}");
        let notb64 = file(
            &dir,
            "c2.json",
            r#"{"auths":{"r.io":{"auth":"not base64 secret-password"}}}"#,
        );
        let inputs = Inputs {
            files: vec![notb64],
            ..Inputs::default()
        };
        let e = resolve("r.io", &inputs, &no_helper)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("secret-password"), "{e}");
        assert_eq!(
            format!("{:?}", Secret::new("hunter2")),
            "Secret(<redacted>)"
        );
        assert!(!format!("{:?}", basic("u", Secret::new("hunter2"))).contains("hunter2"));
    }
}
