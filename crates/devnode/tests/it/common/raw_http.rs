//! One HTTP/1.1 exchange on a fresh TCP connection, below any HTTP client: the
//! tests send what no client would (huge bodies, foreign Host or Origin headers).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Sends `payload`, a whole request, and returns every byte the server answered
/// until it closed the connection. Writes on one thread while reading on another:
/// a server refusing a huge body answers before it has read it, and the answer
/// must not be lost.
pub(crate) fn exchange(addr: SocketAddr, payload: Vec<u8>, read_timeout: Duration) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).expect("the node accepts connections");
    stream.set_read_timeout(Some(read_timeout)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let write = std::thread::spawn(move || {
        // The server may close before taking it all; the answer says why.
        let _ = writer.write_all(&payload);
    });
    let mut raw = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
    write.join().unwrap();
    raw
}
