//! Buffers for large messages. A 25 MiB message passes through a few buffers of its size; with
//! 4 KiB pages each costs thousands of page faults, which took a third of the time of a large
//! `inspect_message`. Where the kernel offers transparent huge pages on request, large buffers
//! ask for them (one fault per 2 MiB).

/// Below this size the ordinary allocation is fine.
const LARGE: usize = 4 << 20;
const HUGE_PAGE: usize = 2 << 20;

/// An empty vector with room for `capacity` bytes.
pub fn with_capacity(capacity: usize) -> Vec<u8> {
    let v: Vec<u8> = Vec::with_capacity(capacity);
    advise(v.as_ptr() as usize, v.capacity());
    v
}

/// A zero-filled vector of `len` bytes. Large ones come from calloc, whose fresh pages are
/// zero already: nothing is written (or faulted in) until the data arrives.
pub fn zeroed(len: usize) -> Vec<u8> {
    let v = vec![0u8; len];
    advise(v.as_ptr() as usize, v.capacity());
    v
}

fn advise(start: usize, len: usize) {
    #[cfg(target_os = "linux")]
    if len >= LARGE {
        let begin = (start + HUGE_PAGE - 1) & !(HUGE_PAGE - 1);
        let end = (start + len) & !(HUGE_PAGE - 1);
        if end > begin {
            // Advice only: when huge pages are unavailable nothing changes.
            // SAFETY: `begin..end` lies inside the allocation at `start..start + len` (rounded
            // inwards to huge-page boundaries); MADV_HUGEPAGE changes no contents and no mapping.
            unsafe { libc::madvise(begin as *mut libc::c_void, end - begin, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (start, len, LARGE, HUGE_PAGE);
}
