//! Text that someone else chose (certificate names and addresses, header display names, request
//! fields), made safe for a person to read on a terminal or in the log.
//!
//! Characters that can hide, reorder or fake what a reader sees are replaced by a visible marker
//! naming the code point, `⟨U+202E⟩`: nothing is dropped silently, so a reader sees that the text
//! is odd. The same rules, character for character, are `neutralize` in
//! `extension/modules/untrusted.mjs`, which every view of the add-on uses.
//!
//! Made visible:
//! - C0 and C1 controls and DEL (U+0000–U+001F, U+007F–U+009F): terminal escapes, line breaks;
//! - bidirectional marks, embeddings, overrides and isolates (U+200E, U+200F, U+061C,
//!   U+202A–U+202E, U+2066–U+2069), which reorder what follows them;
//! - line and paragraph separators (U+2028, U+2029);
//! - characters that draw nothing: zero-width space, non-joiner and joiner (U+200B–U+200D), word
//!   joiner and invisible operators (U+2060–U+2064), the deprecated format characters
//!   (U+2065–U+206F), the byte-order mark (U+FEFF), soft hyphen (U+00AD), combining grapheme
//!   joiner (U+034F), Mongolian vowel separator (U+180E), Hangul fillers (U+115F, U+1160,
//!   U+3164, U+FFA0), Khmer inherent vowels (U+17B4, U+17B5), interlinear annotation marks
//!   (U+FFF9–U+FFFB), musical format characters (U+1D173–U+1D17A) and tag characters
//!   (U+E0000–U+E007F);
//! - variation selectors (U+FE00–U+FE0F, U+E0100–U+E01EF) except one right after a visible
//!   character: that is how emoji and CJK variants are written ("❤️"), while a selector at the
//!   start, after another selector or after a marker can only carry hidden data.
//!
//! JSON output (`--json`, replies) stays the exact data: this is for text a person reads.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` is always made visible (see the module doc); variation selectors depend on what
/// precedes them and are judged in [`neutralize`].
pub fn is_hidden(c: char) -> bool {
    matches!(
        c as u32,
        0x00..=0x1F
            | 0x7F..=0x9F
            | 0xAD
            | 0x034F
            | 0x061C
            | 0x115F
            | 0x1160
            | 0x17B4
            | 0x17B5
            | 0x180E
            | 0x200B..=0x200F
            | 0x2028..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFEFF
            | 0xFFA0
            | 0xFFF9..=0xFFFB
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE007F
    )
}

/// A variation selector (standard or supplementary).
pub fn is_variation_selector(c: char) -> bool {
    matches!(c as u32, 0xFE00..=0xFE0F | 0xE0100..=0xE01EF)
}

/// `text` with every hidden character (see the module doc) replaced by `⟨U+XXXX⟩`. Text without
/// any comes back borrowed.
pub fn neutralize(text: &str) -> Cow<'_, str> {
    neutralize_keeping(text, |_| false)
}

/// Like [`neutralize`], but line breaks and tabs stay: for a whole line of our own layout that
/// holds attacker text (`neutralize` each field in it as well, so a field cannot add lines).
pub fn neutralize_layout(text: &str) -> Cow<'_, str> {
    neutralize_keeping(text, |c| c == '\n' || c == '\t')
}

/// [`neutralize`] of at most `max_chars` characters of `text`, with `…` when it was longer: a
/// field on one line of a terminal or the log.
pub fn shown(text: &str, max_chars: usize) -> String {
    let cut = text.char_indices().nth(max_chars).map(|(i, _)| i);
    let mut out = neutralize(&text[..cut.unwrap_or(text.len())]).into_owned();
    if cut.is_some() {
        out.push('…');
    }
    out
}

fn neutralize_keeping(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    let mut out: Option<String> = None;
    // Whether the previous character was shown as itself (a variation selector may follow it).
    let mut after_visible = false;
    for (i, c) in text.char_indices() {
        let hide = !keep(c) && (is_hidden(c) || (is_variation_selector(c) && !after_visible));
        if hide {
            let s = out.get_or_insert_with(|| text[..i].to_string());
            let _ = write!(s, "⟨U+{:04X}⟩", c as u32);
        } else if let Some(s) = out.as_mut() {
            s.push(c);
        }
        after_visible = !hide && !is_variation_selector(c) && !keep(c);
    }
    match out {
        Some(s) => Cow::Owned(s),
        None => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_of_hidden_character_is_made_visible_by_code_point() {
        let cases = [
            ('\u{0}', "⟨U+0000⟩"),
            ('\u{1b}', "⟨U+001B⟩"),
            ('\n', "⟨U+000A⟩"),
            ('\u{7f}', "⟨U+007F⟩"),
            ('\u{85}', "⟨U+0085⟩"),
            ('\u{9b}', "⟨U+009B⟩"),
            ('\u{ad}', "⟨U+00AD⟩"),
            ('\u{34f}', "⟨U+034F⟩"),
            ('\u{61c}', "⟨U+061C⟩"),
            ('\u{115f}', "⟨U+115F⟩"),
            ('\u{180e}', "⟨U+180E⟩"),
            ('\u{200b}', "⟨U+200B⟩"),
            ('\u{200d}', "⟨U+200D⟩"),
            ('\u{200e}', "⟨U+200E⟩"),
            ('\u{200f}', "⟨U+200F⟩"),
            ('\u{2028}', "⟨U+2028⟩"),
            ('\u{2029}', "⟨U+2029⟩"),
            ('\u{202a}', "⟨U+202A⟩"),
            ('\u{202e}', "⟨U+202E⟩"),
            ('\u{2060}', "⟨U+2060⟩"),
            ('\u{2064}', "⟨U+2064⟩"),
            ('\u{2066}', "⟨U+2066⟩"),
            ('\u{2069}', "⟨U+2069⟩"),
            ('\u{3164}', "⟨U+3164⟩"),
            ('\u{feff}', "⟨U+FEFF⟩"),
            ('\u{fff9}', "⟨U+FFF9⟩"),
            ('\u{1d173}', "⟨U+1D173⟩"),
            ('\u{e0001}', "⟨U+E0001⟩"),
            ('\u{e0041}', "⟨U+E0041⟩"),
            ('\u{e007f}', "⟨U+E007F⟩"),
        ];
        for (c, marker) in cases {
            assert_eq!(neutralize(&format!("a{c}b")), format!("a{marker}b"), "{:04X}", c as u32);
        }
    }

    #[test]
    fn ordinary_text_in_any_script_comes_back_unchanged_and_borrowed() {
        for text in ["Alice Example", "Jürgen Weiß", "محمد", "אבי", "张伟", "Ελένη", "O'Brien, \"Bob\" <b@x.org> ü ✓", "❤️ ok", "葛\u{e0100}", ""] {
            assert!(matches!(neutralize(text), Cow::Borrowed(t) if t == text), "{text}");
        }
    }

    #[test]
    fn a_reordered_address_is_shown_in_the_order_it_is_stored() {
        // "moc.elpmaxe@ecila" read right to left looks like alice@example.com.
        assert_eq!(neutralize("evil\u{202e}moc.elpmaxe@ecila"), "evil⟨U+202E⟩moc.elpmaxe@ecila");
        assert_eq!(neutralize("\u{2067}x\u{2069}"), "⟨U+2067⟩x⟨U+2069⟩");
    }

    #[test]
    fn a_variation_selector_is_kept_only_right_after_a_visible_character() {
        assert_eq!(neutralize("\u{2764}\u{fe0f}"), "\u{2764}\u{fe0f}");
        assert_eq!(neutralize("\u{fe0f}a"), "⟨U+FE0F⟩a", "at the start");
        assert_eq!(neutralize("a\u{fe00}\u{fe01}"), "a\u{fe00}⟨U+FE01⟩", "a second one carries hidden data");
        assert_eq!(neutralize("a\u{200b}\u{fe00}"), "a⟨U+200B⟩⟨U+FE00⟩", "after a marker");
        assert_eq!(neutralize("a\u{e0100}\u{e0101}"), "a\u{e0100}⟨U+E0101⟩");
    }

    #[test]
    fn the_layout_variant_keeps_line_breaks_and_tabs_only() {
        assert_eq!(neutralize_layout("a\tb\nc\r\u{202e}"), "a\tb\nc⟨U+000D⟩⟨U+202E⟩");
    }

    #[test]
    fn shown_bounds_the_characters_of_the_original_text() {
        assert_eq!(shown("abcdef", 3), "abc…");
        assert_eq!(shown("abc", 3), "abc");
        assert_eq!(shown("\u{202e}bcdef", 2), "⟨U+202E⟩b…");
        assert_eq!(shown("ééé", 2), "éé…");
    }
}
