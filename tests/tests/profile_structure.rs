//! Acceptance: certificates issued by us and the authority's real ones have the same
//! structure, field by field — extensions in order with their criticality, key usage
//! bits, EKU and policy OIDs, policy qualifier kinds, AIA methods, subject attribute
//! order and ASN.1 string types. Keys, serials, dates and URLs may differ, and our
//! EKU carries the identification-method OID that these older certificates lack.

use der::asn1::ObjectIdentifier as Oid;
use der::{Decode, DecodePem, Tag, Tagged};
use e2e::{fresh_authority, issue, reference, Scratch};
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, BasicConstraints, CertificatePolicies, ExtendedKeyUsage};
use x509_cert::Certificate;

const IDENTIFICATION: [&str; 2] = ["1.2.398.3.3.4.3.1", "1.2.398.3.3.4.3.2"];

/// Everything about a certificate that the profile fixes.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    version: String,
    subject: Vec<(Oid, Tag)>,
    issuer: Vec<(Oid, Tag)>,
    extensions: Vec<(Oid, bool)>,
    key_usage: Vec<u8>,
    basic_constraints: Option<(bool, Option<u8>)>,
    eku: Vec<String>,
    policies: Vec<(String, Vec<(String, Tag)>)>,
    aia: Vec<String>,
    serial_len: usize,
}

fn load(path: &std::path::Path) -> Certificate {
    let bytes = std::fs::read(path).unwrap();
    Certificate::from_pem(&bytes).or_else(|_| Certificate::from_der(&bytes)).unwrap()
}

fn attrs(name: &x509_cert::name::Name) -> Vec<(Oid, Tag)> {
    name.0.iter().flat_map(|r| r.0.iter()).map(|a| (a.oid, a.value.tag())).collect()
}

fn ext<'a, T: Decode<'a>>(c: &'a Certificate, oid: &str) -> Option<T> {
    let oid = Oid::new_unwrap(oid);
    let e = c.tbs_certificate.extensions.as_ref()?.iter().find(|e| e.extn_id == oid)?;
    Some(T::from_der(e.extn_value.as_bytes()).expect("extension decodes"))
}

fn shape(c: &Certificate) -> Shape {
    let exts = c.tbs_certificate.extensions.clone().unwrap_or_default();
    let ku = exts.iter().find(|e| e.extn_id == Oid::new_unwrap("2.5.29.15")).map(|e| e.extn_value.as_bytes().to_vec());
    let eku: Option<ExtendedKeyUsage> = ext(c, "2.5.29.37");
    let policies: Option<CertificatePolicies> = ext(c, "2.5.29.32");
    let aia: Option<AuthorityInfoAccessSyntax> = ext(c, "1.3.6.1.5.5.7.1.1");
    let bc: Option<BasicConstraints> = ext(c, "2.5.29.19");
    Shape {
        version: format!("{:?}", c.tbs_certificate.version),
        subject: attrs(&c.tbs_certificate.subject),
        issuer: attrs(&c.tbs_certificate.issuer),
        extensions: exts.iter().map(|e| (e.extn_id, e.critical)).collect(),
        key_usage: ku.unwrap_or_default(),
        basic_constraints: bc.map(|b| (b.ca, b.path_len_constraint)),
        eku: eku.map(|e| e.0.iter().map(|o| o.to_string()).filter(|o| !IDENTIFICATION.contains(&o.as_str())).collect()).unwrap_or_default(),
        policies: policies
            .map(|p| {
                p.0.iter()
                    .map(|i| {
                        let q = i.policy_qualifiers.clone().unwrap_or_default();
                        (
                            i.policy_identifier.to_string(),
                            q.iter()
                                .map(|q| (q.policy_qualifier_id.to_string(), q.qualifier.as_ref().map(|a| a.tag()).unwrap_or(Tag::Null)))
                                .collect(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        aia: aia.map(|a| a.0.iter().map(|d| d.access_method.to_string()).collect()).unwrap_or_default(),
        serial_len: c.tbs_certificate.serial_number.as_bytes().len(),
    }
}

fn issued(who: &e2e::Person, tag: &str) -> (Certificate, Certificate, Scratch) {
    let ca = fresh_authority();
    let v = issue(&ca.join("data"), ca.path(), who, tag);
    let files = v["files"].as_array().unwrap();
    let auth = load(std::path::Path::new(files[0].as_str().unwrap()));
    let sign = load(std::path::Path::new(files[1].as_str().unwrap()));
    (auth, sign, ca)
}

#[test]
fn individual_pair_matches_the_authority() {
    let (auth, sign, _ca) = issued(&e2e::individual(), "ind");
    assert_eq!(shape(&auth), shape(&load(&reference("individual_auth_rsa.pem"))));
    assert_eq!(shape(&sign), shape(&load(&reference("individual_sign_rsa.pem"))));
    // The identification method is present in ours (in person by default).
    let eku: ExtendedKeyUsage = ext(&sign, "2.5.29.37").unwrap();
    assert!(eku.0.contains(&Oid::new_unwrap("1.2.398.3.3.4.3.1")));
    // Same key algorithm and signature algorithm as the real RSA certificates.
    let real = load(&reference("individual_sign_rsa.pem"));
    assert_eq!(sign.signature_algorithm, real.signature_algorithm);
    assert_eq!(sign.tbs_certificate.subject_public_key_info.algorithm, real.tbs_certificate.subject_public_key_info.algorithm);
}

#[test]
fn legal_entity_ceo_matches_the_authority() {
    let (_auth, sign, _ca) = issued(&e2e::ceo(), "ceo");
    let real = load(&reference("ceo_sign_gost2004.pem"));
    assert_eq!(shape(&sign), shape(&real));
}

#[test]
fn issuing_ca_matches_the_authority() {
    let ca = fresh_authority();
    let ours = load(&ca.join("data/issuing.pem"));
    let real = load(&reference("nca_rsa_test.pem"));
    let (o, r) = (shape(&ours), shape(&real));
    assert_eq!(o.extensions, r.extensions);
    assert_eq!(o.key_usage, r.key_usage);
    assert_eq!(o.basic_constraints, r.basic_constraints);
    assert_eq!(o.policies, r.policies);
    assert_eq!(o.aia, r.aia);
    assert_eq!(o.subject, r.subject);
    assert_eq!(ours.tbs_certificate.subject_public_key_info.algorithm, real.tbs_certificate.subject_public_key_info.algorithm);
}

#[test]
fn validity_is_one_calendar_year_and_serials_twenty_bytes() {
    let (auth, sign, _ca) = issued(&e2e::individual(), "val");
    for c in [&auth, &sign] {
        let v = &c.tbs_certificate.validity;
        let (b, a) = (v.not_before.to_date_time(), v.not_after.to_date_time());
        assert_eq!((a.year(), a.hour(), a.minutes(), a.seconds()), (b.year() + 1, b.hour(), b.minutes(), b.seconds()));
        let same_day = (a.month(), a.day()) == (b.month(), b.day());
        let leap_day = (b.month(), b.day(), a.month(), a.day()) == (2, 29, 2, 28);
        assert!(same_day || leap_day, "{b:?} -> {a:?}");
        assert_eq!(c.tbs_certificate.serial_number.as_bytes().len(), 20);
        assert!(c.tbs_certificate.serial_number.as_bytes()[0] < 0x80);
    }
    assert_ne!(auth.tbs_certificate.serial_number, sign.tbs_certificate.serial_number);
    assert_ne!(auth.tbs_certificate.subject_public_key_info, sign.tbs_certificate.subject_public_key_info);
}
