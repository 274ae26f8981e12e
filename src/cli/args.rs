//! A small argument reader. Each command pulls the options it knows (`--json`, `--at TIME`,
//! `--ca FILE` repeated, `--at=TIME`); what is left must be its positional arguments, and anything
//! still starting with `--` is an unknown option. Secrets are never taken from arguments: commands
//! that need one take a `--…-file` path.

use std::ffi::OsString;
use std::path::PathBuf;

/// A usage mistake, shown with the command's usage line.
#[derive(Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub struct Args {
    items: Vec<String>,
}

impl Args {
    pub fn new(raw: Vec<OsString>) -> Result<Args, UsageError> {
        let items = raw
            .into_iter()
            .map(|a| a.into_string().map_err(|a| UsageError(format!("argument {a:?} is not valid UTF-8"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Args { items })
    }

    /// Removes every occurrence of a switch; true if there was one.
    pub fn flag(&mut self, name: &str) -> bool {
        let before = self.items.len();
        self.items.retain(|a| a != name);
        before != self.items.len()
    }

    /// Removes the last `NAME VALUE` or `NAME=VALUE`.
    pub fn value(&mut self, name: &str) -> Result<Option<String>, UsageError> {
        Ok(self.values(name)?.pop())
    }

    /// Removes all `NAME VALUE` / `NAME=VALUE` occurrences, in order.
    pub fn values(&mut self, name: &str) -> Result<Vec<String>, UsageError> {
        let mut found = Vec::new();
        let mut i = 0;
        let prefix = format!("{name}=");
        while i < self.items.len() {
            if self.items[i] == name {
                if i + 1 >= self.items.len() {
                    return Err(UsageError(format!("{name} needs a value")));
                }
                found.push(self.items.remove(i + 1));
                self.items.remove(i);
            } else if let Some(v) = self.items[i].strip_prefix(&prefix) {
                found.push(v.to_string());
                self.items.remove(i);
            } else {
                i += 1;
            }
        }
        Ok(found)
    }

    pub fn path(&mut self, name: &str) -> Result<Option<PathBuf>, UsageError> {
        Ok(self.value(name)?.map(PathBuf::from))
    }

    /// Takes the next positional argument (call after all options were taken).
    pub fn positional(&mut self) -> Option<String> {
        let i = self.items.iter().position(|a| !a.starts_with("--") || a == "-")?;
        Some(self.items.remove(i))
    }

    pub fn required(&mut self, what: &str) -> Result<String, UsageError> {
        self.positional().ok_or_else(|| UsageError(format!("missing {what}")))
    }

    /// Takes all remaining positional arguments.
    pub fn rest(&mut self) -> Vec<String> {
        std::iter::from_fn(|| self.positional()).collect()
    }

    /// Fails on anything not consumed.
    pub fn finish(self) -> Result<(), UsageError> {
        match self.items.first() {
            None => Ok(()),
            Some(a) if a.starts_with("--") => Err(UsageError(format!("unknown option {a}"))),
            Some(a) => Err(UsageError(format!("unexpected argument {a:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::new(list.iter().map(OsString::from).collect()).unwrap()
    }

    #[test]
    fn options_anywhere_positionals_in_order() {
        let mut a = args(&["--json", "x.eml", "--ca", "a.pem", "--ca=b.pem", "y"]);
        assert!(a.flag("--json"));
        assert_eq!(a.values("--ca").unwrap(), vec!["a.pem", "b.pem"]);
        assert_eq!(a.rest(), vec!["x.eml", "y"]);
        assert!(a.finish().is_ok());
    }

    #[test]
    fn unknown_options_and_missing_values_are_usage_errors() {
        let mut a = args(&["--at"]);
        assert!(a.value("--at").is_err());
        let a = args(&["--bogus"]);
        assert_eq!(a.finish().unwrap_err(), UsageError("unknown option --bogus".into()));
    }
}
