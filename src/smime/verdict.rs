//! The verdict types of `inspect_message` (docs/INSPECT.md). Structured fields and codes only;
//! the add-on turns them into words.

pub use crate::certs::revocation::RevocationReport;
use crate::certs::summary::CertSummary;
use crate::certs::trust::AnchorSource;
use crate::mime::address::Mailbox;
use crate::mime::encoding::LineEndings;
use crate::smime::cms_der::CertId;
use serde::Serialize;
use serde_json::{Map, Value};

/// Signature states. The declaration order is the precedence: when several problems apply, the
/// earliest wins (docs/INSPECT.md). `Valid` follows the problems; the structural states last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureState {
    Malformed,
    ContentAltered,
    UnsupportedAlgorithm,
    SignerCertificateMissing,
    Revoked,
    Untrusted,
    Expired,
    NotYetValid,
    WrongUsage,
    WeakAlgorithm,
    NoSenderAddress,
    SenderMismatch,
    TimeMismatch,
    Valid,
    PartiallySigned,
    None,
}

impl SignatureState {
    pub fn code(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }
}

/// One problem with a signature, with the context that explains it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub code: SignatureState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

impl Problem {
    pub fn new(code: SignatureState) -> Problem {
        Problem { code, reason: None, details: Map::new() }
    }

    pub fn because(code: SignatureState, reason: &'static str) -> Problem {
        Problem { code, reason: Some(reason), details: Map::new() }
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Problem {
        self.details.insert(key.to_string(), value.into());
        self
    }
}

/// The state a list of problems amounts to.
pub fn state_of(problems: &[Problem]) -> SignatureState {
    problems.iter().map(|p| p.code).min().unwrap_or(SignatureState::Valid)
}

/// A warning: a code plus optional context.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    pub code: &'static str,
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

impl Warning {
    pub fn new(code: &'static str) -> Warning {
        Warning { code, details: Map::new() }
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Warning {
        self.details.insert(key.to_string(), value.into());
        self
    }
}

pub fn push_unique(list: &mut Vec<Warning>, w: Warning) {
    if !list.iter().any(|x| x.code == w.code) {
        list.push(w);
    }
}

/// Problems listed per signer, most important first; more are counted in `problems_omitted`.
/// A signer rarely has more than three.
pub const MAX_REPORTED_PROBLEMS: usize = 16;

/// Issuer certificates listed per signer, nearest first; more are counted in `chain_omitted`.
/// Real chains have one to three.
pub const MAX_REPORTED_CHAIN: usize = 8;

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Sorts problems by precedence, drops repeats, and keeps the first `MAX_REPORTED_PROBLEMS`;
/// returns how many were dropped for the limit.
pub fn bound_problems(problems: &mut Vec<Problem>) -> usize {
    problems.sort_by_key(|p| p.code);
    problems.dedup_by(|a, b| a.code == b.code && a.reason == b.reason && a.details == b.details);
    let omitted = problems.len().saturating_sub(MAX_REPORTED_PROBLEMS);
    problems.truncate(MAX_REPORTED_PROBLEMS);
    omitted
}

#[derive(Debug, Clone, Serialize)]
pub struct SignerReport {
    pub state: SignatureState,
    pub problems: Vec<Problem>,
    /// Problems beyond `MAX_REPORTED_PROBLEMS`, not listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub problems_omitted: usize,
    pub certificate: Option<CertSummary>,
    pub chain: Vec<CertSummary>,
    /// Issuers beyond `MAX_REPORTED_CHAIN`, not listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub chain_omitted: usize,
    pub anchor: Option<AnchorSource>,
    pub signing_time: Option<String>,
    pub digest_algorithm: String,
    pub signature_algorithm: String,
    pub capabilities: Vec<String>,
    pub encryption_key_preference: Option<CertId>,
    /// What is known about revocation of the signer's certificate and its CAs, and how.
    pub revocation: RevocationReport,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignedForm {
    MultipartSigned,
    SignedData,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    Root,
    Inner,
    OutsideEncryption,
    BelowRoot,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignatureLayer {
    pub part: String,
    pub form: SignedForm,
    pub position: Position,
    pub state: SignatureState,
    pub problems: Vec<Problem>,
    /// How many SignerInfos the signature has; `signers` reports the first of them, at most
    /// `signature::MAX_SIGNERS_PER_LAYER`.
    pub signer_count: usize,
    pub signers: Vec<SignerReport>,
}

impl SignatureLayer {
    /// A layer whose signature or structure is broken beyond checking.
    pub fn malformed(part: &str, form: SignedForm, position: Position, reason: &'static str) -> SignatureLayer {
        SignatureLayer {
            part: part.to_string(),
            form,
            position,
            state: SignatureState::Malformed,
            problems: vec![Problem::because(SignatureState::Malformed, reason)],
            signer_count: 0,
            signers: Vec::new(),
        }
    }

    /// A problem of the whole layer (its structure or its place): listed with the layer and with
    /// every signer, whose state it decides when it takes precedence. No signer can vouch for
    /// what such a layer shows.
    pub fn condemn(&mut self, problem: Problem) {
        for signer in &mut self.signers {
            signer.problems.push(problem.clone());
            signer.problems_omitted += bound_problems(&mut signer.problems);
            signer.state = state_of(&signer.problems);
        }
        self.state = self.state.min(problem.code);
        self.problems.push(problem);
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SignatureReport {
    pub state: SignatureState,
    pub warnings: Vec<Warning>,
    pub signer: Option<CertSummary>,
    pub signing_time: Option<String>,
    pub problems: Vec<Problem>,
    pub covered_part: Option<String>,
    pub layers: Vec<SignatureLayer>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EncryptionState {
    None,
    Decrypted,
    NoKey,
    /// Encrypted to an identity of the user's whose key is locked: unlock it to read.
    Locked,
    Failed,
    Unsupported,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecipientReport {
    pub key_transport: &'static str,
    #[serde(flatten)]
    pub id: Option<CertId>,
    pub email: Option<String>,
    pub mine: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecryptedWith {
    pub fingerprint_sha256: String,
    pub subject: String,
    pub emails: Vec<String>,
    pub not_after: String,
    pub expired: bool,
    pub replaced: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct EncryptionReport {
    pub state: EncryptionState,
    pub form: Option<&'static str>,
    pub content_cipher: Option<String>,
    pub authenticated: Option<bool>,
    pub recipients: Vec<RecipientReport>,
    pub decrypted_with: Option<DecryptedWith>,
    pub failure: Option<&'static str>,
    pub warnings: Vec<Warning>,
    /// With state `locked`: the fingerprints of the identities that would open it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locked_identities: Vec<String>,
}

impl EncryptionReport {
    pub fn none() -> EncryptionReport {
        EncryptionReport {
            state: EncryptionState::None,
            form: None,
            content_cipher: None,
            authenticated: None,
            recipients: Vec::new(),
            decrypted_with: None,
            failure: None,
            warnings: Vec::new(),
            locked_identities: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StructureLayer {
    pub kind: &'static str,
    pub form: &'static str,
    pub part: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageInfo {
    pub size_bytes: usize,
    pub line_endings: LineEndings,
    /// The first mailboxes of the From fields (at most `sender::MAX_LISTED_MAILBOXES`).
    pub from: Vec<Mailbox>,
    /// How many mailboxes the From fields hold in all.
    pub from_count: usize,
    pub sender: Option<Mailbox>,
    pub date: Option<String>,
    pub structure: Vec<StructureLayer>,
    pub decrypted_by_thunderbird: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContentOut {
    pub content_type: String,
    pub size_bytes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_b64: Option<String>,
}

/// What the contact cache did with the message's signers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HarvestReport {
    /// SHA-256 fingerprints of the signer certificates stored or refreshed.
    pub stored: Vec<String>,
    /// The error code when the cache could not be used (the verdict is unaffected).
    pub error: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    pub signature: SignatureReport,
    pub encryption: EncryptionReport,
    pub message: MessageInfo,
    pub content: Option<ContentOut>,
    pub contacts: HarvestReport,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_follows_the_documented_order() {
        let problems = vec![
            Problem::new(SignatureState::TimeMismatch),
            Problem::new(SignatureState::Untrusted),
            Problem::new(SignatureState::Expired),
        ];
        assert_eq!(state_of(&problems), SignatureState::Untrusted);
        assert_eq!(state_of(&[]), SignatureState::Valid);
        assert!(SignatureState::ContentAltered < SignatureState::Revoked);
        assert!(SignatureState::SenderMismatch < SignatureState::TimeMismatch);
        assert_eq!(SignatureState::NotYetValid.code(), "not_yet_valid");
    }
}
