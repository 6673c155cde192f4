//! Benchmark client: pair issuance under load through the operator API.
//!
//! `confirm_load URL KEY_DIR N THREADS` submits N applications (fresh RSA-2048
//! keys, made before the clock starts), signs N `confirm` requests with the
//! operator's key store in KEY_DIR (password in $CA_KEY_PASSWORD), then sends them
//! from THREADS connections at once and prints `confirmations/s seconds N`. Each
//! confirmation is a durable transaction with two RSA-4096 signatures on the
//! server; the requests' own signatures are made before the clock starts.

use ca_core::api::{routes, Envelope, Receipt, SignedAction, SignedRequest};
use ca_core::signing::RsaSigner;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn die(msg: String) -> ! {
    eprintln!("confirm_load: {msg}");
    std::process::exit(1)
}

/// `n` valid IINs of men born 1988-05-15 (some sequence numbers have no check digit).
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, urls, key_dir, n, threads] = &args[..] else { die("usage: confirm_load URL[,URL...] KEY_DIR N THREADS".into()) };
    // Several servers on one database: applications go to the first, confirmations to each in turn.
    let urls: Vec<String> = urls.split(',').map(str::to_string).collect();
    let url = &urls[0];
    let n: usize = n.parse().unwrap_or_else(|_| die("N is a number".into()));
    let threads: usize = threads.parse().unwrap_or_else(|_| die("THREADS is a number".into()));
    let password = std::env::var("CA_KEY_PASSWORD").unwrap_or_else(|_| die("set CA_KEY_PASSWORD".into()));
    let sign_file = std::fs::read_dir(key_dir)
        .unwrap_or_else(|e| die(e.to_string()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|f| f.to_string_lossy().starts_with("RSA256_")))
        .unwrap_or_else(|| die(format!("no RSA256_*.p12 in {key_dir}")));
    let store = ca_core::pkcs12::read(&std::fs::read(&sign_file).unwrap_or_else(|e| die(e.to_string())), &password)
        .unwrap_or_else(|e| die(e.to_string()));
    let operator = RsaSigner::from_pkcs8(&store.key_pkcs8).unwrap_or_else(|e| die(e.to_string()));
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(120)).build();

    // Applications, each with two fresh keys.
    let mut numbers = Vec::with_capacity(n);
    for body in e2e::load_applications(n, 0) {
        let receipt: Receipt = match agent.post(&format!("{url}{}", routes::APPLICATIONS)).send_json(&body) {
            Ok(r) => r.into_json().unwrap_or_else(|e| die(format!("submitting: {e}"))),
            Err(ureq::Error::Status(code, r)) => die(format!("submitting: HTTP {code}: {}", r.into_string().unwrap_or_default())),
            Err(e) => die(format!("submitting: {e}")),
        };
        numbers.push(receipt.number);
    }
    // The confirmations, signed before the clock starts.
    let now = ca_core::calendar::now();
    let requests: Vec<(String, Envelope)> = numbers
        .into_iter()
        .map(|number| {
            let action = SignedAction::Confirm { application: number.clone() };
            let env =
                Envelope::sign(&SignedRequest::new(action), &operator, &store.certificate, now).unwrap_or_else(|e| die(e.to_string()));
            (number, env)
        })
        .collect();
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|worker| {
            let (requests, next, agent, url) = (requests.clone(), next.clone(), agent.clone(), urls[worker % urls.len()].clone());
            std::thread::spawn(move || {
                let mut done = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((number, env)) = requests.get(i) else { return done };
                    let path = routes::with_number(routes::OPERATOR_CONFIRM, number);
                    match agent.post(&format!("{url}{path}")).send_json(env) {
                        Ok(r) if r.status() == 200 => done += 1,
                        Ok(r) => die(format!("confirming {number}: HTTP {}", r.status())),
                        Err(e) => die(format!("confirming {number}: {e}")),
                    }
                }
            })
        })
        .collect();
    let confirmed: usize = workers.into_iter().map(|w| w.join().unwrap_or(0)).sum();
    let secs = started.elapsed().as_secs_f64();
    if confirmed != n {
        die(format!("{confirmed} of {n} confirmed"));
    }
    println!("{:.2} {:.3} {}", n as f64 / secs, secs, n);
}
