//! rocker-engine (placeholder)
