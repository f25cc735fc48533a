//! rocker-runtime (placeholder)
