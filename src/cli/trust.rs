//! `trust add|list|remove`: the user's own trust anchors and CRLs.

use super::{Action, Args, CliError, Globals, EXIT_OK};
use crate::certs::trust;
use crate::error::Error;
use crate::untrusted::shown;

pub static ACTIONS: &[Action] = &[
    Action { name: "add", args: "FILE", options: "", help: "trust the CA certificate(s) in FILE (PEM, DER, .p7c), or store a CRL", run: add },
    Action { name: "list", args: "", options: "", help: "show anchors added by you and by IT, and stored CRLs", run: list },
    Action { name: "remove", args: "FINGERPRINT|FILE", options: "", help: "remove an anchor by fingerprint, or the anchors in FILE", run: remove },
];

pub const NOTES: &str = "IT adds anchors for everyone in /etc/smime-companion/anchors/ (CRLs in anchors/crls/).\n";

fn add(globals: &Globals, mut args: Args, json: bool) -> Result<u8, CliError> {
    let file = args.required("FILE")?;
    args.finish()?;
    let ctx = globals.context()?;
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
    Ok(EXIT_OK)
}

fn list(globals: &Globals, args: Args, json: bool) -> Result<u8, CliError> {
    args.finish()?;
    let ctx = globals.context()?;
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
    Ok(EXIT_OK)
}

fn remove(globals: &Globals, mut args: Args, json: bool) -> Result<u8, CliError> {
    let what = args.required("FINGERPRINT or FILE")?;
    args.finish()?;
    let ctx = globals.context()?;
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
    Ok(EXIT_OK)
}
