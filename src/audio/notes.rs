//! What decoding tells whoever reads a result: the call was scored on less than the whole
//! recording, or its channel choice was ignored.
//!
//! A note is stored once, in English (`metrics.decode_notes` in `calls.jsonl` and the store),
//! so stored results do not depend on a language flag; inspectors read it in Chinese by
//! default, and [`in_chinese`] turns a stored note back into Chinese. Both texts live here,
//! beside each other, so they cannot drift apart.

use std::fmt;

/// One remark about a decoded recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Note {
    /// A mono recording was given a left or right agent channel.
    MonoIgnoresChannel { channel: String },
    /// The stream ended badly; what came before is kept.
    StoppedAt { ms: u64, reason: String },
    /// The stream ended early without an error.
    ShortOfHeader { promised_ms: u64, got_ms: u64 },
    /// Packets Symphonia could not decode, skipped.
    SkippedPackets(usize),
    /// Packets FFmpeg could not decode, kept as silence.
    SilencedPackets(usize),
}

const MONO: (&str, &str) = (
    "mono recording: agent_channel ",
    " ignored, speaker roles are unknown",
);
const STOPPED: (&str, &str) = ("truncated: decoding stopped at ", "; the rest is lost");
const SHORT: (&str, &str) = ("truncated: header promises ", " ms");
const SKIPPED: (&str, &str) = ("skipped ", " damaged audio packets");
const SILENCED: (&str, &str) = ("", " audio packets could not be decoded and are silence");

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::MonoIgnoresChannel { channel } => write!(f, "{}{channel}{}", MONO.0, MONO.1),
            Note::StoppedAt { ms, reason } => {
                write!(f, "{}{ms} ms ({reason}){}", STOPPED.0, STOPPED.1)
            }
            Note::ShortOfHeader {
                promised_ms,
                got_ms,
            } => write!(
                f,
                "{}{promised_ms} ms, file holds {got_ms}{}",
                SHORT.0, SHORT.1
            ),
            Note::SkippedPackets(n) => write!(f, "{}{n}{}", SKIPPED.0, SKIPPED.1),
            Note::SilencedPackets(n) => write!(f, "{}{n}{}", SILENCED.0, SILENCED.1),
        }
    }
}

impl Note {
    /// The note a stored English text was written from, if it is one.
    fn parse(text: &str) -> Option<Note> {
        let between = |(head, tail): (&str, &str)| text.strip_prefix(head)?.strip_suffix(tail);
        if let Some(channel) = between(MONO) {
            return Some(Note::MonoIgnoresChannel {
                channel: channel.to_string(),
            });
        }
        if let Some(rest) = between(STOPPED) {
            let (ms, reason) = rest.split_once(" ms (")?;
            return Some(Note::StoppedAt {
                ms: ms.parse().ok()?,
                reason: reason.strip_suffix(')')?.to_string(),
            });
        }
        if let Some(rest) = between(SHORT) {
            let (promised, got) = rest.split_once(" ms, file holds ")?;
            return Some(Note::ShortOfHeader {
                promised_ms: promised.parse().ok()?,
                got_ms: got.parse().ok()?,
            });
        }
        if let Some(n) = between(SKIPPED) {
            return n.parse().ok().map(Note::SkippedPackets);
        }
        between(SILENCED)?.parse().ok().map(Note::SilencedPackets)
    }

    fn zh(&self) -> String {
        match self {
            Note::MonoIgnoresChannel { channel } => {
                format!("单声道录音：已忽略 agent_channel {channel}，无法区分坐席与客户")
            }
            Note::StoppedAt { ms, reason } => {
                format!("录音不完整：解码在 {ms} 毫秒处中断（{reason}），之后的内容已丢失")
            }
            Note::ShortOfHeader {
                promised_ms,
                got_ms,
            } => format!("录音不完整：文件头标明 {promised_ms} 毫秒，文件只有 {got_ms} 毫秒"),
            Note::SkippedPackets(n) => format!("跳过了 {n} 个损坏的音频包"),
            Note::SilencedPackets(n) => format!("{n} 个音频包无法解码，已按静音处理"),
        }
    }
}

/// A stored decoding note in Chinese; a text that is no note of this version is kept as it is.
pub fn in_chinese(note: &str) -> String {
    Note::parse(note).map_or_else(|| note.to_string(), |n| n.zh())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_note_reads_back_from_its_stored_text_and_has_chinese() {
        let notes = [
            Note::MonoIgnoresChannel {
                channel: "left".into(),
            },
            Note::StoppedAt {
                ms: 500,
                reason: "end of stream (bad frame)".into(),
            },
            Note::ShortOfHeader {
                promised_ms: 10000,
                got_ms: 500,
            },
            Note::SkippedPackets(3),
            Note::SilencedPackets(1),
        ];
        for note in notes {
            let stored = note.to_string();
            assert_eq!(Note::parse(&stored).as_ref(), Some(&note), "{stored}");
            let zh = in_chinese(&stored);
            assert!(
                zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{zh}"
            );
        }
        assert_eq!(in_chinese("something else"), "something else");
    }
}
