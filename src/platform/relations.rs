//! Metamorphic relations.
