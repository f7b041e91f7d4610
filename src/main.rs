#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use credit_dashboard::routes::{build_router, metrics_router};
    use credit_dashboard::server::config::LogFormat;
    use credit_dashboard::server::http::{assets, logs, metrics, server::serve};
    use credit_dashboard::server::startup::{configuration, process_env, Application};

    let (config, settings) = match configuration() {
        Ok(configured) => configured,
        Err(error) => {
            logs::init(LogFormat::Text);
            tracing::error!(%error, "invalid configuration");
            return std::process::ExitCode::FAILURE;
        }
    };
    logs::init(config.log_format());
    if settings.upstream.worst_case() > config.usage_deadline() {
        tracing::warn!(
            worst_case_ms = settings.upstream.worst_case().as_millis() as u64,
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
    assets::detect_hashed_names(&mut leptos_options);

    // The address is taken at once (an error says so before anything else starts); nothing is served from it
    // before the application is ready, the shared cache's first probe included: a client's connection waits.
    let listener = match tokio::net::TcpListener::bind(config.site_addr).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, addr = %config.site_addr, "cannot listen");
            return std::process::ExitCode::FAILURE;
        }
    };
    let upstream = settings.upstream.client.urls.redacted_base();
    // The recorder first: what the application reports while it starts (the shared cache's first probe) is kept.
    let metrics_addr = config.metrics_address();
    let metrics_handle = metrics_addr.map(|_| metrics::install());
    let application = match Application::wire(leptos_options, &config, settings) {
        Ok(application) => application,
        Err(error) => {
            // The error names its key (database_url, shared_cache_url, …).
            tracing::error!(%error, "cannot start");
            return std::process::ExitCode::FAILURE;
        }
    };
    if let Err(error) = application.ready().await {
        tracing::error!(%error, "cannot start");
        return std::process::ExitCode::FAILURE;
    }
    if let (Some(addr), Some(handle)) = (metrics_addr, metrics_handle) {
        let metrics = metrics_router(application.state.clone(), handle);
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
    // The organisations are read again on SIGHUP and when their files change.
    if !config.organisations.is_empty() || !config.organisations_path.is_empty() {
        application.reloader().watch(process_env());
    }
    let router = build_router(application.state.clone());
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
        application.stop_computing().await;
    };
    serve(listener, router, config.header_read_timeout(), config.shutdown_grace(), shutdown).await;
    application.exit().await;
    std::process::ExitCode::SUCCESS
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The binary is only built with the `ssr` feature; the `hydrate` build is the library.
}
