//! Toneless pinyin of normalised text, to catch what Whisper half-heard.
//!
//! Whisper often writes the right sound with the wrong character (信不信有你 for 信不信由你) or a
//! close sound (不买一 for 不满意). Comparing syllables instead of characters sees both.
//! [`PinyinText`] gives every normalised char its toneless readings, with the map back to the
//! original text; [`Phrase`] is a phrase compiled to syllables, and [`Phrase::compare`] says
//! whether an equal-length window sounds the same (**homophone**: every syllable shared) or
//! nearly the same (**near**: a few substitutions, confusable ones cheaper, allowed only in long
//! phrases). [`find`] and [`similarity`] do the same for any two strings, for checks that expect
//! a phrase (openings, closings, 请您稍等).
//!
//! Tones are ignored: they are the first thing Whisper's character choice loses. Readings are
//! the `pinyin` crate's first (most common) reading, plus a short hand-written list of everyday
//! polyphones (行 长 了 还 得 …) with their other everyday readings; two chars match when their
//! readings share a syllable. The crate's full heteronym lists are not used: they carry rare
//! readings (还 fú, 行 héng) that would only add false matches. Only substitutions are
//! tolerated, never inserted or dropped chars: a window has the phrase's length, which keeps the
//! scan linear and the false-hit rate measurable. The confusion set and how it was derived are
//! in `lexicons/README.md` ("Phonetic matching").

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::{normalize, Normalized};

/// How a phrase was found.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum MatchKind {
    /// The same characters after normalisation.
    #[default]
    Exact,
    /// Other characters, every syllable the same (tones ignored): 信不信有你.
    Homophone,
    /// A few syllables differ, within [`Tolerance`]: 不买一你可以投诉我啊.
    Near,
}

impl MatchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::Homophone => "homophone",
            MatchKind::Near => "near",
        }
    }
}

/// One toneless syllable, e.g. `zhong`; `ü` is written `ü` (`lü`, `nüe`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Syllable(u16);

impl Syllable {
    pub fn as_str(self) -> &'static str {
        inventory().names[(self.0 - FIRST_SYLLABLE) as usize]
    }
}

impl std::fmt::Display for Syllable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one normalised char sounds like: its first reading (or an ASCII letter or digit) and an
/// index into the polyphone list for its other readings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sym {
    pub(crate) primary: u16,
    alt: u8,
}

/// Symbol of a char with no reading (kana, Latin letters outside ASCII …): matches nothing.
const NONE: u16 = 0;
/// Symbols 1..=36 are ASCII digits and letters (compared as themselves).
const FIRST_SYLLABLE: u16 = 64;

/// How far a window may be from a phrase and still count as a match.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Fewest syllables for a homophone match (shorter phrases are too easy to hit by chance).
    pub homophone_min: usize,
    /// Fewest syllables for a near match with one confusable syllable.
    pub one_confusable_min: usize,
    /// Fewest syllables for a near match with any one syllable different inside the phrase.
    pub one_any_min: usize,
    /// The same when the different syllable is the first or the last: the rest is then a plain
    /// prefix or suffix of the phrase, which ordinary sentences share more often.
    pub one_any_edge_min: usize,
    /// Fewest syllables for a near match with two confusable syllables.
    pub two_min: usize,
}

impl Default for Tolerance {
    /// Measured on the issue's slips, the dev set in `fixtures/phonetic/` and real agent speech
    /// (see lexicons/README.md): at these lengths near matches stayed under 1 false hit per
    /// 1,000 real agent utterances.
    fn default() -> Self {
        Tolerance {
            homophone_min: 4,
            one_confusable_min: 5,
            one_any_min: 7,
            one_any_edge_min: 9,
            two_min: 8,
        }
    }
}

impl Tolerance {
    /// The largest number of different syllables any phrase of `len` syllables may have.
    pub fn max_subs(&self, len: usize) -> usize {
        if len >= self.two_min {
            2
        } else if len >= self.one_any_min.min(self.one_confusable_min) {
            1
        } else {
            0
        }
    }

    fn accepts(&self, len: usize, confusable: usize, other: usize, other_at_edge: bool) -> bool {
        match (confusable, other) {
            (0, 0) => len >= self.homophone_min,
            (1, 0) => len >= self.one_confusable_min,
            (0, 1) if other_at_edge => len >= self.one_any_edge_min,
            (0, 1) => len >= self.one_any_min,
            (2, 0) => len >= self.two_min,
            _ => false,
        }
    }
}

/// Result of comparing a window with a phrase.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Compared {
    pub kind: MatchKind,
    /// 1 − (substitution cost / syllables); a confusable syllable costs 0.5, another 1.
    pub similarity: f32,
}

/// Cost of a confusable substitution relative to an arbitrary one.
const CONFUSABLE_COST: f32 = 0.5;

/// Normalised text with the readings of each of its chars.
#[derive(Clone, Debug, Default)]
pub struct PinyinText {
    norm: Normalized,
    syms: Vec<Sym>,
    /// Byte offset in the normalised text of each char, plus the end.
    bytes: Vec<u32>,
}

impl PinyinText {
    /// Normalises `orig` (see [`super::normalize`]) and reads it.
    pub fn new(orig: &str) -> PinyinText {
        PinyinText::from_normalized(normalize(orig))
    }

    /// Reads already normalised text.
    pub fn from_normalized(norm: Normalized) -> PinyinText {
        let inv = inventory();
        let s = norm.as_str();
        let mut syms = Vec::with_capacity(s.len() / 3 + 1);
        let mut bytes = Vec::with_capacity(s.len() / 3 + 2);
        for (b, c) in s.char_indices() {
            syms.push(inv.sym(c));
            bytes.push(b as u32);
        }
        bytes.push(s.len() as u32);
        PinyinText { norm, syms, bytes }
    }

    /// Number of normalised chars.
    pub fn len(&self) -> usize {
        self.syms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.syms.is_empty()
    }

    pub fn normalized(&self) -> &Normalized {
        &self.norm
    }

    /// First reading of normalised char `i`; `None` for digits, letters and symbols.
    pub fn syllable(&self, i: usize) -> Option<Syllable> {
        let p = self.syms.get(i)?.primary;
        (p >= FIRST_SYLLABLE).then_some(Syllable(p))
    }

    /// Every reading of normalised char `i`, first reading first.
    pub fn readings(&self, i: usize) -> Vec<Syllable> {
        self.syms
            .get(i)
            .map(|s| inventory().readings(*s).collect())
            .unwrap_or_default()
    }

    /// First readings separated by spaces; chars without a reading stay as they are
    /// (`你好vip` → `ni hao v i p`).
    pub fn toneless(&self) -> String {
        let mut out = String::with_capacity(self.len() * 4);
        for (i, c) in self.norm.as_str().chars().enumerate() {
            if !out.is_empty() {
                out.push(' ');
            }
            match self.syllable(i) {
                Some(s) => out.push_str(s.as_str()),
                None => out.push(c),
            }
        }
        out
    }

    /// Byte offset in the normalised text of char `i` (the text's length for `i == len`).
    pub fn norm_byte(&self, i: usize) -> usize {
        self.bytes
            .get(i)
            .copied()
            .unwrap_or_else(|| self.norm.as_str().len() as u32) as usize
    }

    /// Char index of the normalised char starting at byte `b`.
    pub fn char_at_byte(&self, b: usize) -> usize {
        self.bytes.partition_point(|&x| (x as usize) < b)
    }

    /// Original char range of the normalised chars `[start, end)`.
    pub fn orig_span(&self, start: usize, end: usize) -> (usize, usize) {
        self.norm
            .orig_span(self.norm_byte(start), self.norm_byte(end))
    }

    pub(crate) fn syms(&self) -> &[Sym] {
        &self.syms
    }
}

/// First readings of normalised text as one byte a char, through a code table that gives each
/// syllable of interest its own byte (see [`SoundCodes`]); `bytes` maps each char back to its
/// byte offset in the normalised text (plus the end).
#[derive(Clone, Debug, Default)]
pub(crate) struct SoundStream {
    pub(crate) stream: Vec<u8>,
    pub(crate) bytes: Vec<u32>,
}

impl SoundStream {
    pub(crate) fn fill(&mut self, norm: &str, codes: &SoundCodes) {
        let inv = inventory();
        self.stream.clear();
        self.bytes.clear();
        self.stream.reserve(norm.len() / 2);
        self.bytes.reserve(norm.len() / 2);
        for (b, c) in norm.char_indices() {
            let code = c as u32;
            let p = if code < 0x10000 {
                inv.primary[code as usize]
            } else {
                NONE
            };
            self.stream.push(codes.0[p as usize]);
            self.bytes.push(b as u32);
        }
        self.bytes.push(norm.len() as u32);
    }
}

/// One byte per first reading for a byte automaton: 0 for readings no phrase uses (they can
/// never be part of a match), 1–254 for the first 254 readings phrases use, 255 shared by any
/// further ones (a shared code only adds candidates, which are all verified). One byte a char
/// keeps the automaton's states and steps half what two bytes would.
#[derive(Clone, Debug)]
pub(crate) struct SoundCodes(Vec<u8>);

impl SoundCodes {
    /// Codes for the readings of every char of `phrases` (normalised).
    pub(crate) fn new<'a>(phrases: impl IntoIterator<Item = &'a str>) -> SoundCodes {
        let inv = inventory();
        let mut table = vec![0u8; FIRST_SYLLABLE as usize + inv.names.len()];
        let mut next = 1u16;
        for c in phrases.into_iter().flat_map(str::chars) {
            let p = inv.sym(c).primary as usize;
            if p != NONE as usize && table[p] == 0 {
                table[p] = next.min(255) as u8;
                next += 1;
            }
        }
        SoundCodes(table)
    }

    /// The stream bytes of normalised `text`.
    pub(crate) fn encode(&self, text: &str) -> Vec<u8> {
        let mut s = SoundStream::default();
        s.fill(text, self);
        s.stream
    }
}

/// A phrase compiled to syllables.
#[derive(Clone, Debug)]
pub struct Phrase {
    norm: String,
    syms: Vec<Sym>,
}

impl Phrase {
    /// `None` when the phrase is empty or has a char with no reading (kana, symbols).
    pub fn new(text: &str) -> Option<Phrase> {
        let p = PinyinText::new(text);
        if p.is_empty() || p.syms.iter().any(|s| s.primary == NONE) {
            return None;
        }
        Some(Phrase {
            norm: p.norm.as_str().to_owned(),
            syms: p.syms,
        })
    }

    /// Syllables (= normalised chars).
    pub fn len(&self) -> usize {
        self.syms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.syms.is_empty()
    }

    /// The normalised phrase.
    pub fn as_str(&self) -> &str {
        &self.norm
    }

    /// How `window` (normalised text as long as the phrase) sounds against the phrase; `None`
    /// if it is too far for `tol`. Never says [`MatchKind::Exact`]: the caller knows whether
    /// the characters are the same.
    pub fn compare(&self, window: &str, tol: &Tolerance) -> Option<Compared> {
        let inv = inventory();
        let (mut confusable, mut other, mut n) = (0usize, 0usize, 0usize);
        let mut other_at_edge = false;
        let last = self.syms.len().saturating_sub(1);
        let budget = tol.max_subs(self.syms.len());
        let mut chars = window.chars();
        for (i, p) in self.syms.iter().enumerate() {
            let t = inv.sym(chars.next()?);
            n += 1;
            match inv.compare(t, *p) {
                Sound::Same => {}
                Sound::Confusable => confusable += 1,
                Sound::Different => {
                    other += 1;
                    other_at_edge |= i == 0 || i == last;
                }
            }
            if confusable + other > budget {
                return None;
            }
        }
        if n != self.syms.len() || chars.next().is_some() {
            return None;
        }
        if !tol.accepts(n, confusable, other, other_at_edge) {
            return None;
        }
        let cost = confusable as f32 * CONFUSABLE_COST + other as f32;
        Some(Compared {
            kind: if cost == 0.0 {
                MatchKind::Homophone
            } else {
                MatchKind::Near
            },
            similarity: 1.0 - cost / n as f32,
        })
    }

    /// True when `window` (normalised text) has the phrase's length and every char shares a
    /// reading with the phrase's char there.
    pub fn sounds_same(&self, window: &str) -> bool {
        let inv = inventory();
        let mut chars = window.chars();
        self.syms.iter().all(|p| {
            chars
                .next()
                .is_some_and(|c| inv.compare(inv.sym(c), *p) == Sound::Same)
        }) && chars.next().is_none()
    }
}

/// Where [`find`] found a phrase, in original chars of the haystack.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub kind: MatchKind,
    pub similarity: f32,
}

/// The best place `phrase` occurs in `haystack`: exactly, as a homophone or nearly (default
/// [`Tolerance`]); the leftmost of the most similar. For checks that expect a phrase, e.g.
/// `find("请您收等一下", "请您稍等")` is `None` (4 syllables allow no slip) but
/// `find("您好刻服中心", "客服中心")` is a homophone at chars 2..6.
pub fn find(haystack: &str, phrase: &str) -> Option<Found> {
    find_with(haystack, phrase, &Tolerance::default())
}

/// [`find`] with an explicit tolerance.
pub fn find_with(haystack: &str, phrase: &str, tol: &Tolerance) -> Option<Found> {
    let phrase = Phrase::new(phrase)?;
    let text = PinyinText::new(haystack);
    let n = phrase.len();
    let mut best: Option<(usize, Compared)> = None;
    for start in 0..(text.len() + 1).saturating_sub(n) {
        let window = &text.norm.as_str()[text.norm_byte(start)..text.norm_byte(start + n)];
        let exact = window == phrase.as_str();
        let got = if exact {
            Some(Compared {
                kind: MatchKind::Exact,
                similarity: 1.0,
            })
        } else {
            phrase.compare(window, tol)
        };
        if let Some(c) = got {
            let better = best.is_none_or(|(_, b)| (c.similarity, b.kind) > (b.similarity, c.kind));
            if better {
                best = Some((start, c));
            }
        }
    }
    best.map(|(start, c)| {
        let (s, e) = text.orig_span(start, start + n);
        Found {
            start: s,
            end: e,
            kind: c.kind,
            similarity: c.similarity,
        }
    })
}

/// How much of `standard` was said in `said`, on sound: the best in-order alignment of their
/// syllables (a shared reading counts 1, a confusable one 0.5), over the syllables of
/// `standard`. The phonetic twin of the character-based opening similarity: 1.0 when every
/// syllable of the standard was heard in order, whatever characters Whisper chose.
pub fn similarity(said: &str, standard: &str) -> f64 {
    let a = PinyinText::new(said);
    let b = PinyinText::new(standard);
    if b.is_empty() {
        return 0.0;
    }
    let inv = inventory();
    let mut prev = vec![0f32; b.len() + 1];
    let mut cur = vec![0f32; b.len() + 1];
    for ta in a.syms() {
        cur[0] = 0.0;
        for (j, tb) in b.syms().iter().enumerate() {
            let gain = match inv.compare(*ta, *tb) {
                Sound::Same => 1.0,
                Sound::Confusable => 1.0 - CONFUSABLE_COST,
                Sound::Different => 0.0,
            };
            cur[j + 1] = (prev[j] + gain).max(cur[j]).max(prev[j + 1]);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    (prev[b.len()] / b.len() as f32) as f64
}

/// Toneless pinyin of `text` after normalisation, syllables separated by spaces.
pub fn toneless(text: &str) -> String {
    PinyinText::new(text).toneless()
}

/// The readings of one char, first reading first (empty for chars with none).
pub fn readings(c: char) -> Vec<Syllable> {
    let inv = inventory();
    inv.readings(inv.sym(c)).collect()
}

/// Whether Whisper is known to confuse two syllables (see the module doc).
pub fn confusable(a: Syllable, b: Syllable) -> bool {
    inventory().confusable(a.0, b.0)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sound {
    Same,
    Confusable,
    Different,
}

/// Everyday polyphones and the readings a speaker may mean: the first is the `pinyin` crate's.
const POLYPHONES: &[(char, &str)] = &[
    ('行', "xing hang"),
    ('长', "chang zhang"),
    ('了', "le liao"),
    ('还', "hai huan"),
    ('得', "de dei"),
    ('的', "de di"),
    ('地', "di de"),
    ('都', "dou du"),
    ('重', "zhong chong"),
    ('没', "mei mo"),
    ('便', "bian pian"),
    ('觉', "jue jiao"),
    ('着', "zhe zhao zhuo"),
    ('和', "he huo hu"),
    ('乐', "le yue"),
    ('调', "diao tiao"),
    ('传', "chuan zhuan"),
    ('差', "cha chai ci"),
    ('会', "hui kuai"),
    ('给', "gei ji"),
    ('说', "shuo shui"),
    ('什', "shen shi"),
    ('谁', "shui shei"),
    ('那', "na nei"),
    ('哪', "na nei"),
    ('这', "zhe zhei"),
    ('么', "me ma"),
    ('呢', "ne ni"),
    ('省', "sheng xing"),
    ('识', "shi zhi"),
    ('似', "si shi"),
    ('大', "da dai"),
    ('解', "jie xie"),
    ('参', "can shen"),
    ('种', "zhong chong"),
    ('数', "shu shuo"),
    ('朝', "chao zhao"),
    ('将', "jiang qiang"),
    ('曾', "ceng zeng"),
    ('系', "xi ji"),
    ('单', "dan shan"),
    ('区', "qu ou"),
    ('露', "lu lou"),
    ('奇', "qi ji"),
    ('卡', "ka qia"),
    ('仔', "zai zi"),
    ('落', "luo la lao"),
    ('角', "jiao jue"),
    ('率', "lü shuai"),
    ('塞', "sai se"),
    ('嗯', "n en"),
    ('哦', "o e"),
];

/// Initials Whisper swaps (regional accents and its own slips), both ways.
const INITIAL_PAIRS: &[(&str, &str)] = &[
    ("z", "zh"),
    ("c", "ch"),
    ("s", "sh"),
    ("n", "l"),
    ("f", "h"),
    ("f", "w"),
    ("zh", "sh"),
    ("r", "l"),
    ("b", "p"),
    ("d", "t"),
    ("g", "k"),
    ("t", "p"),
];

/// Finals Whisper swaps, both ways.
const FINAL_PAIRS: &[(&str, &str)] = &[
    ("an", "ang"),
    ("en", "eng"),
    ("in", "ing"),
    ("ian", "iang"),
    ("uan", "uang"),
    ("an", "ai"),
    ("uan", "ian"),
    ("e", "eng"),
    ("e", "en"),
    ("ong", "eng"),
    ("ang", "eng"),
    ("uo", "ou"),
    ("i", "ü"),
    ("u", "ou"),
];

/// Whole syllables seen swapped in Whisper's slips where both parts changed: 听 → 拼 in the
/// issue's calls; the rest measured on speech-dev (lexicons/README.md). `yu ju qu xu jun` are
/// ü syllables written with u.
const SYLLABLE_PAIRS: &[(&str, &str)] = &[
    ("ting", "pin"),
    ("fang", "huang"),
    ("fei", "hui"),
    ("fa", "hua"),
    ("hui", "wei"),
    ("yu", "yi"),
    ("ju", "ji"),
    ("qu", "qi"),
    ("xu", "xi"),
    ("jun", "jin"),
];

/// Initials, longest first so `zh` wins over `z`.
const INITIALS: &[&str] = &[
    "zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r",
    "z", "c", "s", "y", "w",
];

fn split(syllable: &str) -> (&str, &str) {
    for i in INITIALS {
        if let Some(rest) = syllable.strip_prefix(i) {
            if !rest.is_empty() {
                return (i, rest);
            }
        }
    }
    ("", syllable)
}

struct Inventory {
    names: Vec<&'static str>,
    /// First-reading symbol of every BMP char.
    primary: Box<[u16]>,
    /// Index + 1 into `alts` of every BMP char with other readings.
    alt_of: Box<[u8]>,
    alts: Vec<Vec<u16>>,
    /// Bit `a * stride + b`: syllables `a` and `b` are confusable.
    confusion: Vec<u64>,
    stride: usize,
}

fn inventory() -> &'static Inventory {
    static INV: OnceLock<Inventory> = OnceLock::new();
    INV.get_or_init(Inventory::build)
}

impl Inventory {
    fn build() -> Inventory {
        use pinyin::ToPinyin;
        let mut names: Vec<&'static str> = Vec::new();
        let mut ids: HashMap<&'static str, u16> = HashMap::new();
        let mut intern = |name: &'static str, names: &mut Vec<&'static str>| -> u16 {
            *ids.entry(name).or_insert_with(|| {
                names.push(name);
                FIRST_SYLLABLE + (names.len() - 1) as u16
            })
        };
        let mut primary = vec![NONE; 0x10000].into_boxed_slice();
        for (i, b) in (b'0'..=b'9').chain(b'a'..=b'z').enumerate() {
            primary[b as usize] = 1 + i as u16;
        }
        for code in 0x2E80u32..0x10000 {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            if let Some(p) = c.to_pinyin() {
                primary[code as usize] = intern(p.plain(), &mut names);
            }
        }
        let mut alt_of = vec![0u8; 0x10000].into_boxed_slice();
        let mut alts = Vec::new();
        for (c, readings) in POLYPHONES {
            let ids: Vec<u16> = readings.split(' ').map(|r| intern(r, &mut names)).collect();
            primary[*c as usize] = ids[0];
            alts.push(ids[1..].to_vec());
            alt_of[*c as usize] = alts.len() as u8;
        }
        let stride = FIRST_SYLLABLE as usize + names.len();
        let confusion = confusion_bits(&names, stride);
        Inventory {
            names,
            primary,
            alt_of,
            alts,
            confusion,
            stride,
        }
    }

    fn sym(&self, c: char) -> Sym {
        let code = c as u32;
        if code >= 0x10000 {
            return Sym {
                primary: NONE,
                alt: 0,
            };
        }
        Sym {
            primary: self.primary[code as usize],
            alt: self.alt_of[code as usize],
        }
    }

    fn alts_of(&self, s: Sym) -> &[u16] {
        match s.alt {
            0 => &[],
            a => &self.alts[a as usize - 1],
        }
    }

    fn readings(&self, s: Sym) -> impl Iterator<Item = Syllable> + '_ {
        std::iter::once(s.primary)
            .chain(self.alts_of(s).iter().copied())
            .filter(|&p| p >= FIRST_SYLLABLE)
            .map(Syllable)
    }

    fn confusable(&self, a: u16, b: u16) -> bool {
        let bit = a as usize * self.stride + b as usize;
        self.confusion
            .get(bit / 64)
            .is_some_and(|w| w >> (bit % 64) & 1 == 1)
    }

    fn compare(&self, t: Sym, p: Sym) -> Sound {
        if t.primary == p.primary && t.primary != NONE {
            return Sound::Same;
        }
        if t.primary < FIRST_SYLLABLE || p.primary < FIRST_SYLLABLE {
            return Sound::Different;
        }
        // Polyphones are rare: compare first readings before looking at other ones.
        if t.alt == 0 && p.alt == 0 {
            return if self.confusable(t.primary, p.primary) {
                Sound::Confusable
            } else {
                Sound::Different
            };
        }
        let mut confusable = false;
        for &x in std::iter::once(&t.primary).chain(self.alts_of(t)) {
            for &y in std::iter::once(&p.primary).chain(self.alts_of(p)) {
                if x == y {
                    return Sound::Same;
                }
                confusable |= self.confusable(x, y);
            }
        }
        if confusable {
            Sound::Confusable
        } else {
            Sound::Different
        }
    }
}

/// Two syllables are confusable when one part (initial or final) is equal and the other is a
/// listed pair.
fn confusion_bits(names: &[&'static str], stride: usize) -> Vec<u64> {
    let mut bits = vec![0u64; (stride * stride).div_ceil(64)];
    let pair = |list: &[(&str, &str)], x: &str, y: &str| {
        list.iter()
            .any(|&(a, b)| (a == x && b == y) || (a == y && b == x))
    };
    for (i, a) in names.iter().enumerate() {
        let (ai, af) = split(a);
        for (j, b) in names.iter().enumerate() {
            let (bi, bf) = split(b);
            let yes = (ai == bi && pair(FINAL_PAIRS, af, bf))
                || (af == bf && pair(INITIAL_PAIRS, ai, bi))
                || pair(SYLLABLE_PAIRS, a, b);
            if yes {
                let bit = (FIRST_SYLLABLE as usize + i) * stride + FIRST_SYLLABLE as usize + j;
                bits[bit / 64] |= 1 << (bit % 64);
            }
        }
    }
    bits
}

#[cfg(test)]
mod tests;
