//! hello-provider: prints one known line naming the platform it runs on, so a test can
//! run each cross-built binary (under qemu-user) and see that it is the right one.

fn main() {
    let greeting = serde_json::json!({
        "provider": "hello",
        "arch": std::env::consts::ARCH,
        "os": std::env::consts::OS,
    });
    println!("hello-provider says {greeting}");
}
