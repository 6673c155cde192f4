//! The files of an authority directory, the CA roles and their certificates, and
//! where the CA passphrase comes from.

use super::*;

/// The files of an authority directory.
#[derive(Clone, Debug)]
pub struct Layout {
    dir: PathBuf,
}

impl Layout {
    /// The layout under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Layout { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `config.json`.
    pub fn config(&self) -> PathBuf {
        self.dir.join("config.json")
    }
    /// `ca.sqlite`.
    pub fn database(&self) -> PathBuf {
        self.dir.join("ca.sqlite")
    }
    /// Certificate file of a CA role of the RSA hierarchy.
    pub fn cert(&self, role: CaRole) -> PathBuf {
        self.cert_of(Family::Rsa, role)
    }
    /// Encrypted key file of a CA role of the RSA hierarchy.
    pub fn key(&self, role: CaRole) -> PathBuf {
        self.key_of(Family::Rsa, role)
    }
    /// Certificate file of a CA role of `family`'s hierarchy.
    pub fn cert_of(&self, family: Family, role: CaRole) -> PathBuf {
        self.dir.join(format!("{}{}.pem", family_prefix(family), role.file_stem()))
    }
    /// Encrypted key file of a CA role of `family`'s hierarchy.
    pub fn key_of(&self, family: Family, role: CaRole) -> PathBuf {
        self.dir.join(Self::key_file_name(family, role))
    }
    /// The file name of a CA key, here or in an offline directory.
    pub fn key_file_name(family: Family, role: CaRole) -> String {
        format!("{}{}.key", family_prefix(family), role.file_stem())
    }
    /// The generated passphrase file, if init wrote one.
    pub fn passphrase(&self) -> PathBuf {
        self.dir.join("passphrase")
    }

    /// Where the published CRLs are written.
    pub fn crl_dir(&self) -> PathBuf {
        self.dir.join("crl")
    }
    /// The RSA root's published CRL.
    pub fn root_crl(&self) -> PathBuf {
        self.root_crl_of(Family::Rsa)
    }
    /// The RSA issuing CA's published full or delta CRL.
    pub fn crl(&self, kind: CrlKind) -> PathBuf {
        self.crl_of(Family::Rsa, kind)
    }
    /// `family`'s root's published CRL.
    pub fn root_crl_of(&self, family: Family) -> PathBuf {
        self.dir.join(profile::CaPaths::of(family).root_crl.trim_start_matches('/'))
    }
    /// `family`'s issuing CA's published full or delta CRL.
    pub fn crl_of(&self, family: Family, kind: CrlKind) -> PathBuf {
        let paths = profile::CaPaths::of(family);
        let path = match kind {
            CrlKind::Full => paths.full_crl,
            CrlKind::Delta => paths.delta_crl,
        };
        self.dir.join(path.trim_start_matches('/'))
    }

    /// The audit key, encrypted with the CA passphrase.
    pub fn audit_key(&self) -> PathBuf {
        self.dir.join("audit.key")
    }
    /// The audit key's public key (SubjectPublicKeyInfo PEM), for checking checkpoints.
    pub fn audit_public_key(&self) -> PathBuf {
        self.dir.join("audit.pem")
    }
    /// The HTTPS server's certificate chain (server, then issuing CA), PEM.
    pub fn tls_chain(&self) -> PathBuf {
        self.dir.join("tls").join("server.pem")
    }
    /// The HTTPS server's private key, PKCS#8 PEM, readable by the owner only (the
    /// server needs it even when the CA keys stay locked).
    pub fn tls_key(&self) -> PathBuf {
        self.dir.join("tls").join("server.key")
    }

    /// The time-stamp authority's certificate, PEM.
    pub fn tsa_cert(&self) -> PathBuf {
        self.dir.join("tsa.pem")
    }

    /// The time-stamp authority's key, encrypted like the CA keys.
    pub fn tsa_key(&self) -> PathBuf {
        self.dir.join("tsa.key")
    }

    /// Whether an authority lives here.
    pub fn exists(&self) -> bool {
        self.config().exists()
    }
}

/// Where an authority's passphrase came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PassphraseSource {
    /// `--passphrase-file` or `CA_PASSPHRASE`.
    Given,
    /// The file `init` wrote into the directory when none was given.
    Stored,
}

/// The passphrase for the authority in `layout`: from `file` or the environment,
/// else the one `init` stored in the directory; `None` if there is none.
pub fn find_passphrase(file: Option<&Path>, layout: &Layout) -> Result<Option<(Passphrase, PassphraseSource)>, SigningError> {
    if let Some(p) = Passphrase::from_file_or_env(file)? {
        return Ok(Some((p, PassphraseSource::Given)));
    }
    let stored = layout.passphrase();
    if !stored.exists() {
        return Ok(None);
    }
    let text = fs::read_to_string(&stored).map_err(|e| SigningError::PassphraseFile { path: stored.clone(), reason: e.to_string() })?;
    Ok(Some((Passphrase::new(text)?, PassphraseSource::Stored)))
}

/// The three keys an authority holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaRole {
    /// Self-signed root.
    Root,
    /// Issuing CA: signs end-entity certificates and CRLs.
    Issuing,
    /// Delegated OCSP responder.
    Ocsp,
}

/// File names of the GOST hierarchy start with `gost_`; the RSA ones keep the
/// names they had before there was a GOST hierarchy.
fn family_prefix(family: Family) -> &'static str {
    match family {
        Family::Rsa => "",
        Family::Gost => "gost_",
    }
}

impl CaRole {
    fn file_stem(&self) -> &'static str {
        match self {
            CaRole::Root => "root",
            CaRole::Issuing => "issuing",
            CaRole::Ocsp => "ocsp",
        }
    }
}

/// One hierarchy's certificates: root, issuing CA, OCSP responder.
#[derive(Clone, Debug)]
pub struct CaCertificates {
    /// The root.
    pub root: Certificate,
    /// The issuing CA.
    pub issuing: Certificate,
    /// The OCSP responder.
    pub ocsp: Certificate,
}

impl CaCertificates {
    /// The certificate of `role`.
    pub fn get(&self, role: CaRole) -> &Certificate {
        match role {
            CaRole::Root => &self.root,
            CaRole::Issuing => &self.issuing,
            CaRole::Ocsp => &self.ocsp,
        }
    }
}

/// The authority's two hierarchies.
#[derive(Clone, Debug)]
pub struct Hierarchies {
    /// RSA.
    pub rsa: CaCertificates,
    /// GOST 34.10-2015; `None` for an authority made before GOST (run `ca init` anew to add it).
    pub gost: Option<CaCertificates>,
}

impl Hierarchies {
    /// The issuing CAs' certificates, RSA first: what signed requests are checked against.
    pub fn issuing_cas(&self) -> Vec<Certificate> {
        Family::ALL.iter().filter_map(|f| self.of(*f)).map(|h| h.issuing.clone()).collect()
    }

    /// The chain of a certificate one of the issuing CAs issued: that CA, then its
    /// root; `None` when no issuing CA here has its issuer's name.
    pub fn chain_for(&self, cert: &Certificate) -> Option<[&Certificate; 2]> {
        Family::ALL
            .iter()
            .filter_map(|f| self.of(*f))
            .find(|h| h.issuing.tbs_certificate.subject == cert.tbs_certificate.issuer)
            .map(|h| [&h.issuing, &h.root])
    }

    /// `family`'s hierarchy, if the authority has it.
    pub fn of(&self, family: Family) -> Option<&CaCertificates> {
        match family {
            Family::Rsa => Some(&self.rsa),
            Family::Gost => self.gost.as_ref(),
        }
    }
}
