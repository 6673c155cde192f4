//! XML signatures (XMLDSig 1.0/1.1) as the country's e-government services use
//! them: enveloped signatures over the whole document (`Reference URI=""`) or an
//! element by Id, canonicalised with inclusive or exclusive C14N, signed in RSA
//! (SHA-256/384/512) or in GOST — 34.310-2004 with 34.311 (`…xmldsig-more#gost34310-gost34311`,
//! `#gost34311`) and 34.10-2015 with Streebog-512
//! (`urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512`,
//! `…:gostr34112015-512`) — the signer's certificate in `KeyInfo/X509Data`.
//!
//! [`check_signatures`] checks each signature's references and value;
//! [`verify_document`] then judges each signer's certificate as a relying party
//! would. [`sign_enveloped`] adds a signature the way the authority's tools do.

use super::c14n::{self, Method};
use super::{Document, Element, XmlError};
use crate::cms::digest;
use crate::oid;
use crate::signing::{Signer, SigningError};
use crate::verify::{self, Checks, PathError, Purpose, SignatureError, Verdict, Verifier};
use base64ct::{Base64, Encoding};
use der::asn1::ObjectIdentifier as Oid;
use der::{DateTime, Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use std::collections::HashMap;
use thiserror::Error;
use x509_cert::Certificate;

/// The XMLDSig namespace.
pub const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
/// The enveloped-signature transform.
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// The exclusive C14N InclusiveNamespaces element's namespace.
const EXC_NS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

/// Signature algorithms: URI, signature OID, the digest it goes with.
const SIGNATURE_METHODS: [(&str, Oid); 5] = [
    ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", oid::SHA256_WITH_RSA),
    ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", oid::SHA384_WITH_RSA),
    ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", oid::SHA512_WITH_RSA),
    ("http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311", oid::GOST_2004_SIGNATURE),
    ("urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512", oid::GOST_2015_512_SIGNATURE),
];

/// Digest algorithms: URI and OID.
const DIGEST_METHODS: [(&str, Oid); 5] = [
    ("http://www.w3.org/2001/04/xmlenc#sha256", oid::SHA256),
    ("http://www.w3.org/2001/04/xmldsig-more#sha384", oid::SHA384),
    ("http://www.w3.org/2001/04/xmlenc#sha512", oid::SHA512),
    ("http://www.w3.org/2001/04/xmldsig-more#gost34311", oid::GOST_34311),
    ("urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34112015-512", oid::STREEBOG_512),
];

/// The most references a document's signatures may hold, all together. The
/// national documents use one or two; each may cost a canonicalisation of the whole
/// document, so without a cap a few kilobytes of references multiply the work.
pub const MAX_REFERENCES: usize = 8;

/// Why an XML signature was not accepted.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DsigError {
    /// The document itself.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// No `ds:Signature` in it.
    #[error("the document has no XML signature")]
    NoSignature,
    /// A required element or attribute is absent.
    #[error("the signature has no {0}")]
    Missing(&'static str),
    /// An algorithm this library does not accept.
    #[error("the algorithm {0} is not supported")]
    UnsupportedAlgorithm(String),
    /// A reference this library cannot resolve (an external URI, an Id not found or found twice).
    #[error("the reference {0:?} cannot be resolved")]
    Reference(String),
    /// More references than [`MAX_REFERENCES`], refused before any is digested.
    #[error("the document's signatures hold at least {0} references; at most {MAX_REFERENCES} are accepted")]
    TooManyReferences(usize),
    /// A referenced part was changed after signing.
    #[error("the digest of the reference {0:?} does not match: the document was changed after signing")]
    DigestMismatch(String),
    /// Base64 that does not decode.
    #[error("{0} is not base64")]
    Base64(&'static str),
    /// The certificate in KeyInfo does not parse.
    #[error("the certificate in KeyInfo is not a certificate: {0}")]
    Certificate(String),
    /// The signature value does not verify with the certificate's key.
    #[error("the signature value: {0}")]
    Signature(SignatureError),
    /// Signing failed.
    #[error(transparent)]
    Signing(#[from] SigningError),
}

impl DsigError {
    /// A stable snake_case code for programs.
    pub fn code(&self) -> &'static str {
        match self {
            DsigError::Xml(_) => "xml_malformed",
            DsigError::NoSignature => "no_signature",
            DsigError::Missing(_) => "signature_malformed",
            DsigError::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            DsigError::Reference(_) => "bad_reference",
            DsigError::TooManyReferences(_) => "too_many_references",
            DsigError::DigestMismatch(_) => "content_changed",
            DsigError::Base64(_) => "signature_malformed",
            DsigError::Certificate(_) => "bad_certificate",
            DsigError::Signature(_) => "bad_signature",
            DsigError::Signing(_) => "signing",
        }
    }
}

/// One signature whose references and value verified.
#[derive(Clone, Debug)]
pub struct XmlSigned {
    /// The signer's certificate (the first in KeyInfo).
    pub certificate: Certificate,
    /// The other certificates KeyInfo carries.
    pub others: Vec<Certificate>,
    /// The signature algorithm's URI.
    pub signature_method: String,
    /// The references' URIs (`""`: the whole document).
    pub references: Vec<String>,
}

fn algorithm_of<'a>(e: &'a Element, what: &'static str) -> Result<&'a str, DsigError> {
    e.attribute("Algorithm").ok_or(DsigError::Missing(what))
}

fn base64_of(text: &str, what: &'static str) -> Result<Vec<u8>, DsigError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    Base64::decode_vec(&compact).map_err(|_| DsigError::Base64(what))
}

fn method_of(e: &Element) -> Result<Method, DsigError> {
    let uri = algorithm_of(e, "Algorithm")?;
    let prefixes = e.child(EXC_NS, "InclusiveNamespaces").and_then(|i| i.attribute("PrefixList"));
    Method::from_uri(uri, prefixes).ok_or_else(|| DsigError::UnsupportedAlgorithm(uri.to_string()))
}

/// The OID a URI names in `table`.
fn lookup(table: &[(&str, Oid)], uri: &str) -> Result<Oid, DsigError> {
    table.iter().find(|(u, _)| *u == uri).map(|(_, o)| *o).ok_or_else(|| DsigError::UnsupportedAlgorithm(uri.to_string()))
}

/// The URI of an OID in `table`.
fn uri_of(table: &[(&'static str, Oid)], oid: Oid) -> Result<&'static str, DsigError> {
    table.iter().find(|(_, o)| *o == oid).map(|(u, _)| *u).ok_or_else(|| DsigError::UnsupportedAlgorithm(oid.to_string()))
}

/// The canonical octets a reference covers.
fn referenced(doc: &Document, signature: &Element, reference: &Element) -> Result<Vec<u8>, DsigError> {
    let uri = reference.attribute("URI").ok_or(DsigError::Missing("Reference URI"))?;
    let mut enveloped = false;
    let mut method = Method::Inclusive { comments: false };
    if let Some(transforms) = reference.child(DSIG, "Transforms") {
        for t in transforms.elements().filter(|t| t.name.is(DSIG, "Transform")) {
            match algorithm_of(t, "Transform Algorithm")? {
                ENVELOPED => enveloped = true,
                _ => method = method_of(t)?,
            }
        }
    }
    let exclude = enveloped.then_some(signature);
    // A same-document reference leaves comments out, whatever the method (XMLDSig §4.3.3.3).
    if uri.is_empty() {
        return Ok(c14n::document(doc, &method, exclude, false));
    }
    let id = uri.strip_prefix('#').filter(|id| !id.is_empty()).ok_or_else(|| DsigError::Reference(uri.to_string()))?;
    let (found, count) = doc.find_at_most(&|e| ["Id", "ID", "id"].iter().any(|a| e.attribute(a) == Some(id)), 1);
    // An Id found twice is how signature-wrapping attacks start: refuse.
    match (found.as_slice(), count) {
        ([(element, ancestors)], 1) => Ok(c14n::subtree(element, ancestors, &method, exclude, false)),
        _ => Err(DsigError::Reference(uri.to_string())),
    }
}

/// The references of a `ds:SignedInfo`.
fn references_of(signed_info: &Element) -> impl Iterator<Item = &Element> {
    signed_info.elements().filter(|e| e.name.is(DSIG, "Reference"))
}

/// What one reference's digest was computed over, so that a reference repeated
/// with the same transforms and digest is computed once.
#[derive(Clone, PartialEq, Eq, Hash)]
struct DigestKey {
    uri: String,
    transforms: Vec<String>,
    prefix_lists: Vec<String>,
    digest: Oid,
}

impl DigestKey {
    fn of(reference: &Element, digest: Oid) -> Self {
        let transforms: Vec<&Element> = reference
            .child(DSIG, "Transforms")
            .map(|t| t.elements().filter(|t| t.name.is(DSIG, "Transform")).collect())
            .unwrap_or_default();
        DigestKey {
            uri: reference.attribute("URI").unwrap_or_default().to_string(),
            transforms: transforms.iter().map(|t| t.attribute("Algorithm").unwrap_or_default().to_string()).collect(),
            prefix_lists: transforms
                .iter()
                .map(|t| t.child(EXC_NS, "InclusiveNamespaces").and_then(|i| i.attribute("PrefixList")).unwrap_or_default().to_string())
                .collect(),
            digest,
        }
    }
}

/// Check one `ds:Signature`: first its value over the canonical SignedInfo with
/// the key of the certificate in KeyInfo (sound: a SignedInfo that does not verify
/// is refused whatever its references hold, and so no digest is computed for a
/// signature nobody made), then every reference's digest.
fn check_one(doc: &Document, signature: &Element, ancestors: &[&Element]) -> Result<XmlSigned, DsigError> {
    let signed_info = signature.child(DSIG, "SignedInfo").ok_or(DsigError::Missing("SignedInfo"))?;
    let c14n_method = method_of(signed_info.child(DSIG, "CanonicalizationMethod").ok_or(DsigError::Missing("CanonicalizationMethod"))?)?;
    let signature_method =
        algorithm_of(signed_info.child(DSIG, "SignatureMethod").ok_or(DsigError::Missing("SignatureMethod"))?, "SignatureMethod")?;
    let signature_oid = lookup(&SIGNATURE_METHODS, signature_method)?;
    if references_of(signed_info).next().is_none() {
        return Err(DsigError::Missing("Reference"));
    }
    let mut certificates = Vec::new();
    let x509 = signature.child(DSIG, "KeyInfo").and_then(|k| k.child(DSIG, "X509Data")).ok_or(DsigError::Missing("KeyInfo/X509Data"))?;
    for c in x509.elements().filter(|e| e.name.is(DSIG, "X509Certificate")) {
        let der = base64_of(&c.text(), "X509Certificate")?;
        certificates.push(Certificate::from_der(&der).map_err(|e| DsigError::Certificate(e.to_string()))?);
    }
    if certificates.is_empty() {
        return Err(DsigError::Missing("X509Certificate"));
    }
    let certificate = certificates.remove(0);
    let value = base64_of(&signature.child(DSIG, "SignatureValue").ok_or(DsigError::Missing("SignatureValue"))?.text(), "SignatureValue")?;
    let mut si_ancestors = ancestors.to_vec();
    si_ancestors.push(signature);
    let canonical = c14n::subtree(signed_info, &si_ancestors, &c14n_method, None, true);
    let alg = AlgorithmIdentifierOwned { oid: signature_oid, parameters: None };
    // GOST values are r ‖ s little-endian, as in the authority's certificates (proven
    // on its real GOST 34.310 XML signature).
    verify::verify_signature(&certificate.tbs_certificate.subject_public_key_info, &alg, &canonical, &value)
        .map_err(DsigError::Signature)?;
    let mut references = Vec::new();
    let mut digested: HashMap<DigestKey, Vec<u8>> = HashMap::new();
    for reference in references_of(signed_info) {
        let uri = reference.attribute("URI").unwrap_or_default().to_string();
        let digest_method = algorithm_of(reference.child(DSIG, "DigestMethod").ok_or(DsigError::Missing("DigestMethod"))?, "DigestMethod")?;
        let digest_oid = lookup(&DIGEST_METHODS, digest_method)?;
        let expected = base64_of(&reference.child(DSIG, "DigestValue").ok_or(DsigError::Missing("DigestValue"))?.text(), "DigestValue")?;
        let key = DigestKey::of(reference, digest_oid);
        let actual = match digested.get(&key) {
            Some(d) => d.clone(),
            None => {
                let octets = referenced(doc, signature, reference)?;
                let d = digest(digest_oid, &octets).ok_or_else(|| DsigError::UnsupportedAlgorithm(digest_method.to_string()))?;
                digested.insert(key, d.clone());
                d
            }
        };
        if actual != expected {
            return Err(DsigError::DigestMismatch(uri));
        }
        references.push(uri);
    }
    Ok(XmlSigned { certificate, others: certificates, signature_method: signature_method.to_string(), references })
}

/// Check every XML signature in `xml`: references and values (the first that
/// fails is the error). More than [`MAX_REFERENCES`] references in all are refused
/// before any signature is checked, so the work is bounded by the document's size.
pub fn check_signatures(xml: &[u8]) -> Result<(Document, Vec<XmlSigned>), DsigError> {
    let doc = Document::parse(xml)?;
    // Each signature holds at least one reference: more signatures than the cap are refused as they are counted.
    let (signatures, count) = doc.find_at_most(&|e| e.name.is(DSIG, "Signature"), MAX_REFERENCES);
    if count == 0 {
        return Err(DsigError::NoSignature);
    }
    let references: usize = signatures.iter().filter_map(|(s, _)| s.child(DSIG, "SignedInfo")).map(|si| references_of(si).count()).sum();
    if count.max(references) > MAX_REFERENCES {
        return Err(DsigError::TooManyReferences(count.max(references)));
    }
    let checked = signatures.iter().map(|(s, ancestors)| check_one(&doc, s, ancestors)).collect::<Result<Vec<_>, _>>()?;
    Ok((doc, checked))
}

/// One signer's verdict.
#[derive(Debug)]
pub struct XmlSignerVerdict {
    /// The signature as checked.
    pub signed: XmlSigned,
    /// What the certificate was checked for, and when.
    pub checks: Checks,
    /// The certificate's verdict.
    pub verdict: Result<Verdict, PathError>,
}

/// Verify a signed XML document as a relying party: every signature's references
/// and value (a failure there is the error), then each signer's certificate for
/// `purpose` at `at` (a time the caller vouches for; else now: XML signatures
/// state no signing time).
pub fn verify_document(
    xml: &[u8],
    verifier: &Verifier,
    purpose: Purpose,
    at: Option<DateTime>,
) -> Result<Vec<XmlSignerVerdict>, DsigError> {
    let (_, signed) = check_signatures(xml)?;
    let checks = Checks::at_or_now(purpose, at);
    Ok(signed
        .into_iter()
        .map(|s| {
            let verdict = verifier.verify(&s.certificate, &s.others, &checks);
            XmlSignerVerdict { signed: s, checks, verdict }
        })
        .collect())
}

/// Base64 in lines of 76, as the authority's signatures are written.
fn wrapped(bytes: &[u8]) -> String {
    let b64 = Base64::encode_string(bytes);
    b64.as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("\n")
}

const PLACEHOLDER: &str = "SIGNATURE-VALUE-TO-COME";

/// Add an enveloped signature over the whole document `xml` as the last child of
/// its document element: inclusive C14N for SignedInfo, the enveloped-signature and
/// C14N-with-comments transforms, SHA-256 with RSA or Streebog-512 with GOST
/// 34.10-2015, and `cert` (then `chain`) in KeyInfo. The result is checked before
/// it is returned.
pub fn sign_enveloped(xml: &[u8], signer: &dyn Signer, cert: &Certificate, chain: &[Certificate]) -> Result<Vec<u8>, DsigError> {
    let doc = Document::parse(xml)?;
    let algorithm = signer.algorithm();
    let signature_uri = uri_of(&SIGNATURE_METHODS, algorithm.oid)?;
    let digest_oid = match crate::gost::Algorithm::of_signature(algorithm.oid) {
        Some(crate::gost::Algorithm::Gost2015) => oid::STREEBOG_512,
        Some(crate::gost::Algorithm::Gost2004) => oid::GOST_34311,
        None => oid::SHA256,
    };
    let digest_uri = uri_of(&DIGEST_METHODS, digest_oid)?;
    // The node-set the reference covers is the document as it is now: the signature
    // is removed by the enveloped transform, and comments by the empty URI.
    let digest_value = digest(digest_oid, &c14n::document(&doc, &Method::Inclusive { comments: true }, None, false))
        .ok_or_else(|| DsigError::UnsupportedAlgorithm(digest_uri.to_string()))?;
    let mut certs = String::new();
    for c in std::iter::once(cert).chain(chain) {
        let der = c.to_der().map_err(|e| DsigError::Certificate(e.to_string()))?;
        certs.push_str(&format!("<ds:X509Certificate>\n{}\n</ds:X509Certificate>\n", wrapped(&der)));
    }
    let signature = format!(
        "<ds:Signature xmlns:ds=\"{DSIG}\">\n<ds:SignedInfo>\n<ds:CanonicalizationMethod Algorithm=\"{}\"/>\n\
         <ds:SignatureMethod Algorithm=\"{signature_uri}\"/>\n<ds:Reference URI=\"\">\n<ds:Transforms>\n\
         <ds:Transform Algorithm=\"{ENVELOPED}\"/>\n<ds:Transform Algorithm=\"{}\"/>\n</ds:Transforms>\n\
         <ds:DigestMethod Algorithm=\"{digest_uri}\"/>\n<ds:DigestValue>{}</ds:DigestValue>\n</ds:Reference>\n\
         </ds:SignedInfo>\n<ds:SignatureValue>\n{PLACEHOLDER}\n</ds:SignatureValue>\n<ds:KeyInfo>\n<ds:X509Data>\n{certs}</ds:X509Data>\n</ds:KeyInfo>\n</ds:Signature>",
        c14n::C14N,
        c14n::C14N_WITH_COMMENTS,
        Base64::encode_string(&digest_value),
    );
    let text = std::str::from_utf8(xml).map_err(|e| XmlError::Malformed(e.to_string()))?;
    let at = doc.root_end_offset;
    let placed = if doc.root_was_empty {
        format!("{}>{signature}</{}>{}", &text[..at], doc.root.name.qualified(), &text[at + 2..])
    } else {
        format!("{}{signature}{}", &text[..at], &text[at..])
    };
    // Sign SignedInfo as it reads inside the document (inclusive C14N carries the
    // document element's namespaces into it).
    let placed_doc = Document::parse(placed.as_bytes())?;
    let signatures = placed_doc.find_all(&|e| e.name.is(DSIG, "Signature"));
    let (ours, ancestors) = signatures.last().ok_or(DsigError::NoSignature)?;
    let signed_info = ours.child(DSIG, "SignedInfo").ok_or(DsigError::Missing("SignedInfo"))?;
    let mut si_ancestors = ancestors.clone();
    si_ancestors.push(ours);
    let canonical = c14n::subtree(signed_info, &si_ancestors, &Method::Inclusive { comments: false }, None, false);
    let value = signer.sign(&canonical)?;
    let out = placed.replacen(PLACEHOLDER, &wrapped(&value), 1).into_bytes();
    check_signatures(&out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/nca-test/");

    fn real(name: &str) -> Vec<u8> {
        std::fs::read(format!("{DATA}{name}.xml")).unwrap()
    }

    const REAL: [&str; 4] = [
        "RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9",
        "AUTH_RSA256_b2c70a9ff7a5dc59de0ccc3c0ddde3437cc1f12d",
        "AUTH_RSA256_d682726b55b3e62600ea8fe1c74e75fc96f47790",
        "GOSTKNCA_13a3741b52d7bf860aab199b56fad1f4652e357b",
    ];

    #[test]
    fn the_authoritys_xml_signatures_verify_and_a_changed_byte_does_not() {
        for name in REAL {
            let xml = real(name);
            let (_, signed) = check_signatures(&xml).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(signed.len(), 1);
            let cert = crate::pem::read_der(&std::fs::read(format!("{DATA}{name}.cer")).unwrap()).unwrap();
            assert_eq!(signed[0].certificate, Certificate::from_der(&cert).unwrap());
            assert_eq!(signed[0].references, vec![String::new()]);
            // The signed content: NCANode -> NCANodf.
            let text = String::from_utf8(xml.clone()).unwrap();
            let changed = text.replacen("NCANode", "NCANodf", 1);
            assert!(matches!(check_signatures(changed.as_bytes()), Err(DsigError::DigestMismatch(u)) if u.is_empty()), "{name}");
            // SignedInfo: the digest value's first character. Its signature fails
            // first: no digest is computed under a SignedInfo nobody signed.
            let dv = text.find("<ds:DigestValue>").unwrap() + "<ds:DigestValue>".len();
            let mut changed = xml.clone();
            changed[dv] = if changed[dv] == b'A' { b'B' } else { b'A' };
            assert!(matches!(check_signatures(&changed), Err(DsigError::Signature(_))), "{name}");
            // A comment added inside the document is not part of what a URI="" reference covers.
            let commented = text.replacen("<name>", "<!-- note --><name>", 1);
            assert!(check_signatures(commented.as_bytes()).is_ok(), "{name}");
        }
    }

    #[test]
    fn a_changed_signature_value_or_signed_info_fails_as_a_signature() {
        let text = String::from_utf8(real(REAL[0])).unwrap();
        let changed = text.replacen("#rsa-sha256\"/>", "#rsa-sha256\" />", 1);
        // Same canonical form: still valid.
        assert!(check_signatures(changed.as_bytes()).is_ok());
        let changed = text.replacen("<ds:SignatureValue>\nN", "<ds:SignatureValue>\nM", 1);
        assert!(matches!(check_signatures(changed.as_bytes()), Err(DsigError::Signature(_))));
        let changed = text.replacen("<ds:Reference URI=\"\">", "<ds:Reference URI=\"\" Id=\"r\">", 1);
        assert!(matches!(check_signatures(changed.as_bytes()), Err(DsigError::Signature(_))));
    }

    #[test]
    fn our_signatures_round_trip_in_rsa_and_gost_and_keep_the_document() {
        let (signer, cert) = crate::testing::self_signed("XML TEST");
        let gost = crate::gost::GostSigner::generate();
        let mut gost_cert = cert.clone();
        gost_cert.tbs_certificate.subject_public_key_info = gost.public_key().clone();
        let inputs: [&[u8]; 3] = [
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<doc xmlns=\"urn:gov\" xmlns:x=\"urn:x\"><x:a n=\"1\">\xd0\xa2\xd0\xb5\xd1\x81\xd1\x82 &amp; co</x:a><!-- c -->\n</doc>\n",
            b"<root/>",
            b"<r>\n  <data Id=\"d\">text</data>\n</r>",
        ];
        for input in inputs {
            for (s, c) in [(&signer as &dyn Signer, &cert), (&gost, &gost_cert)] {
                let out = sign_enveloped(input, s, c, &[]).unwrap();
                let (doc, signed) = check_signatures(&out).unwrap();
                assert_eq!(signed[0].certificate, *c);
                // Less the signature, the document is what it was.
                let original = Document::parse(input).unwrap();
                let (sig, _) = doc.find(&|e| e.name.is(DSIG, "Signature")).unwrap();
                let m = Method::Inclusive { comments: true };
                assert_eq!(c14n::document(&doc, &m, Some(sig), true), c14n::document(&original, &m, None, true));
                let tampered = String::from_utf8(out).unwrap().replacen("<ds:Signature", "<added/><ds:Signature", 1);
                assert!(matches!(check_signatures(tampered.as_bytes()), Err(DsigError::DigestMismatch(_))));
            }
        }
    }

    #[test]
    fn a_pinned_signer_verifies_as_its_own_anchor() {
        use crate::verify::{Problem, RevocationChecker, TrustStore, Verifier};
        let (signer, cert) = crate::testing::self_signed("PINNED");
        let out = sign_enveloped(b"<r>pinned</r>", &signer, &cert, &[]).unwrap();
        let pinned = Verifier::new(TrustStore::new(vec![cert.clone()]), RevocationChecker::none());
        let verdicts = verify_document(&out, &pinned, Purpose::Sign, None).unwrap();
        let path = verdicts[0].verdict.as_ref().expect("the pinned signer is valid").path.clone();
        assert_eq!(path.certificates(), std::slice::from_ref(&cert));
        assert_eq!(path.anchor(), path.end());
        // Its own use is still checked: a SIGN key is no login.
        let login = verify_document(&out, &pinned, Purpose::Auth, None).unwrap();
        let refused = &login[0].verdict.as_ref().unwrap_err().problem;
        assert!(matches!(refused, Problem::KeyUsage { .. } | Problem::ExtendedKeyUsage { .. }), "{refused}");
        // Not pinned, it is nobody.
        let (_, other) = crate::testing::self_signed("OTHER");
        let stranger = Verifier::new(TrustStore::new(vec![other]), RevocationChecker::none());
        let verdicts = verify_document(&out, &stranger, Purpose::Sign, None).unwrap();
        assert_eq!(verdicts[0].verdict.as_ref().unwrap_err().problem, Problem::UnknownIssuer);
    }

    #[test]
    fn references_that_could_wrap_or_reach_out_are_refused() {
        let (signer, cert) = crate::testing::self_signed("XML TEST");
        let out = String::from_utf8(sign_enveloped(b"<r><a Id=\"x\"/></r>", &signer, &cert, &[]).unwrap()).unwrap();
        // Each SignedInfo changed is signed again, as its author could.
        let external = resign(&out.replacen("URI=\"\"", "URI=\"http://example.kz/doc.xml\"", 1), &signer);
        assert!(matches!(check_signatures(external.as_bytes()), Err(DsigError::Reference(_))));
        let by_id = resign(&out.replacen("URI=\"\"", "URI=\"#x\"", 1), &signer).replacen("<r>", "<r><a Id=\"x\"/>", 1);
        assert!(matches!(check_signatures(by_id.as_bytes()), Err(DsigError::Reference(_))));
        let unknown = resign(&out.replacen(c14n::C14N_WITH_COMMENTS, "http://www.w3.org/TR/1999/REC-xslt-19991116", 1), &signer);
        assert!(matches!(check_signatures(unknown.as_bytes()), Err(DsigError::UnsupportedAlgorithm(_))));
        // Unsigned, the same changes fail as signatures.
        let unsigned = out.replacen("URI=\"\"", "URI=\"http://example.kz/doc.xml\"", 1);
        assert!(matches!(check_signatures(unsigned.as_bytes()), Err(DsigError::Signature(_))));
        assert!(matches!(check_signatures(b"<r/>"), Err(DsigError::NoSignature)));
        for len in (0..out.len()).step_by(7) {
            let _ = check_signatures(&out.as_bytes()[..len]);
        }
    }

    /// A document of about `bytes` bytes: many small elements with text.
    fn big_document(bytes: usize) -> Vec<u8> {
        let mut s = String::from("<doc xmlns=\"urn:gov\">");
        let mut i = 0;
        while s.len() < bytes {
            s.push_str(&format!("<item n=\"{i}\">Мәтін {i}</item>\n"));
            i += 1;
        }
        s.push_str("</doc>");
        s.into_bytes()
    }

    /// The best of three runs of `f`, in seconds: the machine is shared.
    fn seconds(f: impl Fn()) -> f64 {
        (0..3)
            .map(|_| {
                let t = std::time::Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
    }

    /// `text` with its one signature's value made anew over its SignedInfo, as an
    /// attacker with any key of their own can do.
    fn resign(text: &str, signer: &dyn Signer) -> String {
        let doc = Document::parse(text.as_bytes()).unwrap();
        let (sig, ancestors) = doc.find(&|e| e.name.is(DSIG, "Signature")).unwrap();
        let mut si_ancestors = ancestors.clone();
        si_ancestors.push(sig);
        let signed_info = sig.child(DSIG, "SignedInfo").unwrap();
        let canonical = c14n::subtree(signed_info, &si_ancestors, &Method::Inclusive { comments: false }, None, false);
        let old = sig.child(DSIG, "SignatureValue").unwrap().text();
        text.replacen(&old, &format!("\n{}\n", wrapped(&signer.sign(&canonical).unwrap())), 1)
    }

    #[test]
    fn many_references_cost_no_more_than_a_few_plain_verifications() {
        let (signer, cert) = crate::testing::self_signed("REFS");
        let plain = sign_enveloped(&big_document(2_000_000), &signer, &cert, &[]).unwrap();
        let text = String::from_utf8(plain.clone()).unwrap();
        let start = text.find("<ds:Reference").unwrap();
        let reference = &text[start..text.find("</ds:Reference>").unwrap() + "</ds:Reference>".len()];
        // A thousand copies of the whole-document reference: refused before any digest.
        let amplified = text.replacen(reference, &reference.repeat(1_000), 1);
        // As many as the cap, and the SignedInfo signed again by the attacker's own
        // key: it verifies, and the repeated reference is digested once.
        let at_cap = resign(&text.replacen(reference, &reference.repeat(MAX_REFERENCES), 1), &signer);
        // Without a valid signature over SignedInfo no reference is digested at all.
        let unsigned = text.replacen(reference, &reference.repeat(MAX_REFERENCES), 1);
        let base = seconds(|| {
            check_signatures(&plain).unwrap();
        });
        let refused = seconds(|| assert!(matches!(check_signatures(amplified.as_bytes()), Err(DsigError::TooManyReferences(1_000)))));
        let capped = seconds(|| {
            let (_, signed) = check_signatures(at_cap.as_bytes()).unwrap();
            assert_eq!(signed[0].references.len(), MAX_REFERENCES);
        });
        let forged = seconds(|| assert!(matches!(check_signatures(unsigned.as_bytes()), Err(DsigError::Signature(_)))));
        for (what, t) in [("1,000 references", refused), ("the cap, re-signed", capped), ("the cap, unsigned", forged)] {
            assert!(t < 3.0 * base, "{what}: {t:.3} s against {base:.3} s for a plain verification of the same size");
        }
        // Across signatures too: nine signatures of one reference each are refused.
        let nine = text.replacen(
            "</doc>",
            &format!("{}</doc>", &text[text.find("<ds:Signature").unwrap()..text.find("</ds:Signature>").unwrap() + 15].repeat(8)),
            1,
        );
        assert!(matches!(check_signatures(nine.as_bytes()), Err(DsigError::TooManyReferences(9))));
    }

    #[test]
    fn many_attributes_or_namespaces_cost_what_their_bytes_do() {
        let (signer, cert) = crate::testing::self_signed("ATTRS");
        // One element with 100,000 attributes (1.09 MB), and no signature.
        let attributes: String = (0..100_000).map(|i| format!(" a{i}=\"v\"")).collect();
        let one_element = format!("<r{attributes}/>");
        // 20,000 namespace declarations in scope of 20,000 elements, signed.
        let declarations: String = (0..20_000).map(|i| format!(" xmlns:p{i}=\"urn:{i}\"")).collect();
        let children: String = (0..20_000).map(|i| format!("<p{i}:c/>")).collect();
        let namespaces = sign_enveloped(format!("<r{declarations}>{children}</r>").as_bytes(), &signer, &cert, &[]).unwrap();
        for (what, hostile, expect_signed) in [("attributes", one_element.into_bytes(), false), ("namespaces", namespaces, true)] {
            let plain = sign_enveloped(&big_document(hostile.len()), &signer, &cert, &[]).unwrap();
            let base = seconds(|| {
                check_signatures(&plain).unwrap();
            });
            let t = seconds(|| match check_signatures(&hostile) {
                Ok(_) => assert!(expect_signed, "{what}"),
                Err(e) => assert!(!expect_signed && matches!(e, DsigError::NoSignature), "{what}: {e}"),
            });
            assert!(t < 10.0 * base, "{what}: {t:.3} s against {base:.3} s for a plain verification of the same size");
        }
    }
}
