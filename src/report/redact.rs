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

/// Runs of digits (spaces and hyphens inside a run are allowed): char ranges and the digits.
fn digit_runs(text: &str) -> Vec<(usize, usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let is_x = |j: usize, run: &str| run.len() == 17 && matches!(chars[j], 'X' | 'x');
        if digit(chars[i]).is_none() {
            i += 1;
            continue;
        }
        let start = i;
        let mut run = String::new();
        let mut end = i;
        while i < chars.len() {
            if let Some(d) = digit(chars[i]) {
                run.push(d);
                end = i + 1;
            } else if is_x(i, &run) {
                run.push('X');
                end = i + 1;
            } else if !matches!(chars[i], ' ' | '-' | '　') {
                break;
            }
            i += 1;
        }
        out.push((start, end, run));
    }
    out
}

fn kind(run: &str) -> Option<&'static str> {
    let b = run.as_bytes();
    match run.len() {
        11 if b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) => Some("mobile number"),
        18 if run[..17].bytes().all(|c| c.is_ascii_digit()) => Some("ID-card number"),
        16..=19 => Some("bank-card number"),
        _ => None,
    }
}

/// The kind of the first personal number in `text`, if any.
pub fn find_personal_number(text: &str) -> Option<&'static str> {
    digit_runs(text).iter().find_map(|(_, _, run)| kind(run))
}

/// `text` with every personal number replaced by `*`s of the same length.
pub fn redact(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for (start, end, run) in digit_runs(text) {
        if kind(&run).is_some() {
            for c in &mut chars[start..end] {
                if !matches!(*c, ' ' | '-' | '　') {
                    *c = '*';
                }
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
    }

    #[test]
    fn redacts_in_place() {
        assert_eq!(redact("号码13812345678。"), "号码***********。");
        assert_eq!(redact("余额五十元"), "余额五十元");
    }
}
