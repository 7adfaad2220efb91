"""The ScienceModule contract is checked when a class is created."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pydantic
import pytest
from pydantic import ConfigDict

from fink_like.errors import PluginError
from fink_like.science.base import ScienceModule, check_contract, hash_files
from fink_like.science.params import Field, ModuleParams, not_in_hash


def make(**attrs):
    body = {"name": "ok_name", "version": "1", "inputs": ("ra",), "outputs": {"x": pa.float64()},
            "load": lambda self, params: None, "process": lambda self, batch: {}}
    body.update(attrs)
    return type("Sample", (ScienceModule,), body)


def test_a_correct_module_is_accepted():
    cls = make()
    check_contract(cls)
    assert cls.output_types({}) == {"x": pa.float64()}


@pytest.mark.parametrize("attrs, problem", [
    ({"name": "Bad-Name"}, "name must be a string of [a-z0-9_]+"),
    ({"version": ""}, "version must be a non-empty string"),
    ({"inputs": ["ra"]}, "inputs must be a tuple"),
    ({"inputs": ("not_a_column",)}, "inputs ['not_a_column'] are not canonical columns"),
    ({"outputs": {"x": float}}, "output 'x' must have a pyarrow DataType"),
    ({"outputs": {"Bad Col": pa.int8()}}, "output column name 'Bad Col'"),
    ({"preload": "torch"}, "preload must be a tuple of module names"),
    ({"load": lambda self: None}, "load(self, params) must take exactly one argument"),
    ({"process": lambda self, a, b: {}}, "process(self, batch) must take exactly one argument"),
])
def test_each_violation_is_named_with_the_class(attrs, problem):
    with pytest.raises(PluginError) as err:
        make(**attrs)
    assert "Sample breaks the contract" in str(err.value)
    assert problem in str(err.value)


def test_abstract_intermediate_classes_are_not_checked():
    class Base(ScienceModule):  # no name yet: a base for concrete modules
        shared = 1

    class Concrete(Base):
        name = "concrete"
        version = "1"
        outputs = {"y": pa.int64()}

        def load(self, params):
            pass

        def process(self, batch):
            return {"y": []}

    assert Concrete.name == "concrete"


class Knobs(ModuleParams):
    k: int = Field(1, ge=0)
    threads: int = not_in_hash(1, ge=1)


def loaded(cls, params):
    module = cls()
    module.load(params)
    return module


def test_model_hash_folds_in_the_parameters_that_change_outputs():
    cls = make(Params=Knobs)
    a, b = loaded(cls, {"k": 1}), loaded(cls, {"k": 2})
    assert len(a.model_hash) == 64 and a.model_hash != b.model_hash
    assert loaded(cls, {"k": 1, "threads": 8}).model_hash == a.model_hash == loaded(cls, {}).model_hash
    expected = hashlib.sha256(a.artifact_hash().encode() + b'{"k":1}').hexdigest()
    assert a.model_hash == expected


def test_load_receives_typed_params_and_refuses_a_typo_naming_module_and_key():
    seen = []
    cls = make(Params=Knobs, load=lambda self, params: seen.append(params))
    module = loaded(cls, {"k": "3"})
    assert seen == [Knobs(k=3)] and module.params == Knobs(k=3)
    with pytest.raises(PluginError, match=r"science module 'ok_name': unknown parameter 'kk'; known: k, threads"):
        loaded(cls, {"kk": 3})
    with pytest.raises(PluginError, match=r"science module 'ok_name': parameter 'k': Input should be greater"):
        loaded(cls, {"k": -1})
    with pytest.raises(PluginError, match="unknown parameter 'anything'; known: none"):
        loaded(make(), {"anything": 1})  # no Params: no parameter at all


class Lenient(pydantic.BaseModel):
    k: int = 1


class LenientParams(ModuleParams):
    model_config = ConfigDict(extra="ignore")


@pytest.mark.parametrize("params, problem", [
    (Lenient, "Params must be a subclass of fink_like.science.params.ModuleParams"),
    (LenientParams, "Params must refuse unknown keys"),
])
def test_params_must_be_a_strict_module_params(params, problem):
    with pytest.raises(PluginError, match=problem):
        make(Params=params)


def test_hash_files(tmp_path):
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    first.write_bytes(b"weights")
    second.write_bytes(b"more")
    assert hash_files([first, second]) == hashlib.sha256(b"weightsmore").hexdigest()
    with pytest.raises(PluginError, match="cannot read model artifact .*missing.bin"):
        hash_files([tmp_path / "missing.bin"])
