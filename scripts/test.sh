#!/usr/bin/env bash
# The one test command: installs what the tests need when it is missing, builds
# the workspace, runs every test, and checks that the README's server command works.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

# --- what the tests need ---------------------------------------------------
apt_missing=()
command -v openssl >/dev/null 2>&1 || apt_missing+=(openssl)
command -v python3 >/dev/null 2>&1 || apt_missing+=(python3 python3-pip)
command -v curl >/dev/null 2>&1 || apt_missing+=(curl ca-certificates)
# The PC/SC rig: pcscd, its headers for the `pcsc` crate, the vsmartcard vpcd
# reader driver our virtual card plugs into, and OpenSC as an independent reader.
command -v pcscd >/dev/null 2>&1 || apt_missing+=(pcscd)
pkg-config --exists libpcsclite 2>/dev/null || apt_missing+=(libpcsclite-dev pkgconf)
[ -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] || apt_missing+=(vsmartcard-vpcd)
command -v pkcs15-tool >/dev/null 2>&1 || apt_missing+=(opensc opensc-pkcs11)
command -v pgrep >/dev/null 2>&1 || apt_missing+=(procps)
# xmlsec1: the second opinion on XML signatures.
command -v xmlsec1 >/dev/null 2>&1 || apt_missing+=(xmlsec1)
# Headless Chromium and its driver: the applicants' page is tested in a real browser.
command -v chromium >/dev/null 2>&1 || apt_missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || apt_missing+=(chromium-driver)
# PostgreSQL: the second back end; the end-to-end suite runs on a throwaway cluster.
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || apt_missing+=(postgresql)
if ((${#apt_missing[@]})); then
    log "installing ${apt_missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_missing[@]}"
fi
if ! command -v lint_pkix_cert >/dev/null 2>&1 || ! python3 -c 'import cryptography, gostcrypto, selenium' 2>/dev/null || ! command -v schemathesis >/dev/null 2>&1; then
    log "installing pkilint, cryptography, gostcrypto, schemathesis and selenium from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check pkilint cryptography gostcrypto schemathesis selenium \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages pkilint cryptography gostcrypto schemathesis selenium
    hash -r
fi
command -v lint_pkix_cert >/dev/null 2>&1 || { echo "lint_pkix_cert not on PATH after installing pkilint" >&2; exit 1; }
command -v schemathesis >/dev/null 2>&1 || { echo "schemathesis not on PATH after installing it" >&2; exit 1; }

# --- the PC/SC rig ------------------------------------------------------------
# One pcscd per machine (its socket path is fixed): use the running one, else start
# one in the foreground and stop it, by its PID, when the script ends.
pcscd_pid=""
pg_dir=""
stop_pcscd() { [ -n "$pcscd_pid" ] && kill "$pcscd_pid" 2>/dev/null && wait "$pcscd_pid" 2>/dev/null; true; }
stop_postgres() { [ -n "$pg_dir" ] && scripts/pg-cluster.sh stop "$pg_dir/cluster" && rm -rf "$pg_dir"; true; }
stop_rigs() { stop_pcscd; stop_postgres; }
trap stop_rigs EXIT
if ! pgrep -x pcscd >/dev/null 2>&1; then
    log "starting pcscd with the vpcd readers"
    pcscd --foreground >/dev/null 2>&1 &
    pcscd_pid=$!
    for _ in $(seq 1 100); do
        [ -S /run/pcscd/pcscd.comm ] && break
        sleep 0.1
    done
    [ -S /run/pcscd/pcscd.comm ] || { echo "pcscd did not start" >&2; exit 1; }
fi

# --- the PostgreSQL cluster -----------------------------------------------------
# One throwaway cluster for the run (initdb into a temporary directory, a port
# chosen now, stopped by its PID at the end); each test makes its own database in it.
pg_dir=$(mktemp -d)
chmod 755 "$pg_dir"
log "starting a throwaway PostgreSQL cluster"
CA_TEST_POSTGRES_URL=$(scripts/pg-cluster.sh start "$pg_dir/cluster")
export CA_TEST_POSTGRES_URL

# --- build and test ---------------------------------------------------------
# Release profile for everything: the end-to-end tests drive the same binaries
# that `cargo run --release -p ca-server` runs, built once.
log "building"
cargo build --release --workspace --locked
log "running the test suite"
results=$(mktemp)
trap 'rm -f "$results"; stop_rigs' EXIT
# --all-targets: unit, integration and binary tests; then pki's and ca-core's doc
# tests (their examples, and the compile-fail proofs that illegal values cannot be built).
set +e
cargo test --release --workspace --locked --all-targets 2>&1 | tee "$results"
test_status=${PIPESTATUS[0]}
if [ "$test_status" -eq 0 ]; then
    cargo test --release --locked -p ca-core -p pki --all-features --doc 2>&1 | tee -a "$results"
    test_status=${PIPESTATUS[0]}
fi
# The end-to-end suite once more, every authority on PostgreSQL. Left out: the
# tests of the SQLite file itself (its crash consistency, a corrupted file, its
# permissions, filling it to a million rows, the default first start), which the
# run above covers.
sqlite_only="crash_consistency exit_codes hardening no_global_lock server"
pg_tests=()
for f in tests/tests/*.rs; do
    name=$(basename "$f" .rs)
    grep -q fresh_authority "$f" && [[ " $sqlite_only " != *" $name "* ]] && pg_tests+=(--test "$name")
done
if [ "$test_status" -eq 0 ]; then
    log "the end-to-end suite on PostgreSQL"
    CA_TEST_BACKEND=postgres cargo test --release --locked -p e2e "${pg_tests[@]}" 2>&1 | tee -a "$results"
    test_status=${PIPESTATUS[0]}
fi
set -e
sum() { grep -o "[0-9]* $1" "$results" | awk '{ n += $1 } END { print n + 0 }'; }
passed=$(sum passed)
failed=$(sum failed)
if [ "$test_status" -ne 0 ]; then
    echo "tests: $passed passed, $failed failed"
    exit "$test_status"
fi

# --- architecture checks ------------------------------------------------------
check() { # NAME COMMAND...: one more passed or failed test
    log "$1"
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); test_status=1; fi
}
# A bank's own crate outside the workspace depends on the relying party's crate
# (pki) alone: it builds, and its tree has no SQLite, no async runtime and no HTTP
# client. The ocsp crate has no SQLite either. examples/relying-party (a workspace
# member on pki) verifies a real signed document and refuses an AUTH key's.
outside=$(mktemp -d)
mkdir -p "$outside/src"
cat >"$outside/Cargo.toml" <<EOF
[package]
name = "bank"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
pki = { path = "$PWD/pki" }

[workspace]
EOF
cat >"$outside/src/main.rs" <<'EOF'
fn main() {
    let anchors = pki::pem::certificates(&std::fs::read(std::env::args().nth(1).unwrap()).unwrap()).unwrap();
    println!("{} trust anchors", pki::verify::TrustStore::new(anchors).anchors().len());
}
EOF
cp Cargo.lock "$outside/Cargo.lock"
bank_tree() { cargo tree --offline --manifest-path "$outside/Cargo.toml" -e normal; }
bank_lean() { bank_tree >"$outside/tree.txt" && ! grep -Eq '(rusqlite|libsqlite3-sys|tokio|ureq) v' "$outside/tree.txt"; }
ocsp_lean() { ! cargo tree --locked -p ocsp -e normal | grep -Eq '(rusqlite|libsqlite3-sys) v'; }
rp_verifies() {
    local bin=target/release/relying-party data=tests/data/nca-test
    "$bin" "$data/RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.cms" "$data/nca_rsa_test.pem" 2020-06-01T00:00:00Z \
        && ! "$bin" "$data/AUTH_RSA256_b2c70a9ff7a5dc59de0ccc3c0ddde3437cc1f12d.cms" "$data/nca_rsa_test.pem" 2020-06-01T00:00:00Z
}
check "a bank's crate outside the workspace on pki alone builds" \
    env CARGO_TARGET_DIR="$PWD/target" cargo build --offline --release --manifest-path "$outside/Cargo.toml"
check "... and has no SQLite, tokio or HTTP client in its dependency tree" bank_lean
check "the ocsp crate has no SQLite in its dependency tree" ocsp_lean
check "examples/relying-party verifies the authority's signed document" rp_verifies
rm -rf "$outside"
# The applicants' page in headless Chromium, driven by Selenium: a whole
# application, download, renewal and revocation; screenshots in target/browser.
check "the applicants' page in a real browser" python3 tests/browser/cabinet.py target/browser
# The workspace lints (unsafe code forbidden everywhere; undocumented and
# unreachable public items denied in the library crates) and clippy, warnings denied.
check "clippy with the workspace lints, warnings denied" cargo clippy --release --locked --workspace --all-targets -- -D warnings
# The developers' module-cycle checker sits beside the repository when it is
# there; a user's clone without it skips this check.
if [ -x ../shared/tools/module-cycles ]; then
    check "no module cycles in any crate of the workspace" ../shared/tools/module-cycles
fi
if [ "$test_status" -ne 0 ]; then
    echo "tests: $passed passed, $failed failed"
    exit 1
fi

# --- the README's first command on a scratch directory ------------------------
log "smoke test: cargo run --release -p ca-server"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch" "$results"; stop_rigs' EXIT
(cd "$scratch" && exec cargo run --quiet --release --locked --manifest-path "$OLDPWD/Cargo.toml" -p ca-server -- --listen 127.0.0.1:0) \
    2>"$scratch/server.log" &
server=$!
port=""
for _ in $(seq 1 600); do
    port=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$scratch/server.log" | head -n 1)
    [ -n "$port" ] && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.2
done
status=0
if [ -z "$port" ]; then
    echo "ca-server did not start:" >&2; cat "$scratch/server.log" >&2; status=1
else
    python3 - "$port" "$scratch/ca-data/root.pem" <<'PY' || status=1
import sys, urllib.request, ssl, base64
port, pem = sys.argv[1], open(sys.argv[2]).read()
der = base64.b64decode("".join(l for l in pem.splitlines() if not l.startswith("-----")))
body = urllib.request.urlopen(f"http://127.0.0.1:{port}/cert/root_rsa.cer", timeout=10).read()
assert body == der, "served root differs from ca-data/root.pem"
print("smoke: ca-server served the root certificate from a fresh ./ca-data")
PY
fi
kill "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
if [ "$status" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
echo "tests: $passed passed, $failed failed"
exit $status
