//! One definition's mapping read field by field, and the small readers shared by every kind.

use crate::diag::{Diagnostic, Pos, Spanned, suggest};
use crate::yaml::{self, Node};
use serde_json::Value;

/// One definition's mapping, with bookkeeping of which keys were read so that the rest can be
/// reported as unknown fields.
pub(super) struct Obj<'a> {
    pub(super) what: String,
    pub(super) pos: Pos,
    pub(super) entries: Vec<(&'a str, &'a Node, Pos)>,
    pub(super) used: Vec<bool>,
    pub(super) known: Vec<&'static str>,
    /// In the legacy format `kind` means `type`.
    pub(super) legacy: bool,
}

impl<'a> Obj<'a> {
    pub(super) fn new(node: &'a Node, what: String, legacy: bool, diags: &mut Vec<Diagnostic>) -> Option<Self> {
        let Some(entries) = yaml::entries(node, diags) else {
            diags.push(Diagnostic::new(
                yaml::pos(node),
                format!("{what} must be a mapping, found {}", yaml::describe(node)),
            ));
            return None;
        };
        let used = vec![false; entries.len()];
        Some(Self { what, pos: yaml::pos(node), entries, used, known: Vec::new(), legacy })
    }

    /// How a field is spelt in this format: in the legacy format `type` is written `kind`.
    pub(super) fn shown(&self, key: &'static str) -> &'static str {
        if self.legacy && key == "type" { "kind" } else { key }
    }

    pub(super) fn take(&mut self, key: &'static str) -> Option<(&'a Node, Pos)> {
        self.known.push(self.shown(key));
        let alias = if self.legacy && key == "type" { Some("kind") } else { None };
        let index = self.entries.iter().position(|(k, ..)| *k == key || Some(*k) == alias)?;
        self.used[index] = true;
        let (_, node, key_pos) = self.entries[index];
        Some((node, key_pos))
    }

    /// Marks a key as known without reading it.
    pub(super) fn ignore(&mut self, key: &'static str) {
        self.take(key);
    }

    pub(super) fn string(&mut self, key: &'static str, diags: &mut Vec<Diagnostic>) -> Option<Spanned<String>> {
        let (node, _) = self.take(key)?;
        match yaml::as_str(node) {
            Some(s) => Some(Spanned::new(s.to_string(), yaml::pos(node))),
            None => {
                // Numbers and booleans are accepted where a string is expected (`port: 5432`).
                match yaml::to_json(node) {
                    Some(Value::Number(n)) => Some(Spanned::new(n.to_string(), yaml::pos(node))),
                    Some(Value::Bool(b)) => Some(Spanned::new(b.to_string(), yaml::pos(node))),
                    _ => {
                        diags.push(Diagnostic::new(
                            yaml::pos(node),
                            format!("`{key}` of {} must be a string, found {}", self.what, yaml::describe(node)),
                        ));
                        None
                    }
                }
            }
        }
    }

    pub(super) fn required_string(
        &mut self,
        key: &'static str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Spanned<String>> {
        self.required_choice(key, &[], diags)
    }

    /// A required string; when it is missing, the hint lists `choices` (if any).
    pub(super) fn required_choice(
        &mut self,
        key: &'static str,
        choices: &[&str],
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Spanned<String>> {
        let value = self.string(key, diags);
        let shown = self.shown(key);
        // A misspelt key is reported once, as an unknown field with a suggestion.
        let misspelt = self.entries.iter().any(|(k, ..)| *k != shown && suggest(k, [shown]).is_some());
        if value.is_none() && !self.known_present(key) && !misspelt {
            diags.push(
                Diagnostic::new(self.pos, format!("{} is missing the required field `{shown}`", self.what)).with_hint(
                    if choices.is_empty() {
                        format!("add `{shown}: ...` to this definition")
                    } else {
                        format!("add `{shown}:` with one of: {}", choices.join(", "))
                    },
                ),
            );
        }
        value
    }

    pub(super) fn known_present(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, ..)| *k == key || (self.legacy && key == "type" && *k == "kind"))
    }

    pub(super) fn bool(&mut self, key: &'static str, diags: &mut Vec<Diagnostic>) -> Option<bool> {
        let (node, _) = self.take(key)?;
        let value = yaml::as_bool(node);
        if value.is_none() {
            diags.push(Diagnostic::new(
                yaml::pos(node),
                format!("`{key}` of {} must be true or false, found {}", self.what, yaml::describe(node)),
            ));
        }
        value
    }

    pub(super) fn string_list(&mut self, key: &'static str, diags: &mut Vec<Diagnostic>) -> Vec<Spanned<String>> {
        let Some((node, _)) = self.take(key) else { return Vec::new() };
        string_list(node, &format!("`{key}` of {}", self.what), diags)
    }

    /// Reports every key that no reader asked for.
    pub(super) fn finish(self, diags: &mut Vec<Diagnostic>) {
        self.report_unknown(false, diags);
    }

    /// For a definition whose type is missing: the fields allowed depend on the type, so only
    /// keys that look like a misspelling of a field read so far (`tpye`) are reported.
    pub(super) fn finish_untyped(self, diags: &mut Vec<Diagnostic>) {
        self.report_unknown(true, diags);
    }

    fn report_unknown(self, only_misspelt: bool, diags: &mut Vec<Diagnostic>) {
        for (i, (key, _, key_pos)) in self.entries.iter().enumerate() {
            if self.used[i] {
                continue;
            }
            let suggestion = suggest(key, self.known.iter().copied());
            if only_misspelt && suggestion.is_none() {
                continue;
            }
            let d = Diagnostic::new(*key_pos, format!("unknown field `{key}` in {}", self.what));
            diags.push(match suggestion {
                Some(s) => d.with_hint(format!("did you mean `{s}`?")),
                None => d.with_hint(format!("the fields allowed here are: {}", self.known.join(", "))),
            });
        }
    }
}

pub(super) fn string_list(node: &Node, what: &str, diags: &mut Vec<Diagnostic>) -> Vec<Spanned<String>> {
    let Some(items) = yaml::as_seq(node) else {
        diags.push(Diagnostic::new(
            yaml::pos(node),
            format!("{what} must be a list of strings, found {}", yaml::describe(node)),
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        match yaml::as_str(item) {
            Some(s) => out.push(Spanned::new(s.to_string(), yaml::pos(item))),
            None => diags.push(Diagnostic::new(
                yaml::pos(item),
                format!("{what} must be a list of strings, found {} in it", yaml::describe(item)),
            )),
        }
    }
    out
}

pub(super) fn lookup<T: Copy>(table: &[(&'static str, T)], name: &str) -> Option<T> {
    table.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

pub(super) fn unknown_value_hint(value: &str, table: &[&str]) -> String {
    match suggest(value, table.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("use one of: {}", table.join(", ")),
    }
}
