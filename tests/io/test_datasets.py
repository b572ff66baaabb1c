"""The applicant CSV dataset refuses a file it would read wrongly, naming the file and the fix."""

import csv

import pandas as pd
import pytest

from credit_scoring.data.schema import ApplicantDataError
from credit_scoring.io.datasets import (
    ApplicantCSVDataset,
    SpreadsheetSafeCSVDataset,
    spreadsheet_safe,
)


@pytest.mark.parametrize(("header", "sep"), [("id,age,income,age", ","),
                                             ("id;age;income;age", ";")])
def test_a_header_that_names_a_column_twice_is_refused(header, sep, tmp_path):
    path = tmp_path / "applicants.csv"
    path.write_text(f"{header}\n1{sep}30{sep}1000{sep}31\n")
    dataset = ApplicantCSVDataset(filepath=str(path), load_args={"sep": sep})
    with pytest.raises(Exception, match=f"column 'age' appears 2 times in {path}") as refused:
        dataset.load()
    assert isinstance(refused.value, ApplicantDataError) or isinstance(
        refused.value.__cause__, ApplicantDataError)


def test_a_header_with_distinct_names_loads(tmp_path):
    path = tmp_path / "applicants.csv"
    path.write_text("id,age,age.1\n1,30,31\n")  # a name that only looks like pandas' renaming
    assert list(ApplicantCSVDataset(filepath=str(path)).load().columns) == ["id", "age", "age.1"]


PAYLOADS = ['=HYPERLINK("http://evil.example","click")', "+1+cmd|' /C calc'!A0", "-2+3",
            "@SUM(A1)", "\tcell", "\r=1"]


def test_text_cells_that_start_like_a_formula_are_written_as_text(tmp_path):
    frame = pd.DataFrame({"reason_1": [*PAYLOADS, "credit_amount = 5,000", "'=kept"],
                          "pd": [-0.5] * 8, "band": pd.Categorical(["=A1"] * 8)})
    safe = spreadsheet_safe(frame)
    assert safe["reason_1"].tolist() == ["'" + p for p in PAYLOADS] + ["credit_amount = 5,000",
                                                                        "'=kept"]
    assert safe["pd"].tolist() == [-0.5] * 8 and set(safe["band"]) == {"'=A1"}
    assert frame["reason_1"][0].startswith("=")  # the caller's frame is not changed

    dataset = SpreadsheetSafeCSVDataset(filepath=str(tmp_path / "scored.csv"),
                                        save_args={"index": False})
    dataset.save(frame)
    with open(tmp_path / "scored.csv", newline="") as file:
        cells = [cell for row in csv.reader(file) for cell in row]
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells)
    loaded = dataset.load()  # read back as it was, for the next stage
    assert loaded["reason_1"].tolist()[:6] == PAYLOADS
