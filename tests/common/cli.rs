//! The real binary as a command-line tool: run it, expect success (its stdout) or failure (its
//! stderr), printing the other stream when the expectation fails.

use std::process::{Command, Output};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_renewal-map");

/// Runs `renewal-map args…`.
pub fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run binary")
}

/// Runs a command expected to succeed; returns its stdout.
pub fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a command expected to fail; returns its stderr.
pub fn fails(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        !out.status.success(),
        "{args:?} succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}
