//! Helpers for this crate's unit tests.

use crate::calendar;
use crate::model::{CertType, IdentificationMethod};
use crate::profile::{self, Applicant, IssuerRef, PersonName, TbsBasics, Urls};
use crate::signing::{self, RsaSigner, Signer};
use x509_cert::Certificate;

/// A fresh RSA-2048 key and a self-issued SIGN certificate for it, named `cn`.
pub(crate) fn self_signed(surname: &str) -> (RsaSigner, Certificate) {
    let signer = RsaSigner::from_pkcs8(&signing::generate_rsa_pkcs8(2048).unwrap()).unwrap();
    let today = calendar::now();
    let person = PersonName::new(surname, "ТЕСТ", None).unwrap();
    let applicant = Applicant::new("880515300120", person, None, None, IdentificationMethod::InPerson, calendar::Date::of(&today)).unwrap();
    let basics = TbsBasics {
        serial: signing::random_serial(),
        signature: signer.algorithm(),
        issuer: IssuerRef {
            name: applicant.subject().unwrap(),
            key_id: profile::key_identifier(signer.public_key()).to_vec(),
            certificate: None,
        },
        validity: profile::validity_years(today, 1).unwrap(),
        public_key: signer.public_key().clone(),
    };
    let tbs = profile::end_entity(basics, &applicant, CertType::Sign, &Urls::new("http://pki.test.kz").unwrap()).unwrap();
    let cert = crate::issuer::sign_certificate(tbs, &signer).unwrap();
    (signer, cert)
}
