//! The manifests we register, rendered from the templates in `manifests/` (compiled in): the
//! host manifest in Mozilla's (`allowed_extensions`) or Chromium's (`allowed_origins`) style, and
//! the PKCS#11 module manifest; and how a manifest on disk is recognised as ours.

use super::{Kind, Style};
use crate::caller::AllowList;
use crate::error::{Error, Result};
use crate::product::HOST_NAME;
use serde_json::Value;
use std::path::Path;

const MOZILLA_TEMPLATE: &str = include_str!("../../manifests/mozilla-host.json");
const CHROMIUM_TEMPLATE: &str = include_str!("../../manifests/chromium-host.json");
const PKCS11_TEMPLATE: &str = include_str!("../../manifests/pkcs11-module.json");

/// The manifest file name every client expects.
pub fn manifest_file_name() -> String {
    format!("{HOST_NAME}.json")
}

/// Renders a manifest from its template: the host manifest of `style`, or the PKCS#11 module
/// manifest. `path` is written as given (absolute, or relative on Windows).
pub fn render(kind: Kind, style: Style, path: &str, allow: &AllowList) -> Result<String> {
    let template = match (kind, style) {
        (Kind::Pkcs11, _) => PKCS11_TEMPLATE,
        (Kind::Host, Style::Mozilla) => MOZILLA_TEMPLATE,
        (Kind::Host, Style::Chromium) => CHROMIUM_TEMPLATE,
    };
    let mut manifest: Value = serde_json::from_str(template)
        .map_err(|e| Error::Internal { reason: format!("manifest template: {e}") })?;
    fill(&mut manifest, path, allow);
    Ok(pretty_json(&manifest))
}

/// JSON as every file we write holds it: pretty-printed (keys sorted), ending in a newline.
pub fn pretty_json(v: &Value) -> String {
    let mut text = serde_json::to_string_pretty(v).expect("a Value always serialises");
    text.push('\n');
    text
}

fn fill(value: &mut Value, path: &str, allow: &AllowList) {
    match value {
        Value::String(s) if s == "@HOST_PATH@" || s == "@MODULE_PATH@" => *s = path.to_string(),
        Value::Array(items) => {
            let mut out = Vec::new();
            for item in items.drain(..) {
                match item.as_str() {
                    Some("@ADDON_IDS@") => out.extend(allow.extensions().iter().cloned().map(Value::String)),
                    Some("@ORIGINS@") => out.extend(allow.origins().iter().cloned().map(Value::String)),
                    _ => {
                        let mut item = item;
                        fill(&mut item, path, allow);
                        out.push(item);
                    }
                }
            }
            *items = out;
        }
        Value::Object(fields) => fields.values_mut().for_each(|v| fill(v, path, allow)),
        _ => {}
    }
}

/// Whether `path` is a manifest of ours: JSON whose `name` is our host name.
pub fn is_ours(path: &Path) -> bool {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .is_some_and(|v| v["name"] == HOST_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::product::ADDON_ID;

    #[test]
    fn mozilla_manifest_has_the_fields_thunderbird_checks() {
        let allow = AllowList::from_config(&Config::default());
        let text = render(Kind::Host, Style::Mozilla, "/opt/x/smime-companion", &allow).unwrap();
        assert!(text.ends_with("}\n"));
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["name"], HOST_NAME);
        assert_eq!(v["type"], "stdio");
        assert_eq!(v["path"], "/opt/x/smime-companion");
        assert_eq!(v["allowed_extensions"], serde_json::json!([ADDON_ID]));
        assert!(v.get("allowed_origins").is_none());
    }

    #[test]
    fn pkcs11_manifest_is_of_type_pkcs11_for_our_addon() {
        let allow = AllowList::from_config(&Config::default());
        let text = render(Kind::Pkcs11, Style::Mozilla, "/usr/lib/smime-companion/libsmime_companion_pkcs11.so", &allow).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["name"], HOST_NAME);
        assert_eq!(v["type"], "pkcs11");
        assert_eq!(v["path"], "/usr/lib/smime-companion/libsmime_companion_pkcs11.so");
        assert_eq!(v["allowed_extensions"], serde_json::json!([ADDON_ID]));
    }

    #[test]
    fn templates_use_the_host_name_compiled_into_the_binary() {
        for t in [MOZILLA_TEMPLATE, CHROMIUM_TEMPLATE, PKCS11_TEMPLATE] {
            let v: Value = serde_json::from_str(t).unwrap();
            assert_eq!(v["name"], HOST_NAME);
        }
    }

    #[test]
    fn chromium_manifest_names_origins_not_extensions() {
        let allow = AllowList::from_config(&Config::default());
        let v: Value = serde_json::from_str(&render(Kind::Host, Style::Chromium, "/opt/x/smime-companion", &allow).unwrap()).unwrap();
        assert_eq!(v["name"], HOST_NAME);
        assert_eq!(v["allowed_origins"], serde_json::json!(allow.origins()));
        assert!(v.get("allowed_extensions").is_none());
        assert!(!v.to_string().contains('@'), "no placeholder left: {v}");
    }

    #[test]
    fn only_json_with_our_name_is_ours() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        assert!(is_ours(&file("ours.json", &format!("{{\"name\": \"{HOST_NAME}\"}}"))));
        assert!(!is_ours(&file("other.json", r#"{"name": "other_host"}"#)));
        assert!(!is_ours(&file("broken.json", "{\"name\": ")));
        assert!(!is_ours(&dir.path().join("missing.json")));
    }
}
