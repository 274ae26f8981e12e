//! The command line, for people, IT scripts and tests. One table of commands (`COMMANDS`, with
//! each command's actions in its own file: `contacts::ACTIONS` beside their implementations)
//! drives dispatch, the usage lines, `--help` and `help COMMAND`, and the README's list of
//! commands (checked by tests/docs.rs). The commands call the domain modules, never `crate::ops`
//! (tests/layering.rs): both front ends print the same typed replies.
//!
//! Exit status: 0 done; 1 the command ran and found a problem (e.g. `doctor` unhealthy);
//! 2 usage error; 3 input, data or I/O error.

/// Prints one line of a command's text output. Every field someone else chose goes in through
/// `untrusted::shown` (so it cannot add a line); this also makes visible whatever hidden
/// character a field let through, keeping only our own layout (line breaks, tabs).
macro_rules! say {
    ($($arg:tt)*) => { $crate::cli::say_line(&format!($($arg)*)) };
}

pub mod args;
mod contacts;
mod directories;
mod identities;
mod inspect;
mod install;
mod rollout;
mod secrets;
mod trust;

use crate::context::Context;
use crate::error::Error;
use crate::home::Home;
use crate::product::{BINARY_NAME, PRODUCT_NAME, PROTOCOL_VERSION, VERSION};
use crate::protocol::ops_markdown;
pub use args::{Args, UsageError};
use std::ffi::OsString;
use std::path::PathBuf;

pub const EXIT_OK: u8 = 0;
pub const EXIT_PROBLEM: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_ERROR: u8 = 3;

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    Usage(UsageError),
    Failed(Error),
}

impl From<UsageError> for CliError {
    fn from(e: UsageError) -> Self {
        CliError::Usage(e)
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Failed(e)
    }
}

/// Options every command shares.
pub struct Globals {
    pub home: Option<PathBuf>,
}

impl Globals {
    /// Resolves the folders, starts the log and loads the configuration.
    pub fn context(&self) -> Result<Context, CliError> {
        let home = Home::resolve(self.home.as_deref())?;
        if let Err(e) = crate::logging::init(&home) {
            eprintln!("{BINARY_NAME}: warning: cannot open log: {e}");
        }
        let ctx = Context::new(home, None);
        for problem in &ctx.config.problems {
            eprintln!("{BINARY_NAME}: warning: {problem}");
        }
        Ok(ctx)
    }
}

pub type Run = fn(&Globals, Args) -> Result<u8, CliError>;

/// An action's work, given whether `--json` was asked for.
pub type RunAction = fn(&Globals, Args, bool) -> Result<u8, CliError>;

/// One command: the single definition its dispatch, usage line, help, `--help` and the README's
/// list of commands come from.
pub struct Command {
    pub name: &'static str,
    pub summary: &'static str,
    pub form: Form,
}

pub enum Form {
    /// Arguments straight after the command name, parsed by `run`.
    Args {
        /// e.g. `FILE.eml [--json]`.
        usage: &'static str,
        /// Longer help: options and examples.
        help: &'static str,
        run: Run,
    },
    /// An action first (`contacts show ADDRESS`), each with its own arguments; every action
    /// takes `--json`. The usage line, the help and the "missing"/"unknown action" errors are
    /// made from the list.
    Actions {
        actions: &'static [Action],
        /// Paragraphs the help shows after the actions.
        notes: &'static str,
    },
}

/// One action of a command.
pub struct Action {
    pub name: &'static str,
    /// Its arguments as the usage line shows them, e.g. `ADDRESS FP`.
    pub args: &'static str,
    /// Options the help adds after them, e.g. `[--note TEXT]`.
    pub options: &'static str,
    /// What it does, one paragraph (the help wraps it).
    pub help: &'static str,
    pub run: RunAction,
}

/// Every action takes this option; the usage line ends with it.
const ACTION_OPTIONS: &str = "[--json]";

/// Help lines are wrapped to this width.
const HELP_WIDTH: usize = 100;

/// The column an action's help starts in; an action whose name, arguments and options reach
/// past it has its help two spaces after them, or on the lines below when that is too long.
const ACTION_HELP_COLUMN: usize = 25;

/// The indent of an action's help on the lines below it.
const ACTION_HELP_BELOW: usize = 6;

impl Command {
    /// What follows the command name in its usage line.
    pub fn usage(&self) -> String {
        match &self.form {
            Form::Args { usage, .. } => usage.to_string(),
            Form::Actions { actions, .. } => {
                let forms: Vec<String> = actions.iter().map(|a| join_words(&[a.name, a.args])).collect();
                format!("{} {ACTION_OPTIONS}", forms.join(" | "))
            }
        }
    }

    /// `command --help` and `help command`.
    pub fn help(&self) -> String {
        let body = match &self.form {
            Form::Args { help, .. } => help.to_string(),
            Form::Actions { actions, notes } => {
                let mut out = String::new();
                for a in actions.iter() {
                    let left = format!("  {}", join_words(&[a.name, a.args, a.options]));
                    let (first, indent) = if left.len() + 2 <= ACTION_HELP_COLUMN {
                        (format!("{left:<ACTION_HELP_COLUMN$}"), ACTION_HELP_COLUMN)
                    } else if left.len() + 2 + a.help.len() <= HELP_WIDTH {
                        (format!("{left}  "), left.len() + 2)
                    } else {
                        (format!("{left}\n{}", " ".repeat(ACTION_HELP_BELOW)), ACTION_HELP_BELOW)
                    };
                    out.push_str(&first);
                    out.push_str(&wrap(a.help, HELP_WIDTH - indent).join(&format!("\n{}", " ".repeat(indent))));
                    out.push('\n');
                }
                if !notes.is_empty() {
                    out.push('\n');
                    out.push_str(notes);
                }
                out
            }
        };
        format!("usage: {BINARY_NAME} {} {}\n\n{}.\n\n{body}", self.name, self.usage(), self.summary)
    }

    /// How the README lists it: the command with its actions, e.g. `trust add|list|remove`.
    pub fn synopsis(&self) -> String {
        match &self.form {
            Form::Args { .. } => self.name.to_string(),
            Form::Actions { actions, .. } => format!("{} {}", self.name, actions.iter().map(|a| a.name).collect::<Vec<_>>().join("|")),
        }
    }

    fn run(&self, globals: &Globals, mut args: Args) -> Result<u8, CliError> {
        match &self.form {
            Form::Args { run, .. } => run(globals, args),
            Form::Actions { actions, .. } => {
                let json = args.flag("--json");
                let names: Vec<&str> = actions.iter().map(|a| a.name).collect();
                let Some(name) = args.positional() else {
                    return Err(UsageError(format!("missing {}", or_list(&names))).into());
                };
                let action = actions
                    .iter()
                    .find(|a| a.name == name)
                    .ok_or_else(|| UsageError(format!("unknown {} action {name:?} ({})", self.name, names.join(", "))))?;
                (action.run)(globals, args, json)
            }
        }
    }
}

/// `a, b or c`.
fn or_list(items: &[&str]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// The non-empty parts, separated by spaces.
fn join_words(parts: &[&str]) -> String {
    parts.iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join(" ")
}

/// Breaks a paragraph into lines of at most `width` characters (a longer word keeps its line).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// The README's list of commands ("How the pieces fit"), checked by tests/docs.rs.
pub fn commands_markdown() -> String {
    COMMANDS.iter().map(|c| format!("  - `{}`: {}.\n", c.synopsis(), c.summary)).collect()
}

pub static COMMANDS: &[Command] = &[
    Command {
        name: "inspect",
        summary: "Verify and decrypt a message and explain the result",
        form: Form::Args {
            usage: "FILE.eml [--json] [--at TIME] [--ca PEM]... [--crl FILE]... [--p12 FILE --password-file FILE]... [--content OUT] [--no-harvest] [--recheck-revocation]",
            help: "  FILE.eml          the raw message (- for stdin)\n  \
                   --json            print the same JSON as the inspect_message op (docs/INSPECT.md)\n  \
                   --at TIME         judge certificates at this RFC 3339 time instead of now\n  \
                   --ca PEM          also trust these anchors, for this call only\n  \
                   --crl FILE        also use these CRLs, for this call only\n  \
                   --p12 FILE        decrypt with this PKCS#12 key, for this call only\n  \
                   --password-file F its password (first line of F)\n  \
                   --content OUT     write the verified or decrypted inner message to OUT\n  \
                   --no-harvest      do not store the signer's certificate in the contact cache\n  \
                   --recheck-revocation  ask the CAs again where a revocation check failed recently\n\n\
                   Exit status 0 whenever the message could be analysed, whatever the verdict.\n",
            run: inspect::cmd_inspect,
        },
    },
    Command {
        name: "install",
        summary: "Register the host so Thunderbird (and other browsers) can start it",
        form: Form::Args {
            usage: "[--user|--system] [--client thunderbird|firefox|chrome|edge|chromium|all] [--path EXE] [--pkcs11 LIB] [--addon XPI] [--root DIR] [--quiet]",
            help: "  --user       for the current user (default)\n  \
                   --system     for all users (needs administrator rights)\n  \
                   --client C   which browsers to register with (default thunderbird)\n  \
                   --path EXE   the program to register (default: this program)\n  \
                   --pkcs11 LIB register this PKCS#11 module (default: the one beside the program, if any)\n  \
                   --addon XPI  also copy the add-on into each Thunderbird profile (--user only)\n  \
                   --root DIR   write system-wide files below DIR (packaging)\n  \
                   --quiet      print nothing but errors\n\n\
                   Safe to run again. What it writes is recorded so uninstall removes exactly that.\n",
            run: install::cmd_install,
        },
    },
    Command {
        name: "uninstall",
        summary: "Remove the registration that install wrote",
        form: Form::Args {
            usage: "[--user|--system] [--client thunderbird|firefox|chrome|edge|chromium|all] [--root DIR] [--quiet]",
            help: "  Removes what install recorded for the scope (all clients unless --client is given):\n  \
                   manifests while still ours, add-on copies while unchanged, registry keys.\n  \
                   Without a record it removes our manifests (name smime_companion) wherever clients look.\n",
            run: install::cmd_uninstall,
        },
    },
    Command {
        name: "doctor",
        summary: "Check that Thunderbird and the Chromium browsers can find and start the host, and say how to fix what is wrong",
        form: Form::Args {
            usage: "[--user|--system] [--client thunderbird|chrome|edge|chromium|all] [--json] [--root DIR]",
            help: "  --user       check the per-user installation (and this user's profiles)\n  \
                   --system     check the machine-wide installation (and the enterprise policies)\n  \
                   (neither)    check what the mail clients see for this user\n  \
                   --client C   check only this client (default: Thunderbird, and each of Chrome, Edge\n  \
                   \x20            and Chromium that is installed or registered)\n  \
                   --json       the same as JSON, for scripts\n  \
                   --root DIR   look for system-wide files below DIR\n\n\
                   Exit status 0 when healthy, 1 when a check failed. The checks: docs/INSTALL.md.\n",
            run: rollout::cmd_doctor,
        },
    },
    Command {
        name: "policy",
        summary: "Add or remove the add-on's force-install entry in a Thunderbird policies.json",
        form: Form::Args {
            usage: "merge|remove --file POLICIES.JSON --xpi PATH [--quiet]",
            help: "  merge        add the ExtensionSettings entry that force-installs the add-on from PATH;\n  \
                   \x20            everything else in the file is kept; a missing file is created\n  \
                   remove       remove that entry again (only if it installs from PATH)\n\n\
                   A file that is not valid JSON is left untouched (error bad_policy_file).\n",
            run: rollout::cmd_policy,
        },
    },
    Command {
        name: "generate",
        summary: "Write the package sources (maintainer scripts, WiX source, pkg scripts) for packagers",
        form: Form::Args {
            usage: "debian|windows|macos --out DIR",
            help: "  debian       DEBIAN/ maintainer scripts and the system host manifest (installer/linux/build-deb.sh)\n  \
                   windows      smime-companion.wxs, manifests and policy files (installer/windows/)\n  \
                   macos        pkg scripts, uninstall script, configuration-profile payload (installer/macos/)\n",
            run: rollout::cmd_generate,
        },
    },
    Command {
        name: "contacts",
        summary: "Manage the certificates collected from your contacts' signed mail",
        form: Form::Actions { actions: contacts::ACTIONS, notes: contacts::NOTES },
    },
    Command {
        name: "directories",
        summary: "The LDAP directories certificates are looked up in",
        form: Form::Actions { actions: directories::ACTIONS, notes: directories::NOTES },
    },
    Command {
        name: "identities",
        summary: "Your own certificates and private keys: import, back up, renew, lock",
        form: Form::Actions { actions: identities::ACTIONS, notes: identities::NOTES },
    },
    Command {
        name: "sign",
        summary: "Sign a message (multipart/signed) with your identity; writes it to stdout",
        form: Form::Args {
            usage: "FILE.eml [--from ADDRESS] --passphrase-file G",
            help: "  The signer is the From address's current identity unless --from names another.\n",
            run: identities::cmd_sign,
        },
    },
    Command {
        name: "encrypt",
        summary: "Encrypt a message to its recipients' certificates (and to you); writes it to stdout",
        form: Form::Args {
            usage: "FILE.eml [--to ADDRESS]... [--sign --passphrase-file G]",
            help: "  Recipients are To, Cc and Bcc unless --to is given. Each recipient needs a usable\n  \
                   certificate in the contact cache; otherwise nothing is encrypted and each missing\n  \
                   one is named with the reason (see `contacts check`). --sign signs first.\n",
            run: identities::cmd_encrypt,
        },
    },
    Command {
        name: "trust",
        summary: "Manage your own trust anchors (CA certificates) and CRLs",
        form: Form::Actions { actions: trust::ACTIONS, notes: trust::NOTES },
    },
    Command {
        name: "ops",
        summary: "List the operations the add-on can ask the host for",
        form: Form::Args {
            usage: "[--markdown]",
            help: "  --markdown   print the op and error-code tables docs/PROTOCOL.md embeds\n",
            run: cmd_ops,
        },
    },
    Command {
        name: "version",
        summary: "Print the version and protocol version",
        form: Form::Args {
            usage: "",
            help: "",
            run: cmd_version,
        },
    },
    Command {
        name: "help",
        summary: "Show help for a command",
        form: Form::Args {
            usage: "[COMMAND]",
            help: "",
            run: cmd_help,
        },
    },
];

/// Runs the CLI with the arguments after the program name; returns the exit status.
/// Writes one line of text output (the `say!` macro), neutralised.
pub(crate) fn say_line(line: &str) {
    println!("{}", crate::untrusted::neutralize_layout(line));
}

/// Prints a value as pretty JSON (every `--json`): the exact data; JSON escapes what it must.
fn print_json<T: serde::Serialize>(value: &T) -> Result<(), CliError> {
    println!("{}", serde_json::to_string_pretty(value).map_err(|e| Error::Internal { reason: e.to_string() })?);
    Ok(())
}

/// Prints a reply exactly as its op's JSON value has it (keys sorted), for the `--json` forms
/// that have always printed it that way.
fn print_reply_json<T: serde::Serialize>(reply: &T) -> Result<(), CliError> {
    print_json(&serde_json::to_value(reply).map_err(|e| Error::Internal { reason: e.to_string() })?)
}

/// The bytes of a message or file argument; `-` reads stdin.
fn read_input(file: &str) -> Result<Vec<u8>, CliError> {
    if file == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map_err(|e| Error::io("stdin", e))?;
        return Ok(buf);
    }
    Ok(std::fs::read(file).map_err(|e| Error::io(file, e))?)
}

pub fn run(raw: Vec<OsString>) -> u8 {
    let mut args = match Args::new(raw) {
        Ok(a) => a,
        Err(e) => return usage_error(None, &e),
    };
    let home = match args.path("--home") {
        Ok(h) => h,
        Err(e) => return usage_error(None, &e),
    };
    let verbose = args.flag("--verbose");
    if args.flag("--version") || args.flag("-V") {
        println!("{BINARY_NAME} {VERSION}");
        return EXIT_OK;
    }
    let wants_help = args.flag("--help") || args.flag("-h");
    let Some(name) = args.positional() else {
        if wants_help {
            print!("{}", usage_text());
            return EXIT_OK;
        }
        eprint!("{}", usage_text());
        return EXIT_USAGE;
    };
    let Some(command) = COMMANDS.iter().find(|c| c.name == name) else {
        return usage_error(None, &UsageError(format!("unknown command {name:?}")));
    };
    if wants_help {
        print!("{}", command.help());
        return EXIT_OK;
    }
    let globals = Globals { home };
    match command.run(&globals, args) {
        Ok(status) => status,
        Err(CliError::Usage(e)) => usage_error(Some(command), &e),
        Err(CliError::Failed(e)) => {
            // Errors name what they were given (a certificate's subject, an address).
            eprintln!("{BINARY_NAME} {}: {} [{}]", command.name, crate::untrusted::neutralize(&e.to_string()), e.code());
            for cause in crate::error::causes(&e).iter().filter(|_| verbose) {
                eprintln!("  caused by: {}", crate::untrusted::neutralize(cause));
            }
            EXIT_ERROR
        }
    }
}

fn usage_error(command: Option<&Command>, e: &UsageError) -> u8 {
    eprintln!("{BINARY_NAME}: {}", crate::untrusted::neutralize(&e.to_string()));
    match command {
        Some(c) => eprintln!("usage: {BINARY_NAME} {} {}", c.name, c.usage()),
        None => eprintln!("Run '{BINARY_NAME} --help' for the list of commands."),
    }
    EXIT_USAGE
}

/// The short usage text shown for `--help` and when run with no arguments.
pub fn usage_text() -> String {
    let mut out = format!(
        "{PRODUCT_NAME} {VERSION}: verify, decrypt, sign and encrypt S/MIME mail.\n\n\
         usage: {BINARY_NAME} [--home DIR] [--verbose] COMMAND [ARGS]\n\n\
         Thunderbird starts this program by itself for the S/MIME Companion add-on;\n\
         you only run it by hand to use the commands below.\n\ncommands:\n"
    );
    for c in COMMANDS {
        out.push_str(&format!("  {:<12} {}\n", c.name, c.summary));
    }
    out.push_str(&format!(
        "\noptions:\n  --home DIR   keep all per-user files in DIR (also SMIME_COMPANION_HOME)\n  \
         --verbose    also show what caused an error (the system's, SQLite's or OpenSSL's words)\n  \
         --help       this text; '{BINARY_NAME} COMMAND --help' for a command\n  \
         --version    print the version\n"
    ));
    out
}

fn cmd_ops(_: &Globals, mut args: Args) -> Result<u8, CliError> {
    let markdown = args.flag("--markdown");
    args.finish()?;
    if markdown {
        print!("{}\n{}", ops_markdown(crate::native::op_table()), crate::error::error_codes_markdown());
    } else {
        for op in crate::native::op_table() {
            println!("{:<18} {:<34} {}", op.name, op.params, op.help);
        }
    }
    Ok(EXIT_OK)
}

fn cmd_version(_: &Globals, args: Args) -> Result<u8, CliError> {
    args.finish()?;
    println!("{BINARY_NAME} {VERSION} (protocol {PROTOCOL_VERSION})");
    Ok(EXIT_OK)
}

fn cmd_help(_: &Globals, mut args: Args) -> Result<u8, CliError> {
    let topic = args.positional();
    args.finish()?;
    match topic {
        None => print!("{}", usage_text()),
        Some(name) => match COMMANDS.iter().find(|c| c.name == name) {
            Some(c) => print!("{}", c.help()),
            None => return Err(UsageError(format!("unknown command {name:?}")).into()),
        },
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(name: &str) -> &'static Command {
        COMMANDS.iter().find(|c| c.name == name).unwrap()
    }

    fn usage_error(name: &str, args: &[&str]) -> String {
        let args = Args::new(args.iter().map(OsString::from).collect()).unwrap();
        match command(name).run(&Globals { home: None }, args) {
            Err(CliError::Usage(e)) => e.0,
            Err(CliError::Failed(e)) => panic!("{name}: not a usage error: {e:?}"),
            Ok(status) => panic!("{name}: ran, status {status}"),
        }
    }

    #[test]
    fn command_and_action_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in COMMANDS {
            assert!(seen.insert(c.name), "{}", c.name);
            if let Form::Actions { actions, .. } = &c.form {
                let mut names = std::collections::HashSet::new();
                assert!(actions.iter().all(|a| names.insert(a.name)), "{}: an action twice", c.name);
            }
        }
    }

    #[test]
    fn a_missing_or_unknown_action_names_the_actions_of_the_table() {
        assert_eq!(usage_error("trust", &[]), "missing add, list or remove");
        assert_eq!(usage_error("trust", &["--json", "bogus"]), "unknown trust action \"bogus\" (add, list, remove)");
        assert_eq!(usage_error("directories", &[]), "missing list or password");
        assert_eq!(command("trust").usage(), "add FILE | list | remove FINGERPRINT|FILE [--json]");
    }

    #[test]
    fn action_help_is_in_one_column_and_within_the_width() {
        for c in COMMANDS {
            let Form::Actions { actions, .. } = &c.form else { continue };
            let help = c.help();
            for a in actions.iter() {
                let left = format!("  {}", join_words(&[a.name, a.args, a.options]));
                assert!(help.lines().any(|l| l.starts_with(&left)), "{} {}: not in\n{help}", c.name, a.name);
            }
            for line in help.lines().skip(1).filter(|l| l.starts_with(' ')) {
                let is_left = actions.iter().any(|a| line.trim_end() == format!("  {}", join_words(&[a.name, a.args, a.options])));
                assert!(is_left || line.chars().count() <= HELP_WIDTH, "{}: {line:?} is longer than {HELP_WIDTH}", c.name);
            }
        }
    }

    #[test]
    fn wrapping_keeps_words_whole() {
        assert_eq!(wrap("aa bb cc dd", 5), ["aa bb", "cc dd"]);
        assert_eq!(wrap("a verylongword b", 4), ["a", "verylongword", "b"]);
        assert_eq!(or_list(&["a"]), "a");
        assert_eq!(or_list(&["a", "b", "c"]), "a, b or c");
    }
}
