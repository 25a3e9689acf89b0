"""The bundled schemas and fixtures are found in a checkout and in an installed wheel."""

from __future__ import annotations

import pytest

from contract_tests import resources
from contract_tests.resources import bundled_dir


def test_a_checkout_uses_its_own_directories():
    found = bundled_dir("schemas", package="chatlabels_schemas", marker="label.schema.json")
    assert (found / "label.schema.json").is_file()
    assert found.parent == resources._CHECKOUT


def test_without_a_checkout_the_wheel_data_package_is_used(tmp_path, monkeypatch):
    site = tmp_path / "site-packages"
    (site / "chatlabels_schemas").mkdir(parents=True)
    (site / "chatlabels_schemas" / "label.schema.json").write_text("{}")
    (tmp_path / "schemas").mkdir()  # an unrelated schemas/ without our marker is ignored
    monkeypatch.setattr(resources, "_CHECKOUT", tmp_path)
    monkeypatch.syspath_prepend(str(site))
    found = bundled_dir("schemas", package="chatlabels_schemas", marker="label.schema.json")
    assert found == site / "chatlabels_schemas"


def test_missing_data_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(resources, "_CHECKOUT", tmp_path)
    with pytest.raises(FileNotFoundError, match="without its nothing/ directory"):
        bundled_dir("nothing", package="chatlabels_no_such_package", marker="x.json")
