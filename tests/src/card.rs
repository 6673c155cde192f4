//! The PC/SC rig: virtual cards (the `virtual-card` program) in vpcd's two readers,
//! leased so that tests running at once never share a reader.

use crate::program;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// vpcd's readers as pcscd names them.
pub const READERS: [&str; 2] = ["Virtual PCD 00 00", "Virtual PCD 00 01"];

static FREE: Mutex<[bool; 2]> = Mutex::new([true, true]);
static RETURNED: Condvar = Condvar::new();

/// A reader this test has to itself until the lease is dropped.
pub struct Lease(usize);

impl Lease {
    /// Wait (at most ten minutes) for a free reader.
    pub fn take() -> Lease {
        let deadline = Instant::now() + Duration::from_secs(600);
        let mut free = FREE.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(i) = free.iter().position(|&f| f) {
                free[i] = false;
                return Lease(i);
            }
            let left = deadline.checked_duration_since(Instant::now()).expect("no reader came free in ten minutes");
            free = RETURNED.wait_timeout(free, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// The reader's name.
    pub fn reader(&self) -> &'static str {
        READERS[self.0]
    }

    /// vpcd's number for it.
    pub fn number(&self) -> usize {
        self.0
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut free = FREE.lock().unwrap_or_else(|e| e.into_inner());
        free[self.0] = true;
        RETURNED.notify_all();
    }
}

/// Wait through PC/SC until `reader` holds a card (`present`) or is empty.
pub fn wait_for(reader: &str, present: bool, within: Duration) {
    let ctx = pcsc::Context::establish(pcsc::Scope::User)
        .expect("pcscd is not running: scripts/test.sh starts it (pcscd --foreground with vsmartcard-vpcd)");
    let name = std::ffi::CString::new(reader).expect("reader name");
    let mut states = [pcsc::ReaderState::new(name, pcsc::State::UNAWARE)];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match ctx.get_status_change(left, &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(e) => panic!("waiting for {reader}: {e}"),
        }
        let is_present = states[0].event_state().contains(pcsc::State::PRESENT);
        if is_present == present {
            return;
        }
        assert!(Instant::now() < deadline, "{reader} did not become {} within {within:?}", if present { "occupied" } else { "empty" });
        states[0].sync_current_state();
    }
}

/// A virtual card in a leased reader; pulled out when dropped.
pub struct VirtualCard {
    child: Child,
    reader: &'static str,
    /// Its memory (`--state`).
    pub state: PathBuf,
    /// Every answer it sent (`--trace`).
    pub trace: PathBuf,
}

impl VirtualCard {
    /// Insert a card of `profile` whose memory is `state` (made on first use), with
    /// `extra` arguments (`--misbehave …`, `--pin …`); returns once pcscd sees it.
    pub fn insert(lease: &Lease, profile: &str, state: &Path, extra: &[&str]) -> VirtualCard {
        let trace = state.with_extension("trace");
        let mut child = Command::new(program("virtual-card"))
            .args(["--profile", profile, "--reader", &lease.number().to_string()])
            .arg("--state")
            .arg(state)
            .arg("--trace")
            .arg(&trace)
            .args(extra)
            .stdin(Stdio::null())
            .spawn()
            .expect("start virtual-card");
        let inserted = std::panic::catch_unwind(|| wait_for(lease.reader(), true, Duration::from_secs(20)));
        if let Err(panic) = inserted {
            let _ = child.kill();
            let _ = child.wait();
            std::panic::resume_unwind(panic);
        }
        VirtualCard { child, reader: lease.reader(), state: state.to_path_buf(), trace }
    }

    /// Pull the card out (stop the emulator by its PID) and wait until pcscd sees
    /// the reader empty.
    pub fn pull(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        wait_for(self.reader, false, Duration::from_secs(20));
    }

    /// The data of every answer the card sent (status words removed), concatenated:
    /// what left the card, with answers split by GET RESPONSE joined again.
    pub fn sent_data(&self) -> Vec<u8> {
        let trace = std::fs::read(&self.trace).expect("the card's trace");
        let mut rest = trace.as_slice();
        let mut data = Vec::new();
        while let [a, b, tail @ ..] = rest {
            let n = usize::from(u16::from_be_bytes([*a, *b]));
            let (answer, next) = tail.split_at(n.min(tail.len()));
            data.extend_from_slice(&answer[..answer.len().saturating_sub(2)]);
            rest = next;
        }
        data
    }

    /// The private keys now in the card's memory, PKCS#8 DER, by slot.
    pub fn private_keys(&self) -> Vec<Vec<u8>> {
        let text = std::fs::read_to_string(&self.state).expect("card state");
        let memory: serde_json::Value = serde_json::from_str(&text).expect("card state JSON");
        memory["keys"]
            .as_object()
            .map(|m| m.values().filter_map(|v| v.as_str()).map(|h| hex::decode(h).expect("hex")).collect())
            .unwrap_or_default()
    }
}

impl Drop for VirtualCard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}
