//! The HTTP edge's machinery, under the routes: the server with its timers, the bound on requests in flight,
//! the Content-Security-Policy, and the cache headers of the browser's assets.

pub mod assets;
pub mod conditional;
pub mod logs;
pub mod metrics;
pub mod overload;
pub mod privacy;
pub mod security;
pub mod server;
