//! Acceptance for time-stamps: our time-stamp authority's tokens verify in
//! `openssl ts -verify`, openssl's verify here, and a time-stamped signature
//! (CAdES-T) is judged at the stamp's time.

use e2e::{ca_anywhere, fresh_authority, issue, json_of, key_store_from_openssl, p, program, run_ok, Scratch, Server, KEY_PASSWORD};
use std::path::Path;
use std::process::Command;

#[test]
fn our_time_stamps_verify_in_openssl_and_stamp_signatures() {
    let s = fresh_authority();
    let data = s.join("data");
    let server = Server::on(&data);
    let url = format!("{}/tsp", server.url());
    let file = s.join("contract.txt");
    std::fs::write(&file, "Договор № 7\n").unwrap();
    let tsr = s.join("contract.tsr");
    let out = ca_anywhere(&["tsp", "query", &p(&file), "--url", &url, "--out", &p(&tsr), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json_of(&out)["policy"], "1.2.398.3.3.1.1");
    // openssl checks the token, its imprint and the TSA's path to our root.
    let chain = s.join("chain.pem");
    let mut pem = std::fs::read(data.join("issuing.pem")).unwrap();
    pem.extend(std::fs::read(data.join("root.pem")).unwrap());
    std::fs::write(&chain, pem).unwrap();
    let verify = |data_file: &Path| {
        Command::new("openssl")
            .args(["ts", "-verify", "-data"])
            .arg(data_file)
            .arg("-in")
            .arg(&tsr)
            .arg("-CAfile")
            .arg(&chain)
            .output()
            .unwrap()
    };
    let ok = verify(&file);
    assert!(ok.status.success(), "openssl ts -verify: {}{}", String::from_utf8_lossy(&ok.stdout), String::from_utf8_lossy(&ok.stderr));
    let other = s.join("other.txt");
    std::fs::write(&other, "Договор № 8\n").unwrap();
    assert!(!verify(&other).status.success());
    // Ours, with the authority's certificate checked by CRL (its OCSP knows only holders).
    let root = p(&data.join("root.pem"));
    let issuing = p(&data.join("issuing.pem"));
    let ours = |data_file: &Path| {
        ca_anywhere(&[
            "tsp",
            "verify",
            &p(&tsr),
            "--data",
            &p(data_file),
            "--trust",
            &root,
            "--intermediate",
            &issuing,
            "--revocation",
            "none",
            "--json",
        ])
    };
    let out = ours(&file);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(json_of(&out)["certificate"]["subject"], "C=KZ, CN=TIME-STAMP AUTHORITY (RSA)");
    let out = ours(&other);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_of(&out)["error"]["code"], "bad_time_stamp");
    // A garbage request gets a rejection, not an error page.
    let reply = ureq::post(&url).set("Content-Type", "application/timestamp-query").send_bytes(b"\x30\x03\x02\x01\x07").unwrap();
    assert_eq!(reply.header("Content-Type"), Some("application/timestamp-reply"));

    // A signature time-stamped at our authority (CAdES-T): the signer's path is judged
    // at the stamp's time, and the authority's too.
    let work = s.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let issued = issue(&data, &work, &e2e::individual(), "tsp");
    let ks = s.join("ks");
    key_store_from_openssl(&work, &issued, "tsp", &ks);
    let pw = s.join("pw");
    std::fs::write(&pw, KEY_PASSWORD).unwrap();
    let sig = s.join("contract.cms");
    run_ok(Command::new(program("ca")).args([
        "cms",
        "sign",
        &p(&file),
        "--key-file",
        &p(&ks.join("RSA256_tsp.p12")),
        "--password-file",
        &p(&pw),
        "--tsp",
        &url,
        "--out",
        &p(&sig),
    ]));
    let out = ca_anywhere(&["cms", "verify", &p(&sig), "--trust", &root, "--intermediate", &issuing, "--revocation", "none", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let v = json_of(&out);
    let stamp = &v["signers"][0]["time_stamp"];
    assert_eq!(stamp["valid"], true, "{v}");
    assert_eq!(v["signers"][0]["at"], stamp["time"]);
    // openssl still verifies the signature (it ignores the unsigned attribute).
    let out = Command::new("openssl")
        .args(["cms", "-verify", "-inform", "DER", "-in"])
        .arg(&sig)
        .arg("-CAfile")
        .arg(&chain)
        .args(["-out", "/dev/null"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // A changed byte inside the token (its TSTInfo's time) breaks the stamp.
    let mut der = std::fs::read(&sig).unwrap();
    let year = format!("{}", ca_core::calendar::Date::of(&ca_core::calendar::now()).year());
    let at = der.windows(4).rposition(|w| w == year.as_bytes()).unwrap();
    der[at + 3] ^= 1;
    let bad = s.join("bad.cms");
    std::fs::write(&bad, der).unwrap();
    let out = ca_anywhere(&["cms", "verify", &p(&bad), "--trust", &root, "--intermediate", &issuing, "--revocation", "none", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_of(&out)["error"]["code"], "bad_time_stamp");
}

#[test]
fn openssls_time_stamps_verify_here() {
    let s = Scratch::new("tsa-openssl");
    let d = s.path();
    let sh = |script: &str| run_ok(Command::new("bash").arg("-c").arg(script).current_dir(d));
    sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -subj '/CN=OpenSSL TSA Root' -days 30 \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null");
    sh("openssl req -new -newkey rsa:2048 -nodes -keyout tsa.key -out tsa.csr -subj '/CN=OpenSSL TSA' 2>/dev/null");
    std::fs::write(d.join("tsa.ext"), "extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature,nonRepudiation\n")
        .unwrap();
    sh("openssl x509 -req -in tsa.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out tsa.pem -days 30 -extfile tsa.ext 2>/dev/null");
    for alg in ["sha1", "sha256"] {
        std::fs::write(
            d.join("ts.cnf"),
            format!(
                "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\nserial = ./serial\ncrypto_device = builtin\nsigner_cert = ./tsa.pem\n\
                 certs = ./ca.pem\nsigner_key = ./tsa.key\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\n\
                 digests = sha256, sha512\naccuracy = secs:1\nordering = no\ntsa_name = yes\ness_cert_id_chain = no\n\
                 ess_cert_id_alg = {alg}\n"
            ),
        )
        .unwrap();
        std::fs::write(d.join("serial"), "01\n").unwrap();
        std::fs::write(d.join("data.txt"), "stamped by openssl\n").unwrap();
        sh("openssl ts -query -data data.txt -sha256 -cert -out q.tsq 2>/dev/null");
        sh("openssl ts -reply -config ts.cnf -queryfile q.tsq -out r.tsr 2>/dev/null");
        let (tsr, data, ca) = (p(&d.join("r.tsr")), p(&d.join("data.txt")), p(&d.join("ca.pem")));
        let verify = || ca_anywhere(&["tsp", "verify", &tsr, "--data", &data, "--trust", &ca, "--revocation", "none", "--json"]);
        let out = verify();
        assert!(out.status.success(), "ESS {alg}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let v = json_of(&out);
        assert_eq!(v["policy"], "1.2.3.4.1");
        assert_eq!(v["certificate"]["subject"], "CN=OpenSSL TSA");
        std::fs::write(d.join("data.txt"), "changed\n").unwrap();
        assert_eq!(verify().status.code(), Some(1));
    }
}
