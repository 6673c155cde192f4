//! Applications as the RA knows them: what an applicant declares, what a new
//! application brings, and what the RA answers about one. Values, not text: times
//! are Unix seconds, requests are DER. The applications API's bodies (`api`) are
//! made from these and into these at the edge.

use crate::model::{ApplicationState, KeyStorage, Role, Serial};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// What an applicant declares: the person, the entity they represent if any,
/// where the keys will live, and the center they will visit. Kept with the
/// application as JSON under these field names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicantDetails {
    /// IIN, 12 digits.
    pub iin: String,
    /// Surname.
    pub surname: String,
    /// Given name.
    pub name: String,
    /// Patronymic.
    #[serde(default)]
    pub patronymic: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// For a legal entity's representative.
    #[serde(default)]
    pub entity: Option<EntityDetails>,
    /// Where the keys live.
    pub storage: KeyStorage,
    /// The registration center the applicant will visit.
    pub registration_center: String,
}

/// The legal entity an applicant represents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityDetails {
    /// BIN, 12 digits.
    pub bin: String,
    /// Organization name.
    pub organization: String,
    /// The representative's role.
    pub role: Role,
}

/// A new application: the applicant's details and both requests, DER.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    /// The applicant's details.
    pub applicant: ApplicantDetails,
    /// The AUTH certificate request, DER.
    pub auth_csr: Vec<u8>,
    /// The SIGN certificate request, DER.
    pub sign_csr: Vec<u8>,
}

/// A new application's receipt: its number, and the secret that lets the applicant
/// follow it (shown once; only its hash is kept).
#[derive(Debug)]
pub struct Receipt {
    /// Application number.
    pub number: String,
    /// The secret for status queries and the download.
    pub secret: Zeroizing<String>,
    /// State after routing.
    pub state: ApplicationState,
}

/// An application as it stands now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicationStatus {
    /// Number.
    pub number: String,
    /// State (a pending application whose time is up reads as expired).
    pub state: ApplicationState,
    /// Submitted, Unix seconds.
    pub submitted_at: i64,
    /// When a pending application expires, Unix seconds.
    pub expires_at: Option<i64>,
    /// The applicant's details.
    pub applicant: ApplicantDetails,
    /// Serial of the approving head's certificate.
    pub approved_by: Option<Serial>,
    /// Why it was rejected.
    pub reject_reason: Option<String>,
    /// Serials of the issued pair.
    pub certificates: Option<PairSerials>,
}

/// The two serials of a pair.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PairSerials {
    /// AUTH certificate serial.
    pub auth: Serial,
    /// SIGN certificate serial.
    pub sign: Serial,
}

/// A page of the applications awaiting identity confirmation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingApplications {
    /// Oldest first.
    pub applications: Vec<ApplicationStatus>,
    /// Where the next page starts (its `after`), when there may be one.
    pub next: Option<String>,
}
