#!/usr/bin/env python3
"""Benchmark fixture: the same N revoked certificates in our database and in an
`openssl ca` index.txt, so both sides generate a CRL of the same entries.

    bench_fixture.py DB INDEX N [--real CERT.pem ...]
    bench_fixture.py DB --revoke-more M

The certificate rows are synthetic (random 20-byte serials, a placeholder DER):
the CRL needs only serial, revocation time and reason. Real certificates given
with --real are appended to INDEX as valid (V) lines so `openssl ocsp` can answer
for them. --revoke-more M revokes M further synthetic certificates in DB through
an UPDATE (the status log trigger sees them): the delta CRL workload.
"""
import os
import random
import sqlite3
import subprocess
import sys
import time

# Reasons `openssl ca` can read from index.txt without extra fields: it knows no
# privilegeWithdrawn, and a hold needs a hold instruction it then writes into the CRL.
REASONS = [1, 3, 4, 5]
NAMES = {1: "keyCompromise", 3: "affiliationChanged", 4: "superseded", 5: "cessationOfOperation"}


def utc(t):
    return time.strftime("%y%m%d%H%M%SZ", time.gmtime(t))


def serial():
    b = bytearray(os.urandom(20))
    b[0] &= 0x7F
    b[0] |= 0x01  # positive and exactly 20 bytes
    return b.hex()


def fill(db, index, n, real):
    rng = random.Random(1)
    now = int(time.time())
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    base = conn.execute("SELECT COALESCE(MAX(id), 0) FROM pairs").fetchone()[0] + 1
    with open(index, "w") as idx:
        conn.execute("BEGIN")
        batch_pairs, batch_certs = [], []
        for i in range(n):
            pair_id = base + i // 2
            if i % 2 == 0:
                batch_pairs.append((pair_id, "individual", "880515300120", None, None, now - 86400))
            s = serial()
            reason = rng.choice(REASONS)
            revoked = now - rng.randrange(1, 300 * 86400)
            batch_certs.append((s, pair_id, "AUTH" if i % 2 == 0 else "SIGN", "BENCH", now - 400 * 86400, now + 300 * 86400, "00", os.urandom(32), b"\x30\x00", revoked, reason))
            idx.write(f"R\t{utc(now + 300 * 86400)}\t{utc(revoked)},{NAMES[reason]}\t{s.upper()}\tunknown\t/CN=BENCH {i}\n")
            if len(batch_certs) >= 50_000:
                flush(conn, batch_pairs, batch_certs)
        flush(conn, batch_pairs, batch_certs)
        conn.execute("COMMIT")
        for pem in real:
            out = subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-serial", "-enddate"], capture_output=True, text=True, check=True).stdout
            fields = dict(line.split("=", 1) for line in out.splitlines())
            end = time.mktime(time.strptime(fields["notAfter"].replace(" GMT", ""), "%b %d %H:%M:%S %Y")) - time.timezone
            idx.write(f"V\t{utc(int(end))}\t\t{fields['serial'].upper()}\tunknown\t/CN=REAL\n")
    conn.close()


def flush(conn, pairs, certs):
    conn.executemany("INSERT INTO pairs (id, subject_kind, iin, bin, role, issued_at) VALUES (?, ?, ?, ?, ?, ?)", pairs)
    conn.executemany(
        "INSERT INTO certificates (serial, pair_id, cert_type, common_name, not_before, not_after, key_id, key_fingerprint, der, revoked_at, revocation_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        certs,
    )
    pairs.clear()
    certs.clear()


def revoke_more(db, m):
    """M more synthetic certificates, issued valid and then revoked (an UPDATE the trigger logs)."""
    now = int(time.time())
    conn = sqlite3.connect(db)
    base = conn.execute("SELECT COALESCE(MAX(id), 0) FROM pairs").fetchone()[0] + 1
    serials = [serial() for _ in range(m)]
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO pairs (id, subject_kind, iin, bin, role, issued_at) VALUES (?, 'individual', '880515300120', NULL, NULL, ?)", [(base + i, now) for i in range(m)])
    conn.executemany(
        "INSERT INTO certificates (serial, pair_id, cert_type, common_name, not_before, not_after, key_id, key_fingerprint, der) VALUES (?, ?, 'AUTH', 'BENCH', ?, ?, '00', ?, x'3000')",
        [(s, base + i, now - 86400, now + 300 * 86400, os.urandom(32)) for i, s in enumerate(serials)],
    )
    conn.execute("COMMIT")
    conn.execute("BEGIN")
    conn.executemany("UPDATE certificates SET revoked_at = ?, revocation_reason = 1 WHERE serial = ?", [(now, s) for s in serials])
    conn.execute("COMMIT")
    conn.close()


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[1] == "--revoke-more":
        revoke_more(args[0], int(args[2]))
        return
    db, index, n = args[0], args[1], int(args[2])
    real = args[4:] if args[3:4] == ["--real"] else []
    fill(db, index, n, real)


if __name__ == "__main__":
    main()
