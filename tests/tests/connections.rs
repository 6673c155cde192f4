//! Acceptance (connections on the open internet): a client holding 1,100 idle
//! connections to a server started with the common soft limit of 1,024 open files
//! does not make `/health` or OCSP unreachable; idle and half-sent requests are cut
//! off; SIGTERM with half-open connections exits within the shutdown deadline.

use e2e::{fresh_authority, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

fn set_server_settings(data: &Path, settings: serde_json::Value) {
    e2e::configure(data, "server", settings);
}

fn answers(url: &str, body: Option<&[u8]>) -> bool {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(3)).build();
    match body {
        None => agent.get(url).call().is_ok_and(|r| r.status() == 200),
        Some(b) => agent.post(url).set("Content-Type", "application/ocsp-request").send_bytes(b).is_ok_and(|r| r.status() == 200),
    }
}

/// Read until the peer closes or `limit` passes; the time it took to close.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => continue, // a 408 answer, then the close
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Some(started.elapsed()),
            Err(_) => return None,
        }
    }
}

#[test]
fn idle_connections_do_not_starve_the_server_and_are_cut_off() {
    // This process itself needs more than 1,100 descriptors.
    rlimit::increase_nofile_limit(4_096).unwrap();
    let t = fresh_authority();
    let data = t.join("data");
    set_server_settings(&data, serde_json::json!({ "header_timeout_seconds": 3, "body_timeout_seconds": 3 }));
    let server = Server::on_with_soft_file_limit(&data, 1_024);
    let addr = format!("127.0.0.1:{}", server.port);
    let mut held: Vec<TcpStream> = (0..1_100).map(|_| TcpStream::connect(&addr).expect("connect")).collect();
    // With 1,100 connections held, a newcomer is answered at once: health and OCSP.
    let started = Instant::now();
    assert!(answers(&format!("{}/health", server.url()), None), "/health is unreachable while 1,100 connections are held");
    assert!(answers(&format!("{}/ocsp", server.url()), Some(&[0x30, 0x00])), "OCSP is unreachable while 1,100 connections are held");
    assert!(started.elapsed() < Duration::from_secs(3), "answered only after {:?}", started.elapsed());
    // The idle ones are closed after the head timeout (3 s), not held forever.
    let waited = closed_within(&mut held[0], Duration::from_secs(15));
    assert!(waited.is_some_and(|w| w < Duration::from_secs(10)), "an idle connection was still open after {waited:?}");
    drop(held);
    // A body that stops half-way is answered 408 and closed within the body timeout.
    let mut slow = TcpStream::connect(&addr).unwrap();
    slow.write_all(
        b"POST /api/v1/applications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"a\":",
    )
    .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut answer = vec![0u8; 64];
    let n = slow.read(&mut answer).unwrap_or(0);
    assert!(answer[..n].starts_with(b"HTTP/1.1 408"), "{:?}", String::from_utf8_lossy(&answer[..n]));
}

#[test]
fn sigterm_with_half_open_connections_exits_within_the_deadline() {
    let t = fresh_authority();
    let data = t.join("data");
    // A long head timeout: the shutdown deadline, not the timeout, must end them.
    set_server_settings(&data, serde_json::json!({ "header_timeout_seconds": 120, "shutdown_seconds": 2 }));
    let mut server = Server::on(&data);
    let addr = format!("127.0.0.1:{}", server.port);
    let mut half: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    for s in &mut half {
        s.write_all(b"GET /health HTTP/1.1\r\nHost: ").unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    let took = server.terminate(Duration::from_secs(8));
    assert!(took.is_some_and(|d| d < Duration::from_secs(5)), "still running after SIGTERM: {took:?}");
}
