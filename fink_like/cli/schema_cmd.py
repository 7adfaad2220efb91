"""``fink-like schema list|show ID|export DIR|generate [DIR]``: the distribution schemas.

``list``, ``show`` and ``export`` cover the schemas known locally and on the schema topic;
``generate`` writes those of the configured modules for every survey schema version.
"""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("schema", help="list, show or export the distribution (Avro) schemas")
    p.add_argument("action", choices=["list", "show", "export", "generate"])
    p.add_argument("target", nargs="?", metavar="ID_OR_DIR",
                   help="schema ID (show) or folder (export; generate, default distribution.schema_dir)")
    p.add_argument("--local", action="store_true", help="do not read the schema topic from Kafka")
    p.set_defaults(handler=run)


def _all(settings, local: bool) -> dict[int, dict]:
    from fink_like.distribution.registry import SchemaRegistry, fetch_topic

    known = SchemaRegistry([settings.distribution.schema_dir]).known()
    if not local:
        from fink_like.kafka.conf import client_conf
        from fink_like.kafka.embedded import running_bootstrap

        conf = client_conf(settings.kafka, running_bootstrap(settings))
        known.update(fetch_topic(conf, settings.distribution.schema_topic))
    return dict(sorted(known.items()))


def run(args, settings) -> int:
    from fink_like.cli.args import check, output_folder
    from fink_like.distribution.registry import save
    from fink_like.errors import UsageError

    if args.action in ("show", "export") and not args.target:
        raise UsageError(f"schema {args.action} needs {'an ID' if args.action == 'show' else 'a folder'}")
    if args.action in ("export", "generate"):
        folder = check(args.target or settings.distribution.schema_dir, output_folder, f"schema {args.action}")
        if args.action == "generate":
            return _generate(settings, folder)
    schemas = _all(settings, args.local)
    if args.action == "list":
        for sid, schema in schemas.items():
            packet = next(f["type"] for f in schema["fields"] if f["name"] == "packet")
            print(f"{sid}  {packet['name']}  {schema.get('doc', '')}")
        return 0
    if args.action == "show":
        if not args.target.isdigit() or int(args.target) not in schemas:
            raise UsageError(f"unknown schema id {args.target!r} (known: {', '.join(map(str, schemas)) or 'none'})")
        print(json.dumps(schemas[int(args.target)], indent=1))
        return 0
    for schema in schemas.values():
        save(schema, args.target)
    print(f"exported {len(schemas)} schema(s) to {args.target}")
    return 0


def _generate(settings, folder: str) -> int:
    from pathlib import Path

    from fink_like.distribution.registry import save
    from fink_like.distribution.standard import standard_schemas
    from fink_like.jobs.driver import science_schema

    schemas = standard_schemas(science_schema(settings))
    for old in Path(folder).glob("*.avsc"):
        if int(old.stem) not in schemas:
            old.unlink()
    for schema in schemas.values():
        save(schema, folder)
    print(f"wrote {len(schemas)} schema(s) to {folder}")
    return 0
