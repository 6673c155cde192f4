//! `relying-party CMS TRUST [RFC3339-TIME]`: verify a signed document (CMS, DER or
//! base64) whose signer chains to the trust anchor TRUST, offline, as of the time
//! given (default: the signing time it states). Exits 0 only when it is valid.
//!
//! Built on the `pki` crate alone: parsing, verification,
//! CMS, XML, OCSP and CRL checking, without the authority's own parts.

use pki::verify::{CertificateInfo, Purpose, RevocationChecker, TrustStore, Verifier};

fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [cms, trust, rest @ ..] = args.as_slice() else {
        return Err("usage: relying-party CMS TRUST [RFC3339-TIME]".into());
    };
    let anchors = pki::pem::certificates(&std::fs::read(trust)?)?;
    let verifier = Verifier::new(TrustStore::new(anchors), RevocationChecker::none());
    let at = match rest.first() {
        Some(t) => Some(pki::calendar::parse_rfc3339_time(t).ok_or("not an RFC 3339 time")?),
        None => None,
    };
    let der = pki::pem::read_der(&std::fs::read(cms)?)?;
    let doc = pki::cms::verify_document(&der, None, &verifier, Purpose::Sign, at)?;
    for signer in &doc.signers {
        let owner = CertificateInfo::of(&signer.signed.certificate).owner;
        match &signer.verdict {
            Ok(_) => println!("valid signature of IIN {}", owner.iin.unwrap_or_default()),
            Err(e) => println!("not valid: {e}"),
        }
    }
    Ok(doc.is_valid())
}

fn main() {
    match run() {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
