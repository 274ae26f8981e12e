//! The command line, for people, IT scripts and tests. One table of commands drives dispatch,
//! the usage text and `help COMMAND`.
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
use crate::ops::OPS;
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

pub struct Command {
    pub name: &'static str,
    /// Arguments after the command name, e.g. `FILE.eml [--json]`.
    pub usage: &'static str,
    pub summary: &'static str,
    /// Longer help: options and examples.
    pub help: &'static str,
    pub run: Run,
}

pub static COMMANDS: &[Command] = &[
    Command {
        name: "inspect",
        usage: "FILE.eml [--json] [--at TIME] [--ca PEM]... [--crl FILE]... [--p12 FILE --password-file FILE]... [--content OUT] [--no-harvest] [--recheck-revocation]",
        summary: "Verify and decrypt a message and explain the result",
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
    Command {
        name: "install",
        usage: "[--user|--system] [--client thunderbird|firefox|chrome|edge|chromium|all] [--path EXE] [--pkcs11 LIB] [--addon XPI] [--root DIR] [--quiet]",
        summary: "Register the host so Thunderbird (and other browsers) can start it",
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
    Command {
        name: "uninstall",
        usage: "[--user|--system] [--client thunderbird|firefox|chrome|edge|chromium|all] [--root DIR] [--quiet]",
        summary: "Remove the registration that install wrote",
        help: "  Removes what install recorded for the scope (all clients unless --client is given):\n  \
               manifests while still ours, add-on copies while unchanged, registry keys.\n  \
               Without a record it removes our manifests (name smime_companion) wherever clients look.\n",
        run: install::cmd_uninstall,
    },
    Command {
        name: "doctor",
        usage: "[--user|--system] [--client thunderbird|chrome|edge|chromium|all] [--json] [--root DIR]",
        summary: "Check that Thunderbird and the Chromium browsers can find and start the host, and say how to fix what is wrong",
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
    Command {
        name: "policy",
        usage: "merge|remove --file POLICIES.JSON --xpi PATH [--quiet]",
        summary: "Add or remove the add-on's force-install entry in a Thunderbird policies.json",
        help: "  merge        add the ExtensionSettings entry that force-installs the add-on from PATH;\n  \
               \x20            everything else in the file is kept; a missing file is created\n  \
               remove       remove that entry again (only if it installs from PATH)\n\n\
               A file that is not valid JSON is left untouched (error bad_policy_file).\n",
        run: rollout::cmd_policy,
    },
    Command {
        name: "generate",
        usage: "debian|windows|macos --out DIR",
        summary: "Write the package sources (maintainer scripts, WiX source, pkg scripts) for packagers",
        help: "  debian       DEBIAN/ maintainer scripts and the system host manifest (installer/linux/build-deb.sh)\n  \
               windows      smime-companion.wxs, manifests and policy files (installer/windows/)\n  \
               macos        pkg scripts, uninstall script, configuration-profile payload (installer/macos/)\n",
        run: rollout::cmd_generate,
    },
    Command {
        name: "contacts",
        usage: "list|show ADDRESS|confirm ADDRESS FP|refuse ADDRESS FP|delete ADDRESS|delete-cert FP|import FILE|export ADDRESS|check ADDRESS...|lookup ADDRESS...|stats [--json]",
        summary: "Manage the certificates collected from your contacts' signed mail",
        help: "  list [--search S] [--limit N] [--offset N] [--sort address|last_seen|expiry]\n  \
               show ADDRESS           certificates, the one encryption uses (or why none), history\n  \
               confirm ADDRESS FP [--note TEXT]  use this certificate (a pending new key) for the contact\n  \
               refuse ADDRESS FP [--note TEXT]   never encrypt to this certificate for the contact\n  \
               delete ADDRESS         delete the contact and its certificates\n  \
               delete-cert FP         delete one certificate by SHA-256 fingerprint (or prefix)\n  \
               import FILE            PEM, DER, .cer/.crt or .p7c/.p7b\n  \
               export ADDRESS [--format pem|der|p7c] [--out FILE]\n  \
               check ADDRESS...       can each address receive encrypted mail? (exit 1 if not all)\n  \
               lookup ADDRESS...      look the addresses up in the LDAP directories, store what is\n  \
               \x20                      found, then check them (exit 1 if not all can; docs/DIRECTORY.md)\n  \
               stats                  counts and database size\n",
        run: contacts::cmd_contacts,
    },
    Command {
        name: "directories",
        usage: "list | password ID [--password-file F | --remove] [--json]",
        summary: "The LDAP directories certificates are looked up in",
        help: "  list                   the directories in effect (IT's and yours) and entries left out\n  \
               password ID            store your bind password for directory ID (typed, or the\n  \
               \x20                      first line of F; - for stdin); --remove deletes it\n\n\
               Directories are set in the configuration files (`directories`, docs/DIRECTORY.md)\n\
               or on the add-on's options page.\n",
        run: directories::cmd_directories,
    },
    Command {
        name: "identities",
        usage: "import FILE.p12 | list | show X | delete FP | lock | unlock [X] | export X --out FILE.p12 | radar | backup-status [--json]",
        summary: "Your own certificates and private keys: import, back up, renew, lock",
        help: "  import FILE.p12 --password-file F [--new-passphrase-file G]\n    \
               checks the key is there and matches, the chain, e-mail use and expiry; the key is\n    \
               stored encrypted under G (default: the file's own password)\n  \
               list | show ADDRESS|FINGERPRINT | delete FINGERPRINT\n  \
               unlock [X] --passphrase-file G   check a passphrase (the add-on keeps keys unlocked)\n  \
               lock                             lock every unlocked key in every running session\n  \
               export X --out FILE.p12 --password-file F --passphrase-file G [--legacy]\n    \
               a backup with the chain under the new password F: AES-256, or 3DES for old\n    \
               Windows and Outlook (--legacy); G, the identity's passphrase, is always needed\n  \
               radar [--days N]                 identities expiring within N days (default 30)\n  \
               backup-status                    exit 1 while an identity has no backup\n\n\
               Secrets are read from files (- for stdin) or prompted for, never from arguments.\n",
        run: identities::cmd_identities,
    },
    Command {
        name: "sign",
        usage: "FILE.eml [--from ADDRESS] --passphrase-file G",
        summary: "Sign a message (multipart/signed) with your identity; writes it to stdout",
        help: "  The signer is the From address's current identity unless --from names another.\n",
        run: identities::cmd_sign,
    },
    Command {
        name: "encrypt",
        usage: "FILE.eml [--to ADDRESS]... [--sign --passphrase-file G]",
        summary: "Encrypt a message to its recipients' certificates (and to you); writes it to stdout",
        help: "  Recipients are To, Cc and Bcc unless --to is given. Each recipient needs a usable\n  \
               certificate in the contact cache; otherwise nothing is encrypted and each missing\n  \
               one is named with the reason (see `contacts check`). --sign signs first.\n",
        run: identities::cmd_encrypt,
    },
    Command {
        name: "trust",
        usage: "add FILE | list | remove FINGERPRINT|FILE [--json]",
        summary: "Manage your own trust anchors (CA certificates) and CRLs",
        help: "  add FILE       trust the CA certificate(s) in FILE (PEM, DER, .p7c), or store a CRL\n  \
               list           show anchors added by you and by IT, and stored CRLs\n  \
               remove X       remove an anchor by fingerprint, or the anchors in file X\n\n\
               IT adds anchors for everyone in /etc/smime-companion/anchors/ (CRLs in anchors/crls/).\n",
        run: trust::cmd_trust,
    },
    Command {
        name: "ops",
        usage: "[--markdown]",
        summary: "List the operations the add-on can ask the host for",
        help: "  --markdown   print the op and error-code tables docs/PROTOCOL.md embeds\n",
        run: cmd_ops,
    },
    Command {
        name: "version",
        usage: "",
        summary: "Print the version and protocol version",
        help: "",
        run: cmd_version,
    },
    Command {
        name: "help",
        usage: "[COMMAND]",
        summary: "Show help for a command",
        help: "",
        run: cmd_help,
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
        print!("{}", command_help(command));
        return EXIT_OK;
    }
    let globals = Globals { home };
    match (command.run)(&globals, args) {
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
        Some(c) => eprintln!("usage: {BINARY_NAME} {} {}", c.name, c.usage),
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

fn command_help(c: &Command) -> String {
    format!("usage: {BINARY_NAME} {} {}\n\n{}.\n\n{}", c.name, c.usage, c.summary, c.help)
}

fn cmd_ops(_: &Globals, mut args: Args) -> Result<u8, CliError> {
    let markdown = args.flag("--markdown");
    args.finish()?;
    if markdown {
        print!("{}\n{}", ops_markdown(OPS), crate::error::error_codes_markdown());
    } else {
        for op in OPS {
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
            Some(c) => print!("{}", command_help(c)),
            None => return Err(UsageError(format!("unknown command {name:?}")).into()),
        },
    }
    Ok(EXIT_OK)
}
