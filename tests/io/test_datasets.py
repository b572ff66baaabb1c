"""The applicant CSV dataset refuses a file it would read wrongly, naming the file and the fix."""

import pytest

from credit_scoring.data.schema import ApplicantDataError
from credit_scoring.io.datasets import ApplicantCSVDataset


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
