//! The build plan: one job per target, with its backend, the reason for it, the exact
//! command and environment, and its target directory. Pure: no process, no printing.
