"""The one place exports are made safe and laid out: common/tabular.py."""

from __future__ import annotations

import json

import pytest

from common.tabular import Column, cell_text, csv_lines, json_document, neutralise


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("a=b", "a=b"),
        ("TLSv1.2 TLSv1.3", "TLSv1.2 TLSv1.3"),
        ("", ""),
    ],
)
def test_cells_a_spreadsheet_would_run_are_kept_as_text(raw, safe):
    assert neutralise(raw) == safe


def test_cell_text_of_each_kind_of_value():
    assert cell_text(None) == ""
    assert (cell_text(True), cell_text(False)) == ("true", "false")
    assert cell_text(["TLSv1.2", "TLSv1.3"]) == "TLSv1.2 TLSv1.3"
    assert cell_text({"b": 1, "a": [1, "x"]}) == '{"a":[1,"x"],"b":1}'
    assert cell_text(3) == "3"


def test_csv_lines_come_one_row_at_a_time_and_neutralised():
    consumed = []

    def rows():
        for n in range(3):
            consumed.append(n)
            yield {"name": f"=db-{n}", "versions": ["TLSv1.2"]}

    columns = (
        Column("name", "Name", lambda r: r["name"]),
        Column("v", "V", lambda r: r["versions"]),
    )
    lines = csv_lines(columns, rows())
    assert next(lines) == "name,v\n" and consumed == []
    assert next(lines) == "'=db-0,TLSv1.2\n" and consumed == [0]
    assert list(lines) == ["'=db-1,TLSv1.2\n", "'=db-2,TLSv1.2\n"]


@pytest.mark.parametrize(
    "rows",
    [[], [{"a": 1, "b": [1, {"c": []}], "d": {}, "e": "é"}], [{"x": None}, {"y": [1, 2]}]],
)
def test_json_document_streams_exactly_what_json_dumps_writes(rows):
    head = {"generated_at": "2026-11-23T08:00:00Z"}
    expected = json.dumps({**head, "rows": rows}, indent=2, ensure_ascii=False) + "\n"
    assert "".join(json_document(head, "rows", iter(rows))) == expected
