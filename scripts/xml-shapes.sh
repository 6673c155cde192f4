#!/usr/bin/env bash
# XML verification's cost by the document's shape (issue 23): a signed document of
# 110,000 elements (4.4 MB), the same with its reference copied 1,000 times, and one
# element with 100,000 attributes, each verified by `ca xml verify`, timed by
# /usr/bin/time (user CPU and peak memory). Prints one line per document.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --quiet --release --locked --manifest-path "$root/Cargo.toml" -p ca-cli
command -v /usr/bin/time >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
ca="$root/target/release/ca"
data="$root/tests/data/nca-test"
export CA_KEY_PASSWORD=Qwerty12
python3 - <<'PY'
items = "".join(f"<item n=\"{i}\">Мәтін {i}</item>\n" for i in range(110000))
open("plain.xml", "w").write(f"<doc xmlns=\"urn:gov\">{items}</doc>")
attrs = "".join(f" a{i}=\"v\"" for i in range(100000))
open("attrs.xml", "w").write(f"<r{attrs}/>")
PY
"$ca" xml sign --key-file "$data/RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.p12" --out signed.xml plain.xml >/dev/null
python3 - <<'PY'
t = open("signed.xml").read()
s = t.index("<ds:Reference"); e = t.index("</ds:Reference>") + len("</ds:Reference>")
open("refs1000.xml", "w").write(t.replace(t[s:e], t[s:e] * 1000, 1))
PY
for f in signed.xml refs1000.xml attrs.xml; do
    code=$("$ca" xml verify --json --trust "$data/nca_rsa_test.pem" --at 2020-06-01T00:00:00Z --revocation none "$f" 2>/dev/null \
        | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("error",{}).get("code") or ("valid" if d.get("valid", True) else "not valid"))' || true)
    /usr/bin/time -f "$f: $(stat -c %s "$f") bytes, %U s user, %M KB peak, $code" \
        "$ca" xml verify --trust "$data/nca_rsa_test.pem" --at 2020-06-01T00:00:00Z --revocation none "$f" >/dev/null 2>"$work/time.txt" || true
    tail -1 "$work/time.txt"
done
