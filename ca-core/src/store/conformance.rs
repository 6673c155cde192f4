//! What every back end must do alike, as test bodies generic over the store: the
//! SQLite and the PostgreSQL tests run each of them on a fresh database.

use super::*;
use crate::audit::{Actor, AuditAction};

/// Every store trait at once.
pub(super) trait AllStores: CertificateStore + ApplicationStore + StatusStore + AuditStore + LeaseStore {}
impl<T: CertificateStore + ApplicationStore + StatusStore + AuditStore + LeaseStore> AllStores for T {}

pub(super) fn s(hex: &str) -> Serial {
    Serial::parse(hex).unwrap()
}

fn cert(serial: &str, t: CertType, fp: u8) -> NewCertificate {
    NewCertificate {
        serial: Serial::parse(serial).unwrap(),
        cert_type: t,
        common_name: "ТЕСТОВ ТЕСТ".into(),
        not_before: 1_000,
        not_after: 2_000,
        key_id: "ab".into(),
        key_fingerprint: [fp; 32],
        der: vec![0x30, 0x00],
        family: Family::Rsa,
    }
}

pub(super) fn event() -> AuditEvent {
    AuditEvent::new(Actor::System, AuditAction::PairIssued, "01", "")
}

pub(super) fn pair(a: &str, s: &str, fa: u8, fs: u8) -> NewPair {
    NewPair {
        holder: Holder { kind: SubjectKind::Individual, iin: "880515300120".into(), entity: None, staff: None },
        issued_at: 1_000,
        auth: cert(a, CertType::Auth, fa),
        sign: cert(s, CertType::Sign, fs),
    }
}

pub(super) fn application(number: &str, auth_csr: Vec<u8>, sign_csr: Vec<u8>) -> ApplicationRecord {
    ApplicationRecord {
        number: number.into(),
        secret_hash: vec![0; 32],
        state: ApplicationState::AwaitingIdentity,
        submitted_at: 1_000,
        updated_at: 1_000,
        center: "ЦОН".into(),
        storage: KeyStorage::Pc,
        iin: "880515300120".into(),
        bin: None,
        form: "{}".into(),
        auth_csr,
        sign_csr,
        approved_by: None,
        reject_reason: None,
        pair_id: None,
    }
}

fn crl(family: Family, base: Option<u64>) -> CrlRecord {
    CrlRecord { family, number: 0, base_number: base, status_seq: 0, this_update: 1, next_update: 2 }
}

/// Run every shared test, each on a store `fresh` makes.
pub(super) fn all<S: AllStores>(fresh: &mut dyn FnMut() -> S) {
    pair_round_trip_and_status(&mut fresh());
    a_failing_pair_leaves_nothing(&mut fresh());
    only_signed_crls_are_published(&mut fresh());
    each_ca_has_its_own_crls_and_certificates(&mut fresh());
    revocations_holds_and_the_status_log(&mut fresh());
    applications_move_only_from_the_state_they_are_in(&mut fresh());
    the_audit_log_is_one_chain_and_checkpoints_are_kept(&mut fresh());
    a_lease_has_one_holder_until_it_expires_or_is_given_up(&mut fresh());
}

fn a_lease_has_one_holder_until_it_expires_or_is_given_up(db: &mut impl LeaseStore) {
    assert!(db.hold_lease("jobs", "a", 60).unwrap());
    assert!(db.hold_lease("jobs", "a", 60).unwrap(), "renewed by its holder");
    assert!(!db.hold_lease("jobs", "b", 60).unwrap(), "not while a's runs");
    assert!(db.hold_lease("other", "b", 60).unwrap(), "each job has a lease of its own");
    db.release_lease("jobs", "b").unwrap(); // not b's: nothing happens
    assert!(!db.hold_lease("jobs", "b", 60).unwrap());
    db.release_lease("jobs", "a").unwrap();
    assert!(db.hold_lease("jobs", "b", 60).unwrap(), "given up, taken over at once");
    // An expired lease (a holder that stopped renewing) is taken over.
    assert!(db.hold_lease("short", "a", -1).unwrap());
    assert!(db.hold_lease("short", "b", 60).unwrap());
    assert!(!db.hold_lease("short", "a", 60).unwrap());
}

fn pair_round_trip_and_status(db: &mut impl AllStores) {
    db.insert_pair(&pair("01", "02", 1, 2), &event()).unwrap();
    let r = db.certificate(&s("01")).unwrap().unwrap();
    assert_eq!(r.cert_type, CertType::Auth);
    assert_eq!(r.status(500), Status::NotYetValid);
    assert_eq!(r.status(1_500), Status::Valid);
    assert_eq!(r.status(2_000), Status::Expired);
    assert!(db.serial_exists(&s("02")).unwrap());
    assert!(!db.serial_exists(&s("03")).unwrap());
    assert_eq!(db.serial_for_key(&[2; 32]).unwrap(), Some(s("02")));
    assert_eq!(db.pair(r.pair_id).unwrap().iter().map(|c| c.cert_type).collect::<Vec<_>>(), [CertType::Auth, CertType::Sign]);
    let valid = db.list(&ListFilter { status: Some(StatusFilter::Valid), now: 1_500, ..Default::default() }).unwrap();
    assert_eq!(valid.len(), 2);
    let expired = db.list(&ListFilter { status: Some(StatusFilter::Expired), now: 1_500, ..Default::default() }).unwrap();
    assert!(expired.is_empty());
    let other = db.list(&ListFilter { iin: Some("000000000000".into()), now: 1_500, ..Default::default() }).unwrap();
    assert!(other.is_empty());
    assert!(db.list(&ListFilter { staff: true, now: 1_500, ..Default::default() }).unwrap().is_empty());
    assert_eq!(RevocationReason::CertificateHold.code(), 6, "the SQL names certificateHold as reason 6");
    let listed = |db: &mut dyn CertificateStore, f| db.list(&ListFilter { status: Some(f), now: 1_500, ..Default::default() }).unwrap().len();
    assert_eq!((listed(db, StatusFilter::Hold), listed(db, StatusFilter::Revoked)), (0, 0));
    assert_eq!(db.count().unwrap(), 2);
}

fn a_failing_pair_leaves_nothing(db: &mut impl AllStores) {
    db.insert_pair(&pair("01", "02", 1, 2), &event()).unwrap();
    // The SIGN certificate's serial collides: the AUTH one must not stay behind.
    assert!(matches!(db.insert_pair(&pair("03", "01", 3, 4), &event()), Err(StoreError::Duplicate)));
    assert!(!db.serial_exists(&s("03")).unwrap());
    // The same key twice in one pair is refused by the database too.
    assert!(matches!(db.insert_pair(&pair("05", "06", 5, 5), &event()), Err(StoreError::Duplicate)));
    assert!(!db.serial_exists(&s("05")).unwrap());
    assert_eq!(db.count().unwrap(), 2);
    assert_eq!(db.verify_audit().unwrap(), AuditCheck::Intact { records: 1 }, "nor an audit record");
}

/// Three full CRLs, the first with a delta: returns the numbers whose bytes must
/// remain (the newest full CRL and the one before it).
pub(super) fn three_full_crls(db: &mut impl AllStores) -> Vec<u64> {
    let f1 = db.record_crl(&crl(Family::Rsa, None)).unwrap();
    db.save_crl(f1, b"full 1").unwrap();
    let d1 = db.record_crl(&crl(Family::Rsa, Some(f1))).unwrap();
    db.save_crl(d1, b"delta 1").unwrap();
    let f2 = db.record_crl(&crl(Family::Rsa, None)).unwrap();
    db.save_crl(f2, b"full 2").unwrap();
    let f3 = db.record_crl(&crl(Family::Rsa, None)).unwrap();
    db.save_crl(f3, b"full 3").unwrap();
    vec![f2, f3]
}

fn only_signed_crls_are_published(db: &mut impl AllStores) {
    let f1 = db.record_crl(&crl(Family::Rsa, None)).unwrap();
    db.save_crl(f1, b"full 1").unwrap();
    let d1 = db.record_crl(&crl(Family::Rsa, Some(f1))).unwrap();
    db.save_crl(d1, b"delta 1").unwrap();
    // A full CRL whose number was taken but which was never signed (a crash) is not published.
    let lost = db.record_crl(&crl(Family::Rsa, None)).unwrap();
    assert_eq!(db.latest_crl(Family::Rsa, false).unwrap().map(|c| c.number), Some(f1));
    assert_eq!(db.latest_crl(Family::Rsa, true).unwrap().map(|c| (c.number, c.base_number)), Some((d1, Some(f1))));
    assert_eq!(db.published_crl(Family::Rsa, false, None).unwrap().map(|(c, der)| (c.number, der)), Some((f1, b"full 1".to_vec())));
    assert_eq!(db.published_crl(Family::Rsa, true, None).unwrap().map(|(c, _)| c.number), Some(d1));
    assert!(db.published_crl(Family::Rsa, false, Some(f1)).unwrap().is_none(), "nothing newer than what is served");
    let f2 = db.record_crl(&crl(Family::Rsa, None)).unwrap();
    db.save_crl(f2, b"full 2").unwrap();
    assert!(f1 < d1 && d1 < lost && lost < f2, "numbers only grow: {f1} {d1} {lost} {f2}");
    // No delta on the new full CRL yet: none is offered.
    assert!(db.published_crl(Family::Rsa, true, Some(d1)).unwrap().is_none());
}

fn each_ca_has_its_own_crls_and_certificates(db: &mut impl AllStores) {
    let mut gost = pair("01", "02", 1, 2);
    gost.sign.family = Family::Gost;
    db.insert_pair(&gost, &event()).unwrap();
    db.revoke(&[s("01"), s("02")], Revocation::new(1_500, RevocationReason::KeyCompromise), &event()).unwrap();
    let rows = |family| {
        let mut serials = Vec::new();
        db.crl_rows(family, None, &mut |r| serials.push(r.serial.to_string())).unwrap();
        serials
    };
    assert_eq!(rows(Family::Rsa), vec!["01"]);
    assert_eq!(rows(Family::Gost), vec!["02"]);
    // OCSP for one CA does not know the other's serials.
    assert_ne!(db.revocation_of(Family::Rsa, &s("01")).unwrap(), SerialRevocation::Unknown);
    assert_eq!(db.revocation_of(Family::Gost, &s("01")).unwrap(), SerialRevocation::Unknown);
    assert_ne!(db.revocation_of(Family::Gost, &s("02")).unwrap(), SerialRevocation::Unknown);
    let rsa = db.record_crl(&crl(Family::Rsa, None)).unwrap();
    db.save_crl(rsa, b"rsa").unwrap();
    let mut last = 0;
    for der in [b"gost 1", b"gost 2", b"gost 3"] {
        last = db.record_crl(&crl(Family::Gost, None)).unwrap();
        db.save_crl(last, der).unwrap();
    }
    // The GOST CA's new CRLs neither hide nor prune the RSA CA's.
    assert_eq!(db.published_crl(Family::Rsa, false, None).unwrap().map(|(_, d)| d), Some(b"rsa".to_vec()));
    assert_eq!(db.published_crl(Family::Gost, false, None).unwrap().map(|(_, d)| d), Some(b"gost 3".to_vec()));
    assert_eq!(db.latest_crl(Family::Gost, false).unwrap().map(|c| (c.number, c.family)), Some((last, Family::Gost)));
    assert!(db.published_crl(Family::Gost, true, None).unwrap().is_none());
}

fn revocations_holds_and_the_status_log(db: &mut impl AllStores) {
    db.insert_pair(&pair("01", "02", 1, 2), &event()).unwrap();
    let start = db.status_seq().unwrap();
    let hold = Revocation::new(1_100, RevocationReason::CertificateHold);
    assert_eq!(db.revoke(&[s("01")], hold, &event()).unwrap(), 1);
    assert_eq!(db.revoke(&[s("01")], hold, &event()).unwrap(), 0, "a hold is not put on twice");
    assert!(db.unhold(&s("01"), 1_200, &event()).unwrap());
    assert!(!db.unhold(&s("01"), 1_200, &event()).unwrap(), "nothing to lift");
    let mut final_ = Revocation::new(1_300, RevocationReason::KeyCompromise);
    final_.invalid_since = Some(1_250);
    assert_eq!(db.revoke(&[s("01"), s("02")], final_, &event()).unwrap(), 2);
    assert_eq!(db.revoke(&[s("02")], Revocation::new(1_400, RevocationReason::Superseded), &event()).unwrap(), 0, "final is final");
    assert_eq!(db.revocation_of(Family::Rsa, &s("01")).unwrap(), SerialRevocation::Revoked(final_));
    // Every change is in the status log, in order: hold, lift, revoke ×2.
    let (changed, last) = db.status_changes(start, 100).unwrap();
    assert_eq!(changed, vec![s("01"), s("01"), s("01"), s("02")]);
    assert_eq!(last, db.status_seq().unwrap());
    assert_eq!(db.status_changes(last, 100).unwrap(), (vec![], last));
    // A delta since the hold lists both, with their final state.
    let mut delta = Vec::new();
    let seq = db.crl_rows(Family::Rsa, Some(start), &mut |r| delta.push((r.serial, r.revocation.map(|v| v.reason)))).unwrap();
    assert_eq!(seq, last);
    assert_eq!(delta, vec![(s("01"), Some(RevocationReason::KeyCompromise)), (s("02"), Some(RevocationReason::KeyCompromise))]);
    let listed = db.list(&ListFilter { status: Some(StatusFilter::Revoked), now: 1_500, ..Default::default() }).unwrap();
    assert_eq!(listed.len(), 2);
    // Renewal supersedes what is left of the old pair.
    db.insert_pair(&pair("03", "04", 3, 4), &event()).unwrap();
    let old = db.certificate(&s("03")).unwrap().unwrap().pair_id;
    let new = db.renew_pair(&pair("05", "06", 5, 6), old, &event()).unwrap();
    assert_ne!(new, old);
    assert_eq!(db.certificate(&s("04")).unwrap().unwrap().revocation.map(|r| r.reason), Some(RevocationReason::Superseded));
    assert_eq!(db.certificate(&s("06")).unwrap().unwrap().revocation, None);
}

fn applications_move_only_from_the_state_they_are_in(db: &mut impl AllStores) {
    let app = application("0000000000000001", vec![0x30, 0x00], vec![0x30, 0x01]);
    db.insert_application(&app, &event()).unwrap();
    assert_eq!(db.application(&app.number).unwrap().map(|a| (a.state, a.center)), Some((app.state, app.center.clone())));
    assert!(db.application("0000000000000002").unwrap().is_none());
    let second = ApplicationRecord { number: "0000000000000002".into(), submitted_at: 1_001, ..app.clone() };
    db.insert_application(&second, &event()).unwrap();
    let page = |db: &dyn ApplicationStore, after: Option<&str>| {
        let p = Page { after: after.map(str::to_string), limit: Some(1) };
        db.applications(Some(ApplicationState::AwaitingIdentity), Some("ЦОН"), &p).unwrap().iter().map(|a| a.number.clone()).collect::<Vec<_>>()
    };
    assert_eq!(page(db, None), ["0000000000000001"]);
    assert_eq!(page(db, Some("0000000000000001")), ["0000000000000002"]);
    assert!(page(db, Some("0000000000000002")).is_empty());
    let change = ApplicationChange { state: ApplicationState::Issued, at: 1_100, approved_by: None, reject_reason: None };
    let moved = db.update_application(&app.number, app.state, &change, Some(&pair("01", "02", 1, 2)), &event()).unwrap();
    let Moved::Done { pair_id: Some(pair_id) } = moved else { panic!("{moved:?}") };
    assert_eq!(db.application(&app.number).unwrap().and_then(|a| a.pair_id), Some(pair_id));
    // From a state it is no longer in: nothing moves, no pair is recorded.
    let again = db.update_application(&app.number, app.state, &change, Some(&pair("03", "04", 3, 4)), &event()).unwrap();
    assert_eq!(again, Moved::Stale);
    assert!(!db.serial_exists(&s("03")).unwrap());
    let reject = ApplicationChange { state: ApplicationState::Rejected, at: 1_100, approved_by: None, reject_reason: Some("r".into()) };
    assert_eq!(db.update_application(&second.number, second.state, &reject, None, &event()).unwrap(), Moved::Done { pair_id: None });
    assert_eq!(db.application(&second.number).unwrap().and_then(|a| a.reject_reason).as_deref(), Some("r"));
    // A signed request is used once; a day later it is forgotten (refused for its age elsewhere).
    assert!(db.consume_request(&[1; 32], 1_000).unwrap());
    assert!(!db.consume_request(&[1; 32], 1_001).unwrap());
    assert!(db.consume_request(&[1; 32], 1_000 + 86_401).unwrap());
}

fn the_audit_log_is_one_chain_and_checkpoints_are_kept(db: &mut impl AllStores) {
    for i in 0..5 {
        db.record_event(1_000 + i, &AuditEvent::new(Actor::Operator(format!("0{i}")), AuditAction::StaffRefused, "x", "")).unwrap();
    }
    assert_eq!(db.verify_audit().unwrap(), AuditCheck::Intact { records: 5 });
    let records = db.audit_records(0, 100).unwrap();
    assert_eq!(records.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    let q = AuditQuery { actor: Some("03".into()), limit: 10, ..Default::default() };
    assert_eq!(db.audit_search(&q).unwrap().iter().map(|r| r.seq).collect::<Vec<_>>(), [4]);
    let q = AuditQuery { since: Some(1_003), limit: 10, ..Default::default() };
    assert_eq!(db.audit_search(&q).unwrap().len(), 2);
    let checkpoint = |size| Checkpoint {
        origin: "o".into(),
        size,
        root: "r".into(),
        time: 1,
        key_id: "k".into(),
        signature: "s".into(),
    };
    db.save_checkpoint(&checkpoint(3)).unwrap();
    db.save_checkpoint(&checkpoint(5)).unwrap();
    db.save_checkpoint(&checkpoint(3)).unwrap(); // kept once
    assert_eq!(db.checkpoints(false).unwrap().iter().map(|c| c.size).collect::<Vec<_>>(), [3, 5]);
    assert_eq!(db.checkpoints(true).unwrap().iter().map(|c| c.size).collect::<Vec<_>>(), [5]);
}
