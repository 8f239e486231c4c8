"""The template environment: a sandboxed, autoescaping Jinja2 environment compiled at startup.

Search path: the shop owner's ``settings.templates_dir`` first (a file of the same name wins),
then the built-in templates. Every template is compiled by :meth:`ContentRenderer.load`, so a
syntax error stops the start with its file and line instead of failing on the first order.
Templates only ever come from files: data is passed *into* them, never compiled.
"""

from __future__ import annotations

import hashlib
import os
import threading
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
)
from jinja2.sandbox import SandboxedEnvironment

from aftersale_kit.core.blocks import BLOCKS
from aftersale_kit.core.campaign import ShopConfig, ShowBlock
from aftersale_kit.core.errors import ConfigProblem

from .errors import ContentError, TemplateLoadError, TemplateRenderError
from .loyalty_blocks import loyalty_problems
from .params import param_problems

__all__ = ["EMAIL_HTML", "EMAIL_TEXT", "PAGE", "ContentRenderer", "builtin_templates_dir"]

PAGE = "page/thank_you.html.j2"
STYLESHEET = "page/style.css"
EMAIL_HTML = "email/fragment.html.j2"
EMAIL_TEXT = "email/fragment.txt.j2"
_SUFFIXES = (".j2", ".css")


def block_template(name: str) -> str:
    return f"blocks/{name}.html.j2"


def required_templates() -> tuple[str, ...]:
    return (*(block_template(name) for name in BLOCKS), EMAIL_HTML, EMAIL_TEXT, PAGE, STYLESHEET)


def builtin_templates_dir() -> Path:
    """The templates shipped with the package (``aftersale_kit/_templates`` in a wheel), or the
    repository's ``templates/`` folder in a development checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_templates", package.parent / "templates"):
        if (candidate / "blocks").is_dir():
            return candidate
    raise TemplateLoadError(
        "the built-in templates are missing; reinstall aftersale-kit", file=str(package)
    )


_T = TypeVar("_T")

#: Compiled renderers by search path and fingerprint, while some shop uses them.
_SHARED: weakref.WeakValueDictionary[tuple[tuple[Path, ...], str], ContentRenderer] = (
    weakref.WeakValueDictionary()
)
_SHARED_LOCK = threading.Lock()


def _fingerprint(search: list[Path]) -> str:
    """A digest of the names and contents of every file in the search path."""
    digest = hashlib.sha256()
    for folder in search:
        digest.update(f"\0{folder}\0".encode())
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(f"{path.relative_to(folder).as_posix()}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _autoescape(name: str | None) -> bool:
    # HTML is escaped; the plain-text e-mail and the stylesheet are not HTML.
    return name is None or not name.endswith((".txt.j2", ".css"))


class ContentRenderer:
    """Compiled templates plus the search path they came from. Build with :meth:`load`."""

    def __init__(self, env: SandboxedEnvironment, search_path: tuple[Path, ...]) -> None:
        self._env = env
        self.search_path = search_path
        self._files = {str(p) for d in search_path for p in d.rglob("*") if p.is_file()}

    @classmethod
    def load(
        cls,
        *,
        templates_dir: str | os.PathLike[str] | None = None,
        base_dir: str | os.PathLike[str] | None = None,
    ) -> ContentRenderer:
        """Compile every template. ``templates_dir`` (the shop's own) wins over the built-ins; a
        relative one is resolved against ``base_dir`` (the config file's folder).

        Shops whose search path holds the same files (names and contents) share one compiled
        renderer (compiling takes a good part of a second; a service with many shops on the
        built-in templates compiles them once). A changed file gives a new fingerprint, so a
        renderer loaded after the change compiles anew; one in use keeps what it compiled."""
        search: list[Path] = []
        if templates_dir is not None:
            own = Path(templates_dir)
            if not own.is_absolute():
                own = Path(base_dir if base_dir is not None else Path.cwd()) / own
            if not own.is_dir():
                raise TemplateLoadError(
                    "settings.templates_dir: the folder does not exist; create it or remove the "
                    "setting",
                    file=str(own),
                )
            search.append(own.resolve())
        search.append(builtin_templates_dir())
        key = (tuple(search), _fingerprint(search))
        with _SHARED_LOCK:
            found = _SHARED.get(key)
        if found is not None:
            return found
        renderer = cls._compiled(tuple(search))
        with _SHARED_LOCK:
            return _SHARED.setdefault(key, renderer)

    @classmethod
    def _compiled(cls, search: tuple[Path, ...]) -> ContentRenderer:
        env = SandboxedEnvironment(
            loader=ChoiceLoader([FileSystemLoader(str(d)) for d in search]),
            autoescape=_autoescape,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
            cache_size=-1,
        )
        renderer = cls(env, search)
        renderer._compile_all()
        return renderer

    @classmethod
    def for_config(
        cls, config: ShopConfig, *, base_dir: str | os.PathLike[str] | None = None
    ) -> ContentRenderer:
        """:meth:`load` with the shop's ``templates_dir``, relative to the config file's folder."""
        if base_dir is None and config.source and not config.source.startswith("<"):
            base_dir = Path(config.source).resolve().parent
        return cls.load(templates_dir=config.settings.templates_dir, base_dir=base_dir)

    def _compile_all(self) -> None:
        names: set[str] = set()
        for folder in self.search_path:
            for path in folder.rglob("*"):
                if path.is_file() and path.name.endswith(_SUFFIXES):
                    names.add(path.relative_to(folder).as_posix())
        for name in sorted(names):
            try:
                self._env.get_template(name)
            except TemplateSyntaxError as exc:
                raise TemplateLoadError(
                    exc.message or "syntax error",
                    file=exc.filename or self.origin(name),
                    line=exc.lineno,
                ) from exc
            except UnicodeDecodeError as exc:
                raise TemplateLoadError(
                    f"not UTF-8 text ({exc.reason})", file=self.origin(name)
                ) from exc
        missing = [name for name in required_templates() if name not in names]
        if missing:
            raise TemplateLoadError(
                f"missing templates: {', '.join(missing)}", file=str(self.search_path[-1])
            )

    def origin(self, name: str) -> str:
        """The file a template name resolves to (the shop's own when it has one)."""
        for folder in self.search_path:
            candidate = folder / name
            if candidate.is_file():
                return str(candidate)
        return name

    def has_template(self, name: str) -> bool:
        """Whether ``name`` is one of the compiled templates (the shop's or built in)."""
        return any(str(folder / name) in self._files for folder in self.search_path)

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        """Render a compiled template; any failure becomes :class:`TemplateRenderError`."""
        return self._rendered(name, lambda template: template.render(context))

    def render_module(self, name: str, context: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """Render a compiled template: the text and what it sets at its top level
        (``{% set subject = "..." %}``: a shop's own follow-up e-mail names its subject so)."""

        def produce(template: Template) -> tuple[str, dict[str, Any]]:
            try:
                module = template.make_module(dict(context))
            except Exception:
                # as Template.render does: the traceback's frames become template lines
                self._env.handle_exception()
            exported = {k: getattr(module, k) for k in dir(module) if not k.startswith("_")}
            return str(module), exported

        return self._rendered(name, produce)

    def _rendered(self, name: str, produce: Callable[[Template], _T]) -> _T:
        """``produce`` on the compiled ``name``; any failure as :class:`TemplateRenderError`
        with the template's file and line."""
        try:
            return produce(self._env.get_template(name))
        except TemplateNotFound as exc:
            raise TemplateRenderError("template not found", template=name, file=None) from exc
        except TemplateError as exc:
            file, line = self._template_frame(exc.__traceback__)
            raise TemplateRenderError(
                exc.message or type(exc).__name__,
                template=name,
                file=file or self.origin(name),
                line=line,
            ) from exc

    def _template_frame(self, tb: TracebackType | None) -> tuple[str | None, int]:
        """The innermost traceback frame that is a template line (Jinja rewrites them so)."""
        found: tuple[str | None, int] = (None, 0)
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if filename in self._files:
                found = (filename, tb.tb_lineno)
            tb = tb.tb_next
        return found

    def check(self, config: ShopConfig) -> None:
        """Raise :class:`ContentError` listing every ``show_block`` value of the wrong shape."""
        problems: list[str] = []
        for campaign in config.campaigns:
            for index, action in enumerate(campaign.actions):
                if not isinstance(action, ShowBlock):
                    continue
                found = param_problems(action.params) + loyalty_problems(config, action)
                for param, message in found:
                    path = f"campaigns[{campaign.id}].actions[{index}]"
                    path = f"{path}.{param}" if param else path
                    span = campaign.source
                    if span is not None:
                        problems.append(
                            str(ConfigProblem(span.file, span.line, span.column, path, message))
                        )
                    else:
                        problems.append(f"{path}: {message}")
        if problems:
            raise ContentError("\n".join(problems))
