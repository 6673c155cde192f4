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
#   TLS and file limit: our responder started under a soft limit of 1,024 files,
#          cached and live rates over HTTPS next to plain HTTP in the same run, and
#          the cached rate while a client holds 1,100 idle connections.
#   Issuance: confirmations per second through the operator API (each a durable
#          transaction with two RSA-4096 signatures) next to
#          `openssl speed -multi 2 rsa4096` ÷ 2 in the same run.
#   GOST:  GOST 34.10-2015 512-bit signing and verification per second on one core
#          (`gost-speed`), next to `openssl speed ecdsap521` (one core) and Python
#          `gostcrypto`, in the same run; live-signed GOST OCSP responses (wrk, nonce)
#          next to our GOST signing rate on two threads, alternating rounds.
#   Verification: whole CMS verifications per second on one core (`verify-speed`:
#          an RSA-2048 signer, a path of three to our root, OCSP asked once then
#          cached) next to `openssl speed rsa2048 rsa4096` verify rates on the same
#          core in the same run; and through the HTTP verification API (server on
#          one core, wrk on the other), alternating rounds.
#   Cards: signatures on the virtual Kaztoken through pcscd and vpcd, PIN verified
#          once: p50/p99 latency and signatures/s, next to the emulator's bare
#          RSA-2048 signature and the round trip of the cheapest card operation.
#
#   Scale: pair issuance and cached OCSP on SQLite (one server) and PostgreSQL
#          (one and two servers on one database), and database bytes per certificate.
#
# Usage: scripts/bench.sh [--quick | --card | --gost | --verify | --scale]   (full: 10 s load runs, 5 rounds;
#        --quick: 3 s runs, one round, 100,000 entries only; --card, --gost, --verify, --scale: that part only)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

log() { printf '==> %s\n' "$*" >&2; }

secs=10
rounds=5
sizes=(100000 1000000)
if [ "${1:-}" = "--quick" ]; then secs=3; rounds=1; sizes=(100000); fi

# ---------------------------------------------------------------- helpers ------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "∞"; else printf "%.2f", a / b }'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 1 100); do
        (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    return 1
}
# The live-signing figures measure the signing capacity from one client address,
# so the per-client limit on live signatures (default 3,000 a minute) is lifted.
lift_live_limit() { # config.json
    python3 - "$1" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["limits"] = {"ocsp_live_per_minute": 4_000_000_000, "ocsp_live_burst": 4_000_000_000}
json.dump(c, open(sys.argv[1], "w"))
PY
}
# The wrk script that POSTs the request file named by $OCSP_REQ, as CONTENT-TYPE
# (default an OCSP request).
write_post_lua() { # file [content-type]
    cat >"$1" <<LUA
local f = assert(io.open(os.getenv("OCSP_REQ"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "${2:-application/ocsp-request}"
LUA
}

# ------------------------------------------------------------------ cards ------
card_bench() {
    local own_pcscd="" dir card
    dir=$(mktemp -d)
    if ! pgrep -x pcscd >/dev/null 2>&1; then
        pcscd --foreground >/dev/null 2>&1 &
        own_pcscd=$!
        for _ in $(seq 1 100); do [ -S /run/pcscd/pcscd.comm ] && break; sleep 0.1; done
    fi
    cargo build --release --locked -p fixtures -p e2e -p ca-cli >&2
    "$root/target/release/virtual-card" --profile kaztoken --reader 0 --state "$dir/card.json" &
    card=$!
    export CA_TOKEN_PIN=12345678 CA_TOKEN_READER="Virtual PCD 00 00"
    "$root/target/release/ca" enroll keygen --storage kaztoken --dir "$dir/keys" >/dev/null
    log "signing 1,000 digests on the virtual Kaztoken"
    "$root/target/release/card-sign" --reader "$CA_TOKEN_READER" --slot 2 --count 1000 --bare >"$dir/report.json"
    kill "$card"; wait "$card" 2>/dev/null || true
    [ -n "$own_pcscd" ] && { kill "$own_pcscd"; wait "$own_pcscd" 2>/dev/null || true; }
    python3 - "$dir/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print()
print("## Signing on a card through pcscd (virtual Kaztoken over vpcd, PIN verified once, 1,000 signatures)")
print()
print("| | value |")
print("|---|---:|")
print(f"| signatures made / verified | {r['signatures']} / {r['verified']} |")
print(f"| p50 latency | {r['p50_ms']:.2f} ms (target < 5 ms) |")
print(f"| p99 latency | {r['p99_ms']:.2f} ms |")
print(f"| signatures/s | {r['per_second']:.0f} |")
print(f"| the emulator's bare RSA-2048 signature (same code, no PC/SC) | {r['bare_rsa_2048_ms']:.2f} ms |")
print(f"| round trip of the cheapest operation (SELECT + GET DATA in one transaction) | {r['round_trip_ms']:.2f} ms |")
print(f"| PC/SC share of a signature (p50 − bare RSA) | {r['p50_ms'] - r['bare_rsa_2048_ms']:.2f} ms |")
PY
    rm -rf "$dir"
}

# ------------------------------------------------------------------- GOST ------
gost_bench() {
    local dir
    dir=$(mktemp -d)
    cargo build --release --locked -p ca-cli -p ca-server >&2
    cargo build --release --locked -p e2e --bin gost-speed >&2
    python3 -c 'import gostcrypto' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check gostcrypto \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages gostcrypto
    log "GOST-512: ours (10 s each), openssl speed ecdsap521 (one core, 10 s), gostcrypto"
    "$root/target/release/gost-speed" 10 >"$dir/ours.json"
    gost_ocsp_bench "$dir"
    openssl speed -seconds 10 ecdsap521 2>/dev/null | awk '/nistp521/ { print $(NF-1), $NF }' >"$dir/openssl.txt"
    python3 - "$dir/gostcrypto.json" <<'PY'
import json, os, sys, time, gostcrypto
curve = gostcrypto.gostsignature.CURVES_R_1323565_1_024_2019['id-tc26-gost-3410-12-512-paramSetA']
g = gostcrypto.gostsignature.new(gostcrypto.gostsignature.MODE_512, curve)
d = bytearray(os.urandom(64)); d[0] &= 0x3f
pub, digest = g.public_key_generate(d), bytearray(os.urandom(64))
t = time.time(); sigs = [g.sign(d, digest) for _ in range(10)]; sign = 10 / (time.time() - t)
t = time.time(); [g.verify(pub, digest, s) for s in sigs]; verify = 10 / (time.time() - t)
json.dump({"sign": sign, "verify": verify}, open(sys.argv[1], "w"))
PY
    python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
ours = json.load(open(f"{d}/ours.json"))
o_sign, o_verify = map(float, open(f"{d}/openssl.txt").read().split())
py = json.load(open(f"{d}/gostcrypto.json"))
print()
print("## GOST 34.10-2015 512-bit, one core (ours: 10 s each; openssl speed -seconds 10 ecdsap521)")
print()
print("| | sign/s | verify/s |")
print("|---|---:|---:|")
print(f"| openssl speed ecdsap521 (P-521 ECDSA) | {o_sign:.0f} | {o_verify:.0f} |")
print(f"| ours, GOST-512 | {ours['sign_per_second']:.0f} ({ours['sign_per_second']/o_sign:.2f}× P-521; target ≥ 0.5) | repeated key {ours['verify_repeated_key_per_second']:.0f} ({ours['verify_repeated_key_per_second']/o_verify:.2f}×); fresh key each time {ours['verify_fresh_key_per_second']:.0f} ({ours['verify_fresh_key_per_second']/o_verify:.2f}×; target ≥ 0.5) |")
print(f"| Python gostcrypto, GOST-512 | {py['sign']:.1f} | {py['verify']:.1f} |")
live = json.load(open(f"{d}/ocsp.json"))
print()
print(f"## Live-signed GOST OCSP responses ({live['rounds']} rounds of {live['secs']} s, alternating; medians)")
print()
print("The responder signs every response with a nonce in GOST 34.10-2015 (the GOST CA's delegated responder);")
print("wrk (1 thread, 32 connections) posts the same request with a nonce. The ceiling is our own GOST signing")
print("rate on two threads at once (`gost-speed SECS 2`, the machine's two cores), measured between the load runs.")
print()
print("CPU per response: the server's own (all its threads, /proc), and wrk's; a signature's CPU is 2 s ÷ the")
print("two-thread signing rate.")
print()
print("| round | gost-speed, 2 threads (sign/s) | µs CPU per signature | live GOST OCSP responses/s | ratio | server µs CPU per response | wrk µs CPU per response |")
print("|---:|---:|---:|---:|---:|---:|---:|")
for i, (s, r, su, wu) in enumerate(zip(live["sign"], live["live"], live["server_us"], live["wrk_us"]), 1):
    print(f"| {i} | {s:.0f} | {2e6 / s:.0f} | {r:.0f} | {r / s:.2f} | {su:.0f} | {wu:.0f} |")
med = lambda k: sorted(live[k])[len(live[k]) // 2]
ms, ml = med("sign"), med("live")
print(f"| median | {ms:.0f} | {2e6 / ms:.0f} | {ml:.0f} | {ml / ms:.3f} (target ≥ 0.8) | {med('server_us'):.0f} | {med('wrk_us'):.0f} |")
PY
    rm -rf "$dir"
}

# Live GOST OCSP against our own GOST signing rate, on a fresh authority whose GOST
# CA issued one SIGN certificate; writes "$1/ocsp.json".
gost_ocsp_bench() {
    local dir="$1" ca="$root/target/release/ca" port pid cert
    local gsecs=$((secs < 10 ? secs : 10)) grounds=$((rounds < 3 ? rounds : 3))
    export CA_PASSPHRASE="bench passphrase" CA_KEY_PASSWORD=bench-key-password
    log "GOST OCSP: a fresh authority and a GOST SIGN certificate"
    "$ca" --data "$dir/ca" init --base-url http://pki.bench.kz >/dev/null 2>&1
    "$ca" --data "$dir/ca" operator add --role ca_administrator --iin 750101300014 --surname Админов --name Админ \
        --out "$dir/admin" >/dev/null
    "$ca" enroll keygen --dir "$dir/ks" --sign-key gost >/dev/null
    openssl req -new -newkey rsa:2048 -nodes -subj /CN=x -keyout "$dir/auth.key" -out "$dir/auth.csr" 2>/dev/null
    CA_OPERATOR_KEY="$dir/admin" "$ca" --data "$dir/ca" issue --iin 880515300120 --surname Тестов --name Тест \
        --bin 040840000124 --org 'АО "ТЕСТ"' --role ceo --auth-csr "$dir/auth.csr" --sign-csr "$dir/ks/pending/sign.csr" \
        --out "$dir/issued" >/dev/null
    cert=$(ls "$dir"/issued/GOSTKNCA_*.cer)
    lift_live_limit "$dir/ca/config.json"
    openssl ocsp -issuer "$dir/ca/gost_issuing.pem" -cert "$cert" -reqout "$dir/req.der" 2>/dev/null
    write_post_lua "$dir/post.lua"
    port=$(free_port)
    "$root/target/release/ca-server" --data "$dir/ca" --listen "127.0.0.1:$port" 2>"$dir/server.log" &
    pid=$!
    wait_port "$port" || { kill "$pid"; exit 1; }
    openssl ocsp -url "http://127.0.0.1:$port/ocsp/" -issuer "$dir/ca/gost_issuing.pem" -cert "$cert" -noverify 2>&1 \
        | grep -q ": good" || { kill "$pid"; echo "the GOST responder does not answer good" >&2; exit 1; }
    local signs=() lives=() server_us=() wrk_us=() before after n
    for round in $(seq 1 "$grounds"); do
        log "GOST OCSP round $round/$grounds: gost-speed on 2 threads, then live responses"
        signs+=("$("$root/target/release/gost-speed" "$gsecs" 2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["sign_per_second"])')")
        before=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
        OCSP_REQ="$dir/req.der" /usr/bin/time -f "%U %S" -o "$dir/wrk.cpu" \
            wrk -t1 -c32 -d"${gsecs}s" -s "$dir/post.lua" "http://127.0.0.1:$port/ocsp/" >"$dir/wrk.out" 2>&1
        after=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
        if grep -q "Non-2xx\|Socket errors" "$dir/wrk.out"; then cat "$dir/wrk.out" >&2; fi
        lives+=("$(awk '/Requests\/sec/ { print $2 }' "$dir/wrk.out")")
        # CPU per response, µs: the server's (all threads, from /proc) and wrk's.
        n=$(awk '/requests in/ { print $1 }' "$dir/wrk.out")
        server_us+=("$(awk -v b="$before" -v a="$after" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", (a - b) / hz / n * 1e6 }')")
        wrk_us+=("$(awk -v n="$n" '{ printf "%.0f", ($1 + $2) / n * 1e6 }' "$dir/wrk.cpu")")
    done
    # Every answer was a signed, successful one: the last response, checked.
    curl -s --data-binary @"$dir/req.der" -H 'Content-Type: application/ocsp-request' "http://127.0.0.1:$port/ocsp/" -o "$dir/resp.der"
    openssl ocsp -respin "$dir/resp.der" -resp_text -noverify 2>&1 | grep -q "OCSP Response Status: successful" \
        || { kill "$pid"; echo "the GOST responder did not answer successfully under load" >&2; exit 1; }
    kill "$pid"; wait "$pid" 2>/dev/null || true
    python3 -c 'import json,sys; a=sys.argv; n=int(a[1]); v=[float(x) for x in a[3:]]; print(json.dumps({"secs": int(a[2]), "rounds": n, "sign": v[:n], "live": v[n:2*n], "server_us": v[2*n:3*n], "wrk_us": v[3*n:]}))' \
        "$grounds" "$gsecs" "${signs[@]}" "${lives[@]}" "${server_us[@]}" "${wrk_us[@]}" >"$dir/ocsp.json"
}

# ------------------------------------------------------------ verification ------
# CMS verification on one core against the machine's RSA verify rates, and through
# the HTTP verification API; rounds alternate, the medians are reported.
verify_bench() {
    local dir ca port pid cert
    local vsecs=$((secs < 10 ? secs : 10)) vrounds=$((rounds < 3 ? rounds : 3))
    dir=$(mktemp -d)
    # (--bin would narrow every package named to that one binary: two builds.)
    cargo build --release --locked -p ca-cli -p ca-server >&2
    cargo build --release --locked -p e2e --bin verify-speed >&2
    ca="$root/target/release/ca"
    export CA_PASSPHRASE="bench passphrase" CA_KEY_PASSWORD=bench-key-password
    log "verification: a fresh authority, an individual's pair, a signed 13 KB document"
    "$ca" --data "$dir/ca" init --base-url http://pki.bench.kz >/dev/null 2>&1
    "$ca" --data "$dir/ca" operator add --role ca_administrator --iin 750101300014 --surname Админов --name Админ \
        --out "$dir/admin" >/dev/null
    for k in auth sign; do
        openssl req -new -newkey rsa:2048 -nodes -subj /CN=x -keyout "$dir/$k.key" -out "$dir/$k.csr" 2>/dev/null
    done
    CA_OPERATOR_KEY="$dir/admin" "$ca" --data "$dir/ca" issue --iin 880515300120 --surname Тестов --name Тест \
        --auth-csr "$dir/auth.csr" --sign-csr "$dir/sign.csr" --out "$dir/issued" >/dev/null
    cert=$(ls "$dir"/issued/RSA256_*)
    openssl pkcs12 -export -inkey "$dir/sign.key" -in "$cert" -passout "pass:$CA_KEY_PASSWORD" -out "$dir/sign.p12"
    head -c 10000 /dev/urandom | base64 >"$dir/doc.txt"
    "$ca" cms sign "$dir/doc.txt" --key-file "$dir/sign.p12" --out "$dir/doc.cms" >/dev/null
    python3 -c 'import base64, json, sys; print(json.dumps({"cms": base64.b64encode(open(sys.argv[1], "rb").read()).decode(), "revocation": "ocsp"}))' \
        "$dir/doc.cms" >"$dir/body.json"
    write_post_lua "$dir/post.lua" application/json
    port=$(free_port)
    taskset -c 0 "$root/target/release/ca-server" --data "$dir/ca" --listen "127.0.0.1:$port" 2>"$dir/server.log" &
    pid=$!
    wait_port "$port" || { kill "$pid"; exit 1; }
    curl -s -H 'Content-Type: application/json' --data-binary @"$dir/body.json" "http://127.0.0.1:$port/api/v1/verify/cms" \
        | grep -q '"valid":true' || { kill "$pid"; echo "the verification API does not find the document valid" >&2; exit 1; }
    local v2048=() v4096=() ours=() http=() server_us=() floor_us=()
    # Server CPU (µs) per request of a wrk run on core 1: cpu_per_request ROUTE SECS
    cpu_per_request() {
        local b a n
        b=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
        OCSP_REQ="$dir/body.json" taskset -c 1 wrk -t1 -c8 -d"$2s" -s "$dir/post.lua" "http://127.0.0.1:$port$1" >"$dir/wrk.out" 2>&1
        a=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
        n=$(awk '/requests in/ { print $1 }' "$dir/wrk.out")
        awk -v b="$b" -v a="$a" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", (a - b) / hz / n * 1e6 }'
    }
    for round in $(seq 1 "$vrounds"); do
        log "verification round $round/$vrounds: openssl speed, verify-speed, the HTTP API"
        taskset -c 1 openssl speed -seconds "$vsecs" rsa2048 rsa4096 2>/dev/null >"$dir/speed.txt"
        v2048+=("$(awk '/^rsa 2048 bits/ { print $NF }' "$dir/speed.txt")")
        v4096+=("$(awk '/^rsa 4096 bits/ { print $NF }' "$dir/speed.txt")")
        taskset -c 1 "$root/target/release/verify-speed" "$dir/doc.cms" "$dir/ca/root.pem" "$dir/ca/issuing.pem" \
            "http://127.0.0.1:$port/ocsp/" "$vsecs" >"$dir/ours.json"
        ours+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["verifications_per_second"])' "$dir/ours.json")")
        server_us+=("$(cpu_per_request /api/v1/verify/cms "$vsecs")")
        if grep -q "Non-2xx\|Socket errors" "$dir/wrk.out"; then cat "$dir/wrk.out" >&2; fi
        http+=("$(awk '/Requests\/sec/ { print $2 }' "$dir/wrk.out")")
        floor_us+=("$(cpu_per_request /api/v1/verify/certificate 3)")
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
    python3 - "$dir/ours.json" "$vrounds" "$vsecs" "${v2048[@]}" "${v4096[@]}" "${ours[@]}" "${http[@]}" "${server_us[@]}" "${floor_us[@]}" <<'PY'
import json, sys
info = json.load(open(sys.argv[1])); n = int(sys.argv[2]); secs = sys.argv[3]
v = [float(x) for x in sys.argv[4:]]
v2048, v4096, ours, http, server_us, floor_us = (v[i * n:(i + 1) * n] for i in range(6))
bits = info["check_key_bits"]
def limit(a, b):  # verifications/s if each took only its signature checks' time
    return 1 / sum(1 / (a if k == 2048 else b) for k in bits)
med = lambda xs: sorted(xs)[len(xs) // 2]
print()
print(f"## CMS verification, one core ({n} rounds of {secs} s, alternating; medians)")
print()
print(f"A {info['document_bytes']}-byte attached CMS (an RSA-2048 signer), its path of three to our root, OCSP asked")
print("once and then answered from the verifier's cache: each verification checks "
      + " + ".join(f"RSA-{k}" for k in bits) + " signatures (the document's, the signer's certificate's, the issuing CA's).")
print("The physical limit is the time of those signature checks alone at `openssl speed`'s verify rates on the same")
print("core in the same round. The HTTP API runs the same check (server on core 0, wrk -t1 -c8 on core 1, the 21 KB")
print("JSON body with the document in base64): it asks its own responder in process each time, and recognises the")
print("responder's pre-signed answer by its bytes after the first time, so the same three checks are the limit.")
print("The server's CPU per request is from /proc; `floor` is the same body posted to /api/v1/verify/certificate,")
print("refused after parsing (HTTP, the connection and JSON alone).")
print()
print("| round | openssl verify/s RSA-2048 | RSA-4096 | physical limit (verifications/s) | ours (verifications/s) | ratio | HTTP API (requests/s) | ratio | server µs CPU per request | floor: server µs CPU per request |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
rows = []
for i in range(n):
    lim = limit(v2048[i], v4096[i])
    rows.append(lim)
    print(f"| {i + 1} | {v2048[i]:.0f} | {v4096[i]:.0f} | {lim:.0f} | {ours[i]:.0f} | {ours[i] / lim:.2f} | {http[i]:.0f} | {http[i] / lim:.2f} | {server_us[i]:.0f} | {floor_us[i]:.0f} |")
ml = med(rows)
print(f"| median | {med(v2048):.0f} | {med(v4096):.0f} | {ml:.0f} | {med(ours):.0f} | {med(ours) / ml:.2f} (target ≥ 0.7) | {med(http):.0f} | {med(http) / ml:.2f} (target ≥ 0.7) | {med(server_us):.0f} | {med(floor_us):.0f} |")
PY
    rm -rf "$dir"
}

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
[ -x /usr/bin/time ] || missing+=(time)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# Cards: the PC/SC rig, as scripts/test.sh installs it.
command -v pcscd >/dev/null 2>&1 || missing+=(pcscd)
pkg-config --exists libpcsclite 2>/dev/null || missing+=(libpcsclite-dev pkgconf)
[ -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] || missing+=(vsmartcard-vpcd)
command -v pgrep >/dev/null 2>&1 || missing+=(procps)
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The parts that run alone, once what they need is installed.
if [ "${1:-}" = "--card" ]; then card_bench; exit 0; fi
if [ "${1:-}" = "--gost" ]; then gost_bench; exit 0; fi
if [ "${1:-}" = "--verify" ]; then verify_bench; exit 0; fi

# ------------------------------------------------------------------ scale ------
# Pair issuance and cached OCSP on SQLite with one server, and on PostgreSQL with
# one and with two servers on one database, in alternating rounds; and the bytes
# each database holds per certificate. PostgreSQL runs with fsync on, as SQLite
# runs with synchronous=FULL: an acknowledged issuance is on disk in both.
scale_bench() {
    local pg_url db n=100 r
    log "PostgreSQL: a throwaway cluster (fsync on)"
    chmod 755 "$work"
    pg_url=$(scripts/pg-cluster.sh start "$work/pg" fsync=on)
    echo "$work/pg" >"$work/pg.dir"
    psql "$pg_url" -qc "CREATE DATABASE scale"
    db=${pg_url%/postgres}/scale
    log "the same authority's set-up on PostgreSQL"
    "$CA" --data "$work/pgca" init --base-url http://pki.bench.kz --database "$db" >/dev/null 2>&1
    env -u CA_OPERATOR_KEY "$CA" --data "$work/pgca" operator add --role ca_administrator --iin 750101300014 --surname Админов --name Админ \
        --out "$work/pgadmin" >/dev/null
    CA_OPERATOR_KEY="$work/pgadmin" "$CA" --data "$work/pgca" --json issue --iin 880515300120 --surname Тестов --name Тест \
        --auth-csr "$work/auth.csr" --sign-csr "$work/sign.csr" --out "$work/pgissued" >/dev/null
    local pgcert
    pgcert=$(ls "$work"/pgissued/AUTH_*.cer)
    openssl ocsp -no_nonce -issuer "$work/pgca/issuing.pem" -cert "$pgcert" -reqout "$work/req_pg.der" 2>/dev/null
    cp -r "$work/base" "$work/sqlca"
    for c in "$work/sqlca/config.json" "$work/pgca/config.json"; do
        python3 - "$c" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["limits"] = {"submissions_per_minute": 1_000_000, "submissions_burst": 1_000_000}
json.dump(c, open(sys.argv[1], "w"))
PY
    done
    start() { # data-dir: a server on it; its port in $port, its pid added to pids
        port=$(free_port)
        "$SERVER" --data "$1" --listen "127.0.0.1:$port" >/dev/null 2>>"$work/server-scale.log" &
        pids+=("$!")
        wait_port "$port"
    }
    stop_all() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
        pids=()
    }
    two_rates() { # port port request -> summed requests/s of two wrk runs at once (16 connections each)
        OCSP_REQ="$3" wrk -t1 -c16 -d"${secs}s" -s "$work/post.lua" "http://127.0.0.1:$1/ocsp/" >"$work/wrk1.out" 2>&1 &
        local w=$!
        OCSP_REQ="$3" wrk -t1 -c16 -d"${secs}s" -s "$work/post.lua" "http://127.0.0.1:$2/ocsp/" >"$work/wrk2.out" 2>&1
        wait "$w"
        awk '/Requests\/sec/ { s += $2 } END { printf "%.0f", s }' "$work/wrk1.out" "$work/wrk2.out"
    }
    one_server() { # data-dir admin-dir request -> "confirmations/s responses/s" of one server on it
        local i o
        start "$1"
        i=$("$LOAD" "http://127.0.0.1:$port" "$2" "$n" 4 | awk '{ print $1 }')
        o=$(rate "$port" "$3")
        stop_all
        echo "$i $o"
    }
    local sq_issue=() pg_issue=() pg2_issue=() sq_ocsp=() pg_ocsp=() pg2_ocsp=() a b port
    for ((r = 1; r <= rounds; r++)); do
        log "scale round $r/$rounds: SQLite, one server"
        read -r a b < <(one_server "$work/sqlca" "$work/admin" "$work/req_plain.der")
        sq_issue+=("$a") sq_ocsp+=("$b")
        log "scale round $r/$rounds: PostgreSQL, one server"
        read -r a b < <(one_server "$work/pgca" "$work/pgadmin" "$work/req_pg.der")
        pg_issue+=("$a") pg_ocsp+=("$b")
        log "scale round $r/$rounds: PostgreSQL, two servers"
        start "$work/pgca"
        a=$port
        start "$work/pgca"
        b=$port
        pg2_issue+=("$("$LOAD" "http://127.0.0.1:$a,http://127.0.0.1:$b" "$work/pgadmin" "$n" 4 | awk '{ print $1 }')")
        pg2_ocsp+=("$(two_rates "$a" "$b" "$work/req_pg.der")")
        stop_all
    done
    median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
    local si pi p2i so po p2o sq_bytes pg_bytes sq_certs pg_certs
    si=$(median "${sq_issue[@]}"); pi=$(median "${pg_issue[@]}"); p2i=$(median "${pg2_issue[@]}")
    so=$(median "${sq_ocsp[@]}"); po=$(median "${pg_ocsp[@]}"); p2o=$(median "${pg2_ocsp[@]}")
    read -r sq_bytes sq_certs < <(python3 - "$work/sqlca/ca.sqlite" <<'PY'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
print(os.path.getsize(sys.argv[1]), c.execute("SELECT COUNT(*) FROM certificates").fetchone()[0])
PY
)
    psql "$db" -qc "VACUUM ANALYZE" >/dev/null
    pg_bytes=$(psql "$db" -tAc "SELECT pg_database_size(current_database()) - (SELECT pg_database_size('template1'))")
    pg_certs=$(psql "$db" -tAc "SELECT COUNT(*) FROM certificates")
    scripts/pg-cluster.sh stop "$work/pg"
    echo
    echo "## Scale: SQLite and PostgreSQL ($(date -u +%Y-%m-%d), $(nproc) cores, $rounds rounds, medians; $n confirmations from 4 connections, wrk ${secs}s)"
    echo
    echo "| | SQLite, one server | PostgreSQL, one server | PostgreSQL, two servers | PostgreSQL two ÷ SQLite |"
    echo "|---|---:|---:|---:|---:|"
    echo "| pair issuance, confirmations/s | $si | $pi ($(ratio "$pi" "$si")) | $p2i ($(ratio "$p2i" "$si")) | $(ratio "$p2i" "$si") (goal ≥ 0.7) |"
    echo "| cached OCSP, responses/s | $so | $po ($(ratio "$po" "$so")) | $p2o ($(ratio "$p2o" "$so")) | $(ratio "$p2o" "$so") (goal ≥ 0.9) |"
    echo "| database bytes per certificate | $((sq_bytes / sq_certs)) ($sq_certs certificates) | $((pg_bytes / pg_certs)) ($pg_certs certificates, over an empty database) | | |"
}

log "building (release)"
cargo build --release --locked -p ca-cli -p ca-server
cargo build --release --locked -p e2e --example confirm_load
CA="$root/target/release/ca"
SERVER="$root/target/release/ca-server"
LOAD="$root/target/release/examples/confirm_load"

work=$(mktemp -d)
pids=()
cleanup() {
    # openssl ocsp process groups, started in subshells (see start_openssl).
    if [ -f "$work/groups" ]; then
        while read -r g; do kill -9 -- "-$g" 2>/dev/null || true; done <"$work/groups"
    fi
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    [ -f "$work/pg.dir" ] && scripts/pg-cluster.sh stop "$(cat "$work/pg.dir")"
    rm -rf "$work"
}
trap cleanup EXIT

export CA_PASSPHRASE="bench passphrase"

log "a fresh authority with one real pair"
"$CA" --data "$work/base" init --base-url http://pki.bench.kz >/dev/null 2>&1
# The first administrator (the CA passphrase holder adds them); they sign the issuance.
export CA_KEY_PASSWORD=bench-admin-password
"$CA" --data "$work/base" operator add --role ca_administrator --iin 750101300014 --surname Админов --name Админ \
    --out "$work/admin" >/dev/null
export CA_OPERATOR_KEY="$work/admin"
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
lift_live_limit "$work/ocsp/config.json"
python3 scripts/bench_fixture.py "$work/ocsp/ca.sqlite" "$work/index.txt" 100000 --real "$cert"
openssl ocsp -issuer "$work/base/issuing.pem" -cert "$cert" -reqout "$work/req_nonce.der" 2>/dev/null
openssl ocsp -no_nonce -issuer "$work/base/issuing.pem" -cert "$cert" -reqout "$work/req_plain.der" 2>/dev/null
write_post_lua "$work/post.lua"

rate() { # port-or-URL request-file [server-pid] -> requests/s (wrk, 1 thread, 32 connections)
    # With a server pid, also where the two cores went, per response: the server's
    # user and system CPU (/proc, all threads) and wrk's (time -f), in "$work/cpu".
    local before after wu ws url
    case "$1" in *://*) url="$1" ;; *) url="http://127.0.0.1:$1/ocsp/" ;; esac
    [ -z "${3:-}" ] || before=$(awk '{ print $14, $15 }' "/proc/$3/stat")
    OCSP_REQ="$2" /usr/bin/time -f "%U %S" -o "$work/wrk.cpu" \
        wrk -t1 -c32 -d"${secs}s" -s "$work/post.lua" "$url" >"$work/wrk.out" 2>&1
    if grep -q "Non-2xx\|Socket errors" "$work/wrk.out"; then cat "$work/wrk.out" >&2; fi
    local r
    r=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk.out")
    if [ -n "${3:-}" ]; then
        after=$(awk '{ print $14, $15 }' "/proc/$3/stat")
        read -r wu ws <"$work/wrk.cpu"
        awk -v b="$before" -v a="$after" -v wu="$wu" -v ws="$ws" -v n="$(awk '/requests in/ { print $1 }' "$work/wrk.out")" \
            -v hz="$(getconf CLK_TCK)" 'BEGIN {
            split(b, x, " "); split(a, y, " ")
            printf "%.0f %.0f %.0f\n", (y[1] - x[1]) / hz / n * 1e6, (y[2] - x[2]) / hz / n * 1e6, (wu + ws) / n * 1e6 }' >"$work/cpu"
    fi
    echo "$r"
}
answers_good() { # port -> 0 when a fresh client gets "good" within 5 s
    timeout 5 openssl ocsp -url "http://127.0.0.1:$1/ocsp/" -issuer "$work/base/issuing.pem" -cert "$cert" \
        -CAfile "$work/chain.pem" 2>&1 | grep -q ": good"
}
if [ "${1:-}" = "--scale" ]; then scale_bench; exit 0; fi
# One responder at a time, so neither competes with the other for the two cores.
# `openssl ocsp -multi` puts itself in a process group of its own (setpgid): it is
# started afresh for each load run and killed with its children afterwards (its
# workers can be left spinning by a client that goes away, which is what the last
# column checks).
start_openssl() { # port -> pid of the group leader
    openssl ocsp -index "$work/index.txt" -port "$1" -rsigner "$work/base/ocsp.pem" -rkey "$work/ocsp_plain.pem" \
        -CA "$work/base/issuing.pem" -multi 2 -nmin 60 -ignore_err 2>>"$work/openssl-ocsp.log" >/dev/null &
    echo $! >>"$work/groups"
    echo $!
}
stop_group() { kill -9 -- "-$1" 2>/dev/null || kill -9 "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
openssl_rate() { # request-file -> "requests/s still-answering"
    local port pid r after
    port=$(free_port)
    pid=$(start_openssl "$port")
    wait_port "$port"
    answers_good "$port" || { stop_group "$pid"; echo "openssl ocsp does not answer good" >&2; exit 1; }
    r=$(rate "$port" "$1")
    if answers_good "$port"; then after=yes; else after=no; fi
    stop_group "$pid"
    echo "$r $after"
}

log "openssl ocsp -multi 2, with nonce (it signs every response either way)"
read -r theirs_nonce theirs_nonce_after < <(openssl_rate "$work/req_nonce.der")
log "openssl ocsp -multi 2, without nonce"
read -r theirs_plain theirs_plain_after < <(openssl_rate "$work/req_plain.der")
[ -n "$theirs_nonce" ] && [ -n "$theirs_plain" ] || { echo "openssl ocsp could not be measured" >&2; exit 1; }

ours_port=$(free_port)
"$SERVER" --data "$work/ocsp" --listen "127.0.0.1:$ours_port" 2>"$work/server.log" &
ours_pid=$!
pids+=("$ours_pid")
wait_port "$ours_port"
answers_good "$ours_port" || { echo "our responder does not answer good" >&2; exit 1; }
log "ours, without nonce (cached)"
ours_plain=$(rate "$ours_port" "$work/req_plain.der")
# Live signing against the machine's signing rate: both move with the machine's
# noise, so they alternate, `rounds` times each, and the medians are compared.
speeds=() nonces=() cpu_rows=()
for round in $(seq 1 "$rounds"); do
    log "round $round/$rounds: openssl speed -multi 2 rsa2048"
    speeds+=("$(openssl speed -seconds "$secs" -multi 2 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ { print $6 }' | tail -1)")
    log "round $round/$rounds: ours, with nonce (signed live)"
    nonces+=("$(rate "$ours_port" "$work/req_nonce.der" "$ours_pid")")
    read -r cu cs cw <"$work/cpu"
    cpu_rows+=("| $round | ${speeds[-1]} | $(awk -v s="${speeds[-1]}" 'BEGIN { printf "%.0f", 2e6 / s }') | ${nonces[-1]} | $cu | $cs | $cw | $(awk -v r="${nonces[-1]}" 'BEGIN { printf "%.0f", 2e6 / r }') |")
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
speed=$(median "${speeds[@]}")
ours_nonce=$(median "${nonces[@]}")
log "ours, without nonce, while 1,000 idle connections are held and a client connects and closes in a loop"
python3 - "$ours_port" "$((secs + 5))" >"$work/held.out" <<'PY' &
import socket, sys, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(1000)]
print("held", len(held), flush=True)
end, n = time.monotonic() + secs, 0
while time.monotonic() < end and n < 10_000_000:
    socket.create_connection(("127.0.0.1", port)).close()
    n += 1
    time.sleep(0.001)
print("connect-close", n, flush=True)
PY
holder=$!
pids+=("$holder")
for _ in $(seq 1 100); do grep -q held "$work/held.out" && break; sleep 0.1; done
grep -q "held 1000" "$work/held.out" || { echo "could not hold 1,000 connections" >&2; exit 1; }
ours_held=$(rate "$ours_port" "$work/req_plain.der")
if answers_good "$ours_port"; then ours_after=yes; else ours_after=no; fi
wait "$holder" || true
kill "$ours_pid" 2>/dev/null || true
wait "$ours_pid" 2>/dev/null || true
pids=()

echo
echo "## OCSP ($(date -u +%Y-%m-%d), $(nproc) cores, wrk -t1 -c32 -d${secs}s, POST)"
echo
echo "| | responses/s | ratio | a new client is answered afterwards |"
echo "|---|---:|---|---|"
echo "| openssl speed -multi 2 rsa2048 (signatures/s; median of ${speeds[*]}) | $speed | | |"
echo "| openssl ocsp -multi 2, nonce | $theirs_nonce | | $theirs_nonce_after |"
echo "| openssl ocsp -multi 2, no nonce | $theirs_plain | | $theirs_plain_after |"
echo "| ours, no nonce (cached) | $ours_plain | $(ratio "$ours_plain" "$theirs_plain")× openssl ocsp (target ≥ 20) | |"
echo "| ours, nonce (signed live; median of ${nonces[*]}) | $ours_nonce | $(ratio "$ours_nonce" "$speed") of openssl speed (target ≥ 0.85); $(ratio "$ours_nonce" "$theirs_nonce")× openssl ocsp | |"
echo "| ours, no nonce, 1,000 idle connections held + $(awk '/connect-close/ { print $2 }' "$work/held.out") connect-and-close | $ours_held | $(ratio "$ours_held" "$ours_plain") of the run without them | $ours_after |"
echo
echo "Where the two cores go per live-signed response (µs of CPU; openssl speed: per signature per core):"
echo
echo "| round | openssl speed -multi 2 | µs per signature | ours, responses/s | server user | server system | wrk | both cores per response |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${cpu_rows[@]}"

# ------------------------------------------------ TLS and a 1,024-file limit ------
plain_port=$(free_port)
tls_port=$(free_port)
bash -c 'ulimit -S -n 1024 && exec "$0" "$@"' "$SERVER" --data "$work/ocsp" --listen "127.0.0.1:$plain_port" \
    --tls-listen "127.0.0.1:$tls_port" 2>"$work/server-tls.log" &
tls_pid=$!
pids+=("$tls_pid")
wait_port "$plain_port"
wait_port "$tls_port"
answers_good "$plain_port" || { echo "our responder (HTTPS run) does not answer good" >&2; exit 1; }
files_limit=$(awk '/Max open files/ { print $4 }' "/proc/$tls_pid/limits")
log "plain HTTP, cached and live, started under ulimit -S -n 1024 (raised to $files_limit)"
plain_cached=$(rate "$plain_port" "$work/req_plain.der")
plain_live=$(rate "$plain_port" "$work/req_nonce.der")
log "HTTPS, cached and live"
tls_cached=$(rate "https://127.0.0.1:$tls_port/ocsp/" "$work/req_plain.der")
tls_live=$(rate "https://127.0.0.1:$tls_port/ocsp/" "$work/req_nonce.der")
log "plain HTTP, cached, while 1,100 idle connections are held"
python3 - "$plain_port" "$((secs + 5))" >"$work/held1100.out" <<'PY' &
import resource, socket, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (4096, max(4096, resource.getrlimit(resource.RLIMIT_NOFILE)[1])))
port, secs = int(sys.argv[1]), float(sys.argv[2])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(1100)]
print("held", len(held), flush=True)
time.sleep(secs)
PY
holder=$!
pids+=("$holder")
for _ in $(seq 1 100); do grep -q held "$work/held1100.out" && break; sleep 0.1; done
grep -q "held 1100" "$work/held1100.out" || { echo "could not hold 1,100 connections" >&2; exit 1; }
held_cached=$(rate "$plain_port" "$work/req_plain.der")
if answers_good "$plain_port"; then held_after=yes; else held_after=no; fi
wait "$holder" || true
kill "$tls_pid" 2>/dev/null || true
wait "$tls_pid" 2>/dev/null || true
pids=()
echo
echo "## OCSP over HTTPS and under a 1,024-file limit ($(date -u +%Y-%m-%d), wrk -t1 -c32 -d${secs}s; server started with ulimit -S -n 1024, raised to $files_limit)"
echo
echo "| | plain HTTP | HTTPS | HTTPS / plain |"
echo "|---|---:|---:|---:|"
echo "| cached (no nonce) | $plain_cached | $tls_cached | $(ratio "$tls_cached" "$plain_cached") |"
echo "| live (nonce) | $plain_live | $tls_live | $(ratio "$tls_live" "$plain_live") |"
echo
echo "| cached, 1,100 idle connections held | $held_cached responses/s | $(ratio "$held_cached" "$plain_cached") of the run without them (target ≥ 0.9) | a new client answered afterwards: $held_after |"
echo "|---|---:|---|---|"

# ------------------------------------------------------- issuance under load ------
log "issuance under load: 200 applications, confirmed through the operator API from 4 connections"
cp -r "$work/base" "$work/issue"
python3 - "$work/issue/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["limits"] = {"submissions_per_minute": 1_000_000, "submissions_burst": 1_000_000}
json.dump(c, open(sys.argv[1], "w"))
PY
issue_port=$(free_port)
"$SERVER" --data "$work/issue" --listen "127.0.0.1:$issue_port" 2>"$work/server-issue.log" &
issue_pid=$!
pids+=("$issue_pid")
wait_port "$issue_port"
read -r confirm_rate confirm_secs confirm_n < <("$LOAD" "http://127.0.0.1:$issue_port" "$work/admin" 200 4)
kill "$issue_pid" 2>/dev/null || true
wait "$issue_pid" 2>/dev/null || true
pids=()
log "openssl speed -multi 2 rsa4096"
speed4096=$(openssl speed -seconds "$secs" -multi 2 rsa4096 2>/dev/null | awk '/^rsa 4096 bits/ { print $6 }' | tail -1)
half=$(awk -v s="$speed4096" 'BEGIN { printf "%.1f", s / 2 }')
echo
echo "## Pair issuance under load ($(date -u +%Y-%m-%d), $confirm_n confirmations from 4 connections in $confirm_secs s)"
echo
echo "| | per second | ratio |"
echo "|---|---:|---|"
echo "| openssl speed -multi 2 rsa4096 ÷ 2 (pairs of signatures) | $half | |"
echo "| ours: confirmations through the operator API (two RSA-4096 signatures, durable) | $confirm_rate | $(ratio "$confirm_rate" "$half") (target ≥ 0.7) |"

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

card_bench
gost_bench
verify_bench
