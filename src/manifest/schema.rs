//! The serde mirror of `par.toml`, exactly as written (kebab-case, unknown keys rejected).
