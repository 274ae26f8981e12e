//! Reading the descriptive parts of an X.509 certificate from its DER: names, validity,
//! extensions (addresses, key usage, extended key usage, policies, basic constraints), to
//! describe a certificate to people. OpenSSL decides validity, and every check reads the fields
//! it rests on through OpenSSL (`reading.rs`), never from here.

use super::{address, oid};
use crate::asn1::{tag, Asn1Result, Reader, Tlv};

/// One attribute of a distinguished name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameEntry {
    pub oid: String,
    pub value: String,
}

#[derive(Debug, Clone, Default)]
pub struct Name {
    /// In DER order (most general first).
    pub entries: Vec<NameEntry>,
}

impl Name {
    pub fn parse(tlv: &Tlv<'_>) -> Asn1Result<Name> {
        let mut entries = Vec::new();
        let mut rdns = tlv.children()?;
        while !rdns.is_empty() {
            let rdn = rdns.read()?;
            let mut atvs = rdn.children()?;
            while !atvs.is_empty() {
                let atv = atvs.read()?;
                let mut r = atv.children()?;
                let oid = r.read()?.oid()?;
                let value = r.read()?.text().unwrap_or_default();
                entries.push(NameEntry { oid, value });
            }
        }
        Ok(Name { entries })
    }

    pub fn from_der(der: &[u8]) -> Asn1Result<Name> {
        Name::parse(&Reader::new(der).read()?)
    }

    /// The first value of an attribute.
    pub fn get(&self, oid: &str) -> Option<&str> {
        self.entries.iter().find(|e| e.oid == oid).map(|e| e.value.as_str())
    }

    pub fn all<'s>(&'s self, oid: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.entries.iter().filter(move |e| e.oid == oid).map(|e| e.value.as_str())
    }

    /// RFC 4514 string, most specific first: `CN=Alice,O=Example,C=DE`.
    pub fn to_rfc4514(&self) -> String {
        self.entries
            .iter()
            .rev()
            .map(|e| format!("{}={}", short_name(&e.oid), escape_rfc4514(&e.value)))
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn short_name(oid: &str) -> &str {
    match oid {
        oid::CN => "CN",
        oid::SURNAME => "SN",
        oid::SERIAL_NUMBER => "serialNumber",
        oid::COUNTRY => "C",
        oid::LOCALITY => "L",
        oid::STATE => "ST",
        oid::STREET => "street",
        oid::ORGANIZATION => "O",
        oid::ORG_UNIT => "OU",
        oid::TITLE => "title",
        oid::GIVEN_NAME => "GN",
        oid::PSEUDONYM => "pseudonym",
        oid::ORGANIZATION_IDENTIFIER => "organizationIdentifier",
        oid::EMAIL_ADDRESS => "E",
        oid::DOMAIN_COMPONENT => "DC",
        other => other,
    }
}

fn escape_rfc4514(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    // Counted once: values come from certificates and messages and can be very long.
    let count = value.chars().count();
    for (i, c) in value.chars().enumerate() {
        let needs = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=')
            || (i == 0 && (c == '#' || c == ' '))
            || (i + 1 == count && c == ' ');
        if needs {
            out.push('\\');
        }
        if c.is_control() {
            out.push_str(&format!("\\{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// The key usage bits, by name.
pub const KEY_USAGE_NAMES: [&str; 9] = [
    "digital_signature",
    "non_repudiation",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
];

/// What the companion reads from a certificate.
#[derive(Debug, Clone, Default)]
pub struct CertFields {
    pub serial: Vec<u8>,
    pub issuer: Name,
    pub issuer_der: Vec<u8>,
    pub subject: Name,
    pub subject_der: Vec<u8>,
    pub not_before: i64,
    pub not_after: i64,
    /// Whether the certificate has a subjectAltName extension (then the subject's emailAddress
    /// does not count, RFC 8550).
    pub has_san: bool,
    /// SAN rfc822Name values, in order (as text; bytes that are not UTF-8 replaced).
    pub san_emails: Vec<String>,
    /// SAN rfc822Name values as the bytes the CA wrote (an IA5String), in order: for showing
    /// them exactly.
    pub san_rfc822_raw: Vec<Vec<u8>>,
    /// SAN otherName SmtpUTF8Mailbox values (RFC 9598), in order; OpenSSL does not read them.
    /// Shown, never used.
    pub san_utf8_mailboxes: Vec<String>,
    /// Key usage names, None when the extension is absent.
    pub key_usage: Option<Vec<&'static str>>,
    /// Extended key usage OIDs, None when the extension is absent.
    pub ext_key_usage: Option<Vec<String>>,
    pub policies: Vec<String>,
    pub is_ca: bool,
    pub subject_key_id: Option<Vec<u8>>,
    pub public_key_oid: String,
    pub public_key_params_oid: Option<String>,
}

impl CertFields {
    pub fn parse(der: &[u8]) -> Asn1Result<CertFields> {
        let cert = Reader::new(der).expect(tag::SEQUENCE)?;
        let tbs = cert.children()?.expect(tag::SEQUENCE)?;
        let mut r = tbs.children()?;
        r.read_optional_context(0)?; // version
        let mut f = CertFields { serial: r.expect(tag::INTEGER)?.content.to_vec(), ..CertFields::default() };
        r.expect(tag::SEQUENCE)?; // signature algorithm
        let issuer = r.expect(tag::SEQUENCE)?;
        f.issuer = Name::parse(&issuer)?;
        f.issuer_der = issuer.raw.to_vec();
        let mut validity = r.expect(tag::SEQUENCE)?.children()?;
        f.not_before = validity.read()?.time()?;
        f.not_after = validity.read()?.time()?;
        let subject = r.expect(tag::SEQUENCE)?;
        f.subject = Name::parse(&subject)?;
        f.subject_der = subject.raw.to_vec();
        let mut spki = r.expect(tag::SEQUENCE)?.children()?;
        let mut alg = spki.expect(tag::SEQUENCE)?.children()?;
        f.public_key_oid = alg.read()?.oid()?;
        if !alg.is_empty() {
            f.public_key_params_oid = alg.read()?.oid().ok();
        }
        while !r.is_empty() {
            let item = r.read()?;
            if item.is_context(3) {
                let mut exts = item.children()?.expect(tag::SEQUENCE)?.children()?;
                while !exts.is_empty() {
                    let ext = exts.read()?;
                    let mut e = ext.children()?;
                    let id = e.read()?.oid()?;
                    let mut value = e.read()?;
                    if value.is_universal(tag::BOOLEAN) {
                        value = e.read()?;
                    }
                    // A broken extension is ignored here; OpenSSL's verification rejects it.
                    let _ = f.read_extension(&id, &value.octets()?);
                }
            }
        }
        Ok(f)
    }

    fn read_extension(&mut self, id: &str, value: &[u8]) -> Asn1Result<()> {
        let top = Reader::new(value).read()?;
        match id {
            oid::SUBJECT_ALT_NAME => {
                self.has_san = true;
                let mut names = top.children()?;
                while !names.is_empty() {
                    let gn = names.read()?;
                    if gn.is_context(1) && !gn.constructed {
                        self.san_emails.push(String::from_utf8_lossy(gn.content).into_owned());
                        self.san_rfc822_raw.push(gn.content.to_vec());
                    } else if gn.is_context(0) && gn.constructed {
                        let mut other = gn.children()?;
                        if other.read()?.oid()? == oid::SMTP_UTF8_MAILBOX {
                            let wrapped = other.read()?;
                            self.san_utf8_mailboxes.push(wrapped.children()?.read()?.text()?);
                        }
                    }
                }
            }
            oid::KEY_USAGE => {
                let bits = top.octets()?;
                let mut names = Vec::new();
                for (i, name) in KEY_USAGE_NAMES.iter().enumerate() {
                    let byte = 1 + i / 8;
                    if bits.get(byte).is_some_and(|b| b & (0x80 >> (i % 8)) != 0) {
                        names.push(*name);
                    }
                }
                self.key_usage = Some(names);
            }
            oid::EXT_KEY_USAGE => {
                let mut list = Vec::new();
                let mut r = top.children()?;
                while !r.is_empty() {
                    list.push(r.read()?.oid()?);
                }
                self.ext_key_usage = Some(list);
            }
            oid::CERTIFICATE_POLICIES => {
                let mut r = top.children()?;
                while !r.is_empty() {
                    let info = r.read()?;
                    self.policies.push(info.children()?.read()?.oid()?);
                }
            }
            oid::BASIC_CONSTRAINTS => {
                let mut r = top.children()?;
                if !r.is_empty() {
                    let first = r.read()?;
                    self.is_ca = first.is_universal(tag::BOOLEAN) && first.content.first().is_some_and(|&b| b != 0);
                }
            }
            oid::SUBJECT_KEY_ID => self.subject_key_id = Some(top.octets()?.into_owned()),
            _ => {}
        }
        Ok(())
    }

    /// The e-mail addresses that count, by RFC 8550's rule (`certs::address::usable_addresses`:
    /// the SAN's rfc822Names, or the subject's emailAddress only when there is no SAN), on this
    /// DER reading: for describing a certificate (the PKCS#11 label). Decisions use
    /// `Cert::emails`, the same rule on OpenSSL's reading.
    pub fn emails(&self) -> Vec<String> {
        address::usable_addresses(self.has_san.then_some(&self.san_rfc822_raw[..]), &self.subject_email_bytes())
    }

    /// Every other address written in the certificate, escaped for showing, with the reason it
    /// does not count.
    pub fn ignored_emails(&self) -> Vec<address::IgnoredAddress> {
        address::ignored_addresses(self.has_san.then_some(&self.san_rfc822_raw[..]), &self.san_utf8_mailboxes, &self.subject_email_bytes())
    }

    fn subject_email_bytes(&self) -> Vec<Vec<u8>> {
        self.subject.all(oid::EMAIL_ADDRESS).map(|e| e.as_bytes().to_vec()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cn(value: &str) -> Name {
        Name { entries: vec![NameEntry { oid: oid::CN.into(), value: value.into() }] }
    }

    #[test]
    fn rfc4514_escapes_specials_and_leading_and_trailing_spaces() {
        assert_eq!(cn("a,b+c\"d\\e<f>g;h=i").to_rfc4514(), "CN=a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h\\=i");
        assert_eq!(cn("#x ").to_rfc4514(), "CN=\\#x\\ ");
        assert_eq!(cn(" ä ").to_rfc4514(), "CN=\\ ä\\ ");
        assert_eq!(cn(" ").to_rfc4514(), "CN=\\ ");
        assert_eq!(cn("a\u{7}b").to_rfc4514(), "CN=a\\07b");
    }

    /// Used to take seconds: the characters were counted again for every character.
    #[test]
    fn rfc4514_of_a_long_value_is_linear() {
        let n = 640 * 1024;
        let name = cn(&format!("#{} ", "ä".repeat(n)));
        assert_eq!(name.to_rfc4514(), format!("CN=\\#{}\\ ", "ä".repeat(n)));
    }
}
