"""Stored keys (arm cache, suite, index, arm identity) are content hashes: the helper must keep them as they were."""

import hashlib
import json

from harness.digest import content_hash


def test_content_hash_is_the_json_idiom_it_replaced():
    # the shapes the former call sites hashed without sort_keys hold no mapping, so sorting changes nothing
    for unsorted in (["ids", "e1", "e2"], ["fp", "w" * 64, 128, 24], [["a", "t"], ["b", "u"]], ["h", None, False, 1]):
        assert content_hash(unsorted) == hashlib.sha256(json.dumps(unsorted).encode()).hexdigest()[:16]
    identity = {"b": [1, "x"], "a": None}
    assert content_hash(identity, length=12) == hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
    assert len(content_hash(identity, length=None)) == 64


def test_content_hash_is_pinned():
    assert content_hash({"b": [1, "x"], "a": None}) == "7c2e4f07798c1777"  # a changed key would orphan every stored result
    assert content_hash({"a": None, "b": [1, "x"]}) == content_hash({"b": [1, "x"], "a": None})
