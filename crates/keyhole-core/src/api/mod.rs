//! Calling the protected API: the request the user shapes, sending it with a capped answer, and
//! the plain-words diagnosis of a disappointing one.

pub mod answer;
pub(crate) mod answers;
pub(crate) mod clerk_auth;
pub mod diagnosis;
pub(crate) mod import;
pub(crate) mod matrix;
pub(crate) mod probe;
pub(crate) mod request;
pub(crate) mod variables;
