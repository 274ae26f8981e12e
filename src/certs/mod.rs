//! Certificates: reading their fields, summarising them for people, what they confirm about
//! their holder, and trust (anchors, CRLs, chain verification, revocation, and the policy on top
//! of it).

pub mod address;
pub mod oid;
pub mod policy;
pub mod reading;
pub mod revocation;
pub mod summary;
pub mod trust;
pub mod x509;
