//! Finding the tools the backends need (rustup targets, linkers, cargo-zigbuild and zig)
//! and installing the ones that need no guessing (`doctor --fix`).
