"""The science-module contract: one small abstract base class, checked at class creation.

A science module is a pure function of a batch of canonical alerts (an Arrow table) to
new columns. It knows nothing of Spark: the runner calls it in tests, notebooks, the
stream and batch reprocessing alike.

Examples
--------
>>> import pyarrow as pa
>>> class Brightness(ScienceModule):
...     name = "brightness"
...     version = "1.0"
...     inputs = ("mag",)
...     outputs = {"bright": pa.bool_()}
...     class Params(ModuleParams):
...         limit: float = 18.0
...     def load(self, params):
...         self.limit = params.limit
...     def process(self, batch):
...         return {"bright": [m is not None and m < self.limit for m in batch["mag"].to_pylist()]}
>>> module = Brightness()
>>> module.load({})
>>> module.process(pa.table({"mag": [17.0, 19.5]}))
{'bright': [True, False]}
>>> module.load({"limt": 19})
Traceback (most recent call last):
...
fink_like.errors.PluginError: science module 'brightness': unknown parameter 'limt'; known: limit
"""

from __future__ import annotations

import abc
import functools
import hashlib
import inspect
import json
import re
from pathlib import Path
from typing import Any, ClassVar, Iterable, Mapping

import numpy as np
import pyarrow as pa

from fink_like.errors import PluginError
from fink_like.science.params import ModuleParams, hashed_params, parse_params
from fink_like.surveys.canonical import CANONICAL_COLUMNS

NAME_RE = re.compile(r"^[a-z0-9_]+$")
"""Module names and output column names: lower-case letters, digits and underscores."""

ModuleOutput = Mapping[str, "pa.Array | pa.ChunkedArray | np.ndarray | list"]


class ScienceModule(abc.ABC):
    """A science module: declared inputs, typed outputs, a model loaded once per process.

    Class attributes (checked when the class is created, so a broken plugin fails at
    import time, not at the first alert):

    name : str
        Stable identifier, ``[a-z0-9_]+``; it is the entry-point name users configure.
    version : str
        Non-empty version of the module's science (bump it when results change).
    inputs : tuple of str
        Canonical columns (``fink_like.surveys.canonical``) that ``process`` reads. The
        runner hands ``process`` exactly these columns, nothing else.
    outputs : dict of str to pyarrow.DataType
        The columns ``process`` returns and their types. Modules whose columns depend
        on their parameters override :meth:`output_types` instead (see ``xmatch``).
    Params : subclass of :class:`~fink_like.science.params.ModuleParams`, optional
        The typed parameters (pydantic; unknown keys are refused). :meth:`load` receives
        an instance, whatever its caller passed (a mapping is validated first), so a typo
        fails when the module loads, with an error naming the key and the module. Fields
        declared with :func:`~fink_like.science.params.not_in_hash` are left out of
        :attr:`model_hash`; every other field is folded into it. Default: no parameters.
    preload : tuple of str, optional
        Python modules that :meth:`load` or :meth:`process` import (``torch``,
        ``sklearn.ensemble``). Spark's worker daemon imports them once before forking
        workers (:mod:`fink_like.jobs.daemon`), so no worker pays for them at a batch.
    probability : str or None, optional
        The output column that holds a calibrated probability of :attr:`positive`
        (``fink-like modules evaluate`` scores it); ``None`` (default) for a module
        without one.
    thresholds : tuple of float, optional
        Operating thresholds on :attr:`probability` that topics use, each in [0, 1].
    positive : tuple of str, optional
        Class names (prefixes, compared without case, spaces or dashes) that
        :attr:`probability` is the probability of: ``("SN Ia",)`` also covers ``SNIa``
        and ``SN Ia-91T``.

    Executors require that an instance be **picklable** before :meth:`load` (Spark ships
    the runner, which loads lazily on each executor) and **stateless between batches**
    apart from what :meth:`load` put there: ``process`` must not remember earlier
    batches, so that any batch can run on any executor, in any order, more than once.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    inputs: ClassVar[tuple[str, ...]] = ()
    outputs: ClassVar[dict[str, pa.DataType]] = {}
    preload: ClassVar[tuple[str, ...]] = ()
    Params: ClassVar[type[ModuleParams]] = ModuleParams
    probability: ClassVar[str | None] = None
    thresholds: ClassVar[tuple[float, ...]] = ()
    positive: ClassVar[tuple[str, ...]] = ()

    #: the validated parameters given to :meth:`load` (set just before ``load`` runs).
    params: ModuleParams
    #: the version of the model artifact in use (``"v2"``), set by :meth:`load` for modules
    #: whose models are versioned; the provenance records it next to ``model_hash``.
    model_version: str | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "load" in cls.__dict__ and not getattr(cls.load, "__isabstractmethod__", False):
            cls.load = _typed_load(cls.load)
        if _is_abstract(cls):
            return  # an intermediate base class; its concrete children are checked
        check_contract(cls)

    @classmethod
    def parse_params(cls, params: Mapping[str, Any] | ModuleParams | None) -> ModuleParams:
        """``params`` validated as :attr:`Params`; PluginError names the module and the key."""
        return parse_params(cls.Params, params, cls.name)

    @abc.abstractmethod
    def load(self, params: ModuleParams) -> None:
        """Load model artifacts and read parameters; runs once per executor process.

        Parameters
        ----------
        params : ModuleParams
            The module's ``params`` from the configuration (``science.modules``), as an
            instance of :attr:`Params`. A mapping given by a direct caller is validated
            first (the base class wraps ``load``), and ``self.params`` is set to it.

        Raises
        ------
        fink_like.errors.PluginError
            When an artifact is missing or a parameter is wrong, naming which.
        """

    @abc.abstractmethod
    def process(self, batch: pa.Table) -> ModuleOutput:
        """Compute the outputs for every row of ``batch``, vectorised.

        Parameters
        ----------
        batch : pyarrow.Table
            The declared ``inputs`` columns of the alerts that passed the quality cuts
            (possibly zero rows). ``batch.to_pandas()`` is fine inside.

        Returns
        -------
        dict
            One entry per declared output column: an Arrow array, a numpy array or a
            list, of exactly ``batch.num_rows`` values (``None``/NaN where undefined).
            Values are cast to the declared types by the runner; anything that does not
            cast, a missing column or a wrong length is an error for this batch.
        """

    @classmethod
    def output_types(cls, params: Mapping[str, Any]) -> dict[str, pa.DataType]:
        """The output columns for these parameters; by default the class's ``outputs``.

        Called on the driver without loading the model, to build the output schema.
        """
        return dict(cls.outputs)

    @property
    def model_hash(self) -> str:
        """sha256 of :meth:`artifact_hash` and of every parameter that changes outputs.

        Override :meth:`artifact_hash`, not this: parameters are folded in here, so that
        two runs with different ``passes`` or ``min_points`` never share a hash.
        """
        params = getattr(self, "params", None)
        hashed = hashed_params(params) if isinstance(params, ModuleParams) else {}
        digest = hashlib.sha256(self.artifact_hash().encode())
        digest.update(canonical_json(hashed).encode())
        return digest.hexdigest()

    def artifact_hash(self) -> str:
        """sha256 of what computes the outputs: by default the module's code and version.

        Modules with model files return :func:`hash_files` of them.
        """
        cls = type(self)
        digest = hashlib.sha256(f"{cls.__module__}.{cls.__qualname__} {cls.version}\n".encode())
        source = inspect.getsourcefile(cls)
        if source and Path(source).is_file():
            digest.update(Path(source).read_bytes())
        return digest.hexdigest()

    @classmethod
    def pin(cls, params: ModuleParams) -> ModuleParams:
        """Parameters that cannot change while a query runs; called once, on the driver.

        A module whose parameters may resolve differently over time (``model_version:
        latest``) returns them resolved (``v3``), so that every executor scores with the
        same model until the query restarts. By default, ``params`` unchanged.
        """
        return params


def canonical_json(value: Any) -> str:
    """A stable JSON text for parameters (sorted keys), used in hashes and cache keys."""
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def hash_files(paths: Iterable[str | Path], chunk: int = 1 << 20) -> str:
    """sha256 over the contents of ``paths`` in the given order.

    Raises
    ------
    PluginError
        When a file does not exist, naming it.
    """
    digest = hashlib.sha256()
    for path in paths:
        try:
            with open(path, "rb") as handle:
                while block := handle.read(chunk):
                    digest.update(block)
        except OSError as exc:
            raise PluginError(f"cannot read model artifact {path}: {exc}") from exc
    return digest.hexdigest()


def _typed_load(load):
    """Wrap a module's ``load`` so that it always receives validated :attr:`Params`."""
    @functools.wraps(load)
    def typed_load(self, params=None):
        typed = type(self).parse_params(params)
        self.params = typed
        return load(self, typed)

    return typed_load


def _is_abstract(cls: type) -> bool:
    for attr in ("load", "process"):
        if getattr(getattr(cls, attr, None), "__isabstractmethod__", False):
            return True
    return False


def check_contract(cls: type) -> None:
    """Raise PluginError naming ``cls`` and the problem if it breaks the contract."""
    problems = list(_attribute_problems(cls)) + list(_signature_problems(cls))
    if problems:
        where = f"{cls.__module__}.{cls.__qualname__}"
        raise PluginError(f"science module {where} breaks the contract: " + "; ".join(problems))


def _attribute_problems(cls: type):
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not NAME_RE.match(name):
        yield f"name must be a string of [a-z0-9_]+, got {name!r}"
    version = getattr(cls, "version", None)
    if not isinstance(version, str) or not version.strip():
        yield f"version must be a non-empty string, got {version!r}"
    inputs = getattr(cls, "inputs", None)
    if not isinstance(inputs, tuple) or not all(isinstance(c, str) for c in inputs):
        yield f"inputs must be a tuple of column names, got {inputs!r}"
    else:
        unknown = [c for c in inputs if c not in CANONICAL_COLUMNS]
        if unknown:
            yield f"inputs {unknown} are not canonical columns (fink_like.surveys.canonical)"
    outputs = getattr(cls, "outputs", None)
    if not isinstance(outputs, dict):
        yield f"outputs must be a dict of column name to pyarrow type, got {type(outputs).__name__}"
    else:
        yield from output_problems(outputs)
    preload = getattr(cls, "preload", ())
    if not isinstance(preload, tuple) or not all(isinstance(m, str) and m for m in preload):
        yield f"preload must be a tuple of module names, got {preload!r}"
    params = getattr(cls, "Params", None)
    if not (isinstance(params, type) and issubclass(params, ModuleParams)):
        yield f"Params must be a subclass of fink_like.science.params.ModuleParams, got {params!r}"
    elif params.model_config.get("extra") != "forbid":
        yield "Params must refuse unknown keys (model_config extra='forbid')"
    yield from _probability_problems(cls)


def _probability_problems(cls: type):
    probability, outputs = getattr(cls, "probability", None), getattr(cls, "outputs", None)
    if probability is not None and isinstance(outputs, dict) and probability not in outputs:
        yield f"probability {probability!r} must be one of the outputs {sorted(outputs)}"
    thresholds = getattr(cls, "thresholds", ())
    if not isinstance(thresholds, tuple) or not all(
            isinstance(t, (int, float)) and 0.0 <= t <= 1.0 for t in thresholds):
        yield f"thresholds must be a tuple of numbers in [0, 1], got {thresholds!r}"
    positive = getattr(cls, "positive", ())
    if not isinstance(positive, tuple) or not all(isinstance(c, str) and c for c in positive):
        yield f"positive must be a tuple of class names, got {positive!r}"


def output_problems(outputs: Mapping[str, Any]):
    """Problems with an outputs declaration: bad names or values that are not Arrow types."""
    for column, dtype in outputs.items():
        if not isinstance(column, str) or not NAME_RE.match(column):
            yield f"output column name {column!r} must match [a-z0-9_]+"
        if not isinstance(dtype, pa.DataType):
            yield f"output {column!r} must have a pyarrow DataType (e.g. pa.float64()), got {dtype!r}"


def _signature_problems(cls: type):
    for method, expected in (("load", "params"), ("process", "batch")):
        func = getattr(cls, method)
        if inspect.iscoroutinefunction(func) or inspect.isgeneratorfunction(func):
            yield f"{method}() must be a plain method, not a coroutine or generator"
            continue
        try:
            sig = inspect.signature(func)
        except (TypeError, ValueError):  # pragma: no cover - builtins only
            continue
        params = list(sig.parameters.values())[1:]  # drop self
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        required = [p for p in params if p.default is p.empty
                    and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        varargs = any(p.kind == p.VAR_POSITIONAL for p in params)
        if len(required) > 1 or (not positional and not varargs):
            yield f"{method}(self, {expected}) must take exactly one argument, got {sig}"

