//! Tests of the `meta` binary: snapshot transcripts of every subcommand
//! against an embedded catalog and against a real `meta serve`, help texts,
//! bad input, `audit --follow`, `wait`, and the end-to-end shell tour.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    unreachable_pub,
    missing_debug_implementations
)]

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod e2e;
mod harness;
mod help;
mod live;
mod transcripts;
