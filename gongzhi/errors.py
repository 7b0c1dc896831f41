"""Errors the core raises for the user to see. Each carries an i18n key and parameters so the
UI can say it in the user's language: message(lang) is Markdown (its parameters escaped, as
i18n.translate gives it), for st.error and the like; str() is the English plain text, for logs
and the CLI."""

from dataclasses import dataclass, field


class GongzhiError(Exception):
    key = "errors.generic"

    def __init__(self, key: str | None = None, **params):
        self.key = key or self.key
        self.params = params
        super().__init__(self.plain_message("en"))

    def plain_message(self, lang: str) -> str:
        """The message as plain text (no Markdown escapes), for files, logs and the CLI."""
        from gongzhi.i18n import plain_text

        with plain_text():
            return self.message(lang)

    def message(self, lang: str) -> str:
        from gongzhi.i18n import translate

        return translate(lang, self.key, **self.params)


@dataclass
class FieldError:
    field: str  # the form field's i18n key, e.g. "issues.field_title"
    key: str  # the reason's i18n key
    params: dict = field(default_factory=dict)


class ValidationError(GongzhiError):
    key = "errors.validation"

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__(self.key, count=len(errors))

    def messages(self, lang: str) -> list[str]:
        from gongzhi.i18n import translate

        return [
            translate(lang, "errors.field_message", field=translate(lang, e.field), reason=translate(lang, e.key, **e.params))
            for e in self.errors
        ]

    def message(self, lang: str) -> str:
        from gongzhi.i18n import translate

        if not hasattr(self, "errors"):
            return translate(lang, self.key, **self.params)
        return "; ".join(self.messages(lang))


class IllegalTransition(GongzhiError):
    """Params `current`, `target` and `allowed` (comma-separated) are state codes, shown as labels."""

    key = "errors.illegal_transition"

    def message(self, lang: str) -> str:
        from gongzhi.i18n import label, translate

        def name(code: str) -> str:
            if f"state.{code}" in _catalogue():
                return label(lang, "state", code)
            return translate(lang, f"errors.target_{code}") if f"errors.target_{code}" in _catalogue() else code

        allowed = [code for code in str(self.params.get("allowed", "")).split(", ") if code and code != "-"]
        separator = "、" if lang == "zh-CN" else ", "
        extra = {k: v for k, v in self.params.items() if k not in ("current", "target", "allowed")}
        return translate(lang, self.key, **extra, current=name(self.params.get("current", "")),
                         target=name(self.params.get("target", "")),
                         allowed=separator.join(map(name, allowed)) or translate(lang, "common.none"))


class NotFound(GongzhiError):
    key = "errors.not_found"


class Conflict(GongzhiError):
    """A save against a record someone else changed in the meantime."""

    key = "errors.conflict"


class PermissionDenied(GongzhiError):
    key = "errors.permission_denied"


def _catalogue():
    from gongzhi.i18n import catalogue

    return catalogue()
