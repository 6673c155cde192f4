//! Where the authority publishes its certificates, CRLs, OCSP and CPS: the paths
//! the server serves and the absolute URLs every certificate names.

use super::ProfileError;
use crate::model::Family;
use der::asn1::Ia5StringRef;
use x509_cert::ext::pkix::name::GeneralName;

/// Where the authority publishes its certificates, CRLs, OCSP and CPS. Every URL in
/// every certificate comes from here. A `Urls` belongs to one hierarchy (RSA or
/// GOST): its certificates and CRLs have paths of their own, OCSP and the CPS
/// are shared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Urls {
    base: String,
    family: Family,
}

/// Path of the root certificate under the base URL.
pub const ROOT_CERT_PATH: &str = "/cert/root_rsa.cer";
/// Path of the issuing CA certificate.
pub const ISSUING_CERT_PATH: &str = "/cert/nca_rsa.cer";
/// Path of the root's CRL.
pub const ROOT_CRL_PATH: &str = "/crl/root_rsa.crl";
/// Path of the issuing CA's full CRL.
pub const FULL_CRL_PATH: &str = "/crl/nca_rsa.crl";
/// Path of the issuing CA's delta CRL.
pub const DELTA_CRL_PATH: &str = "/crl/nca_d_rsa.crl";
/// Path of the OCSP responder (one for both hierarchies).
pub const OCSP_PATH: &str = "/ocsp/";
/// Path of the certification practice statement.
pub const CPS_PATH: &str = "/cps";

/// Where one hierarchy's certificates and CRLs are published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaPaths {
    /// The root certificate.
    pub root_cert: &'static str,
    /// The issuing CA certificate.
    pub issuing_cert: &'static str,
    /// The root's CRL.
    pub root_crl: &'static str,
    /// The issuing CA's full CRL.
    pub full_crl: &'static str,
    /// The issuing CA's delta CRL.
    pub delta_crl: &'static str,
}

impl CaPaths {
    /// The paths of `family`'s hierarchy.
    pub const fn of(family: Family) -> CaPaths {
        match family {
            Family::Rsa => CaPaths {
                root_cert: ROOT_CERT_PATH,
                issuing_cert: ISSUING_CERT_PATH,
                root_crl: ROOT_CRL_PATH,
                full_crl: FULL_CRL_PATH,
                delta_crl: DELTA_CRL_PATH,
            },
            Family::Gost => CaPaths {
                root_cert: "/cert/root_gost.cer",
                issuing_cert: "/cert/nca_gost.cer",
                root_crl: "/crl/root_gost.crl",
                full_crl: "/crl/nca_gost.crl",
                delta_crl: "/crl/nca_d_gost.crl",
            },
        }
    }
}

impl Urls {
    /// Check a base URL such as `http://pki.example.kz` (no trailing slash needed).
    /// Plain HTTP on purpose: CRLs and OCSP must be fetchable without TLS (RFC 5280 §4.2.1.13).
    pub fn new(base: &str) -> Result<Self, ProfileError> {
        let base = base.trim_end_matches('/');
        let ok = base.starts_with("http://")
            && base.len() > "http://".len()
            && base.chars().all(|c| c.is_ascii_graphic())
            && Ia5StringRef::new(base).is_ok();
        if !ok {
            return Err(ProfileError::BadUrl(base.to_string()));
        }
        Ok(Urls { base: base.to_string(), family: Family::Rsa })
    }

    /// The same base URL for `family`'s hierarchy.
    pub fn for_family(&self, family: Family) -> Urls {
        Urls { base: self.base.clone(), family }
    }

    /// The hierarchy these URLs are for.
    pub fn family(&self) -> Family {
        self.family
    }

    /// Where this hierarchy's certificates and CRLs are.
    pub fn paths(&self) -> CaPaths {
        CaPaths::of(self.family)
    }

    /// The base URL, without trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The host of the base URL, without port (an IPv6 address without brackets).
    pub fn host(&self) -> Option<&str> {
        let authority = self.base["http://".len()..].split('/').next()?;
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next()?,
            None => authority.split(':').next()?,
        };
        (!host.is_empty()).then_some(host)
    }

    /// The absolute URL of `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub(super) fn uri(&self, path: &str) -> Result<GeneralName, ProfileError> {
        Ok(GeneralName::UniformResourceIdentifier(der::asn1::Ia5String::new(&self.at(path))?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_http_ascii() {
        assert_eq!(Urls::new("http://pki.example.kz/").unwrap().at(FULL_CRL_PATH), "http://pki.example.kz/crl/nca_rsa.crl");
        assert!(Urls::new("ftp://x").is_err());
        assert!(Urls::new("http://").is_err());
        assert!(Urls::new("http://a b").is_err());
        assert!(Urls::new("http://пки.kz").is_err());
        assert_eq!(Urls::new("http://pki.example.kz:8080/x").unwrap().host(), Some("pki.example.kz"));
        assert_eq!(Urls::new("http://[::1]:80").unwrap().host(), Some("::1"));
        assert_eq!(Urls::new("http://127.0.0.1").unwrap().host(), Some("127.0.0.1"));
        let gost = Urls::new("http://pki.example.kz").unwrap().for_family(Family::Gost);
        assert_eq!(gost.at(gost.paths().full_crl), "http://pki.example.kz/crl/nca_gost.crl");
        // Each hierarchy publishes at paths of its own.
        let (r, g) = (CaPaths::of(Family::Rsa), CaPaths::of(Family::Gost));
        for (a, b) in [
            (r.root_cert, g.root_cert),
            (r.issuing_cert, g.issuing_cert),
            (r.root_crl, g.root_crl),
            (r.full_crl, g.full_crl),
            (r.delta_crl, g.delta_crl),
        ] {
            assert_ne!(a, b);
        }
    }
}
