//! What parbuild needs from `cargo metadata`: the package, its version, the artifact that
//! is the provider, the workspace's target directory.
