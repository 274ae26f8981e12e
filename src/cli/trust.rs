//! `trust add|list|remove`: the user's own trust anchors and CRLs.

use super::{Args, CliError, Globals, UsageError, EXIT_OK};
use crate::certs::trust;
use crate::error::Error;
use crate::untrusted::shown;

pub fn cmd_trust(globals: &Globals, mut args: Args) -> Result<u8, CliError> {
    let json = args.flag("--json");
    let action = args.required("add, list or remove")?;
    let ctx = globals.context()?;
    match action.as_str() {
        "list" => {
            args.finish()?;
            let listing = trust::listing(&ctx.home);
            if json {
                super::print_json(&listing)?;
            } else {
                if listing.anchors.is_empty() {
                    say!("No anchors added (the system's CA store is used).");
                }
                for a in &listing.anchors {
                    let c = &a.certificate;
                    say!("{:?}\t{}\t{}\tuntil {}", a.source, c.fingerprint_sha256, shown(&c.subject, 200), c.not_after);
                }
                say!("{} CRL(s) stored", listing.crls);
                for p in &listing.problems {
                    say!("problem: {}", shown(&p.to_string(), 400));
                }
            }
        }
        "add" => {
            let file = args.required("FILE")?;
            args.finish()?;
            let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e))?;
            let added = trust::add_user(&ctx.home, &bytes, &file)?;
            if json {
                super::print_json(&added)?;
            } else {
                for c in &added.anchors {
                    say!("trusted {}\t{}", c.fingerprint_sha256, shown(&c.subject, 200));
                }
                if added.crls > 0 {
                    say!("stored {} CRL(s)", added.crls);
                }
            }
        }
        "remove" => {
            let what = args.required("FINGERPRINT or FILE")?;
            args.finish()?;
            // A file names the anchors it holds; anything else is a fingerprint.
            let fingerprints: Vec<String> = match std::fs::read(&what) {
                Ok(bytes) => trust::parse_certificates(&bytes)
                    .map_err(|e| Error::BadCertificate { path: what.clone(), reason: e.0 })?
                    .iter()
                    .map(|c| c.fingerprint_sha256())
                    .collect(),
                Err(_) => vec![what.clone()],
            };
            let mut removed = trust::Removed { removed: Vec::new() };
            for fp in fingerprints {
                removed.removed.extend(trust::remove_user(&ctx.home, &fp)?.removed);
            }
            if json {
                super::print_json(&removed)?;
            } else {
                for r in removed.removed {
                    say!("removed {r}");
                }
            }
        }
        other => return Err(UsageError(format!("unknown trust action {other:?} (add, list, remove)")).into()),
    }
    Ok(EXIT_OK)
}
