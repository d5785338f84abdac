//! `parbuild push`/`pull`, `build --push`, and `inspect`/`verify` of a reference, against
//! the real reference registry (Debian's `docker-registry`, registry:2) started here on
//! 127.0.0.1 with its own config: once plain HTTP without auth, once TLS with htpasswd.
//! What parbuild pushes is read back by an independent client (`skopeo`), and every bad
//! input ends in a distinct exit code with nothing written locally.

#![allow(clippy::disallowed_methods)] // the registry, openssl, htpasswd and skopeo run directly

mod support;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::Project;

const LAYER: &str = "application/vnd.wasmcloud.provider.archive.layer.v1+par";
const CONFIG: &str = "application/vnd.wasmcloud.provider.archive.config";
const USER: &str = "ci-bot";
const PASSWORD: &str = "pw-Zq81-never-printed";

/// A registry:2 process with its storage and config in a temporary directory.
struct Registry {
    child: Child,
    dir: tempfile::TempDir,
    host: String,
    tls: bool,
}

impl Registry {
    fn start(tls: bool) -> Option<Self> {
        if !support::requires_tool("docker-registry") || !support::requires_tool("skopeo") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let host = format!("127.0.0.1:{port}");
        let root = dir.path();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
            root.join("data").display()
        );
        if tls {
            assert!(support::requires_tool("openssl") && support::requires_tool("htpasswd"));
            // A CA, and a server certificate it signs (webpki refuses a self-signed
            // certificate that is its own CA).
            let openssl = |args: &[&str]| {
                let ok = Command::new("openssl")
                    .args(args)
                    .current_dir(root)
                    .stderr(Stdio::null())
                    .status()
                    .unwrap();
                assert!(ok.success(), "openssl {args:?}");
            };
            std::fs::write(
                root.join("ext.cnf"),
                "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
            )
            .unwrap();
            openssl(&[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=parbuild test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ]);
            openssl(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                "key.pem",
                "-out",
                "server.csr",
            ]);
            openssl(&[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
                "-out",
                "cert.pem",
            ]);
            let out = Command::new("htpasswd")
                .args(["-Bbn", USER, PASSWORD])
                .output()
                .unwrap();
            std::fs::write(root.join("htpasswd"), out.stdout).unwrap();
            // skopeo's --cert-dir wants the CA as `*.crt`.
            std::fs::create_dir(root.join("certs")).unwrap();
            std::fs::copy(root.join("ca.pem"), root.join("certs/ca.crt")).unwrap();
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\nauth:\n  htpasswd:\n    realm: parbuild-test\n    path: {}\n",
                root.join("cert.pem").display(),
                root.join("key.pem").display(),
                root.join("htpasswd").display()
            ));
        }
        std::fs::write(root.join("config.yml"), config).unwrap();
        let child = Command::new(support::find_tool("docker-registry").unwrap())
            .arg("serve")
            .arg(root.join("config.yml"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(root.join("registry.log")).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&host).is_err() {
            assert!(
                Instant::now() < deadline,
                "the registry did not start: {}",
                std::fs::read_to_string(root.join("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Self {
            child,
            dir,
            host,
            tls,
        })
    }

    fn reference(&self, rest: &str) -> String {
        format!("{}/{rest}", self.host)
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// `skopeo ARGS…` with this registry's TLS and credentials settings.
    fn skopeo(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new("skopeo");
        cmd.arg(args[0]);
        if self.tls {
            let certs = self.dir.path().join("certs");
            if args[0] == "copy" {
                cmd.arg("--src-cert-dir").arg(&certs).arg("--src-creds");
            } else {
                cmd.arg("--cert-dir").arg(&certs).arg("--creds");
            }
            cmd.arg(format!("{USER}:{PASSWORD}"));
        } else if args[0] == "copy" {
            cmd.args(["--src-tls-verify=false", "--dest-tls-verify=false"]);
        } else {
            cmd.arg("--tls-verify=false");
        }
        let out = cmd.args(&args[1..]).output().unwrap();
        assert!(
            out.status.success(),
            "skopeo {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The file holding a blob in the registry's own storage (to tamper with).
    fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A packed two-target archive in `p` (the harness's fixed keys, reproducible).
fn archive(p: &Project, version: &str) -> PathBuf {
    p.pack(&["--version", version, "-o", "x.par.gz"]).success();
    p.path("x.par.gz")
}

fn assert_no_secret(out: &support::Outcome) {
    for text in [&out.stdout, &out.stderr] {
        assert!(
            !text.contains(PASSWORD),
            "the password was printed:\n{text}"
        );
    }
}

#[test]
fn push_reads_back_with_skopeo_as_wash_pushes_and_pull_verifies() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let p = Project::new();
    let archive = archive(&p, "0.1.0");
    let bytes = std::fs::read(&archive).unwrap();
    let r = reg.reference("acme/fakepay:0.1.0");

    // Plain HTTP without `--insecure`: refused, with the fix.
    let out = p.parbuild(["push", "x.par.gz", &r]).code(4);
    assert!(out.stderr.contains("--insecure"), "{}", out.stderr);

    let out = p
        .parbuild(["push", "x.par.gz", &r, "--insecure", "--json"])
        .success();
    let json = out.json();
    let digest = json["digest"].as_str().unwrap().to_owned();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{json}"
    );
    assert_eq!(
        json["pushed"][0]["pinned"],
        format!("{}@{digest}", reg.reference("acme/fakepay"))
    );
    assert_eq!(json["pushed"][0]["unchanged"], false);

    // An independent client reads wash's media types and the archive's bytes.
    let raw = reg.skopeo(&["inspect", "--raw", &format!("docker://{r}")]);
    let manifest: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(manifest["config"]["mediaType"], CONFIG);
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 1);
    assert_eq!(manifest["layers"][0]["mediaType"], LAYER);
    assert_eq!(manifest["layers"][0]["size"], bytes.len());
    let notes = &manifest["annotations"];
    assert_eq!(notes["org.opencontainers.image.version"], "0.1.0");
    assert_eq!(
        notes["org.opencontainers.image.created"],
        "2023-11-14T22:13:20Z"
    );
    assert_eq!(notes["org.opencontainers.image.title"], "Example");
    let sha = |b: &[u8]| {
        use sha2::Digest as _;
        format!("sha256:{:x}", sha2::Sha256::digest(b))
    };
    assert_eq!(
        sha(&raw.stdout),
        digest,
        "the registry's manifest is the one parbuild made"
    );
    let copy = p.path("skopeo-dir");
    reg.skopeo(&[
        "copy",
        &format!("docker://{r}"),
        &format!("dir:{}", copy.display()),
    ]);
    let layer_digest = manifest["layers"][0]["digest"].as_str().unwrap();
    let layer = std::fs::read(copy.join(layer_digest.strip_prefix("sha256:").unwrap())).unwrap();
    assert_eq!(layer, bytes, "the layer is the archive, byte for byte");
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    assert_eq!(
        std::fs::read(copy.join(config_digest.strip_prefix("sha256:").unwrap())).unwrap(),
        b"{}"
    );
    // The real wasmCloud loader reads the layer.
    let par = support::load_with_wasmcloud(&layer);
    assert_eq!(
        par.claims().unwrap().metadata.unwrap().name.as_deref(),
        Some("Example")
    );

    // The same archive again: the same manifest digest, nothing uploaded.
    let again = p
        .parbuild(["push", "x.par.gz", &r, "--insecure", "--json"])
        .success()
        .json();
    assert_eq!(again["digest"], digest.as_str());
    assert_eq!(again["pushed"][0]["unchanged"], true);

    // Pull: verified, then written; its bytes are the archive's.
    let out = p
        .parbuild([
            "pull",
            &r,
            "--insecure",
            "-o",
            "pulled.par.gz",
            "--issuer",
            support::ACCOUNT_PUB,
        ])
        .success();
    assert!(out.stderr.contains("verified"), "{}", out.stderr);
    assert_eq!(std::fs::read(p.path("pulled.par.gz")).unwrap(), bytes);
    // By digest, and through `verify`/`inspect` of the reference.
    let pinned = format!("{}@{digest}", reg.reference("acme/fakepay"));
    p.parbuild(["pull", &pinned, "--insecure", "-o", "pinned.par.gz"])
        .success();
    let out = p.parbuild(["verify", &r, "--insecure"]).success();
    assert!(out.stderr.contains("is sound"), "{}", out.stderr);
    let inspected = p
        .parbuild(["inspect", &r, "--insecure", "--json"])
        .success()
        .json();
    assert_eq!(inspected["name"], "Example");
    assert_eq!(inspected["digest"], digest.as_str());
    // Another issuer required: the pull fails and writes nothing.
    let out = p
        .parbuild([
            "pull",
            &r,
            "--insecure",
            "-o",
            "other.par.gz",
            "--issuer",
            support::SERVICE_PUB,
        ])
        .code(1);
    assert!(out.stderr.contains("nothing was written"), "{}", out.stderr);
    assert!(!p.path("other.par.gz").exists());
}

#[test]
fn tags_latest_conflicts_and_build_push_from_publish() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let p = Project::new();
    let first = archive(&p, "1.0.0");
    std::fs::rename(&first, p.path("first.par.gz")).unwrap();
    let second = archive(&p, "1.0.1");

    // `latest`, written or implied, is refused unless allowed.
    for r in [reg.reference("acme/x"), reg.reference("acme/x:latest")] {
        let out = p
            .parbuild(["push", "first.par.gz", &r, "--insecure"])
            .code(2);
        assert!(out.stderr.contains("--allow-latest"), "{}", out.stderr);
    }
    p.parbuild([
        "push",
        "first.par.gz",
        &reg.reference("acme/x"),
        "--insecure",
        "--allow-latest",
    ])
    .success();

    // A tag holding another archive: refused (6), nothing moved; `--force-tag` moves it.
    let r = reg.reference("acme/x:stable");
    let one = p
        .parbuild(["push", "first.par.gz", &r, "--insecure", "--json"])
        .success()
        .json();
    let out = p
        .parbuild(["push", second.to_str().unwrap(), &r, "--insecure"])
        .code(6);
    assert!(
        out.stderr.contains("--force-tag") && out.stderr.contains(one["digest"].as_str().unwrap()),
        "{}",
        out.stderr
    );
    let raw = reg.skopeo(&["inspect", "--raw", &format!("docker://{r}")]);
    assert!(String::from_utf8_lossy(&raw.stdout).contains("\"1.0.0\""));
    let two = p
        .parbuild([
            "push",
            second.to_str().unwrap(),
            &r,
            "--insecure",
            "--force-tag",
            "--json",
        ])
        .success()
        .json();
    assert_ne!(one["digest"], two["digest"]);

    // `[publish]` in par.toml: no REF needed, every tag pushed, the version by default.
    p.file(
        "par.toml",
        format!(
            "[provider]\nname = \"Example\"\nvendor = \"acme\"\n\n[targets]\nx86_64-linux = {{}}\n\n[publish]\nregistry = \"{}\"\nrepository = \"acme/from-toml\"\ntags = [\"1.0.1\", \"1.0\"]\ninsecure = true\n",
            reg.host
        ),
    );
    let pushed = p
        .parbuild(["push", second.to_str().unwrap(), "--json"])
        .success()
        .json();
    let refs: Vec<&str> = pushed["pushed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["reference"].as_str().unwrap())
        .collect();
    assert_eq!(
        refs,
        [
            reg.reference("acme/from-toml:1.0.1"),
            reg.reference("acme/from-toml:1.0")
        ]
    );
    let tags = reg.skopeo(&[
        "list-tags",
        &format!("docker://{}", reg.reference("acme/from-toml")),
    ]);
    let tags: serde_json::Value = serde_json::from_slice(&tags.stdout).unwrap();
    let mut tags: Vec<&str> = tags["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    tags.sort_unstable();
    assert_eq!(tags, ["1.0", "1.0.1"]);

    // `build --push` of a real crate, host target, to `[publish]` (default tag: version).
    let dir = p.copy_from_repo("examples/hello-provider", "hello");
    let toml = std::fs::read_to_string(dir.join("par.toml")).unwrap();
    std::fs::write(
        dir.join("par.toml"),
        format!(
            "{toml}\n[publish]\nregistry = \"{}\"\nrepository = \"acme/hello\"\ninsecure = true\n",
            reg.host
        ),
    )
    .unwrap();
    let keys = p.test_keys();
    let mut args = vec![
        "build".to_owned(),
        "--target".into(),
        "x86_64-linux".into(),
        "--push".into(),
    ];
    args.extend(keys.iter().map(|k| {
        if k.ends_with(".nk") {
            p.path(k).display().to_string()
        } else {
            k.clone()
        }
    }));
    let out = p
        .parbuild(&args)
        .current_dir(&dir)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .success();
    let pinned = out.stdout.lines().last().unwrap().to_owned();
    assert!(
        pinned.starts_with(&format!("{}@sha256:", reg.reference("acme/hello"))),
        "{}",
        out.stdout
    );
    p.parbuild([
        "pull",
        &reg.reference("acme/hello:0.3.0"),
        "--insecure",
        "-o",
        "hello.par.gz",
    ])
    .success();
    let par = support::load_with_wasmcloud(&std::fs::read(p.path("hello.par.gz")).unwrap());
    assert!(par.targets().iter().any(|t| t == "x86_64-linux"));
}

/// The issue's "done when": a provider repository that has only wash's `wasmcloud.toml`
/// runs `parbuild init && parbuild build --push REF`, and the registry holds an image that
/// skopeo reads with wash's media types, which `parbuild pull` verifies.
#[test]
fn a_repository_with_only_wasmcloud_toml_inits_builds_and_pushes() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let p = Project::new();
    let dir = p.copy_from_repo("examples/hello-provider", "fakepay");
    std::fs::remove_file(dir.join("par.toml")).unwrap();
    std::fs::write(
        dir.join("wasmcloud.toml"),
        format!(
            "name = \"Fake Pay\"\nlanguage = \"rust\"\ntype = \"provider\"\nversion = \"1.0.0\"\n\n[provider]\nvendor = \"Acme\"\n\n[registry]\nurl = \"{}\"\npush_insecure = true\n",
            reg.host
        ),
    )
    .unwrap();
    p.parbuild(["init"]).current_dir(&dir).success();

    let r = reg.reference("acme/fakepay:1.0.0");
    let keys = p.test_keys();
    let mut args = vec![
        "build".to_owned(),
        "--target".into(),
        "x86_64-linux".into(),
        "--push".into(),
        r.clone(),
    ];
    args.extend(keys.iter().map(|k| {
        if k.ends_with(".nk") {
            p.path(k).display().to_string()
        } else {
            k.clone()
        }
    }));
    // No `--insecure`: wash's `push_insecure` for this registry, carried into [publish].
    let out = p.parbuild(&args).current_dir(&dir).success();
    let pinned = out.stdout.lines().last().unwrap().to_owned();
    assert!(
        pinned.starts_with(&format!("{}@sha256:", reg.reference("acme/fakepay"))),
        "{}",
        out.stdout
    );

    let raw = reg.skopeo(&["inspect", "--raw", &format!("docker://{r}")]);
    let manifest: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
    assert_eq!(manifest["config"]["mediaType"], CONFIG);
    assert_eq!(manifest["layers"][0]["mediaType"], LAYER);
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.version"],
        "1.0.0"
    );
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.title"],
        "Fake Pay"
    );
    p.parbuild(["pull", &r, "--insecure", "-o", "pulled.par.gz"])
        .success();
    let par = support::load_with_wasmcloud(&std::fs::read(p.path("pulled.par.gz")).unwrap());
    let claims = par.claims().unwrap().metadata.unwrap();
    assert_eq!(claims.name.as_deref(), Some("Fake Pay"));
    assert_eq!(claims.vendor, "Acme");
    assert_eq!(claims.ver.as_deref(), Some("1.0.0"));
    assert!(par.targets().iter().any(|t| t == "x86_64-linux"));
}

/// A `dir:` image for skopeo to push: one layer of `media_type`.
fn foreign_image(dir: &Path, media_type: &str) {
    use sha2::Digest as _;
    std::fs::create_dir_all(dir).unwrap();
    let layer = b"\0asm\x01\0\0\0".to_vec();
    let layer_hex = format!("{:x}", sha2::Sha256::digest(&layer));
    let config = b"{}".to_vec();
    let config_hex = format!("{:x}", sha2::Sha256::digest(&config));
    std::fs::write(dir.join(&layer_hex), &layer).unwrap();
    std::fs::write(dir.join(&config_hex), &config).unwrap();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.wasm.config.v0+json", "digest": format!("sha256:{config_hex}"), "size": config.len()},
        "layers": [{"mediaType": media_type, "digest": format!("sha256:{layer_hex}"), "size": layer.len()}],
    });
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("version"), "Directory Transport Version: 1.1\n").unwrap();
}

#[test]
fn hostile_or_wrong_images_write_nothing() {
    let Some(reg) = Registry::start(false) else {
        return;
    };
    let p = Project::new();
    let archive = archive(&p, "2.0.0");
    let good = std::fs::read(&archive).unwrap();
    std::fs::write(p.path("keep.par.gz"), &good).unwrap();
    let r = reg.reference("acme/t:2.0.0");
    let pushed = p
        .parbuild(["push", "x.par.gz", &r, "--insecure", "--json"])
        .success()
        .json();

    // Not a provider archive (a wasm component): named, exit 1, the old file intact.
    foreign_image(&p.path("wasm-image"), "application/wasm");
    reg.skopeo(&[
        "copy",
        &format!("dir:{}", p.path("wasm-image").display()),
        &format!("docker://{}", reg.reference("acme/comp:1")),
    ]);
    let out = p
        .parbuild([
            "pull",
            &reg.reference("acme/comp:1"),
            "--insecure",
            "-o",
            "keep.par.gz",
        ])
        .code(1);
    assert!(
        out.stderr.contains("not a provider archive") && out.stderr.contains("application/wasm"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(p.path("keep.par.gz")).unwrap(), good);

    // Larger than allowed: refused from the manifest, before any byte.
    let out = p
        .parbuild([
            "pull",
            &r,
            "--insecure",
            "-o",
            "keep.par.gz",
            "--max-unpacked",
            "100",
        ])
        .code(1);
    assert!(out.stderr.contains("more than the limit"), "{}", out.stderr);

    // Missing tag and unknown host: exit 4.
    let out = p
        .parbuild(["pull", &reg.reference("acme/t:9.9.9"), "--insecure"])
        .code(4);
    assert!(out.stderr.contains("does not exist"), "{}", out.stderr);
    let out = p
        .parbuild(["push", "x.par.gz", "no-such-registry.invalid/acme/t:1"])
        .code(4);
    assert!(out.stderr.contains("cannot reach"), "{}", out.stderr);

    // A layer tampered with in the registry's storage: the digest check catches it.
    let raw = reg.skopeo(&["inspect", "--raw", &format!("docker://{r}")]);
    let manifest: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
    let blob = reg.blob_file(manifest["layers"][0]["digest"].as_str().unwrap());
    let mut bytes = std::fs::read(&blob).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&blob, &bytes).unwrap();
    let out = p
        .parbuild(["pull", &r, "--insecure", "-o", "keep.par.gz"])
        .code(1);
    assert!(
        out.stderr.contains("does not match its digest"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(p.path("keep.par.gz")).unwrap(), good);
    let leftovers: Vec<_> = std::fs::read_dir(p.root())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.ends_with(".tmp").then_some(name)
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(pushed["digest"].is_string());

    // A broken archive is never pushed.
    let mut broken = good.clone();
    let n = broken.len();
    broken.truncate(n - 40);
    std::fs::write(p.path("broken.par.gz"), broken).unwrap();
    p.parbuild([
        "push",
        "broken.par.gz",
        &reg.reference("acme/t:3"),
        "--insecure",
    ])
    .failure();
}

#[test]
fn tls_registry_with_htpasswd_takes_credentials_the_usual_ways() {
    let Some(reg) = Registry::start(true) else {
        return;
    };
    let p = Project::new();
    archive(&p, "3.0.0");
    let r = reg.reference("acme/secure:3.0.0");
    let ca = reg.ca().display().to_string();

    // An unknown CA: unreachable (4), with the fix.
    let out = p.parbuild(["push", "x.par.gz", &r]).code(4);
    assert!(out.stderr.contains("--ca-file"), "{}", out.stderr);
    // No credentials, then a wrong password: rejected (5).
    let out = p
        .parbuild(["push", "x.par.gz", &r, "--ca-file", &ca])
        .code(5);
    assert!(
        out.stderr.contains("refused the credentials"),
        "{}",
        out.stderr
    );
    let out = p
        .parbuild([
            "push",
            "x.par.gz",
            &r,
            "--ca-file",
            &ca,
            "--user",
            USER,
            "--password-stdin",
        ])
        .stdin("wrong-password\n")
        .code(5);
    assert!(out.stderr.contains("--user"), "{}", out.stderr);

    // `--user` with `--password-stdin`, at every verbosity: the password is never shown.
    let out = p
        .parbuild([
            "push",
            "x.par.gz",
            &r,
            "--ca-file",
            &ca,
            "--user",
            USER,
            "--password-stdin",
            "-vv",
        ])
        .stdin(format!("{PASSWORD}\n"))
        .success();
    assert_no_secret(&out);
    reg.skopeo(&["inspect", "--raw", &format!("docker://{r}")]);

    // wash's variables, with the CA from `SSL_CERT_FILE`.
    let out = p
        .parbuild(["pull", &r, "-o", "a.par.gz", "-vv"])
        .env("WASH_REG_USER", USER)
        .env("WASH_REG_PASSWORD", PASSWORD)
        .env("SSL_CERT_FILE", &ca)
        .success();
    assert_no_secret(&out);

    // docker's config.json (`$DOCKER_CONFIG`), podman's auth file (`REGISTRY_AUTH_FILE`).
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    p.file(
        "docker/config.json",
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.host),
    );
    let out = p
        .parbuild(["verify", &r, "--ca-file", &ca, "-vv"])
        .env("DOCKER_CONFIG", p.path("docker"))
        .success();
    assert!(
        out.stderr.contains("config.json"),
        "says where the credentials came from: {}",
        out.stderr
    );
    assert_no_secret(&out);
    p.file(
        "containers/auth.json",
        format!(
            r#"{{"auths":{{"https://{}":{{"auth":"{auth}"}}}}}}"#,
            reg.host
        ),
    );
    p.parbuild(["pull", &r, "--ca-file", &ca, "-o", "b.par.gz"])
        .env("REGISTRY_AUTH_FILE", p.path("containers/auth.json"))
        .success();
    assert_eq!(
        std::fs::read(p.path("a.par.gz")).unwrap(),
        std::fs::read(p.path("b.par.gz")).unwrap()
    );

    // A credential helper named by docker's config: run as a real program on PATH.
    p.file(
        "bin/docker-credential-parbuildtest",
        format!("#!/bin/sh\nread server\n[ \"$server\" = \"{}\" ] || exit 1\nprintf '{{\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}'\n", reg.host),
    );
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(
        p.path("bin/docker-credential-parbuildtest"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    p.file(
        "helper/config.json",
        format!(r#"{{"credHelpers":{{"{}":"parbuildtest"}}}}"#, reg.host),
    );
    let path = format!(
        "{}:{}",
        p.path("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = p
        .parbuild(["pull", &r, "--ca-file", &ca, "-o", "c.par.gz", "-vv"])
        .env("DOCKER_CONFIG", p.path("helper"))
        .env("PATH", path)
        .success();
    assert!(
        out.stderr.contains("docker-credential-parbuildtest"),
        "{}",
        out.stderr
    );
    assert_no_secret(&out);
}
