"""api/openapi.yaml is one valid document: no key defined twice, valid OpenAPI 3.0 (issue 11).

PyYAML keeps the last of two equal keys silently, so the 13 paths defined twice used to
look fine to the app while strict parsers and code generators refused the file.
"""

import pytest
import yaml
from openapi_spec_validator import validate

from pages.api_docs import SPEC


class StrictLoader(yaml.SafeLoader):
    """A YAML loader that refuses a mapping with the same key twice."""


def _mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def strict_load(text: str):
    return yaml.load(text, Loader=StrictLoader)  # noqa: S506 (a SafeLoader subclass)


def test_the_strict_loader_refuses_a_repeated_key():
    with pytest.raises(yaml.constructor.ConstructorError, match="duplicate key '/a'"):
        strict_load("paths:\n  /a: {}\n  /b: {}\n  /a: {}\n")


def test_the_document_has_no_repeated_key_and_is_valid_openapi():
    document = strict_load(SPEC.read_text(encoding="utf-8"))
    validate(document)


def test_tags_are_unique():
    names = [tag["name"] for tag in strict_load(SPEC.read_text(encoding="utf-8"))["tags"]]
    assert len(names) == len(set(names))
