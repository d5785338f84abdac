//! messaging-provider: a capability provider with a real provider's dependency tree, used by
//! parbuild's tests to prove that such a provider builds for every target, macOS included.
//!
//! Run as a provider, it reads the host's data (one JSON line, as wasmCloud hosts pass it on
//! stdin), connects to the lattice's NATS server and forwards each message it receives on
//! its subject to an HTTPS callback. `--self-test` exercises the platform code (the
//! system's TLS roots, an HTTP client with the system's proxy settings, a NATS connection
//! attempt with TLS required) without needing a network, and prints what it found.

use std::process::ExitCode;
use std::time::Duration;

use futures::StreamExt as _;
use serde::Deserialize;
use tokio::io::AsyncBufReadExt as _;

/// What the host passes on stdin.
#[derive(Debug, Deserialize)]
struct HostData {
    /// The NATS server of the lattice.
    #[serde(default = "default_nats")]
    lattice_rpc_url: String,
    /// The lattice name.
    #[serde(default)]
    lattice: String,
    /// The provider's key, part of its subject.
    #[serde(default)]
    provider_key: String,
    /// Where received messages are posted.
    #[serde(default)]
    callback_url: Option<String>,
}

fn default_nats() -> String {
    "nats://127.0.0.1:4222".to_owned()
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("messaging-provider: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let self_test = std::env::args().nth(1).as_deref() == Some("--self-test");
    let result = runtime.block_on(async {
        if self_test {
            self_test_run().await
        } else {
            serve().await
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("messaging-provider: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Touches every platform-specific path without a network.
async fn self_test_run() -> Result<(), String> {
    let roots = rustls_native_certs::load_native_certs();
    println!(
        "tls roots: {} found, {} errors",
        roots.certs.len(),
        roots.errors.len()
    );
    let client = http_client()?;
    drop(client);
    println!("http client: ready");
    // Nothing listens on the discard port: the attempt fails at once, after the TLS
    // configuration was built from the platform's roots.
    let attempt = tokio::time::timeout(
        Duration::from_secs(5),
        async_nats::ConnectOptions::new()
            .require_tls(true)
            .connection_timeout(Duration::from_secs(2))
            .max_reconnects(Some(0))
            .connect("tls://127.0.0.1:9"),
    )
    .await;
    let nats = match attempt {
        Ok(Ok(_)) => "connected".to_owned(),
        Ok(Err(e)) => format!("not connected ({})", e.kind()),
        Err(_) => "not connected (timed out)".to_owned(),
    };
    println!("nats: {nats}");
    println!("self-test: ok");
    Ok(())
}

fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// The provider proper: subscribe and forward.
async fn serve() -> Result<(), String> {
    let mut line = String::new();
    tokio::io::BufReader::new(tokio::io::stdin())
        .read_line(&mut line)
        .await
        .map_err(|e| format!("cannot read the host data on stdin: {e}"))?;
    let host: HostData =
        serde_json::from_str(line.trim()).map_err(|e| format!("bad host data: {e}"))?;
    let nats = async_nats::connect(&host.lattice_rpc_url)
        .await
        .map_err(|e| format!("cannot connect to `{}`: {e}", host.lattice_rpc_url))?;
    let subject = format!("wasmbus.rpc.{}.{}", host.lattice, host.provider_key);
    let mut messages = nats
        .subscribe(subject.clone())
        .await
        .map_err(|e| format!("cannot subscribe to `{subject}`: {e}"))?;
    let client = http_client()?;
    while let Some(msg) = messages.next().await {
        if let Some(url) = &host.callback_url {
            let sent = client
                .post(url)
                .header("content-type", "application/octet-stream")
                .body(msg.payload.to_vec())
                .send()
                .await;
            if let Err(e) = sent {
                eprintln!("messaging-provider: callback failed: {e}");
            }
        }
    }
    Ok(())
}
