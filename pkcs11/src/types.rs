//! The PKCS#11 types and constants this module uses, declared from the OASIS PKCS#11 v2.40 headers
//! (`pkcs11t.h`, `pkcs11f.h`), plus the few NSS vendor values (`pkcs11n.h`) and PKCS#11 3.x values
//! NSS searches for. Only what the module needs; names as in the headers so they can be grepped.
//!
//! Layout: `CK_ULONG` is C `unsigned long` (64 bits on Linux and macOS, 32 on Windows); structures
//! are `repr(C)` except on Windows, where the headers pack them to 1 byte.
#![allow(non_camel_case_types, non_snake_case, dead_code, clippy::upper_case_acronyms)]

use std::os::raw::{c_uchar, c_ulong, c_void};

pub type CK_BYTE = c_uchar;
pub type CK_CHAR = c_uchar;
pub type CK_UTF8CHAR = c_uchar;
pub type CK_BBOOL = c_uchar;
pub type CK_ULONG = c_ulong;
pub type CK_FLAGS = CK_ULONG;
pub type CK_RV = CK_ULONG;
pub type CK_SLOT_ID = CK_ULONG;
pub type CK_SESSION_HANDLE = CK_ULONG;
pub type CK_OBJECT_HANDLE = CK_ULONG;
pub type CK_OBJECT_CLASS = CK_ULONG;
pub type CK_ATTRIBUTE_TYPE = CK_ULONG;
pub type CK_MECHANISM_TYPE = CK_ULONG;
pub type CK_USER_TYPE = CK_ULONG;
pub type CK_STATE = CK_ULONG;
pub type CK_KEY_TYPE = CK_ULONG;
pub type CK_VOID_PTR = *mut c_void;
pub type CK_ULONG_PTR = *mut CK_ULONG;
pub type CK_BYTE_PTR = *mut CK_BYTE;
pub type CK_NOTIFY = Option<unsafe extern "C" fn(CK_SESSION_HANDLE, CK_ULONG, CK_VOID_PTR) -> CK_RV>;

pub const CK_TRUE: CK_BBOOL = 1;
pub const CK_FALSE: CK_BBOOL = 0;
pub const CK_UNAVAILABLE_INFORMATION: CK_ULONG = !0;
pub const CK_EFFECTIVELY_INFINITE: CK_ULONG = 0;

// --- return values (CKR_*) ---
pub const CKR_OK: CK_RV = 0x00;
pub const CKR_CANCEL: CK_RV = 0x01;
pub const CKR_HOST_MEMORY: CK_RV = 0x02;
pub const CKR_SLOT_ID_INVALID: CK_RV = 0x03;
pub const CKR_GENERAL_ERROR: CK_RV = 0x05;
pub const CKR_FUNCTION_FAILED: CK_RV = 0x06;
pub const CKR_ARGUMENTS_BAD: CK_RV = 0x07;
pub const CKR_NO_EVENT: CK_RV = 0x08;
pub const CKR_NEED_TO_CREATE_THREADS: CK_RV = 0x09;
pub const CKR_CANT_LOCK: CK_RV = 0x0A;
pub const CKR_ATTRIBUTE_READ_ONLY: CK_RV = 0x10;
pub const CKR_ATTRIBUTE_SENSITIVE: CK_RV = 0x11;
pub const CKR_ATTRIBUTE_TYPE_INVALID: CK_RV = 0x12;
pub const CKR_ATTRIBUTE_VALUE_INVALID: CK_RV = 0x13;
pub const CKR_DATA_INVALID: CK_RV = 0x20;
pub const CKR_DATA_LEN_RANGE: CK_RV = 0x21;
pub const CKR_DEVICE_ERROR: CK_RV = 0x30;
pub const CKR_ENCRYPTED_DATA_INVALID: CK_RV = 0x40;
pub const CKR_ENCRYPTED_DATA_LEN_RANGE: CK_RV = 0x41;
pub const CKR_FUNCTION_NOT_PARALLEL: CK_RV = 0x51;
pub const CKR_FUNCTION_NOT_SUPPORTED: CK_RV = 0x54;
pub const CKR_KEY_HANDLE_INVALID: CK_RV = 0x60;
pub const CKR_KEY_SIZE_RANGE: CK_RV = 0x62;
pub const CKR_KEY_TYPE_INCONSISTENT: CK_RV = 0x63;
pub const CKR_KEY_FUNCTION_NOT_PERMITTED: CK_RV = 0x68;
pub const CKR_MECHANISM_INVALID: CK_RV = 0x70;
pub const CKR_MECHANISM_PARAM_INVALID: CK_RV = 0x71;
pub const CKR_OBJECT_HANDLE_INVALID: CK_RV = 0x82;
pub const CKR_OPERATION_ACTIVE: CK_RV = 0x90;
pub const CKR_OPERATION_NOT_INITIALIZED: CK_RV = 0x91;
pub const CKR_PIN_INCORRECT: CK_RV = 0xA0;
pub const CKR_PIN_LEN_RANGE: CK_RV = 0xA2;
pub const CKR_SESSION_COUNT: CK_RV = 0xB1;
pub const CKR_SESSION_HANDLE_INVALID: CK_RV = 0xB3;
pub const CKR_SESSION_PARALLEL_NOT_SUPPORTED: CK_RV = 0xB4;
pub const CKR_SESSION_READ_ONLY: CK_RV = 0xB5;
pub const CKR_TEMPLATE_INCOMPLETE: CK_RV = 0xD0;
pub const CKR_TEMPLATE_INCONSISTENT: CK_RV = 0xD1;
pub const CKR_TOKEN_WRITE_PROTECTED: CK_RV = 0xE2;
pub const CKR_USER_ALREADY_LOGGED_IN: CK_RV = 0x100;
pub const CKR_USER_NOT_LOGGED_IN: CK_RV = 0x101;
pub const CKR_USER_PIN_NOT_INITIALIZED: CK_RV = 0x102;
pub const CKR_USER_TYPE_INVALID: CK_RV = 0x103;
pub const CKR_RANDOM_NO_RNG: CK_RV = 0x121;
pub const CKR_BUFFER_TOO_SMALL: CK_RV = 0x150;
pub const CKR_CRYPTOKI_NOT_INITIALIZED: CK_RV = 0x190;
pub const CKR_CRYPTOKI_ALREADY_INITIALIZED: CK_RV = 0x191;

// --- object classes (CKO_*) ---
pub const CKO_DATA: CK_OBJECT_CLASS = 0;
pub const CKO_CERTIFICATE: CK_OBJECT_CLASS = 1;
pub const CKO_PUBLIC_KEY: CK_OBJECT_CLASS = 2;
pub const CKO_PRIVATE_KEY: CK_OBJECT_CLASS = 3;
pub const CKO_SECRET_KEY: CK_OBJECT_CLASS = 4;
pub const CKO_PROFILE: CK_OBJECT_CLASS = 9;
/// PKCS#11 3.2 trust objects; NSS 3.11x searches them beside its own `CKO_NSS_TRUST`.
pub const CKO_TRUST: CK_OBJECT_CLASS = 0x0B;
pub const CKO_NSS: CK_OBJECT_CLASS = 0xCE53_4350;
pub const CKO_NSS_CRL: CK_OBJECT_CLASS = CKO_NSS + 1;
pub const CKO_NSS_SMIME: CK_OBJECT_CLASS = CKO_NSS + 2;
pub const CKO_NSS_TRUST: CK_OBJECT_CLASS = CKO_NSS + 3;
pub const CKO_NSS_BUILTIN_ROOT_LIST: CK_OBJECT_CLASS = CKO_NSS + 4;

// --- attributes (CKA_*) ---
pub const CKA_CLASS: CK_ATTRIBUTE_TYPE = 0x000;
pub const CKA_TOKEN: CK_ATTRIBUTE_TYPE = 0x001;
pub const CKA_PRIVATE: CK_ATTRIBUTE_TYPE = 0x002;
pub const CKA_LABEL: CK_ATTRIBUTE_TYPE = 0x003;
pub const CKA_VALUE: CK_ATTRIBUTE_TYPE = 0x011;
pub const CKA_CERTIFICATE_TYPE: CK_ATTRIBUTE_TYPE = 0x080;
pub const CKA_ISSUER: CK_ATTRIBUTE_TYPE = 0x081;
pub const CKA_SERIAL_NUMBER: CK_ATTRIBUTE_TYPE = 0x082;
pub const CKA_TRUSTED: CK_ATTRIBUTE_TYPE = 0x086;
pub const CKA_CERTIFICATE_CATEGORY: CK_ATTRIBUTE_TYPE = 0x087;
pub const CKA_KEY_TYPE: CK_ATTRIBUTE_TYPE = 0x100;
pub const CKA_SUBJECT: CK_ATTRIBUTE_TYPE = 0x101;
pub const CKA_ID: CK_ATTRIBUTE_TYPE = 0x102;
pub const CKA_SENSITIVE: CK_ATTRIBUTE_TYPE = 0x103;
pub const CKA_ENCRYPT: CK_ATTRIBUTE_TYPE = 0x104;
pub const CKA_DECRYPT: CK_ATTRIBUTE_TYPE = 0x105;
pub const CKA_WRAP: CK_ATTRIBUTE_TYPE = 0x106;
pub const CKA_UNWRAP: CK_ATTRIBUTE_TYPE = 0x107;
pub const CKA_SIGN: CK_ATTRIBUTE_TYPE = 0x108;
pub const CKA_SIGN_RECOVER: CK_ATTRIBUTE_TYPE = 0x109;
pub const CKA_VERIFY: CK_ATTRIBUTE_TYPE = 0x10A;
pub const CKA_VERIFY_RECOVER: CK_ATTRIBUTE_TYPE = 0x10B;
pub const CKA_DERIVE: CK_ATTRIBUTE_TYPE = 0x10C;
pub const CKA_MODULUS: CK_ATTRIBUTE_TYPE = 0x120;
pub const CKA_MODULUS_BITS: CK_ATTRIBUTE_TYPE = 0x121;
pub const CKA_PUBLIC_EXPONENT: CK_ATTRIBUTE_TYPE = 0x122;
pub const CKA_PRIVATE_EXPONENT: CK_ATTRIBUTE_TYPE = 0x123;
pub const CKA_PRIME_1: CK_ATTRIBUTE_TYPE = 0x124;
pub const CKA_PRIME_2: CK_ATTRIBUTE_TYPE = 0x125;
pub const CKA_EXPONENT_1: CK_ATTRIBUTE_TYPE = 0x126;
pub const CKA_EXPONENT_2: CK_ATTRIBUTE_TYPE = 0x127;
pub const CKA_COEFFICIENT: CK_ATTRIBUTE_TYPE = 0x128;
pub const CKA_PUBLIC_KEY_INFO: CK_ATTRIBUTE_TYPE = 0x129;
pub const CKA_VALUE_LEN: CK_ATTRIBUTE_TYPE = 0x161;
pub const CKA_EXTRACTABLE: CK_ATTRIBUTE_TYPE = 0x162;
pub const CKA_LOCAL: CK_ATTRIBUTE_TYPE = 0x163;
pub const CKA_NEVER_EXTRACTABLE: CK_ATTRIBUTE_TYPE = 0x164;
pub const CKA_ALWAYS_SENSITIVE: CK_ATTRIBUTE_TYPE = 0x165;
pub const CKA_MODIFIABLE: CK_ATTRIBUTE_TYPE = 0x170;
pub const CKA_EC_PARAMS: CK_ATTRIBUTE_TYPE = 0x180;
pub const CKA_EC_POINT: CK_ATTRIBUTE_TYPE = 0x181;
pub const CKA_ALWAYS_AUTHENTICATE: CK_ATTRIBUTE_TYPE = 0x202;
pub const CKA_PROFILE_ID: CK_ATTRIBUTE_TYPE = 0x601;

// --- certificate, key and user types ---
pub const CKC_X_509: CK_ULONG = 0;
pub const CKK_RSA: CK_KEY_TYPE = 0x00;
pub const CKK_EC: CK_KEY_TYPE = 0x03;
pub const CKK_GENERIC_SECRET: CK_KEY_TYPE = 0x10;
pub const CKK_DES3: CK_KEY_TYPE = 0x15;
pub const CKK_AES: CK_KEY_TYPE = 0x1F;
pub const CKU_SO: CK_USER_TYPE = 0;
pub const CKU_USER: CK_USER_TYPE = 1;
pub const CKU_CONTEXT_SPECIFIC: CK_USER_TYPE = 2;
pub const CKS_RO_PUBLIC_SESSION: CK_STATE = 0;
pub const CKS_RO_USER_FUNCTIONS: CK_STATE = 1;
pub const CKS_RW_PUBLIC_SESSION: CK_STATE = 2;
pub const CKS_RW_USER_FUNCTIONS: CK_STATE = 3;
/// Certificate categories (CKA_CERTIFICATE_CATEGORY).
pub const CK_CERTIFICATE_CATEGORY_TOKEN_USER: CK_ULONG = 1;
pub const CK_CERTIFICATE_CATEGORY_AUTHORITY: CK_ULONG = 2;
pub const CK_CERTIFICATE_CATEGORY_OTHER_ENTITY: CK_ULONG = 3;
/// Profile ids (CKA_PROFILE_ID, PKCS#11 3.0): a token whose certificates are public. NSS (3.48+)
/// then never logs in to search certificates (`PK11_IsFriendly`).
pub const CKP_PUBLIC_CERTIFICATES_TOKEN: CK_ULONG = 4;

// --- mechanisms (CKM_*) and their parameters ---
pub const CKM_RSA_PKCS: CK_MECHANISM_TYPE = 0x0001;
pub const CKM_RSA_PKCS_OAEP: CK_MECHANISM_TYPE = 0x0009;
pub const CKM_SHA_1: CK_MECHANISM_TYPE = 0x0220;
pub const CKM_SHA256: CK_MECHANISM_TYPE = 0x0250;
pub const CKM_SHA224: CK_MECHANISM_TYPE = 0x0255;
pub const CKM_SHA384: CK_MECHANISM_TYPE = 0x0260;
pub const CKM_SHA512: CK_MECHANISM_TYPE = 0x0270;
pub const CKM_ECDSA: CK_MECHANISM_TYPE = 0x1041;
pub const CKM_ECDH1_DERIVE: CK_MECHANISM_TYPE = 0x1050;
/// RFC 3394 AES key wrap (CMS `id-aes*-wrap`), which NSS uses with the ECDH-derived key.
pub const CKM_AES_KEY_WRAP: CK_MECHANISM_TYPE = 0x2109;
pub const CKG_MGF1_SHA1: CK_ULONG = 1;
pub const CKG_MGF1_SHA256: CK_ULONG = 2;
pub const CKG_MGF1_SHA384: CK_ULONG = 3;
pub const CKG_MGF1_SHA512: CK_ULONG = 4;
pub const CKG_MGF1_SHA224: CK_ULONG = 5;
pub const CKZ_DATA_SPECIFIED: CK_ULONG = 1;
pub const CKD_NULL: CK_ULONG = 1;
pub const CKD_SHA1_KDF: CK_ULONG = 2;
pub const CKD_SHA224_KDF: CK_ULONG = 5;
pub const CKD_SHA256_KDF: CK_ULONG = 6;
pub const CKD_SHA384_KDF: CK_ULONG = 7;
pub const CKD_SHA512_KDF: CK_ULONG = 8;

// --- flags (CKF_*) ---
pub const CKF_TOKEN_PRESENT: CK_FLAGS = 0x1;
pub const CKF_REMOVABLE_DEVICE: CK_FLAGS = 0x2;
pub const CKF_WRITE_PROTECTED: CK_FLAGS = 0x2;
pub const CKF_LOGIN_REQUIRED: CK_FLAGS = 0x4;
pub const CKF_USER_PIN_INITIALIZED: CK_FLAGS = 0x8;
pub const CKF_TOKEN_INITIALIZED: CK_FLAGS = 0x400;
pub const CKF_RW_SESSION: CK_FLAGS = 0x2;
pub const CKF_SERIAL_SESSION: CK_FLAGS = 0x4;
pub const CKF_LIBRARY_CANT_CREATE_OS_THREADS: CK_FLAGS = 0x1;
pub const CKF_OS_LOCKING_OK: CK_FLAGS = 0x2;
pub const CKF_DECRYPT: CK_FLAGS = 0x200;
pub const CKF_SIGN: CK_FLAGS = 0x800;
pub const CKF_DERIVE: CK_FLAGS = 0x8_0000;
pub const CKF_EC_F_P: CK_FLAGS = 0x10_0000;
pub const CKF_EC_NAMEDCURVE: CK_FLAGS = 0x80_0000;
pub const CKF_EC_UNCOMPRESS: CK_FLAGS = 0x100_0000;

// --- structures ---
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(not(windows), repr(C))]
#[cfg_attr(windows, repr(C, packed(1)))]
pub struct CK_VERSION {
    pub major: CK_BYTE,
    pub minor: CK_BYTE,
}

#[derive(Clone, Copy)]
#[cfg_attr(not(windows), repr(C))]
#[cfg_attr(windows, repr(C, packed(1)))]
pub struct CK_INFO {
    pub cryptokiVersion: CK_VERSION,
    pub manufacturerID: [CK_UTF8CHAR; 32],
    pub flags: CK_FLAGS,
    pub libraryDescription: [CK_UTF8CHAR; 32],
    pub libraryVersion: CK_VERSION,
}

#[derive(Clone, Copy)]
#[cfg_attr(not(windows), repr(C))]
#[cfg_attr(windows, repr(C, packed(1)))]
pub struct CK_SLOT_INFO {
    pub slotDescription: [CK_UTF8CHAR; 64],
    pub manufacturerID: [CK_UTF8CHAR; 32],
    pub flags: CK_FLAGS,
    pub hardwareVersion: CK_VERSION,
    pub firmwareVersion: CK_VERSION,
}

#[derive(Clone, Copy)]
#[cfg_attr(not(windows), repr(C))]
#[cfg_attr(windows, repr(C, packed(1)))]
pub struct CK_TOKEN_INFO {
    pub label: [CK_UTF8CHAR; 32],
    pub manufacturerID: [CK_UTF8CHAR; 32],
    pub model: [CK_UTF8CHAR; 16],
    pub serialNumber: [CK_CHAR; 16],
    pub flags: CK_FLAGS,
    pub ulMaxSessionCount: CK_ULONG,
    pub ulSessionCount: CK_ULONG,
    pub ulMaxRwSessionCount: CK_ULONG,
    pub ulRwSessionCount: CK_ULONG,
    pub ulMaxPinLen: CK_ULONG,
    pub ulMinPinLen: CK_ULONG,
    pub ulTotalPublicMemory: CK_ULONG,
    pub ulFreePublicMemory: CK_ULONG,
    pub ulTotalPrivateMemory: CK_ULONG,
    pub ulFreePrivateMemory: CK_ULONG,
    pub hardwareVersion: CK_VERSION,
    pub firmwareVersion: CK_VERSION,
    pub utcTime: [CK_CHAR; 16],
}

#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(windows), repr(C))]
#[cfg_attr(windows, repr(C, packed(1)))]
pub struct CK_SESSION_INFO {
    pub slotID: CK_SLOT_ID,
    pub state: CK_STATE,
    pub flags: CK_FLAGS,
    pub ulDeviceError: CK_ULONG,
}

#[derive(Clone, Copy, Debug, Default)]
#[cfg_attr(not(windows), repr(C))]
#[cfg_attr(windows, repr(C, packed(1)))]
pub struct CK_MECHANISM_INFO {
    pub ulMinKeySize: CK_ULONG,
    pub ulMaxKeySize: CK_ULONG,
    pub flags: CK_FLAGS,
}

#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(windows), repr(C))]
#[cfg_attr(windows, repr(C, packed(1)))]
pub struct CK_ATTRIBUTE {
    pub type_: CK_ATTRIBUTE_TYPE,
    pub pValue: CK_VOID_PTR,
    pub ulValueLen: CK_ULONG,
}

#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(windows), repr(C))]
#[cfg_attr(windows, repr(C, packed(1)))]
pub struct CK_MECHANISM {
    pub mechanism: CK_MECHANISM_TYPE,
    pub pParameter: CK_VOID_PTR,
    pub ulParameterLen: CK_ULONG,
}

#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(windows), repr(C))]
#[cfg_attr(windows, repr(C, packed(1)))]
pub struct CK_RSA_PKCS_OAEP_PARAMS {
    pub hashAlg: CK_MECHANISM_TYPE,
    pub mgf: CK_ULONG,
    pub source: CK_ULONG,
    pub pSourceData: CK_VOID_PTR,
    pub ulSourceDataLen: CK_ULONG,
}

#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(windows), repr(C))]
#[cfg_attr(windows, repr(C, packed(1)))]
pub struct CK_ECDH1_DERIVE_PARAMS {
    pub kdf: CK_ULONG,
    pub ulSharedDataLen: CK_ULONG,
    pub pSharedData: CK_BYTE_PTR,
    pub ulPublicDataLen: CK_ULONG,
    pub pPublicData: CK_BYTE_PTR,
}

pub type CK_CREATEMUTEX = Option<unsafe extern "C" fn(*mut CK_VOID_PTR) -> CK_RV>;
pub type CK_MUTEX_FN = Option<unsafe extern "C" fn(CK_VOID_PTR) -> CK_RV>;

#[derive(Clone, Copy)]
#[cfg_attr(not(windows), repr(C))]
#[cfg_attr(windows, repr(C, packed(1)))]
pub struct CK_C_INITIALIZE_ARGS {
    pub CreateMutex: CK_CREATEMUTEX,
    pub DestroyMutex: CK_MUTEX_FN,
    pub LockMutex: CK_MUTEX_FN,
    pub UnlockMutex: CK_MUTEX_FN,
    pub flags: CK_FLAGS,
    /// NSS puts its module parameters here (its `CK_C_INITIALIZE_ARGS_NSS` adds `LibraryParameters`
    /// before `pReserved`); the module reads neither.
    pub pReserved: CK_VOID_PTR,
}

pub type CK_SLOT_ID_PTR = *mut CK_SLOT_ID;
pub type CK_SESSION_HANDLE_PTR = *mut CK_SESSION_HANDLE;
pub type CK_OBJECT_HANDLE_PTR = *mut CK_OBJECT_HANDLE;
pub type CK_MECHANISM_TYPE_PTR = *mut CK_MECHANISM_TYPE;
pub type CK_ATTRIBUTE_PTR = *mut CK_ATTRIBUTE;
pub type CK_MECHANISM_PTR = *mut CK_MECHANISM;
pub type CK_FUNCTION_LIST_PTR = *mut CK_FUNCTION_LIST;
pub type CK_FUNCTION_LIST_PTR_PTR = *mut CK_FUNCTION_LIST_PTR;

type H = CK_SESSION_HANDLE;
type O = CK_OBJECT_HANDLE;
type P<T> = *mut T;

/// `CK_FUNCTION_LIST` of PKCS#11 v2.40: the version, then the 68 functions in `pkcs11f.h` order.
#[cfg_attr(not(windows), repr(C))]
#[cfg_attr(windows, repr(C, packed(1)))]
pub struct CK_FUNCTION_LIST {
    pub version: CK_VERSION,
    pub C_Initialize: Option<unsafe extern "C" fn(CK_VOID_PTR) -> CK_RV>,
    pub C_Finalize: Option<unsafe extern "C" fn(CK_VOID_PTR) -> CK_RV>,
    pub C_GetInfo: Option<unsafe extern "C" fn(P<CK_INFO>) -> CK_RV>,
    pub C_GetFunctionList: Option<unsafe extern "C" fn(CK_FUNCTION_LIST_PTR_PTR) -> CK_RV>,
    pub C_GetSlotList: Option<unsafe extern "C" fn(CK_BBOOL, CK_SLOT_ID_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_GetSlotInfo: Option<unsafe extern "C" fn(CK_SLOT_ID, P<CK_SLOT_INFO>) -> CK_RV>,
    pub C_GetTokenInfo: Option<unsafe extern "C" fn(CK_SLOT_ID, P<CK_TOKEN_INFO>) -> CK_RV>,
    pub C_GetMechanismList: Option<unsafe extern "C" fn(CK_SLOT_ID, CK_MECHANISM_TYPE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_GetMechanismInfo: Option<unsafe extern "C" fn(CK_SLOT_ID, CK_MECHANISM_TYPE, P<CK_MECHANISM_INFO>) -> CK_RV>,
    pub C_InitToken: Option<unsafe extern "C" fn(CK_SLOT_ID, P<CK_UTF8CHAR>, CK_ULONG, P<CK_UTF8CHAR>) -> CK_RV>,
    pub C_InitPIN: Option<unsafe extern "C" fn(H, P<CK_UTF8CHAR>, CK_ULONG) -> CK_RV>,
    pub C_SetPIN: Option<unsafe extern "C" fn(H, P<CK_UTF8CHAR>, CK_ULONG, P<CK_UTF8CHAR>, CK_ULONG) -> CK_RV>,
    pub C_OpenSession: Option<unsafe extern "C" fn(CK_SLOT_ID, CK_FLAGS, CK_VOID_PTR, CK_NOTIFY, CK_SESSION_HANDLE_PTR) -> CK_RV>,
    pub C_CloseSession: Option<unsafe extern "C" fn(H) -> CK_RV>,
    pub C_CloseAllSessions: Option<unsafe extern "C" fn(CK_SLOT_ID) -> CK_RV>,
    pub C_GetSessionInfo: Option<unsafe extern "C" fn(H, P<CK_SESSION_INFO>) -> CK_RV>,
    pub C_GetOperationState: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_SetOperationState: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG, O, O) -> CK_RV>,
    pub C_Login: Option<unsafe extern "C" fn(H, CK_USER_TYPE, P<CK_UTF8CHAR>, CK_ULONG) -> CK_RV>,
    pub C_Logout: Option<unsafe extern "C" fn(H) -> CK_RV>,
    pub C_CreateObject: Option<unsafe extern "C" fn(H, CK_ATTRIBUTE_PTR, CK_ULONG, CK_OBJECT_HANDLE_PTR) -> CK_RV>,
    pub C_CopyObject: Option<unsafe extern "C" fn(H, O, CK_ATTRIBUTE_PTR, CK_ULONG, CK_OBJECT_HANDLE_PTR) -> CK_RV>,
    pub C_DestroyObject: Option<unsafe extern "C" fn(H, O) -> CK_RV>,
    pub C_GetObjectSize: Option<unsafe extern "C" fn(H, O, CK_ULONG_PTR) -> CK_RV>,
    pub C_GetAttributeValue: Option<unsafe extern "C" fn(H, O, CK_ATTRIBUTE_PTR, CK_ULONG) -> CK_RV>,
    pub C_SetAttributeValue: Option<unsafe extern "C" fn(H, O, CK_ATTRIBUTE_PTR, CK_ULONG) -> CK_RV>,
    pub C_FindObjectsInit: Option<unsafe extern "C" fn(H, CK_ATTRIBUTE_PTR, CK_ULONG) -> CK_RV>,
    pub C_FindObjects: Option<unsafe extern "C" fn(H, CK_OBJECT_HANDLE_PTR, CK_ULONG, CK_ULONG_PTR) -> CK_RV>,
    pub C_FindObjectsFinal: Option<unsafe extern "C" fn(H) -> CK_RV>,
    pub C_EncryptInit: Option<unsafe extern "C" fn(H, CK_MECHANISM_PTR, O) -> CK_RV>,
    pub C_Encrypt: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_EncryptUpdate: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_EncryptFinal: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_DecryptInit: Option<unsafe extern "C" fn(H, CK_MECHANISM_PTR, O) -> CK_RV>,
    pub C_Decrypt: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_DecryptUpdate: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_DecryptFinal: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_DigestInit: Option<unsafe extern "C" fn(H, CK_MECHANISM_PTR) -> CK_RV>,
    pub C_Digest: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_DigestUpdate: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG) -> CK_RV>,
    pub C_DigestKey: Option<unsafe extern "C" fn(H, O) -> CK_RV>,
    pub C_DigestFinal: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_SignInit: Option<unsafe extern "C" fn(H, CK_MECHANISM_PTR, O) -> CK_RV>,
    pub C_Sign: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_SignUpdate: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG) -> CK_RV>,
    pub C_SignFinal: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_SignRecoverInit: Option<unsafe extern "C" fn(H, CK_MECHANISM_PTR, O) -> CK_RV>,
    pub C_SignRecover: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_VerifyInit: Option<unsafe extern "C" fn(H, CK_MECHANISM_PTR, O) -> CK_RV>,
    pub C_Verify: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG) -> CK_RV>,
    pub C_VerifyUpdate: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG) -> CK_RV>,
    pub C_VerifyFinal: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG) -> CK_RV>,
    pub C_VerifyRecoverInit: Option<unsafe extern "C" fn(H, CK_MECHANISM_PTR, O) -> CK_RV>,
    pub C_VerifyRecover: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_DigestEncryptUpdate: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_DecryptDigestUpdate: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_SignEncryptUpdate: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_DecryptVerifyUpdate: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG, CK_BYTE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_GenerateKey: Option<unsafe extern "C" fn(H, CK_MECHANISM_PTR, CK_ATTRIBUTE_PTR, CK_ULONG, CK_OBJECT_HANDLE_PTR) -> CK_RV>,
    pub C_GenerateKeyPair: Option<
        unsafe extern "C" fn(H, CK_MECHANISM_PTR, CK_ATTRIBUTE_PTR, CK_ULONG, CK_ATTRIBUTE_PTR, CK_ULONG, CK_OBJECT_HANDLE_PTR, CK_OBJECT_HANDLE_PTR) -> CK_RV,
    >,
    pub C_WrapKey: Option<unsafe extern "C" fn(H, CK_MECHANISM_PTR, O, O, CK_BYTE_PTR, CK_ULONG_PTR) -> CK_RV>,
    pub C_UnwrapKey: Option<unsafe extern "C" fn(H, CK_MECHANISM_PTR, O, CK_BYTE_PTR, CK_ULONG, CK_ATTRIBUTE_PTR, CK_ULONG, CK_OBJECT_HANDLE_PTR) -> CK_RV>,
    pub C_DeriveKey: Option<unsafe extern "C" fn(H, CK_MECHANISM_PTR, O, CK_ATTRIBUTE_PTR, CK_ULONG, CK_OBJECT_HANDLE_PTR) -> CK_RV>,
    pub C_SeedRandom: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG) -> CK_RV>,
    pub C_GenerateRandom: Option<unsafe extern "C" fn(H, CK_BYTE_PTR, CK_ULONG) -> CK_RV>,
    pub C_GetFunctionStatus: Option<unsafe extern "C" fn(H) -> CK_RV>,
    pub C_CancelFunction: Option<unsafe extern "C" fn(H) -> CK_RV>,
    pub C_WaitForSlotEvent: Option<unsafe extern "C" fn(CK_FLAGS, CK_SLOT_ID_PTR, CK_VOID_PTR) -> CK_RV>,
}

// The table is only read by the caller; sharing it between threads is safe.
unsafe impl Sync for CK_FUNCTION_LIST {}

/// A fixed-width PKCS#11 text field: UTF-8, padded with blanks, never NUL-terminated.
pub fn padded<const N: usize>(text: &str) -> [u8; N] {
    let mut out = [b' '; N];
    let mut len = 0;
    for ch in text.chars() {
        let mut buf = [0u8; 4];
        let bytes = ch.encode_utf8(&mut buf).as_bytes();
        if len + bytes.len() > N {
            break;
        }
        out[len..len + bytes.len()].copy_from_slice(bytes);
        len += bytes.len();
    }
    out
}
