"""The Store on its own: what a request sees when the state changed under it."""

from __future__ import annotations

import pytest

from chatlabels.contract.fixtures import parse_fixture
from chatlabels.mock import Store
from chatlabels.mock.provider.errors import provider_domain_error
from chatlabels.mock.state.errors import UnknownInstance, UnknownLabels
from tests.conftest import default_fixture_data


def test_an_instance_removed_by_a_load_mid_request_is_a_401_not_a_crash():
    store = Store(parse_fixture(default_fixture_data()))
    store.load(parse_fixture({"instances": [{"id": "other", "token": "t"}]}))
    for call in (
        lambda: store.chat_labels("123456789", "123@c.us"),
        lambda: store.labels("123456789"),
        lambda: store.link("123456789", "1", "123@c.us"),
    ):
        with pytest.raises(UnknownInstance) as raised:
            call()
        assert raised.value.instance_id == "123456789"
        answer = provider_domain_error(raised.value)
        assert (answer.status, answer.error) == (401, "unauthorized")


def test_a_replace_naming_unknown_labels_changes_nothing_and_names_them_all():
    store = Store(parse_fixture(default_fixture_data()))
    before = store.chat_labels("123456789", "5511988887777@c.us")
    with pytest.raises(UnknownLabels) as raised:
        store.replace_chat_labels("123456789", "5511988887777@c.us", ["98", "1", "99", "98"])
    assert raised.value.label_ids == ("98", "99")
    assert store.chat_labels("123456789", "5511988887777@c.us") == before


def test_reset_returns_to_the_fixture_loaded_last():
    store = Store(parse_fixture(default_fixture_data()))
    other = {"id": "other", "token": "t", "labels": [{"id": "1", "name": "A", "color": 0}]}
    store.load(parse_fixture({"instances": [other]}))
    store.link("other", "1", "1@c.us")
    store.reset()
    assert store.chat_labels("other", "1@c.us") == []
    assert store.credentials(instance_id="other") is not None
    assert store.credentials(instance_id="123456789") is None


def test_reads_of_ever_new_chats_share_one_rendered_body() -> None:
    """Rendered bodies are cached per state; a client asking for chat after chat the
    instance does not have must not add one per chat (100k chats grew it by 25 MB)."""
    store = Store(parse_fixture(default_fixture_data()))
    rendered: list[object] = []

    def render(document: object) -> bytes:
        rendered.append(document)
        return repr(document).encode()

    snapshot = store.published()
    bodies = {
        snapshot.chat_labels_body("123456789", f"55119{n:08d}@c.us", render) for n in range(1000)
    }
    assert bodies == {b"[]"} and rendered == [[]]
    known = snapshot.chat_labels_body("123456789", "5511988887777@c.us", render)
    assert known != b"[]" and len(rendered) == 2
    assert snapshot.chat_labels_body("123456789", "5511988887777@c.us", render) == known
    assert len(rendered) == 2
