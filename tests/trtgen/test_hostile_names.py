"""User text (the model's path, class names, ModuleDict keys, output keys, docstrings) reaches
the generated files only escaped: nothing in it runs, nothing in it changes their structure."""

import ast
import io
import json
import os
import re
import shutil
import subprocess
import tokenize

import pytest

from cli_helpers import TINY_MODEL, run_trtgen
from cpp_helpers import cuda_include_dir, tensorrt_include_dir
from trtgen.emit import escape
from trtgen.commands.check import check
from trtgen.commands.cli import main
from trtgen.emit.cpp.render import SUPPORT_DIR
from trtgen.emit.render import builtin_template_dir, format_python

MARKER_ENV = "TRTGEN_TEST_MARKER"
# code that creates the marker file if it ever runs, closing a """ or ''' string around it
RUN = f'str(open(getattr(__import__("os"), "environ")["{MARKER_ENV}"], "w"))'  # no "." (ModuleDict keys)
PY_ESCAPE = f'"""+{RUN}+"""'
PY_ESCAPE_SINGLE = f"'''+{RUN}+'''"
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
CPP_ESCAPE = "*/ \n#include <x>\n/* ??/"
CMAKE_ESCAPE = "${x}; $(touch pwned) \\"
FRAGMENTS = ("#include <x>", "touch pwned", "${x}", "??/")  # text that must stay inert

# path components (no "/"): every kind of quote, backslash, line break and shell syntax
DIRS = [
    PY_ESCAPE,
    f"a{PY_ESCAPE_SINGLE}b\\c {CMAKE_ESCAPE}#include <x>{LINE_BREAKS}x*",
    "*/*d\\",  # with its neighbours: "x*/*/*d\\/": comment ends and starts, a trailing backslash
]
NON_UTF8_DIR = b"\xff\xfe-\xc3"  # a Linux file name that is not UTF-8
FILE_NAME = "m\n#include <y> \"'.py"

# ModuleDict keys: torch.fx cannot trace names holding ", \\, \\n or \\r (trtgen refuses them)
KEYS = [
    PY_ESCAPE_SINGLE.replace('"', "'"),
    "*/ #include <x> /* ??/",
    "c\x0b\x0c\x1c\x85\u2028\u2029 '",
    "${x}; $(touch pwned)|`",
]
OUTPUTS = [f"out{PY_ESCAPE}", f"o{CPP_ESCAPE}\\", f"|{CMAKE_ESCAPE}`x` \u2028"]
HEAD_NAME = f"Head{PY_ESCAPE}\n#include <x>"
ROOT_NAME = f"Net{PY_ESCAPE_SINGLE}*/\\"

MODEL = f'''
import torch
from torch import nn

KEYS = {KEYS!r}
OUTPUTS = {OUTPUTS!r}


class Head(nn.Module):
    {PY_ESCAPE!r}

    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleDict({{k: nn.Linear(4, 4) for k in KEYS}})

    def forward(self, x):
        for k in KEYS:
            x = torch.relu(self.heads[k](x))
        return x


class Net(nn.Module):
    """{CPP_ESCAPE} {PY_ESCAPE_SINGLE!r}"""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = Head()

    def forward(self, x):
        y = self.head(torch.relu(self.conv(x)).mean((2, 3)))
        return {{OUTPUTS[0]: y, OUTPUTS[1]: y * 2, OUTPUTS[2]: y - 1}}


Head.__name__ = Head.__qualname__ = {HEAD_NAME!r}
Net.__name__ = Net.__qualname__ = {ROOT_NAME!r}


def get_model():
    torch.manual_seed(0)
    return Net().eval()


def get_example_inputs():
    torch.manual_seed(1)
    return (torch.randn(1, 3, 8, 8),)
'''


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """(model path as a str, OUT, marker path): the model generated for python and cpp."""
    root = tmp_path_factory.mktemp("hostile")
    marker = root / "injected-code-ran"
    folder = os.path.join(os.fsencode(root), *map(os.fsencode, DIRS), NON_UTF8_DIR)
    os.makedirs(folder)
    fd = os.open(os.path.join(folder, os.fsencode(FILE_NAME)), os.O_WRONLY | os.O_CREAT, 0o644)
    with os.fdopen(fd, "w") as f:
        f.write(MODEL)
    model = os.fsdecode(os.path.join(folder, os.fsencode(FILE_NAME)))
    out = root / "out"
    previous = os.environ.get(MARKER_ENV)
    os.environ[MARKER_ENV] = str(marker)
    try:
        status = main([model, "-o", str(out), "--lang", "python,cpp"])
    finally:
        if previous is None:
            del os.environ[MARKER_ENV]
        else:
            os.environ[MARKER_ENV] = previous
    assert not marker.exists(), "text from the model's path or names ran as code"
    assert status == 0
    return model, out, marker


def _read(out, name):
    with open(out / name, encoding="utf-8") as f:
        return f.read()


def test_no_injected_code_runs(hostile):
    model, out, marker = hostile
    assert "\udcff" in model and PY_ESCAPE in model and "\n" in model
    assert not marker.exists()
    # importing network.py and building from it (trtgen check) runs nothing either
    os.environ[MARKER_ENV] = str(marker)
    try:
        lines = []
        assert check(str(out), log=lines.append), "\n".join(lines)
    finally:
        del os.environ[MARKER_ENV]
    assert not marker.exists()


def test_network_py_holds_user_text_only_escaped(hostile):
    model, out, _ = hostile
    text = _read(out, "network.py")
    tree = ast.parse(text)
    docstring = ast.get_docstring(tree, clean=False)
    assert f"from {model}:get_model." in docstring  # the exact path, surrogates included
    first_line = text.splitlines()[0]
    assert first_line.startswith('"""') and first_line.count('"""') == 1
    assert not any(char in first_line for char in LINE_BREAKS)
    # the module holds only what the template writes: no statement came from user text
    kinds = {type(node).__name__ for node in tree.body}
    assert kinds <= {"Expr", "Import", "ImportFrom", "Assign", "ClassDef", "FunctionDef", "If"}
    assert sum(isinstance(node, ast.Expr) for node in tree.body) == 1  # the docstring
    classes = {
        node.name: ast.get_docstring(node) for node in tree.body if isinstance(node, ast.ClassDef)
    }
    assert all(name.isidentifier() and name.isascii() for name in classes)
    documented = "\n".join(classes.values())
    module = "m__include__y____"  # the module name made of the file name: an identifier
    assert (
        f"PyTorch: {module}.{HEAD_NAME}" in documented
        and f"PyTorch: {module}.{ROOT_NAME}" in documented
    )
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            assert not any(fragment in token.string for fragment in FRAGMENTS)
    strings = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert set(KEYS) <= strings and set(OUTPUTS) <= strings
    assert format_python(text) == text  # black-clean


def _cpp_code(text):
    """(code with comments and string literals blanked, [decoded string literals])."""
    code, literals, i = [], [], 0
    while i < len(text):
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
            code.append(" ")
        elif text[i] == '"':
            match = re.compile(r'"((?:\\.|[^"\\\n])*)"').match(text, i)
            assert match, f"unterminated string literal at {text[i:i + 40]!r}"
            literals.append(_decode_cpp(match.group(1)))
            code.append('""')
            i = match.end()
        else:
            code.append(text[i])
            i += 1
    return "".join(code), literals


def _decode_cpp(body):
    named = {
        "n": b"\n",
        "r": b"\r",
        "t": b"\t",
        "b": b"\b",
        "f": b"\f",
        "\\": b"\\",
        '"': b'"',
        "?": b"?",
    }
    out, i = bytearray(), 0
    while i < len(body):
        if body[i] != "\\":
            out += body[i].encode()
            i += 1
        elif body[i + 1] in named:
            out += named[body[i + 1]]
            i += 2
        elif body[i + 1] in "uU":
            size = 4 if body[i + 1] == "u" else 8
            out += chr(int(body[i + 2 : i + 2 + size], 16)).encode()
            i += 2 + size
        else:
            assert re.fullmatch("[0-7]{3}", body[i + 1 : i + 4]), body[i:]
            out.append(int(body[i + 1 : i + 4], 8))
            i += 4
    return out.decode("utf-8", "surrogateescape")


def test_network_cpp_structure_is_unaffected(hostile):
    model, out, _ = hostile
    text = _read(out, "network.cpp")
    lines = text.splitlines()
    assert len(text.split("\n")) == len(lines) + 1  # no other line breaks (\x0b, \u2028, ...)
    assert not any(line.rstrip().endswith("\\") for line in lines)  # no comment continues
    assert [line for line in lines if line.lstrip().startswith("#")] == [
        '#include "trtgen_builder.h"',
        '#include "trtgen_describe.h"',
        '#include "trtgen_main.h"',
    ]
    assert "??" not in text  # no trigraph
    code, literals = _cpp_code(text)
    assert not any(fragment in code for fragment in FRAGMENTS)
    for line in lines:  # user text sits in a comment or a string literal
        if any(fragment in line for fragment in FRAGMENTS):
            assert line.lstrip().startswith("//") or '"' in line, line
    header = " ".join(line[3:] for line in lines[: lines.index("//")])  # clang-format wraps it
    assert lines[0].startswith("// ") and header.endswith(":get_model.")
    assert set(OUTPUTS) <= set(literals)  # output names, exact
    assert any(KEYS[2] in literal for literal in literals)  # weight keys and layer names
    assert code.count("{") == code.count("}")


def test_network_cpp_compiles(hostile, tmp_path):
    _, out, _ = hostile
    include, cuda = tensorrt_include_dir(), cuda_include_dir()
    compiler = shutil.which("c++")
    if include is None or cuda is None or compiler is None:
        pytest.skip(
            "TensorRT C++ headers (TENSORRT_INCLUDE_DIR), CUDA runtime headers and c++ needed"
        )
    result = subprocess.run(
        [
            compiler,
            "-std=c++17",
            "-fsyntax-only",
            "-Wall",
            "-Wextra",
            "-Werror=trigraphs",
            f"-I{out}",
            f"-I{SUPPORT_DIR}",
            "-isystem",
            include,
            "-isystem",
            cuda,
            str(out / "network.cpp"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_cmakelists_is_intact(hostile):
    _, out, _ = hostile
    text = _read(out, "CMakeLists.txt")
    template = os.path.join(builtin_template_dir(), "CMakeLists.txt.j2")
    with open(template) as f:
        assert len(text.splitlines()) == len(f.read().splitlines())
    assert re.search(r"^project\([A-Za-z0-9_]+ LANGUAGES CXX\)$", text, re.MULTILINE)
    assert not any(fragment in text for fragment in FRAGMENTS)
    assert "add_executable(build_engine network.cpp)" in text


def test_readme_and_manifest(hostile):
    model, out, _ = hostile
    readme = _read(out, "README.md")
    assert not any(char in readme for char in LINE_BREAKS.replace("\n", ""))
    rows = [line for line in readme.splitlines() if line.startswith("|")]
    cells = [len(re.findall(r"(?<!\\)\|", row)) for row in rows]
    assert cells == [4, 4, 4, 3, 3] + [3] * len(OUTPUTS)  # no pipe or line break split a row
    source = next(line for line in readme.splitlines() if line.startswith("Source: "))
    assert source.endswith(", captured with symbolic_trace.")
    manifest = json.loads(_read(out, "trtgen.json"))
    assert manifest["source"] == model
    assert [o["name"] for o in manifest["outputs"]] == OUTPUTS


@pytest.mark.parametrize(
    "text",
    [
        PY_ESCAPE,
        PY_ESCAPE_SINGLE,
        "a\\",
        '"',
        '\\"""',
        LINE_BREAKS,
        "\udcff\udc80",
        '??/ ??= "x"',
        "\x00\x7f\x9f é 😀 \u2028",
    ],
)
def test_escapes_round_trip(text):
    assert ast.literal_eval('"""' + escape.py_docstring(text) + '"""') == text
    assert ast.literal_eval(escape.py_string(text)) == text
    assert _decode_cpp(escape.cpp_string(text)[1:-1]) == text
    for one_line in (
        escape.py_comment(text),
        escape.cpp_comment(text),
        escape.cmake_comment(text),
        escape.md_code(text),
    ):
        assert len(one_line.splitlines()) <= 1 and one_line.isprintable(), one_line
    assert not escape.cpp_comment(text).endswith("\\") and "??" not in escape.cpp_comment(text)
    assert "??" not in escape.cpp_string(text)
    for generated in (escape.py_docstring(text), escape.cpp_string(text), escape.md_code(text)):
        generated.encode("utf-8")  # every generated file is UTF-8
    assert re.fullmatch(r"[A-Za-z0-9_]+", escape.cmake_identifier(text))


def test_module_names_torch_fx_cannot_trace_are_refused(tmp_path, capsys, monkeypatch):
    marker = tmp_path / "injected-code-ran"
    monkeypatch.setenv(MARKER_ENV, str(marker))
    model = tmp_path / "model.py"
    # torch.fx would write this key into its generated code as getattr(self.heads, "<key>")
    model.write_text(MODEL.replace("KEYS = [", "KEYS = [" + repr('"+' + RUN + '+"') + ", "))
    status = main([str(model), "-o", str(tmp_path / "out")])
    assert not marker.exists(), "a module name ran as code"
    assert status == 2 and "torch.fx cannot trace" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_command_line_with_a_file_name_that_is_not_utf8(tmp_path):
    fd = os.open(
        os.path.join(os.fsencode(tmp_path), b"net\xff\n.py"), os.O_WRONLY | os.O_CREAT, 0o644
    )
    with os.fdopen(fd, "w") as f:
        f.write(TINY_MODEL)
    result = run_trtgen(os.fsdecode(b"net\xff\n.py"), cwd=tmp_path)  # OUT: generated/net\xff\n
    assert result.returncode == 0, result.stderr
    assert "wrote generated/net\\xff\n/" in result.stdout
    out = os.path.join(os.fsencode(tmp_path), b"generated", b"net\xff\n")
    with open(os.path.join(out, b"network.py"), encoding="utf-8") as f:
        assert f.readline().endswith(" from net\\udcff\\n.py:get_model.\n")
