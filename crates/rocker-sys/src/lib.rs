//! rocker-sys (placeholder)
