//! Sends the outbox over SMTP on `max_in_flight` connections, each kept open
//! across mails; a failure is retried with exponential backoff, a permanent
//! refusal (5xx) marks the mail `failed`.
//!
//! # When a mail can go out twice
//!
//! SMTP gives a client no way to ask whether a server holds a message. Once
//! the end of a mail's data (the final `.`) has left this process, the server
//! may store it even if the process dies at once: the kernel still delivers
//! what was written, and the server answers nobody. Until then the server
//! drops the transaction when the connection closes. So the one moment a mail
//! is in doubt runs from the end of its data to the commit of the server's
//! reply, and the mailer keeps it as narrow and as rare as SMTP allows:
//!
//! - MAIL, RCPT and DATA (and connecting, STARTTLS, AUTH) happen before it; a
//!   failure there is never in doubt.
//! - TCP_NODELAY: the end of data leaves with the text, not after the server's
//!   delayed ACK of it (up to 40 ms, the larger part of the window before).
//! - The mail is marked `sending` (committed) just before its end of data, and
//!   `sent` in its own one-row commit as soon as the server's 250 arrives:
//!   nothing (no log line, no other write) comes in between.
//! - One mail at a time is past its end of data. The other connections prepare
//!   theirs meanwhile, so a crash leaves at most one mail `sending`, whatever
//!   the number of connections or however slow the server is to store a mail
//!   (aiosmtpd, like most MTAs, fsyncs each one before its 250).
//!
//! The price of the last rule is throughput: at most one mail per round trip
//! of the end of data (the server's time to store it plus the network's).
//!
//! A mail found `sending` at start is sent again with the same Message-ID and
//! counted (`inDoubtResent`), as is one whose connection broke (or timed out)
//! after its end of data: receivers can drop a Message-ID they already hold.
//! A 4xx or 5xx reply to the end of data is a definite answer, never in doubt.

use crate::config::{Config, SmtpSecurity};
use crate::error::{Error, Result};
use crate::health::Metrics;
use crate::store::{Outgoing, Store};
use futures_io::{AsyncRead as _, AsyncWrite as _};
use lettre::address::Envelope;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
#[allow(deprecated)]
use lettre::transport::smtp::client::AsyncNetworkStream;
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::Message;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};

/// The longest wait for any one SMTP step (connecting included).
const STEP_TIMEOUT: Duration = Duration::from_secs(15);

/// A connection idle longer than this is checked with NOOP before a mail:
/// servers close idle connections (RFC 5321 lets them after 5 minutes, some
/// sooner), and finding out at MAIL costs a reconnect anyway.
const IDLE_CHECK: Duration = Duration::from_secs(10);

/// Idle connections are closed after this long without a mail.
const IDLE_CLOSE: Duration = Duration::from_secs(60);

/// Why an SMTP attempt ended without a 250.
#[derive(Debug)]
enum Failure {
    /// 5xx: the server will never take this mail.
    Refused(String),
    /// 4xx: not now; the server does not hold it.
    Deferred(String),
    /// The connection broke, timed out or spoke nonsense.
    Broken(String),
}

impl Failure {
    fn from_smtp(e: lettre::transport::smtp::Error) -> Self {
        if e.is_permanent() {
            Self::Refused(e.to_string())
        } else if e.is_transient() {
            Self::Deferred(e.to_string())
        } else {
            Self::Broken(e.to_string())
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused(e) | Self::Deferred(e) | Self::Broken(e) => f.write_str(e),
        }
    }
}

/// One SMTP step, bounded by [`STEP_TIMEOUT`].
async fn step<T>(
    f: impl Future<Output = std::result::Result<T, lettre::transport::smtp::Error>>,
) -> std::result::Result<T, Failure> {
    match tokio::time::timeout(STEP_TIMEOUT, f).await {
        Ok(r) => r.map_err(Failure::from_smtp),
        Err(_) => Err(Failure::Broken(format!(
            "no answer within {} s",
            STEP_TIMEOUT.as_secs()
        ))),
    }
}

/// One of the `max_in_flight` connections.
#[derive(Default)]
struct Lane {
    conn: Option<AsyncSmtpConnection>,
    used: Option<Instant>,
}

impl Lane {
    async fn close(&mut self) {
        if let Some(mut c) = self.conn.take() {
            // QUIT, bounded: a server that does not answer is left as it is.
            let _ = tokio::time::timeout(Duration::from_secs(2), c.abort()).await;
        }
    }
}

/// Where and how to connect.
struct Server {
    host: String,
    port: u16,
    security: SmtpSecurity,
    tls: Option<TlsParameters>,
    credentials: Option<Credentials>,
    hello: ClientId,
}

impl Server {
    async fn connect(&self) -> std::result::Result<AsyncSmtpConnection, Failure> {
        let tcp = tokio::time::timeout(
            STEP_TIMEOUT,
            tokio::net::TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await
        .map_err(|_| Failure::Broken("connecting timed out".into()))?
        .map_err(|e| Failure::Broken(format!("connecting: {e}")))?;
        // Without it the end of data (5 bytes, written after the text) waits
        // for the server's delayed ACK of the text, up to 40 ms on Linux, with
        // the mail already in doubt: the kernel sends it even if we die.
        tcp.set_nodelay(true)
            .map_err(|e| Failure::Broken(format!("TCP_NODELAY: {e}")))?;
        let stream: Box<dyn AsyncTokioStream> = match (self.security, &self.tls) {
            (SmtpSecurity::Tls, Some(tls)) => Box::new(implicit_tls(tcp, tls.clone()).await?),
            _ => Box::new(tcp),
        };
        let mut conn = step(AsyncSmtpConnection::connect_with_transport(
            stream,
            &self.hello,
        ))
        .await?;
        if let (SmtpSecurity::Starttls, Some(tls)) = (self.security, &self.tls) {
            step(conn.starttls(tls.clone(), &self.hello)).await?;
        }
        if let Some(credentials) = &self.credentials {
            step(conn.auth(DEFAULT_MECHANISMS, credentials)).await?;
        }
        Ok(conn)
    }
}

/// `tcp` after lettre's own TLS handshake (its certificate checks), as the
/// tokio stream `connect_with_transport` takes. lettre opens implicit TLS
/// itself only on a socket of its own, without TCP_NODELAY; its network
/// stream type is the one way to reuse its TLS on ours.
#[allow(deprecated)]
async fn implicit_tls(
    tcp: tokio::net::TcpStream,
    tls: TlsParameters,
) -> std::result::Result<TlsStream, Failure> {
    let peer = tcp
        .peer_addr()
        .map_err(|e| Failure::Broken(format!("connecting: {e}")))?;
    let mut stream = AsyncNetworkStream::use_existing_tokio1(Box::new(tcp));
    step(stream.upgrade_tls(tls)).await?;
    Ok(TlsStream { stream, peer })
}

#[allow(deprecated)]
#[derive(Debug)]
struct TlsStream {
    stream: AsyncNetworkStream,
    peer: std::net::SocketAddr,
}

impl AsyncTokioStream for TlsStream {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        Ok(self.peer)
    }
}

impl tokio::io::AsyncRead for TlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let unfilled = buf.initialize_unfilled();
        match Pin::new(&mut self.stream).poll_read(cx, unfilled) {
            Poll::Ready(Ok(n)) => {
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl tokio::io::AsyncWrite for TlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_close(cx)
    }
}

/// Sends the outbox over SMTP on up to `max_in_flight` connections kept open,
/// with one mail in doubt at a time.
pub struct Mailer {
    server: Server,
    from: Mailbox,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    in_flight: usize,
    max_backoff: Duration,
    /// Held from a mail's `sending` commit to the commit of the server's reply
    /// to its end of data: one mail in doubt at a time.
    end_of_data: tokio::sync::Mutex<()>,
}

impl Mailer {
    /// A mailer for `config`'s SMTP server; it connects when there is mail.
    /// Fails with [`Error::Smtp`] if TLS cannot be set up for `smtp_host`, and
    /// [`Error::Config`] for a `mail_from` that is not a mailbox.
    pub fn new(config: &Config, store: Arc<Store>, metrics: Arc<Metrics>) -> Result<Self> {
        let tls = match config.smtp_security {
            SmtpSecurity::None => None,
            SmtpSecurity::Tls | SmtpSecurity::Starttls => Some(
                TlsParameters::new(config.smtp_host.clone())
                    .map_err(|e| Error::Smtp(e.to_string()))?,
            ),
        };
        let credentials = match (&config.smtp_user, &config.smtp_password) {
            (Some(user), Some(password)) => {
                Some(Credentials::new(user.clone(), password.0.clone()))
            }
            _ => None,
        };
        Ok(Self {
            server: Server {
                host: config.smtp_host.clone(),
                port: config.smtp_port,
                security: config.smtp_security,
                tls,
                credentials,
                hello: ClientId::default(),
            },
            from: config
                .mail_from
                .parse()
                .map_err(|e| Error::Config(format!("mail_from: {e}")))?,
            store,
            metrics,
            in_flight: config.max_in_flight,
            max_backoff: Duration::from_millis(config.max_backoff_ms.max(1)),
            end_of_data: tokio::sync::Mutex::new(()),
        })
    }

    /// Sends due mails until `stop`; mails in flight when it turns are finished,
    /// the rest of the batch waits for the next start.
    pub async fn run(self, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
        let mut lanes: Vec<Lane> = (0..self.in_flight).map(|_| Lane::default()).collect();
        loop {
            if *stop.borrow() {
                break;
            }
            let due = match self.store.due(crate::now(), 256) {
                Ok(due) => due,
                Err(e) => {
                    tracing::error!(error = %e, "reading the outbox failed");
                    Vec::new()
                }
            };
            if !due.is_empty() {
                let queue = Mutex::new(due.into_iter());
                let (this, queue, stop) = (&self, &queue, &stop);
                futures_util::future::join_all(
                    lanes
                        .iter_mut()
                        .map(|lane| async move { this.lane(lane, queue, stop).await }),
                )
                .await;
                continue;
            }
            for lane in &mut lanes {
                if lane.used.is_some_and(|t| t.elapsed() > IDLE_CLOSE) {
                    lane.close().await;
                    lane.used = None;
                }
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
        for lane in &mut lanes {
            lane.close().await;
        }
    }

    /// Takes mails from the batch one by one until it is empty or `stop` turns.
    async fn lane(
        &self,
        lane: &mut Lane,
        queue: &Mutex<std::vec::IntoIter<Outgoing>>,
        stop: &watch::Receiver<bool>,
    ) {
        loop {
            if *stop.borrow() {
                return;
            }
            let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
            let Some(m) = next else { return };
            self.deliver(lane, m).await;
        }
    }

    async fn deliver(&self, lane: &mut Lane, m: Outgoing) {
        let message = match self.message(&m) {
            Ok(message) => message,
            Err(e) => {
                // The directory checked the address; a failure here is permanent.
                tracing::error!(message_id = %m.message_id, error = %e, "mail cannot be built");
                let _ = self.store.mark(&m.message_id, "failed", crate::now());
                return;
            }
        };
        let body = message.formatted();
        if let Err(failure) = self.open_transaction(lane, message.envelope(), &body).await {
            lane.close().await;
            // Nothing reached the server's mailbox: retrying cannot duplicate.
            return self.failed(&m, &failure, false);
        }
        let Some(conn) = lane.conn.as_mut() else {
            return;
        };

        let in_doubt = self.end_of_data.lock().await;
        if let Err(e) = self.store.mark(&m.message_id, "sending", crate::now()) {
            tracing::error!(error = %e, "outbox write failed");
            drop(in_doubt);
            // Closing before the end of data makes the server drop the transaction.
            lane.close().await;
            return;
        }
        let reply = step(conn.message(&body)).await;
        let recorded = match &reply {
            Ok(_) => self.store.mark(&m.message_id, "sent", crate::now()),
            // Recorded before the next mail may be marked `sending`, so that a
            // crash never finds two.
            Err(failure) => {
                self.failed(&m, failure, matches!(failure, Failure::Broken(_)));
                Ok(())
            }
        };
        drop(in_doubt);

        lane.used = Some(Instant::now());
        match (reply, recorded) {
            (Ok(_), Ok(())) => {
                self.metrics.mails_sent.fetch_add(1, Ordering::Relaxed);
                tracing::info!(message_id = %m.message_id, "mail accepted");
            }
            (Ok(_), Err(e)) => {
                // Left `sending`: sent again (same Message-ID) at the next start.
                tracing::error!(message_id = %m.message_id, error = %e, "mail accepted but not recorded");
            }
            (Err(_), _) => lane.close().await,
        }
    }

    /// A connection (the lane's, or a new one) in an open mail transaction
    /// whose DATA was accepted: what is left is the mail's text.
    async fn open_transaction(
        &self,
        lane: &mut Lane,
        envelope: &Envelope,
        body: &[u8],
    ) -> std::result::Result<(), Failure> {
        let idle = lane.used.map_or(Duration::ZERO, |t| t.elapsed());
        if let Some(conn) = lane.conn.as_mut() {
            let alive = idle <= IDLE_CHECK
                || tokio::time::timeout(STEP_TIMEOUT, conn.test_connected())
                    .await
                    .unwrap_or(false);
            if !alive {
                lane.close().await;
            }
        }
        let reused = lane.conn.is_some();
        match self.try_open(lane, envelope, body).await {
            // A pooled connection the server closed meanwhile: once more, anew.
            Err(Failure::Broken(_)) if reused => {
                lane.close().await;
                self.try_open(lane, envelope, body).await
            }
            r => r,
        }
    }

    async fn try_open(
        &self,
        lane: &mut Lane,
        envelope: &Envelope,
        body: &[u8],
    ) -> std::result::Result<(), Failure> {
        let conn = match lane.conn.as_mut() {
            Some(conn) => conn,
            None => lane.conn.insert(self.server.connect().await?),
        };
        let mut params = Vec::new();
        let non_ascii = envelope
            .from()
            .into_iter()
            .chain(envelope.to())
            .any(|a| !AsRef::<str>::as_ref(a).is_ascii());
        if non_ascii {
            if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                return Err(Failure::Refused(
                    "the address is not ASCII and the server lacks SMTPUTF8".into(),
                ));
            }
            params.push(MailParameter::SmtpUtfEight);
        }
        if !body.is_ascii() {
            if !conn.server_info().supports_feature(Extension::EightBitMime) {
                return Err(Failure::Refused(
                    "the mail is not ASCII and the server lacks 8BITMIME".into(),
                ));
            }
            params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        step(conn.command(Mail::new(envelope.from().cloned(), params))).await?;
        for to in envelope.to() {
            step(conn.command(Rcpt::new(to.clone(), vec![]))).await?;
        }
        step(conn.command(Data)).await?;
        Ok(())
    }

    /// Records an attempt that ended without a 250. `in_doubt`: the end of
    /// data had left, so the server may hold the mail that is retried.
    fn failed(&self, m: &Outgoing, failure: &Failure, in_doubt: bool) {
        self.metrics.smtp_errors.fetch_add(1, Ordering::Relaxed);
        let outcome = match failure {
            Failure::Refused(e) => {
                tracing::error!(message_id = %m.message_id, error = %e, "mail refused for good");
                self.store.mark(&m.message_id, "failed", crate::now())
            }
            Failure::Deferred(e) | Failure::Broken(e) => {
                let wait = backoff(m.attempts, self.max_backoff);
                tracing::warn!(message_id = %m.message_id, error = %e, in_doubt, retry_in_ms = wait.as_millis() as u64, "SMTP failed");
                self.store.retry_at(
                    &m.message_id,
                    crate::now() + wait.as_secs().max(1),
                    in_doubt,
                )
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
    use crate::store::{Batch, Mail};
    use alloy::primitives::Address;
    use lettre::transport::smtp::client::Certificate;
    use std::process::{Command, Stdio};

    /// A CA and a certificate for `localhost` signed by it, made by openssl in
    /// `dir`: the CA, for the client to trust.
    fn throwaway_ca(dir: &std::path::Path) -> Certificate {
        let openssl = |args: &[&str]| {
            let status = Command::new("openssl")
                .args(args)
                .current_dir(dir)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("openssl runs");
            assert!(status.success(), "openssl {args:?}");
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        let ca = [
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=test-ca",
        ];
        openssl(&[&["req", "-x509"][..], &ec, &ca].concat());
        let leaf = [
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=localhost",
        ];
        openssl(&[&["req"][..], &ec, &leaf].concat());
        std::fs::write(
            dir.join("ext"),
            "subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "ext",
        ]);
        Certificate::from_pem(&std::fs::read(dir.join("ca.pem")).unwrap()).unwrap()
    }

    /// Both TLS modes open the TCP socket themselves (for TCP_NODELAY) and
    /// hand it to lettre: against aiosmtpd with a certificate from a
    /// throwaway CA, over implicit TLS and over STARTTLS, a notice is
    /// delivered and recorded sent.
    #[tokio::test(flavor = "multi_thread")]
    async fn implicit_tls_and_starttls_deliver() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ca = throwaway_ca(d);
        let doc = Address::repeat_byte(1);
        for (security, cert_flag, key_flag) in [
            (SmtpSecurity::Tls, "--smtpscert", "--smtpskey"),
            (SmtpSecurity::Starttls, "--tlscert", "--tlskey"),
        ] {
            let maildir = d.join(format!("{security:?}"));
            for sub in ["tmp", "new", "cur"] {
                std::fs::create_dir_all(maildir.join(sub)).unwrap();
            }
            let port = careledger_e2e::free_port();
            let mut aiosmtpd = Command::new("python3")
                .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
                .arg(cert_flag)
                .arg(d.join("leaf.pem"))
                .arg(key_flag)
                .arg(d.join("leaf.key"))
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(&maildir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("python3 runs");
            let deadline = Instant::now() + Duration::from_secs(20);
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(Instant::now() < deadline, "aiosmtpd did not listen");
                std::thread::sleep(Duration::from_millis(50));
            }

            let store = Arc::new(Store::open(&d.join(format!("{security:?}.sqlite"))).unwrap());
            store.confirm_for_tests(doc, "d@example.org");
            let notice = Mail {
                message_id: "<tls@notifier.careledger>".into(),
                block: 1,
                recipient: doc,
                kind: "grant",
                subject: "s".into(),
                body: "b".into(),
            };
            let batch = Batch {
                to_block: 1,
                mails: vec![notice],
                ..Batch::default()
            };
            store.apply(&batch, 1).unwrap();
            let tls = TlsParameters::builder("localhost".into())
                .add_root_certificate(ca.clone())
                .build()
                .unwrap();
            let mailer = Mailer {
                server: Server {
                    host: "localhost".into(),
                    port,
                    security,
                    tls: Some(tls),
                    credentials: None,
                    hello: ClientId::default(),
                },
                from: "CareLedger <notify@careledger.test>".parse().unwrap(),
                store: store.clone(),
                metrics: Arc::default(),
                in_flight: 1,
                max_backoff: Duration::from_secs(1),
                end_of_data: tokio::sync::Mutex::new(()),
            };
            let mut lane = Lane::default();
            for m in store.due(crate::now(), 10).unwrap() {
                mailer.deliver(&mut lane, m).await;
            }
            lane.close().await;
            let _ = aiosmtpd.kill();
            let _ = aiosmtpd.wait();
            let counts = store.outbox_counts().unwrap();
            assert_eq!(
                (counts.sent, counts.pending),
                (2, 0),
                "{security:?}: {counts:?}"
            );
            let stored = std::fs::read_dir(maildir.join("new")).unwrap().count();
            assert_eq!(stored, 1, "{security:?}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_ceiling() {
        let max = Duration::from_secs(30);
        assert_eq!(backoff(0, max), Duration::from_secs(1));
        assert_eq!(backoff(3, max), Duration::from_secs(8));
        assert_eq!(backoff(40, max), max);
    }
}
