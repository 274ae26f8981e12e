//! The verdict on a whole message: walks the chain of S/MIME layers from the root down
//! (signature, encryption, signature, …), then looks below the final content for signed or
//! encrypted parts that do not cover the message (partially signed, EFAIL patterns), and decides
//! the primary states by the rules in docs/INSPECT.md.
//!
//! Only the layer shapes real agents produce are unwrapped, the same ones Thunderbird accepts,
//! so the verdict describes what Thunderbird shows: S, E, E→S (sign, then encrypt), S→E
//! (encrypt, then sign: the outer signature is ignored), S→E→S (triple wrap), and an opaque
//! signature inside an opaque signature (re-signed). Any other S/MIME layer in the chain is
//! misplaced: it is never unwrapped, and a multipart/signed involved in it is not valid.

use super::decrypt::{decrypt, DecryptionKey, RecipientNames};
use super::sender::{listed_mailboxes, sender_warnings, shortened, HeaderContext};
use super::signature::{verify_signed, VerifiedSigner, VerifyEnv};
use super::verdict::*;
use crate::certs::oid;
use crate::certs::summary::Cert;
use crate::certs::trust::TrustAnchors;
use crate::mime::encoding::{first_bare_lf, line_endings_from, to_crlf};
use std::borrow::Cow;
use crate::mime::{Ambiguity, Entity};
use crate::time::to_rfc3339;
use openssl::x509::X509;

/// S/MIME layers deeper than this are not unwrapped (a message is rarely more than three).
const MAX_LAYERS: usize = 8;
/// A warning lists at most this many part numbers (`count` says how many there are).
const MAX_LISTED_PARTS: usize = 10;

pub struct InspectOptions<'a> {
    /// Time certificates are judged at.
    pub at: i64,
    /// The real current time (for "has this key of yours expired since").
    pub now: i64,
    pub trust: &'a TrustAnchors,
    pub keys: &'a [DecryptionKey],
    /// Certificates of the user's identities whose keys are locked.
    pub locked: &'a [Cert],
    pub known_certs: &'a [X509],
    pub lookup: &'a dyn Fn(&crate::smime::cms_der::CertId) -> Option<X509>,
    pub names: &'a dyn RecipientNames,
    /// Put the final content into the report (`content.mime_b64`).
    pub return_content: bool,
    /// Keep the final content in `Inspection::content` (copying up to the message's size).
    pub keep_content: bool,
    pub decrypted_by_thunderbird: bool,
}

/// The report plus what the contact cache harvests.
pub struct Inspection {
    pub report: InspectReport,
    /// Signers of the layers that cover the message (root and inner), with their verdicts.
    pub signers: Vec<VerifiedSigner>,
    /// The message's Date header, for the contact cache.
    pub date: Option<i64>,
    /// The final content (canonical CRLF), for `return_content`.
    pub content: Option<Vec<u8>>,
}

enum ChainEntry {
    Signed { layer: SignatureLayer, warnings: Vec<Warning>, signers: Vec<VerifiedSigner> },
    Encrypted(EncryptionReport),
}

/// The kind of an S/MIME layer, for the placement rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Signed { multipart: bool },
    Encrypted,
}

/// Whether a layer may be unwrapped where it stands, given the accepted layers above it.
fn placement_allowed(above: &[Kind], new: Kind) -> bool {
    use Kind::*;
    match (above, new) {
        ([], _) => true,
        ([Encrypted], Signed { .. }) => true,
        ([Signed { .. }], Encrypted) => true,
        // Re-signed: an opaque signature around an opaque signature.
        ([Signed { multipart: false }], Signed { multipart: false }) => true,
        // Triple wrap: signature inside encryption inside a signature.
        ([Signed { .. }, Encrypted], Signed { .. }) => true,
        _ => false,
    }
}

struct Walk<'o> {
    opts: &'o InspectOptions<'o>,
    headers: HeaderContext,
    chain: Vec<ChainEntry>,
    kinds: Vec<Kind>,
    misplaced: Vec<Warning>,
    structure: Vec<StructureLayer>,
    below_root: Option<SignatureLayer>,
    encryption_warnings: Vec<Warning>,
    /// The final content: its type, canonical size, and the bytes when they are kept.
    content: Option<(String, usize, Option<Vec<u8>>)>,
    /// Where in memory the message is, up to its first bare LF: a part of it there needs no
    /// look for one (a 25 MiB signed part was looked through three times). Addresses, compared
    /// only.
    canonical: std::ops::Range<usize>,
}

pub fn inspect(raw: &[u8], opts: &InspectOptions<'_>) -> Inspection {
    let root = Entity::parse(raw);
    let headers = header_context(&root);
    let first_bare_lf = first_bare_lf(raw);
    let endings = line_endings_from(raw, first_bare_lf);
    let at = raw.as_ptr() as usize;
    let canonical = at..at + first_bare_lf.unwrap_or(raw.len());
    let mut walk = Walk {
        canonical,
        opts,
        headers,
        chain: Vec::new(),
        kinds: Vec::new(),
        misplaced: Vec::new(),
        structure: Vec::new(),
        below_root: None,
        encryption_warnings: Vec::new(),
        content: None,
    };
    walk.entity(&root, 0);
    // Lists in the verdict stay as long as a person can read (docs/INSPECT.md).
    let from = walk.headers.from_mailboxes();
    let message = MessageInfo {
        size_bytes: raw.len(),
        line_endings: endings,
        from: listed_mailboxes(&from),
        from_count: from.len(),
        sender: walk.headers.sender_mailbox().as_ref().map(shortened),
        date: walk.headers.date.map(to_rfc3339),
        structure: std::mem::take(&mut walk.structure),
        decrypted_by_thunderbird: opts.decrypted_by_thunderbird,
    };
    let sender_warnings = sender_warnings(&walk.headers);
    let mut inspection = walk.finish(message);
    for w in sender_warnings {
        push_unique(&mut inspection.report.signature.warnings, w);
    }
    inspection
}

fn header_context(entity: &Entity<'_>) -> HeaderContext {
    HeaderContext::read(entity)
}

/// Why readers may take an S/MIME entity differently (docs/INSPECT.md, "Ambiguous
/// structure"), as a `malformed` problem; None when it is no S/MIME entity in any reading, or
/// every reader takes it alike. For a multipart/signed its signature part counts too.
fn ambiguity(e: &Entity<'_>) -> Option<Problem> {
    let types = e.media_types();
    let has = |t: &str| types.iter().any(|x| x == t);
    // A multipart/signed whose one, unambiguous protocol is not S/MIME (PGP/MIME) is not ours.
    let other_protocol = types.len() == 1
        && !e.content_type.is_ambiguous("protocol")
        && e.content_type.param("protocol").is_some_and(|p| !is_signature_type(&p.to_ascii_lowercase()));
    let smime = has("application/pkcs7-mime")
        || has("application/x-pkcs7-mime")
        || has("multipart/signed") && !other_protocol
        || is_pkcs7_mime(e)
        || has("application/octet-stream") && e.content_type.is_ambiguous("name");
    if !smime {
        return None;
    }
    let mut found = e.ambiguities();
    if has("multipart/signed") {
        found.extend(e.children.get(1).map(Entity::ambiguities).unwrap_or_default());
    }
    found.into_iter().next().map(ambiguity_problem)
}

/// A multipart or attached message on the path from the root to a signed part whose parts
/// readers may find elsewhere: its boundary or its Content-Type or transfer encoding.
fn path_ambiguity(e: &Entity<'_>) -> Option<Problem> {
    e.ambiguities().into_iter().find(|a| matches!(a, Ambiguity::Header(_)) || *a == Ambiguity::Parameter("boundary".into())).map(ambiguity_problem)
}

fn ambiguity_problem(a: Ambiguity) -> Problem {
    match a {
        Ambiguity::Parameter(name) => Problem::because(SignatureState::Malformed, "ambiguous_parameter").with("parameter", name),
        Ambiguity::Header(name) => Problem::because(SignatureState::Malformed, "ambiguous_header").with("header", name),
    }
}

/// A malformed layer with one problem.
fn malformed_layer(e: &Entity<'_>, form: SignedForm, position: Position, problem: Problem) -> SignatureLayer {
    let mut layer = SignatureLayer::malformed(&e.number, form, position, "ambiguous_parameter");
    layer.problems = vec![problem];
    layer
}

fn is_signature_type(mime_type: &str) -> bool {
    matches!(mime_type, "application/pkcs7-signature" | "application/x-pkcs7-signature")
}

/// `application/pkcs7-mime` and its aliases, including a bare `smime.p7m` attachment.
fn is_pkcs7_mime(e: &Entity<'_>) -> bool {
    let t = e.content_type.mime_type.as_str();
    if matches!(t, "application/pkcs7-mime" | "application/x-pkcs7-mime") {
        return true;
    }
    t == "application/octet-stream" && e.file_name().is_some_and(|n| n.to_ascii_lowercase().ends_with(".p7m"))
}

fn smime_type(e: &Entity<'_>) -> String {
    e.content_type.param("smime-type").unwrap_or("").to_ascii_lowercase()
}

impl<'o> Walk<'o> {
    /// The final content's description, with its bytes only when someone wants them.
    fn keep(&self, e: &Entity<'_>) -> (String, usize, Option<Vec<u8>>) {
        let keep = self.opts.return_content || self.opts.keep_content;
        let bytes = keep.then(|| self.to_crlf(e.raw).into_owned());
        let size = match (&bytes, self.is_canonical(e.raw)) {
            (Some(bytes), _) => bytes.len(),
            (None, true) => e.raw.len(),
            (None, false) => crate::mime::encoding::crlf_len(e.raw),
        };
        (e.content_type.mime_type.clone(), size, bytes)
    }

    /// Whether `part` is known to have no bare LF: it lies in the message before the first one,
    /// and does not start with an LF (whose CR, if any, is outside it).
    fn is_canonical(&self, part: &[u8]) -> bool {
        let at = part.as_ptr() as usize;
        self.canonical.start <= at && at + part.len() <= self.canonical.end && part.first() != Some(&b'\n')
    }

    /// `to_crlf`, without looking again where the part is known to be canonical.
    fn to_crlf<'a>(&self, part: &'a [u8]) -> Cow<'a, [u8]> {
        if self.is_canonical(part) {
            Cow::Borrowed(part)
        } else {
            to_crlf(part)
        }
    }

    fn env(&self) -> VerifyEnv<'o> {
        VerifyEnv { trust: self.opts.trust, at: self.opts.at, known_certs: self.opts.known_certs, lookup: self.opts.lookup }
    }

    /// Unwraps one S/MIME layer at `e` (a root in the chain) and continues below it.
    fn entity(&mut self, e: &Entity<'_>, depth: usize) {
        if depth >= MAX_LAYERS {
            return self.final_content(e);
        }
        if let Some(problem) = ambiguity(e) {
            return self.ambiguous_layer(e, problem);
        }
        if e.content_type.is("multipart/signed") && self.is_smime_multipart_signed(e) {
            if !placement_allowed(&self.kinds, Kind::Signed { multipart: true }) {
                self.misplaced_layer(e, Kind::Signed { multipart: true });
            }
            return self.multipart_signed(e, depth);
        }
        if is_pkcs7_mime(e) {
            return self.pkcs7_mime(e, depth);
        }
        self.final_content(e)
    }

    fn is_smime_multipart_signed(&self, e: &Entity<'_>) -> bool {
        match e.content_type.param("protocol") {
            Some(p) => is_signature_type(&p.to_ascii_lowercase()),
            // No protocol parameter: decide by the signature part's type.
            None => e.children.get(1).is_some_and(|s| is_signature_type(&s.content_type.mime_type)),
        }
    }

    fn multipart_signed(&mut self, e: &Entity<'_>, depth: usize) {
        self.kinds.push(Kind::Signed { multipart: true });
        self.structure.push(StructureLayer { kind: "signed", form: "multipart_signed", part: e.number.clone() });
        let well_formed = e.children.len() == 2 && is_signature_type(&e.children[1].content_type.mime_type);
        if !well_formed {
            self.push_malformed(&e.number, SignedForm::MultipartSigned, "bad_mime_structure");
            return match e.children.first() {
                Some(content) => self.entity(content, depth + 1),
                None => self.final_content(e),
            };
        }
        let (content, signature) = (&e.children[0], &e.children[1]);
        let Ok(der) = signature.decoded_body() else {
            self.push_malformed(&e.number, SignedForm::MultipartSigned, "bad_signature_encoding");
            return self.entity(content, depth + 1);
        };
        // Verify exactly the bytes of the first part as they are in the message, in canonical form.
        let canonical = self.to_crlf(content.raw);
        let verified = verify_signed(SignedForm::MultipartSigned, &der, Some(&canonical), &e.number, &self.headers, &self.env());
        self.chain.push(ChainEntry::Signed { layer: verified.layer, warnings: verified.warnings, signers: verified.signers });
        self.entity(content, depth + 1);
    }

    fn pkcs7_mime(&mut self, e: &Entity<'_>, depth: usize) {
        let declared = smime_type(e);
        let der = match e.decoded_body() {
            Ok(der) => der,
            Err(_) => return self.undecodable(e, &declared),
        };
        let content_type = crate::smime::cms_der::content_info(&der).map(|c| c.content_type).unwrap_or_default();
        let kind = match content_type.as_str() {
            oid::SIGNED_DATA => Kind::Signed { multipart: false },
            oid::ENVELOPED_DATA | oid::AUTH_ENVELOPED_DATA | oid::COMPRESSED_DATA => Kind::Encrypted,
            _ => return self.undecodable(e, &declared),
        };
        let certs_only = declared == "certs-only";
        if !certs_only && !placement_allowed(&self.kinds, kind) {
            self.misplaced_layer(e, kind);
            if kind == Kind::Encrypted {
                // Never decrypted out of place (EFAIL): the layer is the content shown.
                self.content = Some(self.keep(e));
                return;
            }
        }
        match kind {
            Kind::Signed { .. } => {
                let verified = verify_signed(SignedForm::SignedData, &der, None, &e.number, &self.headers, &self.env());
                let no_signers = verified.layer.signers.is_empty() && verified.layer.state == SignatureState::None;
                let has_content = verified.content.as_ref().is_some_and(|c| !c.is_empty());
                if no_signers && (certs_only || !has_content) {
                    self.structure.push(StructureLayer { kind: "certs_only", form: "signed_data", part: e.number.clone() });
                    return;
                }
                self.kinds.push(kind);
                self.structure.push(StructureLayer { kind: "signed", form: "signed_data", part: e.number.clone() });
                let content = verified.content;
                self.chain.push(ChainEntry::Signed { layer: verified.layer, warnings: verified.warnings, signers: verified.signers });
                if let Some(content) = content {
                    let inner = Entity::parse(&content);
                    self.entity(&inner, depth + 1);
                }
            }
            Kind::Encrypted => {
                self.kinds.push(kind);
                let layer = decrypt(der, self.opts.keys, self.opts.locked, self.opts.names, self.opts.now);
                self.structure.push(StructureLayer { kind: "encrypted", form: layer.form, part: e.number.clone() });
                self.chain.push(ChainEntry::Encrypted(layer.report));
                if let Some(plain) = layer.plaintext {
                    let inner = Entity::parse(&plain);
                    self.entity(&inner, depth + 1);
                }
            }
        }
    }

    /// An S/MIME layer where no agent puts one (a multipart/signed inside a signature, a
    /// signature inside a multipart/signed, encryption below the second layer, ...). Encryption
    /// there is never unwrapped. A signature there is still verified and listed (as an inner
    /// layer), but the signature around it cannot vouch for what is shown: that layer becomes
    /// `malformed` (`misplaced_layer`), as Thunderbird shows it invalid.
    fn misplaced_layer(&mut self, e: &Entity<'_>, kind: Kind) {
        let name = match kind {
            Kind::Signed { .. } => "signed",
            Kind::Encrypted => "encrypted",
        };
        self.misplaced.push(Warning::new("misplaced_layer").with("part", e.number.clone()).with("kind", name));
        let parent_is_multipart = matches!(self.kinds.last(), Some(Kind::Signed { multipart: true }));
        if kind == (Kind::Signed { multipart: true }) || parent_is_multipart {
            let enclosing = self.chain.iter_mut().rev().find_map(|c| match c {
                ChainEntry::Signed { layer, .. } => Some(layer),
                ChainEntry::Encrypted(_) => None,
            });
            if let Some(layer) = enclosing {
                layer.condemn(Problem::because(SignatureState::Malformed, "misplaced_layer").with("part", e.number.clone()));
            }
        }
        if kind == Kind::Encrypted {
            self.encryption_warnings.push(Warning::new("encrypted_part_not_decrypted").with("parts", vec![e.number.clone()]));
        }
    }

    /// An S/MIME entity that readers may take differently: `malformed`, neither verified nor
    /// decrypted, and shown as it is.
    fn ambiguous_layer(&mut self, e: &Entity<'_>, problem: Problem) {
        let multipart = e.media_types().iter().any(|t| t == "multipart/signed");
        let (kind, form) = match () {
            _ if multipart => ("signed", "multipart_signed"),
            _ if smime_type(e).contains("enveloped") => ("encrypted", "unknown"),
            _ => ("signed", "signed_data"),
        };
        self.structure.push(StructureLayer { kind, form, part: e.number.clone() });
        let form = if multipart { SignedForm::MultipartSigned } else { SignedForm::SignedData };
        let layer = malformed_layer(e, form, Position::Root, problem);
        self.chain.push(ChainEntry::Signed { layer, warnings: Vec::new(), signers: Vec::new() });
        self.content = Some(self.keep(e));
    }

    /// An application/pkcs7-mime body that is not a CMS structure we know.
    fn undecodable(&mut self, e: &Entity<'_>, declared: &str) {
        if declared.contains("enveloped") {
            let mut report = EncryptionReport::none();
            report.state = EncryptionState::Unsupported;
            report.failure = Some("bad_encoding");
            self.structure.push(StructureLayer { kind: "encrypted", form: "unknown", part: e.number.clone() });
            self.chain.push(ChainEntry::Encrypted(report));
        } else {
            self.structure.push(StructureLayer { kind: "signed", form: "signed_data", part: e.number.clone() });
            self.push_malformed(&e.number, SignedForm::SignedData, "bad_signature_encoding");
        }
    }

    fn push_malformed(&mut self, part: &str, form: SignedForm, reason: &'static str) {
        let layer = SignatureLayer::malformed(part, form, Position::Root, reason);
        self.chain.push(ChainEntry::Signed { layer, warnings: Vec::new(), signers: Vec::new() });
    }

    /// The end of the chain: the content the user reads. Looks below it for parts that are
    /// signed or encrypted on their own.
    fn final_content(&mut self, e: &Entity<'_>) {
        self.content = Some(self.keep(e));
        let root_signed = self.deciding_layer().is_some();
        let mut encrypted_parts = Vec::new();
        let headers = self.headers.clone();
        let mut path = vec![e];
        for child in &e.children {
            self.scan_below(child, &headers, root_signed, &mut encrypted_parts, &mut path);
        }
        // A message of 20,000 encrypted parts lists the first few and counts them all.
        let count = encrypted_parts.len();
        encrypted_parts.truncate(MAX_LISTED_PARTS);
        let listed = |code: &'static str| {
            let w = Warning::new(code).with("parts", encrypted_parts.clone());
            if count > MAX_LISTED_PARTS { w.with("count", count) } else { w }
        };
        if count > 0 {
            self.encryption_warnings.push(listed("encrypted_part_not_decrypted"));
        }
        if count > 1 {
            self.encryption_warnings.push(listed("multiple_encrypted_parts"));
        }
    }

    /// `path`: the entities from the final content down to `e`'s parent.
    fn scan_below<'e, 'a>(
        &mut self,
        e: &'e Entity<'a>,
        headers: &HeaderContext,
        root_signed: bool,
        encrypted: &mut Vec<String>,
        path: &mut Vec<&'e Entity<'a>>,
    ) {
        let sniffed = if is_pkcs7_mime(e) { self.sniff(e) } else { None };
        // Only entities that look like S/MIME in our reading, or have several Content-Type
        // fields, are checked for other readings (each check reads the header block again).
        let maybe_smime = e.content_type.is("multipart/signed") || is_pkcs7_mime(e) || e.fields.iter().filter(|f| f.is("content-type")).count() > 1;
        let ambiguous = if maybe_smime { ambiguity(e) } else { None };
        let signed = (e.content_type.is("multipart/signed") && self.is_smime_multipart_signed(e))
            || sniffed == Some(oid::SIGNED_DATA)
            || ambiguous.is_some()
                && !smime_type(e).contains("enveloped")
                && !matches!(sniffed, Some(oid::ENVELOPED_DATA | oid::AUTH_ENVELOPED_DATA));
        if signed {
            if !root_signed && self.below_root.is_none() {
                // A signed part that readers may find elsewhere, or read differently, is malformed.
                let problem = path.iter().find_map(|p| path_ambiguity(p)).or(ambiguous);
                self.below_root = Some(match problem {
                    Some(problem) => {
                        let multipart = e.media_types().iter().any(|t| t == "multipart/signed");
                        let form = if multipart { SignedForm::MultipartSigned } else { SignedForm::SignedData };
                        malformed_layer(e, form, Position::BelowRoot, problem)
                    }
                    None => self.verify_below_root(e, headers),
                });
            }
            return;
        }
        if is_pkcs7_mime(e) {
            // Never decrypted here: decrypting a part inside attacker-chosen surroundings is
            // the EFAIL direct-exfiltration pattern.
            if matches!(sniffed, Some(oid::ENVELOPED_DATA | oid::AUTH_ENVELOPED_DATA)) || smime_type(e).contains("enveloped") {
                encrypted.push(e.number.clone());
            }
            return;
        }
        // An attached message is judged against its own From and Date.
        let inner_headers = if e.content_type.is("message/rfc822") { e.children.first().map(header_context) } else { None };
        let headers = inner_headers.as_ref().unwrap_or(headers);
        path.push(e);
        for child in &e.children {
            self.scan_below(child, headers, root_signed, encrypted, path);
        }
        path.pop();
    }

    fn sniff(&self, e: &Entity<'_>) -> Option<&'static str> {
        let der = e.decoded_body().ok()?;
        let ct = crate::smime::cms_der::content_info(&der).ok()?.content_type;
        [oid::SIGNED_DATA, oid::ENVELOPED_DATA, oid::AUTH_ENVELOPED_DATA].into_iter().find(|o| *o == ct)
    }

    fn verify_below_root(&self, e: &Entity<'_>, headers: &HeaderContext) -> SignatureLayer {
        let mut layer = if e.content_type.is("multipart/signed") {
            match (e.children.first(), e.children.get(1).and_then(|s| s.decoded_body().ok())) {
                (Some(content), Some(der)) if e.children.len() == 2 => {
                    let canonical = self.to_crlf(content.raw);
                    verify_signed(SignedForm::MultipartSigned, &der, Some(&canonical), &e.number, headers, &self.env()).layer
                }
                _ => SignatureLayer::malformed(&e.number, SignedForm::MultipartSigned, Position::BelowRoot, "bad_mime_structure"),
            }
        } else {
            let der = e.decoded_body().map(|d| d.into_owned()).unwrap_or_default();
            verify_signed(SignedForm::SignedData, &der, None, &e.number, headers, &self.env()).layer
        };
        layer.position = Position::BelowRoot;
        layer
    }

    /// Index of the signature layer that decides the state: the first one with signers below
    /// the last encryption layer.
    fn deciding_layer(&self) -> Option<usize> {
        let start = self.chain.iter().rposition(|c| matches!(c, ChainEntry::Encrypted(_))).map_or(0, |i| i + 1);
        (start..self.chain.len()).find(|&i| matches!(&self.chain[i], ChainEntry::Signed { layer, .. } if !layer.signers.is_empty() || layer.state == SignatureState::Malformed))
    }

    fn finish(mut self, message: MessageInfo) -> Inspection {
        let deciding = self.deciding_layer();
        let last_enc = self.chain.iter().rposition(|c| matches!(c, ChainEntry::Encrypted(_)));
        let mut warnings = Vec::new();
        let mut layers = Vec::new();
        let mut harvested = Vec::new();
        let mut encryption: Option<EncryptionReport> = None;
        let mut primary: Option<SignatureLayer> = None;
        for (i, entry) in std::mem::take(&mut self.chain).into_iter().enumerate() {
            match entry {
                // The placement rules admit one encryption layer; a second one is misplaced and
                // never reaches the chain.
                ChainEntry::Encrypted(report) => encryption = encryption.or(Some(report)),
                ChainEntry::Signed { mut layer, warnings: layer_warnings, signers } => {
                    layer.position = match (last_enc, deciding) {
                        (Some(e), _) if i < e => Position::OutsideEncryption,
                        (_, Some(d)) if i == d => Position::Root,
                        (_, Some(d)) if i > d => Position::Inner,
                        _ => Position::Root,
                    };
                    match layer.position {
                        Position::OutsideEncryption => push_unique(&mut warnings, Warning::new("signature_outside_encryption").with("part", layer.part.clone())),
                        Position::Inner => push_unique(&mut warnings, Warning::new("inner_signature").with("part", layer.part.clone())),
                        _ => {}
                    }
                    if Some(i) == deciding || layer.signers.is_empty() && layer.position == Position::Root {
                        for w in layer_warnings {
                            push_unique(&mut warnings, w);
                        }
                    }
                    if matches!(layer.position, Position::Root | Position::Inner) {
                        harvested.extend(signers);
                    }
                    if Some(i) == deciding {
                        primary = Some(layer.clone());
                    }
                    layers.push(layer);
                }
            }
        }
        for w in std::mem::take(&mut self.misplaced) {
            warnings.push(w);
        }
        let mut encryption = encryption.unwrap_or_else(EncryptionReport::none);
        encryption.warnings.append(&mut self.encryption_warnings);

        let (state, signer, signing_time, problems, covered_part) = match (&primary, &self.below_root) {
            (Some(layer), _) => {
                let worst = layer.signers.iter().min_by_key(|s| s.state);
                let problems = match worst {
                    Some(s) => s.problems.clone(),
                    None => layer.problems.clone(),
                };
                (layer.state, worst.and_then(|s| s.certificate.clone()), worst.and_then(|s| s.signing_time.clone()), problems, None)
            }
            (None, Some(below)) => (SignatureState::PartiallySigned, None, None, Vec::new(), Some(below.part.clone())),
            (None, None) => (SignatureState::None, None, None, Vec::new(), None),
        };
        if let Some(below) = self.below_root.take() {
            layers.push(below);
        }
        if primary.is_none() && encryption.state == EncryptionState::Decrypted {
            push_unique(&mut warnings, Warning::new("encrypted_but_unsigned"));
        }
        let content = self.content.take();
        let content_out = content.as_ref().map(|(ct, size, bytes)| ContentOut {
            content_type: ct.clone(),
            size_bytes: *size,
            mime_b64: if self.opts.return_content { bytes.as_deref().map(crate::b64::encode) } else { None },
        });
        Inspection {
            report: InspectReport {
                signature: SignatureReport { state, warnings, signer, signing_time, problems, covered_part, layers },
                encryption,
                message,
                content: content_out,
                contacts: HarvestReport::default(),
            },
            signers: harvested,
            date: self.headers.date,
            content: content.and_then(|(_, _, b)| b),
        }
    }
}
