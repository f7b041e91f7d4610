//! The upstream billing API: its addresses, its wire types, the client that calls it with bounded retries,
//! and an embedded sample of it. Nothing here knows about prices or pages.

pub mod client;
pub mod retry;
pub mod sample;
pub mod settings;
pub mod urls;
pub mod wire;
