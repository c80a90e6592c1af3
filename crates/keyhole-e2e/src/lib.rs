//! Nothing here: the tests are in `tests/` (see the crate description).
