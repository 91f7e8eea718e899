//! Where in the file: byte offsets turned into line and column, and the TOML parser's own
//! errors turned into located [`ConfigError`]s with the key they concern.

use super::ConfigError;

/// Turns byte offsets into line and column, 1-based.
pub(super) struct Locator<'a> {
    pub(super) file: &'a str,
    pub(super) text: &'a str,
}

impl Locator<'_> {
    pub(super) fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }

    pub(super) fn error(
        &self,
        offset: usize,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> ConfigError {
        let (line, column) = self.line_col(offset);
        ConfigError {
            file: self.file.to_owned(),
            line,
            column,
            key: key.into(),
            message: message.into(),
        }
    }

    /// A syntax or schema error from the TOML parser. Its key is the name left of `=` on the
    /// offending line, or the text the error points at (an unknown key points at the key).
    pub(super) fn toml_error(&self, e: &toml::de::Error) -> ConfigError {
        let span = e.span().unwrap_or(0..0);
        let mut start = span.start.min(self.text.len());
        let mut end = span.end.clamp(start, self.text.len());
        // Kind-specific monitor settings are a flattened struct, for which the parser can only
        // point at the whole table: find the unknown key inside it.
        if let Some(name) = e
            .message()
            .split('`')
            .nth(1)
            .filter(|_| e.message().starts_with("unknown field"))
        {
            // The span covers the table header; its keys follow until the next header.
            let table = &self.text[start..];
            let mut offset = 0;
            for (n, line) in table.split_inclusive('\n').enumerate() {
                let trimmed = line.trim_start();
                if n > 0 && trimmed.starts_with('[') {
                    break;
                }
                if trimmed
                    .strip_prefix(name)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
                {
                    start += offset + (line.len() - trimmed.len());
                    end = start + name.len();
                    break;
                }
                offset += line.len();
            }
        }
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        let line = &self.text[line_start..line_end];
        let pointed = self.text.get(start..end).unwrap_or("").trim();
        let key = match line.split_once('=') {
            Some((lhs, _)) if start - line_start > lhs.len() => lhs.trim().to_owned(),
            _ if !pointed.is_empty() && !pointed.contains('\n') => pointed
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            _ => line
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
        };
        self.error(start, key, e.message().trim().to_owned())
    }
}
