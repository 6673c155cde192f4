//! Acceptance (connections on the open internet): a client holding 1,100 idle
//! connections, and re-opening them in a loop, to a server whose open-file limit is
//! 1,024 (soft and hard) does not make `/health` or OCSP slower than a second; idle
//! and half-sent requests are cut off, the head's time counted from the accept;
//! SIGTERM with half-open connections exits within the shutdown deadline.

use e2e::{eventually, fresh_authority, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
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

/// Whether a non-blocking stream has nothing to read yet (it is open and idle).
fn would_block(s: &TcpStream) -> bool {
    matches!(s.peek(&mut [0u8; 1]), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// Time one answer of `url`; `None` if it did not come, or not with 200.
fn timed_answer(url: &str, body: Option<&[u8]>) -> Option<Duration> {
    let started = Instant::now();
    answers(url, body).then(|| started.elapsed())
}

#[test]
fn idle_connections_do_not_starve_the_server_and_are_cut_off() {
    // This process itself holds more than 1,100 descriptors.
    rlimit::increase_nofile_limit(8_192).unwrap();
    let t = fresh_authority();
    let data = t.join("data");
    set_server_settings(&data, serde_json::json!({ "header_timeout_seconds": 3, "body_timeout_seconds": 3 }));
    // Soft and hard limit 1,024: the server cannot raise it, and its cap is below it.
    let server = Server::on_with_file_limit(&data, 1_024);
    let cap: usize = server
        .log()
        .iter()
        .find_map(|l| l.split("at most ").nth(1).and_then(|r| r.split(' ').next()).and_then(|n| n.parse().ok()))
        .expect("the server says its connection cap");
    assert!(cap < 1_024, "a cap of {cap} connections under a limit of 1,024 files");
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", server.port).parse().unwrap();

    // An attacker holds 1,100 connections that send nothing, never closes one, and
    // re-opens each as soon as the server has closed it, for at most 25 s.
    let stop = Arc::new(AtomicBool::new(false));
    let (opened, idle) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let attacker = {
        let (stop, opened, idle) = (stop.clone(), opened.clone(), idle.clone());
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(25);
            let mut held: Vec<Option<TcpStream>> = (0..1_100).map(|_| None).collect();
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                for slot in held.iter_mut() {
                    // Open and idle: nothing to read yet. Anything else (closed, or an answer before the close) is re-opened.
                    let closed = slot.as_ref().is_none_or(|s| !would_block(s));
                    if closed {
                        *slot = TcpStream::connect_timeout(&addr, Duration::from_millis(100)).ok().inspect(|s| {
                            let _ = s.set_nonblocking(true);
                            opened.fetch_add(1, Ordering::Relaxed);
                        });
                    }
                }
                idle.store(held.iter().flatten().filter(|s| would_block(s)).count(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    // The server is full: it has closed as many of the attacker's connections as it
    // can hold, and they were opened again.
    let full = eventually(Duration::from_secs(15), || opened.load(Ordering::Relaxed) >= 1_100 + cap);
    assert!(full, "the attacker opened only {} connections", opened.load(Ordering::Relaxed));
    // Meanwhile newcomers are answered within a second, again and again: health and
    // OCSP, while the attacker opens as many again as the server holds (at most 15 s).
    let probing = Instant::now();
    let mut round = 0;
    while round < 5 || probing.elapsed() < Duration::from_secs(4) {
        round += 1;
        std::thread::sleep(Duration::from_millis(50));
        let health = timed_answer(&format!("{}/health", server.url()), None);
        let ocsp = timed_answer(&format!("{}/ocsp", server.url()), Some(&[0x30, 0x00]));
        for (what, took) in [("/health", health), ("OCSP", ocsp)] {
            assert!(
                took.is_some_and(|d| d < Duration::from_secs(1)),
                "round {round}: {what} took {took:?} with {} connections opened",
                opened.load(Ordering::Relaxed)
            );
        }
    }
    assert!(idle.load(Ordering::Relaxed) > 100, "the attacker still held idle connections at the end");
    stop.store(true, Ordering::Relaxed);
    attacker.join().unwrap();

    // An idle connection is closed once the head timeout (3 s) has passed since its accept.
    let mut idle = TcpStream::connect(addr).unwrap();
    let waited = closed_within(&mut idle, Duration::from_secs(15));
    assert!(
        waited.is_some_and(|w| w > Duration::from_secs(2) && w < Duration::from_secs(6)),
        "an idle connection was closed after {waited:?}"
    );
    // A body that stops half-way is answered 408 and closed within the body timeout.
    let mut slow = TcpStream::connect(addr).unwrap();
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
