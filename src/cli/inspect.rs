//! `inspect`: the verdict on a message file, readable or as JSON (the same JSON as the op).

use super::{Args, CliError, Globals, UsageError, EXIT_OK};
use crate::error::Error;
use crate::inspect::{inspect, InspectRequest};
use crate::untrusted::shown;
use crate::smime::decrypt::DecryptionKey;
use crate::smime::verdict::{InspectReport, SignatureState};
use std::path::PathBuf;

/// Loads `--p12 FILE --password-file FILE` pairs (one password file may serve them all).
pub fn call_keys(p12s: &[PathBuf], passwords: &[PathBuf]) -> Result<Vec<DecryptionKey>, CliError> {
    if !p12s.is_empty() && passwords.is_empty() {
        return Err(UsageError("--p12 needs --password-file".into()).into());
    }
    if passwords.len() > 1 && passwords.len() != p12s.len() {
        return Err(UsageError("give one --password-file, or one per --p12".into()).into());
    }
    let mut keys = Vec::new();
    for (i, path) in p12s.iter().enumerate() {
        let password = super::secrets::secret_file(&passwords[i.min(passwords.len() - 1)])?;
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let contents = crate::pkcs12::open(&bytes, password.as_str(), &path.display().to_string())?;
        if let (Some(key), Some(cert)) = (contents.key, contents.cert) {
            keys.push(DecryptionKey { cert, key, replaced: false });
        }
    }
    Ok(keys)
}

pub fn cmd_inspect(globals: &Globals, mut args: Args) -> Result<u8, CliError> {
    let json = args.flag("--json");
    let harvest = !args.flag("--no-harvest");
    let recheck_revocation = args.flag("--recheck-revocation");
    let anchors: Vec<PathBuf> = args.values("--ca")?.into_iter().map(PathBuf::from).collect();
    let crls: Vec<PathBuf> = args.values("--crl")?.into_iter().map(PathBuf::from).collect();
    let p12s: Vec<PathBuf> = args.values("--p12")?.into_iter().map(PathBuf::from).collect();
    let passwords: Vec<PathBuf> = args.values("--password-file")?.into_iter().map(PathBuf::from).collect();
    let content_out = args.path("--content")?;
    let at = match args.value("--at")? {
        Some(text) => Some(crate::time::parse_rfc3339(&text).ok_or_else(|| UsageError(format!("--at {text:?} is not an RFC 3339 time")))?),
        None => None,
    };
    let file = args.required("FILE.eml")?;
    args.finish()?;
    let mut ctx = globals.context()?;
    let raw = super::read_input(&file)?;
    let keys = call_keys(&p12s, &passwords)?;
    let keep_content = content_out.is_some();
    let request = InspectRequest { at, anchors, crls, keys, harvest, keep_content, recheck_revocation, ..InspectRequest::default() };
    let inspection = inspect(&mut ctx, &raw, &request)?;
    if let (Some(path), Some(content)) = (&content_out, &inspection.content) {
        crate::home::write_private_file(path, content)?;
    }
    if json {
        super::print_json(&inspection.report)?;
    } else {
        print!("{}", crate::untrusted::neutralize_layout(&human_summary(&inspection.report)));
    }
    Ok(EXIT_OK)
}

/// `good (ocsp, online)`, `revoked 2026-01-02T03:04:05Z key_compromise (crl, cache)`,
/// `unknown: timeout (check again with --recheck-revocation)`.
fn revocation_line(r: &crate::smime::verdict::RevocationReport) -> String {
    use crate::certs::revocation::Status;
    let code = |v: serde_json::Value| v.as_str().unwrap_or("").to_string();
    let how = |c: &crate::certs::revocation::CertStatus| match (c.method, c.source) {
        (Some(m), Some(s)) => format!(" ({}, {})", code(serde_json::json!(m)), code(serde_json::json!(s))),
        _ => String::new(),
    };
    match r.status {
        Status::Good => format!("good{}", r.certificates.first().map(how).unwrap_or_default()),
        Status::Revoked => {
            let c = r.first_revoked();
            let at = c.and_then(|c| c.revoked_at.clone()).map(|t| format!(" {t}")).unwrap_or_default();
            let why = c.and_then(|c| c.revocation_reason).map(|t| format!(" {t}")).unwrap_or_default();
            let depth = c.filter(|c| c.depth > 0).map(|c| format!(" (CA at depth {})", c.depth)).unwrap_or_default();
            format!("revoked{at}{why}{depth}{}", c.map(how).unwrap_or_default())
        }
        Status::Unknown => {
            let retry = if r.retry { " (check again with --recheck-revocation)" } else { "" };
            format!("unknown: {}{retry}", r.reason.unwrap_or("not_checked"))
        }
    }
}

/// A short readable summary (the add-on shows the full story). Certificate text comes from the
/// sender, so each field has its hidden characters made visible (`untrusted::shown`) before it
/// reaches a terminal.
fn human_summary(r: &InspectReport) -> String {
    let mut out = String::new();
    let s = &r.signature;
    out.push_str(&format!("Signature:  {}\n", s.state.code()));
    if let Some(cert) = &s.signer {
        let name = cert.subject_fields.common_name.as_deref().unwrap_or("(no name)");
        out.push_str(&format!("  signed by  {} <{}>\n", shown(name, 120), shown(&cert.emails.join(", "), 200)));
        for ignored in &cert.ignored_emails {
            // Already escaped (docs/INSPECT.md, "Addresses in certificates").
            let reason = serde_json::to_value(ignored.reason).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            out.push_str(&format!("  not used   {} ({reason})\n", shown(&ignored.shown, 200)));
        }
        out.push_str(&format!("  issuer     {}\n", shown(&cert.issuer, 200)));
        out.push_str(&format!("  confirms   {:?}\n", cert.validation.kind).to_lowercase());
        out.push_str(&format!("  sha256     {}\n", cert.fingerprint_sha256));
    }
    if let Some(t) = &s.signing_time {
        out.push_str(&format!("  signed at  {t}\n"));
    }
    if let Some(part) = &s.covered_part {
        out.push_str(&format!("  only part {part} is signed\n"));
    }
    if let Some(signer) = s.layers.iter().find(|l| l.position == crate::smime::verdict::Position::Root).and_then(|l| l.signers.first()) {
        out.push_str(&format!("  revocation {}\n", revocation_line(&signer.revocation)));
    }
    for p in s.problems.iter().filter(|p| p.code != SignatureState::Valid) {
        out.push_str(&format!("  problem    {}{}\n", p.code.code(), p.reason.map(|r| format!(" ({r})")).unwrap_or_default()));
    }
    for w in &s.warnings {
        out.push_str(&format!("  warning    {}\n", w.code));
    }
    let e = &r.encryption;
    out.push_str(&format!("Encryption: {}\n", serde_json::to_value(e.state).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()));
    if let Some(c) = &e.content_cipher {
        let integrity = if e.authenticated == Some(true) { "authenticated" } else { "no integrity protection" };
        out.push_str(&format!("  cipher     {c} ({integrity})\n"));
    }
    if let Some(w) = &e.decrypted_with {
        out.push_str(&format!("  your key   {} ({})\n", shown(&w.emails.join(", "), 200), w.fingerprint_sha256));
    }
    for rcp in &e.recipients {
        let who = rcp.email.clone().unwrap_or_else(|| serde_json::to_string(&rcp.id).unwrap_or_default());
        out.push_str(&format!("  recipient  {}{}\n", shown(&who, 200), if rcp.mine { " (you)" } else { "" }));
    }
    if let Some(f) = e.failure {
        out.push_str(&format!("  failure    {f}\n"));
    }
    for w in &e.warnings {
        out.push_str(&format!("  warning    {}\n", w.code));
    }
    out
}
