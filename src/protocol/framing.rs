//! Native-messaging framing: a 4-byte length in native byte order, then that many bytes of UTF-8
//! JSON. Reading is bounded by a cap so a hostile or broken length cannot make us allocate or wait
//! for gigabytes.

use byteorder::{NativeEndian, ReadBytesExt, WriteBytesExt};
use std::io::{self, Read, Write};
use std::time::Instant;

/// What reading one frame produced.
#[derive(Debug)]
pub enum FrameRead {
    /// A complete frame body (possibly empty).
    Frame(Vec<u8>),
    /// The input ended cleanly between frames.
    Eof,
}

/// Why a frame could not be read. After any of these the stream cannot be resynchronised.
#[derive(Debug)]
pub enum FrameError {
    /// The header announced more than the cap.
    TooLarge { announced: u64, max: u64 },
    /// The input ended inside the header or the body.
    Truncated { expected: u64, received: u64 },
    /// The input failed.
    Io(io::Error),
}

/// Reads one frame whose body may be at most `max_bytes` long.
pub fn read_frame<R: Read>(input: &mut R, max_bytes: u64) -> Result<FrameRead, FrameError> {
    read_frame_noting(input, max_bytes, &mut None)
}

/// `read_frame` that also notes when the header had arrived, in `header_at`: the time from there
/// to the frame's end is the time its body took to cross the pipe (the session's timing).
pub fn read_frame_noting<R: Read>(input: &mut R, max_bytes: u64, header_at: &mut Option<Instant>) -> Result<FrameRead, FrameError> {
    let mut header = [0u8; 4];
    let got = read_fully(input, &mut header).map_err(FrameError::Io)?;
    if got == 0 {
        return Ok(FrameRead::Eof);
    }
    *header_at = Some(Instant::now());
    if got < header.len() {
        return Err(FrameError::Truncated { expected: 4, received: got as u64 });
    }
    let announced = u64::from((&header[..]).read_u32::<NativeEndian>().map_err(FrameError::Io)?);
    if announced > max_bytes {
        return Err(FrameError::TooLarge { announced, max: max_bytes });
    }
    // The header is bounded by the cap, so reserving what it announces is safe; untouched pages
    // of a reservation cost nothing if the data never comes.
    let mut body = crate::bigbuf::with_capacity(announced as usize);
    let received = input.take(announced).read_to_end(&mut body).map_err(FrameError::Io)? as u64;
    if received < announced {
        return Err(FrameError::Truncated { expected: announced, received });
    }
    Ok(FrameRead::Frame(body))
}

/// Writes one frame. The caller flushes.
pub fn write_frame<W: Write>(output: &mut W, body: &[u8]) -> io::Result<()> {
    let len = u32::try_from(body.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame larger than 4 GiB"))?;
    output.write_u32::<NativeEndian>(len)?;
    output.write_all(body)
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_fully<R: Read>(input: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_frame(&mut out, body).unwrap();
        out
    }

    #[test]
    fn round_trips_a_frame_and_then_reports_eof() {
        let bytes = frame(b"{\"a\":1}");
        let mut input = &bytes[..];
        match read_frame(&mut input, 100).unwrap() {
            FrameRead::Frame(b) => assert_eq!(b, b"{\"a\":1}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(read_frame(&mut input, 100).unwrap(), FrameRead::Eof));
    }

    #[test]
    fn zero_length_frame_is_a_frame() {
        let bytes = frame(b"");
        assert!(matches!(read_frame(&mut &bytes[..], 100).unwrap(), FrameRead::Frame(b) if b.is_empty()));
    }

    #[test]
    fn truncated_header_and_body_are_errors() {
        let bytes = frame(b"hello");
        assert!(matches!(
            read_frame(&mut &bytes[..2], 100),
            Err(FrameError::Truncated { expected: 4, received: 2 })
        ));
        assert!(matches!(
            read_frame(&mut &bytes[..7], 100),
            Err(FrameError::Truncated { expected: 5, received: 3 })
        ));
    }

    #[test]
    fn length_over_cap_is_refused_before_reading_the_body() {
        let bytes = frame(b"0123456789");
        assert!(matches!(
            read_frame(&mut &bytes[..], 9),
            Err(FrameError::TooLarge { announced: 10, max: 9 })
        ));
    }
}
