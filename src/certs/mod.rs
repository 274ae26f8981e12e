//! Certificates: reading their fields, summarising them for people, what they confirm about
//! their holder, and trust (anchors, CRLs, chain verification).

pub mod address;
pub mod oid;
pub mod summary;
pub mod trust;
pub mod x509;
