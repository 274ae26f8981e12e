//! Test helpers: a client that starts the real binary the way Thunderbird does and speaks the
//! framing the way Thunderbird's NativeMessaging.sys.mjs does (native-endian u32 length + UTF-8
//! JSON, host-to-add-on messages of at most 1 MiB), plus chunk reassembly.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_smime-companion");
/// Thunderbird's limit on one host-to-add-on message.
pub const TB_MAX_READ: usize = 1024 * 1024;

/// The bundled add-on's ID, read from the same file the host's build reads.
pub fn addon_id() -> String {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("extension/manifest.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["browser_specific_settings"]["gecko"]["id"].as_str().unwrap().to_string()
}

/// The origin of the bundled Outlook-on-the-web extension: its ID is Chromium's, from the public
/// key in its manifest (the first 128 bits of the key's SHA-256, hex digits written a-p).
pub fn outlook_origin() -> String {
    use base64::Engine;
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("extension/outlook-web/manifest.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let der = base64::engine::general_purpose::STANDARD.decode(v["key"].as_str().unwrap()).unwrap();
    let id: String = openssl::sha::sha256(&der)[..16].iter().flat_map(|b| [b >> 4, b & 0xf]).map(|n| char::from(b'a' + n)).collect();
    format!("chrome-extension://{id}/")
}

/// A per-test home folder, removed on drop.
pub fn temp_home() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("smc-test-").tempdir().unwrap()
}

/// The command line Thunderbird uses: host path, manifest path, add-on ID.
pub fn thunderbird_command(home: &Path, addon_id: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg(home.join(".mozilla/native-messaging-hosts/smime_companion.json"))
        .arg(addon_id)
        .env("SMIME_COMPANION_HOME", home)
        .env("SMIME_COMPANION_SYSTEM_CONFIG", home.join("no-system-config.json"))
        .env_remove("SMIME_COMPANION_LOG");
    cmd
}

pub struct Host {
    pub child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Host {
    /// Starts the host exactly as Thunderbird would, as the bundled add-on.
    pub fn start(home: &Path) -> Host {
        Host::spawn(thunderbird_command(home, &addon_id()))
    }

    pub fn spawn(mut cmd: Command) -> Host {
        let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let stdin = child.stdin.take();
        let stdout = BufReader::with_capacity(1 << 20, child.stdout.take().unwrap());
        Host { child, stdin, stdout }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    pub fn send_frame(&mut self, body: &[u8]) {
        let mut frame = (body.len() as u32).to_ne_bytes().to_vec();
        frame.extend_from_slice(body);
        self.send_raw(&frame);
    }

    pub fn send(&mut self, request: &Value) {
        self.send_frame(&serde_json::to_vec(request).unwrap());
    }

    /// Reads one frame body; None at EOF. Panics on a frame Thunderbird would refuse.
    pub fn recv_frame(&mut self) -> Option<Vec<u8>> {
        let mut header = [0u8; 4];
        if self.stdout.read_exact(&mut header).is_err() {
            return None;
        }
        let len = u32::from_ne_bytes(header) as usize;
        assert!(len + 4 <= TB_MAX_READ, "host sent a {len}-byte frame; Thunderbird drops the port");
        let mut body = vec![0u8; len];
        self.stdout.read_exact(&mut body).expect("frame body");
        Some(body)
    }

    /// Reads one reply, reassembling chunk frames and checking their digest.
    pub fn recv(&mut self) -> Value {
        let first: Value = serde_json::from_slice(&self.recv_frame().expect("a reply")).unwrap();
        if first.get("chunk").is_none() {
            return first;
        }
        let count = first["chunk"]["count"].as_u64().unwrap();
        let mut text = String::new();
        let mut frames = vec![first];
        while (frames.len() as u64) < count {
            frames.push(serde_json::from_slice(&self.recv_frame().expect("a chunk")).unwrap());
        }
        for (i, f) in frames.iter().enumerate() {
            assert_eq!(f["chunk"]["index"], i as u64, "chunks in order");
            assert_eq!(f["id"], frames[0]["id"]);
            text.push_str(f["chunk"]["text"].as_str().unwrap());
        }
        assert_eq!(text.len() as u64, frames[0]["chunk"]["total_bytes"].as_u64().unwrap());
        assert_eq!(sha256_hex(text.as_bytes()), frames[0]["chunk"]["sha256"].as_str().unwrap());
        serde_json::from_str(&text).unwrap()
    }

    /// Sends a request and returns its reply.
    pub fn call(&mut self, id: Value, op: &str, params: Value) -> Value {
        self.send(&json!({"id": id, "op": op, "params": params}));
        let reply = self.recv();
        assert_eq!(reply["id"], id);
        reply
    }

    /// Calls and expects success; returns the result.
    pub fn ok(&mut self, op: &str, params: Value) -> Value {
        let reply = self.call(json!(op), op, params);
        assert_eq!(reply["ok"], true, "{op} failed: {reply}");
        reply["result"].clone()
    }

    /// Uploads bytes as a chunked transfer and returns its id.
    pub fn upload(&mut self, data: &[u8], chunk: usize) -> String {
        let begun = self.ok("transfer_begin", json!({"total_bytes": data.len(), "sha256": sha256_hex(data)}));
        let id = begun["transfer_id"].as_str().unwrap().to_string();
        for (i, part) in data.chunks(chunk.max(1)).enumerate() {
            // Written by hand (base64 needs no escaping): serde_json's serialiser, compiled
            // unoptimised into the test, takes seconds over a chunk of many MiB.
            let frame = format!(r#"{{"id":"chunk","op":"transfer_chunk","params":{{"transfer_id":"{id}","index":{i},"data_b64":"{}"}}}}"#, b64(part));
            self.send_frame(frame.as_bytes());
            let reply = self.recv();
            assert_eq!(reply["ok"], true, "transfer_chunk failed: {reply}");
        }
        self.ok("transfer_end", json!({"transfer_id": id}));
        id
    }

    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Closes stdin (as Thunderbird does) and waits, at most `limit`, for the exit.
    pub fn finish(mut self, limit: Duration) -> (ExitStatus, Vec<Value>) {
        self.close_stdin();
        let mut rest = Vec::new();
        while let Some(f) = self.recv_frame() {
            rest.push(serde_json::from_slice(&f).unwrap());
        }
        (wait_with_timeout(&mut self.child, limit), rest)
    }

    pub fn stderr(&mut self) -> String {
        let mut s = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut s);
        }
        s
    }
}

pub fn wait_with_timeout(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("host did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_micros(100));
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    openssl::sha::sha256(data).iter().map(|b| format!("{b:02x}")).collect()
}

pub fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Runs the CLI with a private home; returns (status, stdout, stderr).
pub fn cli(home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("SMIME_COMPANION_HOME", home)
        .env("SMIME_COMPANION_SYSTEM_CONFIG", home.join("no-system-config.json"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}
pub mod certgen;
pub mod growth;
pub mod cmsgen;
pub mod responders;
pub mod slapd;
