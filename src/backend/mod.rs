//! Backends describe the command that builds a target; the runner executes it.
