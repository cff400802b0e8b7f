//! Documents to model entries: shapes, field names and value types.
//!
//! Both formats of the reference server are read, mixed freely in one file:
//! - flat documents, one definition each, with `kind` (the category), `name` and `type`;
//! - the legacy map format (`sources:`, `tools:`, `toolsets:` ...), where `kind` means the type.
//!
//! Cross-references between definitions are checked afterwards, in [`crate::validate`].
//!
//! This module reads documents and dispatches each definition to the reader of its kind, one
//! file each: `source.rs`, `auth.rs`, `tool.rs` (with `param.rs` for parameters), `toolset.rs`
//! (groups too) and `prompt.rs`. `obj.rs` reads one definition's mapping field by field and
//! reports the fields no reader asked for. `include.rs` reads the files a document includes.

mod auth;
mod http;
mod include;
mod obj;
mod param;
mod prompt;
mod redis;
mod replicas;
mod source;
mod tool;
mod toolset;

use crate::diag::{Diagnostic, Pos, Spanned, suggest};
use crate::env;
use crate::files::{Files, SourceFile};
use crate::model::*;
use crate::yaml::{self, Node};
use obj::{Obj, lookup, string_list, unknown_value_hint};

/// How to read a file.
pub struct LoadOptions<'a> {
    /// Looks up environment variables for placeholders that are resolved at build time
    /// (statements, descriptions). Source and auth settings are never resolved here.
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// Parses and validates a text, named `tools.yaml` in messages; an `include:` in it is relative
/// to the working directory. The model is returned even when there are diagnostics, so that
/// callers can report everything at once.
pub fn load_str(source: &str, options: &LoadOptions<'_>) -> (Config, Vec<Diagnostic>) {
    let root = SourceFile { display: "tools.yaml".into(), path: None, dir: ".".into(), text: source.into() };
    let (config, diags, _) = load(root, options);
    (config, diags)
}

/// Parses and validates `root` and every file it includes. Each diagnostic's position names its
/// file in the returned [`Files`], which renders it.
pub fn load(root: SourceFile, options: &LoadOptions<'_>) -> (Config, Vec<Diagnostic>, Files) {
    let mut reader = Reader {
        diags: Vec::new(),
        config: Config::default(),
        env: options.env,
        default_group_seen: None,
        files: Files::default(),
        open: vec![0],
        seen: vec![root.path.as_ref().map_or(String::new(), |p| p.display().to_string())],
        source_override: None,
    };
    let documents = yaml::load(&root.text);
    reader.files.files.push(root);
    match documents {
        Ok(documents) => {
            for document in &documents {
                reader.document(document);
            }
        }
        Err(d) => {
            let d = Diagnostic { pos: d.pos.within(&reader.files.files[0].text), ..d };
            return (Config::default(), vec![d], reader.files);
        }
    }
    let Reader { mut diags, config, files, .. } = reader;
    let names: Vec<&str> = files.files.iter().map(|f| f.display.as_str()).collect();
    crate::validate::validate(&config, &names, &mut diags);
    // Every position inside the text of its file, so that each diagnostic shows its line.
    for d in &mut diags {
        d.pos = d.pos.within(&files.file(d.pos).text);
    }
    crate::diag::sort(&mut diags);
    // The tools of a prebuilt set pointed at an unknown source would each say so at one place.
    diags.dedup();
    (config, diags, files)
}

/// The legacy top-level keys and the kinds they hold.
const LEGACY_SECTIONS: &[(&str, &str)] = &[
    ("sources", "source"),
    ("authServices", "authService"),
    ("authSources", "authService"),
    ("tools", "tool"),
    ("toolsets", "toolset"),
    ("groups", "group"),
    ("prompts", "prompt"),
    ("embeddingModels", "embeddingModel"),
];
const KINDS: &[&str] = &["source", "authService", "tool", "toolset", "group", "prompt", "embeddingModel"];

struct Reader<'e> {
    diags: Vec<Diagnostic>,
    config: Config,
    env: &'e dyn Fn(&str) -> Option<String>,
    default_group_seen: Option<Pos>,
    /// Every file read so far; `open` is the chain of files being read (the last one is the
    /// current file), `seen` the keys of those read (see `include.rs`).
    files: Files,
    open: Vec<u16>,
    seen: Vec<String>,
    /// While a prebuilt set is read with `source:`: its sources are skipped and its tools use
    /// this one.
    source_override: Option<Spanned<String>>,
}

impl Reader<'_> {
    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.diags.push(Diagnostic::new(pos, message));
    }

    /// Looks a value up in a table of names. An unknown value is reported at its position with
    /// `message` and a hint: the closest name (`did you mean ...?`), else every name.
    fn choose<T: Copy>(&mut self, value: &Spanned<String>, table: &[(&'static str, T)], message: String) -> Option<T> {
        let found = lookup(table, &value.value);
        if found.is_none() {
            let names: Vec<&str> = table.iter().map(|(name, _)| *name).collect();
            self.diags.push(Diagnostic::new(value.pos, message).with_hint(unknown_value_hint(&value.value, &names)));
        }
        found
    }

    /// Resolves build-time placeholders in a value that shapes the generated code.
    fn resolve_now(&mut self, value: Spanned<String>) -> Spanned<String> {
        match env::resolve(&value.value, self.env) {
            Ok(resolved) => Spanned::new(resolved, value.pos),
            Err(errors) => {
                for e in errors {
                    self.diags.push(
                        Diagnostic::new(value.pos, e.message)
                            .with_hint("set the variable when building, or give a default with `${NAME:default}`"),
                    );
                }
                value
            }
        }
    }

    /// Checks the placeholders of a value resolved at start-up (they are kept as written).
    fn check_deferred(&mut self, value: &Spanned<String>) {
        for p in env::placeholders(&value.value) {
            if p.name.is_empty() {
                self.error(value.pos, "empty placeholder name");
            }
        }
    }

    fn document(&mut self, document: &Node) {
        if yaml::is_null(document) {
            return;
        }
        let Some(entries) = yaml::entries(document, &mut self.diags) else {
            self.error(
                yaml::pos(document),
                format!("a document must be a mapping, found {}", yaml::describe(document)),
            );
            return;
        };
        if let Some((_, kind_node, _)) = entries.iter().find(|(k, ..)| *k == "kind") {
            let Some(kind) = yaml::as_str(kind_node) else {
                self.error(yaml::pos(kind_node), "`kind` must be a string");
                return;
            };
            if !KINDS.contains(&kind) {
                // A flat document whose `kind` is a legacy type name is the most likely mistake.
                self.diags.push(
                    Diagnostic::new(yaml::pos(kind_node), format!("unknown kind `{kind}`"))
                        .with_hint(unknown_value_hint(kind, KINDS)),
                );
                return;
            }
            let Some(mut obj) = Obj::new(document, format!("this {kind}"), false, &mut self.diags) else { return };
            obj.ignore("kind");
            if obj.known_present("include") {
                if let Some((value, _)) = obj.take("include") {
                    self.include(value);
                }
            }
            let name = obj.string("name", &mut self.diags);
            if name.is_none() && kind != "group" && !obj.known_present("name") {
                self.diags.push(
                    Diagnostic::new(obj.pos, format!("this {kind} is missing the required field `name`"))
                        .with_hint("add `name: ...`"),
                );
                return;
            }
            if let Some(name) = &name {
                obj.what = format!("{kind} `{}`", name.value);
            }
            self.definition(kind, name, obj);
        } else {
            for (key, value, key_pos) in entries {
                if key == "include" {
                    self.include(value);
                    continue;
                }
                let Some(kind) = lookup(LEGACY_SECTIONS, key) else {
                    let names: Vec<&str> = LEGACY_SECTIONS.iter().map(|(k, _)| *k).chain(["include"]).collect();
                    let hint = match suggest(key, names.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "a document is either flat (with `kind:`, `name:` and `type:`) or a map of sections: sources, authServices, tools, toolsets, groups, prompts".to_string(),
                    };
                    self.diags.push(Diagnostic::new(key_pos, format!("unknown top-level key `{key}`")).with_hint(hint));
                    continue;
                };
                if yaml::is_null(value) {
                    continue;
                }
                let Some(items) = yaml::entries(value, &mut self.diags) else {
                    let hint = if yaml::as_seq(value).is_some() {
                        format!(
                            "key each definition by its name, as in `{key}: {{my_name: {{...}}}}`; a list of definitions with `name:` fields is the flat format instead: one `kind: {kind}` document each, separated by `---`"
                        )
                    } else {
                        format!("key each definition by its name, as in `{key}: {{my_name: {{...}}}}`")
                    };
                    self.diags.push(
                        Diagnostic::new(
                            yaml::pos(value),
                            format!(
                                "`{key}` must be a mapping of names to definitions, found {}",
                                yaml::describe(value)
                            ),
                        )
                        .with_hint(hint),
                    );
                    continue;
                };
                for (name, body, name_pos) in items {
                    let name = Spanned::new(name.to_string(), name_pos);
                    if kind == "toolset" && yaml::as_seq(body).is_some() {
                        let tools = string_list(body, &format!("toolset `{}`", name.value), &mut self.diags);
                        self.config.toolsets.push(Toolset {
                            name,
                            tools,
                            prompts: Vec::new(),
                            description: None,
                            ttl_ms: None,
                            cache_private: None,
                        });
                        continue;
                    }
                    let Some(obj) = Obj::new(body, format!("{kind} `{}`", name.value), true, &mut self.diags) else {
                        continue;
                    };
                    self.definition(kind, Some(name), obj);
                }
            }
        }
    }

    fn definition(&mut self, kind: &str, name: Option<Spanned<String>>, obj: Obj<'_>) {
        match (kind, name) {
            ("group", None) => self.default_group(obj),
            (_, None) => {}
            // A prebuilt set pointed at a source of the user's: its own is not defined.
            ("source", Some(_)) if self.source_override.is_some() => {}
            ("source", Some(name)) => self.source(name, obj),
            ("authService", Some(name)) => self.auth_service(name, obj),
            ("tool", Some(name)) => self.tool(name, obj),
            ("toolset", Some(name)) => self.toolset(name, obj, false),
            ("group", Some(name)) => self.toolset(name, obj, true),
            ("prompt", Some(name)) => self.prompt(name, obj),
            (_, Some(name)) => self.diags.push(
                Diagnostic::new(name.pos, format!("{kind} `{}`: embedding models are not supported", name.value))
                    .with_hint("remove this definition; parameters cannot use `embeddedBy` here"),
            ),
        }
    }

    fn default_group(&mut self, mut obj: Obj<'_>) {
        if let Some(first) = self.default_group_seen.replace(obj.pos) {
            self.diags.push(
                Diagnostic::new(obj.pos, "more than one default (nameless) group")
                    .with_hint(format!("merge it with the one at line {}", first.line)),
            );
        }
        obj.what = "the default group".into();
        if let Some(d) = obj.string("description", &mut self.diags) {
            self.config.instructions = Some(self.resolve_now(d).value);
        }
        obj.finish(&mut self.diags);
    }
}
