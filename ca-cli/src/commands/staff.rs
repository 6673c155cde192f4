//! The authority's own staff. Every state-changing console command (`issue`,
//! `revoke`, `unhold`, `application confirm|reject`, `operator add|revoke`) is a
//! request signed with the staff member's own SIGN key (`--operator-key DIR`, the
//! key store `ca operator add` wrote) and checked exactly as the API checks it:
//! the signature, the certificate's status, its staff role against the action.
//! The audit log names the certificate's serial; no user name from the
//! environment names anyone. Only the first administrator is added by the CA
//! passphrase holder alone.

use super::{enroll, Ctx, SerialStatus};
use crate::args::{NameArgs, OperatorAddArgs, PersonArgs};
use crate::error::{CliError, CliResult};
use crate::output::Output;
use ca_core::api::{PairPem, SignedAction};
use ca_core::audit::Actor;
use ca_core::calendar::{self, Date};
use ca_core::model::{RevocationReason, Serial, StaffRole};
use ca_core::profile::{Applicant, LegalEntity, PersonName};
use ca_core::registration::{Registration, RegistrationError, StaffMember};
use ca_core::signing::{self, RsaSigner};
use ca_core::store::{CertificateStore, ListFilter};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// SHA-256 of a request's DER (PEM is decoded first), hex: how a signed
/// `issue_pair` names the requests it is about.
pub fn request_digest(bytes: &[u8]) -> String {
    let der = if ca_core::pem::is_pem(bytes) { ca_core::pem::decode(bytes).map(|(_, d)| d).ok() } else { None };
    hex::encode(Sha256::digest(der.as_deref().unwrap_or(bytes)))
}

/// Sign `action` with the staff key store the command was given and have `ra`
/// check it; the staff member it names.
pub fn authorize(ctx: &Ctx, ra: &mut Registration<'_>, action: SignedAction) -> CliResult<StaffMember> {
    let Some(dir) = &ctx.operator_key else {
        return Err(CliError::refused(
            "no_operator_key",
            "this command is signed with a staff member's own key: give --operator-key DIR (or CA_OPERATOR_KEY), \
             the key store `ca operator add` wrote",
        ));
    };
    let password = enroll::password(ctx.operator_password_file.as_deref())?;
    let envelope = enroll::sign_with_key_store(dir, &password, action)?;
    let (member, _) = ra.authorize(&envelope)?;
    Ok(member)
}

/// Who issues a pair: the staff member who signed `action`, or, for the first
/// administrator only and without a staff key, the CA passphrase holder.
fn issuing_actor(ctx: &Ctx, ra: &mut Registration<'_>, action: SignedAction) -> CliResult<Actor> {
    let first_admin = matches!(action, SignedAction::IssuePair { staff: Some(StaffRole::Administrator), .. });
    if ctx.operator_key.is_none() && first_admin {
        // Refused, an administrator exists: their key signs (--operator-key).
        return ra.first_administrator().map_err(|e| {
            let forbidden = matches!(e, RegistrationError::Forbidden(_));
            let mut err = CliError::from(e);
            if forbidden {
                err.message.push_str(" (--operator-key)");
            }
            err
        });
    }
    Ok(authorize(ctx, ra, action)?.actor())
}

/// The applicant `p` describes, with `staff` as their role inside the authority.
pub fn applicant(p: &PersonArgs, identification: ca_core::model::IdentificationMethod, staff: Option<StaffRole>) -> CliResult<Applicant> {
    let entity = match (&p.bin, &p.org, p.role) {
        (Some(bin), Some(org), Some(role)) => Some(LegalEntity::new(bin, org, role.into())?),
        _ => None,
    };
    person(&p.who, entity, identification, staff)
}

/// The person `w` names, with `entity` and `staff` role if any.
fn person(
    w: &NameArgs,
    entity: Option<LegalEntity>,
    identification: ca_core::model::IdentificationMethod,
    staff: Option<StaffRole>,
) -> CliResult<Applicant> {
    let name = PersonName::new(&w.surname, &w.name, w.patronymic.as_deref())?;
    let applicant = Applicant::new(&w.iin, name, w.email.as_deref(), entity, identification, Date::of(&calendar::now()))?;
    Ok(match staff {
        Some(s) => applicant.with_staff_role(s),
        None => applicant,
    })
}

/// Issue a pair for `applicant` from the two requests, signed off by the staff
/// key (or, for the first administrator, the key holder).
pub fn issue_pair(ctx: &Ctx, applicant: &Applicant, auth_csr: &[u8], sign_csr: &[u8]) -> CliResult<ca_core::issuer::IssuedPair> {
    let action = SignedAction::IssuePair {
        iin: applicant.iin().to_string(),
        staff: applicant.staff(),
        auth_csr_sha256: request_digest(auth_csr),
        sign_csr_sha256: request_digest(sign_csr),
    };
    let ca = ctx.open()?;
    let issuer = ca.issuer(ca.issuing_signer(&ctx.passphrase()?)?)?;
    let mut db = ca.store()?;
    let clock = ca_core::registration::SystemClock;
    let actor = {
        let issuing = ca.hierarchies().issuing_cas();
        let mut ra = Registration::new(&mut db, &issuing, &clock);
        issuing_actor(ctx, &mut ra, action)?
    };
    Ok(issuer.issue_pair(&mut db, applicant, auth_csr, sign_csr, calendar::now(), actor)?)
}

/// A staff member added: their key store files.
#[derive(Serialize)]
pub struct Added {
    role: StaffRole,
    auth: Serial,
    sign: Serial,
    files: Vec<String>,
}

impl Output for Added {
    fn human(&self) -> String {
        format!("added a {} (SIGN certificate {}):\n  {}", self.role, self.sign, self.files.join("\n  "))
    }
}

/// `ca operator add`: new keys, the pair issued with the staff role, and the key
/// store written (PKCS#12, password from --password-file or $CA_KEY_PASSWORD).
pub fn add(ctx: &Ctx, a: &OperatorAddArgs) -> CliResult<Added> {
    let password = enroll::password(a.password_file.as_deref())?;
    let applicant = person(&a.who, None, ca_core::model::IdentificationMethod::InPerson, Some(a.role))?;
    let keys = [signing::generate_rsa_pkcs8(2048)?, signing::generate_rsa_pkcs8(2048)?];
    let csr = |k: &[u8]| -> CliResult<Vec<u8>> { Ok(ca_core::csr::create(&RsaSigner::from_pkcs8(k)?)?) };
    let (auth_csr, sign_csr) = (csr(&keys[0])?, csr(&keys[1])?);
    let pair = issue_pair(ctx, &applicant, &auth_csr, &sign_csr)?;
    let ca = ctx.open()?;
    let certs = ca.certificates();
    let chain = [&certs.issuing, &certs.root];
    let pem = PairPem::new(&pair.auth, &pair.sign, &chain, &chain)?;
    std::fs::create_dir_all(&a.out).map_err(|e| CliError::writing(&a.out, e))?;
    let files = enroll::store_pair(&a.out, &pem, [&keys[0], &keys[1]], &password, ca_core::pkcs12::Protection::Pbes2)?;
    Ok(Added { role: a.role, auth: Serial::of(&pair.auth), sign: Serial::of(&pair.sign), files })
}

/// One member of staff, by their SIGN certificate.
#[derive(Serialize)]
pub struct Member {
    serial: Serial,
    role: Option<StaffRole>,
    iin: String,
    name: String,
    status: &'static str,
    not_after: Option<String>,
}

/// The staff.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Members(Vec<Member>);

impl Output for Members {
    fn human(&self) -> String {
        let rows: Vec<String> = self
            .0
            .iter()
            .map(|m| format!("{}  {:16}  {}  {}  {}", m.serial, m.role.map_or("?", |r| r.as_str()), m.iin, m.status, m.name))
            .collect();
        if rows.is_empty() {
            "no staff certificates".into()
        } else {
            rows.join("\n")
        }
    }
}

/// `ca operator list`: every staff SIGN certificate, newest first.
pub fn list(ctx: &Ctx) -> CliResult<Members> {
    let ca = ctx.open()?;
    let db = ca.store()?;
    let now = calendar::unix_now();
    let records = db.list(&ListFilter { staff: true, now, ..Default::default() })?;
    let members = records
        .into_iter()
        .filter(|r| r.cert_type == ca_core::model::CertType::Sign)
        .map(|r| Member {
            status: r.status(now).as_str(),
            not_after: super::rfc3339(r.not_after),
            role: r.holder.staff,
            iin: r.holder.iin.clone(),
            name: r.common_name.clone(),
            serial: r.serial,
        })
        .collect();
    Ok(Members(members))
}

/// `ca operator revoke`: an administrator revokes a staff member's pair, named by
/// either certificate.
pub fn revoke(ctx: &Ctx, serial: &Serial, reason: RevocationReason) -> CliResult<Vec<SerialStatus>> {
    ctx.with_ra(false, |ra| {
        let record =
            ra.store().certificate(serial)?.ok_or_else(|| CliError::refused("unknown_certificate", format!("no certificate {serial}")))?;
        if record.holder.staff.is_none() {
            return Err(CliError::refused("not_staff", format!("{serial} is not a staff member's certificate; use ca revoke")));
        }
        let action = SignedAction::RevokeCertificate { serial: serial.clone(), reason, invalidity_date: None };
        let member = authorize(ctx, ra, action)?;
        let mut done = Vec::new();
        for cert in ra.store().pair(record.pair_id)? {
            if cert.revocation.is_some() {
                continue;
            }
            ra.revoke_since(&cert.serial, reason, None, &member)?;
            done.push(SerialStatus { serial: cert.serial, status: "revoked", reason: Some(reason.as_str()), invalidity_date: None });
        }
        Ok(done)
    })
}

impl Output for Vec<SerialStatus> {}
