#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use credit_dashboard::server::{config::Config, routes::build_router, AppState};
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
    let mut leptos_options = match leptos::config::get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(error) => {
            tracing::error!(%error, "invalid Leptos configuration");
            return std::process::ExitCode::FAILURE;
        }
    };
    leptos_options.site_addr = config.site_addr;

    let state = AppState::new(leptos_options, &config);
    let upstream = state.usage.upstream().base_url().to_owned();
    let router = build_router(state);
    let listener = match tokio::net::TcpListener::bind(config.site_addr).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, addr = %config.site_addr, "cannot listen");
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!(addr = %config.site_addr, %upstream, "serving the credit usage dashboard");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(error) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
        tracing::error!(%error, "server stopped");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The binary is only built with the `ssr` feature; the `hydrate` build is the library.
}
