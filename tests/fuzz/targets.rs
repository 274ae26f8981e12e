//! The parsers that read attacker input, one function per fuzz target. Shared by the
//! coverage-guided fuzz targets (tests/fuzz/fuzz_targets/*.rs, built with cargo-fuzz) and by the
//! seeded random-input test that runs in `cargo test` (tests/parsers_random.rs), so both
//! exercise exactly the same calls. Each function takes arbitrary bytes, must return without a
//! panic, and checks the few invariants that hold for every input.
#![allow(dead_code)]

use smime_companion::asn1::{self, Reader, Tlv};
use smime_companion::certs::summary::{validation, Cert, NameFields};
use smime_companion::certs::trust::TrustAnchors;
use smime_companion::certs::x509::{CertFields, Name};
use smime_companion::mime::address::{normalize, parse_mailbox_list};
use smime_companion::mime::encoding::{line_endings, to_crlf};
use smime_companion::mime::header::{decode_encoded_words, parse_block, parse_params, strip_comments, ContentType};
use smime_companion::mime::{split_multipart, Entity};
use smime_companion::protocol::chunking::{reply_frames_with_limit, CHUNK_ENVELOPE_BYTES};
use smime_companion::protocol::envelope::parse_request;
use smime_companion::protocol::framing::{read_frame, FrameRead};
use smime_companion::protocol::transfer::Transfers;
use smime_companion::smime::analyze::{inspect as analyze, InspectOptions};
use smime_companion::smime::cms_der::{content_info, enveloped_data, signed_data};
use smime_companion::time::{parse_asn1_time, parse_rfc3339, parse_rfc5322_date, to_rfc3339};

/// The targets by name, for the random-input test and the regression replay.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("asn1", asn1),
    ("cms_der", cms_der),
    ("x509", x509),
    ("mime", mime),
    ("header", header),
    ("address", address),
    ("time", time),
    ("envelope", envelope),
    ("inspect", inspect),
];

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Every element of a BER stream, walked to the leaves, with every accessor called.
pub fn asn1(data: &[u8]) {
    let mut r = Reader::new(data);
    while !r.is_empty() {
        match r.read() {
            Ok(tlv) => walk(&tlv),
            Err(_) => break,
        }
    }
    if let Ok(dotted) = asn1::oid_to_string(data) {
        // The dotted form encodes back to the minimal encoding of the same arcs.
        let minimal = asn1::oid_from_string(&dotted).expect("a decoded OID encodes");
        assert_eq!(asn1::oid_to_string(&minimal).as_deref(), Ok(dotted.as_str()));
    }
    let _ = asn1::integer_hex(&data[..data.len().min(64)]);
}

/// Each accessor on the elements it is meant for (called on every element, they would redo the
/// work of every level below, and the fuzzer would run depth times slower): strings and times,
/// primitive or constructed, integers, OIDs.
fn walk(tlv: &Tlv<'_>) {
    use asn1::tag;
    if tlv.class == asn1::Class::Universal {
        match tlv.number {
            tag::INTEGER => {
                let _ = asn1::integer_hex(tlv.content);
            }
            tag::OID => {
                let _ = tlv.oid();
            }
            tag::UTC_TIME | tag::GENERALIZED_TIME => {
                let _ = tlv.time();
            }
            tag::OCTET_STRING | tag::BIT_STRING | tag::UTF8_STRING | tag::PRINTABLE_STRING | tag::T61_STRING
            | tag::IA5_STRING | tag::UNIVERSAL_STRING | tag::BMP_STRING => {
                let _ = tlv.text();
            }
            _ => {}
        }
    }
    if tlv.is_context(0) && !tlv.constructed {
        let _ = tlv.octets();
    }
    if let Ok(mut children) = tlv.children() {
        while !children.is_empty() {
            match children.read() {
                Ok(child) => walk(&child),
                Err(_) => break,
            }
        }
    }
}

/// ContentInfo, SignedData and EnvelopedData/AuthEnvelopedData descriptions.
pub fn cms_der(data: &[u8]) {
    if let Ok(ci) = content_info(data) {
        if let Some(content) = ci.content {
            let _ = signed_data(&content);
            let _ = enveloped_data(&content, false);
            let _ = enveloped_data(&content, true);
        }
    }
    // The same readers on a bare content element (what a decoded layer hands them).
    if let Ok(content) = Reader::new(data).read() {
        let _ = signed_data(&content);
        let _ = enveloped_data(&content, false);
    }
}

/// Certificate fields and names, ours and through OpenSSL.
pub fn x509(data: &[u8]) {
    if let Ok(fields) = CertFields::parse(data) {
        let _ = fields.emails();
        let _ = validation(&fields);
        let _ = fields.issuer.to_rfc4514();
        let _ = NameFields::from_name(&fields.subject);
    }
    if let Ok(name) = Name::from_der(data) {
        let _ = name.to_rfc4514();
        let _ = NameFields::from_name(&name);
    }
    if let Ok(cert) = Cert::from_der(data) {
        let _ = cert.emails();
        let _ = cert.fingerprint_sha256();
        // The readings trust decisions rest on (OpenSSL's), beside ours.
        let _ = cert.openssl_emails();
        let _ = cert.allows_email_protection();
        let _ = cert.allows_signing_key_usage();
        let _ = cert.is_ca();
        let _ = cert.validity();
        let _ = cert.signature_info();
        let _ = cert.summary();
    }
}

/// The MIME tree, every entity's decoded body and file name, and the multipart splitter on its
/// own (first line the boundary, the rest the body).
pub fn mime(data: &[u8]) {
    let root = Entity::parse(data);
    let mut stack = vec![&root];
    while let Some(e) = stack.pop() {
        let _ = e.decoded_body();
        let _ = e.file_name();
        let _ = e.header("from");
        stack.extend(e.children.iter());
    }
    let _ = line_endings(data);
    let _ = to_crlf(data);
    let (boundary, body) = match memchr::memchr(b'\n', data) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let (parts, _) = split_multipart(body, boundary);
    for (start, end) in parts {
        assert!(start <= end && end <= body.len(), "part {start}..{end} of {}", body.len());
    }
}

/// Header block, field values, Content-Type, parameters (RFC 2231) and encoded words (RFC 2047).
pub fn header(data: &[u8]) {
    let (fields, body_offset) = parse_block(data);
    assert!(body_offset <= data.len());
    for f in &fields {
        let value = f.value();
        let _ = ContentType::parse(&value);
        let _ = decode_encoded_words(&value);
    }
    let t = text(data);
    let _ = ContentType::parse(&t);
    let _ = parse_params(&t);
    let _ = decode_encoded_words(&t);
    let _ = strip_comments(&t);
}

/// Address lists and the comparison form of each address.
pub fn address(data: &[u8]) {
    let t = text(data);
    for mailbox in parse_mailbox_list(&t) {
        if let Some(n) = normalize(&mailbox.address) {
            // The comparison form is a fixed point.
            assert_eq!(normalize(&n).as_deref(), Some(n.as_str()), "normalize({:?})", mailbox.address);
        }
    }
    let _ = normalize(&t);
}

/// Date parsers: RFC 5322, RFC 3339, ASN.1 UTCTime and GeneralizedTime.
pub fn time(data: &[u8]) {
    let t = text(data);
    let _ = parse_rfc5322_date(&t);
    if let Some(secs) = parse_rfc3339(&t) {
        let again = to_rfc3339(secs);
        // Years of four digits print in the form the parser reads back.
        if again.len() == 20 {
            assert_eq!(parse_rfc3339(&again), Some(secs), "{t:?} -> {again}");
        }
    }
    let _ = parse_asn1_time(data, false);
    let _ = parse_asn1_time(data, true);
    if data.len() >= 8 {
        let _ = to_rfc3339(i64::from_le_bytes(data[..8].try_into().unwrap()));
    }
}

/// The request envelope, a stream of native-messaging frames, chunked replies, and uploads
/// (transfers) driven by the bytes as a little program.
pub fn envelope(data: &[u8]) {
    let _ = parse_request(data.to_vec());
    // Frames: a 4-byte native-endian length, then the body; at most 64 KiB each here.
    let mut stream = data;
    let mut frames = 0;
    while let Ok(FrameRead::Frame(body)) = read_frame(&mut stream, 64 * 1024) {
        frames += 1;
        assert!(frames <= data.len() / 4 + 1);
        let _ = parse_request(body);
    }
    chunks(data);
    transfers(data);
}

/// A reply carrying the input (its first 8 KiB: enough for dozens of frames, and fast) as text,
/// cut into chunk frames no larger than a small limit, then put back together.
fn chunks(data: &[u8]) {
    let data = &data[..data.len().min(8 * 1024)];
    let limit = CHUNK_ENVELOPE_BYTES + 64 + usize::from(data.first().copied().unwrap_or(0));
    let id = smime_companion::protocol::envelope::RequestId::from_json("\"r\"").expect("a JSON string is an id");
    let reply = serde_json::to_vec(&serde_json::json!({"id": "r", "ok": true, "result": text(data)})).unwrap();
    let frames = reply_frames_with_limit(&id, reply.clone(), limit);
    if frames.len() == 1 && reply.len() <= limit {
        assert_eq!(frames[0], reply);
        return;
    }
    let mut joined = String::new();
    for (i, frame) in frames.iter().enumerate() {
        assert!(frame.len() <= limit, "frame {i} has {} bytes, limit {limit}", frame.len());
        let v: serde_json::Value = serde_json::from_slice(frame).expect("a chunk frame is JSON");
        assert_eq!(v["chunk"]["index"], i);
        joined.push_str(v["chunk"]["text"].as_str().expect("chunk text"));
    }
    assert_eq!(joined.as_bytes(), &reply[..]);
}

/// Transfers: each 4-byte step is (op, transfer, index or size (or, for begin: digest, name), chunk
/// length); chunks are taken from the rest of the input.
fn transfers(data: &[u8]) {
    let mut t = Transfers::default();
    let mut ids: Vec<String> = Vec::new();
    let (program, mut payload) = data.split_at(data.len() / 2);
    for step in program.chunks_exact(4) {
        let id = ids.get(usize::from(step[1]) % (ids.len() + 1)).cloned().unwrap_or_else(|| format!("t{}", step[1]));
        match step[0] % 6 {
            0 => {
                let sha = (step[2] & 1 == 1).then(|| "00".repeat(32));
                // Named by the caller (one of a few names, or one the host may make up) or not.
                let name = (step[2] & 2 == 2).then(|| format!("t{}", step[2] >> 6));
                if let Ok(id) = t.begin(u64::from(step[3]), sha, name.clone()) {
                    assert!(name.is_none_or(|name| name == id), "a named transfer keeps its name");
                    ids.push(id);
                }
            }
            1 | 2 => {
                let n = usize::from(step[3]).min(payload.len());
                let (chunk, rest) = payload.split_at(n);
                payload = rest;
                if let Ok(received) = t.append(&id, u64::from(step[2] % 4), chunk) {
                    assert!(received <= 255, "received {received}");
                }
            }
            3 => {
                if let Ok(done) = t.end(&id) {
                    assert!(done.total_bytes <= 255);
                }
            }
            4 => {
                if let Ok(bytes) = t.take(&id) {
                    assert!(bytes.len() <= 255);
                }
            }
            _ => {
                let _ = t.discard(&id);
            }
        }
    }
}

/// The whole verdict (`smime::analyze::inspect`) with an empty trust store and no keys: the raw
/// input as a message, and input that starts like DER also as the body of an opaque S/MIME part
/// (the decoded-CMS path).
pub fn inspect(data: &[u8]) {
    let trust = TrustAnchors::default();
    let lookup = |_: &smime_companion::smime::cms_der::CertId| None;
    let opts = InspectOptions {
        at: 1_798_761_600, // 2027-01-01T00:00:00Z
        now: 1_798_761_600,
        trust: &trust,
        keys: &[],
        locked: &[],
        known_certs: &[],
        lookup: &lookup,
        names: &(),
        return_content: true,
        keep_content: true,
        decrypted_by_thunderbird: false,
    };
    if data.first() == Some(&0x30) {
        let body = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, data);
        let message = format!(
            "From: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=signed-data\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{body}\r\n"
        );
        let _ = analyze(message.as_bytes(), &opts);
    }
    let _ = analyze(data, &opts);
}
