"""The candidates file through the one validator: every error at once, and what it accepts is what it says."""

from __future__ import annotations

import csv
import io
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseload.reader import load_candidates
from caseload.validation import ValidationFailed

GOOD = """candidate_id,fte,languages,french,areas,annual_cost,max_hires
tigrinya-hamilton,1,Tigrinya,no,L8P;L8L,80000,2
french-ottawa,0.5,fr;en,yes,K1N,,
"""


def _write(tmp_path: Path, text: str, name: str = "candidates.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_reads_every_field(tmp_path):
    ti, fr = load_candidates(_write(tmp_path, GOOD))
    assert (ti.candidate_id, ti.fte, ti.languages, ti.areas, ti.annual_cost, ti.max_hires) == (
        "tigrinya-hamilton", 1.0, ("ti",), frozenset({"L8P", "L8L"}), 80_000.0, 2)
    assert (fr.french, fr.fte, fr.annual_cost, fr.max_hires) == (True, 0.5, None, None)


def test_every_error_is_reported_at_once_with_file_row_column_value_and_rule(tmp_path):
    bad = """candidate_id,fte,languages,annual_cost,max_hires
a,0,ti,1000,1
a,1.6,xx-notalang,-5,2.5
b,1,ar,,-1
"""
    with pytest.raises(ValidationFailed) as caught:
        load_candidates(_write(tmp_path, bad))
    found = {(e.file, e.row, e.column, e.value, e.rule) for e in caught.value.errors}
    assert found == {
        ("candidates.csv", 2, "fte", "0", "must be in (0, 1.5]"),
        ("candidates.csv", 3, "candidate_id", "a", "duplicate id (first on row 2)"),
        ("candidates.csv", 3, "fte", "1.6", "must be in (0, 1.5]"),
        ("candidates.csv", 3, "languages", "xx-notalang", "is not an ISO 639 code or a language name"),
        ("candidates.csv", 3, "annual_cost", "-5", "must not be negative"),
        ("candidates.csv", 3, "max_hires", "2.5", "must be a whole number"),
        ("candidates.csv", 4, "max_hires", "-1", "must be 0 or more"),
    }


def test_missing_columns_and_a_missing_file_are_errors_not_crashes(tmp_path):
    with pytest.raises(ValidationFailed) as caught:
        load_candidates(_write(tmp_path, "candidate_id,languages\na,ti\n"))
    assert [(e.row, e.column, e.rule) for e in caught.value.errors] == [
        (1, "fte", "required column is missing from the header")]
    with pytest.raises(ValidationFailed):
        load_candidates(tmp_path / "nowhere.csv")


CELLS = {
    "candidate_id": st.sampled_from(["a", "b", "c", "", "=cmd"]),
    "fte": st.sampled_from(["1", "0.5", "1.5", "0", "-1", "1.51", "x", "", "nan"]),
    "languages": st.sampled_from(["ti", "Tigrinya;en", "", "xx-notalang", "fr"]),
    "annual_cost": st.sampled_from(["", "0", "78000", "-1", "abc", "inf"]),
    "max_hires": st.sampled_from(["", "0", "3", "-2", "1.5", "many"]),
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.fixed_dictionaries(CELLS), min_size=1, max_size=5))
def test_the_validator_accepts_only_candidates_that_keep_the_rules(rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(CELLS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), out.getvalue())
        try:
            candidates = load_candidates(path)
        except ValidationFailed as failure:
            assert failure.errors and all(e.file == "candidates.csv" and e.rule for e in failure.errors)
            return
    ids = [c.candidate_id for c in candidates]
    assert len(ids) == len(rows) == len(set(ids))
    for c in candidates:
        assert 0 < c.fte <= 1.5 and c.languages
        assert c.annual_cost is None or (math.isfinite(c.annual_cost) and c.annual_cost >= 0)
        assert c.max_hires is None or c.max_hires >= 0
