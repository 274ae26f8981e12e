//! S/MIME: the structure of signed and encrypted messages, verification, decryption, and the
//! verdict `inspect_message` returns.

pub mod analyze;
pub mod cms;
pub mod compose;
pub mod cms_der;
pub mod decrypt;
pub mod sender;
pub mod sign;
pub mod signature;
pub mod verdict;
