//! The naive detector (placeholder until it lands).
