//! Text stage: normalise transcripts for matching and keep a map back to the original text.
//!
//! [`normalize`] takes any text and returns a [`Normalized`]: Traditional → Simplified, full-width
//! → half-width, punctuation, symbols and whitespace removed, Latin lower-cased, 您 → 你. Every
//! normalised char comes from exactly one original char, so [`Normalized::orig_span`] maps any
//! match back to char offsets of the original. Lexicon entries go through the same function.
//!
//! Conversion is char by char from zhconv's own Traditional→Simplified table, then, only for text
//! that had Traditional chars, zhconv's phrase rules whose source and target have the same length
//! (回覆 → 回复, where 覆 alone is also Simplified). Rules that change the length are skipped so
//! every normalised char still comes from exactly one original char.
//! Digits stay digits and Chinese numerals stay Chinese: converting 一 → 1 would break words such
//! as 一下 and 一样, and Whisper writes both forms, so a lexicon that cares uses a `re:` entry.
//! Everything is a precomputed 64 Ki-entry table lookup with an ASCII fast path.

pub mod phonetic;
pub mod redact;

use std::sync::OnceLock;

/// Text ready for matching, with the map back to the text it came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Normalized {
    text: String,
    /// `(normalised byte, original char)` at every point where the two stop advancing together
    /// (after each dropped char) and at least every [`CHECKPOINT_CHARS`] chars; between two
    /// checkpoints one normalised char is one original char.
    checkpoints: Vec<(u32, u32)>,
    /// Original chars consumed so far (also the base for text appended later).
    orig_chars: u32,
}

/// Upper bound on the chars counted when mapping an offset back: keeps lookups O(log n + 64).
const CHECKPOINT_CHARS: u32 = 64;

/// Marks a char that normalisation removes.
const DROP: u16 = 0;

impl Normalized {
    pub fn new() -> Self {
        Self::default()
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Number of chars of original text consumed so far.
    pub fn orig_len(&self) -> usize {
        self.orig_chars as usize
    }

    /// Appends the normalisation of `orig`; offsets of its chars continue after earlier text, so
    /// several segments can be scanned as one text.
    ///
    /// One pass: most chars map to themselves (Simplified CJK, lower-case Latin, digits), so
    /// runs of them are copied from the input in one go, and only the others are looked up
    /// and written; the offset map is recorded on the way.
    pub fn push_str(&mut self, orig: &str) {
        let table = table();
        let bytes = orig.as_bytes();
        let text_start = self.text.len();
        let mut out = std::mem::take(&mut self.text).into_bytes();
        out.reserve(bytes.len());
        let mut map = MapBuilder {
            checkpoints: &mut self.checkpoints,
            orig_char: self.orig_chars,
            since_checkpoint: CHECKPOINT_CHARS,
            dropped: true,
        };
        let mut traditional = false;
        // Start of the input bytes that map to themselves and are not yet copied.
        let mut run = 0;
        let mut i = 0;
        while i < bytes.len() {
            let (e, width) = entry(table, bytes, i);
            if e & PACKED_SAME != 0 {
                map.kept(out.len() + (i - run));
                map.orig_char += 1;
                i += width;
                continue;
            }
            out.extend_from_slice(&bytes[run..i]);
            traditional |= e & PACKED_TRADITIONAL != 0;
            map.changed(e, &mut out);
            i += width;
            run = i;
        }
        out.extend_from_slice(&bytes[run..]);
        self.orig_chars = map.orig_char;
        // Only whole chars were copied from `orig` or written from the table (each the UTF-8
        // of a `char`), so `out` is UTF-8; the fallback is never taken.
        self.text = String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        if traditional {
            phrase_fixup(&mut self.text, text_start);
        }
    }

    /// Original char offset of the normalised char starting at byte `at` (or of the end).
    pub fn orig_offset(&self, at: usize) -> usize {
        if at >= self.text.len() {
            return self.orig_chars as usize;
        }
        let k = self.checkpoints.partition_point(|&(b, _)| b as usize <= at);
        match k.checked_sub(1).and_then(|k| self.checkpoints.get(k)) {
            Some(&(b, o)) => o as usize + self.text[b as usize..at].chars().count(),
            None => 0,
        }
    }

    /// Original char range `[start, end)` covered by the normalised bytes `[start, end)`.
    pub fn orig_span(&self, start: usize, end: usize) -> (usize, usize) {
        let first = self.orig_offset(start);
        let last_char_start = self.text[..end.min(self.text.len())]
            .char_indices()
            .next_back()
            .map_or(0, |(i, _)| i);
        if end <= start {
            return (first, first);
        }
        (first, self.orig_offset(last_char_start.max(start)) + 1)
    }
}

/// Normalises `orig` for matching; see the module doc for what changes.
pub fn normalize(orig: &str) -> Normalized {
    let mut n = Normalized::new();
    n.push_str(orig);
    n
}

/// The normalised text alone, for comparisons that need no map back.
pub fn normalized(original: &str) -> String {
    normalize(original).text
}

/// Normalises one char the way [`normalize`] does; `None` when it is dropped.
pub fn normalize_char(c: char) -> Option<char> {
    let code = c as u32;
    let mapped = if code < 0x80 {
        table().ascii[code as usize] as u32
    } else if code < 0x10000 {
        table().bmp[code as usize] as u32
    } else if (0x1F000..0x1FB00).contains(&code) {
        DROP as u32
    } else {
        code
    };
    if mapped == DROP as u32 {
        None
    } else {
        char::from_u32(mapped)
    }
}

/// Packed table entry: the mapped char's UTF-8 bytes (bits 0–23, first byte lowest), their
/// count (bits 24–25; 0 = dropped), and two flags.
type Packed = u32;
/// The char maps to itself: its bytes are copied from the input.
const PACKED_SAME: Packed = 1 << 30;
/// A Traditional char became Simplified: phrase rules may apply.
const PACKED_TRADITIONAL: Packed = 1 << 31;

fn pack(from: u32, to: u32) -> Packed {
    if to == DROP as u32 {
        return 0;
    }
    let Some(c) = char::from_u32(to) else {
        return 0;
    };
    let mut buf = [0u8; 4];
    let n = c.encode_utf8(&mut buf).len();
    let mut e = u32::from_le_bytes(buf) & 0x00FF_FFFF | (n as u32) << 24;
    if from == to {
        e |= PACKED_SAME;
    } else if to >= 0x2E80 {
        e |= PACKED_TRADITIONAL;
    }
    e
}

/// Table entry and byte width of the char starting at byte `i` of valid UTF-8.
#[inline(always)]
fn entry(table: &Table, bytes: &[u8], i: usize) -> (Packed, usize) {
    let b = bytes[i];
    if b < 0x80 {
        (table.packed_ascii[b as usize], 1)
    } else if b < 0xE0 {
        (table.packed[decode(&bytes[i..i + 2]) as usize], 2)
    } else if b < 0xF0 {
        (table.packed[decode(&bytes[i..i + 3]) as usize], 3)
    } else if (0x1F000..0x1FB00).contains(&decode(&bytes[i..i + 4])) {
        // Outside the BMP nothing changes but emoji and pictographs, which go.
        (0, 4)
    } else {
        (PACKED_SAME, 4)
    }
}

/// Records the offset map while `push_str` writes.
struct MapBuilder<'a> {
    checkpoints: &'a mut Vec<(u32, u32)>,
    orig_char: u32,
    since_checkpoint: u32,
    dropped: bool,
}

impl MapBuilder<'_> {
    /// A char that normalisation drops or changes: `e` is its table entry.
    #[inline(always)]
    fn changed(&mut self, e: Packed, out: &mut Vec<u8>) {
        if e == 0 {
            self.dropped = true;
        } else {
            self.kept(out.len());
            out.extend_from_slice(&e.to_le_bytes()[..(e >> 24 & 3) as usize]);
        }
        self.orig_char += 1;
    }

    /// The next normalised char starts at byte `at`: a checkpoint after a dropped char and
    /// every [`CHECKPOINT_CHARS`] chars.
    #[inline(always)]
    fn kept(&mut self, at: usize) {
        if self.dropped || self.since_checkpoint >= CHECKPOINT_CHARS {
            self.checkpoints.push((at as u32, self.orig_char));
            self.since_checkpoint = 0;
            self.dropped = false;
        }
        self.since_checkpoint += 1;
    }
}

fn decode(b: &[u8]) -> u32 {
    match b.len() {
        2 => ((b[0] as u32 & 0x1F) << 6) | (b[1] as u32 & 0x3F),
        3 => ((b[0] as u32 & 0x0F) << 12) | ((b[1] as u32 & 0x3F) << 6) | (b[2] as u32 & 0x3F),
        _ => {
            ((b[0] as u32 & 0x07) << 18)
                | ((b[1] as u32 & 0x3F) << 12)
                | ((b[2] as u32 & 0x3F) << 6)
                | (b[3] as u32 & 0x3F)
        }
    }
}

/// Applies same-length Traditional→Simplified phrase rules to `text[from..]` in place.
fn phrase_fixup(text: &mut String, from: usize) {
    let rules = phrase_rules();
    let Some(ac) = &rules.ac else {
        return;
    };
    let tail = &text[from..];
    let edits: Vec<(usize, usize, usize)> = ac
        .find_iter(tail)
        .map(|m| (from + m.start(), from + m.end(), m.pattern().as_usize()))
        .collect();
    for (s, e, rule) in edits {
        text.replace_range(s..e, &rules.to[rule]);
    }
}

struct PhraseRules {
    /// `None` only if zhconv's table ever became too large to compile; chars still convert.
    ac: Option<aho_corasick::AhoCorasick>,
    to: Vec<String>,
}

fn phrase_rules() -> &'static PhraseRules {
    static RULES: OnceLock<PhraseRules> = OnceLock::new();
    RULES.get_or_init(|| {
        let mut pats = Vec::new();
        let mut tos = Vec::new();
        for (f, t) in zhconv::tables::expand_table(zhconv::tables::ZH_HANS_TABLE) {
            if f.chars().count() < 2 || f.chars().count() != t.chars().count() {
                continue;
            }
            let (nf, nt) = (normalize_chars(&f), normalize_chars(&t));
            if nf != nt && nf.len() == nt.len() && nf.chars().count() == f.chars().count() {
                pats.push(nf);
                tos.push(nt);
            }
        }
        let ac = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&pats)
            .ok();
        PhraseRules { ac, to: tos }
    })
}

/// Char-by-char normalisation only (no phrase rules).
fn normalize_chars(s: &str) -> String {
    s.chars().filter_map(normalize_char).collect()
}

struct Table {
    ascii: [u8; 128],
    bmp: Box<[u16]>,
    /// `ascii` and `bmp` as [`Packed`] entries, for `push_str`.
    packed_ascii: [Packed; 128],
    packed: Box<[Packed]>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(build_table)
}

fn build_table() -> Table {
    let mut ascii = [0u8; 128];
    for (b, slot) in ascii.iter_mut().enumerate() {
        let c = b as u8;
        *slot = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            DROP as u8
        };
    }
    let mut bmp: Box<[u16]> = (0..=0xFFFFu32).map(|c| c as u16).collect();
    for (c, slot) in bmp.iter_mut().enumerate().take(0x80) {
        *slot = ascii[c] as u16;
    }
    for c in 0x80..=0xFFFFu32 {
        if is_dropped(c) {
            bmp[c as usize] = DROP;
        }
    }
    for c in 0x80..=0xFFFFu32 {
        if let Some(ch) = char::from_u32(c) {
            if ch.is_alphabetic() && !ch.is_lowercase() {
                let mut lower = ch.to_lowercase();
                if let (Some(l), None) = (lower.next(), lower.next()) {
                    if (l as u32) < 0x10000 && (l as u32) >= 0x80 {
                        bmp[c as usize] = l as u32 as u16;
                    }
                }
            }
        }
    }
    // Full-width ASCII variants behave exactly like their ASCII twins.
    for c in 0xFF01..=0xFF5Eu32 {
        bmp[c as usize] = ascii[(c - 0xFEE0) as usize] as u16;
    }
    for (f, t) in zhconv::tables::expand_table(zhconv::tables::ZH_HANS_TABLE) {
        let mut fc = f.chars();
        let mut tc = t.chars();
        if let (Some(f), None, Some(t), None) = (fc.next(), fc.next(), tc.next(), tc.next()) {
            let punctuation = is_dropped(f as u32) || is_dropped(t as u32);
            if (f as u32) < 0x10000 && (t as u32) < 0x10000 && (f as u32) >= 0x80 && !punctuation {
                bmp[f as usize] = t as u32 as u16;
            }
        }
    }
    // Agents soften 你 to 您 and Whisper writes either: one form for matching.
    bmp['您' as usize] = '你' as u32 as u16;
    let packed_ascii = std::array::from_fn(|b| pack(b as u32, ascii[b] as u32));
    let packed = (0..=0xFFFFu32)
        .map(|c| pack(c, bmp[c as usize] as u32))
        .collect();
    Table {
        ascii,
        bmp,
        packed_ascii,
        packed,
    }
}

/// Punctuation, symbols, spaces and controls outside ASCII. Currency signs stay (fees are
/// matched), as do the numerals 〇 and 々.
fn is_dropped(c: u32) -> bool {
    let Some(ch) = char::from_u32(c) else {
        return false;
    };
    if ch.is_whitespace() || ch.is_control() {
        return true;
    }
    matches!(c,
        0xA1 | 0xA6..=0xB4 | 0xB6..=0xB8 | 0xBB | 0xBF | 0xD7 | 0xF7
        | 0x2000..=0x206F
        | 0x2190..=0x21FF
        | 0x2500..=0x27BF
        | 0x3000..=0x3004
        | 0x3008..=0x3020
        | 0x3030
        | 0x303D
        | 0x30FB
        | 0xFE10..=0xFE19
        | 0xFE30..=0xFE6B
        | 0xFEFF
        | 0xFF5F..=0xFF65
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! case {
        ($name:ident, $input:expr, $want:expr) => {
            #[test]
            fn $name() {
                assert_eq!(normalize($input).as_str(), $want);
            }
        };
    }

    case!(
        drops_cjk_punctuation,
        "您好，客服中心！请问有什么可以帮您？",
        "你好客服中心请问有什么可以帮你"
    );
    case!(
        traditional_to_simplified,
        "這是我們公司的規定。",
        "这是我们公司的规定"
    );
    case!(
        full_width_latin_and_digits,
        "ＶＩＰ會員１２３號",
        "vip会员123号"
    );
    case!(
        ascii_case_and_spaces,
        "  Hello, WiFi 密码 ",
        "hellowifi密码"
    );
    case!(keeps_chinese_numerals, "一二三〇", "一二三〇");
    case!(drops_emoji_and_brackets, "好的[呵呵]😀～", "好的呵呵");
    case!(quotes_dropped, "“你懂礼貌吗？”「对」", "你懂礼貌吗对");
    case!(empty_input, "", "");
    case!(
        same_length_phrase_rule,
        "你想要什麼樣的回覆",
        "你想要什么样的回复"
    );

    /// The normaliser as it was before the packed tables: char by char through `Table::bmp`.
    /// Kept as the oracle the fast path must equal, byte for byte and checkpoint for checkpoint.
    fn reference(n: &mut Normalized, orig: &str) {
        let table = table();
        let bytes = orig.as_bytes();
        let text_start = n.text.len();
        let mut orig_char = n.orig_chars;
        let mut since_checkpoint = CHECKPOINT_CHARS;
        let mut dropped = true;
        let mut traditional = false;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let (code, width) = if b < 0x80 {
                (table.ascii[b as usize] as u32, 1)
            } else {
                let width = utf8_width(b);
                let c = decode(&bytes[i..i + width]);
                if c < 0x10000 {
                    let to = table.bmp[c as usize] as u32;
                    traditional |= to != c && to >= 0x2E80;
                    (to, width)
                } else if (0x1F000..0x1FB00).contains(&c) {
                    (DROP as u32, width)
                } else {
                    (c, width)
                }
            };
            i += width;
            if code == DROP as u32 {
                dropped = true;
            } else {
                if dropped || since_checkpoint >= CHECKPOINT_CHARS {
                    n.checkpoints.push((n.text.len() as u32, orig_char));
                    since_checkpoint = 0;
                    dropped = false;
                }
                since_checkpoint += 1;
                if let Some(c) = char::from_u32(code) {
                    n.text.push(c);
                }
            }
            orig_char += 1;
        }
        n.orig_chars = orig_char;
        if traditional {
            phrase_fixup(&mut n.text, text_start);
        }
    }

    fn utf8_width(lead: u8) -> usize {
        if lead < 0xE0 {
            2
        } else if lead < 0xF0 {
            3
        } else {
            4
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Text, checkpoints and char count equal the reference on any mix of ASCII,
        /// Traditional and Simplified CJK, full-width forms, punctuation and emoji.
        #[test]
        fn fast_path_equals_reference(
            text in "([一-龥]{1,90}|[你您们我的是了]{1,70}|[ -~]{1,5}|[這們規號會員覆麼樣體與為]|[！-～]|[，。、“”「」　]|[¡-ÿ]|[Ⱥ-ɏ]|[😀-🙏𝄞𠀀-𠀉]|\\s){0,24}",
            cut in 0usize..4,
        ) {
            let mut want = Normalized::new();
            reference(&mut want, &text);
            proptest::prop_assert_eq!(normalize(&text), want);
            // Appending continues the map the same way in both.
            let at = text.char_indices().nth(text.chars().count() * cut / 4).map_or(text.len(), |(i, _)| i);
            let (mut two, mut want) = (normalize(&text[..at]), Normalized::new());
            two.push_str(&text[at..]);
            reference(&mut want, &text[..at]);
            reference(&mut want, &text[at..]);
            proptest::prop_assert_eq!(two, want);
        }
    }

    #[test]
    fn span_maps_back_over_dropped_chars() {
        let orig = "喂， 您好！這是 我們的規定";
        let n = normalize(orig);
        let at = n
            .as_str()
            .find("这是我们")
            .expect("normalised phrase present");
        let (s, e) = n.orig_span(at, at + "这是我们".len());
        let got: String = orig.chars().skip(s).take(e - s).collect();
        assert_eq!(got, "這是 我們");
    }

    #[test]
    fn appended_text_continues_offsets() {
        let mut n = Normalized::new();
        n.push_str("你好，");
        n.push_str("再见");
        let at = n.as_str().find("再见").expect("present");
        assert_eq!(n.orig_span(at, at + "再见".len()), (3, 5));
        assert_eq!(n.orig_len(), 5);
    }

    #[test]
    fn long_runs_without_punctuation_map_exactly() {
        let orig: String = "我们是无法处理的".repeat(40);
        let n = normalize(&orig);
        for (b, _) in n.as_str().char_indices() {
            assert_eq!(n.orig_offset(b), b / 3);
        }
    }
}
