//! Keyhole engine.
