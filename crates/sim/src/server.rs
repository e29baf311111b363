//! Serving a simulator: bind a loopback port, run its axum router on a task until the sim
//! signals shutdown, and let the owner wait for that task.

use std::fmt::Debug;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use axum::Router;
use axum::serve::Listener;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::net::GatedListener;

/// 127.0.0.1 on a free port.
pub(crate) const LOOPBACK: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));

/// How long [`Server::stopped`] waits for open connections before aborting the task.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// A sim's HTTP server task. Dropping it leaves the task to finish on its own once the sim
/// has signalled shutdown.
#[derive(Debug)]
pub(crate) struct Server {
    addr: SocketAddr,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds `addr` and serves `app` until `down` reads `true` (or its sender is gone).
    /// With `gate`, connections are cut while it is `false` (see `net.rs`). `name` labels
    /// the warning logged when the server fails.
    pub(crate) async fn start(
        addr: SocketAddr,
        gate: Option<Arc<AtomicBool>>,
        app: Router,
        down: watch::Receiver<bool>,
        name: &'static str,
    ) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let task = match gate {
            Some(open) => spawn(GatedListener { listener, open }, app, down, name),
            None => spawn(listener, app, down, name),
        };
        Ok(Server {
            addr,
            task: Some(task),
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits for the task to end (at most [`STOP_TIMEOUT`], then aborts it). Call after
    /// signalling shutdown.
    pub(crate) async fn stopped(&mut self) {
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(STOP_TIMEOUT, task).await.is_err() {
                abort.abort();
            }
        }
    }
}

fn spawn<L>(
    listener: L,
    app: Router,
    mut down: watch::Receiver<bool>,
    name: &'static str,
) -> JoinHandle<()>
where
    L: Listener,
    L::Addr: Debug,
{
    tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            // An Err means the sender is gone, i.e. the sim is gone: stop as well.
            let _ = down.wait_for(|d| *d).await;
        });
        if let Err(e) = serve.await {
            tracing::warn!(error = %e, "{name} server stopped with an error");
        }
    })
}
