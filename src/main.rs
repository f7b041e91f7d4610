#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use credit_dashboard::routes::build_router;
    use credit_dashboard::server::database::schema::SchemaError;
    use credit_dashboard::server::http::{logs, metrics};
    use credit_dashboard::server::{config::Config, http::server::serve, AppState};

    let config = match Config::load() {
        Ok(config) => config,
        Err(error) => {
            logs::init(credit_dashboard::server::config::LogFormat::Text);
            tracing::error!(%error, "invalid configuration");
            return std::process::ExitCode::FAILURE;
        }
    };
    logs::init(config.log_format());
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

    // The address is taken at once (an error says so before anything else starts); nothing is served from it
    // before the state is ready, the shared cache's first probe included: a client's connection waits.
    let listener = match tokio::net::TcpListener::bind(config.site_addr).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, addr = %config.site_addr, "cannot listen");
            return std::process::ExitCode::FAILURE;
        }
    };
    let upstream = config.upstream_urls().redacted_base();
    // The recorder first: what the state reports while it starts (the shared cache's first probe) is kept.
    let metrics_addr = config.metrics_address();
    let metrics_handle = metrics_addr.map(|_| metrics::install());
    let state = match AppState::try_new(leptos_options, &config) {
        Ok(state) => state,
        Err(error) => {
            // The error names its key (database_url, shared_cache_url, …).
            tracing::error!(%error, "cannot start");
            return std::process::ExitCode::FAILURE;
        }
    };
    if let Some(shared) = state.periods.shared() {
        // The first requests of a fleet started together share their computation only if each replica knows
        // Redis answers: wait for its first probe before serving (bounded; then degraded, as when Redis is
        // down).
        if let Err(error) = shared.first_probe().await {
            tracing::error!(%error, "cannot start");
            return std::process::ExitCode::FAILURE;
        }
    }
    if let Some(history) = &state.history {
        // A database a newer binary migrated stops the server; one that does not answer yet does not (the
        // current period needs none, and recording starts when it answers).
        let checked = tokio::time::timeout(config.history_timeout() * 5, history.ensure_schema()).await;
        let database = history.shown();
        match checked {
            Ok(Ok(())) => tracing::info!(database, upstream = config.upstream_identity(), "history store ready"),
            Ok(Err(error @ SchemaError::NewerThanBinary { .. })) => {
                tracing::error!(%error, database, "history store refused");
                return std::process::ExitCode::FAILURE;
            }
            Ok(Err(error)) => tracing::warn!(%error, database, "history store unavailable; recording when it answers"),
            Err(_) => tracing::warn!(database, "history store did not answer; recording when it answers"),
        }
    }
    if let (Some(addr), Some(handle)) = (metrics_addr, metrics_handle) {
        let metrics = credit_dashboard::routes::metrics_router(state.clone(), handle);
        match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => {
                tracing::info!(%addr, "serving metrics at /metrics");
                tokio::spawn(async move { axum::serve(listener, metrics).await });
            }
            Err(error) => {
                tracing::error!(%error, %addr, "cannot listen for metrics");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    let periods = state.periods.clone();
    let periods_at_exit = state.periods.clone();
    let router = build_router(state);
    tracing::info!(addr = %config.site_addr, %upstream, "serving the credit usage dashboard");
    // Ctrl-C, or SIGTERM from an orchestrator: stop accepting, let the requests in flight finish, exit 0.
    let shutdown = async {
        #[cfg(unix)]
        {
            let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("a SIGTERM handler can be installed");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: no new connections; finishing the requests in flight");
        // Another replica computes the period at once, rather than waiting for this one's lease to end.
        periods.release_leases().await;
    };
    serve(listener, router, config.header_read_timeout(), config.shutdown_grace(), shutdown).await;
    // A lease a computation took just before the signal, if it is still held.
    periods_at_exit.release_leases().await;
    std::process::ExitCode::SUCCESS
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The binary is only built with the `ssr` feature; the `hydrate` build is the library.
}
