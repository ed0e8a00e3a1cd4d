//! SIGINT (Ctrl-C) and SIGTERM as one stop request for the commands that run until
//! stopped or that leave files behind when killed.
//!
//! Listening starts when [`Stop::listen`] returns, not at a future's first poll: a
//! signal that comes while a command is still setting up is kept for the next
//! [`Stop::requested`] instead of killing the process before its clean-up runs.

use crate::error::{Error, Result};

/// The signals, listened for since [`Stop::listen`].
pub struct Stop {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Stop {
    /// Replaces the signals' default action (death) from now on; needs a Tokio runtime.
    pub fn listen() -> Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let on = |kind| signal(kind).map_err(|e| Error::Signals(e.to_string()));
            Ok(Self {
                interrupt: on(SignalKind::interrupt())?,
                terminate: on(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Resolves at the first SIGINT or SIGTERM since [`Stop::listen`].
    pub async fn requested(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
