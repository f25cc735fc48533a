//! rocker-image (placeholder)
