"""The ScienceModule contract is checked when a class is created."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pytest

from fink_like.errors import PluginError
from fink_like.science.base import ScienceModule, check_contract, hash_files


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


def test_default_model_hash_depends_on_params():
    cls = make()
    a, b = cls(), cls()
    a.params, b.params = {"k": 1}, {"k": 2}
    assert len(a.model_hash) == 64 and a.model_hash != b.model_hash
    b.params = {"k": 1}
    assert a.model_hash == b.model_hash


def test_hash_files(tmp_path):
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    first.write_bytes(b"weights")
    second.write_bytes(b"more")
    assert hash_files([first, second]) == hashlib.sha256(b"weightsmore").hexdigest()
    with pytest.raises(PluginError, match="cannot read model artifact .*missing.bin"):
        hash_files([tmp_path / "missing.bin"])
