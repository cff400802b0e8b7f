//! Diagnostics: a message tied to a file, line and column of the configuration, rendered with an
//! excerpt of that file.

use std::fmt::Write as _;

/// A 1-based line and column in one file of the configuration: `file` indexes the files read
/// (0 is `tools.yaml` itself, the others are files it includes, see `crate::files`). Positions
/// order by file first, so sorted diagnostics follow the files in the order they were read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub file: u16,
    pub line: u32,
    pub col: u32,
}

impl Pos {
    /// A position in the root file.
    pub const fn new(line: u32, col: u32) -> Self {
        Self { file: 0, line, col }
    }

    /// The same line and column in file `file`.
    pub const fn in_file(self, file: u16) -> Self {
        Self { file, ..self }
    }

    /// The same position moved inside `source`: at most one column past the end of its line,
    /// and on the last line when it is below it. The YAML parser notices some errors at the end
    /// of the input on a line after the last (`{a` is reported at line 2 of a one-line file),
    /// which no excerpt can show; the fuzz suite found it.
    pub fn within(self, source: &str) -> Pos {
        let lines = lines(source);
        let line = (self.line as usize).clamp(1, lines.len());
        let width = lines[line - 1].chars().count();
        if line < self.line as usize {
            return Pos::new(line as u32, width as u32 + 1).in_file(self.file);
        }
        Pos::new(line as u32, (self.col as usize).clamp(1, width + 1) as u32).in_file(self.file)
    }
}

/// The lines of a text as YAML counts them, which positions refer to: `\n`, `\r\n` and a lone
/// `\r` each end a line (`str::lines` does not split at a lone `\r`). The text after the last
/// break is a line too, possibly empty: where a diagnostic about the end of the file points.
pub fn lines(source: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = source;
    while let Some(end) = rest.find(['\n', '\r']) {
        lines.push(&rest[..end]);
        let next = if rest[end..].starts_with("\r\n") { end + 2 } else { end + 1 };
        rest = &rest[next..];
    }
    lines.push(rest);
    lines
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
    /// A word the problem is about (a column a statement names, say): the position shown is its
    /// first whole-word occurrence at or after `pos`, when there is one within the next lines.
    pub focus: Option<String>,
}

/// How many lines after `pos` a [`Diagnostic::focus`] is looked for (a statement's length).
const FOCUS_LINES: usize = 60;

impl Diagnostic {
    pub fn new(pos: Pos, message: impl Into<String>) -> Self {
        Self { pos, message: message.into(), hint: None, focus: None }
    }

    /// Points the diagnostic at `word`, found after its position (see [`Diagnostic::focus`]).
    pub fn with_focus(mut self, word: impl Into<String>) -> Self {
        self.focus = Some(word.into()).filter(|w: &String| !w.trim().is_empty());
        self
    }

    /// Where the diagnostic points in `source`: its focus word, else its position.
    pub fn position(&self, source: &str) -> Pos {
        let Some(word) = self.focus.as_deref().map(str::to_ascii_lowercase) else { return self.pos };
        let first = (self.pos.line as usize).saturating_sub(1);
        for (i, line) in lines(source).iter().enumerate().skip(first).take(FOCUS_LINES) {
            let from = if i == first { (self.pos.col as usize).saturating_sub(1) } else { 0 };
            let chars: Vec<char> = line.chars().collect();
            let lower: Vec<char> = chars.iter().map(|c| c.to_ascii_lowercase()).collect();
            let needle: Vec<char> = word.chars().collect();
            let is_word = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric() || *c == '_');
            for start in from..lower.len().saturating_sub(needle.len() - 1).max(from) {
                if lower[start..].starts_with(&needle)
                    && !is_word(start.checked_sub(1).and_then(|p| lower.get(p)))
                    && !is_word(lower.get(start + needle.len()))
                {
                    return Pos::new(i as u32 + 1, start as u32 + 1).in_file(self.pos.file);
                }
            }
        }
        self.pos
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Renders `path:line:col: message`, the offending line with a caret under the column, and
    /// the hint. `source` is the text the positions refer to.
    pub fn render(&self, path: &str, source: &str) -> String {
        let pos = self.position(source);
        let mut out = format!("{path}:{}:{}: {}", pos.line, pos.col, self.message);
        let line = (pos.line as usize).checked_sub(1).and_then(|i| lines(source).get(i).copied());
        if let Some(text) = line {
            let number = pos.line.to_string();
            let gutter = " ".repeat(number.len());
            let excerpt: String = text.chars().take(100).collect();
            let caret_at = (pos.col.saturating_sub(1) as usize).min(excerpt.chars().count());
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
    fn a_focus_word_moves_the_caret_to_it() {
        let source = "statement: |\n  SELECT f.flight_number, f.airline\n  FROM flights f WHERE f.flight_numbr = ?\n";
        let d = Diagnostic::new(Pos::new(2, 3), "no such column: f.flight_numbr").with_focus("F.FLIGHT_NUMBR");
        assert_eq!(d.position(source), Pos::new(3, 24));
        // Whole words only: `flight` is not found inside `flight_number` or `flights`.
        let d = Diagnostic::new(Pos::new(2, 3), "no such table: flight").with_focus("flight");
        assert_eq!(d.position(source), Pos::new(2, 3), "not found: the statement's start");
        let one_line = "statement: SELECT * FROM flight\n";
        let d = Diagnostic::new(Pos::new(1, 12), "x").with_focus("flight");
        assert_eq!(
            d.render("t.yaml", one_line),
            "t.yaml:1:26: x\n  |\n1 | statement: SELECT * FROM flight\n  |                          ^"
        );
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(suggest("statment", ["source", "statement"]), Some("statement"));
        assert_eq!(suggest("zzz", ["source", "statement"]), None);
    }
}
