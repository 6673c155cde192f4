//! Object identifiers of the national profile and the standards it uses.

use der::asn1::ObjectIdentifier as Oid;

/// Subject kind: individual (in extended key usage).
pub const KIND_INDIVIDUAL: Oid = Oid::new_unwrap("1.2.398.3.3.4.1.1");
/// Subject kind: legal entity, always with a role.
pub const KIND_LEGAL_ENTITY: Oid = Oid::new_unwrap("1.2.398.3.3.4.1.2");
/// Role: first head (CEO).
pub const ROLE_CEO: Oid = Oid::new_unwrap("1.2.398.3.3.4.1.2.1");
/// Role: person with signing right.
pub const ROLE_SIGNER: Oid = Oid::new_unwrap("1.2.398.3.3.4.1.2.2");
/// Role: person with the right to sign financial documents.
pub const ROLE_FINANCIAL: Oid = Oid::new_unwrap("1.2.398.3.3.4.1.2.3");
/// Role: HR officer.
pub const ROLE_HR: Oid = Oid::new_unwrap("1.2.398.3.3.4.1.2.4");
/// Role: employee.
pub const ROLE_EMPLOYEE: Oid = Oid::new_unwrap("1.2.398.3.3.4.1.2.5");
/// CA staff: administrator.
pub const STAFF_ADMINISTRATOR: Oid = Oid::new_unwrap("1.2.398.3.3.4.2.1");
/// CA staff: manager.
pub const STAFF_MANAGER: Oid = Oid::new_unwrap("1.2.398.3.3.4.2.2");
/// CA staff: registration-center operator.
pub const STAFF_OPERATOR: Oid = Oid::new_unwrap("1.2.398.3.3.4.2.3");
/// Identity proven in person at a registration center.
pub const IDENTIFIED_IN_PERSON: Oid = Oid::new_unwrap("1.2.398.3.3.4.3.1");
/// Identity proven remotely (video identification).
pub const IDENTIFIED_REMOTELY: Oid = Oid::new_unwrap("1.2.398.3.3.4.3.2");

/// Policy: the authority's regulations (CA certificates).
pub const POLICY_REGULATIONS: Oid = Oid::new_unwrap("1.2.398.3.3.1.1");
/// Policy of the GOST hierarchy's CA certificates (as on the authority's GOST CA).
pub const POLICY_GOST_CA: Oid = Oid::new_unwrap("1.2.398.3.3.2");
/// Policy: legal entity, SIGN.
pub const POLICY_LEGAL_SIGN: Oid = Oid::new_unwrap("1.2.398.3.3.2.1");
/// Policy: legal entity, AUTH.
pub const POLICY_LEGAL_AUTH: Oid = Oid::new_unwrap("1.2.398.3.3.2.2");
/// Policy: individual, SIGN.
pub const POLICY_INDIVIDUAL_SIGN: Oid = Oid::new_unwrap("1.2.398.3.3.2.3");
/// Policy: individual, AUTH.
pub const POLICY_INDIVIDUAL_AUTH: Oid = Oid::new_unwrap("1.2.398.3.3.2.4");

/// GOST 34.10-2015 512-bit public key.
pub const GOST_2015_512_KEY: Oid = Oid::new_unwrap("1.2.398.3.10.1.1.2.2");
/// GOST 34.10-2015 512-bit with Streebog-512 signature.
pub const GOST_2015_512_SIGNATURE: Oid = Oid::new_unwrap("1.2.398.3.10.1.1.2.3.2");
/// GOST 34.310-2004 public key (read only).
pub const GOST_2004_KEY: Oid = Oid::new_unwrap("1.2.398.3.10.1.1.1.1");
/// GOST 34.310-2004 signature (read only).
pub const GOST_2004_SIGNATURE: Oid = Oid::new_unwrap("1.2.398.3.10.1.1.1.2");

/// rsaEncryption.
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
/// sha1WithRSAEncryption (refused for new requests).
pub const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
/// sha256WithRSAEncryption.
pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
/// sha384WithRSAEncryption.
pub const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
/// sha512WithRSAEncryption.
pub const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
/// id-ecPublicKey (named, not issued).
pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");

/// Extended key usage: TLS server authentication (the authority's HTTPS API).
pub const KP_SERVER_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.1");
/// Extended key usage: TLS client authentication (AUTH certificates).
pub const KP_CLIENT_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.2");
/// Extended key usage: e-mail protection (SIGN certificates).
pub const KP_EMAIL_PROTECTION: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.4");
/// Extended key usage: OCSP signing.
pub const KP_OCSP_SIGNING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.9");
/// Extended key usage: time-stamping (a time-stamp authority's only purpose).
pub const KP_TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");
/// Extended key usage: any purpose.
pub const KP_ANY: Oid = Oid::new_unwrap("2.5.29.37.0");
/// id-pkix-ocsp-nocheck.
pub const OCSP_NOCHECK: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.5");
/// Access method: OCSP.
pub const AD_OCSP: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1");
/// Access method: CA issuers.
pub const AD_CA_ISSUERS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.2");
/// Policy qualifier: CPS pointer.
pub const QT_CPS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.2.1");
/// Policy qualifier: user notice.
pub const QT_UNOTICE: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.2.2");

/// Extension: subject key identifier.
pub const EXT_SUBJECT_KEY_ID: Oid = Oid::new_unwrap("2.5.29.14");
/// Extension: subject alternative name.
pub const EXT_SUBJECT_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.17");
/// Extension: issuer alternative name.
pub const EXT_ISSUER_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.18");
/// Extension: key usage.
pub const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
/// Extension: basic constraints.
pub const EXT_BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
/// Extension: CRL distribution points.
pub const EXT_CRL_DISTRIBUTION_POINTS: Oid = Oid::new_unwrap("2.5.29.31");
/// Extension: certificate policies.
pub const EXT_CERTIFICATE_POLICIES: Oid = Oid::new_unwrap("2.5.29.32");
/// Extension: authority key identifier.
pub const EXT_AUTHORITY_KEY_ID: Oid = Oid::new_unwrap("2.5.29.35");
/// Extension: extended key usage.
pub const EXT_EXTENDED_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
/// Extension: freshest CRL (delta CRL location).
pub const EXT_FRESHEST_CRL: Oid = Oid::new_unwrap("2.5.29.46");
/// CRL extension: CRL number.
pub const EXT_CRL_NUMBER: Oid = Oid::new_unwrap("2.5.29.20");
/// CRL entry extension: reason code.
pub const EXT_CRL_REASON: Oid = Oid::new_unwrap("2.5.29.21");
/// CRL entry extension: invalidity date.
pub const EXT_INVALIDITY_DATE: Oid = Oid::new_unwrap("2.5.29.24");
/// CRL extension: delta CRL indicator (the base CRL's number).
pub const EXT_DELTA_CRL_INDICATOR: Oid = Oid::new_unwrap("2.5.29.27");
/// OCSP response type: basic.
pub const OCSP_BASIC: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.1");
/// OCSP extension: nonce.
pub const OCSP_NONCE: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.2");
/// Extension: authority information access.
pub const EXT_AUTHORITY_INFO_ACCESS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.1");

/// Attribute: common name.
pub const AT_COMMON_NAME: Oid = Oid::new_unwrap("2.5.4.3");
/// Attribute: surname.
pub const AT_SURNAME: Oid = Oid::new_unwrap("2.5.4.4");
/// Attribute: serial number (carries `IIN…`).
pub const AT_SERIAL_NUMBER: Oid = Oid::new_unwrap("2.5.4.5");
/// Attribute: country.
pub const AT_COUNTRY: Oid = Oid::new_unwrap("2.5.4.6");
/// Attribute: locality.
pub const AT_LOCALITY: Oid = Oid::new_unwrap("2.5.4.7");
/// Attribute: state or province.
pub const AT_STATE: Oid = Oid::new_unwrap("2.5.4.8");
/// Attribute: organization.
pub const AT_ORGANIZATION: Oid = Oid::new_unwrap("2.5.4.10");
/// Attribute: organizational unit (carries `BIN…`).
pub const AT_ORGANIZATIONAL_UNIT: Oid = Oid::new_unwrap("2.5.4.11");
/// Attribute: given name (the authority puts the patronymic here).
pub const AT_GIVEN_NAME: Oid = Oid::new_unwrap("2.5.4.42");
/// Attribute: e-mail address (PKCS#9).
pub const AT_EMAIL: Oid = Oid::new_unwrap("1.2.840.113549.1.9.1");

/// Short name of a DN attribute, as OpenSSL prints it; the dotted OID otherwise.
pub fn attribute_name(oid: &Oid) -> String {
    let known = [
        (AT_COMMON_NAME, "CN"),
        (AT_SURNAME, "SN"),
        (AT_SERIAL_NUMBER, "serialNumber"),
        (AT_COUNTRY, "C"),
        (AT_LOCALITY, "L"),
        (AT_STATE, "ST"),
        (AT_ORGANIZATION, "O"),
        (AT_ORGANIZATIONAL_UNIT, "OU"),
        (AT_GIVEN_NAME, "GN"),
        (AT_EMAIL, "E"),
    ];
    known.iter().find(|(k, _)| k == oid).map(|(_, n)| n.to_string()).unwrap_or_else(|| oid.to_string())
}

/// CMS content type: data (RFC 5652 §4).
pub const CT_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
/// CMS content type: signedData (RFC 5652 §5).
pub const CT_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
/// CMS content type: encryptedData (RFC 5652 §8), used inside PKCS#12.
pub const CT_ENCRYPTED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.6");
/// Signed attribute: content type.
pub const ATTR_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
/// Signed attribute: message digest.
pub const ATTR_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
/// Signed attribute: signing time.
pub const ATTR_SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
/// Signed attribute: signingCertificate (RFC 2634, SHA-1), binds the signer's certificate.
pub const ATTR_SIGNING_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.12");
/// Signed attribute: signingCertificateV2 (RFC 5035), binds the signer's certificate.
pub const ATTR_SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// Unsigned attribute: signatureTimeStampToken (RFC 3161 Appendix A, CAdES-T).
pub const ATTR_SIGNATURE_TIME_STAMP: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// Content type: TSTInfo (RFC 3161).
pub const CT_TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// PKCS#12 bag attribute: friendlyName.
pub const ATTR_FRIENDLY_NAME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.20");
/// PKCS#12 bag attribute: localKeyID.
pub const ATTR_LOCAL_KEY_ID: Oid = Oid::new_unwrap("1.2.840.113549.1.9.21");
/// PKCS#12 certificate type: X.509.
pub const CERT_TYPE_X509: Oid = Oid::new_unwrap("1.2.840.113549.1.9.22.1");
/// PKCS#12 bag: shrouded (encrypted) PKCS#8 key.
pub const BAG_SHROUDED_KEY: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.2");
/// PKCS#12 bag: certificate.
pub const BAG_CERT: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.3");
/// Digest: SHA-256.
pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
/// Digest: SHA-384.
pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
/// Digest: SHA-512.
pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
/// Digest: GOST 34.311-95 (GOST R 34.11-94 with the test S-boxes), as the authority names it.
pub const GOST_34311: Oid = Oid::new_unwrap("1.2.398.3.10.1.3.1");
/// Digest: GOST R 34.11-2015 (Streebog) 512-bit, as the authority names it.
pub const STREEBOG_512: Oid = Oid::new_unwrap("1.2.398.3.10.1.3.3");
/// Digest: Streebog-512 under its TC26 name.
pub const STREEBOG_512_TC26: Oid = Oid::new_unwrap("1.2.643.7.1.1.2.3");
/// Digest: SHA-1.
pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
/// pbeWithSHAAnd3-KeyTripleDES-CBC (RFC 7292, Appendix C): the authority's key bags.
pub const PBE_SHA1_3DES_3KEY: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.3");
/// pbeWithSHAAnd2-KeyTripleDES-CBC.
pub const PBE_SHA1_3DES_2KEY: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.4");
/// pbeWithSHAAnd128BitRC2-CBC.
pub const PBE_SHA1_RC2_128: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.5");
/// pbeWithSHAAnd40BitRC2-CBC: the authority's certificate bags.
pub const PBE_SHA1_RC2_40: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.6");
