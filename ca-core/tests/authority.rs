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
    let certs = authority::init(&data, &InitOptions::default(), &pass(), now).unwrap();
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
    assert!(matches!(ca.issuer(std::sync::Arc::new(stranger)), Err(AuthorityError::Issue(IssueError::KeyMismatch))));

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
