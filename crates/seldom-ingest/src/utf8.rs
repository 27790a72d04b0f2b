//! Every line is checked to be UTF-8 before anything reads it, including the
//! lines the prefilter then drops unread: on the real recordings that check
//! was a fifth of the decoding's instructions. `simdutf8` checks sixteen or
//! thirty-two bytes at a time; where it finds a line invalid, std's own
//! check runs again to name where (`simdutf8`'s fast check only says no).

use std::str::Utf8Error;

/// The line as text, or std's error naming the first invalid byte.
pub fn text(bytes: &[u8]) -> Result<&str, Utf8Error> {
    match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(_) => std::str::from_utf8(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_text_is_read_and_invalid_bytes_are_located() {
        let line = "{\"Image\":\"C:\\\\Temp\\\\caf\u{e9}.exe\"}".repeat(8);
        assert_eq!(text(line.as_bytes()), Ok(line.as_str()));
        let mut bytes = line.into_bytes();
        bytes[100] = 0xFF;
        let error = text(&bytes).expect_err("0xFF is no UTF-8");
        assert_eq!(error.valid_up_to(), 100);
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_std(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            proptest::prop_assert_eq!(text(&bytes), std::str::from_utf8(&bytes));
        }

        /// Random bytes are nearly never UTF-8: valid text, with one byte
        /// changed or not, tries the path where simdutf8 says yes.
        #[test]
        fn agrees_with_std_on_text(text_in in "\\PC{0,80}", at in 0usize..400, byte in proptest::num::u8::ANY, change in proptest::bool::ANY) {
            let mut bytes = text_in.into_bytes();
            if change && !bytes.is_empty() {
                let at = at % bytes.len();
                bytes[at] = byte;
            }
            proptest::prop_assert_eq!(text(&bytes), std::str::from_utf8(&bytes));
        }
    }
}
