#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use credit_dashboard::routes::build_router;
    use credit_dashboard::server::history::schema::SchemaError;
    use credit_dashboard::server::{config::Config, http::server::serve, AppState};
    use tracing_subscriber::EnvFilter;

    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();

    let config = match Config::load() {
        Ok(config) => config,
        Err(error) => {
            tracing::error!(%error, "invalid configuration");
            return std::process::ExitCode::FAILURE;
        }
    };
    if config.worst_case_upstream_time() > config.usage_deadline() {
        tracing::warn!(
            worst_case_ms = config.worst_case_upstream_time().as_millis() as u64,
            deadline_ms = config.usage_deadline_ms,
            "usage_deadline_ms is shorter than the upstream calls and retries can take; the last retries will be cut off"
        );
    }
    let mut leptos_options = match leptos::config::get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(error) => {
            tracing::error!(%error, "invalid Leptos configuration");
            return std::process::ExitCode::FAILURE;
        }
    };
    leptos_options.site_addr = config.site_addr;
    credit_dashboard::server::http::assets::detect_hashed_names(&mut leptos_options);

    let listener = match tokio::net::TcpListener::bind(config.site_addr).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, addr = %config.site_addr, "cannot listen");
            return std::process::ExitCode::FAILURE;
        }
    };
    let upstream = config.upstream_urls().redacted_base();
    let state = match AppState::try_new(leptos_options, &config) {
        Ok(state) => state,
        Err(error) => {
            tracing::error!(%error, "cannot open the history store");
            return std::process::ExitCode::FAILURE;
        }
    };
    if let Some(history) = &state.history {
        // A database a newer binary migrated stops the server; one that does not answer yet does not (the
        // current period needs none, and recording starts when it answers).
        let checked = tokio::time::timeout(config.history_timeout() * 5, history.ensure_schema()).await;
        let database = history.store().shown();
        match checked {
            Ok(Ok(())) => tracing::info!(database, "history store ready"),
            Ok(Err(error @ SchemaError::NewerThanBinary { .. })) => {
                tracing::error!(%error, database, "history store refused");
                return std::process::ExitCode::FAILURE;
            }
            Ok(Err(error)) => tracing::warn!(%error, database, "history store unavailable; recording when it answers"),
            Err(_) => tracing::warn!(database, "history store did not answer; recording when it answers"),
        }
    }
    let router = build_router(state);
    tracing::info!(addr = %config.site_addr, %upstream, "serving the credit usage dashboard");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    serve(listener, router, config.header_read_timeout(), shutdown).await;
    std::process::ExitCode::SUCCESS
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The binary is only built with the `ssr` feature; the `hydrate` build is the library.
}
