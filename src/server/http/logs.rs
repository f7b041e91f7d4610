//! The server's log lines: readable text (coloured only on a terminal: a log file gets no escape codes), or one
//! JSON object per line with the level, target, message and fields, for an operator's tools. Verbosity follows
//! `RUST_LOG` (default `info`).

use crate::server::config::LogFormat;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stdout);
    let _ = match format {
        LogFormat::Json => builder.json().with_current_span(false).try_init(),
        LogFormat::Text => builder.with_ansi(std::io::stdout().is_terminal()).try_init(),
    };
}
