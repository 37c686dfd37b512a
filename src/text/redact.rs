//! Personal numbers in speech: 11-digit mobile numbers, 18-character ID-card numbers and 16–19
//! digit bank-card numbers, written in digits or in spoken Chinese numerals (幺三八…).
//!
//! Used twice: rule 9.2 flags an agent reading one out, and `--redact` hides them in reports.

/// The ASCII digit a spoken or written digit stands for.
fn digit(c: char) -> Option<char> {
    Some(match c {
        '0'..='9' => c,
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32)?,
        '零' | '〇' | '洞' => '0',
        '一' | '幺' | '壹' => '1',
        '二' | '两' | '贰' => '2',
        '三' | '叁' => '3',
        '四' | '肆' => '4',
        '五' | '伍' => '5',
        '六' | '陆' => '6',
        '七' | '柒' => '7',
        '八' | '捌' => '8',
        '九' | '玖' => '9',
        _ => return None,
    })
}

/// Whether `c` is written (ASCII or full-width digit) rather than spoken (汉字 numeral).
fn written(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

/// Characters people and recognisers put between digit groups: `138-1234-5678`,
/// `138.1234.5678`, `138 1234 5678`, 「幺三八，幺二三四，五六七八」.
fn separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '　' | '.' | '，' | ',' | '、' | '．')
}

/// Groups of digits of one script, each group's char range and digits; a group ends at any
/// other character, and the next group of a run starts after a single separator.
type Group = (usize, usize, String);

/// Runs of digit groups of one script joined by single separators. A run never mixes
/// written and spoken digits, so 「13812345678一定要记住」 ends before 一.
fn digit_runs(text: &str) -> Vec<Vec<Group>> {
    let chars: Vec<char> = text.chars().collect();
    let mut runs: Vec<Vec<Group>> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i]).is_none() {
            i += 1;
            continue;
        }
        let script = written(chars[i]);
        let same = |c: char| digit(c).is_some() && written(c) == script;
        let mut run: Vec<Group> = Vec::new();
        loop {
            let start = i;
            let mut digits = String::new();
            while i < chars.len() {
                match digit(chars[i]) {
                    Some(d) if written(chars[i]) == script => digits.push(d),
                    // The ID card's check character ends its 18th place.
                    None if matches!(chars[i], 'X' | 'x') && !digits.is_empty() => {
                        digits.push('X');
                        i += 1;
                        break;
                    }
                    _ => break,
                }
                i += 1;
            }
            run.push((start, i, digits));
            let joined = i + 1 < chars.len() && separator(chars[i]) && same(chars[i + 1]);
            if !joined {
                break;
            }
            i += 1;
        }
        runs.push(run);
    }
    runs
}

/// The personal numbers in one run: the longest stretch of whole groups that reads as one,
/// leftmost first, then the rest of the run after it.
fn numbers_in(run: &[Group]) -> Vec<(usize, usize, &'static str)> {
    let mut out = Vec::new();
    let mut from = 0;
    'next: while from < run.len() {
        for to in (from + 1..=run.len()).rev() {
            let digits: String = run[from..to].iter().map(|g| g.2.as_str()).collect();
            if let Some(k) = kind(&digits) {
                out.push((run[from].0, run[to - 1].1, k));
                from = to;
                continue 'next;
            }
        }
        from += 1;
    }
    out
}

fn kind(run: &str) -> Option<&'static str> {
    // A mobile number may carry the country code: +86 / 0086.
    let national = run
        .strip_prefix("0086")
        .or_else(|| run.strip_prefix("86"))
        .filter(|rest| rest.len() == 11)
        .unwrap_or(run);
    let b = national.as_bytes();
    match national.len() {
        11 if b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) => Some("mobile number"),
        18 if national[..17].bytes().all(|c| c.is_ascii_digit()) => Some("ID-card number"),
        16..=19 => Some("bank-card number"),
        _ => None,
    }
}

/// The kind of the first personal number in `text`, if any.
pub fn find_personal_number(text: &str) -> Option<&'static str> {
    personal_numbers(text).first().map(|&(_, _, k)| k)
}

/// Every personal number in `text`: its char range and kind.
pub fn personal_numbers(text: &str) -> Vec<(usize, usize, &'static str)> {
    digit_runs(text)
        .iter()
        .flat_map(|r| numbers_in(r))
        .collect()
}

/// `text` with every personal number replaced by `*`s of the same length (a leading `+` of
/// the country code included).
pub fn redact(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for (start, end, _) in personal_numbers(text) {
        let from = if start > 0 && chars[start - 1] == '+' {
            start - 1
        } else {
            start
        };
        for c in &mut chars[from..end] {
            if !separator(*c) {
                *c = '*';
            }
        }
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_numbers_in_digits_and_spoken_chinese() {
        assert_eq!(
            find_personal_number("您的号码是13812345678对吗"),
            Some("mobile number")
        );
        assert_eq!(
            find_personal_number("幺三八幺二三四五六七八"),
            Some("mobile number")
        );
        assert_eq!(
            find_personal_number("身份证110101199003071234"),
            Some("ID-card number")
        );
        assert_eq!(
            find_personal_number("身份证11010119900307123X"),
            Some("ID-card number")
        );
        assert_eq!(
            find_personal_number("卡号6222 0212 3456 7890 123"),
            Some("bank-card number")
        );
        assert_eq!(find_personal_number("每月十元，一共三个月"), None);
        assert_eq!(find_personal_number("工号10086"), None);
        assert_eq!(
            personal_numbers("先生，13812345678和13912345678都是"),
            vec![(3, 14, "mobile number"), (15, 26, "mobile number")]
        );
    }

    #[test]
    fn finds_the_numbers_people_actually_say_and_write() {
        for (text, hidden) in [
            ("13812345678一定要记住", "***********一定要记住"),
            ("拨打138-1234-5678", "拨打***-****-****"),
            ("+86 13812345678", "*** ***********"),
            ("0086-13812345678", "****-***********"),
            ("138.1234.5678", "***.****.****"),
            ("幺三八，幺二三四，五六七八", "***，****，****"),
            ("价格是一，二，三档", "价格是一，二，三档"),
            ("一共三个，二十元", "一共三个，二十元"),
            ("13812345678，13912345678", "***********，***********"),
        ] {
            assert_eq!(redact(text), hidden, "{text}");
        }
    }

    #[test]
    fn redacts_in_place() {
        assert_eq!(redact("号码13812345678。"), "号码***********。");
        assert_eq!(redact("余额五十元"), "余额五十元");
    }
}
