"""MkDocs hooks (``hooks:`` in mkdocs.yml) and a griffe extension for the docs site.

- Links from a docs page to a repository file outside ``docs/``
  (``[json](../benchmarks/results/x.json)``, ``../configs/cora.toml``) work on GitHub but have
  no page on the site: the hook checks that the file exists in the repository (a missing one is
  a warning, so ``mkdocs build --strict`` fails on it, as on a broken page link) and renders it
  as its repository path in code, without a link.
- Lists are read as GitHub reads them (Python-Markdown wants a blank line before a list and
  nested items indented by 4).
- Docstrings' Sphinx roles (``:func:`x```) link to the API reference where ``x`` is documented.
- :class:`ExampleSections` (mkdocs.yml: mkdocstrings' ``extensions``) reads a Google
  ``Example:`` section as ``Examples:``, so its ``>>>`` lines render as code.
"""

import logging
import re
from pathlib import Path

try:  # griffe comes with mkdocstrings (the docs extra); tests/test_repo.py imports this file bare
    import griffe
except ImportError:
    griffe = None

log = logging.getLogger("mkdocs.plugins.jgattr")
REPO = Path(__file__).resolve().parent
# [text](../path) or [text](../path#anchor), outside code spans; the text may hold backticks.
OUTSIDE_LINK = re.compile(r"\[([^\]\n]+)\]\((\.\./[^)\s#]+)(#[^)\s]*)?\)")
LIST_ITEM = re.compile(r" *([-*+]|\d+\.) ")


def _outside(match: re.Match, page_dir: Path, page: str) -> str:
    text, target = match.group(1), match.group(2)
    path = (page_dir / target).resolve()
    try:
        shown = path.relative_to(REPO).as_posix()
    except ValueError:
        log.warning("%s links to %s, outside the repository", page, target)
        return match.group(0)
    if not path.exists():
        log.warning("%s links to %s, which does not exist in the repository", page, shown)
    bare = text.strip("`")
    return f"`{shown}`" if bare in (shown, target) else f"{text} (`{shown}`)"


def _github_lists(markdown: str) -> str:
    """Lists as GitHub reads them, for Python-Markdown: a blank line before a list that follows
    a paragraph line, and nested items (indented by 2) indented by 4. Code blocks are kept."""
    out: list[str] = []
    fenced = listing = False
    for line in markdown.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            indent = len(line) - len(line.lstrip(" "))
            if LIST_ITEM.match(line) and indent == 0:
                if not listing and out and out[-1].strip():
                    out.append("")
                listing = True
            elif listing and line.strip() and indent == 0 and not out[-1].strip():
                listing = False
            elif listing and indent % 4 == 2:
                line = " " * (2 * indent) + line.lstrip(" ")
        out.append(line)
    return "\n".join(out)


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Each link to a repository file outside ``docs/`` as its path in code; lists as GitHub
    reads them."""
    page_dir = (Path(config["docs_dir"]) / page.file.src_path).parent
    markdown = OUTSIDE_LINK.sub(lambda m: _outside(m, page_dir, page.file.src_path), markdown)
    return _github_lists(markdown)


# A Sphinx role left in a docstring, as mkdocstrings renders it: :func:<code>~a.b.c</code>.
ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|exc|obj):<code>(~?)([\w.]+)</code>")


def _role(match: re.Match) -> str:
    short, name = match.group(1), match.group(2)
    shown = name.rsplit(".", 1)[-1] if short else name
    identifier = name.lstrip(".")
    return f'<autoref identifier="{identifier}" optional><code>{shown}</code></autoref>'


def on_page_content(html: str, page, config, files) -> str:
    """Docstrings' Sphinx roles (``:func:`x```) as links to the API reference where ``x`` is
    a documented object, as plain code otherwise."""
    return ROLE.sub(_role, html)


EXAMPLE = re.compile(r"^(\s*)Example:[ \t]*$", re.M)

if griffe is not None:

    class ExampleSections(griffe.Extension):
        """A Google ``Example:`` section as ``Examples:`` (griffe reads the singular as an
        admonition, whose ``>>>`` lines render as nested quotes)."""

        def on_instance(self, *, obj, **kwargs) -> None:
            """Rename the section before the docstring is parsed (parsing is lazy)."""
            if obj.docstring is not None:
                obj.docstring.value = EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
