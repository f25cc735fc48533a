//! rocker-api (placeholder)
