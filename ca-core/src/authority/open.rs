//! An opened authority, which hands out its parts as peers: stores, the issuer,
//! the OCSP and TSA keys, the CRL updater and the audit checkpointer.

use super::*;

/// An opened authority: its layout, configuration and CA certificates. It holds no
/// key and no connection; it makes them for whoever asks, each their own.
pub struct Authority {
    layout: Layout,
    database: Database,
    config: Config,
    urls: Urls,
    certs: Hierarchies,
}

/// The issuing CAs' keys, decrypted: RSA, and GOST when the authority has a GOST
/// hierarchy. Shared by the [`Issuer`] and the [`CrlUpdater`].
#[derive(Clone)]
pub struct IssuingKeys {
    /// The RSA issuing CA's key.
    pub rsa: Arc<dyn Signer>,
    /// The GOST issuing CA's key.
    pub gost: Option<Arc<dyn Signer>>,
}

impl IssuingKeys {
    /// `family`'s key, if there is one.
    pub fn of(&self, family: Family) -> Option<&Arc<dyn Signer>> {
        match family {
            Family::Rsa => Some(&self.rsa),
            Family::Gost => self.gost.as_ref(),
        }
    }
}

impl Authority {
    /// Open the authority in `dir`.
    pub fn open(dir: &Path) -> Result<Self, AuthorityError> {
        let layout = Layout::new(dir);
        if !layout.exists() {
            return Err(AuthorityError::NotInitialised(dir.to_path_buf()));
        }
        let path = layout.config();
        let raw = fs::read(&path).map_err(io(&path))?;
        let config: Config =
            serde_json::from_slice(&raw).map_err(|e| AuthorityError::Damaged { path: path.clone(), reason: e.to_string() })?;
        let urls = Urls::new(&config.base_url)?;
        let read = |family| -> Result<CaCertificates, AuthorityError> {
            Ok(CaCertificates {
                root: read_cert(&layout.cert_of(family, CaRole::Root))?,
                issuing: read_cert(&layout.cert_of(family, CaRole::Issuing))?,
                ocsp: read_cert(&layout.cert_of(family, CaRole::Ocsp))?,
            })
        };
        let rsa = read(Family::Rsa)?;
        // An authority made before the GOST hierarchy existed has none.
        let gost = if layout.cert_of(Family::Gost, CaRole::Root).exists() { Some(read(Family::Gost)?) } else { None };
        let database = database_of(&config, &layout)?;
        Ok(Authority { layout, database, config, urls, certs: Hierarchies { rsa, gost } })
    }

    /// The same authority with its records in `database` instead of the one its
    /// configuration names (`--database`, `$CA_DATABASE_URL`).
    pub fn with_database(self, database: Database) -> Self {
        Authority { database, ..self }
    }

    /// Where its records live.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The hot standby its configuration names for reads that may lag, if any.
    pub fn read_database(&self) -> Result<Option<Database>, AuthorityError> {
        Ok(self.config.database.read_url.as_deref().map(str::parse).transpose()?)
    }

    /// Decrypt the key of one of the RSA hierarchy's certificates, checked against it.
    pub fn signer(&self, role: CaRole, passphrase: &Passphrase) -> Result<SigningKey, AuthorityError> {
        self.signer_of(Family::Rsa, role, passphrase)
    }

    /// Decrypt the key of one of `family`'s certificates, checked against it.
    pub fn signer_of(&self, family: Family, role: CaRole, passphrase: &Passphrase) -> Result<SigningKey, AuthorityError> {
        self.signer_from(family, role, &self.layout.key_of(family, role), passphrase)
    }

    fn signer_from(&self, family: Family, role: CaRole, path: &Path, passphrase: &Passphrase) -> Result<SigningKey, AuthorityError> {
        let path = path.to_path_buf();
        if role == CaRole::Root && !path.exists() {
            return Err(AuthorityError::RootKeyOffline(path));
        }
        let certs = self.certs.of(family).ok_or(AuthorityError::NoHierarchy(family))?;
        let pem = fs::read_to_string(&path).map_err(io(&path))?;
        let signer = SigningKey::from_pkcs8(&signing::decrypt_pkcs8(&pem, passphrase)?)?;
        if signer.public_key() != &certs.get(role).tbs_certificate.subject_public_key_info {
            let cert = self.layout.cert_of(family, role);
            let name = cert.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            return Err(AuthorityError::Damaged { path, reason: format!("the key does not match {name}") });
        }
        Ok(signer)
    }

    /// The issuing CAs' keys, decrypted, shared by the [`Issuer`] and the [`CrlUpdater`].
    pub fn issuing_signer(&self, passphrase: &Passphrase) -> Result<IssuingKeys, AuthorityError> {
        let gost = match self.certs.gost {
            Some(_) => Some(Arc::new(self.signer_of(Family::Gost, CaRole::Issuing, passphrase)?) as Arc<dyn Signer>),
            None => None,
        };
        Ok(IssuingKeys { rsa: Arc::new(self.signer(CaRole::Issuing, passphrase)?), gost })
    }

    /// The issuer of end-entity pairs, signing with `keys` (see [`Authority::issuing_signer`]):
    /// each certificate by the CA of its key's family.
    pub fn issuer(&self, keys: IssuingKeys) -> Result<Issuer, AuthorityError> {
        let mut issuer = Issuer::new(self.certs.rsa.issuing.clone(), keys.rsa, self.urls.clone())?;
        if let (Some(certs), Some(key)) = (&self.certs.gost, keys.gost) {
            issuer = issuer.with_ca(certs.issuing.clone(), key, self.urls.for_family(Family::Gost))?;
        }
        Ok(issuer)
    }

    /// A connection of its own to the database.
    pub fn store(&self) -> Result<Store, AuthorityError> {
        Ok(Store::open(&self.database)?)
    }

    /// A pool of at most `size` database connections.
    pub fn pool(&self, size: usize) -> Result<StorePool, AuthorityError> {
        Ok(StorePool::open(&self.database, size)?)
    }

    /// The CRL updater of both issuing CAs: a database connection of its own and `keys`.
    pub fn crl_updater(&self, keys: IssuingKeys) -> Result<CrlUpdater, AuthorityError> {
        self.crl_updater_with(Family::ALL.into_iter().filter_map(|f| keys.of(f).map(|s| (f, s.clone()))).collect())
    }

    /// The CRL updater of `family`'s issuing CA alone, decrypting only its key (what
    /// `ca crl` needs: the other CA's key stays encrypted, and its PBKDF2 unpaid).
    pub fn crl_updater_of(&self, family: Family, passphrase: &Passphrase) -> Result<CrlUpdater, AuthorityError> {
        let signer: Arc<dyn Signer> = Arc::new(self.signer_of(family, CaRole::Issuing, passphrase)?);
        self.crl_updater_with(vec![(family, signer)])
    }

    fn crl_updater_with(&self, signers: Vec<(Family, Arc<dyn Signer>)>) -> Result<CrlUpdater, AuthorityError> {
        let mut cas = Vec::new();
        for (family, signer) in signers {
            if let Some(certs) = self.certs.of(family) {
                cas.push(CrlCa { family, signer, issuer: IssuerRef::of(&certs.issuing), urls: self.urls.for_family(family) });
            }
        }
        Ok(CrlUpdater::new(self.store()?, cas, self.layout.clone(), self.config.crl))
    }

    /// The audit key's public key, which every checkpoint must verify with.
    pub fn audit_public_key(&self) -> Result<SubjectPublicKeyInfoOwned, AuthorityError> {
        let path = self.layout.audit_public_key();
        let pem = fs::read_to_string(&path).map_err(io(&path))?;
        SubjectPublicKeyInfoOwned::from_pem(pem.as_bytes()).map_err(|e| AuthorityError::Damaged { path, reason: e.to_string() })
    }

    /// The checkpointer: signs checkpoints of the audit log with the audit key
    /// (made now for an authority created before audit keys existed).
    pub fn checkpointer(&self, passphrase: &Passphrase) -> Result<Checkpointer, AuthorityError> {
        let signer = if self.layout.audit_key().exists() {
            let path = self.layout.audit_key();
            let pem = fs::read_to_string(&path).map_err(io(&path))?;
            RsaSigner::from_pkcs8(&signing::decrypt_pkcs8(&pem, passphrase)?)?
        } else {
            new_audit_key(&self.layout, passphrase)?
        };
        Ok(Checkpointer::new(self.store()?, signer, self.urls.base().to_string()))
    }

    /// The directory layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Publication URLs of the RSA hierarchy (see [`Urls::for_family`]).
    pub fn urls(&self) -> &Urls {
        &self.urls
    }

    /// The RSA hierarchy's certificates.
    pub fn certificates(&self) -> &CaCertificates {
        &self.certs.rsa
    }

    /// Both hierarchies' certificates.
    pub fn hierarchies(&self) -> &Hierarchies {
        &self.certs
    }

    /// Issue the HTTPS server's own certificate for `hosts` with the issuing CA's
    /// `signer`, with a new RSA-2048 key; write the key (0600)
    /// and the chain to [`Layout::tls_key`] and [`Layout::tls_chain`], replacing
    /// any earlier ones. Valid for [`TLS_DAYS`]. Returns the certificate.
    pub fn issue_tls_certificate(
        &self,
        signer: &dyn Signer,
        hosts: &[profile::TlsHost],
        now: DateTime,
    ) -> Result<Certificate, AuthorityError> {
        let pkcs8 = signing::generate_rsa_pkcs8(TLS_KEY_BITS)?;
        let key = RsaSigner::from_pkcs8(&pkcs8)?;
        let issuing = &self.certs.rsa.issuing;
        let basics = TbsBasics {
            serial: signing::random_serial(),
            signature: signer.algorithm(),
            issuer: IssuerRef::of(issuing),
            validity: profile::validity_days(now, TLS_DAYS)?,
            public_key: key.public_key().clone(),
        };
        let cert = crate::issuer::sign_certificate(profile::tls_server(basics, hosts, &self.urls)?, signer)?;
        let damaged = |e: der::Error| AuthorityError::Damaged { path: self.layout.tls_chain(), reason: e.to_string() };
        let mut chain = cert.to_pem(der::pem::LineEnding::LF).map_err(damaged)?;
        chain.push_str(&issuing.to_pem(der::pem::LineEnding::LF).map_err(damaged)?);
        let key_pem = zeroize::Zeroizing::new(
            der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, &pkcs8).map_err(|e| damaged(e.into()))?,
        );
        let dir = self.layout.dir().join("tls");
        if !dir.exists() {
            create_private_dir(&dir)?;
        }
        write_private_atomically(&self.layout.tls_key(), key_pem.as_bytes())?;
        write_atomically(&self.layout.tls_chain(), chain.as_bytes())?;
        Ok(cert)
    }

    /// The time-stamp authority under the RSA issuing CA: its certificate
    /// (`tsa.pem`) and key (`tsa.key`, encrypted with the passphrase), issued by
    /// `issuing` with a new RSA-2048 key when there is none or fewer than
    /// [`TSA_RENEW_DAYS`] are left. Returns the authority and whether it was issued now.
    pub fn time_stamp_authority(
        &self,
        issuing: &dyn Signer,
        passphrase: &Passphrase,
        now: DateTime,
    ) -> Result<(crate::tsp::TimeStampAuthority, bool), AuthorityError> {
        let (cert_path, key_path) = (self.layout.tsa_cert(), self.layout.tsa_key());
        let policy = self.config.tsa.policy.parse().map_err(|_| AuthorityError::Damaged {
            path: self.layout.config(),
            reason: format!("tsa.policy {:?} is not an OID", self.config.tsa.policy),
        })?;
        let chain = vec![self.certs.rsa.issuing.clone(), self.certs.rsa.root.clone()];
        let current = if cert_path.exists() && key_path.exists() { Some(read_cert(&cert_path)?) } else { None };
        let lasting = current.as_ref().is_some_and(|c| {
            calendar::unix_seconds(&c.tbs_certificate.validity.not_after.to_date_time()) - calendar::unix_seconds(&now)
                > TSA_RENEW_DAYS * 86_400
        });
        if let (Some(cert), true) = (current, lasting) {
            let pem = fs::read_to_string(&key_path).map_err(io(&key_path))?;
            let key = SigningKey::from_pkcs8(&signing::decrypt_pkcs8(&pem, passphrase)?)?;
            if key.public_key() != &cert.tbs_certificate.subject_public_key_info {
                return Err(AuthorityError::Damaged { path: key_path, reason: "the key does not match tsa.pem".into() });
            }
            return Ok((crate::tsp::TimeStampAuthority::new(Box::new(key), cert, chain, policy), false));
        }
        let pkcs8 = signing::generate_rsa_pkcs8(OCSP_KEY_BITS)?;
        let key = SigningKey::from_pkcs8(&pkcs8)?;
        let basics = TbsBasics {
            serial: signing::random_serial(),
            signature: issuing.algorithm(),
            issuer: IssuerRef::of(&self.certs.rsa.issuing),
            validity: profile::validity_years(now, OCSP_YEARS)?,
            public_key: key.public_key().clone(),
        };
        let name = profile::ca_name(&self.config.tsa.name, true)?;
        let cert = crate::issuer::sign_certificate(profile::time_stamp_authority(basics, name, &self.urls)?, issuing)?;
        let pem = cert
            .to_pem(der::pem::LineEnding::LF)
            .map_err(|e| AuthorityError::Damaged { path: cert_path.clone(), reason: e.to_string() })?;
        write_private_atomically(&key_path, signing::encrypt_pkcs8(&pkcs8, passphrase)?.as_bytes())?;
        write_atomically(&cert_path, pem.as_bytes())?;
        Ok((crate::tsp::TimeStampAuthority::new(Box::new(key), cert, chain, policy), true))
    }

    /// Sign `family`'s root CRL (no CA certificate revoked) with its root key,
    /// valid for [`ROOT_CRL_DAYS`], and publish it (`crl/root_rsa.crl`,
    /// `crl/root_gost.crl`). The root key is read from `offline_root` (the
    /// directory `init` put it in) when given, else from the authority's
    /// directory; it is decrypted for this and dropped.
    pub fn publish_root_crl(
        &self,
        family: Family,
        passphrase: &Passphrase,
        now: i64,
        offline_root: Option<&Path>,
    ) -> Result<Vec<u8>, AuthorityError> {
        let certs = self.certs.of(family).ok_or(AuthorityError::NoHierarchy(family))?;
        let path =
            offline_root.map_or_else(|| self.layout.key_of(family, CaRole::Root), |d| d.join(Layout::key_file_name(family, CaRole::Root)));
        let root = self.signer_from(family, CaRole::Root, &path, passphrase)?;
        publish_root_crl(&self.layout, family, &root, &certs.root, now)
    }
}
