"""Where settings come from, the YAML file and ``FINK_LIKE__*`` variables, and how their
errors read: each names the key, and for a variable its name and value, but never quotes
a secret or the file's text (:mod:`fink_like.secrets`).

A variable's value is taken exactly as given for text settings (``str``, ``SecretStr``,
a choice of strings, the values of ``kafka.extra``) and parsed as YAML for the others.

Examples
--------
>>> from fink_like.config import Settings
>>> env_overrides({"FINK_LIKE__SPARK__APP_NAME": "0123", "FINK_LIKE__SPARK__SHUFFLE_PARTITIONS": "4"},
...               Settings)[0]
{'spark': {'app_name': '0123', 'shuffle_partitions': 4}}
"""

from __future__ import annotations

import os
import types
import typing
from pathlib import Path
from typing import Any, Literal, Mapping

import yaml
from pydantic import BaseModel, SecretStr, ValidationError

from fink_like.errors import ConfigError
from fink_like.secrets import echo, is_sensitive

ENV_PREFIX = "FINK_LIKE__"


def _field_type(model, path: list[str]):
    """The annotation of the setting at ``path`` (None when unknown), dict values included."""
    for key in path:
        if isinstance(model, type) and issubclass(model, BaseModel):
            field = model.model_fields.get(key)
            if field is None:
                return None
            model = field.annotation
        elif typing.get_origin(model) is dict:
            model = typing.get_args(model)[1]
        else:
            return None
    return model


def _is_text(annotation) -> bool:
    """Whether a setting holds text only (str, SecretStr, a choice of strings), None aside."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return all(_is_text(a) for a in typing.get_args(annotation) if a is not type(None))
    if origin is Literal:
        return all(isinstance(a, str) for a in typing.get_args(annotation))
    return annotation in (str, SecretStr)


def env_value(name: str, path: list[str], raw: str, model) -> Any:
    """A variable's value: as given for text settings, else parsed as YAML."""
    if _is_text(_field_type(model, path)) or is_sensitive(".".join(path)):
        return raw
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{'.'.join(path)}: environment variable {name}={echo(raw)} "
                          f"is not valid YAML ({_yaml_problem(exc)})") from None


def env_overrides(env: Mapping[str, str], model) -> tuple[dict, dict[tuple, tuple[str, str]]]:
    """The override tree from ``FINK_LIKE__*`` variables, and each key's (variable, value)."""
    tree: dict = {}
    origins: dict[tuple, tuple[str, str]] = {}
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX):].split("__") if p]
        if not path:
            continue
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = env_value(name, path, raw, model)
        origins[tuple(path)] = (name, raw)
    return tree, origins


def describe_errors(exc: ValidationError, origins: Mapping[tuple, tuple[str, str]]) -> str:
    """One line per error: the key, pydantic's reason, and for a variable its name and value.

    A value is echoed (bounded) only when it came from the environment and is not a
    credential; values from the file are not, since the file may hold secrets.
    """
    lines = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = tuple(str(p) for p in err["loc"])
        key = ".".join(loc)
        line = f"{key}: {err['msg']}"
        var = next((origins[loc[:i]] for i in range(len(loc), 0, -1) if loc[:i] in origins), None)
        if var is not None:
            name, raw = var
            shown = "(value not shown: a credential)" if is_sensitive(key) else echo(raw)
            line += f" (from environment variable {name}={shown})"
        lines.append(line)
    return "invalid configuration:\n  " + "\n  ".join(lines)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's reason and position, without the quoted source line (it may hold a secret)."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    context = getattr(exc, "context", None)
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return f"{context + ': ' if context else ''}{problem}{where}"


def read_yaml(path: str | os.PathLike) -> dict:
    """Read a YAML mapping, turning every failure into a ConfigError that names the file.

    The message never quotes the file's text: a broken line may hold a secret.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"configuration file {path} is a directory, not a YAML file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"configuration file {path} is not text (not UTF-8): is it a YAML file?") from None
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"configuration file {path} is not valid YAML: {_yaml_problem(exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"configuration file {path} must hold a mapping, not {type(data).__name__}")
    return data
