//! The domain's plain types, at the bottom of the crate: what a certificate is for,
//! who holds it, where an application stands, why a certificate was revoked, and
//! the one canonical form of a serial number. Every other part may use these;
//! this module uses nothing of ours but [`crate::oid`].
//!
//! Each named value has one spelling, used alike in the database, the API, the
//! command line and JSON output ([`CertType::as_str`], `FromStr`, serde).

use crate::oid;
use der::asn1::ObjectIdentifier as Oid;
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// A name that is not one of a type's values.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("unknown {what} {name:?}: use {expected}")]
pub struct UnknownName {
    /// What kind of value was expected (`role`, `revocation reason`, …).
    pub what: &'static str,
    /// What was given.
    pub name: String,
    /// The accepted names, for the message.
    pub expected: String,
}

impl UnknownName {
    fn new(what: &'static str, name: &str, names: &[&str]) -> Self {
        let expected = match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            Some((last, _)) => (*last).to_string(),
            None => String::new(),
        };
        UnknownName { what, name: name.to_string(), expected }
    }
}

/// An enum of named values: `ALL`, `as_str`, `Display`, `FromStr` (case-insensitive,
/// refusing with [`UnknownName`]) and serde as the name.
macro_rules! named {
    (@one $v:ident) => { 1 };
    ($(#[$m:meta])* pub enum $name:ident ($what:literal) { $($(#[$vm:meta])* $v:ident = $s:literal,)+ }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $v,)+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; 0 $(+ named!(@one $v))+] = [$($name::$v),+];

            /// The name in the database, the API, the command line and JSON.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$v => $s,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|x| x.as_str().eq_ignore_ascii_case(s.trim()))
                    .ok_or_else(|| UnknownName::new($what, s, &Self::ALL.map(|x| x.as_str())))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

named! {
    /// The two certificates of a pair.
    pub enum CertType ("certificate type") {
        /// Login: digitalSignature + keyEncipherment, clientAuth.
        Auth = "AUTH",
        /// Documents: digitalSignature + nonRepudiation, emailProtection.
        Sign = "SIGN",
    }
}

impl CertType {
    /// File name stem the authority's key stores use, before the key id: the
    /// authority names a GOST SIGN key file `GOSTKNCA_<key id>`.
    pub fn file_prefix(&self, family: Family) -> &'static str {
        match (self, family) {
            (CertType::Auth, Family::Rsa) => "AUTH_RSA256_",
            (CertType::Sign, Family::Rsa) => "RSA256_",
            (CertType::Auth, Family::Gost) => "AUTH_GOST512_",
            (CertType::Sign, Family::Gost) => "GOSTKNCA_",
        }
    }
}

named! {
    /// The signature algorithm family of a CA hierarchy and of the keys it
    /// certifies: the authority runs an RSA hierarchy and a GOST one side by side.
    pub enum Family ("key family") {
        /// RSA with SHA-256.
        Rsa = "rsa",
        /// GOST 34.10-2015 512-bit with Streebog-512.
        Gost = "gost",
    }
}

impl Family {
    /// The family of a public key algorithm this authority certifies: RSA, or
    /// GOST 34.10-2015 512-bit (the 2004 algorithm is read, never certified).
    pub fn of_key(algorithm: &Oid) -> Option<Family> {
        match *algorithm {
            oid::RSA_ENCRYPTION => Some(Family::Rsa),
            oid::GOST_2015_512_KEY => Some(Family::Gost),
            _ => None,
        }
    }
}

named! {
    /// Whom a pair is for.
    pub enum SubjectKind ("subject kind") {
        /// A citizen or resident.
        Individual = "individual",
        /// A legal entity's representative.
        LegalEntity = "legal_entity",
    }
}

named! {
    /// The role of a legal entity's representative.
    pub enum Role ("role") {
        /// First head; may sign and approve applications.
        Ceo = "ceo",
        /// Person with signing right.
        Signer = "signer",
        /// Person with the right to sign financial documents.
        Financial = "financial",
        /// HR officer; may approve employees' applications.
        Hr = "hr",
        /// Employee.
        Employee = "employee",
    }
}

/// The OID each value of a named enum is recorded as (in extended key usage).
macro_rules! oids {
    ($name:ident { $($v:ident => $oid:expr,)+ }) => {
        impl $name {
            /// The OID placed in extended key usage.
            pub fn oid(&self) -> Oid {
                match self { $($name::$v => $oid,)+ }
            }

            /// The value an OID names, if any.
            pub fn from_oid(o: &Oid) -> Option<$name> {
                $name::ALL.into_iter().find(|x| x.oid() == *o)
            }
        }
    };
}

oids!(Role {
    Ceo => oid::ROLE_CEO,
    Signer => oid::ROLE_SIGNER,
    Financial => oid::ROLE_FINANCIAL,
    Hr => oid::ROLE_HR,
    Employee => oid::ROLE_EMPLOYEE,
});

named! {
    /// A role inside the authority itself (CA staff), recorded in extended key usage.
    /// An operator's SIGN certificate is the credential for the operator API.
    pub enum StaffRole ("staff role") {
        /// CA administrator.
        Administrator = "ca_administrator",
        /// CA manager.
        Manager = "ca_manager",
        /// Registration-center operator: confirms and rejects applications.
        Operator = "ca_operator",
    }
}

oids!(StaffRole {
    Administrator => oid::STAFF_ADMINISTRATOR,
    Manager => oid::STAFF_MANAGER,
    Operator => oid::STAFF_OPERATOR,
});

named! {
    /// What a member of the authority's staff does, each signed with their own key.
    pub enum StaffAction ("staff action") {
        /// Read the queue of applications.
        ListApplications = "list_applications",
        /// Confirm an applicant's identity in person (the pair is issued).
        ConfirmIdentity = "confirm_identity",
        /// Reject an application.
        RejectApplication = "reject_application",
        /// Issue a pair directly, without an online application.
        IssuePair = "issue_pair",
        /// Revoke a holder's certificate, or put it on hold.
        RevokeCertificate = "revoke_certificate",
        /// Lift a hold.
        LiftHold = "lift_hold",
        /// Add, and revoke, the authority's own staff.
        ManageStaff = "manage_staff",
    }
}

impl StaffRole {
    /// Whether this role may do `action`: an operator works the applications; a
    /// manager also issues, revokes and lifts holds; an administrator also manages
    /// the staff.
    pub fn may(self, action: StaffAction) -> bool {
        use StaffAction::*;
        match self {
            StaffRole::Operator => matches!(action, ListApplications | ConfirmIdentity | RejectApplication),
            StaffRole::Manager => action != ManageStaff,
            StaffRole::Administrator => true,
        }
    }
}

/// Any role a certificate can carry: a representative's or a staff member's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnyRole {
    /// A legal entity's representative.
    Entity(Role),
    /// CA staff.
    Staff(StaffRole),
}

impl AnyRole {
    /// The role an OID names, if any.
    pub fn from_oid(o: &Oid) -> Option<AnyRole> {
        Role::from_oid(o).map(AnyRole::Entity).or_else(|| StaffRole::from_oid(o).map(AnyRole::Staff))
    }

    /// Its name.
    pub fn as_str(&self) -> &'static str {
        match self {
            AnyRole::Entity(r) => r.as_str(),
            AnyRole::Staff(r) => r.as_str(),
        }
    }
}

impl PartialEq<&str> for AnyRole {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for AnyRole {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

named! {
    /// How the applicant's identity was proven; recorded in extended key usage.
    pub enum IdentificationMethod ("identification method") {
        /// In person at a registration center.
        InPerson = "in_person",
        /// Remotely, by video identification (such certificates cannot be renewed).
        Remote = "remote",
    }
}

oids!(IdentificationMethod {
    InPerson => oid::IDENTIFIED_IN_PERSON,
    Remote => oid::IDENTIFIED_REMOTELY,
});

named! {
    /// Where the applicant's keys live.
    pub enum KeyStorage ("key storage") {
        /// PKCS#12 files on a PC.
        Pc = "pc",
        /// The chip of a national ID card (individuals only).
        Idcard = "idcard",
        /// A Kaztoken USB token.
        Kaztoken = "kaztoken",
    }
}

named! {
    /// Where an application stands. [`ApplicationState::after`] is the only place
    /// that knows which moves are legal.
    pub enum ApplicationState ("application state") {
        /// Received, not yet routed.
        Submitted = "submitted",
        /// Waiting for the entity's head (or, for an employee, the HR officer).
        AwaitingHeadApproval = "awaiting_head_approval",
        /// Waiting for the applicant's visit to a registration center.
        AwaitingIdentity = "awaiting_identity",
        /// Certificates issued.
        Issued = "issued",
        /// Refused by an operator.
        Rejected = "rejected",
        /// Not confirmed in time.
        Expired = "expired",
    }
}

/// What can happen to an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Sort a new application: does it need a head's approval?
    Route {
        /// Whether it does.
        needs_approval: bool,
    },
    /// The head approved.
    Approve,
    /// An operator confirmed the identity.
    Confirm,
    /// An operator rejected it.
    Reject,
    /// The confirmation period ran out.
    Expire,
}

impl Transition {
    fn verb(&self) -> &'static str {
        match self {
            Transition::Route { .. } => "routed",
            Transition::Approve => "approved",
            Transition::Confirm => "confirmed",
            Transition::Reject => "rejected",
            Transition::Expire => "expired",
        }
    }
}

/// A move the state machine does not allow.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
#[error("an application that is {from} cannot be {}", .transition.verb())]
pub struct IllegalTransition {
    /// The state it is in.
    pub from: ApplicationState,
    /// What was attempted.
    pub transition: Transition,
}

impl ApplicationState {
    /// The state after `t`, or why `t` is not allowed now.
    pub fn after(self, t: Transition) -> Result<ApplicationState, IllegalTransition> {
        use ApplicationState::*;
        match (self, t) {
            (Submitted, Transition::Route { needs_approval: true }) => Ok(AwaitingHeadApproval),
            (Submitted, Transition::Route { needs_approval: false }) => Ok(AwaitingIdentity),
            (AwaitingHeadApproval, Transition::Approve) => Ok(AwaitingIdentity),
            (AwaitingIdentity, Transition::Confirm) => Ok(Issued),
            (Submitted | AwaitingHeadApproval | AwaitingIdentity, Transition::Reject) => Ok(Rejected),
            (Submitted | AwaitingHeadApproval | AwaitingIdentity, Transition::Expire) => Ok(Expired),
            (from, transition) => Err(IllegalTransition { from, transition }),
        }
    }

    /// Still waiting for someone (and so able to expire).
    pub fn is_pending(&self) -> bool {
        matches!(self, ApplicationState::Submitted | ApplicationState::AwaitingHeadApproval | ApplicationState::AwaitingIdentity)
    }
}

/// A CRL reason code (RFC 5280 §5.3.1), by the camelCase names the CLI uses.
/// `unspecified` is not offered: RFC 5280 says to omit the reason code rather than
/// use it, and value 7 is unused.
macro_rules! reasons {
    ($($(#[$vm:meta])* $v:ident = $s:literal / $code:literal,)+) => {
        named! {
            /// Why a certificate was revoked (RFC 5280 §5.3.1).
            pub enum RevocationReason ("revocation reason") { $($(#[$vm])* $v = $s,)+ }
        }
        impl RevocationReason {
            /// The CRLReason code.
            pub fn code(&self) -> u8 {
                match self { $(RevocationReason::$v => $code,)+ }
            }
        }
    };
}

reasons! {
    /// The subject's private key was compromised (lost token, leaked file).
    KeyCompromise = "keyCompromise" / 1,
    /// The CA's key was compromised.
    CaCompromise = "cACompromise" / 2,
    /// The subject's name or affiliation changed.
    AffiliationChanged = "affiliationChanged" / 3,
    /// Replaced by a new certificate (renewal).
    Superseded = "superseded" / 4,
    /// No longer needed.
    CessationOfOperation = "cessationOfOperation" / 5,
    /// Temporarily suspended; can be lifted.
    CertificateHold = "certificateHold" / 6,
    /// Privileges withdrawn.
    PrivilegeWithdrawn = "privilegeWithdrawn" / 9,
    /// The attribute authority was compromised.
    AaCompromise = "aACompromise" / 10,
}

impl RevocationReason {
    /// The reason for a CRLReason code.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// Reasons only the authority may declare, never a holder.
    pub fn is_authority_only(&self) -> bool {
        matches!(self, RevocationReason::CaCompromise | RevocationReason::AaCompromise | RevocationReason::PrivilegeWithdrawn)
    }
}

/// The longest serial number accepted, in bytes (RFC 5280 allows 20 octets; some
/// issuers write a 21st leading zero).
pub const MAX_SERIAL_BYTES: usize = 32;

/// A text that is not a serial number.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{0:?} is not a serial number: give it in hexadecimal, at most {MAX_SERIAL_BYTES} bytes")]
pub struct BadSerial(pub String);

/// A certificate serial number in its one canonical form: the lowercase hex of the
/// DER INTEGER's content octets of a positive number (minimal: no leading `00`
/// unless the next byte's high bit is set). `0x`, spaces, colons and upper case
/// are accepted on input and dropped.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial(String);

impl Serial {
    /// Parse a serial typed by a person or read from a file.
    pub fn parse(text: &str) -> Result<Self, BadSerial> {
        let bad = || BadSerial(text.to_string());
        let t = text.trim();
        let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
        let digits: String = t.chars().filter(|c| !matches!(c, ':' | ' ')).collect();
        if digits.is_empty() || digits.len() > 2 * MAX_SERIAL_BYTES + 1 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let padded = if digits.len() % 2 == 1 { format!("0{digits}") } else { digits };
        let bytes = hex::decode(padded).map_err(|_| bad())?;
        Ok(Self::from_unsigned(&bytes))
    }

    /// The serial whose DER content octets are `bytes` (as a certificate carries them).
    pub fn from_der_bytes(bytes: &[u8]) -> Self {
        Serial(hex::encode(bytes))
    }

    /// The serial of a certificate.
    pub fn of(cert: &x509_cert::Certificate) -> Self {
        Self::from_der_bytes(cert.tbs_certificate.serial_number.as_bytes())
    }

    /// The serial of the positive number with big-endian magnitude `bytes`.
    fn from_unsigned(bytes: &[u8]) -> Self {
        let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len().saturating_sub(1));
        let mut minimal = bytes[first..].to_vec();
        if minimal.first().is_some_and(|b| b & 0x80 != 0) {
            minimal.insert(0, 0);
        }
        Serial(hex::encode(minimal))
    }

    /// The canonical hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Serial({})", self.0)
    }
}

impl FromStr for Serial {
    type Err = BadSerial;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Serial::parse(s)
    }
}

impl std::ops::Deref for Serial {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<&str> for Serial {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl serde::Serialize for Serial {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Serial {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Serial::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ApplicationState::*;

    #[test]
    fn state_machine_allows_only_the_documented_moves() {
        assert_eq!(Submitted.after(Transition::Route { needs_approval: true }), Ok(AwaitingHeadApproval));
        assert_eq!(Submitted.after(Transition::Route { needs_approval: false }), Ok(AwaitingIdentity));
        assert_eq!(AwaitingHeadApproval.after(Transition::Approve), Ok(AwaitingIdentity));
        assert_eq!(AwaitingIdentity.after(Transition::Confirm), Ok(Issued));
        for s in [Submitted, AwaitingHeadApproval, AwaitingIdentity] {
            assert_eq!(s.after(Transition::Reject), Ok(Rejected));
            assert_eq!(s.after(Transition::Expire), Ok(Expired));
        }
        // Everything else is refused, with the state and the attempt named.
        assert!(AwaitingHeadApproval.after(Transition::Confirm).is_err());
        assert!(AwaitingIdentity.after(Transition::Approve).is_err());
        for s in [Issued, Rejected, Expired] {
            for t in [
                Transition::Approve,
                Transition::Confirm,
                Transition::Reject,
                Transition::Expire,
                Transition::Route { needs_approval: false },
            ] {
                let e = s.after(t).unwrap_err();
                assert_eq!(e.from, s);
                assert!(e.to_string().contains(s.as_str()));
            }
        }
        for s in ApplicationState::ALL {
            assert_eq!(s.as_str().parse::<ApplicationState>(), Ok(s));
        }
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_typed() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
            assert_eq!(Role::from_oid(&r.oid()), Some(r));
        }
        let e = "boss".parse::<Role>().unwrap_err();
        assert_eq!(e.to_string(), "unknown role \"boss\": use ceo, signer, financial, hr or employee");
        assert_eq!("CEO".parse::<Role>(), Ok(Role::Ceo));
        assert_eq!(serde_json::to_string(&KeyStorage::Idcard).unwrap(), "\"idcard\"");
        assert_eq!(serde_json::from_str::<Role>("\"hr\"").unwrap(), Role::Hr);
        assert!(serde_json::from_str::<Role>("\"boss\"").is_err());
        assert_eq!(StaffRole::Operator.as_str().parse::<StaffRole>(), Ok(StaffRole::Operator));
        assert!(StaffRole::Operator.may(StaffAction::ConfirmIdentity));
        assert!(!StaffRole::Operator.may(StaffAction::RevokeCertificate));
        assert!(StaffRole::Manager.may(StaffAction::RevokeCertificate) && !StaffRole::Manager.may(StaffAction::ManageStaff));
        assert!(StaffAction::ALL.iter().all(|a| StaffRole::Administrator.may(*a)));
        assert_eq!(AnyRole::from_oid(&StaffRole::Operator.oid()), Some(AnyRole::Staff(StaffRole::Operator)));
        assert_eq!(CertType::Auth.as_str().parse::<CertType>(), Ok(CertType::Auth));
    }

    #[test]
    fn reasons_round_trip() {
        for r in RevocationReason::ALL {
            assert_eq!(RevocationReason::from_code(r.code()), Some(r));
            assert_eq!(r.as_str().parse::<RevocationReason>().unwrap(), r);
        }
        assert_eq!("KEYCOMPROMISE".parse::<RevocationReason>(), Ok(RevocationReason::KeyCompromise));
        assert!("unspecified".parse::<RevocationReason>().is_err());
        assert_eq!(RevocationReason::from_code(7), None);
    }

    #[test]
    fn serials_have_one_canonical_form() {
        assert_eq!(Serial::parse("00FF").unwrap(), "00ff");
        assert_eq!(Serial::parse("ff").unwrap(), "00ff");
        assert_eq!(Serial::parse("0x0123").unwrap(), "0123");
        assert_eq!(Serial::parse("123").unwrap(), "0123");
        assert_eq!(Serial::parse("00:01:23").unwrap(), "0123");
        assert_eq!(Serial::parse(" 7f ").unwrap(), "7f");
        assert_eq!(Serial::parse("00").unwrap(), "00");
        for bad in ["", "0x", "xyz", "12g4", &"a".repeat(70)] {
            assert!(Serial::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Serial::from_der_bytes(&[0x00, 0x80]).as_str(), "0080");
    }
}
