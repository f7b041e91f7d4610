//! What replicas share through Redis or Valkey (`shared_cache_url`): values under keys, a lease, and the health
//! of the connection. It is a cache, never the source of truth. Every call has a timeout of its own and is tried
//! once, and any failure (down, slow, refusing writes) makes this replica fall back to what it keeps itself.
//!
//! - `client.rs`: the connection, the shape of every call, and the key layout (a prefix naming the namespace, the
//!   upstream and the credit rules' version, in one hash slot `{…}` so that scripts reading several keys work);
//! - `health.rs`: whether this replica shares, as one state, and the probe that brings it back;
//! - `reads.rs`: values under names, every read bounded in size and, with `shared_cache_secret`, authenticated
//!   (`seal.rs`);
//! - `period.rs`: the shared period, its versions and its pointer; `lease.rs`: the lease on its computation;
//! - `scripts.rs`: the server-side scripts.
//!
//! What the values mean is their owners' (the kept period and report lookups are pricing's, sessions access's):
//! this module knows keys and bytes.

mod client;
mod health;
mod lease;
mod period;
mod reads;
pub mod scripts;
pub mod seal;

pub use client::{ConnectError, SharedCache, SharedSettings};
pub use health::{NoSuchDatabase, SharingStatus};
pub use lease::LeaseTaken;
pub use period::{Pointed, Pointer, SharedRead, VERSIONS_KEPT};
pub use reads::{Bounded, NotAValue};
