//! `init`: the RSA and GOST hierarchies made in a staging directory and renamed
//! into place, the root CRLs, the audit key.

use super::*;

/// Choices for `init`.
#[derive(Clone, Debug)]
pub struct InitOptions {
    /// Base URL and names.
    pub config: Config,
    /// Move an existing authority aside instead of refusing.
    pub force: bool,
    /// Write the passphrase into the directory (for an unattended first start).
    pub store_passphrase: bool,
    /// Keep the root key in this directory (removable media) instead of the
    /// authority's: the server never needs it, and the root's CRL is signed
    /// offline (`ca crl --root --root-key DIR`).
    pub offline_root: Option<PathBuf>,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            config: Config {
                base_url: DEFAULT_BASE_URL.into(),
                root_name: DEFAULT_ROOT_NAME.into(),
                issuing_name: DEFAULT_ISSUING_NAME.into(),
                gost_root_name: DEFAULT_GOST_ROOT_NAME.into(),
                gost_issuing_name: DEFAULT_GOST_ISSUING_NAME.into(),
                crl: CrlSchedule::default(),
                ocsp: OcspSettings::default(),
                tls: TlsSettings::default(),
                tsa: TsaSettings::default(),
                verify: VerifySettings::default(),
                database: DatabaseSettings::default(),
            },
            force: false,
            store_passphrase: false,
            offline_root: None,
        }
    }
}

/// Validity of the root's CRL, days: the root key stays offline, so an operator
/// signs a new one (`ca crl --root`) within this time.
pub const ROOT_CRL_DAYS: i64 = 365;

pub(super) fn publish_root_crl(
    layout: &Layout,
    family: Family,
    root_key: &dyn Signer,
    root: &Certificate,
    now: i64,
) -> Result<Vec<u8>, AuthorityError> {
    let issuer = CrlIssuer { family, signer: root_key, issuer: IssuerRef::of(root), urls: None };
    let der = crl::issue_empty(&issuer, now, now + ROOT_CRL_DAYS * 86_400)?;
    let dir = layout.crl_dir();
    fs::create_dir_all(&dir).map_err(io(&dir))?;
    write_atomically(&layout.root_crl_of(family), &der)?;
    Ok(der)
}

/// The audit key: RSA-2048, encrypted like the CA keys; its public key in
/// `audit.pem` for whoever checks checkpoints.
pub(super) fn new_audit_key(l: &Layout, passphrase: &Passphrase) -> Result<RsaSigner, AuthorityError> {
    let pkcs8 = signing::generate_rsa_pkcs8(AUDIT_KEY_BITS)?;
    write_file(&l.audit_key(), signing::encrypt_pkcs8(&pkcs8, passphrase)?.as_bytes(), true)?;
    let signer = RsaSigner::from_pkcs8(&pkcs8)?;
    let pem = signer
        .public_key()
        .to_pem(der::pem::LineEnding::LF)
        .map_err(|e| AuthorityError::Damaged { path: l.audit_public_key(), reason: e.to_string() })?;
    write_file(&l.audit_public_key(), pem.as_bytes(), false)?;
    Ok(signer)
}

/// A new CA key of `family` (RSA of `bits`), written encrypted to `key_path`.
fn new_ca_key(family: Family, bits: usize, passphrase: &Passphrase, key_path: &Path) -> Result<SigningKey, AuthorityError> {
    let (key, pkcs8) = SigningKey::generate(family, bits)?;
    write_file(key_path, signing::encrypt_pkcs8(&pkcs8, passphrase)?.as_bytes(), true)?;
    Ok(key)
}

/// The names of one hierarchy's three certificates.
struct Names {
    root: x509_cert::name::Name,
    issuing: x509_cert::name::Name,
    ocsp: x509_cert::name::Name,
}

impl Names {
    /// The names `config` gives `family`'s hierarchy. The RSA issuing CA and
    /// responder put the country first, as the authority's RSA CA does; the GOST
    /// names put it last, as its GOST CA does.
    fn of(config: &Config, family: Family) -> Result<Self, ProfileError> {
        Ok(match family {
            Family::Rsa => Names {
                root: profile::ca_name(&config.root_name, false)?,
                issuing: profile::ca_name(&config.issuing_name, true)?,
                ocsp: profile::ca_name(DEFAULT_OCSP_NAME, true)?,
            },
            Family::Gost => Names {
                root: profile::ca_name(&config.gost_root_name, false)?,
                issuing: profile::ca_name(&config.gost_issuing_name, false)?,
                ocsp: profile::ca_name(DEFAULT_GOST_OCSP_NAME, false)?,
            },
        })
    }
}

/// Create an authority in `dir`: for each hierarchy (RSA, GOST) a root, an
/// issuing CA and an OCSP responder; the database. Returns the certificates.
pub fn init(dir: &Path, opts: &InitOptions, passphrase: &Passphrase, now: DateTime) -> Result<Hierarchies, AuthorityError> {
    let target = Layout::new(dir);
    let urls = Urls::new(&opts.config.base_url)?;
    let names = [Names::of(&opts.config, Family::Rsa)?, Names::of(&opts.config, Family::Gost)?];
    if target.exists() && !opts.force {
        return Err(AuthorityError::AlreadyExists(dir.to_path_buf()));
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io(parent))?;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "ca-data".into());
    let staging = Layout::new(parent.join(format!(".{name}.init-{}", std::process::id())));
    if staging.dir().exists() {
        fs::remove_dir_all(staging.dir()).map_err(io(staging.dir()))?;
    }
    create_private_dir(staging.dir())?;
    let root_keys = match &opts.offline_root {
        Some(offline) => {
            let keys = Family::ALL.map(|f| offline.join(Layout::key_file_name(f, CaRole::Root)));
            if let Some(taken) = keys.iter().find(|k| k.exists()) {
                return Err(AuthorityError::AlreadyExists(taken.clone()));
            }
            if !offline.exists() {
                create_private_dir(offline)?;
            }
            keys
        }
        None => Family::ALL.map(|f| staging.key_of(f, CaRole::Root)),
    };
    let made = build(&staging, opts, &urls, names, passphrase, now, &root_keys);
    if made.is_err() && opts.offline_root.is_some() {
        for key in &root_keys {
            let _ = fs::remove_file(key);
        }
    }
    let certs = match made {
        Ok(c) => c,
        Err(e) => {
            let _ = fs::remove_dir_all(staging.dir());
            return Err(e);
        }
    };
    if dir.exists() {
        let aside = parent.join(format!("{name}.old-{}", calendar::unix_seconds(&now)));
        fs::rename(dir, &aside).map_err(io(dir))?;
    }
    fs::rename(staging.dir(), dir).map_err(io(dir))?;
    Ok(certs)
}

fn build(
    l: &Layout,
    opts: &InitOptions,
    urls: &Urls,
    [rsa_names, gost_names]: [Names; 2],
    passphrase: &Passphrase,
    now: DateTime,
    [rsa_root_key, gost_root_key]: &[PathBuf; 2],
) -> Result<Hierarchies, AuthorityError> {
    let rsa = build_hierarchy(l, Family::Rsa, urls, rsa_names, passphrase, now, rsa_root_key)?;
    let gost = build_hierarchy(l, Family::Gost, &urls.for_family(Family::Gost), gost_names, passphrase, now, gost_root_key)?;
    new_audit_key(l, passphrase)?;
    let config =
        serde_json::to_vec_pretty(&opts.config).map_err(|e| AuthorityError::Damaged { path: l.config(), reason: e.to_string() })?;
    // The schema, in the database the configuration names (the SQLite file here by default).
    drop(Store::open(&database_of(&opts.config, l)?)?);
    if opts.store_passphrase {
        write_file(&l.passphrase(), passphrase.expose().as_bytes(), true)?;
    }
    // Written last: its presence marks a complete authority.
    write_file(&l.config(), &config, false)?;
    Ok(Hierarchies { rsa, gost: Some(gost) })
}

/// One hierarchy: root (its key at `root_key_path`), issuing CA, OCSP responder,
/// and the root's first CRL. The RSA one in the profile of the authority's RSA
/// CA; the GOST one field by field as its GOST CA, serial numbers made from the
/// key identifiers as the authority makes them.
fn build_hierarchy(
    l: &Layout,
    family: Family,
    urls: &Urls,
    names: Names,
    passphrase: &Passphrase,
    now: DateTime,
    root_key_path: &Path,
) -> Result<CaCertificates, AuthorityError> {
    let root_key = new_ca_key(family, CA_KEY_BITS, passphrase, root_key_path)?;
    let root_self = IssuerRef { name: names.root, key_id: profile::key_identifier(root_key.public_key()).to_vec(), certificate: None };
    let basics =
        |issuer: IssuerRef, signer: &dyn Signer, public_key: SubjectPublicKeyInfoOwned, years| -> Result<TbsBasics, AuthorityError> {
            let serial = match family {
                Family::Rsa => signing::random_serial(),
                Family::Gost => profile::ca_serial(&public_key)?,
            };
            Ok(TbsBasics { serial, signature: signer.algorithm(), issuer, validity: profile::validity_years(now, years)?, public_key })
        };
    let root_basics = basics(root_self, &root_key, root_key.public_key().clone(), ROOT_YEARS)?;
    let root_tbs = match family {
        Family::Rsa => profile::root_ca(root_basics, urls)?,
        Family::Gost => profile::gost_root_ca(root_basics, urls)?,
    };
    let root = crate::issuer::sign_certificate(root_tbs, &root_key)?;

    let issuing_key = new_ca_key(family, CA_KEY_BITS, passphrase, &l.key_of(family, CaRole::Issuing))?;
    let issuing_basics = basics(IssuerRef::of(&root), &root_key, issuing_key.public_key().clone(), ISSUING_YEARS)?;
    let issuing_tbs = match family {
        Family::Rsa => profile::issuing_ca(issuing_basics, names.issuing, urls)?,
        Family::Gost => profile::gost_issuing_ca(issuing_basics, names.issuing, urls)?,
    };
    let issuing = crate::issuer::sign_certificate(issuing_tbs, &root_key)?;

    let ocsp_key = new_ca_key(family, OCSP_KEY_BITS, passphrase, &l.key_of(family, CaRole::Ocsp))?;
    let mut ocsp_basics = basics(IssuerRef::of(&issuing), &issuing_key, ocsp_key.public_key().clone(), OCSP_YEARS)?;
    // Reissued every year with the same kind of key: a random serial, never the key's.
    ocsp_basics.serial = signing::random_serial();
    let ocsp = crate::issuer::sign_certificate(profile::ocsp_responder(ocsp_basics, names.ocsp)?, &issuing_key)?;

    publish_root_crl(l, family, &root_key, &root, calendar::unix_seconds(&now))?;
    write_cert(&l.cert_of(family, CaRole::Root), &root)?;
    write_cert(&l.cert_of(family, CaRole::Issuing), &issuing)?;
    write_cert(&l.cert_of(family, CaRole::Ocsp), &ocsp)?;
    Ok(CaCertificates { root, issuing, ocsp })
}
