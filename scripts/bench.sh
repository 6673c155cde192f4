#!/usr/bin/env bash
# Benchmarks, side by side with the reference tools in the same run on the same
# machine, printed as ratios (this machine is noisy: compare within one run).
#
#   OCSP:  our responder vs `openssl ocsp -multi 2`, same RSA-2048 responder key,
#          same certificates (100,000 revoked + one real pair), load from wrk on
#          loopback, with and without nonce; and the machine's RSA-2048 signing
#          rate (`openssl speed -multi 2 rsa2048`) as the ceiling for live signing.
#   CRL:   `ca crl` vs `openssl ca -gencrl` at 100,000 and 1,000,000 revoked
#          entries, same RSA-4096 issuing key: wall time and peak RSS from
#          /usr/bin/time -v; then a delta CRL after 1,000 new revocations.
#
# Usage: scripts/bench.sh [--quick]   (--quick: 3 s load runs, 100,000 entries only)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

log() { printf '==> %s\n' "$*" >&2; }

secs=10
sizes=(100000 1000000)
if [ "${1:-}" = "--quick" ]; then secs=3; sizes=(100000); fi

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
[ -x /usr/bin/time ] || missing+=(time)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

log "building (release)"
cargo build --release --locked -p ca-cli -p ca-server
CA="$root/target/release/ca"
SERVER="$root/target/release/ca-server"

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

export CA_PASSPHRASE="bench passphrase"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 1 100); do
        (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    return 1
}

log "a fresh authority with one real pair"
"$CA" --data "$work/base" init --base-url http://pki.bench.kz >/dev/null 2>&1
for n in auth sign; do
    openssl req -new -newkey rsa:2048 -nodes -subj /CN=x -keyout "$work/$n.key" -out "$work/$n.csr" 2>/dev/null
done
"$CA" --data "$work/base" --json issue --iin 880515300120 --surname Тестов --name Тест \
    --auth-csr "$work/auth.csr" --sign-csr "$work/sign.csr" --out "$work/issued" >/dev/null
cert=$(ls "$work"/issued/AUTH_*.cer)
openssl pkey -in "$work/base/ocsp.key" -passin env:CA_PASSPHRASE -out "$work/ocsp_plain.pem"
openssl pkey -in "$work/base/issuing.key" -passin env:CA_PASSPHRASE -out "$work/issuing_plain.pem"
cat "$work/base/root.pem" "$work/base/issuing.pem" >"$work/chain.pem"

# ---------------------------------------------------------------- OCSP ------
log "OCSP fixture: 100,000 revoked certificates on both sides"
cp -r "$work/base" "$work/ocsp"
python3 scripts/bench_fixture.py "$work/ocsp/ca.sqlite" "$work/index.txt" 100000 --real "$cert"
openssl ocsp -issuer "$work/base/issuing.pem" -cert "$cert" -reqout "$work/req_nonce.der" 2>/dev/null
openssl ocsp -no_nonce -issuer "$work/base/issuing.pem" -cert "$cert" -reqout "$work/req_plain.der" 2>/dev/null
cat >"$work/post.lua" <<'LUA'
local f = assert(io.open(os.getenv("OCSP_REQ"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/ocsp-request"
LUA

ours_port=$(free_port)
"$SERVER" --data "$work/ocsp" --listen "127.0.0.1:$ours_port" 2>"$work/server.log" &
pids+=($!)
theirs_port=$(free_port)
openssl ocsp -index "$work/index.txt" -port "$theirs_port" -rsigner "$work/base/ocsp.pem" -rkey "$work/ocsp_plain.pem" \
    -CA "$work/base/issuing.pem" -multi 2 -nmin 60 -ignore_err 2>"$work/openssl-ocsp.log" &
pids+=($!)
wait_port "$ours_port"
wait_port "$theirs_port"
for port in "$ours_port" "$theirs_port"; do
    out=$(openssl ocsp -url "http://127.0.0.1:$port/ocsp/" -issuer "$work/base/issuing.pem" -cert "$cert" -CAfile "$work/chain.pem" 2>&1)
    grep -q ": good" <<<"$out" || { echo "responder on $port does not answer good: $out" >&2; exit 1; }
done

rate() { # port request-file -> requests/s (wrk, 1 thread, 32 connections)
    OCSP_REQ="$2" wrk -t1 -c32 -d"${secs}s" -s "$work/post.lua" "http://127.0.0.1:$1/ocsp/" >"$work/wrk.out" 2>&1
    if grep -q "Non-2xx" "$work/wrk.out"; then cat "$work/wrk.out" >&2; fi
    awk '/Requests\/sec/ { print $2 }' "$work/wrk.out"
}
log "openssl speed -multi 2 rsa2048"
speed=$(openssl speed -seconds "$secs" -multi 2 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ { print $6 }' | tail -1)
log "openssl ocsp -multi 2, with nonce (it signs every response either way)"
theirs_nonce=$(rate "$theirs_port" "$work/req_nonce.der")
log "openssl ocsp -multi 2, without nonce"
theirs_plain=$(rate "$theirs_port" "$work/req_plain.der")
log "ours, without nonce (cached)"
ours_plain=$(rate "$ours_port" "$work/req_plain.der")
log "ours, with nonce (signed live)"
ours_nonce=$(rate "$ours_port" "$work/req_nonce.der")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "## OCSP ($(date -u +%Y-%m-%d), $(nproc) cores, wrk -t1 -c32 -d${secs}s, POST)"
echo
echo "| | responses/s | ratio |"
echo "|---|---:|---:|"
echo "| openssl speed -multi 2 rsa2048 (sign/s) | $speed | |"
echo "| openssl ocsp -multi 2, nonce | $theirs_nonce | |"
echo "| openssl ocsp -multi 2, no nonce | $theirs_plain | |"
echo "| ours, no nonce (cached) | $ours_plain | $(ratio "$ours_plain" "$theirs_plain")× openssl ocsp (target ≥ 20) |"
echo "| ours, nonce (signed live) | $ours_nonce | $(ratio "$ours_nonce" "$speed") of openssl speed (target ≥ 0.85); $(ratio "$ours_nonce" "$theirs_nonce")× openssl ocsp |"
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=()

# ----------------------------------------------------------------- CRL ------
measure() { # label command... -> "seconds peak_MB" from /usr/bin/time -v
    /usr/bin/time -v "$@" >"$work/cmd.out" 2>"$work/time.out" || { cat "$work/time.out" >&2; return 1; }
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/time.out")
    rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$work/time.out")
    echo "$wall $rss"
}
echo
echo "## Full CRL generation ($(date -u +%Y-%m-%d), RSA-4096 issuing key both sides)"
echo
echo "| entries | openssl ca -gencrl | ca crl | speed-up | ours: generation only | delta after 1,000 revocations |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in "${sizes[@]}"; do
    log "CRL with $n entries: fixture"
    d="$work/crl$n"
    cp -r "$work/base" "$d"
    mkdir -p "$d/openssl"
    python3 scripts/bench_fixture.py "$d/ca.sqlite" "$d/openssl/index.txt" "$n"
    echo 01 >"$d/openssl/crlnumber"
    echo "unique_subject = no" >"$d/openssl/index.txt.attr"
    cat >"$d/openssl/ca.cnf" <<EOF
[ ca ]
default_ca = CA_default
[ CA_default ]
database = $d/openssl/index.txt
crlnumber = $d/openssl/crlnumber
certificate = $work/base/issuing.pem
private_key = $work/issuing_plain.pem
default_md = sha256
default_crl_days = 1
crl_extensions = crl_ext
[ crl_ext ]
authorityKeyIdentifier = keyid:always
EOF
    log "CRL with $n entries: openssl ca -gencrl"
    read -r theirs_s theirs_mb < <(measure openssl ca -gencrl -batch -config "$d/openssl/ca.cnf" -out "$d/openssl/crl.pem")
    log "CRL with $n entries: ca crl"
    read -r ours_s ours_mb < <(measure "$CA" --data "$d" --json crl --out "$d/full.crl")
    gen_ms=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["generation_ms"])' "$work/cmd.out")
    entries=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["entries"])' "$work/cmd.out")
    [ "$entries" = "$n" ] || { echo "our CRL has $entries entries, expected $n" >&2; exit 1; }
    openssl crl -inform DER -in "$d/full.crl" -CAfile "$work/chain.pem" -noout 2>&1 | grep -q "verify OK" \
        || { echo "openssl does not verify our CRL of $n entries" >&2; exit 1; }
    python3 scripts/bench_fixture.py "$d/ca.sqlite" --revoke-more 1000
    "$CA" --data "$d" --json crl --delta --out "$d/delta.crl" >"$work/delta.out"
    delta_ms=$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); assert v["entries"] == 1000, v; print(v["generation_ms"])' "$work/delta.out")
    echo "| $n | ${theirs_s} s, ${theirs_mb} MB | ${ours_s} s, ${ours_mb} MB | $(ratio "$theirs_s" "$ours_s")× | ${gen_ms} ms | ${delta_ms} ms |"
    rm -rf "$d"
done
