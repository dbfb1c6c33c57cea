//! Rust names from wire names, and doc text made safe for rustdoc.

use std::collections::BTreeMap;

/// Splits a wire name into words: `DescribeLoadBalancerHTTPListenerAttribute` →
/// `Describe Load Balancer HTTP Listener Attribute`, `Ipv6Isp` → `Ipv6 Isp`, `SDGId` →
/// `SDG Id`, `instanceId` → `instance Id`. Digits stay with the word before them.
pub fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let boundary = match prev {
            None => false,
            Some(p) if !p.is_ascii_alphanumeric() => false,
            Some(p) => {
                c.is_ascii_uppercase()
                    && (p.is_ascii_lowercase()
                        || p.is_ascii_digit()
                        || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase())))
            }
        };
        if boundary && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Applies the overrides' word spellings (`VSwitch` → `Vswitch`) to a wire name.
pub fn fix_words(name: &str, fixes: &BTreeMap<String, String>) -> String {
    let mut s = name.to_owned();
    // Longest first, so `VSwitches` wins over `VSwitch`.
    let mut keys: Vec<&String> = fixes.keys().collect();
    keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
    for k in keys {
        s = s.replace(k.as_str(), &fixes[k]);
    }
    s
}

pub fn snake(name: &str) -> String {
    words(name)
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_")
}

pub fn pascal(name: &str) -> String {
    words(name)
        .iter()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The singular of an English plural, for the element type of a list (`Tags` → `Tag`,
/// `Addresses` → `Address`, `Policies` → `Policy`); a name that is not plural gets `Item`.
pub fn singular(name: &str) -> String {
    if let Some(stem) = name.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for suffix in ["sses", "xes", "ches", "shes"] {
        if name.ends_with(suffix) {
            return name[..name.len() - 2].to_owned();
        }
    }
    if let Some(stem) = name.strip_suffix('s') {
        if !stem.ends_with(['s', 'u']) && !stem.is_empty() {
            return stem.to_owned();
        }
    }
    format!("{name}Item")
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where", "while",
    "abstract", "become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized",
    "virtual", "yield", "try", "gen",
];

/// A snake-case identifier, raw (`r#type`) when it is a keyword; `self`, `super`, `crate`
/// cannot be raw and get a trailing `_`.
pub fn ident(snake: &str) -> String {
    if matches!(snake, "self" | "super" | "crate") {
        format!("{snake}_")
    } else if KEYWORDS.contains(&snake) {
        format!("r#{snake}")
    } else {
        snake.to_owned()
    }
}

/// Type names a generated type must not take: they would shadow the prelude (or the names the
/// generated modules use) inside the module.
pub const RESERVED_TYPES: &[&str] = &[
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "Vec",
    "Box",
    "ToString",
    "ToOwned",
    "Default",
    "Clone",
    "Copy",
    "Debug",
    "Send",
    "Sync",
    "Sized",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "Iterator",
    "IntoIterator",
    "Extend",
    "From",
    "Into",
    "PartialEq",
    "Eq",
    "PartialOrd",
    "Ord",
    "AsRef",
    "AsMut",
    "Self",
    "Error",
    "BTreeMap",
    "Value",
    "Unpin",
    "Future",
    "Hash",
    "Serialize",
    "Deserialize",
];

/// Doc text from the SDK's comments, made safe for rustdoc: no code blocks (indented lines or
/// fences would become doc tests), no intra-doc links or HTML tags from stray brackets, bare
/// URLs wrapped. Returns the lines, each to be written after `/// `.
pub fn doc_lines(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in text.lines() {
        let s = doc_line(raw.trim());
        if s.is_empty() && out.last().is_none_or(|l: &String| l.is_empty()) {
            continue;
        }
        // Text right after a list item would continue the item lazily: start a paragraph.
        if !s.is_empty() && !is_list_item(&s) && out.last().is_some_and(|l| is_list_item(l)) {
            out.push(String::new());
        }
        out.push(s);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out
}

fn is_list_item(line: &str) -> bool {
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    line.starts_with("- ")
        || line.starts_with("* ")
        || line.starts_with("+ ")
        || (digits > 0 && (line[digits..].starts_with(". ") || line[digits..].starts_with(") ")))
}

fn doc_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut rest = line;
    loop {
        let next = [rest.find("https://"), rest.find("http://")]
            .into_iter()
            .flatten()
            .min();
        let Some(at) = next else {
            out.push_str(&escape(rest, out.is_empty()));
            return out;
        };
        out.push_str(&escape(&rest[..at], out.is_empty()));
        let url_len = rest[at..]
            .find(|c: char| {
                c.is_whitespace()
                    || matches!(c, '<' | '>' | '"' | '\'' | ')' | '(' | '[' | ']' | '`')
            })
            .unwrap_or(rest.len() - at);
        let url = rest[at..at + url_len].trim_end_matches(['.', ',', ';', ':', '!', '?']);
        out.push('<');
        out.push_str(url);
        out.push('>');
        rest = &rest[at + url.len()..];
    }
}

fn escape(s: &str, line_start: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        match c {
            '[' => out.push_str("\\["),
            ']' => out.push_str("\\]"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A fence would open a code block (a doc test); single backticks are inline code.
            '`' if s.contains("``") => out.push_str("\\`"),
            '#' if line_start && i == 0 => out.push_str("\\#"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_cases() {
        for (wire, want) in [
            (
                "DescribeLoadBalancerHTTPListenerAttribute",
                "describe_load_balancer_http_listener_attribute",
            ),
            ("Ipv6Isp", "ipv6_isp"),
            ("SDGId", "sdg_id"),
            ("instanceId", "instance_id"),
            ("DescribeClustersV1", "describe_clusters_v1"),
            ("CreateARMServerInstances", "create_arm_server_instances"),
            ("ReInitDisk", "re_init_disk"),
            ("EnsRegionIds", "ens_region_ids"),
            ("Tag.1.Key", "tag_1_key"),
        ] {
            assert_eq!(snake(wire), want, "{wire}");
        }
        assert_eq!(pascal("instanceId"), "InstanceId");
        assert_eq!(singular("Addresses"), "Address");
        assert_eq!(singular("Policies"), "Policy");
        assert_eq!(singular("Tags"), "Tag");
        assert_eq!(singular("Status"), "StatusItem");
        assert_eq!(ident("type"), "r#type");
        assert_eq!(ident("self"), "self_");
    }

    #[test]
    fn docs_are_safe() {
        assert_eq!(
            doc_lines("  see [link](https://x.y/z) <b>\n\n\n    code\nhttps://a.b/c.\n# h ```\n- a\n1. b\nlazy"),
            vec![
                "see \\[link\\](<https://x.y/z>) &lt;b&gt;",
                "",
                "code",
                "<https://a.b/c>.",
                "\\# h \\`\\`\\`",
                "- a",
                "1. b",
                "",
                "lazy"
            ]
        );
    }
}
