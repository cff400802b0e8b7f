//! Diagnostics: a message tied to a line and column of `tools.yaml`, rendered with an excerpt.

use std::fmt::Write as _;

/// A 1-based line and column in the source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl Pos {
    pub const fn new(line: u32, col: u32) -> Self {
        Self { line, col }
    }
}

/// A value with the position it was read from.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub pos: Pos,
}

impl<T> Spanned<T> {
    pub fn new(value: T, pos: Pos) -> Self {
        Self { value, pos }
    }
}

impl Spanned<String> {
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// One problem found in a configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub pos: Pos,
    pub message: String,
    /// What to change, when there is something useful to say.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        Self { pos, message: message.into(), hint: None }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Renders `path:line:col: message`, the offending line with a caret under the column, and
    /// the hint. `source` is the text the positions refer to.
    pub fn render(&self, path: &str, source: &str) -> String {
        let mut out = format!("{path}:{}:{}: {}", self.pos.line, self.pos.col, self.message);
        if let Some(text) = source.lines().nth(self.pos.line.saturating_sub(1) as usize) {
            let number = self.pos.line.to_string();
            let gutter = " ".repeat(number.len());
            let excerpt: String = text.chars().take(100).collect();
            let caret_at = (self.pos.col.saturating_sub(1) as usize).min(excerpt.chars().count());
            let _ = write!(out, "\n{gutter} |\n{number} | {excerpt}\n{gutter} | {}^", " ".repeat(caret_at));
            if let Some(hint) = &self.hint {
                let _ = write!(out, "\n{gutter} = hint: {hint}");
            }
        } else if let Some(hint) = &self.hint {
            let _ = write!(out, "\n  = hint: {hint}");
        }
        out
    }
}

/// Sorts diagnostics by position so that output follows the file.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| a.pos.cmp(&b.pos).then_with(|| a.message.cmp(&b.message)));
}

/// The closest candidate to `word` by edit distance, if it is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        let distance = edit_distance(&word.to_ascii_lowercase(), &candidate.to_ascii_lowercase());
        let limit = (candidate.len().max(word.len()) / 3).max(1);
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_excerpt_with_caret_and_hint() {
        let d = Diagnostic::new(Pos::new(2, 3), "unknown field `statment`").with_hint("did you mean `statement`?");
        let text = d.render("tools.yaml", "kind: tool\n  statment: x\n");
        assert_eq!(
            text,
            "tools.yaml:2:3: unknown field `statment`\n  |\n2 |   statment: x\n  |   ^\n  = hint: did you mean `statement`?"
        );
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(suggest("statment", ["source", "statement"]), Some("statement"));
        assert_eq!(suggest("zzz", ["source", "statement"]), None);
    }
}
