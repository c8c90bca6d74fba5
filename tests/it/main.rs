//! Integration tests: one binary. The conformance suite (`conformance/`) is a
//! set of functions that take an [`harness::Env`]; each backend module runs
//! all of them against a real backend.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    unreachable_pub,
    missing_debug_implementations
)]

#[path = "../../cli/tests/common/for_tests_it.rs"]
mod common;

mod bad_input_http;
mod conformance;
mod harness;
mod http;
mod iceberg;
mod postgres;
mod processes;
mod remote;
mod retention;
mod s3;
mod services;
mod sqlite;
