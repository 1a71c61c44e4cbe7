"""Emit plan → source text through the jinja2 templates, then black."""

import contextlib
import os

import black
import jinja2

from .. import __version__
from ..errors import TrtgenError
from ..plan.pysource import legal_name
from ..plan.rules import helper_rules, helper_source
from .escape import FILTERS


def builtin_template_dir():
    """``templates/`` of a source checkout, else the copy installed as package data
    (``trtgen/templates/``, see pyproject.toml)."""
    trtgen_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    checkout = os.path.join(os.path.dirname(trtgen_dir), "templates")
    if os.path.isdir(checkout):
        return checkout
    return os.path.join(trtgen_dir, "templates")


@contextlib.contextmanager
def user_templates(template_dir):
    """Rendering failures under ``--templates DIR`` (a jinja error, Python black cannot parse)
    are the user's templates' to fix: one error line naming the file and line."""
    try:
        yield
    except (jinja2.TemplateError, black.InvalidInput) as err:
        if not template_dir:
            raise
        where = f" at {err.filename}:{err.lineno}" if getattr(err, "filename", None) else ""
        message = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise TrtgenError(
            f"--templates {template_dir}: rendering failed{where}: {type(err).__name__}: {message}"
        ) from None


def _environment(template_dir=None):
    # a user directory overrides single templates; the rest come from the built-in set
    if template_dir and not os.path.isdir(template_dir):
        raise TrtgenError(
            f"--templates {template_dir}: not a folder; give a folder of *.j2 templates"
        )
    search = ([template_dir] if template_dir else []) + [builtin_template_dir()]
    loader = jinja2.FileSystemLoader(search)
    env = jinja2.Environment(
        loader=loader,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(FILTERS)  # every piece of user text goes through one of these (escape.py)
    return env


def format_python(source):
    return black.format_str(source, mode=black.Mode(line_length=100))


def render_python(plan, io, source, template_dir=None, precision=None, quant=None):
    """``network.py`` text for ``plan``; ``io`` is the network's ``IOSpec``; ``precision`` a
    ``trtgen.emit.precision.Precision`` (FP32 when None); ``quant``: "int8" / "fp8" when the network
    is quantized (its scales load from quant.safetensors)."""
    classes = [
        dict(
            name=c.name,
            base=c.base,
            torch_class=c.torch_class,
            count=len(c.instances),
            params=[n if d is None else f"{n}={d}" for n, d in c.params],
            init_lines=c.init_lines,
            super_args=c.super_args,
            forward_params=c.forward_params,
            forward_lines=c.forward_lines,
        )
        for c in plan.classes
    ]
    text = (
        _environment(template_dir)
        .get_template("network.py.j2")
        .render(
            title=plan.root.name,
            version=__version__,
            source=source,
            classes=classes,
            uses_collections=any(
                "collections." in line
                for c in plan.classes
                for line in c.init_lines + [c.super_args]
            ),
            inputs=io.inputs_source(),
            profiles=io.profiles(),
            inputs_bound=list(zip(io.input_names, input_variables(io.input_names))),
            root_ctor=plan.root_ctor,
            outputs=io.outputs,
            helpers=[
                helper_source(rule) for rule in helper_rules() if _calls(plan, rule.render.__name__)
            ],
            placeholders=plan.placeholders,
            precision=(
                precision.template_context(io, input_variables(io.input_names))
                if precision
                else None
            ),
            quant=quant,
        )
    )
    return format_python(text)


# the local names of build_network that input variables must not shadow
BUILD_NETWORK_LOCALS = ("network", "weights", "scales", "model", "outputs", "builder")


def input_variables(input_names):
    """The variable holding each network input in ``build_network``: the input's own name
    where that shadows nothing (``input`` → ``input_``, ``network`` → ``network_``)."""
    taken, variables = set(BUILD_NETWORK_LOCALS), []
    for name in input_names:
        variable = legal_name(name, taken)
        taken.add(variable)
        variables.append(variable)
    return variables


def _calls(plan, function_name):
    return any(f"{function_name}(" in line for c in plan.classes for line in c.forward_lines)


def render_text(name, template_dir=None, **context):
    return _environment(template_dir).get_template(name).render(**context)
