//! The authority through its library interface: init, unlock, issue, record.

use ca_core::audit::Actor;
use ca_core::authority::{self, Authority, AuthorityError, InitOptions};
use ca_core::calendar::{self, Date};
use ca_core::issuer::IssueError;
use ca_core::model::{IdentificationMethod, Serial};
use ca_core::profile::{Applicant, PersonName};
use ca_core::signing::{Passphrase, SigningError};
use ca_core::store::{CertificateStore, Status};
use ca_core::verify::{self, KeyType};
use der::DateTime;
use fixtures::ApplicantKey;
use std::path::PathBuf;

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pass() -> Passphrase {
    Passphrase::new("library test passphrase".into()).unwrap()
}

fn applicant(today: Date) -> Applicant {
    let p = PersonName::new("Иванова", "Айгерим", None).unwrap();
    Applicant::new("880515300120", p, None, None, IdentificationMethod::Remote, today).unwrap()
}

#[test]
fn init_issue_and_refusals() {
    let dir = Dir(std::env::temp_dir().join(format!("ca-core-authority-{}", std::process::id())));
    let data = dir.0.join("ca-data");
    let now = DateTime::new(2028, 2, 29, 12, 0, 0).unwrap();
    let made = authority::init(&data, &InitOptions::default(), &pass(), now).unwrap();
    let certs = &made.rsa;
    verify::verify_issued_by(&certs.root, &certs.root).unwrap();
    verify::verify_issued_by(&certs.issuing, &certs.root).unwrap();
    verify::verify_issued_by(&certs.ocsp, &certs.issuing).unwrap();
    assert!(!data.join("passphrase").exists(), "a given passphrase is never written down");
    assert!(!std::fs::read_dir(&dir.0).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().contains(".init-")), "no staging left");

    let ca = Authority::open(&data).unwrap();
    let mut db = ca.store().unwrap();
    let (a, s) = (ApplicantKey::generate(2048), ApplicantKey::generate(2048));
    let who = applicant(Date::of(&now));
    // Without the passphrase there is no issuer at all: a locked authority cannot be asked to issue.
    let wrong = Passphrase::new("not the passphrase at all".into()).unwrap();
    assert!(matches!(ca.issuing_signer(&wrong), Err(AuthorityError::Signing(SigningError::Decrypt))));
    let issuer = ca.issuer(ca.issuing_signer(&pass()).unwrap()).unwrap();
    // A key that is not the issuing CA's is refused.
    let stranger = ca.signer(authority::CaRole::Ocsp, &pass()).unwrap();
    let keys = authority::IssuingKeys { rsa: std::sync::Arc::new(stranger), gost: None };
    assert!(matches!(ca.issuer(keys), Err(AuthorityError::Issue(IssueError::KeyMismatch))));

    let pair = issuer.issue_pair(&mut db, &who, &a.csr_der("a"), &s.csr_der("s"), now, Actor::System).unwrap();
    for (cert, key_type) in [(&pair.auth, KeyType::Auth), (&pair.sign, KeyType::Sign)] {
        verify::verify_issued_by(cert, &certs.issuing).unwrap();
        let info = verify::CertificateInfo::of(cert);
        assert_eq!(info.key_type, key_type);
        assert_eq!(info.identification, Some(IdentificationMethod::Remote));
        assert_eq!(info.owner.name.as_deref(), Some("АЙГЕРИМ"));
        assert_eq!(info.owner.patronymic, None);
        // Issued on 29 February: valid until 28 February of the next year.
        assert_eq!(info.not_after, "2029-02-28T12:00:00Z");
    }
    let rec = db.certificate(&Serial::of(&pair.sign)).unwrap().unwrap();
    assert_eq!(rec.pair_id, pair.pair_id);
    assert_eq!(rec.status(calendar::unix_seconds(&now)), Status::Valid);
    assert_eq!(rec.status(calendar::unix_seconds(&DateTime::new(2029, 2, 28, 12, 0, 0).unwrap())), Status::Expired);

    // The subject never comes from the request.
    let sneaky = ApplicantKey::generate(2048);
    let other = ApplicantKey::generate(2048);
    let p2 = issuer.issue_pair(&mut db, &who, &sneaky.csr_der("ADMIN"), &other.csr_der("ROOT"), now, Actor::System).unwrap();
    assert!(!verify::name_to_string(&p2.auth.tbs_certificate.subject).contains("ADMIN"));
    assert_eq!(db.count().unwrap(), 4);

    // Refusals leave the count as it was.
    assert!(matches!(
        issuer.issue_pair(&mut db, &who, &a.csr_der("a"), &ApplicantKey::generate(2048).csr_der("x"), now, Actor::System),
        Err(IssueError::KeyReused { .. })
    ));
    assert!(matches!(
        issuer.issue_pair(&mut db, &who, &sneaky.csr_der("a"), &sneaky.csr_der("a"), now, Actor::System),
        Err(IssueError::SameKeyTwice)
    ));
    assert_eq!(db.count().unwrap(), 4);

    // Opening again sees the same records; init refuses to overwrite.
    drop((db, ca));
    assert_eq!(Authority::open(&data).unwrap().store().unwrap().count().unwrap(), 4);
    assert!(matches!(authority::init(&data, &InitOptions::default(), &pass(), now), Err(AuthorityError::AlreadyExists(_))));
}

#[test]
fn applicant_rules() {
    let today = Date::new(2026, 11, 22).unwrap();
    let p = || PersonName::new("A", "B", None).unwrap();
    // Born 2010-05-10: sixteen on the day.
    assert!(Applicant::new("100510500016", p(), None, None, IdentificationMethod::InPerson, today).is_ok());
    let young = Applicant::new("100510500016", p(), None, None, IdentificationMethod::InPerson, Date::new(2026, 5, 9).unwrap());
    assert_eq!(young.unwrap_err().to_string(), "the applicant is 15 years old on 2026-05-09; certificates are issued from age 16");
    let bad_mail = Applicant::new("100510500016", p(), Some("nobody"), None, IdentificationMethod::InPerson, today);
    assert!(bad_mail.is_err());
}

/// The GOST hierarchy `ca init` makes: every certificate signed in GOST and
/// verified, the issuing CA field by field in the profile of the authority's own
/// GOST CA, and a pair with an RSA AUTH and a GOST SIGN certificate issued by the
/// two CAs.
#[test]
fn gost_hierarchy_in_the_authority_profile() {
    use der::{Decode, Encode};
    let dir = Dir(std::env::temp_dir().join(format!("ca-core-authority-gost-{}", std::process::id())));
    let data = dir.0.join("ca-data");
    let now = DateTime::new(2027, 3, 1, 9, 0, 0).unwrap();
    let made = authority::init(&data, &InitOptions::default(), &pass(), now).unwrap();
    let gost = made.gost.as_ref().expect("init makes the GOST hierarchy");
    verify::verify_issued_by(&gost.root, &gost.root).unwrap();
    verify::verify_issued_by(&gost.issuing, &gost.root).unwrap();
    verify::verify_issued_by(&gost.ocsp, &gost.issuing).unwrap();
    // Not by the RSA CA: the two hierarchies are apart.
    assert!(verify::verify_issued_by(&gost.issuing, &made.rsa.root).is_err());

    let real = x509_cert::Certificate::from_der(include_bytes!("../../tests/data/nca-test/nca_gost2022_test.der")).unwrap();
    let (ours, theirs) = (&gost.issuing.tbs_certificate, &real.tbs_certificate);
    assert_eq!(ours.signature, theirs.signature, "signature algorithm with its NULL");
    assert_eq!(gost.issuing.signature_algorithm, real.signature_algorithm);
    assert_eq!(ours.subject_public_key_info.algorithm, theirs.subject_public_key_info.algorithm, "key algorithm and parameters");
    assert_eq!(ours.subject_public_key_info.subject_public_key.raw_bytes().len(), 131, "OCTET STRING of x ‖ y");
    let types = |n: &x509_cert::name::Name| n.0.iter().flat_map(|rdn| rdn.0.iter().map(|a| a.oid)).collect::<Vec<_>>();
    assert_eq!(types(&ours.subject), types(&theirs.subject));
    assert_eq!(types(&ours.issuer), types(&theirs.issuer));
    let shape = |t: &x509_cert::certificate::TbsCertificate| {
        t.extensions.as_ref().unwrap().iter().map(|e| (e.extn_id, e.critical)).collect::<Vec<_>>()
    };
    assert_eq!(shape(ours), shape(theirs), "the same extensions, in the same order, equally critical");
    // The serial is the key identifier as a positive INTEGER, as the authority makes it.
    let ski = ca_core::profile::key_identifier(&ours.subject_public_key_info);
    assert_eq!(ours.serial_number.as_bytes()[1..], ski[1..]);
    // The AKI names the root's certificate: key id, issuer, serial.
    let aki = ours.extensions.as_ref().unwrap().iter().find(|e| e.extn_id == ca_core::oid::EXT_AUTHORITY_KEY_ID).unwrap();
    let aki = x509_cert::ext::pkix::AuthorityKeyIdentifier::from_der(aki.extn_value.as_bytes()).unwrap();
    assert_eq!(aki.authority_cert_serial_number.as_ref(), Some(&gost.root.tbs_certificate.serial_number));
    assert_eq!(
        aki.key_identifier.unwrap().as_bytes(),
        ca_core::profile::key_identifier(&gost.root.tbs_certificate.subject_public_key_info)
    );
    assert!(verify::CertificateInfo::of(&gost.issuing).subject.contains("(GOST)"));

    // An individual choosing GOST for SIGN: RSA AUTH from the RSA CA, GOST SIGN from the GOST CA.
    let ca = Authority::open(&data).unwrap();
    assert!(ca.hierarchies().gost.is_some());
    let mut db = ca.store().unwrap();
    let issuer = ca.issuer(ca.issuing_signer(&pass()).unwrap()).unwrap();
    let auth_key = ApplicantKey::generate(2048);
    let sign_key = ca_core::gost::GostSigner::generate();
    let sign_csr = ca_core::csr::create(&sign_key).unwrap();
    let who = applicant(Date::of(&now));
    let pair = issuer.issue_pair(&mut db, &who, &auth_key.csr_der("a"), &sign_csr, now, Actor::System).unwrap();
    verify::verify_issued_by(&pair.auth, &made.rsa.issuing).unwrap();
    verify::verify_issued_by(&pair.sign, &gost.issuing).unwrap();
    assert!(verify::verify_issued_by(&pair.sign, &made.rsa.issuing).is_err());
    assert_eq!(pair.sign.tbs_certificate.subject_public_key_info, *sign_key.public_key());
    assert_eq!(pair.sign.tbs_certificate.issuer, gost.issuing.tbs_certificate.subject);
    let info = verify::CertificateInfo::of(&pair.sign);
    assert_eq!(info.key_type, KeyType::Sign);
    // The certificate points to the GOST CA's CRLs and certificate, and the one OCSP responder.
    let text = String::from_utf8_lossy(&pair.sign.to_der().unwrap()).into_owned();
    for path in ["/crl/nca_gost.crl", "/crl/nca_d_gost.crl", "/cert/nca_gost.cer", "/ocsp/"] {
        assert!(text.contains(path), "{path} in the GOST SIGN certificate");
    }
    assert!(!text.contains("nca_rsa"));
    let rec = db.certificate(&Serial::of(&pair.sign)).unwrap().unwrap();
    assert_eq!(rec.pair_id, pair.pair_id);

    // A GOST key for AUTH too is certified by the GOST CA; the same key twice is still refused.
    let refused = issuer.issue_pair(&mut db, &who, &sign_csr, &sign_csr, now, Actor::System);
    assert!(matches!(refused, Err(IssueError::SameKeyTwice)));
}
