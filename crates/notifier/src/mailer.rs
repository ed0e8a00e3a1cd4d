//! Sends the outbox over SMTP: each mail is marked `sending` before its SMTP
//! transaction and `sent` once the server accepted it; a failure is retried with
//! exponential backoff, a permanent refusal (5xx) marks the mail `failed`.

use crate::config::{Config, SmtpSecurity};
use crate::error::{Error, Result};
use crate::health::Metrics;
use crate::store::{Outgoing, Store};
use futures_util::StreamExt;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    in_flight: usize,
    max_backoff: Duration,
}

impl Mailer {
    pub fn new(config: &Config, store: Arc<Store>, metrics: Arc<Metrics>) -> Result<Self> {
        let host = config.smtp_host.as_str();
        let smtp = |e: lettre::transport::smtp::Error| Error::Smtp(e.to_string());
        let builder = match config.smtp_security {
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(smtp)?,
            SmtpSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(smtp)?
            }
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        };
        let mut builder = builder
            .port(config.smtp_port)
            .timeout(Some(Duration::from_secs(15)))
            .pool_config(PoolConfig::new().max_size(config.max_in_flight as u32));
        if let (Some(user), Some(password)) = (&config.smtp_user, &config.smtp_password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.0.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            from: config
                .mail_from
                .parse()
                .map_err(|e| Error::Config(format!("mail_from: {e}")))?,
            store,
            metrics,
            in_flight: config.max_in_flight,
            max_backoff: Duration::from_millis(config.max_backoff_ms.max(1)),
        })
    }

    /// Sends due mails until `stop`; mails in flight when it turns are finished,
    /// the rest of the batch waits for the next start.
    pub async fn run(self, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            let due = match self.store.due(crate::now(), 256) {
                Ok(due) => due,
                Err(e) => {
                    tracing::error!(error = %e, "reading the outbox failed");
                    Vec::new()
                }
            };
            if !due.is_empty() {
                let (this, stop) = (&self, &stop);
                futures_util::stream::iter(due)
                    .for_each_concurrent(self.in_flight, |m| async move {
                        if !*stop.borrow() {
                            this.deliver(m).await;
                        }
                    })
                    .await;
                continue;
            }
            let idle = match self.store.next_retry() {
                Ok(Some(at)) => Duration::from_secs(at.saturating_sub(crate::now()))
                    .max(Duration::from_millis(50)),
                _ => Duration::from_secs(5),
            };
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(idle.min(Duration::from_secs(5))) => {}
                _ = stop.changed() => {}
            }
        }
    }

    async fn deliver(&self, m: Outgoing) {
        let message = match self.message(&m) {
            Ok(message) => message,
            Err(e) => {
                // The directory checked the address; a failure here is permanent.
                tracing::error!(message_id = %m.message_id, error = %e, "mail cannot be built");
                let _ = self.store.mark(&m.message_id, "failed", crate::now());
                return;
            }
        };
        if let Err(e) = self.store.mark(&m.message_id, "sending", crate::now()) {
            tracing::error!(error = %e, "outbox write failed");
            return;
        }
        let result = self.transport.send(message).await;
        let outcome = match result {
            Ok(_) => {
                self.metrics.mails_sent.fetch_add(1, Ordering::Relaxed);
                tracing::info!(message_id = %m.message_id, "mail accepted");
                self.store.mark(&m.message_id, "sent", crate::now())
            }
            Err(e) if e.is_permanent() => {
                self.metrics.smtp_errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(message_id = %m.message_id, error = %e, "mail refused for good");
                self.store.mark(&m.message_id, "failed", crate::now())
            }
            Err(e) => {
                self.metrics.smtp_errors.fetch_add(1, Ordering::Relaxed);
                let wait = backoff(m.attempts, self.max_backoff);
                tracing::warn!(message_id = %m.message_id, error = %e, retry_in_ms = wait.as_millis() as u64, "SMTP failed");
                self.store
                    .retry_at(&m.message_id, crate::now() + wait.as_secs().max(1))
            }
        };
        if let Err(e) = outcome {
            tracing::error!(error = %e, "outbox write failed");
        }
    }

    fn message(&self, m: &Outgoing) -> Result<Message> {
        let to: Mailbox = m.email.parse().map_err(|e| Error::Mail(format!("{e}")))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .message_id(Some(m.message_id.clone()))
            .header(ContentType::TEXT_PLAIN)
            .body(m.body.clone())
            .map_err(|e| Error::Mail(e.to_string()))
    }
}

/// 1 s, 2 s, 4 s … up to `max`.
fn backoff(attempts: u32, max: Duration) -> Duration {
    Duration::from_secs(1u64 << attempts.min(16)).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_ceiling() {
        let max = Duration::from_secs(30);
        assert_eq!(backoff(0, max), Duration::from_secs(1));
        assert_eq!(backoff(3, max), Duration::from_secs(8));
        assert_eq!(backoff(40, max), max);
    }
}
