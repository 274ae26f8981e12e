//! Buffers for large messages. A 25 MiB message passes through a few buffers of its size; with
//! 4 KiB pages each costs thousands of page faults, which took a third of the time of a large
//! `inspect_message`. Where the kernel offers transparent huge pages on request, large buffers
//! ask for them (one fault per 2 MiB).

/// Below this size the ordinary allocation is fine.
const LARGE: usize = 4 << 20;
const HUGE_PAGE: usize = 2 << 20;

/// An empty vector with room for `capacity` bytes: the buffer kept by `recycle` when it fits.
pub fn with_capacity(capacity: usize) -> Vec<u8> {
    if let Some(spare) = take_spare(capacity) {
        return spare;
    }
    let v: Vec<u8> = Vec::with_capacity(capacity);
    advise(v.as_ptr() as usize, v.capacity());
    v
}

thread_local! {
    /// One large buffer kept for the next large request (see `recycle`).
    static SPARE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The spare buffer, emptied, if it has room for `capacity` bytes and not more than twice that.
fn take_spare(capacity: usize) -> Option<Vec<u8>> {
    if capacity < LARGE {
        return None;
    }
    SPARE.with(|spare| {
        let mut spare = spare.borrow_mut();
        (spare.capacity() >= capacity && spare.capacity() / 2 <= capacity).then(|| std::mem::take(&mut *spare))
    })
}

/// Keeps a large buffer that held a message (a request frame or an upload) for the next one:
/// its pages stay mapped, so filling it again costs no page faults. A fresh 35 MB frame cost a
/// fifth of the host's time for a 25 MiB message in page faults (the kernel zeroes each page).
/// One buffer is kept, the largest. Its pages are given back to the kernel to take when memory
/// is short (MADV_FREE): until then they stay where they are, and the next message overwrites
/// them. Linux only; elsewhere the buffer is freed as before. For message bytes only: a buffer
/// that held a password or a key is wiped and freed, never kept.
pub fn recycle(mut v: Vec<u8>) {
    #[cfg(target_os = "linux")]
    if v.capacity() >= LARGE {
        v.clear();
        let (start, len) = (v.as_ptr() as usize, v.capacity());
        let begin = (start + PAGE - 1) & !(PAGE - 1);
        let end = (start + len) & !(PAGE - 1);
        if end > begin {
            // SAFETY: `begin..end` lies inside the vector's allocation (rounded inwards to whole
            // pages), which it keeps owning. The vector is empty: nothing reads these bytes
            // before they are written again, and MADV_FREE only lets the kernel replace them by
            // zeroes meanwhile; no mapping changes.
            unsafe { libc::madvise(begin as *mut libc::c_void, end - begin, libc::MADV_FREE) };
        }
        SPARE.with(|spare| {
            let mut spare = spare.borrow_mut();
            if spare.capacity() < v.capacity() {
                *spare = v;
            }
        });
    }
    #[cfg(not(target_os = "linux"))]
    drop(v);
}

const PAGE: usize = 4096;

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

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_large_message_buffer_is_used_again_for_the_next_one_that_fits() {
        let mut first = with_capacity(LARGE * 2);
        first.extend_from_slice(&[7u8; 1000]);
        let at = first.as_ptr();
        recycle(first);
        assert!(take_spare(LARGE * 4).is_none(), "too small for it");
        assert!(take_spare(LARGE - 1).is_none(), "small ones are allocated as usual");
        let again = with_capacity(LARGE + LARGE / 2);
        assert_eq!(again.as_ptr(), at, "the same pages");
        assert!(again.is_empty() && again.capacity() >= LARGE + LARGE / 2);
        recycle(again);
        assert!(take_spare(LARGE / 2 * 2 - 1).is_none(), "nor is a buffer more than twice as large as asked");
        // Only the largest is kept; small ones never.
        recycle(Vec::with_capacity(LARGE / 2));
        recycle(Vec::with_capacity(LARGE));
        assert_eq!(take_spare(LARGE + 1).map(|v| v.as_ptr()), Some(at));
        assert!(take_spare(LARGE).is_none(), "one buffer at most");
    }
}
