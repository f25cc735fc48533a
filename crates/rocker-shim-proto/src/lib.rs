//! rocker-shim-proto (placeholder)
