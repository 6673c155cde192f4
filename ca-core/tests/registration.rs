//! The registration authority through its library interface, with a clock the tests
//! move: the 30-day expiry, renewal at and past a certificate's end, approvals by
//! the wrong people, replays, revocation, and the audit chain under tampering.

use ca_core::audit::{Actor, AuditBreak};
use ca_core::authority::{self, Authority, InitOptions};
use ca_core::calendar::{self, Date};
use ca_core::identity::{Bin, Iin};
use ca_core::issuer::{IssuedPair, Issuer};
use ca_core::model::{ApplicationState, IdentificationMethod, KeyStorage, RevocationReason, Role, Serial, StaffRole};
use ca_core::profile::{Applicant, LegalEntity, PersonName};
use ca_core::registration::{
    ApplicantDetails, Clock, EntityDetails, FixedClock, Registration, RegistrationError, SignedAction, SignedEnvelope, SignedRequest,
    StaffMember, Submission, CONFIRMATION_DAYS,
};
use ca_core::signing::{Passphrase, RsaSigner};
use ca_core::store::{AuditCheck, AuditStore, CertificateStore, Store, Status};
use der::DateTime;
use fixtures::ApplicantKey;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use x509_cert::Certificate;

const BIN: &str = "040840000124";

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pass() -> Passphrase {
    Passphrase::new("registration test passphrase".into()).unwrap()
}

fn start() -> DateTime {
    DateTime::new(2026, 3, 1, 9, 0, 0).unwrap()
}

/// One authority made once per test binary, copied for each test.
fn template() -> &'static Path {
    static T: OnceLock<PathBuf> = OnceLock::new();
    T.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ca-core-registration-template-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        authority::init(&dir, &InitOptions::default(), &pass(), start()).unwrap();
        dir
    })
}

/// One test's authority: its directory, its certificates, a database connection
/// and the issuer, each a peer of the others.
struct Ctx {
    dir: Dir,
    ca: Authority,
    db: Store,
    issuer: Issuer,
}

impl Ctx {
    /// The RA over this authority, telling time by `clock`.
    fn ra<'a>(&'a mut self, clock: &'a dyn Clock) -> Registration<'a> {
        Registration::new(&mut self.db, std::slice::from_ref(&self.ca.certificates().issuing), clock).with_issuer(&self.issuer)
    }

    /// A second connection, for what the RA does not read (the audit log).
    fn audit(&self) -> Store {
        self.ca.store().unwrap()
    }
}

fn fresh(name: &str) -> Ctx {
    let dir = Dir(std::env::temp_dir().join(format!("ca-core-registration-{name}-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).unwrap();
    for entry in std::fs::read_dir(template()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), dir.0.join(entry.file_name())).unwrap();
            // not crl/: published files only
        }
    }
    let ca = Authority::open(&dir.0).unwrap();
    let db = ca.store().unwrap();
    let issuer = ca.issuer(ca.issuing_signer(&pass()).unwrap()).unwrap();
    Ctx { dir, ca, db, issuer }
}

/// A valid IIN: born 1988-05-15, a man, with sequence `seq`.
fn iin(seq: u32) -> String {
    (0..10).map(|d| format!("8805153{seq:04}{d}")).find(|s| Iin::parse(s).is_ok()).unwrap()
}

/// Another entity's valid BIN.
fn other_bin() -> String {
    (0..10).map(|d| format!("99074000001{d}")).find(|s| Bin::parse(s).is_ok()).unwrap()
}

fn keys() -> (ApplicantKey, ApplicantKey) {
    (ApplicantKey::generate(2048), ApplicantKey::generate(2048))
}

fn form(iin: &str, entity: Option<(&str, &str)>) -> ApplicantDetails {
    ApplicantDetails {
        iin: iin.into(),
        surname: "Тестов".into(),
        name: "Тест".into(),
        patronymic: None,
        email: None,
        entity: entity
            .map(|(bin, role)| EntityDetails { bin: bin.into(), organization: "ТОО ТЕСТ".into(), role: role.parse().unwrap() }),
        storage: KeyStorage::Pc,
        registration_center: "ЦОН Астана".into(),
    }
}

/// A holder issued directly (as `ca issue` does), with their keys.
struct Holder {
    pair: IssuedPair,
    sign_key: ApplicantKey,
    auth_key: ApplicantKey,
}

fn holder(ctx: &mut Ctx, iin: &str, role: Option<(&str, Role)>, how: IdentificationMethod, at: DateTime) -> Holder {
    let (auth_key, sign_key) = keys();
    let entity = role.map(|(bin, r)| LegalEntity::new(bin, "ТОО ТЕСТ", r).unwrap());
    let who = Applicant::new(iin, PersonName::new("Главный", "Глава", None).unwrap(), None, entity, how, Date::of(&at)).unwrap();
    let pair = ctx.issuer.issue_pair(&mut ctx.db, &who, &auth_key.csr_der("a"), &sign_key.csr_der("s"), at, Actor::System).unwrap();
    Holder { pair, sign_key, auth_key }
}

/// A member of staff with `role`, issued directly and authorized through a signed
/// request, as every staff action must be.
fn staff(ctx: &mut Ctx, role: StaffRole, seq: u32, clock: &dyn Clock) -> (StaffMember, Holder) {
    let (auth_key, sign_key) = keys();
    let who = Applicant::new(
        &iin(seq),
        PersonName::new("Штатов", "Штат", None).unwrap(),
        None,
        None,
        IdentificationMethod::InPerson,
        Date::of(&clock.now()),
    )
    .unwrap()
    .with_staff_role(role);
    let pair =
        ctx.issuer.issue_pair(&mut ctx.db, &who, &auth_key.csr_der("a"), &sign_key.csr_der("s"), clock.now(), Actor::KeyHolder).unwrap();
    let env = signed(SignedAction::ListPending { center: None, after: None, limit: None }, &sign_key, &pair.sign, clock);
    let (member, _) = ctx.ra(clock).authorize(&env).unwrap();
    (member, Holder { pair, sign_key, auth_key })
}

fn signed(action: SignedAction, key: &ApplicantKey, cert: &Certificate, clock: &dyn Clock) -> SignedEnvelope {
    let signer = RsaSigner::from_pkcs8(key.pkcs8_der()).unwrap();
    SignedEnvelope::sign(&SignedRequest::new(action), &signer, cert, clock.now()).unwrap()
}

/// A new application of `applicant` with the two requests.
fn submission(applicant: ApplicantDetails, auth_csr: Vec<u8>, sign_csr: Vec<u8>) -> Submission {
    Submission { applicant, auth_csr, sign_csr }
}

fn serial(c: &Certificate) -> Serial {
    Serial::of(c)
}

#[test]
fn individual_applies_is_confirmed_and_the_audit_chain_catches_an_edit() {
    let mut ctx = fresh("individual");
    let clock = FixedClock::new(start());
    let (op, _) = staff(&mut ctx, StaffRole::Operator, 900, &clock);
    let mut ra = ctx.ra(&clock);
    let (a, s) = keys();
    let receipt = ra.submit(&submission(form(&iin(1), None), a.csr_der("x"), s.csr_der("y"))).unwrap();
    assert_eq!(receipt.state, ApplicationState::AwaitingIdentity);
    assert_eq!(receipt.number.len(), 16);
    assert!(matches!(ra.status(&receipt.number, "wrong secret"), Err(RegistrationError::NotFound)));
    assert!(matches!(ra.certificates(&receipt.number, &receipt.secret), Err(RegistrationError::NotIssued { .. })));
    let pending = ra.list(None, Some("ЦОН Астана")).unwrap();
    assert_eq!(pending.len(), 1);
    assert!(ra.list(None, Some("elsewhere")).unwrap().is_empty());

    let pair = ra.confirm(&receipt.number, &op).unwrap();
    let view = ra.status(&receipt.number, &receipt.secret).unwrap();
    assert_eq!(view.state, ApplicationState::Issued);
    assert_eq!(view.certificates.unwrap().sign, serial(&pair.sign));
    let (auth, sign) = ra.certificates(&receipt.number, &receipt.secret).unwrap();
    assert_eq!((auth, sign), (pair.auth.clone(), pair.sign.clone()));
    // Issued is final.
    assert!(matches!(ra.confirm(&receipt.number, &op), Err(RegistrationError::Illegal(_))));
    assert!(matches!(ra.reject(&receipt.number, "late", &op), Err(RegistrationError::Illegal(_))));
    // The same keys cannot apply again.
    assert!(ra.submit(&submission(form(&iin(1), None), a.csr_der("x"), s.csr_der("y"))).is_err());

    // the operator's pair, submitted, confirmed (pair issued with it) = 3 records.
    assert_eq!(ctx.audit().verify_audit().unwrap(), AuditCheck::Intact { records: 3 });
    let Ctx { dir, ca, db, issuer } = ctx;
    drop((ca, db, issuer));
    let db = rusqlite::Connection::open(dir.0.join("ca.sqlite")).unwrap();
    db.execute("UPDATE audit_log SET actor = 'operator:someone-else' WHERE seq = 3", []).unwrap();
    drop(db);
    let ca = Authority::open(&dir.0).unwrap();
    assert_eq!(ca.store().unwrap().verify_audit().unwrap(), AuditCheck::Broken(AuditBreak::Altered(3)));
}

#[test]
fn employee_waits_for_the_head_and_only_the_head_may_approve() {
    let mut ctx = fresh("employee");
    let clock = FixedClock::new(start());
    let ceo = holder(&mut ctx, &iin(10), Some((BIN, Role::Ceo)), IdentificationMethod::InPerson, start());
    let stranger = holder(&mut ctx, &iin(11), Some((other_bin().as_str(), Role::Ceo)), IdentificationMethod::InPerson, start());
    let revoked_ceo = holder(&mut ctx, &iin(12), Some((BIN, Role::Ceo)), IdentificationMethod::InPerson, start());
    let plain = holder(&mut ctx, &iin(13), Some((BIN, Role::Signer)), IdentificationMethod::InPerson, start());
    let (op, _) = staff(&mut ctx, StaffRole::Manager, 900, &clock);
    let mut ra = ctx.ra(&clock);
    ra.revoke_since(&serial(&revoked_ceo.pair.sign), RevocationReason::AffiliationChanged, None, &op).unwrap();

    let (a, s) = keys();
    let receipt = ra.submit(&submission(form(&iin(20), Some((BIN, "employee"))), a.csr_der("x"), s.csr_der("y"))).unwrap();
    assert_eq!(receipt.state, ApplicationState::AwaitingHeadApproval);
    assert!(matches!(ra.confirm(&receipt.number, &op), Err(RegistrationError::AwaitingApproval(_))));
    let approve = || SignedAction::Approve { application: receipt.number.clone() };

    let by_stranger = signed(approve(), &stranger.sign_key, &stranger.pair.sign, &clock);
    assert!(matches!(ra.approve(&receipt.number, &by_stranger), Err(RegistrationError::Forbidden(_))));
    let by_auth_key = signed(approve(), &ceo.auth_key, &ceo.pair.auth, &clock);
    assert!(matches!(ra.approve(&receipt.number, &by_auth_key), Err(RegistrationError::NotASignKey)));
    let by_revoked = signed(approve(), &revoked_ceo.sign_key, &revoked_ceo.pair.sign, &clock);
    assert!(matches!(ra.approve(&receipt.number, &by_revoked), Err(RegistrationError::SignerNotValid { status: "revoked", .. })));
    let by_signer = signed(approve(), &plain.sign_key, &plain.pair.sign, &clock);
    assert!(matches!(ra.approve(&receipt.number, &by_signer), Err(RegistrationError::Forbidden(_))));
    // A signature over other bytes than those sent.
    let mut tampered = signed(approve(), &ceo.sign_key, &ceo.pair.sign, &clock);
    tampered.request = signed(approve(), &ceo.sign_key, &ceo.pair.sign, &clock).request;
    assert!(matches!(ra.approve(&receipt.number, &tampered), Err(RegistrationError::Signature(_))));
    assert_eq!(ra.show(&receipt.number).unwrap().state, ApplicationState::AwaitingHeadApproval);

    let good = signed(approve(), &ceo.sign_key, &ceo.pair.sign, &clock);
    let view = ra.approve(&receipt.number, &good).unwrap();
    assert_eq!(view.state, ApplicationState::AwaitingIdentity);
    assert_eq!(view.approved_by.as_deref(), Some(serial(&ceo.pair.sign).as_str()));
    assert!(matches!(ra.approve(&receipt.number, &good), Err(RegistrationError::Replay)));
    // A signature from too long ago.
    let old_clock = FixedClock::new(start());
    old_clock.advance(-3_600);
    let stale = signed(approve(), &ceo.sign_key, &ceo.pair.sign, &old_clock);
    assert!(matches!(ra.approve(&receipt.number, &stale), Err(RegistrationError::Stale { .. })));

    let pair = ra.confirm(&receipt.number, &op).unwrap();
    let info = ca_core::verify::CertificateInfo::of(&pair.sign);
    assert_eq!(info.roles, vec!["employee"]);
    assert_eq!(info.owner.bin.as_deref(), Some(BIN));
}

#[test]
fn an_application_left_thirty_days_expires_and_cannot_be_confirmed() {
    let mut ctx = fresh("expiry");
    let clock = FixedClock::new(start());
    let (op, _) = staff(&mut ctx, StaffRole::Operator, 900, &clock);
    let mut ra = ctx.ra(&clock);
    let (a, s) = keys();
    let receipt = ra.submit(&submission(form(&iin(30), None), a.csr_der("x"), s.csr_der("y"))).unwrap();
    clock.advance(CONFIRMATION_DAYS * 86_400 - 1);
    assert_eq!(ra.status(&receipt.number, &receipt.secret).unwrap().state, ApplicationState::AwaitingIdentity);
    clock.advance(1);
    assert!(matches!(ra.confirm(&receipt.number, &op), Err(RegistrationError::Expired(_))));
    let view = ra.status(&receipt.number, &receipt.secret).unwrap();
    assert_eq!(view.state, ApplicationState::Expired);
    assert_eq!(view.expires_at, None);
    assert!(matches!(ra.confirm(&receipt.number, &op), Err(RegistrationError::Expired(_))));
    assert_eq!(ra.store().count().unwrap(), 2, "nothing issued but the operator's pair");
    assert_eq!(ctx.audit().verify_audit().unwrap(), AuditCheck::Intact { records: 3 }, "the operator's pair, submitted, expired");
}

#[test]
fn renewal_supersedes_the_old_pair_and_is_refused_when_it_must_be() {
    let mut ctx = fresh("renewal");
    let clock = FixedClock::new(start());
    let me = holder(&mut ctx, &iin(40), None, IdentificationMethod::InPerson, start());
    let remote = holder(&mut ctx, &iin(41), None, IdentificationMethod::Remote, start());
    let expiring = holder(&mut ctx, &iin(42), None, IdentificationMethod::InPerson, start());
    let mut ra = ctx.ra(&clock);
    clock.advance(100 * 86_400);
    let renew =
        |k: &ApplicantKey, k2: &ApplicantKey| SignedAction::Renew { auth_csr: k.csr_der("a"), sign_csr: k2.csr_der("s") };
    let (na, ns) = keys();
    let env = signed(renew(&na, &ns), &me.sign_key, &me.pair.sign, &clock);
    let new = ra.renew(&env).unwrap();
    assert!(matches!(ra.renew(&env), Err(RegistrationError::Replay)));
    let now = calendar::unix_seconds(&clock.now());
    for old in [&me.pair.auth, &me.pair.sign] {
        let rec = ra.store().certificate(&serial(old)).unwrap().unwrap();
        assert!(matches!(rec.status(now), Status::Revoked(r) if r.reason == RevocationReason::Superseded));
    }
    // The old key is revoked now: it cannot renew again.
    let (a2, s2) = keys();
    let again = signed(renew(&a2, &s2), &me.sign_key, &me.pair.sign, &clock);
    assert!(matches!(ra.renew(&again), Err(RegistrationError::SignerNotValid { status: "revoked", .. })));
    // AUTH keys do not sign.
    let with_auth = signed(renew(&a2, &s2), &me.auth_key, &me.pair.auth, &clock);
    assert!(matches!(ra.renew(&with_auth), Err(RegistrationError::SignerNotValid { .. }) | Err(RegistrationError::NotASignKey)));
    // Remotely identified: apply again instead.
    let by_remote = signed(renew(&a2, &s2), &remote.sign_key, &remote.pair.sign, &clock);
    assert!(matches!(ra.renew(&by_remote), Err(RegistrationError::NotRenewable(_))));
    // Past the end of its year, a certificate renews nothing.
    clock.advance(300 * 86_400);
    let late = signed(renew(&a2, &s2), &expiring.sign_key, &expiring.pair.sign, &clock);
    assert!(matches!(ra.renew(&late), Err(RegistrationError::SignerNotValid { status: "expired", .. })));
    // The new pair carries the same person.
    let info = ca_core::verify::CertificateInfo::of(&new.sign);
    assert_eq!(info.owner.iin.as_deref(), Some(iin(40).as_str()));
    assert_eq!(info.identification, Some(IdentificationMethod::InPerson));
}

#[test]
fn owner_and_operator_revocation_hold_and_unhold() {
    let mut ctx = fresh("revocation");
    let clock = FixedClock::new(start());
    let me = holder(&mut ctx, &iin(50), None, IdentificationMethod::InPerson, start());
    let other = holder(&mut ctx, &iin(51), None, IdentificationMethod::InPerson, start());
    let (op, _) = staff(&mut ctx, StaffRole::Manager, 900, &clock);
    let mut ra = ctx.ra(&clock);
    let not_mine = signed(SignedAction::Revoke { reason: "cACompromise".into() }, &me.sign_key, &me.pair.sign, &clock);
    assert!(matches!(ra.revoke_own(&not_mine), Err(RegistrationError::Forbidden(_))));
    let env = signed(SignedAction::Revoke { reason: "keyCompromise".into() }, &me.sign_key, &me.pair.sign, &clock);
    let revoked = ra.revoke_own(&env).unwrap();
    assert_eq!(revoked.len(), 2);

    let s = serial(&other.pair.auth);
    assert!(matches!(ra.unhold(&s, &op), Err(RegistrationError::NotOnHold(_))));
    ra.revoke_since(&s, RevocationReason::CertificateHold, None, &op).unwrap();
    assert!(matches!(ra.revoke_since(&s, RevocationReason::CertificateHold, None, &op), Err(RegistrationError::AlreadyRevoked(_))));
    ra.unhold(&s, &op).unwrap();
    ra.revoke_since(&s, RevocationReason::CertificateHold, None, &op).unwrap();
    ra.revoke_since(&s, RevocationReason::KeyCompromise, None, &op).unwrap();
    assert!(matches!(ra.unhold(&s, &op), Err(RegistrationError::NotOnHold(_))));
    assert!(matches!(ra.revoke_since(&s, RevocationReason::Superseded, None, &op), Err(RegistrationError::AlreadyRevoked(_))));
    assert!(matches!(
        ra.revoke_since(&"00ff".parse().unwrap(), RevocationReason::Superseded, None, &op),
        Err(RegistrationError::UnknownCertificate(_))
    ));
    // 3 pairs issued + own revoke + hold + unhold + hold + keyCompromise = 8.
    assert_eq!(ctx.audit().verify_audit().unwrap(), AuditCheck::Intact { records: 8 });
}

#[test]
fn two_confirmations_racing_for_one_key_end_in_a_typed_conflict() {
    use ca_core::audit::{AuditAction, AuditEvent};
    use ca_core::registration::ErrorClass;
    use ca_core::store::{ApplicationChange, ApplicationStore, StoreError};
    let mut ctx = fresh("race");
    let clock = FixedClock::new(start());
    let (op, _) = staff(&mut ctx, StaffRole::Operator, 900, &clock);
    let (shared, a2, b1, b2) =
        (ApplicantKey::generate(2048), ApplicantKey::generate(2048), ApplicantKey::generate(2048), ApplicantKey::generate(2048));
    let mut ra = ctx.ra(&clock);
    let first = ra.submit(&submission(form(&iin(70), None), shared.csr_der("x"), a2.csr_der("y"))).unwrap();
    // A key waiting in a pending application is refused at submission...
    let again = ra.submit(&submission(form(&iin(71), None), shared.csr_der("x"), b2.csr_der("y")));
    assert!(matches!(again, Err(RegistrationError::KeyPending(_))), "{again:?}");
    // ...but confirmations can still race (for applications made before keys were
    // recorded, or submitted at the same instant): the store is the last line.
    let second = ra.submit(&submission(form(&iin(71), None), b1.csr_der("x"), b2.csr_der("y"))).unwrap();
    // The second confirmation checked the keys and signed before the first was recorded...
    let who = Applicant::new(
        &iin(71),
        PersonName::new("Тестов", "Тест", None).unwrap(),
        None,
        None,
        IdentificationMethod::InPerson,
        Date::of(&start()),
    )
    .unwrap();
    let late = ctx.issuer.prepare_pair(&ctx.db, &who, &shared.csr_der("x"), &b2.csr_der("y"), start()).unwrap();
    ctx.ra(&clock).confirm(&first.number, &op).unwrap();
    // ...so recording it breaks the one-key-one-certificate rule, and the store says so, typed.
    let change = ApplicationChange { state: ApplicationState::Issued, at: 0, approved_by: None, reject_reason: None };
    let event = AuditEvent::new(Actor::Operator("op2".into()), AuditAction::IdentityConfirmed, &second.number, late.describe());
    let err =
        ctx.db.update_application(&second.number, ApplicationState::AwaitingIdentity, &change, Some(late.record()), &event).unwrap_err();
    assert!(matches!(err, StoreError::Duplicate), "{err}");
    let answer = RegistrationError::from(err);
    assert_eq!((answer.class(), answer.code()), (ErrorClass::Conflict, "conflict"));
    // Nothing of the losing confirmation was recorded.
    assert_eq!(ctx.ra(&clock).show(&second.number).unwrap().state, ApplicationState::AwaitingIdentity);
    assert_eq!(
        ctx.audit().verify_audit().unwrap(),
        AuditCheck::Intact { records: 4 },
        "the operator's pair, two submissions and one confirmation"
    );
}

#[test]
fn staff_requests_are_checked_against_role_and_status_and_refusals_are_audited() {
    let mut ctx = fresh("staff");
    let clock = FixedClock::new(start());
    let (admin, _) = staff(&mut ctx, StaffRole::Administrator, 901, &clock);
    let (manager, _) = staff(&mut ctx, StaffRole::Manager, 902, &clock);
    let (_, operator) = staff(&mut ctx, StaffRole::Operator, 903, &clock);
    let holder = holder(&mut ctx, &iin(904), None, IdentificationMethod::InPerson, start());
    let target = serial(&holder.pair.auth);
    let revoke =
        || SignedAction::RevokeCertificate { serial: target.clone(), reason: RevocationReason::KeyCompromise, invalidity_date: None };
    let mut ra = ctx.ra(&clock);
    // An operator may not revoke; a holder without a staff role may do nothing.
    let e = ra.authorize(&signed(revoke(), &operator.sign_key, &operator.pair.sign, &clock)).unwrap_err();
    assert!(matches!(&e, RegistrationError::Forbidden(m) if m.contains("may not revoke")), "{e}");
    let e = ra.authorize(&signed(revoke(), &holder.sign_key, &holder.pair.sign, &clock)).unwrap_err();
    assert!(matches!(&e, RegistrationError::Forbidden(m) if m.contains("no staff role")), "{e}");
    // A manager revokes holders, not staff.
    assert!(matches!(
        ra.revoke_since(&serial(&operator.pair.auth), RevocationReason::AffiliationChanged, None, &manager),
        Err(RegistrationError::Forbidden(_))
    ));
    // An administrator revokes the operator; the operator's next request is refused.
    ra.revoke_since(&serial(&operator.pair.sign), RevocationReason::AffiliationChanged, None, &admin).unwrap();
    let confirm = SignedAction::Confirm { application: "0000000000000001".into() };
    let revoked_request = signed(confirm.clone(), &operator.sign_key, &operator.pair.sign, &clock);
    let e = ra.authorize(&revoked_request).unwrap_err();
    assert!(matches!(e, RegistrationError::SignerNotValid { status: "revoked", .. }), "{e}");
    // Replayed, the same envelope is refused as a replay and recorded no more: one
    // envelope cannot flood the log.
    for _ in 0..50 {
        assert!(matches!(ra.authorize(&revoked_request), Err(RegistrationError::Replay)));
    }
    // An envelope outside the time window is refused before anything is recorded,
    // however often it comes, whoever signed it.
    let old_clock = FixedClock::new(start());
    old_clock.advance(-300 * 86_400);
    let ancient = signed(confirm, &holder.sign_key, &holder.pair.sign, &old_clock);
    for _ in 0..50 {
        assert!(matches!(ra.authorize(&ancient), Err(RegistrationError::Stale { .. })));
    }
    // Each refusal is in the audit log under the signer's certificate; nothing else changed.
    let db = rusqlite::Connection::open(ctx.dir.0.join("ca.sqlite")).unwrap();
    let refused: Vec<(String, String)> = db
        .prepare("SELECT actor, object FROM audit_log WHERE action = 'staff_refused' ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let by = |c: &Certificate| format!("operator:{}", serial(c));
    assert_eq!(
        refused,
        vec![
            (by(&operator.pair.sign), "revoke_certificate".to_string()),
            (by(&holder.pair.sign), "revoke_certificate".to_string()),
            (by(&operator.pair.sign), "confirm".to_string()),
        ]
    );
    assert_eq!(ctx.db.certificate(&target).unwrap().unwrap().revocation, None);
    assert!(matches!(ctx.audit().verify_audit().unwrap(), AuditCheck::Intact { records } if records > 0));
}
