"""Escaping of user text (paths, class names, module paths, dict keys) for generated files.

Every string the user controls reaches network.py, network.cpp, CMakeLists.txt and README.md
through one of these functions (the templates apply them as jinja filters, see ``FILTERS``):
the text keeps its meaning, and can never end a comment or a string, or start a line of code.
Characters that are not printable (line breaks of every kind, control characters, the lone
surrogates ``os.fsdecode`` makes of file-name bytes that are not UTF-8) are written as
backslash escapes, so every generated file encodes as UTF-8.
"""

import keyword
import re
import unicodedata


def _escaped(char):
    """A backslash escape for one unprintable character: ``\\n``, ``\\x0b``, ``\\u2028``, ``\\udcff``."""
    return repr(char)[1:-1]


def _printable(text, keep=""):
    """``text`` with non-printable characters as escapes; backslashes doubled unless in ``keep``."""
    out = []
    for char in text:
        if char == "\\" and "\\" not in keep:
            out.append("\\\\")
        elif char.isprintable():
            out.append(char)
        else:
            out.append(_escaped(char))
    return "".join(out)


# --------------------------------------------------------------------------- Python


def py_string(text):
    """A Python string literal (repr escapes quotes, backslashes and everything unprintable)."""
    return repr(str(text))


def py_docstring(text):
    """Text to place inside a ``\"\"\"`` docstring: no quote or backslash can end it."""
    return _printable(str(text)).replace('"', '\\"')


def py_comment(text):
    """Text to place after ``#``: a single line (every line break escaped)."""
    return _printable(str(text))


def is_attribute_name(name):
    """Can ``name`` be written as ``obj.name`` (an identifier, not a keyword, NFKC-stable)?"""
    return (
        isinstance(name, str)
        and name.isidentifier()
        and not keyword.iskeyword(name)
        and unicodedata.normalize("NFKC", name) == name
    )


def py_identifier(name):
    """``name`` unchanged when it is a plain identifier; anything else is a trtgen bug."""
    if not is_attribute_name(name):
        raise ValueError(f"{name!r} is not a Python identifier")
    return name


# --------------------------------------------------------------------------- C++

_CPP_NAMED = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def _utf8(text):
    """Bytes of ``text``; lone surrogates from ``os.fsdecode`` become the file name's bytes."""
    return text.encode(
        "utf-8", "surrogateescape" if _only_escaped_surrogates(text) else "surrogatepass"
    )


def _only_escaped_surrogates(text):
    return all(not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF for c in text)


def cpp_string(text):
    """A C++ string literal of ``text`` (UTF-8): quotes, backslashes, ``?`` (no trigraph can
    form) and everything unprintable escaped; octal escapes for bytes, ``\\u`` for characters."""
    out = []
    for char in str(text):
        code = ord(char)
        if char in _CPP_NAMED:
            out.append(_CPP_NAMED[char])
        elif char == "?":
            out.append("\\?" if out and out[-1] in ("?", "\\?") else "?")
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif 0xD800 <= code <= 0xDFFF or (code < 0xA0 or not char.isprintable()) and code < 0x100:
            out.extend(f"\\{byte:03o}" for byte in _utf8(char))  # 3-digit octal: never greedy
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def cpp_comment(text):
    """Text to place after ``//``: one line, no trigraph, never ending in a backslash (which
    would continue the comment onto the next line)."""
    text = str(text)
    # a backslash where a (wrapped) line could end is written \x5c, never a bare backslash
    parts = [
        "\\x5c" if c == "\\" and text[i + 1 : i + 2] in ("", " ") else _printable(c)
        for i, c in enumerate(text)
    ]
    return re.sub(r"(?<=\?)\?", r"\\?", "".join(parts))


def cpp_identifier(name, fallback="t"):
    """An ASCII C++ identifier made from ``name`` (``layer1.0`` → ``layer1_0``)."""
    name = re.sub(r"\W", "_", str(name), flags=re.ASCII)
    return name if name.strip("_") else fallback


# --------------------------------------------------------------------------- CMake


def cmake_identifier(name, fallback="network"):
    """A CMake project / target name: ASCII letters, digits and underscores."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", str(name)).strip("_")
    return name or fallback


def cmake_comment(text):
    """Text to place inside a ``# ...`` line of CMakeLists.txt (not first): one line."""
    return _printable(str(text))


# --------------------------------------------------------------------------- Markdown


def md_code(text):
    """An inline code span of ``text``, safe in a table cell: one line, pipes escaped, fenced
    with more backticks than any run inside."""
    text = _printable(str(text), keep="\\").replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_text(text):
    """Plain Markdown text (a heading): one line, Markdown and HTML punctuation escaped."""
    text = _printable(str(text), keep="\\")
    return re.sub(r"([\\`*_{}\[\]<>()#+!|~])", r"\\\1", text)


# --------------------------------------------------------------------------- jinja

FILTERS = {
    "py_string": py_string,
    "py_docstring": py_docstring,
    "py_comment": py_comment,
    "py_identifier": py_identifier,
    "cpp_string": cpp_string,
    "cpp_comment": cpp_comment,
    "cpp_identifier": cpp_identifier,
    "cmake_identifier": cmake_identifier,
    "cmake_comment": cmake_comment,
    "md_code": md_code,
    "md_text": md_text,
}
