//! Helpers for this crate's unit tests.

use crate::calendar;
use crate::oid;
use crate::signing::{self, RsaSigner, Signer};
use der::asn1::{BitString, OctetString};
use der::Encode;
use std::str::FromStr;
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectKeyIdentifier};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::time::Validity;
use x509_cert::Certificate;

fn extension(id: der::asn1::ObjectIdentifier, critical: bool, value: &impl Encode) -> Extension {
    Extension { extn_id: id, critical, extn_value: OctetString::new(value.to_der().unwrap()).unwrap() }
}

/// A fresh RSA-2048 key and a self-signed SIGN certificate for it (digitalSignature
/// and nonRepudiation, e-mail protection), its holder named `surname`.
pub(crate) fn self_signed(surname: &str) -> (RsaSigner, Certificate) {
    let signer = RsaSigner::from_pkcs8(&signing::generate_rsa_pkcs8(2048).unwrap()).unwrap();
    let now = calendar::now();
    let name = Name::from_str(&format!("CN={surname} ТЕСТ,SERIALNUMBER=IIN880515300120,C=KZ")).unwrap();
    let usage = KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation);
    let ski = SubjectKeyIdentifier(OctetString::new(signing::key_identifier(signer.public_key()).to_vec()).unwrap());
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: signing::random_serial(),
        signature: signer.algorithm(),
        issuer: name.clone(),
        validity: Validity {
            not_before: calendar::x509_time(now).unwrap(),
            not_after: calendar::x509_time(calendar::add_years(&now, 1).unwrap()).unwrap(),
        },
        subject: name,
        subject_public_key_info: signer.public_key().clone(),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(vec![
            extension(oid::EXT_KEY_USAGE, true, &usage),
            extension(oid::EXT_EXTENDED_KEY_USAGE, false, &ExtendedKeyUsage(vec![oid::KP_EMAIL_PROTECTION])),
            extension(oid::EXT_SUBJECT_KEY_ID, false, &ski),
        ]),
    };
    let signature = signer.sign(&tbs.to_der().unwrap()).unwrap();
    let cert = Certificate {
        signature_algorithm: tbs.signature.clone(),
        tbs_certificate: tbs,
        signature: BitString::from_bytes(&signature).unwrap(),
    };
    (signer, cert)
}
