//! The four Windows registry calls the installer needs (advapi32), declared here rather than
//! pulled in through a crate. Only std types cross this boundary, so this file also compiles on
//! its own (`rustc --target x86_64-pc-windows-gnu --crate-type lib src/install/winreg.rs`).
//!
//! Values are read and written as `REG_SZ`, the type Thunderbird and Chromium read for the default
//! value of a native-messaging key. `view` is `KEY_WOW64_64KEY` or `KEY_WOW64_32KEY`.

use std::ffi::{c_void, OsStr};
use std::io;
use std::os::windows::ffi::OsStrExt;
use std::ptr;

pub const HKEY_CURRENT_USER: isize = 0x8000_0001u32 as i32 as isize;
pub const HKEY_LOCAL_MACHINE: isize = 0x8000_0002u32 as i32 as isize;
pub const KEY_WOW64_64KEY: u32 = 0x0100;
pub const KEY_WOW64_32KEY: u32 = 0x0200;

const KEY_QUERY_VALUE: u32 = 0x0001;
const KEY_SET_VALUE: u32 = 0x0002;
const REG_OPTION_NON_VOLATILE: u32 = 0;
const REG_SZ: u32 = 1;
const RRF_RT_REG_SZ: u32 = 0x0000_0002;
const ERROR_SUCCESS: i32 = 0;
const ERROR_FILE_NOT_FOUND: i32 = 2;
const ERROR_MORE_DATA: i32 = 234;

type Hkey = *mut c_void;

#[link(name = "advapi32")]
extern "system" {
    fn RegCreateKeyExW(
        key: Hkey,
        sub_key: *const u16,
        reserved: u32,
        class: *mut u16,
        options: u32,
        sam: u32,
        security: *const c_void,
        result: *mut Hkey,
        disposition: *mut u32,
    ) -> i32;
    fn RegOpenKeyExW(key: Hkey, sub_key: *const u16, options: u32, sam: u32, result: *mut Hkey) -> i32;
    fn RegSetValueExW(key: Hkey, name: *const u16, reserved: u32, kind: u32, data: *const u8, len: u32) -> i32;
    fn RegGetValueW(
        key: Hkey,
        sub_key: *const u16,
        value: *const u16,
        flags: u32,
        kind: *mut u32,
        data: *mut c_void,
        len: *mut u32,
    ) -> i32;
    fn RegDeleteKeyExW(key: Hkey, sub_key: *const u16, sam: u32, reserved: u32) -> i32;
    fn RegCloseKey(key: Hkey) -> i32;
}

fn wide(s: &str) -> Vec<u16> {
    OsStr::new(s).encode_wide().chain(std::iter::once(0)).collect()
}

fn check(status: i32) -> io::Result<()> {
    if status == ERROR_SUCCESS {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(status))
    }
}

/// An open key, closed on drop.
struct Key(Hkey);

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: the handle came from a successful RegOpenKeyExW/RegCreateKeyExW and is closed once.
        unsafe {
            RegCloseKey(self.0);
        }
    }
}

/// The default value of `root\path` in `view`; None when the key or the value does not exist.
pub fn read_default(root: isize, path: &str, view: u32) -> io::Result<Option<String>> {
    let sub_key = wide(path);
    let mut handle: Hkey = ptr::null_mut();
    // SAFETY: valid NUL-terminated string and out pointer.
    let status = unsafe { RegOpenKeyExW(root as Hkey, sub_key.as_ptr(), 0, KEY_QUERY_VALUE | view, &mut handle) };
    if status == ERROR_FILE_NOT_FOUND {
        return Ok(None);
    }
    check(status)?;
    let key = Key(handle);
    let mut buf: Vec<u16> = vec![0; 260];
    loop {
        let mut len = (buf.len() * 2) as u32;
        // SAFETY: `buf` has `len` bytes; a null value name reads the default value.
        let status = unsafe {
            RegGetValueW(key.0, ptr::null(), ptr::null(), RRF_RT_REG_SZ, ptr::null_mut(), buf.as_mut_ptr().cast(), &mut len)
        };
        match status {
            ERROR_SUCCESS => {
                let mut units = &buf[..(len as usize / 2).min(buf.len())];
                while let [rest @ .., 0] = units {
                    units = rest;
                }
                return Ok(Some(String::from_utf16_lossy(units)));
            }
            ERROR_FILE_NOT_FOUND => return Ok(None),
            ERROR_MORE_DATA => buf.resize(len as usize / 2 + 1, 0),
            other => return Err(io::Error::from_raw_os_error(other)),
        }
    }
}

/// Creates `root\path` in `view` (with missing parents) and sets its default value.
pub fn set_default(root: isize, path: &str, view: u32, value: &str) -> io::Result<()> {
    let sub_key = wide(path);
    let mut handle: Hkey = ptr::null_mut();
    // SAFETY: valid NUL-terminated string and out pointers; null class and security are allowed.
    check(unsafe {
        RegCreateKeyExW(
            root as Hkey,
            sub_key.as_ptr(),
            0,
            ptr::null_mut(),
            REG_OPTION_NON_VOLATILE,
            KEY_SET_VALUE | view,
            ptr::null(),
            &mut handle,
            ptr::null_mut(),
        )
    })?;
    let key = Key(handle);
    let data = wide(value);
    // SAFETY: `data` is NUL-terminated UTF-16; the length is in bytes, terminator included.
    check(unsafe { RegSetValueExW(key.0, ptr::null(), 0, REG_SZ, data.as_ptr().cast(), (data.len() * 2) as u32) })
}

/// Deletes the key `root\path` in `view` (it must have no subkeys). False if it was not there.
pub fn delete_key(root: isize, path: &str, view: u32) -> io::Result<bool> {
    let sub_key = wide(path);
    // SAFETY: valid NUL-terminated string.
    let status = unsafe { RegDeleteKeyExW(root as Hkey, sub_key.as_ptr(), view, 0) };
    match status {
        ERROR_SUCCESS => Ok(true),
        ERROR_FILE_NOT_FOUND => Ok(false),
        other => Err(io::Error::from_raw_os_error(other)),
    }
}
