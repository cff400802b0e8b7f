//! `kind: prompt`: messages with `{{.name}}` references to its arguments.

use super::Reader;
use super::obj::Obj;
use super::param::ParamPlace;
use crate::diag::{Diagnostic, Spanned};
use crate::model::*;
use crate::yaml;

impl Reader<'_> {
    pub(super) fn prompt(&mut self, name: Spanned<String>, mut obj: Obj<'_>) {
        if let Some(ty) = obj.string("type", &mut self.diags)
            && ty.value != "custom"
        {
            self.diags.push(
                Diagnostic::new(ty.pos, format!("unknown prompt type `{}`", ty.value))
                    .with_hint("use `custom`, or leave `type` out"),
            );
        }
        let description =
            obj.string("description", &mut self.diags).map(|d| self.resolve_now(d).value).unwrap_or_default();
        let what = obj.what.clone();
        let mut messages = Vec::new();
        match obj.take("messages") {
            Some((node, _)) => match yaml::as_seq(node) {
                Some(items) => {
                    for item in items {
                        let Some(mut m) = Obj::new(item, format!("a message of {what}"), false, &mut self.diags) else {
                            continue;
                        };
                        let role =
                            m.string("role", &mut self.diags).unwrap_or_else(|| Spanned::new("user".into(), m.pos));
                        let content = m.required_string("content", &mut self.diags);
                        m.finish(&mut self.diags);
                        if !matches!(role.value.as_str(), "user" | "assistant") {
                            self.diags.push(
                                Diagnostic::new(role.pos, format!("unknown message role `{}` in {what}", role.value))
                                    .with_hint("use `user` or `assistant`"),
                            );
                        }
                        if let Some(content) = content {
                            messages.push(PromptMessage { role: role.value, content });
                        }
                    }
                }
                None => self.error(yaml::pos(node), format!("`messages` of {what} must be a list")),
            },
            None => self.diags.push(
                Diagnostic::new(obj.pos, format!("{what} is missing the required field `messages`"))
                    .with_hint("add `messages:` with at least one `{role, content}`"),
            ),
        }
        let arguments = match obj.take("arguments") {
            Some((node, _)) => match yaml::as_seq(node) {
                Some(items) => items
                    .iter()
                    .filter_map(|i| {
                        self.param(i, &what, false, ParamPlace { template: false, item: false, prompt: true })
                    })
                    .collect(),
                None => {
                    self.error(yaml::pos(node), format!("`arguments` of {what} must be a list"));
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        obj.finish(&mut self.diags);
        self.config.prompts.push(Prompt { name, description, title: None, messages, arguments });
    }
}
