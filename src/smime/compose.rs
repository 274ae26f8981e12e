//! Building outgoing S/MIME messages: the message's own headers stay outside; its content
//! (Content-* headers and body) becomes the signed or encrypted entity. Signed content is first
//! made 7-bit clean, because a relay that re-encodes 8-bit text would break the signature.

use crate::mime::encoding::to_crlf;
use crate::mime::header::Field;
use crate::mime::Entity;

/// Header fields that belong to the content, not to the message.
fn is_content_field(f: &Field<'_>) -> bool {
    let name = String::from_utf8_lossy(f.name).to_ascii_lowercase();
    name.starts_with("content-") || name == "mime-version"
}

/// A message split into the headers that stay outside and the content entity.
pub struct Split {
    /// Outer header lines, each ending in CRLF (Bcc removed: it must not reach the recipients).
    pub outer: Vec<u8>,
    /// The content entity: its Content-* headers, a blank line, the body; canonical CRLF.
    pub content: Vec<u8>,
}

pub fn split(raw: &[u8]) -> Result<Split, String> {
    let root = Entity::parse(raw);
    if root.fields.is_empty() {
        return Err("no header fields".into());
    }
    let mut outer = Vec::new();
    let kept: Vec<&Field<'_>> = root.fields.iter().filter(|f| !is_content_field(f) && !f.is("bcc")).collect();
    write_fields(&mut outer, &kept, None);
    Ok(Split { outer, content: seven_bit(&root, true) })
}

/// The entity as 7-bit-safe canonical bytes: leaves with 8-bit data or over-long lines are
/// re-encoded (quoted-printable for text, base64 otherwise); everything else is kept as is.
fn seven_bit(e: &Entity<'_>, top: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let content_fields: Vec<&Field<'_>> = e.fields.iter().filter(|f| !top || (is_content_field(f) && !f.is("mime-version"))).collect();
    let has_type = content_fields.iter().any(|f| f.is("content-type"));
    if e.content_type.is_multipart() && !e.children.is_empty() {
        let boundary = e.content_type.param("boundary").unwrap_or_default().to_string();
        write_fields(&mut out, &content_fields, None);
        out.extend_from_slice(b"\r\n");
        for child in &e.children {
            out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            out.extend(seven_bit(child, false));
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        return out;
    }
    let body = to_crlf(e.body());
    let needs = e.transfer_encoding() == crate::mime::encoding::TransferEncoding::Identity
        && (body.iter().any(|&b| b >= 0x80 || b == 0) || body.split(|&b| b == b'\n').any(|l| l.len() > 998));
    if !needs {
        write_fields(&mut out, &content_fields, None);
        if top && !has_type {
            out.extend_from_slice(b"Content-Type: text/plain; charset=us-ascii\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&body);
        return out;
    }
    let text = e.content_type.mime_type.starts_with("text/");
    let (cte, encoded) = if text { ("quoted-printable", quoted_printable(&body)) } else { ("base64", base64_lines(&body)) };
    write_fields(&mut out, &content_fields, Some(cte));
    if top && !has_type {
        out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
    }
    out.extend_from_slice(format!("Content-Transfer-Encoding: {cte}\r\n\r\n").as_bytes());
    out.extend_from_slice(&encoded);
    out
}

/// Writes header fields; with `replace_cte`, the old Content-Transfer-Encoding is left out.
fn write_fields(out: &mut Vec<u8>, fields: &[&Field<'_>], replace_cte: Option<&str>) {
    for f in fields {
        if replace_cte.is_some() && f.is("content-transfer-encoding") {
            continue;
        }
        out.extend_from_slice(f.name);
        out.push(b':');
        out.extend_from_slice(&to_crlf(f.raw_value));
        out.extend_from_slice(b"\r\n");
    }
}

/// Quoted-printable with CRLF line breaks kept as hard breaks and soft breaks at 76 characters.
pub fn quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() * 11 / 10);
    for (n, line) in body.split(|&b| b == b'\n').enumerate() {
        if n > 0 {
            out.extend_from_slice(b"\r\n");
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let mut col = 0;
        for (i, &b) in line.iter().enumerate() {
            let last = i + 1 == line.len();
            let literal = (b == b' ' || b == b'\t') && !last || (33..=126).contains(&b) && b != b'=';
            let piece: Vec<u8> = if literal { vec![b] } else { format!("={b:02X}").into_bytes() };
            if col + piece.len() > 75 {
                out.extend_from_slice(b"=\r\n");
                col = 0;
            }
            col += piece.len();
            out.extend(piece);
        }
    }
    out
}

/// Base64 in 76-character lines, CRLF-terminated.
pub fn base64_lines(data: &[u8]) -> Vec<u8> {
    let text = base64_simd::STANDARD.encode_to_string(data);
    let mut out = Vec::with_capacity(text.len() + text.len() / 38 + 2);
    for chunk in text.as_bytes().chunks(76) {
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A boundary that does not occur in `content`.
pub fn boundary_for(content: &[u8]) -> String {
    loop {
        let mut rnd = [0u8; 12];
        openssl::rand::rand_bytes(&mut rnd).expect("random bytes");
        let b = format!("------------smc{}", crate::hex::encode(&rnd));
        if memchr::memmem::find(content, b.as_bytes()).is_none() {
            return b;
        }
    }
}

/// The multipart/signed entity (no outer headers) for `content` and its signature DER.
pub fn multipart_signed(content: &[u8], signature_der: &[u8]) -> Vec<u8> {
    let boundary = boundary_for(content);
    let mut out = Vec::with_capacity(content.len() + signature_der.len() * 2 + 512);
    out.extend_from_slice(
        format!(
            "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256;\r\n boundary=\"{boundary}\"\r\n\r\n\
             This is a cryptographically signed message in MIME format.\r\n\r\n--{boundary}\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(content);
    out.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n\
             Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"smime.p7s\"\r\n\
             Content-Description: S/MIME Cryptographic Signature\r\n\r\n"
        )
        .as_bytes(),
    );
    out.extend(base64_lines(signature_der));
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

/// The application/pkcs7-mime entity (no outer headers) for an (Auth)EnvelopedData DER.
pub fn pkcs7_mime_enveloped(der: &[u8], authenticated: bool) -> Vec<u8> {
    let smime_type = if authenticated { "authEnveloped-data" } else { "enveloped-data" };
    let mut out = format!(
        "Content-Type: application/pkcs7-mime; smime-type={smime_type}; name=\"smime.p7m\"\r\n\
         Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"smime.p7m\"\r\n\
         Content-Description: S/MIME Encrypted Message\r\n\r\n"
    )
    .into_bytes();
    out.extend(base64_lines(der));
    out
}

/// A whole message: the outer headers, MIME-Version, then the entity.
pub fn message(outer: &[u8], entity: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(outer.len() + entity.len() + 20);
    out.extend_from_slice(outer);
    out.extend_from_slice(b"MIME-Version: 1.0\r\n");
    out.extend_from_slice(entity);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outer_headers_stay_outside_and_8bit_text_becomes_quoted_printable() {
        let raw = "From: a@x.org\nBcc: secret@x.org\nSubject: Grüße\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGrüße aus Köln\n".as_bytes();
        let s = split(raw).unwrap();
        let outer = String::from_utf8(s.outer).unwrap();
        assert!(outer.contains("From: a@x.org\r\n") && !outer.contains("Bcc") && !outer.contains("Content-Type"));
        let content = String::from_utf8(s.content).unwrap();
        assert!(content.starts_with("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"));
        assert!(content.contains("Gr=C3=BC=C3=9Fe aus K=C3=B6ln"));
        assert!(content.bytes().all(|b| b < 0x80));
    }

    #[test]
    fn quoted_printable_round_trips() {
        let text = "a line with trailing space \r\n= sign and ümlaut and a very long line ".to_string() + &"x".repeat(200);
        let encoded = quoted_printable(text.as_bytes());
        assert!(encoded.split(|&b| b == b'\n').all(|l| l.len() <= 77));
        assert_eq!(crate::mime::encoding::decode_quoted_printable(&encoded), text.as_bytes());
    }
}
