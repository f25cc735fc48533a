//! Docker Engine API for Rocker: wire models shared by `rockerd` and its clients, the
//! multiplexed stdio framing, Docker's human-readable renderings, and a typed client over
//! the daemon's unix socket used by the `rocker` CLI.

#![forbid(unsafe_code)]

pub mod detach_keys; // detach keys (P3)
pub mod gotime;
pub mod human;
pub mod kind;
pub mod models;
pub mod stdcopy;

pub use kind::ErrorKind;
pub mod client;

pub use client::{Client, ClientError};
